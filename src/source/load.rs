//! Loading SDL into a database: every statement in ONE transaction, in whatever order the
//! files happen to declare objects.
//!
//! Strategy (see docs/architecture.md, "Loading SDL"):
//! 1. Send the statements in file order in batches (one `batch_execute` per run of up to
//!    [`BATCH`] statements), each batch under a savepoint. A schema written in dependency
//!    order loads in a handful of round trips.
//! 2. A failed batch is rolled back and sent again in careful form: each statement under its
//!    own savepoint, the batch's progress recorded after each. When a statement fails, the
//!    batch stops there: roll back to that statement's savepoint (what ran before it stays),
//!    read how far the batch got, and send the rest of the batch again. A statement failing with a "does not exist (yet)" error ([`is_deferrable`]) is
//!    deferred; any other error stops the load with PostgreSQL's message at the statement's
//!    file and line (the statement is run alone once more for the error's position).
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

/// Why a load failed: a statement of the files (at its file and line), or the database.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LoadError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Pg(#[from] PgError),
}
const SAVEPOINT: &str = "strata_load";
/// The transaction-local setting a batch records its progress in.
const PROGRESS: &str = "strata.load_done";

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
/// committed only when every statement succeeded. `ALTER DEFAULT PRIVILEGES` runs after every
/// other statement: it is about objects created later, and the declared objects' own grants
/// are declared (a statement retried after it would otherwise get its defaults too).
pub async fn load(client: &Client, sdl: &Sdl) -> Result<LoadStats, LoadError> {
    let items = all_items(sdl);
    refuse_newer_syntax(client, sdl, &items).await?;
    load_items(client, sdl, &items).await
}

/// Every statement as (file, statement) indices, in file order.
pub fn all_items(sdl: &Sdl) -> Vec<(usize, usize)> {
    sdl.files
        .iter()
        .enumerate()
        .flat_map(|(f, file)| (0..file.statements.len()).map(move |s| (f, s)))
        .collect()
}

/// A statement of the SDL: (file index, statement index).
type Item = (usize, usize);

