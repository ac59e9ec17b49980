//! `plan-hazard`: the hazards the planner wrote above a statement of pending.sql
//! (`-- hazards: blocks-writes, long-running`), surfaced as findings.

use super::{Check, FileKind, Hit, Level, ParsedFile, Rule};
use crate::config::LintConfig;

pub const RULE: Rule = Rule {
    id: "plan-hazard",
    level: Level::Warning,
    summary: "A statement of pending.sql carries a hazard the planner could not make safe (docs/hazards.md).",
    help: "Review the statement; when it is acceptable, approve the plan as usual or silence it with `-- strata:ignore plan-hazard`.",
    check: Check::Strata(check),
};

const MARK: &str = "-- hazards:";

fn check(files: &[ParsedFile], _: &LintConfig) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (index, file) in files.iter().enumerate() {
        if file.kind != FileKind::Pending {
            continue;
        }
        let mut offset = 0;
        for line in file.text.split_inclusive('\n') {
            let start = offset;
            offset += line.len();
            let Some(list) = line.trim().strip_prefix(MARK) else {
                continue;
            };
            let at = statement_after(&file.text, offset).unwrap_or(start);
            for hazard in list.split(',').map(str::trim) {
                if hazard.is_empty() || hazard == "none" {
                    continue;
                }
                hits.push(Hit {
                    file: index,
                    offset: at,
                    message: describe(hazard),
                });
            }
        }
    }
    hits
}

/// `planned statement has hazard `index_build`: builds an index, blocking writes to the table`,
/// the summary from the hazard registry (`diff::hazard`).
fn describe(hazard: &str) -> String {
    match crate::diff::hazard::ALL
        .iter()
        .find(|kind| kind.id == hazard)
    {
        Some(kind) => format!("planned statement has hazard `{hazard}`: {}", kind.summary),
        None => format!("planned statement has hazard `{hazard}`"),
    }
}

/// Offset of the first line after `from` that is not blank and not a comment.
fn statement_after(text: &str, from: usize) -> Option<usize> {
    let mut offset = from;
    for line in text[from..].split_inclusive('\n') {
        let trimmed = line.trim_start();
        if !trimmed.trim_end().is_empty() && !trimmed.starts_with("--") {
            return Some(offset + line.len() - trimmed.len());
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::config::LintConfig;
    use crate::lint::{lint, FileKind, Input};

    fn pending(text: &str) -> Vec<crate::lint::Finding> {
        lint(
            &[Input {
                path: "pending.sql".into(),
                text: text.into(),
                kind: FileKind::Pending,
            }],
            &LintConfig::default(),
        )
    }

    #[test]
    fn each_hazard_is_a_finding_at_its_statement() {
        let text = "-- hazards: none\nALTER TABLE t ADD COLUMN a text;\n\n\
                    -- hazards: blocks-writes, long-running\n-- strata:no-transaction\n\
                    CREATE INDEX CONCURRENTLY i ON t (a);\n";
        let found: Vec<_> = pending(text)
            .into_iter()
            .filter(|f| f.rule == "plan-hazard")
            .collect();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].line, 6);
        assert!(found[0].message.contains("blocks-writes"));
        assert_eq!(
            super::describe("destructive"),
            "planned statement has hazard `destructive`: can lose data"
        );
        assert!(found[1].message.contains("long-running"));
    }

    #[test]
    fn hazards_in_migration_files_are_just_comments() {
        let found = crate::lint::lint_sql(
            "-- hazards: destructive\nSELECT 1;\n",
            &LintConfig::default(),
        );
        assert!(found.is_empty());
    }

    #[test]
    fn suppressed_by_comment() {
        let text = "-- hazards: destructive\n-- strata:ignore plan-hazard, ban-drop-table\nDROP TABLE t;\n";
        assert!(pending(text).is_empty());
    }
}
