//! What strata remembers on a target, in its own schema `strata`: the snapshot and
//! fingerprint stored by the last run (the reference for drift), the runs, and the steps of
//! each plan that completed (so a run that died resumes where it stopped).

use crate::pg::PgError;
use tokio_postgres::GenericClient;

pub const SCHEMA: &str = "strata";

const DDL: &str = "
CREATE SCHEMA IF NOT EXISTS strata;
CREATE TABLE IF NOT EXISTS strata.snapshots (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fingerprint text NOT NULL,
    snapshot    jsonb NOT NULL,
    plan_id     text,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS strata.runs (
    plan_id             text PRIMARY KEY,
    source_fingerprint  text NOT NULL,
    desired_fingerprint text NOT NULL,
    started_at          timestamptz NOT NULL DEFAULT now(),
    finished_at         timestamptz
);
CREATE TABLE IF NOT EXISTS strata.steps (
    plan_id           text NOT NULL,
    step              text NOT NULL,
    fingerprint_after text,
    done_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_id, step)
);
";

/// One resumable unit of a plan: `<stage>#<n>` for a group of statements, `<stage>` for a
/// migrations or hook stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub plan_id: String,
    pub name: String,
}

pub async fn ensure_tables(client: &impl GenericClient) -> Result<(), PgError> {
    client
        .batch_execute(DDL)
        .await
        .map_err(PgError::query("creating strata's history tables"))
}

pub async fn record_step(
    client: &impl GenericClient,
    step: &Step,
    fingerprint_after: Option<&str>,
) -> Result<(), PgError> {
    client
        .execute(
            "INSERT INTO strata.steps (plan_id, step, fingerprint_after) VALUES ($1, $2, $3)
             ON CONFLICT (plan_id, step) DO UPDATE SET fingerprint_after = EXCLUDED.fingerprint_after",
            &[&step.plan_id, &step.name, &fingerprint_after],
        )
        .await
        .map_err(PgError::query("recording progress"))?;
    Ok(())
}

/// Steps of `plan_id` already done, in the order they were done.
pub async fn completed_steps(
    client: &impl GenericClient,
    plan_id: &str,
) -> Result<Vec<(String, Option<String>)>, PgError> {
    if !has_tables(client).await? {
        return Ok(Vec::new());
    }
    let rows = client
        .query(
            "SELECT step, fingerprint_after FROM strata.steps WHERE plan_id = $1 ORDER BY done_at, step",
            &[&plan_id],
        )
        .await
        .map_err(PgError::query("reading progress"))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

pub async fn start_run(
    client: &impl GenericClient,
    plan_id: &str,
    source: &str,
    desired: &str,
) -> Result<(), PgError> {
    client
        .execute(
            "INSERT INTO strata.runs (plan_id, source_fingerprint, desired_fingerprint)
             VALUES ($1, $2, $3) ON CONFLICT (plan_id) DO NOTHING",
            &[&plan_id, &source, &desired],
        )
        .await
        .map_err(PgError::query("recording the run"))?;
    Ok(())
}

pub async fn finish_run(client: &impl GenericClient, plan_id: &str) -> Result<(), PgError> {
    client
        .execute(
            "UPDATE strata.runs SET finished_at = now() WHERE plan_id = $1",
            &[&plan_id],
        )
        .await
        .map_err(PgError::query("recording the end of the run"))?;
    Ok(())
}

/// Whether the run of `plan_id` already finished.
pub async fn run_finished(client: &impl GenericClient, plan_id: &str) -> Result<bool, PgError> {
    if !has_tables(client).await? {
        return Ok(false);
    }
    let row = client
        .query_opt(
            "SELECT finished_at IS NOT NULL FROM strata.runs WHERE plan_id = $1",
            &[&plan_id],
        )
        .await
        .map_err(PgError::query("reading runs"))?;
    Ok(row.map(|r| r.get(0)).unwrap_or(false))
}

/// The snapshot stored by the last run: `(fingerprint, model as JSON, when)`.
pub async fn last_snapshot(
    client: &impl GenericClient,
) -> Result<Option<(String, serde_json::Value, String)>, PgError> {
    if !has_tables(client).await? {
        return Ok(None);
    }
    let row = client
        .query_opt(
            "SELECT fingerprint, snapshot, to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
             FROM strata.snapshots ORDER BY id DESC LIMIT 1",
            &[],
        )
        .await
        .map_err(PgError::query("reading the last snapshot"))?;
    Ok(row.map(|r| (r.get(0), r.get(1), r.get(2))))
}

pub async fn store_snapshot(
    client: &impl GenericClient,
    fingerprint: &str,
    snapshot: &serde_json::Value,
    plan_id: Option<&str>,
) -> Result<(), PgError> {
    client
        .execute(
            "INSERT INTO strata.snapshots (fingerprint, snapshot, plan_id) VALUES ($1, $2, $3)",
            &[&fingerprint, snapshot, &plan_id],
        )
        .await
        .map_err(PgError::query("storing the snapshot"))?;
    Ok(())
}

async fn has_tables(client: &impl GenericClient) -> Result<bool, PgError> {
    let row = client
        .query_one("SELECT to_regclass('strata.steps') IS NOT NULL AND to_regclass('strata.snapshots') IS NOT NULL", &[])
        .await
        .map_err(PgError::query("looking for strata's history tables"))?;
    Ok(row.get(0))
}
