//! Shadow databases on a shared shadow server: unique names, ownership records, sweeping only
//! this host's dead runs, cleanup on SIGINT/SIGTERM; role statements kept out of the shadow.

mod common;

use common::project::{git, Project};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;
use strata::pg::shadow::{start_time, Owner, ShadowDb, PREFIX};

/// No `[shadow]`: the shadow server comes from `STRATA_SHADOW_URL`, as on a CI runner.
const MANIFEST: &str = r#"
[targets.test]
url = "env:STRATA_TEST_TARGET_URL"
"#;

const V1: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n";

fn project() -> Project {
    Project::create("strata-shadow-", MANIFEST, V1)
}

/// `strata <args>` in `p` as a child process with stderr piped, its stderr lines sent to the
/// returned channel.
fn spawn(p: &Project, args: &[&str], env: &[(&str, &str)]) -> (Child, Receiver<String>) {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("strata"));
    cmd.args(["-C", p.root.to_str().unwrap()]).args(args);
    for (k, v) in p.strata().get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.env("STRATA_SHADOW_URL", common::admin_url())
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Waits until `failpoint` has been reached `times` times; returns the stderr lines seen.
/// Panics with them if the process ends first or takes a minute.
fn reached(rx: &Receiver<String>, failpoint: &str, times: usize) -> Vec<String> {
    let wanted = format!("failpoint {failpoint} reached");
    let mut seen = Vec::new();
    while seen.iter().filter(|l: &&String| **l == wanted).count() < times {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => seen.push(line),
            Err(e) => panic!("{wanted} x{times} not seen ({e}); stderr so far:\n{seen:#?}"),
        }
    }
    seen
}

/// Shadow databases on the test cluster whose ownership record has `"pid":<pid>`, with the
/// host their record names.
fn shadow_dbs_of(pid: u32) -> Vec<(String, String)> {
    shadow_dbs_on(&common::admin_url(), pid)
}

/// [`shadow_dbs_of`] on the server `admin` (a URL of its maintenance database) names.
fn shadow_dbs_on(admin: &str, pid: u32) -> Vec<(String, String)> {
    let out = std::process::Command::new("psql")
        .args([admin, "-XAtqF", "|", "-c"])
        .arg(format!(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database \
             WHERE starts_with(datname, '{PREFIX}') \
             AND shobj_description(oid, 'pg_database') LIKE '%\"pid\":{pid},%' ORDER BY 1"
        ))
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let (name, comment) = l.split_once('|').unwrap();
            let owner = Owner::from_record(comment).expect("an ownership record");
            (name.to_string(), owner.host)
        })
        .collect()
}

fn exit_code(mut child: Child) -> Option<i32> {
    child.wait().unwrap().code()
}

/// A pid that no process has here (it belonged to a process that has exited).
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    assert_eq!(start_time(pid), None);
    pid
}

#[test]
fn two_plans_at_once_with_the_same_pid_on_one_shadow_server_both_succeed() {
    // Two runners (two containers: one pid value, two hosts) plan against one shadow server;
    // each stops once its shadow databases exist, so both sets exist side by side while
    // each one's creation sweeps the server.
    let pid = dead_pid().to_string();
    let release = common::reachable_tempdir("strata-release-");
    let go = release.path().join("go");
    let go = go.to_str().unwrap();
    let (a, b) = (project(), project());
    let runner = |p: &Project, host: &str| {
        spawn(
            p,
            &["plan"],
            &[
                ("STRATA_FAILPOINT", "shadow-created"),
                ("STRATA_FAILPOINT_RELEASE", go),
                ("STRATA_TEST_OWNER_HOST", host),
                ("STRATA_TEST_OWNER_PID", &pid),
            ],
        )
    };
    let (child_a, rx_a) = runner(&a, "container-a");
    reached(&rx_a, "shadow-created", 2);
    let (child_b, rx_b) = runner(&b, "container-b");
    reached(&rx_b, "shadow-created", 2);
    let mut hosts: Vec<String> = shadow_dbs_of(pid.parse().unwrap())
        .into_iter()
        .map(|(_, host)| host)
        .collect();
    hosts.sort();
    assert_eq!(
        hosts,
        ["container-a", "container-a", "container-b", "container-b"]
    );
    std::fs::write(go, "").unwrap();
    assert_eq!(
        exit_code(child_a),
        Some(0),
        "{:?}",
        rx_a.try_iter().collect::<Vec<_>>()
    );
    assert_eq!(
        exit_code(child_b),
        Some(0),
        "{:?}",
        rx_b.try_iter().collect::<Vec<_>>()
    );
    for p in [&a, &b] {
        let branches = git(&p.root, &["branch", "--list", "change-schema-*"]);
        assert!(!branches.is_empty(), "a plan branch");
    }
    assert_eq!(shadow_dbs_of(pid.parse().unwrap()), vec![]);
}

