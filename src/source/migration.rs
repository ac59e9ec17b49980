//! Numbered DML migrations: `migrations/NNNN_snake_name.sql`, with directives in their
//! leading comments (`-- strata:no-transaction`, `-- strata:batch`), checked statement by
//! statement. Reading and checking only; `run::migrations` applies them.

use super::statements::{self, SourceError, Statement, StatementKind};
use crate::config::DdlInMigrations;
use miette::Diagnostic;
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::{Path, PathBuf};

/// A migration's serial number (`0007` in `0007_backfill.sql`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct MigrationId(pub u32);

impl fmt::Display for MigrationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.0)
    }
}

/// sha256 over the file's text with line endings normalised to `\n`, so a CRLF checkout of
/// the same file is not an edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Checksum([u8; 32]);

impl Checksum {
    pub fn of(normalised_text: &str) -> Checksum {
        Checksum(Sha256::digest(normalised_text.as_bytes()).into())
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", hex::encode(self.0))
    }
}

impl serde::Serialize for Checksum {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// How a migration runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The whole file in one transaction (the default).
    Transaction,
    /// `-- strata:no-transaction`: statement by statement, each committed on its own.
    NoTransaction,
    /// `-- strata:batch`: the one DML statement, repeated in its own transactions until it
    /// affects no rows.
    Batch,
}

impl Mode {
    pub fn directive(self) -> Option<&'static str> {
        match self {
            Mode::Transaction => None,
            Mode::NoTransaction => Some("no-transaction"),
            Mode::Batch => Some("batch"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Migration {
    pub id: MigrationId,
    /// The snake_case part of the file name.
    pub name: String,
    /// The file name, e.g. `0007_backfill_full_name.sql`.
    pub file: String,
    pub path: PathBuf,
    /// The file's text with `\r\n` turned into `\n`.
    pub text: String,
    pub mode: Mode,
    pub statements: Vec<Statement>,
    pub checksum: Checksum,
}

impl Migration {
    /// The migration as refinery sees it (`V7__backfill_full_name`); its checksum covers the
    /// name, the version and the normalised text.
    pub fn refinery(&self) -> refinery::Migration {
        refinery::Migration::unapplied(&format!("V{}__{}", self.id.0, self.name), &self.text)
            .expect("a checked migration name is a valid refinery name")
    }

    pub fn refinery_checksum(&self) -> u64 {
        self.refinery().checksum()
    }
}

/// A finding that does not stop the run (DDL in a migration under `ddl = "warn"`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MigrationWarning {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for MigrationWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

#[derive(Debug, Default)]
pub struct Loaded {
    /// Sorted by id.
    pub migrations: Vec<Migration>,
    pub warnings: Vec<MigrationWarning>,
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum MigrationError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Source(#[from] SourceError),
    #[error("cannot read {path}: {message}")]
    #[diagnostic(code(strata::migration::io))]
    Io { path: String, message: String },
    #[error("`{file}` is not a migration file name")]
    #[diagnostic(
        code(strata::migration::name),
        help("name migrations NNNN_snake_name.sql: a 4-digit serial number, `_`, then lowercase letters, digits and underscores (e.g. 0007_backfill_full_name.sql)")
    )]
    BadFileName { file: String },
    #[error("`{name}` is not a valid migration name")]
    #[diagnostic(
        code(strata::migration::new_name),
        help("use snake_case: lowercase letters, digits and single underscores, starting with a letter (e.g. backfill_full_name)")
    )]
    BadName { name: String },
    #[error("two migrations have number {id}: {first} and {second}")]
    #[diagnostic(
        code(strata::migration::duplicate),
        help("renumber one of them above the highest number (two branches added a migration with the same number)")
    )]
    Duplicate {
        id: MigrationId,
        first: String,
        second: String,
    },
    #[error("{path} is not UTF-8 (invalid byte at offset {offset})")]
    #[diagnostic(code(strata::migration::encoding), help("save the file as UTF-8"))]
    NotUtf8 { path: String, offset: usize },
    #[error("{path} is empty")]
    #[diagnostic(
        code(strata::migration::empty),
        help("write the data change into it, or delete the file")
    )]
    Empty { path: String },
}

const DIRECTIVE_PREFIX: &str = "strata:";

/// `0007_backfill_full_name.sql` → (7, `backfill_full_name`).
pub fn parse_file_name(file: &str) -> Option<(MigrationId, String)> {
    let stem = file.strip_suffix(".sql")?;
    let (digits, name) = stem.split_once('_')?;
    if digits.len() < 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !is_snake_case(name) {
        return None;
    }
    Some((MigrationId(digits.parse().ok()?), name.to_string()))
}

