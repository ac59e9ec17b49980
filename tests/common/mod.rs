//! Test harness: one throwaway PostgreSQL cluster per test binary, one database per test.
//!
//! The cluster lives in a temp directory and is stopped, and the directory removed, when the
//! test process exits (an `atexit` hook) or dies (a watchdog process that outlives it).
//! Missing PostgreSQL binaries fail the test loudly; nothing is skipped.
#![allow(dead_code)]

pub mod project;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use strata::pg::embedded::Cluster;
use strata::pg::ConnInfo;

struct Harness {
    cluster: Cluster,
    base: PathBuf,
}

static HARNESS: OnceLock<Harness> = OnceLock::new();
static DB_COUNTER: AtomicU32 = AtomicU32::new(0);

/// For every strata a test runs: an embedded cluster that a command starts because it needs
/// one stops itself soon after the test (`make test` checks that none is left running).
pub const IDLE_STOP: (&str, &str) = ("STRATA_IDLE_STOP", "5s");

/// Directories the cluster's user (postgres, when tests run as root) can reach.
pub fn reachable_tempdir(prefix: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn harness() -> &'static Harness {
    HARNESS.get_or_init(|| {
        let base = reachable_tempdir("strata-test-cluster-").keep();
        let cluster = Cluster::at(base.clone())
            .unwrap_or_else(|e| panic!("the test suite needs PostgreSQL server binaries: {e:?}"));
        cluster
            .start()
            .unwrap_or_else(|e| panic!("cannot start the test cluster: {e:?}"));
        spawn_watchdog(&base);
        unsafe {
            nix::libc::atexit(stop_cluster_at_exit);
        }
        Harness { cluster, base }
    })
}

extern "C" fn stop_cluster_at_exit() {
    if let Some(h) = HARNESS.get() {
        h.cluster.stop_immediately();
        let _ = std::fs::remove_dir_all(&h.base);
    }
}