#[tokio::test]
async fn a_sweep_drops_only_this_hosts_dead_runs() {
    let here = Owner::current();
    let me = std::process::id();
    let dead = dead_pid();
    let record = |owner: Owner| {
        format!(
            "strata shadow database {}",
            serde_json::to_string(&owner).unwrap()
        )
    };
    let cases = [
        // (suffix, comment, kept)
        (
            "elsewhere_dead",
            Some(record(Owner {
                host: "another-boot/pid:[1]".into(),
                pid: dead,
                ..here.clone()
            })),
            true,
        ),
        ("no_record", None, true),
        ("other_comment", Some("made by hand".to_string()), true),
        (
            "here_dead",
            Some(record(Owner {
                pid: dead,
                start: 1,
                ..here.clone()
            })),
            false,
        ),
        (
            "here_pid_reused",
            Some(record(Owner {
                pid: me,
                start: here.start + 1,
                ..here.clone()
            })),
            false,
        ),
        ("here_alive", Some(record(here.clone())), true),
    ];
    let admin = common::admin_conninfo();
    let client = admin.connect().await.unwrap();
    let name = |suffix: &str| format!("{PREFIX}t{me}_{suffix}");
    for (suffix, comment, _) in &cases {
        let db = name(suffix);
        client
            .batch_execute(&format!("CREATE DATABASE {db}"))
            .await
            .unwrap();
        if let Some(comment) = comment {
            client
                .batch_execute(&format!(
                    "COMMENT ON DATABASE {db} IS {}",
                    strata::model::quote_literal(comment)
                ))
                .await
                .unwrap();
        }
    }
    // Creating a shadow database sweeps the server.
    ShadowDb::create(&admin, "sweeper")
        .await
        .unwrap()
        .drop_now()
        .await
        .unwrap();
    for (suffix, _, kept) in &cases {
        let db = name(suffix);
        let exists = client
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&db])
            .await
            .unwrap()
            .is_some();
        assert_eq!(exists, *kept, "{db}");
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
            .await
            .unwrap();
    }
}

fn interrupted_plan_leaves_no_shadow_database(signal: nix::sys::signal::Signal) {
    let p = project();
    let (child, rx) = spawn(&p, &["plan"], &[("STRATA_FAILPOINT", "shadow-created")]);
    reached(&rx, "shadow-created", 2);
    let pid = child.id();
    let made = shadow_dbs_of(pid);
    assert_eq!(made.len(), 2, "{made:?}");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), signal).unwrap();
    assert_eq!(exit_code(child), Some(130));
    assert_eq!(shadow_dbs_of(pid), vec![]);
    assert_eq!(git(&p.root, &["branch", "--list", "change-schema-*"]), "");
}

#[test]
fn sigint_leaves_no_shadow_database() {
    interrupted_plan_leaves_no_shadow_database(nix::sys::signal::Signal::SIGINT);
}

#[test]
fn sigterm_leaves_no_shadow_database() {
    interrupted_plan_leaves_no_shadow_database(nix::sys::signal::Signal::SIGTERM);
}

/// SIGKILL while schema/ loads into a shadow database over several connections (statements
/// committed on one, others in flight): nothing runs after it, so the killed run's shadow
/// databases stay behind, still owned by its pid. The next plan on that server sweeps them
/// (their owner is dead), plans as usual, and leaves none of its own.
#[test]
fn a_plan_killed_during_a_parallel_shadow_load_is_swept_by_the_next() {
    let p = parallel_load_project();
    let (child, rx) = spawn(&p, &["plan"], &[("STRATA_FAILPOINT", "shadow-loading")]);
    reached(&rx, "shadow-loading", 1);
    let pid = child.id();
    let left = shadow_dbs_of(pid);
    assert!(!left.is_empty(), "the killed plan's shadow databases");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert_eq!(exit_code(child), None, "killed by a signal");
    // The clone of the target may create its database between the listing and the kill.
    let kept = shadow_dbs_of(pid);
    assert!(
        left.iter().all(|db| kept.contains(db)),
        "nothing dropped after SIGKILL: {left:?} {kept:?}"
    );

    let (again, rx) = spawn(&p, &["plan"], &[]);
    let pid_again = again.id();
    assert_eq!(
        exit_code(again),
        Some(0),
        "{:?}",
        rx.try_iter().collect::<Vec<_>>()
    );
    assert_eq!(shadow_dbs_of(pid), vec![], "swept by the next plan");
    assert_eq!(shadow_dbs_of(pid_again), vec![]);
    let branches = git(&p.root, &["branch", "--list", "change-schema-*"]);
    assert_eq!(branches.lines().count(), 1, "{branches}");
    let pending = git(
        &p.root,
        &["show", &format!("{}:pending.sql", branches.trim())],
    );
    assert!(pending.contains("CREATE TABLE public.t39"), "{pending}");
}

