//! Shadow databases: throwaway databases on the shadow server, created per use and always
//! dropped afterwards: on success, on error (`cleanup_all` after every command) and on
//! Ctrl-C (the command future is dropped, then `cleanup_all` runs).

use super::{ConnInfo, PgError};
use crate::model::quote_ident;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

static LIVE: Mutex<Vec<(ConnInfo, String)>> = Mutex::new(Vec::new());
static COUNTER: AtomicU32 = AtomicU32::new(0);
pub const PREFIX: &str = "strata_shadow_";

/// A database created for one use. Call [`ShadowDb::drop_now`] when done; anything left
/// behind by an error or an interruption is dropped by [`cleanup_all`].
#[derive(Debug)]
pub struct ShadowDb {
    admin: ConnInfo,
    pub name: String,
    pub conninfo: ConnInfo,
}

impl ShadowDb {
    /// Creates an empty database (from template0) on the server `admin` points at.
    pub async fn create(admin: &ConnInfo, purpose: &str) -> Result<ShadowDb, PgError> {
        let name = format!(
            "{PREFIX}{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            purpose
        );
        let client = admin.connect().await?;
        sweep_orphans(&client).await;
        LIVE.lock().unwrap().push((admin.clone(), name.clone()));
        client
            .batch_execute(&format!(
                "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'",
                quote_ident(&name)
            ))
            .await
            .map_err(PgError::query(format!("creating shadow database {name}")))?;
        Ok(ShadowDb {
            conninfo: admin.with_dbname(&name),
            admin: admin.clone(),
            name,
        })
    }

    pub async fn drop_now(self) -> Result<(), PgError> {
        drop_database(&self.admin, &self.name).await?;
        LIVE.lock().unwrap().retain(|(_, n)| n != &self.name);
        Ok(())
    }
}

/// Drops every shadow database this process created and has not dropped yet.
pub async fn cleanup_all() {
    let live: Vec<_> = std::mem::take(&mut *LIVE.lock().unwrap());
    for (admin, name) in live {
        let _ = drop_database(&admin, &name).await;
    }
}

async fn drop_database(admin: &ConnInfo, name: &str) -> Result<(), PgError> {
    let client = admin.connect().await?;
    client
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(name)
        ))
        .await
        .map_err(PgError::query(format!("dropping shadow database {name}")))
}

/// Drops shadow databases left by strata processes that no longer exist (killed with
/// SIGKILL, say). Only databases of processes on this machine can be judged, so only
/// servers reached through a Unix socket or localhost are swept; failures are ignored.
async fn sweep_orphans(client: &tokio_postgres::Client) {
    let Ok(rows) = client
        .query(
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1)",
            &[&PREFIX],
        )
        .await
    else {
        return;
    };
    for row in rows {
        let name: String = row.get(0);
        let pid = name[PREFIX.len()..]
            .split('_')
            .next()
            .and_then(|p| p.parse::<i32>().ok());
        let Some(pid) = pid else { continue };
        let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
        if !alive {
            let _ = client
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    quote_ident(&name)
                ))
                .await;
        }
    }
}
