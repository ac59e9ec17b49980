//! Shadow databases: throwaway databases on the shadow server, created per use and always
//! dropped afterwards: on success, on error (`cleanup_all` after every command) and on
//! SIGINT/SIGTERM (the command future is dropped, then `cleanup_all` runs).
//!
//! A shadow server may be shared by many machines, containers and processes. Names carry a
//! random part, so they never collide; each database carries an ownership record (its
//! `COMMENT`: the process's host identity, pid and start time), so that a later run sweeps
//! only what a dead process *of this host* left behind (killed with SIGKILL, say). A
//! database without a record, or with another host's, is never dropped.

use super::{ConnInfo, PgError};
use crate::failpoint;
use crate::model::{quote_ident, quote_literal};
use std::sync::Mutex;

static LIVE: Mutex<Vec<(ConnInfo, String)>> = Mutex::new(Vec::new());
/// Held (shared) while a database is being created; `cleanup_all` takes it exclusively, so
/// that it never runs while a CREATE DATABASE it would have to undo is still under way.
static CREATING: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());
pub const PREFIX: &str = "strata_shadow_";
/// How an ownership record starts; the rest is JSON ([`Owner`]).
const RECORD_TAG: &str = "strata shadow database ";

/// A database created for one use. Call [`ShadowDb::drop_now`] when done; anything left
/// behind by an error or an interruption is dropped by [`cleanup_all`].
#[derive(Debug)]
pub struct ShadowDb {
    admin: ConnInfo,
    pub name: String,
    pub conninfo: ConnInfo,
}

impl ShadowDb {
    /// Creates an empty database (from template0) on the server `admin` points at, with this
    /// process's ownership record.
    pub async fn create(admin: &ConnInfo, purpose: &str) -> Result<ShadowDb, PgError> {
        let name = format!("{PREFIX}{}_{purpose}", random_hex(6)?);
        let client = admin.connect().await?;
        sweep_orphans(&client).await;
        // A task of its own: an interruption drops the command's future, but must not leave
        // a CREATE DATABASE running on the server that cleanup_all cannot see finish.
        let task = {
            let name = name.clone();
            let admin = admin.clone();
            tokio::spawn(async move {
                let _creating = CREATING.read().await;
                LIVE.lock().unwrap().push((admin, name.clone()));
                create_owned(&client, &name).await
            })
        };
        // The task is never aborted, so it fails only by panicking: pass that on.
        task.await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;
        failpoint::pause("shadow-created").await;
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

async fn create_owned(client: &tokio_postgres::Client, name: &str) -> Result<(), PgError> {
    let context = || format!("creating shadow database {name}");
    client
        .batch_execute(&format!(
            "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'",
            quote_ident(name)
        ))
        .await
        .map_err(PgError::query(context()))?;
    let record = format!("{RECORD_TAG}{}", Owner::current().to_json());
    client
        .batch_execute(&format!(
            "COMMENT ON DATABASE {} IS {}",
            quote_ident(name),
            quote_literal(&record)
        ))
        .await
        .map_err(PgError::query(context()))
}

/// Drops every shadow database this process created and has not dropped yet.
pub async fn cleanup_all() {
    let _no_creation_under_way = CREATING.write().await;
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

/// Drops the shadow databases whose ownership record names a process of this host that is
/// gone (its pid is free, or taken by a process started at another time). Failures are
/// ignored: sweeping is housekeeping.
async fn sweep_orphans(client: &tokio_postgres::Client) {
    let Ok(rows) = client
        .query(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database \
             WHERE starts_with(datname, $1)",
            &[&PREFIX],
        )
        .await
    else {
        return;
    };
    let here = Owner::current();
    for row in rows {
        let name: String = row.get(0);
        let comment: Option<String> = row.get(1);
        let Some(owner) = comment.as_deref().and_then(Owner::from_record) else {
            continue;
        };
        if here.may_sweep(&owner) {
            let _ = client
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    quote_ident(&name)
                ))
                .await;
        }
    }
}

/// Who made a shadow database: the host (which kernel boot and which pid namespace, where a
/// pid means something), the process id and the process's start time (to tell pid reuse).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Owner {
    /// `<boot id>/<pid namespace>`; empty when it cannot be read (then nothing is swept).
    pub host: String,
    /// The host's name, for people reading the comment.
    pub hostname: String,
    pub pid: u32,
    /// Start time of the process in clock ticks since boot (/proc/<pid>/stat field 22).
    pub start: u64,
}

