//! The session-level advisory lock that serialises every strata run on a target. It is
//! taken with `pg_try_advisory_lock`, polled, on a dedicated connection: a session blocked
//! in `pg_advisory_lock` waits in the lock manager and can stall a concurrent index build.

use super::{ConnInfo, PgError};
use std::time::{Duration, Instant};

/// The lock key: "strata" in ASCII. Advisory locks are per database, so one key serves
/// every target.
pub const LOCK_KEY: i64 = 0x7374_7261_7461;
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// A connection that holds the target's lock; the only way strata gets a connection that
/// may change a target. The lock goes when the guard (and its connection) is dropped.
pub struct LockedConnection {
    client: tokio_postgres::Client,
}

impl LockedConnection {
    /// Polls until the lock is granted or `wait` has passed; `on_wait` is called once when
    /// the lock is busy so the caller can tell the user.
    pub async fn acquire(
        target: &ConnInfo,
        wait: Duration,
        on_wait: impl FnOnce(),
    ) -> Result<LockedConnection, PgError> {
        let client = target.connect().await?;
        let started = Instant::now();
        let mut on_wait = Some(on_wait);
        loop {
            let row = client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY])
                .await
                .map_err(PgError::query("taking the strata advisory lock"))?;
            if row.get::<_, bool>(0) {
                return Ok(LockedConnection { client });
            }
            if started.elapsed() >= wait {
                return Err(PgError::Locked {
                    database: target.dbname().to_string(),
                    waited_secs: wait.as_secs(),
                });
            }
            if let Some(f) = on_wait.take() {
                f();
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    pub fn client(&self) -> &tokio_postgres::Client {
        &self.client
    }

    pub fn client_mut(&mut self) -> &mut tokio_postgres::Client {
        &mut self.client
    }
}
