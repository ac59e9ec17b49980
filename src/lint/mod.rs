//! `strata lint`: rules over migration files and pending.sql. Pure: takes file texts and the
//! `[lint]` configuration, returns findings; `app::lint` reads the files and `render` prints.
//!
//! Every rule is declared once, in [`RULES`]: its id (stable, used in suppression comments,
//! `[lint.levels]` and every output format), default level, summary, how to fix it, and its
//! check. Statement-level safety rules come from the `squawk-linter` crate under squawk's own
//! ids; strata's own rules live one per file beside their tests.

pub mod banned_type;
mod naming_convention;
mod parse;
mod plan_hazard;
mod plan_integrity;
pub mod render;
mod require_fk_index;
mod require_primary_key;
mod squawk;
mod suppress;
mod unknown_ignore_rule;

use crate::config::LintConfig;
pub use crate::config::LintLevel as Level;
pub use parse::{FileKind, ParsedFile, ParsedStatement};
use serde::Serialize;
use squawk_linter::Rule as Sq;
use Level::{Error, Off, Warning};

/// One lint rule.
pub struct Rule {
    pub id: &'static str,
    pub level: Level,
    pub summary: &'static str,
    pub help: &'static str,
    pub check: Check,
}

/// How a rule finds what it reports.
#[derive(Clone, Copy)]
pub enum Check {
    /// A squawk-linter rule, run by squawk over each file's text.
    Squawk(squawk_linter::Rule),
    /// A strata rule over every file linted together (some rules look across statements).
    Strata(fn(&[ParsedFile], &LintConfig) -> Vec<Hit>),
    /// A file strata could not parse; produced by the parser, not by a check.
    Parser,
}

/// Where a strata rule fired: a byte offset in one of the files, and what to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub file: usize,
    pub offset: usize,
    pub message: String,
}

/// What `strata lint` reports: data, rendered by [`render`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub level: Level,
    pub file: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub message: String,
    pub help: String,
}

const fn squawk(
    id: &'static str,
    rule: squawk_linter::Rule,
    level: Level,
    summary: &'static str,
    help: &'static str,
) -> Rule {
    Rule {
        id,
        level,
        summary,
        help,
        check: Check::Squawk(rule),
    }
}