/// Lowercase letters, digits and single underscores, starting with a letter.
pub fn is_snake_case(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('_')
        && !name.contains("__")
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && name.len() <= 200
}

/// The file name `strata migrate new NAME` creates: one above the highest number present.
pub fn next_file_name(dir: &Path, name: &str) -> Result<String, MigrationError> {
    if !is_snake_case(name) {
        return Err(MigrationError::BadName { name: name.into() });
    }
    let highest = sql_files(dir)?
        .iter()
        .filter_map(|f| parse_file_name(f).map(|(id, _)| id.0))
        .max()
        .unwrap_or(0);
    Ok(format!("{}_{name}.sql", MigrationId(highest + 1)))
}

/// The `.sql` files of `dir`, sorted; a missing directory has none.
fn sql_files(dir: &Path) -> Result<Vec<String>, MigrationError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(MigrationError::Io {
                path: dir.display().to_string(),
                message: e.to_string(),
            })
        }
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| MigrationError::Io {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
        let file = entry.file_name().to_string_lossy().into_owned();
        if file.ends_with(".sql") && !file.starts_with('.') && entry.path().is_file() {
            files.push(file);
        }
    }
    files.sort();
    Ok(files)
}

/// Reads and checks every migration of `dir` (a missing directory has none).
pub fn load_dir(dir: &Path, ddl: DdlInMigrations) -> Result<Loaded, MigrationError> {
    let mut loaded = Loaded::default();
    for file in sql_files(dir)? {
        let path = dir.join(&file);
        let bytes = std::fs::read(&path).map_err(|e| MigrationError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let (migration, warnings) = parse_migration(&path, &file, bytes, ddl)?;
        if let Some(other) = loaded.migrations.iter().find(|m| m.id == migration.id) {
            return Err(MigrationError::Duplicate {
                id: migration.id,
                first: other.file.clone(),
                second: migration.file,
            });
        }
        loaded.migrations.push(migration);
        loaded.warnings.extend(warnings);
    }
    loaded.migrations.sort_by_key(|m| m.id);
    Ok(loaded)
}

/// Checks one migration file: its name, encoding, directives and statements.
pub fn parse_migration(
    path: &Path,
    file: &str,
    bytes: Vec<u8>,
    ddl: DdlInMigrations,
) -> Result<(Migration, Vec<MigrationWarning>), MigrationError> {
    let shown = path.display().to_string();
    let (id, name) = parse_file_name(file).ok_or_else(|| MigrationError::BadFileName {
        file: file.to_string(),
    })?;
    let raw = String::from_utf8(bytes).map_err(|e| MigrationError::NotUtf8 {
        path: shown.clone(),
        offset: e.utf8_error().valid_up_to(),
    })?;
    let text = normalise_line_endings(&raw);
    let mode = directives(&shown, &text)?;
    let statements = statements::parse(&shown, &text)?;
    let Some(first) = statements.first() else {
        return Err(MigrationError::Empty { path: shown });
    };
    let mut warnings = Vec::new();
    for statement in &statements {
        match statement.kind {
            StatementKind::TransactionControl => {
                return Err(at(
                    &shown,
                    &text,
                    statement,
                    "transaction control inside a migration",
                    "strata manages transactions",
                    Some("remove it: each migration runs in its own transaction; use `-- strata:no-transaction` or `-- strata:batch` for other behaviour".into()),
                ))
            }
            StatementKind::Ddl if ddl != DdlInMigrations::Allow => {
                // A rename carries data across; it has no place in the declarative schema.
                if statement.node == "RenameStmt" {
                    continue;
                }
                let help = "schema changes belong in schema/, where strata plans them; keep DDL here only for renames or steps that shape data (set `ddl = \"allow\"` under [migrations] to silence this)";
                if ddl == DdlInMigrations::Error {
                    return Err(at(
                        &shown,
                        &text,
                        statement,
                        "DDL inside a migration",
                        "DDL",
                        Some(help.into()),
                    ));
                }
                warnings.push(MigrationWarning {
                    file: shown.clone(),
                    line: statement.line,
                    message: format!("DDL inside a migration ({}): {help}", statement.node),
                });
            }
            _ => {}
        }
    }
    if mode == Mode::Batch {
        let dml = ["InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"];
        if statements.len() != 1 || !dml.contains(&first.node.as_str()) {
            let culprit = statements
                .iter()
                .find(|s| !dml.contains(&s.node.as_str()))
                .or(statements.get(1))
                .unwrap_or(first);
            return Err(at(
                &shown,
                &text,
                culprit,
                "a batch migration must be exactly one INSERT, UPDATE, DELETE or MERGE statement",
                "not allowed in a batch migration",
                Some("the statement is repeated until it affects no rows, so it must change a bounded number of rows each time (e.g. `UPDATE ... WHERE id IN (SELECT id ... LIMIT 1000)`); split other statements into their own migration".into()),
            ));
        }
    }
    let migration = Migration {
        id,
        name,
        file: file.to_string(),
        path: path.to_path_buf(),
        checksum: Checksum::of(&text),
        text,
        mode,
        statements,
    };
    Ok((migration, warnings))
}

fn at(
    path: &str,
    text: &str,
    statement: &Statement,
    message: &str,
    label: &str,
    help: Option<String>,
) -> MigrationError {
    SourceError::at(
        path,
        text,
        statement.offset,
        statement.len,
        message,
        label,
        help,
    )
    .into()
}

pub fn normalise_line_endings(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// Reads the directives of the leading comment lines (before the first statement).
fn directives(path: &str, text: &str) -> Result<Mode, MigrationError> {
    let mut no_transaction = false;
    let mut batch = false;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let Some(comment) = trimmed.strip_prefix("--") else {
            break;
        };
        let Some(directive) = comment.trim().strip_prefix(DIRECTIVE_PREFIX) else {
            continue;
        };
        let lead = line.len() - line.trim_start().len();
        let span = (start + lead, trimmed.len());
        match directive.trim() {
            "no-transaction" => no_transaction = true,
            "batch" => batch = true,
            other => {
                return Err(SourceError::at(
                    path,
                    text,
                    span.0,
                    span.1,
                    format!("unknown directive `strata:{other}`"),
                    "unknown directive",
                    Some(
                        "the directives are `-- strata:no-transaction` and `-- strata:batch`"
                            .into(),
                    ),
                )
                .into())
            }
        }
        if no_transaction && batch {
            return Err(SourceError::at(
                path,
                text,
                span.0,
                span.1,
                "`strata:batch` and `strata:no-transaction` together",
                "pick one",
                Some("a batch already runs each repetition in its own transaction; drop `no-transaction`".into()),
            )
            .into());
        }
    }
    Ok(if batch {
        Mode::Batch
    } else if no_transaction {
        Mode::NoTransaction
    } else {
        Mode::Transaction
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(file: &str, text: &str) -> Result<(Migration, Vec<MigrationWarning>), MigrationError> {
        parse_migration(
            Path::new(file),
            file,
            text.as_bytes().to_vec(),
            DdlInMigrations::Warn,
        )
    }

    #[test]
    fn file_names() {
        assert_eq!(
            parse_file_name("0007_backfill_full_name.sql"),
            Some((MigrationId(7), "backfill_full_name".into()))
        );
        assert_eq!(
            parse_file_name("12345_big.sql").unwrap().0,
            MigrationId(12345)
        );
        for bad in [
            "007_short.sql",
            "0007-dash.sql",
            "0007_Upper.sql",
            "0007_.sql",
            "0007_a__b.sql",
            "0007_trailing_.sql",
            "0007_x.txt",
            "abcd_x.sql",
            "0007_1abc.sql",
        ] {
            assert_eq!(parse_file_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn directives_are_read_from_leading_comments() {
        let (m, _) = parse(
            "0001_a.sql",
            "-- strata:batch\nUPDATE t SET x = 1 WHERE x = 0;\n",
        )
        .unwrap();
        assert_eq!(m.mode, Mode::Batch);
        let (m, _) = parse(
            "0001_a.sql",
            "-- a note\n\n--strata:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);\n",
        )
        .unwrap();
        assert_eq!(m.mode, Mode::NoTransaction);
        // After the first statement, a comment is just a comment.
        let (m, _) = parse("0001_a.sql", "UPDATE t SET x = 1;\n-- strata:batch\n").unwrap();
        assert_eq!(m.mode, Mode::Transaction);
    }

    #[test]
    fn unknown_directive_points_at_its_line() {
        let err = parse("0001_a.sql", "-- ok\n-- strata:fast\nUPDATE t SET x = 1;\n").unwrap_err();
        match err {
            MigrationError::Source(SourceError::Sql { line, message, .. }) => {
                assert_eq!(line, 2);
                assert!(message.contains("strata:fast"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn crlf_is_not_an_edit() {
        let (lf, _) = parse("0001_a.sql", "-- x\nUPDATE t SET x = 1;\n").unwrap();
        let (crlf, _) = parse("0001_a.sql", "-- x\r\nUPDATE t SET x = 1;\r\n").unwrap();
        assert_eq!(lf.checksum, crlf.checksum);
        assert_eq!(lf.refinery_checksum(), crlf.refinery_checksum());
        let (edited, _) = parse("0001_a.sql", "-- x\nUPDATE t SET x = 2;\n").unwrap();
        assert_ne!(lf.checksum, edited.checksum);
        assert!(lf.checksum.to_string().starts_with("sha256:"));
    }

    #[test]
    fn empty_and_comment_only_files_are_errors() {
        for text in ["", "  \n", "-- nothing here\n"] {
            assert!(matches!(
                parse("0001_a.sql", text),
                Err(MigrationError::Empty { .. })
            ));
        }
    }

    #[test]
    fn not_utf8_is_an_error() {
        let err = parse_migration(
            Path::new("0001_a.sql"),
            "0001_a.sql",
            vec![b'S', b'E', 0xff, 0xfe],
            DdlInMigrations::Warn,
        )
        .unwrap_err();
        assert!(matches!(err, MigrationError::NotUtf8 { offset: 2, .. }));
    }

    #[test]
    fn transaction_control_is_an_error() {
        let err = parse("0001_a.sql", "UPDATE t SET x = 1;\nCOMMIT;\n").unwrap_err();
        assert!(matches!(
            err,
            MigrationError::Source(SourceError::Sql { line: 2, .. })
        ));
    }

    #[test]
    fn ddl_warns_errors_or_passes_by_config() {
        let text = "ALTER TABLE t ADD COLUMN y int;\nUPDATE t SET y = 1;\n";
        let (_, warnings) = parse("0001_a.sql", text).unwrap();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].line, 1);
        let err = parse_migration(
            Path::new("0001_a.sql"),
            "0001_a.sql",
            text.into(),
            DdlInMigrations::Error,
        )
        .unwrap_err();
        assert!(matches!(err, MigrationError::Source(_)));
        let (_, warnings) = parse_migration(
            Path::new("0001_a.sql"),
            "0001_a.sql",
            text.into(),
            DdlInMigrations::Allow,
        )
        .unwrap();
        assert!(warnings.is_empty());
        // A rename is expected in a migration.
        let (_, warnings) = parse("0001_a.sql", "ALTER TABLE t RENAME COLUMN a TO b;\n").unwrap();
        assert!(warnings.is_empty());
    }

    #[test]
    fn batch_must_be_one_dml_statement() {
        assert!(parse(
            "0001_a.sql",
            "-- strata:batch\nUPDATE t SET x = 1;\nUPDATE t SET x = 2;\n"
        )
        .is_err());
        assert!(parse("0001_a.sql", "-- strata:batch\nSELECT 1;\n").is_err());
        assert!(parse(
            "0001_a.sql",
            "-- strata:batch\n-- strata:no-transaction\nDELETE FROM t;\n"
        )
        .is_err());
    }

    #[test]
    fn syntax_error_points_at_the_line() {
        let err = parse("0001_a.sql", "UPDATE t SET x = 1;\n\nUPDAT t SET x = 2;\n").unwrap_err();
        assert!(matches!(
            err,
            MigrationError::Source(SourceError::Sql { line: 3, .. })
        ));
    }

    #[test]
    fn duplicates_and_next_name() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            next_file_name(dir.path(), "first").unwrap(),
            "0001_first.sql"
        );
        std::fs::write(dir.path().join("0001_a.sql"), "UPDATE t SET x = 1;").unwrap();
        std::fs::write(dir.path().join("0003_c.sql"), "UPDATE t SET x = 1;").unwrap();
        std::fs::write(dir.path().join("README.md"), "not a migration").unwrap();
        assert_eq!(
            next_file_name(dir.path(), "next_one").unwrap(),
            "0004_next_one.sql"
        );
        assert!(next_file_name(dir.path(), "Bad-Name").is_err());
        let loaded = load_dir(dir.path(), DdlInMigrations::Warn).unwrap();
        assert_eq!(loaded.migrations.len(), 2);
        std::fs::write(dir.path().join("0003_other.sql"), "UPDATE t SET x = 1;").unwrap();
        match load_dir(dir.path(), DdlInMigrations::Warn).unwrap_err() {
            MigrationError::Duplicate { first, second, .. } => {
                assert_eq!(
                    (first.as_str(), second.as_str()),
                    ("0003_c.sql", "0003_other.sql")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(load_dir(&dir.path().join("missing"), DdlInMigrations::Warn)
            .unwrap()
            .migrations
            .is_empty());
    }
}
