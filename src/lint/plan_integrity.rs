//! `plan-integrity`: pending.sql as `run` will check it. A file with the plan's header must
//! match its digest (else it was edited after planning); in every schema stage each
//! statement must be a schema change, and one that can lose data must say `destructive`
//! (`plan::classify`). `run` refuses such a file; lint says so at the line.

use super::{Check, FileKind, Hit, Level, ParsedFile, Rule};
use crate::config::LintConfig;
use crate::plan::Plan;
use crate::source::SourceError;

pub const RULE: Rule = Rule {
    id: "plan-integrity",
    level: Level::Error,
    summary: "pending.sql was edited after planning, or a schema stage holds a statement `run` refuses (not a schema change, or destructive without saying so).",
    help: "Run `strata plan` again rather than editing pending.sql.",
    check: Check::Strata(check),
};

fn check(files: &[ParsedFile], _: &LintConfig) -> Vec<Hit> {
    files
        .iter()
        .enumerate()
        .filter(|(_, file)| file.kind == FileKind::Pending)
        .filter_map(
            |(index, file)| match Plan::check_text(&file.path, &file.text) {
                Ok(()) => None,
                Err(SourceError::Sql { message, span, .. }) => Some(Hit {
                    file: index,
                    offset: span.offset(),
                    message,
                }),
                Err(other) => Some(Hit {
                    file: index,
                    offset: 0,
                    message: other.to_string(),
                }),
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::config::LintConfig;
    use crate::lint::{lint, FileKind, Input};

    fn integrity(text: &str) -> Vec<(usize, String)> {
        lint(
            &[Input {
                path: "pending.sql".into(),
                text: text.into(),
                kind: FileKind::Pending,
            }],
            &LintConfig::default(),
        )
        .into_iter()
        .filter(|f| f.rule == "plan-integrity")
        .map(|f| (f.line, f.message))
        .collect()
    }

    const STAGE: &str = "-- ==== stage contract (schema, phase contract)\n\n";

    #[test]
    fn a_drop_that_does_not_say_destructive_is_an_error_at_its_line() {
        let text = format!("{STAGE}-- hazards: none\nALTER TABLE t DROP COLUMN legacy;\n");
        let found = integrity(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, 4);
        assert!(found[0].1.contains("destructive"), "{}", found[0].1);
        let said = text.replace("hazards: none", "hazards: destructive");
        assert!(integrity(&said).is_empty());
    }

    #[test]
    fn rows_in_a_schema_stage_are_an_error() {
        let text =
            format!("{STAGE}-- hazards: none\nALTER TABLE t ADD COLUMN a int;\nDELETE FROM t;\n");
        let found = integrity(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, 5);
        assert!(found[0].1.contains("DeleteStmt"), "{}", found[0].1);
    }
}
