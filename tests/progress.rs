//! Progress people can trust (docs/output.md, "Progress"), on real PostgreSQL: each statement
//! with its duration, lock-timeout retries naming the session that holds the lock, and a
//! heartbeat line while a long step (an index build held up by a writer, a batch backfill held
//! at a failpoint) is under way.

mod common;

use common::project::Project;
use common::{admin_url, TestDb};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn manifest(lock_timeout: &str, retries: u32) -> String {
    format!(
        r#"
[shadow]
url = "env:STRATA_TEST_SHADOW_URL"

[targets.test]
url = "env:STRATA_TEST_TARGET_URL"
lock_timeout = "{lock_timeout}"
retries = {retries}
"#
    )
}

/// A psql session with an open transaction that did `sql`: its pid, and its stdin (write
/// `COMMIT;` to end it; dropping the child's stdin ends the session).
struct Blocker {
    child: Child,
    stdin: Option<ChildStdin>,
    pid: String,
}

impl Blocker {
    fn start(db: &TestDb, sql: &str) -> Blocker {
        // Unique per blocker: the tests of this file run at once on one cluster.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("blocker{}_{n}", std::process::id());
        let mut child = Command::new("psql")
            .args([db.url.as_str(), "-XAtq"])
            .env("PGAPPNAME", &name)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "BEGIN; {sql}").unwrap();
        stdin.flush().unwrap();
        let query = format!(
            "SELECT pid FROM pg_stat_activity WHERE application_name = '{name}' \
             AND state = 'idle in transaction' AND datname = current_database()"
        );
        for _ in 0..200 {
            let pid = db.psql(&query);
            if !pid.is_empty() {
                return Blocker {
                    child,
                    stdin: Some(stdin),
                    pid,
                };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the blocking session did not start");
    }

    fn commit(&mut self) {
        let mut stdin = self.stdin.take().unwrap();
        writeln!(stdin, "COMMIT;").unwrap();
        drop(stdin);
        self.child.wait().unwrap();
    }
}

impl Drop for Blocker {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// strata as `Project::strata` runs it, spawned, with its stderr lines sent to a channel.
fn spawn(p: &Project, args: &[&str], envs: &[(&str, &str)]) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("strata"))
        .arg("-C")
        .arg(&p.root)
        .args(args)
        .env("CI", "true")
        .env_remove("DATABASE_URL")
        .env("STRATA_TEST_SHADOW_URL", admin_url())
        .env("STRATA_TEST_TARGET_URL", &p.db.url)
        .env(common::IDLE_STOP.0, common::IDLE_STOP.1)
        .envs(envs.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Reads lines until one satisfies `wanted`; every line read, in order.
fn wait_for(rx: &mpsc::Receiver<String>, seen: &mut Vec<String>, wanted: impl Fn(&str) -> bool) {
    loop {
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(line) => {
                let found = wanted(&line);
                seen.push(line);
                if found {
                    return;
                }
            }
            Err(_) => panic!("not seen in time; stderr so far:\n{}", seen.join("\n")),
        }
    }
}

#[test]
fn lock_timeout_retries_name_the_blocking_session_and_statements_their_duration() {
    let p = Project::create(
        "strata-progress-",
        &manifest("200ms", 2),
        "CREATE TABLE t (id int);\n",
    );
    p.start();
    p.write("schema/app.sql", "CREATE TABLE t (id int, note text);\n");
    p.commit_all("note");
    p.plan_and_merge();
    let blocker = Blocker::start(&p.db, "SELECT count(*) FROM t;");
    let out = p.strata().arg("run").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("strata::run::lock_timeout"), "{stderr}");
    let retries: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("lock not granted within lock_timeout"))
        .collect();
    assert_eq!(retries.len(), 2, "{stderr}");
    for line in &retries {
        assert!(
            line.contains("ALTER TABLE public.t ADD COLUMN note"),
            "{line}"
        );
        assert!(
            line.contains(&format!("held by pid {} (idle in transaction", blocker.pid)),
            "{line}"
        );
        assert!(line.contains("SELECT count(*) FROM t;"), "{line}");
    }
    assert!(retries[0].contains("attempt 2 in"), "{}", retries[0]);
    assert!(retries[1].contains("attempt 3 in"), "{}", retries[1]);
    drop(blocker);

    // Unblocked: the run completes, each statement with its duration.
    let out = p.strata().arg("run").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("stage expand: ALTER TABLE public.t ADD COLUMN note"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(line.ends_with(" ms)") || line.ends_with(" s)"), "{line}");
}

