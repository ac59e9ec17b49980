//! `plan-hazard`: the hazards the planner wrote above a statement of pending.sql
//! (`-- hazards: blocks_writes, full_table_validation`, read by the pending.sql codec,
//! `plan::pending::hazard_notes`), surfaced as findings.

use super::{Check, FileKind, Hit, Level, ParsedFile, Rule};
use crate::config::LintConfig;

pub const RULE: Rule = Rule {
    id: "plan-hazard",
    level: Level::Warning,
    summary: "A statement of pending.sql carries a hazard the planner could not make safe (docs/hazards.md).",
    help: "Review the statement; when it is acceptable, approve the plan as usual or silence it with `-- strata:ignore plan-hazard`.",
    check: Check::Strata(check),
};

fn check(files: &[ParsedFile], _: &LintConfig) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (index, file) in files.iter().enumerate() {
        if file.kind != FileKind::Pending {
            continue;
        }
        for note in crate::plan::pending::hazard_notes(&file.text) {
            for hazard in &note.hazards {
                hits.push(Hit {
                    file: index,
                    offset: note.statement,
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
        .find(|kind| kind.id() == hazard)
    {
        Some(kind) => format!(
            "planned statement has hazard `{hazard}`: {}",
            kind.summary()
        ),
        None => format!("planned statement has hazard `{hazard}`"),
    }
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
                    -- hazards: blocks_writes, full_table_validation\n-- strata:no-transaction\n\
                    CREATE INDEX CONCURRENTLY i ON t (a);\n";
        let found: Vec<_> = pending(text)
            .into_iter()
            .filter(|f| f.rule == "plan-hazard")
            .collect();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].line, 6);
        assert!(found[0]
            .message
            .contains("`blocks_writes`: blocks writes to the table"));
        assert_eq!(
            super::describe("destructive"),
            "planned statement has hazard `destructive`: can lose data"
        );
        assert!(found[1].message.contains("full_table_validation"));
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
