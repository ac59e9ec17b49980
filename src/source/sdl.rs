//! The desired schema (SDL): the files named by `[schema] files` in pipeline.toml, or one
//! file or directory given on the command line, split into statements and checked.
//!
//! SDL is plain PostgreSQL DDL in any order across any number of files. It holds no DML and
//! no transaction control: such a statement is an error at its file and line. Session
//! settings (`SET ...`, and the `SELECT pg_catalog.set_config(...)` that pg_dump writes) are
//! kept apart from the statements: they are the context the file's later statements run in
//! (see `source::load`).

use super::statements::{parse, read_file, Statement, StatementKind};
use super::SourceError;
use crate::config::Config;
use pg_query::NodeEnum;
use std::path::{Path, PathBuf};

/// One SDL file: its text and its statements.
#[derive(Debug, Clone)]
pub struct SdlFile {
    /// The path as shown to people (relative to the project root when it is inside it).
    pub path: String,
    pub text: String,
    pub statements: Vec<SdlStatement>,
}

/// A DDL statement with the session settings written before it in its file.
#[derive(Debug, Clone)]
pub struct SdlStatement {
    pub statement: Statement,
    /// How many of the file's settings precede this statement (`SdlFile::settings[..n]`).
    pub settings: usize,
}

/// The desired schema, file by file, in a deterministic (sorted) order.
#[derive(Debug, Clone, Default)]
pub struct Sdl {
    pub files: Vec<SdlFile>,
    /// Per file, the session settings (`SET ...`) in the order written.
    pub settings: Vec<Vec<String>>,
    /// The `[schema] files` globs that matched no file (`load_config` only).
    pub unmatched: Vec<String>,
}

impl Sdl {
    /// Every statement with the index of its file, in file order.
    pub fn statements(&self) -> impl Iterator<Item = (usize, &SdlStatement)> {
        self.files
            .iter()
            .enumerate()
            .flat_map(|(i, f)| f.statements.iter().map(move |s| (i, s)))
    }

    pub fn statement_count(&self) -> usize {
        self.files.iter().map(|f| f.statements.len()).sum()
    }

    /// Parses SDL given as text (tests, and SQL that does not live in a file).
    pub fn from_text(path: &str, text: &str) -> Result<Sdl, SourceError> {
        let mut sdl = Sdl::default();
        sdl.push_file(path.to_string(), text.to_string())?;
        Ok(sdl)
    }

    /// A dump as one file: pg_dump's (without its psql meta-commands) or strata's own, to be
    /// loaded like SDL (`source::parallel`). A dump is SQL a server wrote, not schema files:
    /// the refusals of SDL (DML, transaction control, role statements) do not apply, so what
    /// pg_dump writes (`SELECT pg_catalog.lo_create(...)`, say) is loaded as it would be by
    /// psql. Only a syntax error (a newer major's syntax the parser does not know) fails.
    pub fn from_dump(name: &str, text: String) -> Result<Sdl, SourceError> {
        let mut sdl = Sdl::default();
        let (file, settings) = split_file(name.to_string(), text, Origin::Dump)?;
        sdl.files.push(file);
        sdl.settings.push(settings);
        Ok(sdl)
    }

    /// The text of its files, one after the other (a dump's one file: its text back),
    /// taken out: the statements keep their own SQL, but errors can no longer show where in
    /// the file they are.
    pub fn take_text(&mut self) -> String {
        self.files
            .iter_mut()
            .map(|f| std::mem::take(&mut f.text))
            .collect()
    }

    fn push_file(&mut self, path: String, text: String) -> Result<(), SourceError> {
        let (file, settings) = split_file(path, text, Origin::SchemaFile)?;
        self.files.push(file);
        self.settings.push(settings);
        Ok(())
    }
}

/// Where SQL comes from, which says what it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// The user's schema files: DDL only ([`refusal`]).
    SchemaFile,
    /// A dump of a database (`Sdl::from_dump`): anything.
    Dump,
}

/// Reads the files the manifest names (`[schema] files`, globs relative to the project root),
/// sorted by path and without duplicates.
pub fn load_config(config: &Config) -> Result<Sdl, SourceError> {
    let mut paths = Vec::new();
    let mut unmatched = Vec::new();
    for pattern in &config.schema.files {
        let before = paths.len();
        let full = config.root.join(pattern);
        let full = full.to_string_lossy();
        let entries = glob::glob(&full).map_err(|e| SourceError::Io {
            path: pattern.clone(),
            message: format!("invalid glob pattern: {e}"),
        })?;
        for entry in entries {
            let path = entry.map_err(|e| SourceError::Io {
                path: e.path().display().to_string(),
                message: e.error().to_string(),
            })?;
            if path.is_file() {
                paths.push(path);
            }
        }
        if paths.len() == before {
            unmatched.push(pattern.clone());
        }
    }
    let mut sdl = read_paths(Some(&config.root), paths)?;
    sdl.unmatched = unmatched;
    Ok(sdl)
}