/// Loads some of the statements (in the order given), like [`load`]; the caller has
/// refused syntax the server is too old for ([`refuse_newer_syntax`]).
pub async fn load_items(
    client: &Client,
    sdl: &Sdl,
    items: &[(usize, usize)],
) -> Result<LoadStats, LoadError> {
    let (defaults, items): (Vec<Item>, Vec<Item>) = items.iter().copied().partition(|(f, s)| {
        sdl.files[*f].statements[*s].statement.node == "AlterDefaultPrivilegesStmt"
    });
    client
        .batch_execute("BEGIN")
        .await
        .map_err(PgError::query("starting the schema load"))?;
    let result = async {
        let mut stats = load_in_transaction(client, sdl, &items).await?;
        if !defaults.is_empty() {
            let more = load_in_transaction(client, sdl, &defaults).await?;
            stats.statements += more.statements;
            stats.deferred += more.deferred;
        }
        Ok(stats)
    }
    .await;
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

/// Refuses a function with a SQL-standard body (`BEGIN ATOMIC ... END` or `RETURN ...`, new in
/// PostgreSQL 14) on an older server: PostgreSQL 13 reads `BEGIN ATOMIC` as a transaction
/// command and splits the body at its `;`, so the load would fail somewhere else, or worse.
pub async fn refuse_newer_syntax(
    client: &Client,
    sdl: &Sdl,
    items: &[(usize, usize)],
) -> Result<(), LoadError> {
    let Some(&(f, s)) = items.iter().find(|(f, s)| {
        let statement = &sdl.files[*f].statements[*s].statement;
        statement.node == "CreateFunctionStmt" && has_sql_standard_body(&statement.sql)
    }) else {
        return Ok(());
    };
    let major = crate::pg::server_version_num(client).await? / 10000;
    if major >= 14 {
        return Ok(());
    }
    let file = &sdl.files[f];
    let statement = &file.statements[s].statement;
    Err(SourceError::at(
        &file.path,
        &file.text,
        statement.offset,
        statement.len,
        format!(
            "a function body in SQL-standard form (BEGIN ATOMIC or RETURN) needs PostgreSQL 14 or newer; this server runs PostgreSQL {major}"
        ),
        "SQL-standard body",
        Some("write the body as a string (AS $$ ... $$), or use a server of PostgreSQL 14 or newer".to_string()),
    )
    .into())
}

/// Whether a CREATE FUNCTION / PROCEDURE has a SQL-standard body rather than a quoted one.
fn has_sql_standard_body(sql: &str) -> bool {
    matches!(
        crate::sqlparse::first_statement(sql),
        Some(pg_query::NodeEnum::CreateFunctionStmt(f)) if f.sql_body.is_some()
    )
}

async fn load_in_transaction(
    client: &Client,
    sdl: &Sdl,
    items: &[(usize, usize)],
) -> Result<LoadStats, LoadError> {
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
            return Err(clean_error(client, sdl, *item, error, Some(help)).await?);
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
///
/// Each batch is first sent as it is, under one savepoint (the fast path: no per-statement
/// savepoints, which cost about a third more). When it fails, it is rolled back and sent
/// again in careful form (`careful_text`): a savepoint per statement and progress marks, so
/// a failure costs one more round trip and never runs a statement twice.
async fn run_pass(
    client: &Client,
    sdl: &Sdl,
    pending: &[(usize, usize)],
) -> Result<Failed, LoadError> {
    let mut failed = Vec::new();
    // Timed (`STRATA_TIMINGS`), each statement is its own round trip, so it has its own time.
    let size = if crate::timings::enabled() { 1 } else { BATCH };
    for range in pending.chunks(size) {
        let fast = format!(
            "SAVEPOINT {SAVEPOINT};\n{}RELEASE SAVEPOINT {SAVEPOINT};\n",
            fast_text(sdl, range)
        );
        let start = std::time::Instant::now();
        match client.batch_execute(&fast).await {
            Ok(()) => {
                record_load(sdl, range, start);
                continue;
            }
            Err(e) if e.as_db_error().is_some() => rollback(client).await?,
            Err(e) => return Err(pg_error(e)),
        }
        let mut start = 0;
        while start < range.len() {
            let rest = &range[start..];
            match client.batch_execute(&careful_text(sdl, rest)).await {
                Ok(()) => break,
                Err(e) if e.as_db_error().is_some() => {
                    rollback(client).await?;
                    let done = progress(client).await?.min(rest.len() - 1);
                    let item = rest[done];
                    if !e.code().is_some_and(is_deferrable) {
                        return Err(clean_error(client, sdl, item, &e, None).await?);
                    }
                    failed.push((item, e));
                    // The statements before it stay; the batch goes on after it.
                    start += done + 1;
                }
                Err(e) => return Err(pg_error(e)),
            }
        }
    }
    Ok(failed)
}

/// Records a statement's load time under its kind (`STRATA_TIMINGS`, one statement per batch).
pub(crate) fn record_load(sdl: &Sdl, range: &[(usize, usize)], start: std::time::Instant) {
    if let [(f, s)] = range {
        let node = &sdl.files[*f].statements[*s].statement.node;
        crate::timings::record(
            "load",
            crate::timings::statement_kind(node),
            start.elapsed(),
        );
    }
}

/// How many statements of the current batch completed (the batch records it after each).
async fn progress(client: &Client) -> Result<usize, LoadError> {
    let row = client
        .query_one(&format!("SELECT current_setting('{PROGRESS}', true)"), &[])
        .await
        .map_err(pg_error)?;
    let value: Option<String> = row.get(0);
    Ok(value.and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// The error of a statement that failed inside a batch, with PostgreSQL's position in the
/// statement itself: the statement is run again alone (under its savepoint, so nothing
/// changes) to get it.
async fn clean_error(
    client: &Client,
    sdl: &Sdl,
    item: (usize, usize),
    batch_error: &tokio_postgres::Error,
    help: Option<String>,
) -> Result<LoadError, LoadError> {
    Ok(match run_one(client, sdl, item).await? {
        Err(alone) => statement_error(sdl, item, &alone, help),
        Ok(()) => statement_error(sdl, item, batch_error, help),
    })
}

/// Runs one statement under its own savepoint (alone in its query, so PostgreSQL's error
/// position points into it). `Ok(Err(e))`: the statement failed and was rolled back.
async fn run_one(
    client: &Client,
    sdl: &Sdl,
    (f, s): (usize, usize),
) -> Result<Result<(), tokio_postgres::Error>, LoadError> {
    let statement = &sdl.files[f].statements[s];
    let mut prefix = format!("SAVEPOINT {SAVEPOINT};\n");
    prefix.push_str(&context(sdl, f, statement.settings));
    client
        .batch_execute(&prefix)
        .await
        .map_err(PgError::query(LOADING))?;
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

async fn release(client: &Client) -> Result<(), LoadError> {
    client
        .batch_execute(&format!("RELEASE SAVEPOINT {SAVEPOINT}"))
        .await
        .map_err(pg_error)
}

async fn rollback(client: &Client) -> Result<(), LoadError> {
    client
        .batch_execute(&format!(
            "ROLLBACK TO SAVEPOINT {SAVEPOINT}; RELEASE SAVEPOINT {SAVEPOINT}"
        ))
        .await
        .map_err(pg_error)
}

/// `RESET ALL` and the settings in force at a statement's place in its file.
pub(crate) fn context(sdl: &Sdl, file: usize, settings: usize) -> String {
    let mut text = String::from("RESET ALL;\n");
    for setting in &sdl.settings[file][..settings] {
        text.push_str(setting);
        text.push_str(";\n");
    }
    text
}

/// The statements as one query string, with context switches where the file changes.
fn fast_text(sdl: &Sdl, range: &[(usize, usize)]) -> String {
    let mut sql = String::new();
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

/// One query string: each statement under its own savepoint (so a failure rolls back only
/// that statement), the batch's progress recorded after each (so the failing statement is
/// known without running anything twice), context switches where the file changes.
fn careful_text(sdl: &Sdl, range: &[(usize, usize)]) -> String {
    let mut sql = String::new();
    let mut current = None;
    for (k, &(f, s)) in range.iter().enumerate() {
        let statement = &sdl.files[f].statements[s];
        if current != Some((f, statement.settings)) {
            sql.push_str(&context(sdl, f, statement.settings));
            current = Some((f, statement.settings));
            sql.push_str(&mark(k));
        }
        sql.push_str(&format!("SAVEPOINT {SAVEPOINT};\n"));
        sql.push_str(&statement.statement.sql);
        sql.push_str(&format!("\n;\nRELEASE SAVEPOINT {SAVEPOINT};\n"));
        sql.push_str(&mark(k + 1));
    }
    sql
}

/// Records that `done` statements of the batch completed (transaction-local setting, kept
/// when the next statement's savepoint is rolled back).
fn mark(done: usize) -> String {
    format!("SELECT set_config('{PROGRESS}', '{done}', true);\n")
}

fn statement_error(
    sdl: &Sdl,
    (f, s): (usize, usize),
    error: &tokio_postgres::Error,
    help: Option<String>,
) -> LoadError {
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

/// Creates a shadow database on the server `admin` points at and loads the SDL into it
/// over `jobs` connections (`source::parallel`). The database is dropped again if the load
/// fails.
pub async fn shadow_from_sdl(
    admin: &ConnInfo,
    sdl: &Sdl,
    purpose: &str,
    jobs: usize,
) -> Result<(ShadowDb, LoadStats), LoadError> {
    let shadow = ShadowDb::create(admin, purpose).await?;
    let result = super::parallel::load(&shadow.conninfo, sdl, jobs).await;
    match result {
        Ok(stats) => Ok((shadow, stats)),
        Err(e) => {
            let _ = shadow.drop_now().await;
            Err(e)
        }
    }
}

/// A failed query of a load: the shadow server refused or lost the connection (a statement's
/// own error is a `LoadError::Statement`, with its file and line).
pub(super) fn pg_error(e: tokio_postgres::Error) -> LoadError {
    PgError::query(LOADING)(e).into()
}

const LOADING: &str = "loading into the shadow database";