impl Owner {
    /// This process. `STRATA_TEST_OWNER_HOST` / `STRATA_TEST_OWNER_PID` stand in for the host
    /// identity and pid in tests (another machine's run, a pid shared across containers).
    pub fn current() -> Owner {
        let pid = std::process::id();
        let test_pid = std::env::var("STRATA_TEST_OWNER_PID")
            .ok()
            .and_then(|p| p.parse().ok());
        Owner {
            host: std::env::var("STRATA_TEST_OWNER_HOST").unwrap_or_else(|_| host_identity()),
            hostname: read_trimmed("/proc/sys/kernel/hostname").unwrap_or_default(),
            pid: test_pid.unwrap_or(pid),
            start: test_pid
                .map_or_else(|| start_time(pid), start_time)
                .unwrap_or(0),
        }
    }

    fn to_json(&self) -> String {
        serde_json::to_string(self).expect("serialisable")
    }

    /// The owner an ownership record names; `None` for any other comment.
    pub fn from_record(comment: &str) -> Option<Owner> {
        serde_json::from_str(comment.strip_prefix(RECORD_TAG)?).ok()
    }

    /// Whether `other`'s databases are left-overs that `self` may drop: same host, and the
    /// process is gone (a live process with the same pid but another start time is a new one).
    pub fn may_sweep(&self, other: &Owner) -> bool {
        if self.host.is_empty() || self.host != other.host || other.start == 0 {
            return false;
        }
        start_time(other.pid) != Some(other.start)
    }
}

/// The kernel boot and pid namespace this process lives in: a pid identifies a process only
/// within both. Two containers on one kernel share the boot id but not the namespace;
/// two machines never share a boot id.
fn host_identity() -> String {
    let boot = read_trimmed("/proc/sys/kernel/random/boot_id");
    let pid_ns = std::fs::read_link("/proc/self/ns/pid")
        .ok()
        .map(|p| p.to_string_lossy().into_owned());
    match (boot, pid_ns) {
        (Some(boot), Some(ns)) => format!("{boot}/{ns}"),
        _ => String::new(),
    }
}

/// A process's start time in clock ticks since boot, `None` when no such process exists.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces; field 22 is the
    // 20th after it.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn random_hex(bytes: usize) -> Result<String, PgError> {
    use std::io::Read;
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| PgError::Embedded(format!("cannot read /dev/urandom: {e}")))?;
    Ok(hex::encode(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn here() -> Owner {
        Owner {
            host: "boot/pid:[1]".into(),
            hostname: "h".into(),
            pid: std::process::id(),
            start: start_time(std::process::id()).unwrap(),
        }
    }

    #[test]
    fn a_live_process_is_not_swept_and_a_reused_pid_is() {
        let me = here();
        assert!(!me.may_sweep(&me));
        let reused = Owner {
            start: me.start + 1,
            ..me.clone()
        };
        assert!(me.may_sweep(&reused));
    }

    #[test]
    fn another_host_or_an_unknown_one_is_never_swept() {
        let me = here();
        let dead_pid = u32::MAX - 1;
        let elsewhere = Owner {
            host: "other-boot/pid:[1]".into(),
            pid: dead_pid,
            ..me.clone()
        };
        assert!(!me.may_sweep(&elsewhere));
        let unknown_here = Owner {
            host: String::new(),
            ..me.clone()
        };
        assert!(!unknown_here.may_sweep(&Owner {
            host: String::new(),
            pid: dead_pid,
            ..me.clone()
        }));
        let same_host_dead = Owner {
            pid: dead_pid,
            ..me.clone()
        };
        assert!(me.may_sweep(&same_host_dead));
    }

    #[test]
    fn records_round_trip_and_other_comments_are_not_records() {
        let me = here();
        let record = format!("{RECORD_TAG}{}", me.to_json());
        assert_eq!(Owner::from_record(&record), Some(me));
        assert_eq!(Owner::from_record("made by hand"), None);
        assert_eq!(Owner::from_record(&format!("{RECORD_TAG}{{}}")), None);
    }
}
