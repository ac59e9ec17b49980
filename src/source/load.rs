//! Loading SDL into a database: every statement in ONE transaction, in whatever order the
//! files happen to declare objects.
//!
//! Strategy (see docs/architecture.md, "Loading SDL"):
//! 1. Send the statements in file order in batches (one `batch_execute` per run of up to
//!    [`BATCH`] statements), each batch under a savepoint. A schema written in dependency
//!    order loads in a handful of round trips.
//! 2. When a batch fails, roll back to its savepoint and bisect it until the failing
//!    statements are found, each then run under its own savepoint. A statement failing with
//!    a "does not exist (yet)" error ([`is_deferrable`]) is deferred; any other error stops
//!    the load with PostgreSQL's message at the statement's file and line.
//! 3. Retry the deferred statements (same batching) after each pass until none is left or a
//!    pass makes no progress; then what still fails is an error at its file and line.
//!    Retry passes alternate direction (reverse file order, then file order, ...), so a
//!    dependency chain written backwards resolves in one retry, not one retry per link.
//!
//! Session settings written in a file (`SET ...`) apply to that file's later statements
//! only: every batch starts with `RESET ALL` and the settings of its first statement's
//! position, and switches context where the file changes, so a statement retried out of
//! order runs under the settings it was written under.

use super::sdl::Sdl;
use super::SourceError;
use crate::pg::shadow::ShadowDb;
use crate::pg::{describe, ConnInfo, PgError};
use tokio_postgres::error::{ErrorPosition, SqlState};
use tokio_postgres::Client;

/// Statements per round trip on the happy path.
pub const BATCH: usize = 500;
/// Below this many statements a failing batch is run statement by statement.
const LEAF: usize = 4;
const SAVEPOINT: &str = "strata_load";

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LoadStats {
    pub statements: usize,
    /// Passes over the statements (1 when the files are in dependency order).
    pub passes: usize,
    /// Statements that had to wait for a later one at least once.
    pub deferred: usize,
}

/// Errors that mean "an object this statement needs is not there (yet)": another statement
/// of the SDL may create it.
pub fn is_deferrable(code: &SqlState) -> bool {
    [
        SqlState::UNDEFINED_TABLE,          // 42P01
        SqlState::UNDEFINED_OBJECT,         // 42704 (types, ...)
        SqlState::UNDEFINED_FUNCTION,       // 42883
        SqlState::INVALID_SCHEMA_NAME,      // 3F000
        SqlState::UNDEFINED_COLUMN,         // 42703
        SqlState::INVALID_FOREIGN_KEY,      // 42830: the referenced key is declared later
        SqlState::INVALID_COLUMN_REFERENCE, // 42P10
        SqlState::UNDEFINED_PARAMETER,      // 42P02
    ]
    .contains(code)
}

/// Loads the SDL into the database `client` is connected to, in one transaction that is
/// committed only when every statement succeeded.
pub async fn load(client: &Client, sdl: &Sdl) -> Result<LoadStats, crate::Error> {
    let items: Vec<(usize, usize)> = sdl
        .files
        .iter()
        .enumerate()
        .flat_map(|(f, file)| (0..file.statements.len()).map(move |s| (f, s)))
        .collect();
    client
        .batch_execute("BEGIN")
        .await
        .map_err(PgError::query("starting the schema load"))?;
    let result = load_in_transaction(client, sdl, &items).await;
    match result {
        Ok(stats) => {
            client
                .batch_execute("COMMIT")
                .await
                .map_err(PgError::query("committing the schema load"))?;
            Ok(stats)
        }
        Err(e) => {
            let _ = client.batch_execute("ROLLBACK").await;
            Err(e)
        }
    }
}

async fn load_in_transaction(
    client: &Client,
    sdl: &Sdl,
    items: &[(usize, usize)],
) -> Result<LoadStats, crate::Error> {
    let mut stats = LoadStats {
        statements: items.len(),
        ..LoadStats::default()
    };
    let mut pending: Vec<(usize, usize)> = items.to_vec();
    let mut ever_deferred = std::collections::BTreeSet::new();
    loop {
        stats.passes += 1;
        // Retry passes alternate direction: a chain declared in reverse order (each
        // statement needing the next) then resolves in one retry instead of one per link.
        if stats.passes % 2 == 0 {
            pending.reverse();
        }
        let mut failed = run_pass(client, sdl, &pending).await?;
        failed.sort_by_key(|(item, _)| *item);
        if failed.is_empty() {
            break;
        }
        if failed.len() == pending.len() {
            let (item, error) = &failed[0];
            let others: Vec<String> = failed[1..]
                .iter()
                .take(5)
                .map(|((f, s), _)| {
                    format!(
                        "{}:{}",
                        sdl.files[*f].path, sdl.files[*f].statements[*s].statement.line
                    )
                })
                .collect();
            let help = if others.is_empty() {
                "no statement in the schema files creates what it needs".to_string()
            } else {
                format!(
                    "{} other statement(s) could not be loaded either: {}{}",
                    failed.len() - 1,
                    others.join(", "),
                    if failed.len() > 6 { ", ..." } else { "" }
                )
            };
            return Err(statement_error(sdl, *item, error, Some(help)));
        }
        ever_deferred.extend(failed.iter().map(|(i, _)| *i));
        pending = failed.into_iter().map(|(i, _)| i).collect();
    }
    stats.deferred = ever_deferred.len();
    Ok(stats)
}

type Failed = Vec<((usize, usize), tokio_postgres::Error)>;