/// A project whose 41 tables load into the shadow over 3 connections.
fn parallel_load_project() -> Project {
    let tables: String = (0..40)
        .map(|i| format!("CREATE TABLE t{i} (id bigint PRIMARY KEY, note text);\n"))
        .collect();
    Project::create(
        "strata-shadow-",
        &format!("[shadow]\njobs = 3\n{MANIFEST}"),
        &format!("{V1}{tables}"),
    )
}

/// The shadow server crashes (`pg_ctl stop -m immediate`) while schema/ loads into a shadow
/// database over several connections: the plan fails with an error that names the shadow
/// database, commits nothing and leaves the target as it was. Once the server is back (crash
/// recovery keeps the created databases), the next plan sweeps the failed one's databases and
/// plans as usual.
#[test]
fn a_shadow_server_crashing_during_a_parallel_load_fails_the_plan_and_the_next_sweeps() {
    let p = parallel_load_project();
    let dir = common::reachable_tempdir("strata-shadow-cluster-");
    let shadow = strata::pg::embedded::Cluster::at(dir.path().to_path_buf()).expect("cluster");
    shadow.start().expect("start");
    let admin = shadow.url("postgres").unwrap();
    let release = dir.path().join("release");
    let target_before =
        p.db.psql("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace");

    let (child, rx) = spawn(
        &p,
        &["plan"],
        &[
            ("STRATA_SHADOW_URL", admin.as_str()),
            ("STRATA_FAILPOINT", "shadow-loading"),
            ("STRATA_FAILPOINT_RELEASE", release.to_str().unwrap()),
        ],
    );
    reached(&rx, "shadow-loading", 1);
    let pid = child.id();
    let left = shadow_dbs_on(&admin, pid);
    assert!(!left.is_empty(), "the plan's shadow databases");
    // The cluster commits asynchronously: a checkpoint makes those listed survive the crash.
    let checkpoint = std::process::Command::new("psql")
        .args([admin.as_str(), "-XAtqc", "CHECKPOINT"])
        .status()
        .unwrap();
    assert!(checkpoint.success());
    shadow.stop_immediately();
    std::fs::write(&release, "").unwrap();
    let code = exit_code(child);
    let stderr: Vec<String> = rx.try_iter().collect();
    let stderr = stderr.join("\n");
    assert!(matches!(code, Some(c) if c != 0), "{code:?}: {stderr}");
    // The load and the clone of the target run at once: either may report the crash first.
    // The error itself (not a progress line) says which: the load names the shadow database
    // (or its URL, when reconnecting failed), the clone the database it was copying.
    let error = stderr.lines().find(|l| l.trim_start().starts_with('×'));
    assert!(
        error.is_some_and(|e| e.contains("shadow") || e.contains("cloning the schema of")),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(git(&p.root, &["branch", "--list", "change-schema-*"]), "");
    assert!(!p.root.join("pending.sql").exists());
    assert_eq!(
        p.db.psql("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"),
        target_before
    );

    shadow.start().expect("restart after the crash");
    let kept = shadow_dbs_on(&admin, pid);
    assert!(
        left.iter().all(|db| kept.contains(db)),
        "crash recovery keeps {left:?}: {kept:?}"
    );
    let (again, rx) = spawn(&p, &["plan"], &[("STRATA_SHADOW_URL", admin.as_str())]);
    let pid_again = again.id();
    assert_eq!(
        exit_code(again),
        Some(0),
        "{:?}",
        rx.try_iter().collect::<Vec<_>>()
    );
    assert_eq!(shadow_dbs_on(&admin, pid), vec![], "swept by the next plan");
    assert_eq!(shadow_dbs_on(&admin, pid_again), vec![]);
    let branches = git(&p.root, &["branch", "--list", "change-schema-*"]);
    assert_eq!(branches.lines().count(), 1, "{branches}");
    shadow.stop_immediately();
}

#[test]
fn a_role_statement_in_schema_files_is_refused_at_its_line() {
    let p = project();
    p.write(
        "schema/app.sql",
        &format!("{V1}CREATE ROLE strata_test_reporting NOLOGIN;\n"),
    );
    p.commit_all("a role");
    let out = p.strata().arg("plan").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("schema/app.sql:2"), "{stderr}");
    assert!(stderr.contains("role statement"), "{stderr}");
    assert!(stderr.contains("migration"), "{stderr}");
    assert!(!p.root.join("pending.sql").exists());
    assert_eq!(git(&p.root, &["branch", "--list", "change-schema-*"]), "");
    assert_eq!(
        p.db.psql("SELECT count(*) FROM pg_roles WHERE rolname = 'strata_test_reporting'"),
        "0"
    );
}

