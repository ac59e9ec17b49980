//! Executing a schema stage's statements on the target: transactional statements together
//! in one transaction, `CONCURRENTLY` statements one by one; every attempt under
//! `lock_timeout`, retried with backoff only when a lock was not granted (SQLSTATE 55P03).

use super::history::{self, Step};
use crate::config::{duration::as_millis_text, LockTimeout, StatementTimeout};
use crate::model::{quote_ident, quote_literal};
use crate::pg::{describe, PgError};
use crate::plan::PlannedStatement;
use miette::Diagnostic;
use std::time::{Duration, Instant};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, GenericClient};

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum ExecError {
    #[error("statement failed: {message}\n  {sql}")]
    #[diagnostic(
        code(strata::run::statement),
        help("nothing of this transaction was applied; fix the cause and run again: completed steps are not repeated")
    )]
    Statement { sql: String, message: String },
    #[error("gave up after {attempts} attempts: the lock for this statement was not granted within lock_timeout\n  {sql}")]
    #[diagnostic(
        code(strata::run::lock_timeout),
        help("a long transaction holds a lock on the table; run again at a quieter time, or raise `retries`/`lock_timeout` for the target")
    )]
    LockNotGranted { sql: String, attempts: u32 },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Pg(#[from] PgError),
}

/// How statements are run on a target.
#[derive(Debug, Clone, Copy)]
pub struct ExecPolicy {
    pub lock_timeout: LockTimeout,
    pub statement_timeout: StatementTimeout,
    /// Attempts after the first when the lock is not granted.
    pub retries: u32,
    /// Base of the exponential backoff between attempts.
    pub backoff: Duration,
}

impl ExecPolicy {
    fn settings(&self, statement_timeout: StatementTimeout, local: bool) -> String {
        let scope = if local { "SET LOCAL" } else { "SET" };
        format!(
            "{scope} lock_timeout = {}; {scope} statement_timeout = {}",
            quote_literal(&as_millis_text(self.lock_timeout.0)),
            quote_literal(&as_millis_text(statement_timeout.0))
        )
    }

    fn pause(&self, attempt: u32) -> Duration {
        self.backoff * 2u32.saturating_pow(attempt.min(6))
    }
}

/// What a person watching a run is told while statements run (`pipeline` passes one that
/// writes to the reporter; tests and rehearsals pass `Unwatched`).
pub trait Watch: Sync {
    /// A statement is sent to the server.
    fn started(&self, _sql: &str) {}
    /// A statement completed, in `took` (for a transaction: before its commit).
    fn ran(&self, _sql: &str, _took: Duration) {}
    /// A lock was not granted in time; attempt `attempt` (1-based) follows after `pause`.
    /// `blockers` are the sessions holding locks on the statement's tables, as far as
    /// pg_stat_activity shows them.
    fn retry(&self, _sql: &str, _attempt: u32, _pause: Duration, _blockers: &[Blocker]) {}
}

pub struct Unwatched;
impl Watch for Unwatched {}

/// A session holding a lock on a table a statement needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Blocker {
    pub pid: i32,
    /// `idle in transaction`, `active`, ... (empty when not visible to strata's role).
    pub state: String,
    /// Its current or last query, shortened (`<insufficient privilege>` when not visible).
    pub query: String,
    /// Seconds since its transaction began.
    pub transaction_seconds: i64,
}

impl std::fmt::Display for Blocker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {}", self.pid)?;
        if !self.state.is_empty() {
            write!(
                f,
                " ({}, transaction open {} s)",
                self.state, self.transaction_seconds
            )?;
        }
        if !self.query.is_empty() {
            write!(f, ": {}", self.query)?;
        }
        Ok(())
    }
}

/// The sessions other than this one holding a granted lock on a table `sql` names. Read after
/// the timed-out attempt rolled back, so the session that waited is not among them.
pub async fn blockers(client: &impl GenericClient, sql: &str) -> Vec<Blocker> {
    let tables = tables_named(sql);
    if tables.is_empty() {
        return Vec::new();
    }
    let rows = client
        .query(
            "SELECT DISTINCT a.pid, coalesce(a.state, ''), \
                    left(regexp_replace(coalesce(a.query, ''), '\\s+', ' ', 'g'), 200), \
                    coalesce(extract(epoch FROM now() - a.xact_start)::bigint, 0) \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.granted AND l.pid <> pg_backend_pid() AND l.locktype = 'relation' \
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND l.relation IN (SELECT to_regclass(t) FROM unnest($1::text[]) t) \
             ORDER BY a.pid",
            &[&tables],
        )
        .await;
    // Only for the message: a failure to read them is no reason to stop the run.
    rows.map(|rows| {
        rows.iter()
            .map(|r| Blocker {
                pid: r.get(0),
                state: r.get(1),
                query: r.get(2),
                transaction_seconds: r.get(3),
            })
            .collect()
    })
    .unwrap_or_default()
}