/// Stops the cluster if this process dies without running `atexit` (SIGKILL, abort).
fn spawn_watchdog(base: &Path) {
    let pid_file = base.join("cluster/data/postmaster.pid");
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; \
         if [ -f '{pidf}' ]; then kill -QUIT $(head -1 '{pidf}') 2>/dev/null; sleep 1; fi; \
         rm -rf '{base}'",
        pid = std::process::id(),
        pidf = pid_file.display(),
        base = base.display()
    );
    use std::os::unix::process::CommandExt;
    // Deliberately never waited for: it must outlive this process.
    #[allow(clippy::zombie_processes)]
    let _watchdog = std::process::Command::new("sh")
        .args(["-c", &script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .expect("watchdog");
}

/// A fresh, empty database of its own for one test.
pub struct TestDb {
    pub name: String,
    pub conninfo: ConnInfo,
    pub url: String,
}

impl TestDb {
    pub fn new() -> TestDb {
        let h = harness();
        let name = format!(
            "t{}_{}",
            std::process::id(),
            DB_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let admin = h.cluster.url("postgres").unwrap();
        let out = std::process::Command::new("psql")
            .args([admin.as_str(), "-XAtqc", &format!("CREATE DATABASE {name}")])
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "CREATE DATABASE failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = h.cluster.url(&name).unwrap();
        TestDb {
            conninfo: h.cluster.conninfo(&name).unwrap(),
            name,
            url,
        }
    }

    /// Runs SQL through psql (stops at the first error, which fails the test).
    pub fn psql(&self, sql: &str) -> String {
        psql(&self.url, sql)
    }

    /// A new database holding a copy of this one (`CREATE DATABASE ... TEMPLATE`); nothing
    /// may be connected to this one meanwhile.
    pub fn copy(&self) -> TestDb {
        let h = harness();
        let name = format!(
            "t{}_{}",
            std::process::id(),
            DB_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let admin = h.cluster.url("postgres").unwrap();
        let out = std::process::Command::new("psql")
            .args([
                admin.as_str(),
                "-XAtqc",
                &format!("CREATE DATABASE {name} TEMPLATE {}", self.name),
            ])
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "CREATE DATABASE ... TEMPLATE failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        TestDb {
            conninfo: h.cluster.conninfo(&name).unwrap(),
            url: h.cluster.url(&name).unwrap(),
            name,
        }
    }

    /// Drops the database, ending any session still on it.
    pub fn drop_now(&self) {
        let out = std::process::Command::new("psql")
            .args([
                admin_url().as_str(),
                "-XAtqc",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "DROP DATABASE failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        self.conninfo.connect().await.expect("connect")
    }
}

/// Stops the test cluster the way a crash does (`pg_ctl stop -m immediate`: backends killed,
/// no checkpoint; the next start runs crash recovery).
pub fn crash_cluster() {
    harness().cluster.stop_immediately();
}

/// Starts the test cluster again after `crash_cluster`.
pub fn restart_cluster() {
    harness()
        .cluster
        .start()
        .unwrap_or_else(|e| panic!("cannot restart the test cluster: {e:?}"));
}

/// The URL of the test cluster's maintenance database (for shadow databases).
pub fn admin_url() -> String {
    harness().cluster.url("postgres").unwrap()
}

pub fn admin_conninfo() -> ConnInfo {
    harness().cluster.conninfo("postgres").unwrap()
}

/// The test cluster's major version (`STRATA_PG_BINDIR` picks the installation).
pub fn server_major() -> u32 {
    static MAJOR: OnceLock<u32> = OnceLock::new();
    *MAJOR.get_or_init(|| {
        let out = std::process::Command::new("psql")
            .args([admin_url().as_str(), "-XAtqc", "SHOW server_version_num"])
            .output()
            .expect("psql");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<u32>()
            .expect("server_version_num")
            / 10000
    })
}

/// A fixture as the test cluster's major takes it. Lines from `-- pg >= N` or `-- pg < N` to
/// the next such line or `-- end` are kept only on the majors the condition names, so one
/// fixture holds each major's syntax (`NULLS NOT DISTINCT` from 15, `BEGIN ATOMIC` from 14).
pub fn for_server(sql: &str) -> String {
    for_major(sql, server_major())
}

pub fn for_major(sql: &str, major: u32) -> String {
    let mut keep = true;
    let mut out = String::new();
    for line in sql.lines() {
        let marker = line.trim();
        if let Some(n) = marker.strip_prefix("-- pg >= ") {
            keep = major >= n.trim().parse::<u32>().expect("-- pg >= N");
        } else if let Some(n) = marker.strip_prefix("-- pg < ") {
            keep = major < n.trim().parse::<u32>().expect("-- pg < N");
        } else if marker == "-- end" {
            keep = true;
        } else if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A pg_dump that can dump the test cluster, if one is installed. pg_dump refuses servers
/// newer than itself: against such a server (the version matrix's newer majors with Debian's
/// pg_dump 15), tests compare strata's fingerprints only.
pub fn pg_dump() -> Option<PathBuf> {
    strata::pg::clone::find_pg_dump(server_major()).map(|d| d.path)
}

/// Runs SQL through psql on `url`: its output, trimmed; the first error fails the test.
pub fn psql(url: &str, sql: &str) -> String {
    let out = std::process::Command::new("psql")
        .args([url, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "psql failed on {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// How two models differ, as a unified diff of their JSON with `labels` naming the sides;
/// `None` when their JSON and their fingerprints are the same.
pub fn model_difference(
    a: &strata::model::Schema,
    b: &strata::model::Schema,
    labels: (&str, &str),
) -> Option<String> {
    let (ja, jb) = (
        serde_json::to_string_pretty(a).unwrap(),
        serde_json::to_string_pretty(b).unwrap(),
    );
    if ja == jb && a.fingerprint() == b.fingerprint() {
        return None;
    }
    Some(
        similar::TextDiff::from_lines(&ja, &jb)
            .unified_diff()
            .header(labels.0, labels.1)
            .to_string(),
    )
}
