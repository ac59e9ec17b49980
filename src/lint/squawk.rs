//! The squawk-linter rules of the registry, run by squawk over each file's text.

use super::{level, Check, FileKind, Finding, Level, ParsedFile, RULES};
use crate::config::LintConfig;

pub fn run(files: &[ParsedFile], config: &LintConfig) -> Vec<Finding> {
    let enabled: Vec<(&'static super::Rule, squawk_linter::Rule)> = RULES
        .iter()
        .filter(|rule| level(rule, config) != Level::Off)
        .filter_map(|rule| match rule.check {
            Check::Squawk(sq) => Some((rule, sq)),
            _ => None,
        })
        .collect();
    let mut findings = Vec::new();
    for file in files
        .iter()
        .filter(|f| f.error.is_none() && f.kind != FileKind::Schema)
    {
        let mut linter = squawk_linter::Linter::from(enabled.iter().map(|(_, sq)| *sq));
        // A migration runs in one transaction unless it says otherwise; pending.sql runs each
        // statement on its own.
        linter.settings.assume_in_transaction =
            file.kind == FileKind::Migration && !file.text.contains("-- strata:no-transaction");
        let parse = squawk_syntax::SourceFile::parse(&file.text);
        let schema_stages = schema_stage_lines(file);
        for violation in linter.lint(&parse, &file.text) {
            let Some((rule, _)) = enabled.iter().find(|(_, sq)| *sq == violation.code) else {
                continue; // squawk's own bookkeeping (unknown ids in its ignore comments)
            };
            let (line, column) = file.position(u32::from(violation.text_range.start()) as usize);
            if PLANNED_DROPS.contains(&violation.code)
                && schema_stages.iter().any(|r| r.contains(&line))
            {
                continue;
            }
            let offset = u32::from(violation.text_range.start()) as usize;
            if LIVE_TABLE_RULES.contains(&violation.code)
                && file.targets_table_created_earlier(offset)
            {
                continue;
            }
            findings.push(Finding {
                rule: rule.id,
                level: level(rule, config),
                file: file.path.clone(),
                line,
                column,
                message: first_sentence(&violation.message),
                help: rule.help.to_string(),
            });
        }
    }
    findings
}

/// Drops the planner puts in a schema stage of pending.sql on purpose (the contract phase, after
/// the deploy): `plan-hazard` reports them through their `destructive` hazard, and `run` refuses
/// them without `allow_destructive`. Drops written by hand in an inlined migration still count.
const PLANNED_DROPS: [squawk_linter::Rule; 2] = [
    squawk_linter::Rule::BanDropColumn,
    squawk_linter::Rule::BanDropTable,
];

/// Rules about locks held and scans made on a table the application is using. squawk skips
/// tables created earlier only inside one transaction; strata skips them in any file, since a
/// table created earlier in the file is empty and unused until the file has run.
const LIVE_TABLE_RULES: [squawk_linter::Rule; 8] = [
    squawk_linter::Rule::ConstraintMissingNotValid,
    squawk_linter::Rule::AddingForeignKeyConstraint,
    squawk_linter::Rule::AddingSerialPrimaryKeyField,
    squawk_linter::Rule::DisallowedUniqueConstraint,
    squawk_linter::Rule::RequireConcurrentIndexCreation,
    squawk_linter::Rule::AddingNotNullableField,
    squawk_linter::Rule::AddingRequiredField,
    squawk_linter::Rule::ChangingColumnType,
];

/// The line ranges of pending.sql's schema stages, from the pending.sql codec.
fn schema_stage_lines(file: &ParsedFile) -> Vec<std::ops::RangeInclusive<usize>> {
    if file.kind != FileKind::Pending {
        return Vec::new();
    }
    crate::plan::pending::schema_stage_lines(&file.text)
}

/// squawk's messages run to a paragraph; a finding's message is one line.
fn first_sentence(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default().trim();
    match line.find(". ") {
        Some(end) => line[..=end].to_string(),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::LintConfig;
    use crate::lint::{lint, lint_sql, FileKind, Input, Level};

    fn rules(sql: &str) -> Vec<&'static str> {
        lint_sql(sql, &LintConfig::default())
            .into_iter()
            .map(|f| f.rule)
            .collect()
    }

    #[test]
    fn squawk_rules_fire_under_their_ids() {
        assert_eq!(
            rules("CREATE INDEX i ON t (a);"),
            ["require-concurrent-index-creation"]
        );
        assert_eq!(rules("ALTER TABLE t DROP COLUMN c;"), ["ban-drop-column"]);
        assert_eq!(
            rules("ALTER TABLE t ADD COLUMN c timestamp;"),
            ["prefer-timestamp-tz"]
        );
        assert!(rules("ALTER TABLE t ALTER COLUMN c SET NOT NULL;")
            .contains(&"adding-not-nullable-field"));
        assert!(rules("SELECT 1;").is_empty());
    }

    #[test]
    fn the_planners_online_set_not_null_passes() {
        let found = rules(
            "ALTER TABLE t ADD CONSTRAINT t_c_not_null CHECK (c IS NOT NULL) NOT VALID;\n\
             ALTER TABLE t VALIDATE CONSTRAINT t_c_not_null;\n\
             ALTER TABLE t ALTER COLUMN c SET NOT NULL;\n",
        );
        assert!(!found.contains(&"adding-not-nullable-field"), "{found:?}");
    }

    #[test]
    fn tables_created_in_the_same_file_need_no_online_forms() {
        let found = rules(
            "CREATE TABLE t (id bigint PRIMARY KEY, a text);\n\
             CREATE INDEX t_a ON t (a);\n",
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn constraints_on_tables_created_earlier_need_no_online_forms() {
        let found = rules(
            "CREATE TABLE public.owners (id bigint NOT NULL);\n\
             ALTER TABLE public.owners ADD CONSTRAINT owners_pkey PRIMARY KEY (id);\n\
             CREATE TABLE pets (id bigint NOT NULL, owner_id bigint);\n\
             ALTER TABLE public.pets ADD CONSTRAINT pets_owner_fkey FOREIGN KEY (owner_id) REFERENCES owners (id);\n\
             ALTER TABLE pets ADD CONSTRAINT pets_id CHECK (id > 0);\n",
        );
        assert!(found.is_empty(), "{found:?}");
        let live = rules("ALTER TABLE pets ADD CONSTRAINT pets_id CHECK (id > 0);\n");
        assert_eq!(live, ["constraint-missing-not-valid"]);
    }

    #[test]
    fn planned_drops_in_schema_stages_are_left_to_plan_hazard() {
        let text = "-- ==== stage contract (schema, phase contract)\n\n\
                    -- hazards: destructive\nALTER TABLE t DROP COLUMN c;\n\
                    -- ==== stage data (migrations)\n-- migration: 0001_d.sql\n-- begin migration\n\
                    ALTER TABLE u DROP COLUMN d;\n-- end migration\n";
        let found: Vec<_> = lint(
            &[Input {
                path: "pending.sql".into(),
                text: text.into(),
                kind: FileKind::Pending,
            }],
            &LintConfig::default(),
        )
        .into_iter()
        .map(|f| (f.rule, f.line))
        .collect();
        assert_eq!(found, [("plan-hazard", 4), ("ban-drop-column", 8)]);
    }

    #[test]
    fn positions_are_lines_and_columns() {
        let found = lint_sql("SELECT 1;\n\n  DROP TABLE t;\n", &LintConfig::default());
        assert_eq!(found[0].rule, "ban-drop-table");
        assert_eq!((found[0].line, found[0].column), (3, 3));
        assert_eq!(found[0].level, Level::Error);
    }

    #[test]
    fn concurrent_index_needs_no_transaction_in_migrations_only() {
        // squawk lets a file of one statement run on its own
        let sql = "CREATE INDEX CONCURRENTLY i ON t (a);\nCREATE INDEX CONCURRENTLY j ON t (b);\n";
        let in_migration = lint_sql(sql, &LintConfig::default());
        assert_eq!(in_migration.len(), 2);
        assert!(in_migration
            .iter()
            .all(|f| f.rule == "ban-concurrent-index-creation-in-transaction"));
        let marked = format!("-- strata:no-transaction\n{sql}");
        assert!(lint_sql(&marked, &LintConfig::default()).is_empty());
        let pending = lint(
            &[Input {
                path: "pending.sql".into(),
                text: sql.into(),
                kind: FileKind::Pending,
            }],
            &LintConfig::default(),
        );
        assert!(pending.is_empty(), "{pending:?}");
    }
}