/// Runs the statements once, in order. Returns the deferred ones with their error; a
/// non-deferrable error ends the load.
async fn run_pass(
    client: &Client,
    sdl: &Sdl,
    pending: &[(usize, usize)],
) -> Result<Failed, crate::Error> {
    let mut failed = Vec::new();
    // Ranges still to run, next one last.
    let mut work: Vec<&[(usize, usize)]> = pending.chunks(BATCH).rev().collect();
    while let Some(range) = work.pop() {
        if range.len() <= LEAF {
            for item in range {
                if let Err(error) = run_one(client, sdl, *item).await? {
                    let deferrable = error.code().is_some_and(is_deferrable);
                    if !deferrable {
                        return Err(statement_error(sdl, *item, &error, None));
                    }
                    failed.push((*item, error));
                }
            }
            continue;
        }
        let sql = batch_text(sdl, range);
        match client.batch_execute(&sql).await {
            Ok(()) => release(client).await?,
            Err(e) if e.as_db_error().is_some() => {
                rollback(client).await?;
                let (a, b) = range.split_at(range.len() / 2);
                work.push(b);
                work.push(a);
            }
            Err(e) => return Err(pg_error(e)),
        }
    }
    Ok(failed)
}

/// Runs one statement under its own savepoint (alone in its query, so PostgreSQL's error
/// position points into it). `Ok(Err(e))`: the statement failed and was rolled back.
async fn run_one(
    client: &Client,
    sdl: &Sdl,
    (f, s): (usize, usize),
) -> Result<Result<(), tokio_postgres::Error>, crate::Error> {
    let statement = &sdl.files[f].statements[s];
    let mut prefix = format!("SAVEPOINT {SAVEPOINT};\n");
    prefix.push_str(&context(sdl, f, statement.settings));
    client
        .batch_execute(&prefix)
        .await
        .map_err(PgError::query("loading the schema"))?;
    match client.batch_execute(&statement.statement.sql).await {
        Ok(()) => {
            release(client).await?;
            Ok(Ok(()))
        }
        Err(e) if e.as_db_error().is_some() => {
            rollback(client).await?;
            Ok(Err(e))
        }
        Err(e) => Err(pg_error(e)),
    }
}

async fn release(client: &Client) -> Result<(), crate::Error> {
    client
        .batch_execute(&format!("RELEASE SAVEPOINT {SAVEPOINT}"))
        .await
        .map_err(pg_error)
}

async fn rollback(client: &Client) -> Result<(), crate::Error> {
    client
        .batch_execute(&format!(
            "ROLLBACK TO SAVEPOINT {SAVEPOINT}; RELEASE SAVEPOINT {SAVEPOINT}"
        ))
        .await
        .map_err(pg_error)
}

/// `RESET ALL` and the settings in force at a statement's place in its file.
fn context(sdl: &Sdl, file: usize, settings: usize) -> String {
    let mut text = String::from("RESET ALL;\n");
    for setting in &sdl.settings[file][..settings] {
        text.push_str(setting);
        text.push_str(";\n");
    }
    text
}

/// One query string: savepoint, context, statements (with context switches).
fn batch_text(sdl: &Sdl, range: &[(usize, usize)]) -> String {
    let mut sql = format!("SAVEPOINT {SAVEPOINT};\n");
    let mut current = None;
    for &(f, s) in range {
        let statement = &sdl.files[f].statements[s];
        if current != Some((f, statement.settings)) {
            sql.push_str(&context(sdl, f, statement.settings));
            current = Some((f, statement.settings));
        }
        sql.push_str(&statement.statement.sql);
        // A newline first: the statement may end in a line comment.
        sql.push_str("\n;\n");
    }
    sql
}

fn statement_error(
    sdl: &Sdl,
    (f, s): (usize, usize),
    error: &tokio_postgres::Error,
    help: Option<String>,
) -> crate::Error {
    let file = &sdl.files[f];
    let statement = &file.statements[s].statement;
    let (offset, len, label) = match error.as_db_error().and_then(|d| d.position()) {
        Some(ErrorPosition::Original(pos)) => {
            // 1-based character position within the statement.
            let byte = statement
                .sql
                .char_indices()
                .nth((*pos as usize).saturating_sub(1))
                .map(|(b, _)| b)
                .unwrap_or(0);
            let token = statement.sql[byte..]
                .find(|c: char| c.is_whitespace() || c == ',' || c == ')' || c == '(')
                .filter(|&n| n > 0)
                .unwrap_or(1);
            (statement.offset + byte, token, "here")
        }
        _ => (statement.offset, statement.len, "in this statement"),
    };
    SourceError::Sql {
        path: file.path.clone(),
        line: statement.line,
        message: describe(error),
        src: miette::NamedSource::new(&file.path, file.text.clone()),
        span: (offset, len).into(),
        label: label.to_string(),
        help,
    }
    .into()
}

/// Creates a shadow database on the server `admin` points at and loads the SDL into it.
/// The database is dropped again if the load fails.
pub async fn shadow_from_sdl(
    admin: &ConnInfo,
    sdl: &Sdl,
    purpose: &str,
) -> Result<(ShadowDb, LoadStats), crate::Error> {
    let shadow = ShadowDb::create(admin, purpose).await?;
    let result = async {
        let client = shadow.conninfo.connect().await?;
        load(&client, sdl).await
    }
    .await;
    match result {
        Ok(stats) => Ok((shadow, stats)),
        Err(e) => {
            let _ = shadow.drop_now().await;
            Err(e)
        }
    }
}

fn pg_error(e: tokio_postgres::Error) -> crate::Error {
    PgError::query("loading the schema")(e).into()
}