#[test]
fn an_index_build_held_up_by_a_writer_says_so_while_it_waits() {
    let p = Project::create(
        "strata-progress-",
        &manifest("60s", 0),
        "CREATE TABLE t (id int, kind text);\n",
    );
    p.start();
    p.db.psql("INSERT INTO t SELECT g, 'k' || g % 10 FROM generate_series(1, 1000) g");
    p.write(
        "schema/app.sql",
        "CREATE TABLE t (id int, kind text);\nCREATE INDEX t_kind_idx ON t (kind);\n",
    );
    p.commit_all("index");
    p.plan_and_merge();
    assert!(
        p.pending().contains("CREATE INDEX CONCURRENTLY"),
        "{}",
        p.pending()
    );
    let mut blocker = Blocker::start(&p.db, "INSERT INTO t VALUES (0, 'x');");
    let (mut child, rx) = spawn(&p, &["run"], &[("STRATA_PROGRESS_EVERY", "1s")]);
    let mut seen = Vec::new();
    wait_for(&rx, &mut seen, |l| {
        l.starts_with("still running: stage expand: CREATE INDEX CONCURRENTLY t_kind_idx")
            && l.contains("index build: waiting for writers before build")
            && l.contains("waiting for a lock")
    });
    // A line at every beat: a second one while it still waits.
    wait_for(&rx, &mut seen, |l| {
        l.starts_with("still running: stage expand:")
    });
    blocker.commit();
    assert!(child.wait().unwrap().success(), "{}", seen.join("\n"));
    let rest: Vec<String> = rx.iter().collect();
    assert!(
        rest.iter()
            .any(|l| l.starts_with("stage expand: CREATE INDEX CONCURRENTLY t_kind_idx")),
        "{rest:?}"
    );
    assert_eq!(
        p.db.psql("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_kind_idx'::regclass"),
        "t"
    );
}

#[test]
fn a_batch_backfill_shows_rows_done_of_the_estimate() {
    let p = Project::create(
        "strata-progress-",
        &manifest("1s", 0),
        "CREATE TABLE people (id int PRIMARY KEY, name text, upper_name text);\n",
    );
    p.start();
    p.db.psql(
        "INSERT INTO people SELECT g, 'p' || g FROM generate_series(1, 5000) g; ANALYZE people;",
    );
    p.write(
        "migrations/0001_backfill.sql",
        "-- strata:batch\nUPDATE people SET upper_name = upper(name) \
         WHERE id IN (SELECT id FROM people WHERE upper_name IS NULL LIMIT 1000);\n",
    );
    let release = p.root.join("release");
    let (mut child, rx) = spawn(
        &p,
        &["migrate", "up"],
        &[
            ("STRATA_PROGRESS_EVERY", "1s"),
            ("STRATA_FAILPOINT", "slow-batch:0001_backfill.sql"),
            ("STRATA_FAILPOINT_RELEASE", release.to_str().unwrap()),
        ],
    );
    let mut seen = Vec::new();
    wait_for(&rx, &mut seen, |l| {
        l.starts_with("still running: applying 0001_backfill.sql (batch)")
            && l.contains("1000 of ~5000 rows (20%)")
    });
    std::fs::write(&release, "").unwrap();
    assert!(child.wait().unwrap().success(), "{}", seen.join("\n"));
    assert_eq!(
        p.db.psql("SELECT count(*) FROM people WHERE upper_name = upper(name)"),
        "5000"
    );
}