/// The registry: every rule strata knows, in the order the docs list them.
pub static RULES: &[Rule] = &[
    // strata's own rules
    Rule {
        id: "syntax-error",
        level: Error,
        summary: "The file is not valid PostgreSQL SQL; nothing else in it was checked.",
        help: "Fix the statement at the reported line.",
        check: Check::Parser,
    },
    plan_hazard::RULE,
    plan_integrity::RULE,
    naming_convention::RULE,
    require_primary_key::RULE,
    require_fk_index::RULE,
    banned_type::RULE,
    unknown_ignore_rule::RULE,
    // squawk-linter's rules, under squawk's ids
    squawk("require-concurrent-index-creation", Sq::RequireConcurrentIndexCreation, Error,
        "CREATE INDEX without CONCURRENTLY blocks writes to the table while the index builds.",
        "Use CREATE INDEX CONCURRENTLY (outside a transaction: `-- strata:no-transaction`)."),
    squawk("require-concurrent-index-deletion", Sq::RequireConcurrentIndexDeletion, Error,
        "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table.",
        "Use DROP INDEX CONCURRENTLY."),
    squawk("ban-concurrent-index-creation-in-transaction", Sq::BanConcurrentIndexCreationInTransaction, Error,
        "CREATE INDEX CONCURRENTLY cannot run inside a transaction.",
        "Mark the migration `-- strata:no-transaction`."),
    squawk("constraint-missing-not-valid", Sq::ConstraintMissingNotValid, Error,
        "Adding a constraint without NOT VALID scans the table under a lock that blocks writes.",
        "Add the constraint NOT VALID, then VALIDATE CONSTRAINT in a later statement."),
    squawk("adding-foreign-key-constraint", Sq::AddingForeignKeyConstraint, Error,
        "Adding a foreign key locks both tables while every row is checked.",
        "Add it NOT VALID, then VALIDATE CONSTRAINT separately."),
    squawk("adding-not-nullable-field", Sq::AddingNotNullableField, Error,
        "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock.",
        "Add a CHECK (col IS NOT NULL) NOT VALID constraint, validate it, then SET NOT NULL."),
    squawk("adding-required-field", Sq::AddingRequiredField, Error,
        "Adding a NOT NULL column without a default fails on a table with rows and breaks old code's inserts.",
        "Add the column nullable or with a default; backfill; then SET NOT NULL."),
    squawk("adding-serial-primary-key-field", Sq::AddingSerialPrimaryKeyField, Error,
        "Adding a primary key builds its index while blocking reads and writes.",
        "Build a unique index CONCURRENTLY, then ADD PRIMARY KEY USING INDEX."),
    squawk("disallowed-unique-constraint", Sq::DisallowedUniqueConstraint, Error,
        "Adding a UNIQUE constraint builds its index under an ACCESS EXCLUSIVE lock.",
        "Build a unique index CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING INDEX."),
    squawk("changing-column-type", Sq::ChangingColumnType, Error,
        "Changing a column's type usually rewrites the table under an ACCESS EXCLUSIVE lock and breaks old code.",
        "Add a new column, backfill it, switch readers, then drop the old one (expand/contract)."),
    squawk("adding-field-with-default", Sq::AddingFieldWithDefault, Warning,
        "A volatile default (or any default before PostgreSQL 11) rewrites the table.",
        "Add the column without the default, set the default, backfill in batches."),
    squawk("renaming-column", Sq::RenamingColumn, Error,
        "Renaming a column breaks code that still uses the old name.",
        "Add a new column and migrate to it (expand/contract)."),
    squawk("renaming-table", Sq::RenamingTable, Error,
        "Renaming a table breaks code that still uses the old name.",
        "Create the new table, or a view under the old name, and migrate (expand/contract)."),
    squawk("ban-drop-column", Sq::BanDropColumn, Error,
        "Dropping a column loses data and breaks code that still reads it.",
        "Stop using the column first; drop it in the contract phase after the deploy."),
    squawk("ban-drop-table", Sq::BanDropTable, Error,
        "Dropping a table loses data and breaks code that still uses it.",
        "Stop using the table first; drop it in the contract phase after the deploy."),
    squawk("ban-drop-database", Sq::BanDropDatabase, Error,
        "Dropping a database loses everything in it.",
        "Do not drop databases from migrations."),
    squawk("ban-drop-not-null", Sq::BanDropNotNull, Warning,
        "Dropping NOT NULL lets old code read NULLs it does not expect.",
        "Make sure every reader handles NULL before deploying this."),
    squawk("ban-truncate-cascade", Sq::BanTruncateCascade, Error,
        "TRUNCATE ... CASCADE empties every table that references this one.",
        "Truncate the tables you mean, by name."),
    squawk("transaction-nesting", Sq::TransactionNesting, Error,
        "BEGIN/COMMIT inside a migration that strata already wraps in a transaction.",
        "Remove the transaction control; use `-- strata:no-transaction` to run statements one by one."),
    squawk("ban-uncommitted-transaction", Sq::BanUncommittedTransaction, Error,
        "A BEGIN without a matching COMMIT.",
        "Add the COMMIT, or remove the BEGIN."),
    squawk("ban-create-domain-with-constraint", Sq::BanCreateDomainWithConstraint, Warning,
        "Domain constraints are checked on every use and are hard to change later.",
        "Put the check on the columns as table constraints."),
    squawk("ban-alter-domain-with-add-constraint", Sq::BanAlterDomainWithAddConstraint, Error,
        "Adding a domain constraint scans every column of that domain under lock.",
        "Put the check on the columns as table constraints, NOT VALID then validated."),
    squawk("require-concurrent-partition-detach", Sq::RequireConcurrentPartitionDetach, Error,
        "DETACH PARTITION without CONCURRENTLY blocks the parent table.",
        "Use DETACH PARTITION ... CONCURRENTLY (PostgreSQL 14+)."),
    squawk("require-concurrent-reindex", Sq::RequireConcurrentReindex, Error,
        "REINDEX without CONCURRENTLY blocks writes.",
        "Use REINDEX ... CONCURRENTLY."),
    squawk("require-enum-value-ordering", Sq::RequireEnumValueOrdering, Warning,
        "ALTER TYPE ... ADD VALUE without BEFORE/AFTER appends the value at the end.",
        "Say where the value goes with BEFORE or AFTER."),
    squawk("ban-duplicate-column-assignments", Sq::BanDuplicateColumnAssignments, Error,
        "The same column is assigned twice in one statement.",
        "Assign each column once."),
    squawk("prefer-text-field", Sq::PreferTextField, Warning,
        "varchar(n): changing the limit later takes an ACCESS EXCLUSIVE lock.",
        "Use text, with a CHECK (length(col) <= n) constraint if a limit is needed."),
    squawk("prefer-timestamp-tz", Sq::PreferTimestampTz, Warning,
        "timestamp without time zone drops the UTC offset.",
        "Use timestamptz."),
    squawk("ban-char-field", Sq::BanCharField, Warning,
        "char(n) pads with spaces and is never faster than text.",
        "Use text (or varchar)."),
    squawk("prefer-bigint-over-int", Sq::PreferBigintOverInt, Warning,
        "32-bit integer keys run out; widening later rewrites the table.",
        "Use bigint."),
    squawk("prefer-bigint-over-smallint", Sq::PreferBigintOverSmallint, Warning,
        "16-bit integers run out quickly; widening later rewrites the table.",
        "Use bigint."),
    squawk("prefer-identity", Sq::PreferIdentity, Warning,
        "serial columns have surprising ownership and permission behaviour.",
        "Use GENERATED ... AS IDENTITY."),
    squawk("identifier-too-long", Sq::IdentifierTooLong, Error,
        "PostgreSQL silently truncates identifiers longer than 63 bytes.",
        "Use a shorter name."),
    squawk("prefer-robust-stmts", Sq::PreferRobustStmts, Off,
        "Statements without IF [NOT] EXISTS fail when run twice (strata resumes runs itself).",
        "Add IF NOT EXISTS / IF EXISTS."),
    squawk("require-timeout-settings", Sq::RequireTimeoutSettings, Off,
        "No lock_timeout/statement_timeout set (strata sets them per target when it runs).",
        "SET lock_timeout and statement_timeout at the top of the file."),
    squawk("prefer-repack", Sq::PreferRepack, Warning,
        "CLUSTER and VACUUM FULL hold an ACCESS EXCLUSIVE lock for the whole rewrite.",
        "Use pg_repack."),
];

