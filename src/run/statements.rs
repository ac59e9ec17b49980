//! Executing a schema stage's statements on the target: transactional statements together
//! in one transaction, `CONCURRENTLY` statements one by one; every attempt under
//! `lock_timeout`, retried with backoff only when a lock was not granted (SQLSTATE 55P03).

use super::history::{self, Step};
use crate::config::{duration::as_millis_text, LockTimeout, StatementTimeout};
use crate::model::{quote_ident, quote_literal};
use crate::pg::{describe, PgError};
use crate::plan::PlannedStatement;
use miette::Diagnostic;
use std::time::Duration;
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
        for statement in statements {
            if let Err(e) = tx.batch_execute(&statement.sql).await {
                outcome = Err((statement.sql.clone(), e));
                break;
            }
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
                return Ok(());
            }
            Err((sql, e)) if is_lock_timeout(&e) => {
                drop(tx); // rolls back
                if let Some(step) = step {
                    step.failpoint("retry");
                }
                if attempt >= policy.retries {
                    return Err(ExecError::LockNotGranted {
                        sql,
                        attempts: attempt + 1,
                    });
                }
                tokio::time::sleep(policy.pause(attempt)).await;
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
    let outcome = attempt_alone(client, statement, policy, long_timeout).await;
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
        match client.batch_execute(&statement.sql).await {
            Ok(()) => return Ok(true),
            Err(e) if is_lock_timeout(&e) && attempt < policy.retries => {
                tokio::time::sleep(policy.pause(attempt)).await;
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
    let parsed = pg_query::parse(sql).ok()?;
    let raw = parsed.protobuf.stmts.first()?;
    let Some(pg_query::NodeEnum::IndexStmt(index)) = raw.stmt.as_ref()?.node.as_ref() else {
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
