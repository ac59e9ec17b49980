//! A schema-only clone of a live database into a shadow database: `pg_dump --schema-only`
//! piped into `psql` (ON_ERROR_STOP, one transaction). pg_dump copies even what strata does
//! not model, so the simulation runs on a faithful copy.
//!
//! Privileges are kept (they are part of the model); owners only when the manifest manages
//! owners (`[schema] owners`). Roles the dump names must exist on the shadow server: those
//! missing there are created `NOLOGIN` first (roles are cluster-wide; a NOLOGIN role with no
//! privileges of its own grants nothing). Passwords travel in the environment
//! (`ConnInfo::libpq_env`), never on a command line.

use super::embedded::Binaries;
use super::shadow::ShadowDb;
use super::{ConnInfo, PgError};
use crate::model::quote_ident;
use std::path::PathBuf;
use std::process::Stdio;

/// A libpq program (pg_dump, psql) from the embedded cluster's installation when there is
/// one, so versions match; else from PATH.
pub fn program(name: &str) -> PathBuf {
    Binaries::locate()
        .ok()
        .map(|b| b.program(name))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from(name))
}

/// Creates a shadow database on `admin`'s server holding the schema of `source`.
pub async fn clone_schema(
    source: &ConnInfo,
    admin: &ConnInfo,
    purpose: &str,
    owners: bool,
) -> Result<ShadowDb, PgError> {
    create_missing_roles(source, admin).await?;
    let shadow = ShadowDb::create(admin, purpose).await?;
    match dump_into(source, &shadow.conninfo, owners).await {
        Ok(()) => Ok(shadow),
        Err(e) => {
            let _ = shadow.drop_now().await;
            Err(e)
        }
    }
}

async fn create_missing_roles(source: &ConnInfo, admin: &ConnInfo) -> Result<(), PgError> {
    const ROLES: &str = "SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY 1";
    let wanted = source.connect().await?;
    let wanted: Vec<String> = wanted
        .query(ROLES, &[])
        .await
        .map_err(PgError::query("listing the roles of the source database"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let shadow = admin.connect().await?;
    let present: std::collections::BTreeSet<String> = shadow
        .query(ROLES, &[])
        .await
        .map_err(PgError::query("listing the roles of the shadow server"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for role in wanted.iter().filter(|r| !present.contains(*r)) {
        shadow
            .batch_execute(&format!("CREATE ROLE {} NOLOGIN", quote_ident(role)))
            .await
            .map_err(PgError::query(format!(
                "creating role {role} on the shadow server (the schema grants to it)"
            )))?;
    }
    Ok(())
}

async fn dump_into(source: &ConnInfo, target: &ConnInfo, owners: bool) -> Result<(), PgError> {
    let fail = |message: String| PgError::Clone {
        source_db: source.to_string(),
        message,
    };
    let mut dump = tokio::process::Command::new(program("pg_dump"));
    // strata's own schema (history, snapshots) is not part of the schema being simulated.
    dump.args(["--schema-only", "--exclude-schema=strata"]);
    if !owners {
        dump.arg("--no-owner");
    }
    dump.envs(source.libpq_env())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut dump = dump
        .spawn()
        .map_err(|e| fail(format!("cannot run pg_dump: {e}")))?;
    let dump_out: Stdio = dump
        .stdout
        .take()
        .expect("piped stdout")
        .try_into()
        .map_err(|e| fail(format!("pg_dump pipe: {e}")))?;
    let restore = tokio::process::Command::new(program("psql"))
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"])
        .envs(target.libpq_env())
        .stdin(dump_out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| fail(format!("cannot run psql: {e}")))?;
    let (dumped, restored) = tokio::join!(dump.wait_with_output(), restore.wait_with_output());
    let dumped = dumped.map_err(|e| fail(format!("pg_dump: {e}")))?;
    let restored = restored.map_err(|e| fail(format!("psql: {e}")))?;
    if !dumped.status.success() {
        return Err(fail(format!(
            "pg_dump failed: {}",
            String::from_utf8_lossy(&dumped.stderr).trim()
        )));
    }
    if !restored.status.success() {
        return Err(fail(format!(
            "restoring into the shadow database failed: {}",
            String::from_utf8_lossy(&restored.stderr).trim()
        )));
    }
    Ok(())
}