/// The rule with this id (squawk's aliases, e.g. `prefer-timestamptz`, included).
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id).or_else(|| {
        let alias = squawk_linter::Rule::try_from(id).ok()?;
        RULES
            .iter()
            .find(|r| matches!(r.check, Check::Squawk(s) if s == alias))
    })
}

/// The canonical id of the rule `id` names, aliases resolved: what `Config::load` checks
/// `[lint.levels]` against.
pub fn rule_id(id: &str) -> Option<String> {
    rule(id).map(|r| r.id.to_string())
}

/// The level a rule runs at under this configuration.
pub fn level(rule: &Rule, config: &LintConfig) -> Level {
    config.levels.get(rule.id).copied().unwrap_or(rule.level)
}

/// A file to lint: its path as shown in findings, its text, and what it is.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: String,
    pub text: String,
    pub kind: FileKind,
}

/// Lints the files together; findings sorted by file, line, column and rule.
pub fn lint(inputs: &[Input], config: &LintConfig) -> Vec<Finding> {
    let files: Vec<ParsedFile> = inputs.iter().map(ParsedFile::parse).collect();
    let mut findings = Vec::new();
    let syntax = rule("syntax-error").expect("registered");
    for file in &files {
        if let Some(error) = &file.error {
            let (line, column) = file.position(error.offset);
            findings.push(finding(
                syntax,
                config,
                file,
                line,
                column,
                error.message.clone(),
            ));
        }
    }
    findings.extend(squawk::run(&files, config));
    for rule in RULES {
        let Check::Strata(check) = rule.check else {
            continue;
        };
        if level(rule, config) == Level::Off {
            continue;
        }
        for hit in check(&files, config) {
            let file = &files[hit.file];
            let (line, column) = file.position(hit.offset);
            findings.push(finding(rule, config, file, line, column, hit.message));
        }
    }
    findings.retain(|f| f.level != Level::Off);
    findings.retain(|f| {
        files
            .iter()
            .any(|file| file.path == f.file && file.kind != FileKind::Schema)
    });
    let ignores: std::collections::BTreeMap<&str, suppress::Ignores> = files
        .iter()
        .map(|file| (file.path.as_str(), suppress::Ignores::of(file)))
        .collect();
    findings.retain(|f| {
        !ignores
            .get(f.file.as_str())
            .is_some_and(|ignores| ignores.silence(f.rule, f.line))
    });
    findings.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.rule).cmp(&(&b.file, b.line, b.column, b.rule))
    });
    findings.dedup();
    findings
}

