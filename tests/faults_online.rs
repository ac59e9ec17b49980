//! Faults in the online forms of issue 17 (tests/common/faults.rs drives them): strata is
//! stopped at every named point of the run, once by SIGKILL and once by a crash of the server
//! (`pg_ctl stop -m immediate`), then run again until it succeeds. At every stop the deployed
//! code's objects (views, functions) are there with their rows; after the re-run the target
//! has the plan's schema, no drift, no invalid index, and every row once with its value.
//! Covered: an enum rebuilt (value removed: renamed, created, each column moved, the old one
//! dropped), a unique constraint built `CONCURRENTLY` in expand and attached `USING INDEX` in
//! contract (also killed and crashed in the middle of the build), a partition created `LIKE`
//! its parent and attached; a fleet run killed between members, and a member's server crashing.

mod common;
#[allow(dead_code)]
#[path = "common/faults.rs"]
mod faults;

use faults::{cluster, every_fault, points, small, step_with, steps, text, Case, MANIFEST};
use std::io::Write;
use std::process::Stdio;
use strata::plan::Plan;

const ENUM_V1: &str = "
CREATE TYPE mood AS ENUM ('happy', 'sad', 'meh');
CREATE TABLE items (id bigint PRIMARY KEY, mood mood NOT NULL DEFAULT 'happy', was mood);
CREATE TABLE notes (id bigint PRIMARY KEY, m mood);
CREATE VIEW happy_items AS SELECT id, mood FROM items WHERE mood = 'happy';
CREATE FUNCTION mood_of(p bigint) RETURNS text LANGUAGE sql STABLE
AS $$ SELECT mood::text FROM items WHERE id = p $$;
";

const ENUM_ROWS: &str = "
INSERT INTO items SELECT g, CASE WHEN g % 2 = 1 THEN 'happy' ELSE 'sad' END::mood,
  CASE WHEN g % 2 = 1 THEN 'sad'::mood END FROM generate_series(1, 300) g;
INSERT INTO notes SELECT g, 'happy' FROM generate_series(1, 100) g;
";

/// The deployed code's reads, through the view and the function, and each column's values.
const ENUM_READ: &str = "SELECT (SELECT count(*) FROM happy_items) || ',' || mood_of(1) || ',' \
    || mood_of(2) || ',' || (SELECT count(*) FROM items WHERE mood::text = 'sad') || ',' \
    || (SELECT count(*) FROM items WHERE was::text = 'sad') || ',' \
    || (SELECT count(*) FROM notes WHERE m::text = 'happy') || ',' || (SELECT count(*) FROM items)";

const ENUM_SEEN: &str = "150,happy,sad,150,150,100,300";

#[test]
fn faults_at_every_step_of_an_enum_rebuild_converge_with_its_dependents_kept() {
    let _cluster = cluster();
    let v2 = ENUM_V1.replace("'happy', 'sad', 'meh'", "'happy', 'sad'");
    let p = small(MANIFEST, ENUM_V1, ENUM_ROWS, &v2);
    let plan = Plan::parse("pending.sql", &p.pending()).unwrap();
    let steps = steps(&plan);
    // The rebuild's steps: the rename, the new type, each column's move, the drop.
    step_with(&steps, &["RENAME TO mood__strata_old"]);
    step_with(
        &steps,
        &["CREATE TYPE public.mood AS ENUM ('happy', 'sad')"],
    );
    step_with(&steps, &["DROP TYPE public.mood__strata_old"]);
    for column in ["items", "notes"] {
        assert!(
            steps.iter().any(|(_, _, sql)| sql.contains(column)),
            "no step moves {column}: {steps:#?}"
        );
    }
    let points = points(&steps);
    let outcomes = every_fault(
        &p,
        &plan,
        &points,
        |case, point| assert_eq!(case.db.psql(ENUM_READ), ENUM_SEEN, "{point}"),
        |case, point| {
            assert_eq!(case.db.psql(ENUM_READ), ENUM_SEEN, "{point}");
            assert_eq!(
                case.db.psql(
                    "SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum \
                     WHERE enumtypid = 'mood'::regtype"
                ),
                "happy,sad",
                "{point}"
            );
        },
    );
    eprintln!("{} cases:\n{}", outcomes.len(), outcomes.join("\n"));
}

const UNIQUE_V1: &str = "CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);\n";
const UNIQUE_V2: &str = "CREATE TABLE accounts (id bigint PRIMARY KEY, \
    email text NOT NULL CONSTRAINT accounts_email_key UNIQUE);\n";