/// Refuses a desired schema that is empty by accident (unless `allowed`): a `[schema] files`
/// glob that matches no file (a typo such as `*.sqll`), or files that declare nothing while
/// the other side (`others` objects: the target) has something. Either would plan a drop of
/// every object. `globs` names where the files come from.
pub fn require_intent(
    sdl: &Sdl,
    globs: &[String],
    others: usize,
    allowed: bool,
) -> Result<(), SourceError> {
    if allowed {
        return Ok(());
    }
    if !sdl.unmatched.is_empty() {
        return Err(SourceError::EmptySchema {
            message: format!(
                "no file matches {} of `[schema] files` in pipeline.toml: without its files the desired schema would lose every object they declare",
                sdl.unmatched
                    .iter()
                    .map(|g| format!("`{g}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    if sdl.statement_count() == 0 && others > 0 {
        return Err(SourceError::EmptySchema {
            message: format!(
                "the schema files ({}) declare nothing, but the target has {others} object(s): the plan would drop every one of them",
                globs
                    .iter()
                    .map(|g| format!("`{g}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    Ok(())
}

/// Objects a desired schema that declares nothing would drop: tables, views, functions,
/// types and sequences.
pub fn object_count(schema: &crate::model::Schema) -> usize {
    schema.tables.len()
        + schema.views.len()
        + schema.functions.len()
        + schema.types.len()
        + schema.sequences.len()
}

/// Reads SDL from one file, or from every `*.sql` file under a directory (recursively).
pub fn load_path(path: &Path) -> Result<Sdl, SourceError> {
    let meta = std::fs::metadata(path).map_err(|e| SourceError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    if meta.is_file() {
        return read_paths(None, vec![path.to_path_buf()]);
    }
    let mut paths = Vec::new();
    collect_sql_files(path, &mut paths)?;
    read_paths(None, paths)
}

fn collect_sql_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SourceError> {
    let io = |e: std::io::Error| SourceError::Io {
        path: dir.display().to_string(),
        message: e.to_string(),
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            collect_sql_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "sql") {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads and checks the files; paths are shown relative to `root` when given (the project),
/// else as found.
fn read_paths(root: Option<&Path>, mut paths: Vec<PathBuf>) -> Result<Sdl, SourceError> {
    paths.sort();
    paths.dedup();
    let mut sdl = Sdl::default();
    for path in paths {
        let shown = root
            .and_then(|root| path.strip_prefix(root).ok())
            .unwrap_or(&path);
        let text = read_file(&path)?;
        sdl.push_file(shown.display().to_string(), text)?;
    }
    Ok(sdl)
}

/// Splits a file into statements and session settings. A schema file's DML, transaction
/// control and role statements are refused with their file and line.
fn split_file(
    path: String,
    text: String,
    origin: Origin,
) -> Result<(SdlFile, Vec<String>), SourceError> {
    let parsed = parse(&path, &text)?;
    let mut statements = Vec::new();
    let mut settings = Vec::new();
    for statement in parsed {
        if is_session_setting(&statement) {
            settings.push(statement.sql.clone());
            continue;
        }
        if origin == Origin::SchemaFile {
            if let Some((what, help)) = refusal(&statement) {
                return Err(SourceError::at(
                    &path,
                    &text,
                    statement.offset,
                    statement.len,
                    format!("{what} in the schema files (SDL)"),
                    "not allowed here",
                    Some(help.to_string()),
                ));
            }
        }
        statements.push(SdlStatement {
            statement,
            settings: settings.len(),
        });
    }
    Ok((
        SdlFile {
            path,
            text,
            statements,
        },
        settings,
    ))
}

/// Why a statement may not be in the schema files, and what to do instead.
fn refusal(statement: &Statement) -> Option<(&'static str, &'static str)> {
    match statement.kind {
        StatementKind::Dml => {
            return Some((
                "data statement (DML)",
                "the schema files declare objects only; put data changes in a numbered migration",
            ))
        }
        StatementKind::TransactionControl => {
            return Some((
                "transaction control",
                "remove it: strata loads the whole schema in one transaction itself",
            ))
        }
        StatementKind::Ddl | StatementKind::Other => {}
    }
    is_role_statement(statement).then_some((
        "role statement",
        "roles belong to the whole cluster, not to one database's schema: create them \
         outside strata (by the team that runs the server) or in a numbered migration; \
         GRANT ... ON <object> TO <role> stays in the schema files",
    ))
}

/// CREATE/ALTER/DROP ROLE (and USER, GROUP), role membership and role renames: loaded into a
/// shadow database, they would change the shadow server's roles, which outlive the shadow.
fn is_role_statement(statement: &Statement) -> bool {
    match statement.node.as_str() {
        "CreateRoleStmt" | "AlterRoleStmt" | "AlterRoleSetStmt" | "DropRoleStmt"
        | "GrantRoleStmt" => true,
        "RenameStmt" => matches!(
            crate::sqlparse::first_statement(&statement.sql),
            Some(NodeEnum::RenameStmt(r)) if r.rename_type() == pg_query::protobuf::ObjectType::ObjectRole
        ),
        _ => false,
    }
}

/// `SET x = y` / `RESET x`, and `SELECT pg_catalog.set_config(...)` (as pg_dump writes it).
fn is_session_setting(statement: &Statement) -> bool {
    match statement.node.as_str() {
        "VariableSetStmt" => true,
        "SelectStmt" => is_set_config_call(&statement.sql),
        _ => false,
    }
}

fn is_set_config_call(sql: &str) -> bool {
    let Some(NodeEnum::SelectStmt(select)) = crate::sqlparse::first_statement(sql) else {
        return false;
    };
    if !select.from_clause.is_empty() || select.target_list.is_empty() {
        return false;
    }
    select.target_list.iter().all(|target| {
        matches!(
            crate::sqlparse::called_function(target).as_deref(),
            Some(["set_config"] | ["pg_catalog", "set_config"])
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_context_not_statements() {
        let sdl = Sdl::from_text(
            "a.sql",
            "SET check_function_bodies = false;\nSELECT pg_catalog.set_config('search_path', '', false);\nCREATE TABLE public.t (id int);\n",
        )
        .unwrap();
        assert_eq!(sdl.settings[0].len(), 2);
        assert_eq!(sdl.files[0].statements.len(), 1);
        assert_eq!(sdl.files[0].statements[0].settings, 2);
    }

    #[test]
    fn dml_is_refused_with_its_line() {
        let err = Sdl::from_text(
            "a.sql",
            "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n",
        )
        .unwrap_err();
        match err {
            SourceError::Sql { line, message, .. } => {
                assert_eq!(line, 2);
                assert!(message.contains("DML"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn role_statements_are_refused_with_their_line() {
        for sql in [
            "CREATE ROLE reporting NOLOGIN",
            "CREATE USER app",
            "CREATE GROUP staff",
            "ALTER ROLE app SET search_path = x",
            "ALTER USER app NOLOGIN",
            "DROP ROLE IF EXISTS app",
            "GRANT staff TO app",
            "ALTER ROLE app RENAME TO app2",
        ] {
            let text = format!("CREATE TABLE t (id int);\n{sql};\n");
            match Sdl::from_text("roles.sql", &text).unwrap_err() {
                SourceError::Sql {
                    line,
                    message,
                    help,
                    ..
                } => {
                    assert_eq!(line, 2, "{sql}");
                    assert!(message.contains("role statement"), "{sql}: {message}");
                    assert!(help.unwrap().contains("migration"), "{sql}");
                }
                other => panic!("{sql}: {other:?}"),
            }
        }
        let grants =
            "CREATE TABLE t (id int);\nGRANT SELECT ON t TO PUBLIC;\nALTER TABLE t RENAME TO u;\n";
        assert!(Sdl::from_text("grants.sql", grants).is_ok());
    }

    #[test]
    fn a_dump_keeps_what_schema_files_may_not_hold_and_its_settings_apart() {
        let dump = "SET statement_timeout = 0;\n\
            SELECT pg_catalog.set_config('search_path', '', false);\n\
            CREATE TABLE public.t (id int);\n\
            ALTER TABLE public.t OWNER TO app;\n\
            SELECT pg_catalog.lo_create('16390');\n";
        assert!(Sdl::from_text("a.sql", dump).is_err());
        let sdl = Sdl::from_dump("pg_dump of x", dump.to_string()).unwrap();
        assert_eq!(sdl.settings[0].len(), 2);
        let nodes: Vec<&str> = sdl.files[0]
            .statements
            .iter()
            .map(|s| s.statement.node.as_str())
            .collect();
        assert_eq!(nodes, ["CreateStmt", "AlterTableStmt", "SelectStmt"]);
        assert!(Sdl::from_dump("pg_dump of x", "CREATE TABLE (".into()).is_err());
    }

    #[test]
    fn a_select_that_is_not_set_config_is_dml() {
        assert!(Sdl::from_text("a.sql", "SELECT set_config('a','b',false), 1;").is_err());
        assert!(Sdl::from_text("a.sql", "SELECT now();").is_err());
    }
}