/// Processes whose command line names `dir` (the server and its children run with `-D`
/// under it).
fn processes_under(dir: &std::path::Path) -> usize {
    let needle = dir.to_string_lossy().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter(|e| {
            std::fs::read(e.path().join("cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(&needle))
                .unwrap_or(false)
        })
        .count()
}

#[test]
fn an_implicitly_started_cluster_stops_itself_once_idle_and_db_start_keeps_it() {
    let dir = common::reachable_tempdir("strata-idle-");
    let state = common::reachable_tempdir("strata-state-");
    let project = dir.path().join("app");
    std::fs::create_dir_all(project.join("schema")).unwrap();
    std::fs::write(project.join("schema/app.sql"), V1).unwrap();
    std::fs::write(project.join("pipeline.toml"), "").unwrap();
    let strata = |idle: &str, args: &[&str]| {
        let mut cmd = assert_cmd::Command::cargo_bin("strata").unwrap();
        cmd.arg("-C")
            .arg(&project)
            .args(args)
            .env("CI", "true")
            .env_remove("DATABASE_URL")
            .env_remove("STRATA_SHADOW_URL")
            .env("XDG_STATE_HOME", state.path())
            .env("STRATA_IDLE_STOP", idle);
        cmd
    };
    let status = || {
        let out = strata("1s", &["db", "status"]).output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    // plan needs a shadow server: the embedded cluster, started for it (the target is a
    // database of the test cluster). Held at a failpoint, with no connection to the
    // embedded cluster open, for three times the idle time, it keeps its cluster running.
    let target = common::TestDb::new();
    let go = state.path().join("go");
    let mut plan = std::process::Command::new(assert_cmd::cargo::cargo_bin("strata"));
    for (k, v) in strata("1s", &["plan", "--no-git"]).get_envs() {
        match v {
            Some(v) => plan.env(k, v),
            None => plan.env_remove(k),
        };
    }
    let mut plan = plan
        .arg("-C")
        .arg(&project)
        .args(["plan", "--no-git"])
        .env("DATABASE_URL", &target.url)
        .env("STRATA_FAILPOINT", "shadow-created")
        .env("STRATA_FAILPOINT_RELEASE", &go)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = plan.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let seen = reached(&rx, "shadow-created", 2);
    assert!(
        seen.iter().any(|l| l.contains("it stops after 1s idle")),
        "{seen:?}"
    );
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        status().starts_with("running (stops after 1s idle)"),
        "{}",
        status()
    );
    std::fs::write(&go, "").unwrap();
    assert_eq!(plan.wait().unwrap().code(), Some(0));
    let listed = strata("1s", &["db", "status", "--all"]).output().unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(
        listed.contains(&format!(
            "running (stops after 1s idle)  {}",
            project.display()
        )),
        "{listed}"
    );
    // The server, and the watcher that stops it, end on their own.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !status().starts_with("stopped") || processes_under(&project) > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "still running: {} ({} processes)",
            status(),
            processes_under(&project)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Started implicitly again, then `db start`: it keeps running past its idle time.
    strata("2s", &["db", "url"]).assert().success();
    strata("2s", &["db", "start"])
        .assert()
        .success()
        .stderr(predicates::str::contains("no longer stops itself"));
    std::thread::sleep(Duration::from_secs(5));
    assert!(status().starts_with("running (/"), "{}", status());
    strata("2s", &["db", "stop"]).assert().success();
    assert_eq!(processes_under(&project), 0);
    let listed = strata("1s", &["db", "status", "--all"]).output().unwrap();
    assert!(String::from_utf8(listed.stdout)
        .unwrap()
        .starts_with("stopped  "),);
}