/// The tables (and indexes) a statement names, quoted for `to_regclass`.
pub(crate) fn tables_named(sql: &str) -> Vec<String> {
    let Ok(parsed) = pg_query::parse(sql) else {
        return Vec::new();
    };
    let mut names: Vec<String> = parsed
        .protobuf
        .nodes()
        .into_iter()
        .filter_map(|(node, ..)| match node {
            pg_query::NodeRef::RangeVar(rv) if rv.schemaname.is_empty() => {
                Some(quote_ident(&rv.relname))
            }
            pg_query::NodeRef::RangeVar(rv) => Some(format!(
                "{}.{}",
                quote_ident(&rv.schemaname),
                quote_ident(&rv.relname)
            )),
            _ => None,
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// A lock not granted in time, or a deadlock with an application's transaction (the whole
/// transaction was rolled back: trying it again is safe).
fn is_lock_timeout(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE)
        || e.code() == Some(&SqlState::T_R_DEADLOCK_DETECTED)
}

fn failed(sql: &str, e: &tokio_postgres::Error) -> ExecError {
    ExecError::Statement {
        sql: sql.to_string(),
        message: describe(e),
    }
}

/// Runs `statements` in one transaction and records `step` as done in the same commit. The
/// whole transaction is retried when a lock is not granted.
pub async fn run_in_transaction(
    client: &mut Client,
    statements: &[&PlannedStatement],
    policy: &ExecPolicy,
    step: Option<&Step>,
) -> Result<(), ExecError> {
    run_in_transaction_watched(client, statements, policy, step, &Unwatched).await
}

/// `run_in_transaction`, telling `watch` each statement's duration and each retry.
pub async fn run_in_transaction_watched(
    client: &mut Client,
    statements: &[&PlannedStatement],
    policy: &ExecPolicy,
    step: Option<&Step>,
    watch: &dyn Watch,
) -> Result<(), ExecError> {
    let mut attempt = 0;
    loop {
        let tx = client
            .transaction()
            .await
            .map_err(PgError::query("beginning a transaction"))?;
        tx.batch_execute(&policy.settings(policy.statement_timeout, true))
            .await
            .map_err(PgError::query("setting timeouts"))?;
        let mut outcome = Ok(());
        let mut took = Vec::with_capacity(statements.len());
        for statement in statements {
            watch.started(&statement.sql);
            let start = Instant::now();
            if let Err(e) = tx.batch_execute(&statement.sql).await {
                outcome = Err((statement.sql.clone(), e));
                break;
            }
            took.push(start.elapsed());
        }
        match outcome {
            Ok(()) => {
                if let Some(step) = step {
                    history::record_step(&tx, step, None).await?;
                    step.failpoint("effect");
                }
                tx.commit()
                    .await
                    .map_err(PgError::query("committing the stage"))?;
                for (statement, took) in statements.iter().zip(took) {
                    watch.ran(&statement.sql, took);
                }
                return Ok(());
            }
            Err((sql, e)) if is_lock_timeout(&e) => {
                tx.rollback()
                    .await
                    .map_err(PgError::query("rolling back after a lock timeout"))?;
                if let Some(step) = step {
                    step.failpoint("retry");
                }
                if attempt >= policy.retries {
                    return Err(ExecError::LockNotGranted {
                        sql,
                        attempts: attempt + 1,
                    });
                }
                let pause = policy.pause(attempt);
                watch.retry(&sql, attempt + 2, pause, &blockers(&*client, &sql).await);
                tokio::time::sleep(pause).await;
                attempt += 1;
            }
            Err((sql, e)) => return Err(failed(&sql, &e)),
        }
    }
}

/// Runs one statement that cannot run in a transaction (`CREATE INDEX CONCURRENTLY`, ...).
/// A concurrent index build that fails leaves an invalid index behind: it is dropped before
/// the next attempt, never built over blindly; a valid index of that name means an earlier,
/// interrupted run already built it. Returns whether the statement ran.
pub async fn run_alone(
    client: &Client,
    statement: &PlannedStatement,
    policy: &ExecPolicy,
    long_timeout: StatementTimeout,
) -> Result<bool, ExecError> {
    run_alone_watched(client, statement, policy, long_timeout, &Unwatched).await
}

/// `run_alone`, telling `watch` the statement's duration and each retry.
pub async fn run_alone_watched(
    client: &Client,
    statement: &PlannedStatement,
    policy: &ExecPolicy,
    long_timeout: StatementTimeout,
    watch: &dyn Watch,
) -> Result<bool, ExecError> {
    let outcome = attempt_alone(client, statement, policy, long_timeout, watch).await;
    // The timeouts were set for the session: what runs next (a migration, the next
    // transaction's SET LOCAL aside) must not inherit them.
    client
        .batch_execute("RESET lock_timeout; RESET statement_timeout")
        .await
        .map_err(PgError::query("resetting timeouts"))?;
    outcome
}

async fn attempt_alone(
    client: &Client,
    statement: &PlannedStatement,
    policy: &ExecPolicy,
    long_timeout: StatementTimeout,
    watch: &dyn Watch,
) -> Result<bool, ExecError> {
    let index = concurrent_index_name(&statement.sql);
    let mut attempt = 0;
    loop {
        if let Some(index) = &index {
            match index_validity(client, index).await? {
                Some(true) => return Ok(false),
                Some(false) => drop_invalid_index(client, index).await?,
                None => {}
            }
        }
        client
            .batch_execute(&policy.settings(long_timeout, false))
            .await
            .map_err(PgError::query("setting timeouts"))?;
        watch.started(&statement.sql);
        let start = Instant::now();
        match client.batch_execute(&statement.sql).await {
            Ok(()) => {
                watch.ran(&statement.sql, start.elapsed());
                return Ok(true);
            }
            Err(e) if is_lock_timeout(&e) && attempt < policy.retries => {
                let pause = policy.pause(attempt);
                let blockers = blockers(client, &statement.sql).await;
                watch.retry(&statement.sql, attempt + 2, pause, &blockers);
                tokio::time::sleep(pause).await;
                attempt += 1;
            }
            Err(e) => {
                if let Some(index) = &index {
                    if index_validity(client, index).await? == Some(false) {
                        drop_invalid_index(client, index).await?;
                    }
                }
                if is_lock_timeout(&e) {
                    return Err(ExecError::LockNotGranted {
                        sql: statement.sql.clone(),
                        attempts: attempt + 1,
                    });
                }
                return Err(failed(&statement.sql, &e));
            }
        }
    }
}

/// `schema.name` (quoted) of the index a `CREATE [UNIQUE] INDEX CONCURRENTLY` builds.
pub fn concurrent_index_name(sql: &str) -> Option<String> {
    let Some(pg_query::NodeEnum::IndexStmt(index)) = crate::sqlparse::first_statement(sql) else {
        return None;
    };
    if !index.concurrent || index.idxname.is_empty() {
        return None;
    }
    let schema = index
        .relation
        .as_ref()
        .map(|r| r.schemaname.clone())
        .unwrap_or_default();
    Some(if schema.is_empty() {
        quote_ident(&index.idxname)
    } else {
        format!("{}.{}", quote_ident(&schema), quote_ident(&index.idxname))
    })
}

async fn index_validity(client: &impl GenericClient, index: &str) -> Result<Option<bool>, PgError> {
    let row = client
        .query_opt(
            "SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass($1)",
            &[&index],
        )
        .await
        .map_err(PgError::query(format!("checking index {index}")))?;
    Ok(row.map(|r| r.get(0)))
}

async fn drop_invalid_index(client: &Client, index: &str) -> Result<(), PgError> {
    client
        .batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {index}"))
        .await
        .map_err(PgError::query(format!(
            "dropping the invalid index {index} left by a failed build"
        )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_concurrent_index() {
        assert_eq!(
            concurrent_index_name("CREATE INDEX CONCURRENTLY users_email_idx ON app.users (email)"),
            Some("app.users_email_idx".into())
        );
        assert_eq!(
            concurrent_index_name("CREATE UNIQUE INDEX CONCURRENTLY \"Idx\" ON t (a)"),
            Some("\"Idx\"".into())
        );
        assert_eq!(concurrent_index_name("CREATE INDEX i ON t (a)"), None);
        assert_eq!(
            concurrent_index_name("ALTER TABLE t ADD COLUMN a int"),
            None
        );
    }
}