const UNIQUE_ROWS: &str =
    "INSERT INTO accounts SELECT g, 'a' || g || '@example.com' FROM generate_series(1, 2000) g";

/// After the run: the constraint, on the one index built for it.
fn assert_unique_attached(case: &Case, point: &str) {
    assert_eq!(
        case.db.psql(
            "SELECT c.contype::text || ',' || i.indisvalid::text || ',' \
             || (SELECT count(*) FROM pg_index WHERE indrelid = 'accounts'::regclass) \
             FROM pg_constraint c JOIN pg_index i ON i.indexrelid = c.conindid \
             WHERE c.conname = 'accounts_email_key'"
        ),
        "u,true,2",
        "{point}"
    );
    let refused = std::process::Command::new("psql")
        .args([
            case.db.url.as_str(),
            "-Xqc",
            "INSERT INTO accounts VALUES (5000, 'a1@example.com')",
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("accounts_email_key"),
        "{point}: a duplicate was not refused: {}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

fn unique_plan() -> (common::project::Project, Plan) {
    let p = small(MANIFEST, UNIQUE_V1, UNIQUE_ROWS, UNIQUE_V2);
    let plan = Plan::parse("pending.sql", &p.pending()).unwrap();
    let steps = steps(&plan);
    let build = step_with(
        &steps,
        &["CREATE UNIQUE INDEX CONCURRENTLY accounts_email_key"],
    );
    let attach = step_with(&steps, &["USING INDEX accounts_email_key"]);
    assert!(
        build.starts_with("expand") && attach.starts_with("contract"),
        "{build}, {attach}"
    );
    (p, plan)
}

#[test]
fn faults_around_a_unique_index_built_concurrently_then_attached_converge() {
    let _cluster = cluster();
    let (p, plan) = unique_plan();
    let points = points(&steps(&plan));
    let outcomes = every_fault(
        &p,
        &plan,
        &points,
        |case, point| {
            assert_eq!(
                case.db.psql("SELECT count(DISTINCT email) FROM accounts"),
                "2000",
                "{point}"
            )
        },
        assert_unique_attached,
    );
    eprintln!("{} cases:\n{}", outcomes.len(), outcomes.join("\n"));
}

/// A psql session left in a transaction that ran `sql` (it starts with `BEGIN`), named `app`
/// in `pg_stat_activity`: it holds its locks and its snapshot until released or dropped.
struct OpenTransaction(std::process::Child);

impl OpenTransaction {
    /// Returns once the session is idle in its transaction (what it read is locked).
    fn begin(url: &str, app: &str, sql: &str) -> OpenTransaction {
        let mut child = std::process::Command::new("psql")
            .args([url, "-Xq", "-v", "ON_ERROR_STOP=1"])
            .env("PGAPPNAME", app)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        writeln!(child.stdin.as_mut().unwrap(), "{sql}").unwrap();
        let started = std::time::Instant::now();
        while common::psql(
            url,
            &format!(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = '{app}' \
                 AND state = 'idle in transaction'"
            ),
        ) != "1"
        {
            assert!(started.elapsed().as_secs() < 60, "{app} never held");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        OpenTransaction(child)
    }

    fn release(mut self) {
        let _ = writeln!(self.0.stdin.as_mut().unwrap(), "COMMIT;");
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

impl Drop for OpenTransaction {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A session holding a snapshot (a repeatable-read transaction that read the table): a
/// concurrent index build waits for it once the index is built and before it is valid.
fn old_snapshot(case: &Case) -> OpenTransaction {
    OpenTransaction::begin(
        &case.db.url,
        "old-snapshot",
        "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM accounts;",
    )
}

/// The pid of the session building `accounts_email_key`, once the index exists (invalid)
/// and the build waits for the old snapshot.
fn build_waiting(case: &Case) -> String {
    let started = std::time::Instant::now();
    loop {
        let pid = case.db.psql(
            "SELECT a.pid FROM pg_stat_activity a WHERE a.query LIKE 'CREATE UNIQUE INDEX CONCURRENTLY%' \
             AND a.wait_event_type = 'Lock' AND EXISTS (SELECT 1 FROM pg_index \
             WHERE indexrelid = to_regclass('accounts_email_key') AND NOT indisvalid)",
        );
        if !pid.is_empty() {
            return pid;
        }
        assert!(
            started.elapsed().as_secs() < 60,
            "the build never waited: {}",
            case.db
                .psql("SELECT string_agg(query || ' ' || coalesce(wait_event, ''), '; ') FROM pg_stat_activity")
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_unique_index_build_killed_or_crashed_midway_is_rebuilt_not_drift() {
    let _cluster = cluster();
    let (p, plan) = unique_plan();
    for crash in [false, true] {
        let case = Case::of(&p);
        let snapshot = old_snapshot(&case);
        let mut run = case
            .cli(&["run", "--allow-destructive", "--no-rehearsal"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let builder = build_waiting(&case);
        if crash {
            common::crash_cluster();
            let _ = run.kill();
            run.wait().unwrap();
            snapshot.release();
            common::restart_cluster();
        } else {
            // SIGKILL: strata is gone; its session ends when the server notices (here at
            // once), which cancels the build and leaves the index invalid.
            let _ = run.kill();
            run.wait().unwrap();
            assert_eq!(
                case.db
                    .psql(&format!("SELECT pg_terminate_backend({builder})")),
                "t"
            );
            snapshot.release();
        }
        let what = if crash { "crash" } else { "kill" };
        assert_eq!(
            case.db.psql(
                "SELECT indisvalid FROM pg_index WHERE indexrelid = 'accounts_email_key'::regclass"
            ),
            "f",
            "{what}: the build should have left the index invalid"
        );
        case.assert_in_progress(what, true);
        let out = case.run();
        assert!(out.status.success(), "{what}: {}", text(&out));
        assert!(
            text(&out).contains(
                "index public.accounts_email_key was left invalid: dropped it, building it again"
            ),
            "{what}: {}",
            text(&out)
        );
        case.assert_converged(what, &plan);
        assert_unique_attached(&case, what);
        case.db.drop_now();
    }
}

const PARTITION_V1: &str = "
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, what text DEFAULT 'e',
  PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE VIEW recent AS SELECT id, at FROM events WHERE at >= '2025-07-01';
";

const PARTITION_ROWS: &str = "INSERT INTO events (id, at) \
    SELECT g, date '2025-01-01' + (g % 365) FROM generate_series(1, 730) g";

/// The deployed code: the rows through the parent and the view, and a write to the parent.
const PARTITION_READ: &str = "BEGIN; INSERT INTO events (id, at) VALUES (100000, '2025-03-01'); \
    SELECT (SELECT count(*) FROM events) || ',' || (SELECT count(*) FROM recent); ROLLBACK";

#[test]
fn faults_between_a_partition_created_like_its_parent_and_its_attach_converge() {
    let _cluster = cluster();
    let v2 = format!(
        "{PARTITION_V1}CREATE TABLE events_2026 PARTITION OF events \
         FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');\n"
    );
    let p = small(MANIFEST, PARTITION_V1, PARTITION_ROWS, &v2);
    let plan = Plan::parse("pending.sql", &p.pending()).unwrap();
    let steps = steps(&plan);
    // One transaction: no stop can fall between the table and its attach.
    let created = step_with(&steps, &["LIKE public.events"]);
    let attached = step_with(&steps, &["ATTACH PARTITION public.events_2026"]);
    assert_eq!(created, attached, "{steps:#?}");
    let recent = (1..=730).filter(|g| g % 365 >= 181).count().to_string();
    let seen = format!("731,{recent}");
    let outcomes = every_fault(
        &p,
        &plan,
        &points(&steps),
        |case, point| assert_eq!(case.db.psql(PARTITION_READ), seen, "{point}"),
        |case, point| {
            assert_eq!(case.db.psql(PARTITION_READ), seen, "{point}");
            assert_eq!(
                case.db.psql(
                    "BEGIN; INSERT INTO events (id, at) VALUES (1, '2026-02-01'); \
                     SELECT tableoid::regclass::text FROM events WHERE at = '2026-02-01'; ROLLBACK"
                ),
                "events_2026",
                "{point}"
            );
        },
    );
    eprintln!("{} cases:\n{}", outcomes.len(), outcomes.join("\n"));
}

/// A fleet of `n` members, each a database `{prefix}{i}` on `servers[i]` with V1 applied by
/// strata (its history holds the baseline run) and rows; the group's URL file written, V2
/// and a migration with an effect committed, the group planned and merged.
mod fleet {
    use super::common;
    use common::project::{git, Project};
    pub use common::psql;
    use strata::pg::embedded::Cluster;

    pub const V1: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n\
        CREATE TABLE archive (id bigint PRIMARY KEY, legacy text);\n";
    /// expand: the new column and the effects table; data: the migration; contract: the
    /// archive's column dropped.
    pub const V2: &str =
        "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text);\n\
        CREATE TABLE archive (id bigint PRIMARY KEY);\n\
        CREATE TABLE effects (migration text NOT NULL, member text NOT NULL);\n";
    const MIGRATION: &str =
        "INSERT INTO effects SELECT '0001', current_database();\nUPDATE users SET name = email;\n";

    /// A server of the fleet: the harness's cluster, or one of the test's own.
    pub enum Server {
        Harness,
        Own {
            cluster: Cluster,
            _dir: tempfile::TempDir,
        },
    }

    impl Server {
        pub fn own() -> Server {
            let dir = common::reachable_tempdir("strata-faults-cluster-");
            let cluster = Cluster::at(dir.path().to_path_buf()).expect("cluster");
            cluster.start().expect("start");
            Server::Own { cluster, _dir: dir }
        }

        pub fn url(&self, db: &str) -> String {
            match self {
                Server::Harness => common::admin_url().replace("/postgres?", &format!("/{db}?")),
                Server::Own { cluster, .. } => cluster.url(db).unwrap(),
            }
        }

        pub fn crash(&self) {
            if let Server::Own { cluster, .. } = self {
                cluster.stop_immediately();
            }
        }

        pub fn restart(&self) {
            if let Server::Own { cluster, .. } = self {
                cluster.start().expect("restart");
            }
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            self.crash();
        }
    }

    pub struct Fleet {
        pub p: Project,
        pub names: Vec<String>,
        pub urls: Vec<String>,
    }

    pub fn make(manifest: &str, servers: &[&Server]) -> Fleet {
        let pid = std::process::id();
        let p = Project::create("strata-faults-fleet-", manifest, V1);
        p.write("tenants.txt", "");
        let mut names = Vec::new();
        let mut urls = Vec::new();
        for (i, server) in servers.iter().enumerate() {
            let name = format!("ft{pid}_{}_{i}", p.db.name);
            psql(&server.url("postgres"), &format!("CREATE DATABASE {name}"));
            let url = server.url(&name);
            p.strata()
                .args(["apply", "--database-url", &url])
                .assert()
                .success();
            psql(
                &url,
                "INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 50) g; \
                 INSERT INTO archive SELECT g, 'x' FROM generate_series(1, 50) g",
            );
            names.push(name);
            urls.push(url);
        }
        // apply ran the project's deploy hook for each member: not the fleet's.
        let _ = std::fs::remove_file(p.root.join("deploy.log"));
        p.write("tenants.txt", &(urls.join("\n") + "\n"));
        p.write("schema/app.sql", V2);
        p.write("migrations/0001_names.sql", MIGRATION);
        p.commit_all("the fleet, and the change");
        let out = p
            .strata()
            .args(["plan", "--group", "tenants"])
            .assert()
            .success();
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        let branch = err
            .lines()
            .find_map(|l| l.split(" on branch ").nth(1))
            .unwrap_or_else(|| panic!("no branch: {err}"))
            .to_string();
        git(&p.root, &["merge", "-q", "--ff-only", &branch]);
        Fleet { p, names, urls }
    }

    impl Fleet {
        /// `run --group tenants` with `args`; its exit status, the members' results
        /// (`--format json`) and its stderr.
        pub fn run(
            &self,
            args: &[&str],
            failpoint: Option<&str>,
        ) -> (std::process::ExitStatus, Vec<String>, String) {
            let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("strata"));
            cmd.args(["-C", self.p.root.to_str().unwrap()]);
            for (k, v) in self.p.strata().get_envs() {
                match v {
                    Some(v) => cmd.env(k, v),
                    None => cmd.env_remove(k),
                };
            }
            cmd.args(["--format", "json", "run", "--group", "tenants"])
                .args(["--allow-destructive", "--no-rehearsal"])
                .args(args)
                .stdin(std::process::Stdio::null());
            if let Some(point) = failpoint {
                cmd.env("STRATA_FAILPOINT", point);
            }
            let out = cmd.output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr).to_string();
            // A refusal prints an error, not a summary: no results.
            let summary: serde_json::Value =
                serde_json::from_slice(&out.stdout).unwrap_or_default();
            let results = match summary["members"].as_array() {
                Some(members) => self
                    .names
                    .iter()
                    .map(|n| {
                        members
                            .iter()
                            .find(|m| m["name"] == n.as_str())
                            .map_or("absent".into(), |m| {
                                m["result"].as_str().unwrap().to_string()
                            })
                    })
                    .collect(),
                None => Vec::new(),
            };
            (out.status, results, stderr)
        }

        /// Each member: finished runs (the baseline's included), the migration's effects,
        /// whether the archive's column is gone.
        pub fn state(&self, i: usize) -> String {
            psql(
                &self.urls[i],
                "SELECT (SELECT count(*) FROM strata.runs WHERE finished_at IS NOT NULL) || ',' \
                 || (SELECT CASE WHEN to_regclass('effects') IS NULL THEN '-' ELSE \
                    (xpath('/row/c/text()', query_to_xml('SELECT count(*) AS c FROM effects', false, true, '')))[1]::text END) \
                 || ',' || (SELECT count(*) FROM information_schema.columns \
                    WHERE table_name = 'archive' AND column_name = 'legacy')",
            )
        }
    }
}

const FLEET_HOOK: &str = r#"
[shadow]
url = "env:STRATA_TEST_SHADOW_URL"

[deploy]
command = "echo deployed >> deploy.log"

[groups.tenants]
urls_file = "tenants.txt"
parallel = 1
canary = 1
"#;

/// `--before-hook` and `--after-hook` (the CI stages around the deploy job), each killed
/// between two members and run again: every member runs each part once, the migration's
/// effect is there once in each, strata runs no hook; and `run --group` with both parts in
/// one command, killed right after the fleet's hook, does not deploy again when run again.
#[test]
fn a_fleet_run_killed_between_members_resumes_each_part_once() {
    use fleet::Server;
    let _cluster = cluster();
    let servers = [Server::Harness, Server::Harness, Server::Harness];
    let f = fleet::make(FLEET_HOOK, &servers.iter().collect::<Vec<_>>());
    let m = &f.names;
    let killed = |status: std::process::ExitStatus, stderr: &str, point: &str| {
        use std::os::unix::process::ExitStatusExt;
        assert!(
            status.signal() == Some(9) && stderr.contains(&format!("failpoint {point} reached")),
            "{point}: not killed there ({status}):\n{stderr}"
        );
    };

    // Before the hook: killed once the canary and the next member are up to the hook.
    let point = format!("member:{}", m[1]);
    let (status, _, stderr) = f.run(&["--before-hook"], Some(&point));
    killed(status, &stderr, &point);
    assert_eq!(f.state(0), "1,1,1");
    assert_eq!(f.state(1), "1,1,1");
    assert_eq!(f.state(2), "1,-,1", "the third member started");
    let (status, results, stderr) = f.run(&["--before-hook"], None);
    assert!(status.success(), "{stderr}");
    assert_eq!(
        results,
        ["already_done", "already_done", "up_to_the_hook"],
        "{stderr}"
    );
    assert!(!f.p.root.join("deploy.log").exists());

    // After the hook (deployed by the user's own job): killed after the canary.
    let point = format!("member:{}", m[0]);
    let (status, _, stderr) = f.run(&["--after-hook"], Some(&point));
    killed(status, &stderr, &point);
    assert_eq!(f.state(0), "2,1,0");
    assert_eq!(f.state(1), "1,1,1");
    let (status, results, stderr) = f.run(&["--after-hook"], None);
    assert!(status.success(), "{stderr}");
    assert_eq!(results, ["already_done", "resumed", "resumed"], "{stderr}");
    for (i, name) in m.iter().enumerate() {
        assert_eq!(f.state(i), "2,1,0", "{name}");
    }
    assert!(!f.p.root.join("deploy.log").exists());
    let (status, results, _) = f.run(&["--after-hook"], None);
    assert!(status.success());
    assert_eq!(results, ["already_done"; 3]);
}

/// `run --group` with both parts in one command, killed right after the fleet's hook
/// returned: before its record in the members said done, the re-run refuses to guess
/// (`--hook-done` or `--rerun-hook`, as for one target); after it, the re-run does not deploy
/// again. Either way every member contracts once.
#[test]
fn a_fleet_run_killed_right_after_its_hook_does_not_deploy_twice() {
    use fleet::Server;
    let _cluster = cluster();
    for point in ["fleet-hook:tenants", "deployed:tenants"] {
        let servers = [Server::Harness, Server::Harness];
        let f = fleet::make(FLEET_HOOK, &servers.iter().collect::<Vec<_>>());
        let (status, _, stderr) = f.run(&[], Some(point));
        assert!(
            stderr.contains(&format!("failpoint {point} reached")),
            "{status}:\n{stderr}"
        );
        let log = || std::fs::read_to_string(f.p.root.join("deploy.log")).unwrap_or_default();
        assert_eq!(log(), "deployed\n");
        let mut args: &[&str] = &[];
        if point.starts_with("fleet-hook") {
            let (status, _, stderr) = f.run(&[], None);
            assert_eq!(status.code(), Some(1), "{point}: {stderr}");
            assert!(
                stderr.contains("strata::run::hook_interrupted") && stderr.contains("--hook-done"),
                "{point}: {stderr}"
            );
            assert_eq!(
                f.state(0),
                "1,1,1",
                "{point}: nothing ran after the refusal"
            );
            args = &["--hook-done"];
        }
        let (status, results, stderr) = f.run(args, None);
        assert!(status.success(), "{point}: {stderr}");
        assert_eq!(results, ["resumed", "resumed"], "{point}: {stderr}");
        assert_eq!(
            log(),
            "deployed\n",
            "{point}: the fleet deployed twice:\n{stderr}"
        );
        for i in 0..2 {
            assert_eq!(f.state(i), "2,1,0", "{point}");
        }
    }
}

const FLEET_WIDE: &str = r#"
[shadow]
url = "env:STRATA_TEST_SHADOW_URL"

[groups.tenants]
urls_file = "tenants.txt"
parallel = 3
canary = 0
lock_timeout = "60s"
"#;

/// One member's server crashes while its run waits in the contract stage (its expand and
/// its migration done): the others finish; run again, the crashed one resumes and its
/// migration's effect is there once.
#[test]
fn a_fleet_member_whose_server_crashes_midway_resumes_once_the_others_finish() {
    use fleet::Server;
    let _cluster = cluster();
    let own = Server::own();
    let servers = [&Server::Harness, &Server::Harness, &own];
    let f = fleet::make(FLEET_WIDE, &servers);
    // The crashed member's archive is read by a session left open: its contract waits.
    let blocker = OpenTransaction::begin(
        &f.urls[2],
        "archive-reader",
        "BEGIN; SELECT count(*) FROM archive;",
    );
    let run = std::thread::spawn({
        let root = f.p.root.clone();
        let envs: Vec<_> =
            f.p.strata()
                .get_envs()
                .map(|(k, v)| (k.to_owned(), v.map(|v| v.to_owned())))
                .collect();
        move || {
            let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("strata"));
            cmd.args(["-C", root.to_str().unwrap()]);
            for (k, v) in envs {
                match v {
                    Some(v) => cmd.env(k, v),
                    None => cmd.env_remove(k),
                };
            }
            cmd.args(["--format", "json", "run", "--group", "tenants"])
                .args(["--allow-destructive", "--no-rehearsal"])
                .stdin(Stdio::null())
                .output()
                .unwrap()
        }
    });
    let started = std::time::Instant::now();
    while fleet::psql(
        &f.urls[2],
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
         AND query LIKE '%archive%legacy%'",
    ) != "1"
    {
        assert!(
            started.elapsed().as_secs() < 120,
            "the contract never waited"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        fleet::psql(&f.urls[2], "SELECT count(*) FROM effects"),
        "1",
        "the migration ran before the contract"
    );
    own.crash();
    drop(blocker);
    let out = run.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let result = |name: &str| {
        summary["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .map(|m| m["result"].as_str().unwrap().to_string())
    };
    assert_eq!(result(&f.names[0]).as_deref(), Some("done"), "{summary}");
    assert_eq!(result(&f.names[1]).as_deref(), Some("done"), "{summary}");
    assert_eq!(result(&f.names[2]).as_deref(), Some("failed"), "{summary}");
    assert_eq!(f.state(0), "2,1,0");
    own.restart();
    assert_eq!(f.state(2), "1,1,1", "the crashed member, half way");
    let (status, results, stderr) = f.run(&[], None);
    assert!(status.success(), "{stderr}");
    assert_eq!(
        results,
        ["already_done", "already_done", "resumed"],
        "{stderr}"
    );
    for i in 0..3 {
        assert_eq!(f.state(i), "2,1,0", "{}", f.names[i]);
    }
}