fn finding(
    rule: &'static Rule,
    config: &LintConfig,
    file: &ParsedFile,
    line: usize,
    column: usize,
    message: String,
) -> Finding {
    Finding {
        rule: rule.id,
        level: level(rule, config),
        file: file.path.clone(),
        line,
        column,
        message,
        help: rule.help.to_string(),
    }
}

/// Whether any finding blocks (exit code 1).
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.level == Level::Error)
}

#[cfg(test)]
pub(crate) fn lint_sql(sql: &str, config: &LintConfig) -> Vec<Finding> {
    lint(
        &[Input {
            path: "0001_test.sql".into(),
            text: sql.into(),
            kind: FileKind::Migration,
        }],
        config,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_kebab_case() {
        let mut ids: Vec<_> = RULES.iter().map(|r| r.id).collect();
        ids.sort();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "duplicate rule id");
        for id in ids {
            assert!(
                id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{id}"
            );
        }
    }

    #[test]
    fn squawk_ids_are_squawks_own() {
        for rule in RULES {
            if let Check::Squawk(sq) = rule.check {
                assert_eq!(sq.to_string(), rule.id);
            }
        }
    }

    #[test]
    fn docs_list_every_rule() {
        let docs = include_str!("../../docs/lint.md");
        for rule in RULES {
            assert!(
                docs.contains(&format!("`{}`", rule.id)),
                "{} not in docs/lint.md",
                rule.id
            );
        }
    }

    #[test]
    fn aliases_resolve() {
        assert_eq!(
            rule("prefer-timestamptz").unwrap().id,
            "prefer-timestamp-tz"
        );
        assert!(rule("no-such-rule").is_none());
    }

    #[test]
    fn levels_override_defaults() {
        let sql = "CREATE INDEX i ON t (a);";
        let found = lint_sql(sql, &LintConfig::default());
        assert_eq!(found[0].rule, "require-concurrent-index-creation");
        assert_eq!(found[0].level, Level::Error);
        let mut config = LintConfig::default();
        config
            .levels
            .insert("require-concurrent-index-creation".into(), Level::Warning);
        assert_eq!(lint_sql(sql, &config)[0].level, Level::Warning);
        config
            .levels
            .insert("require-concurrent-index-creation".into(), Level::Off);
        assert!(lint_sql(sql, &config).is_empty());
    }

    #[test]
    fn syntax_errors_are_findings() {
        let found = lint_sql("SELECT 1;\nSELEC 2;\n", &LintConfig::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, "syntax-error");
        assert_eq!(found[0].line, 2);
    }
}
