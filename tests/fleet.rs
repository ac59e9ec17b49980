//! Fleets (docs/fleet.md): 120 tenant databases on three local clusters, made from a
//! template database that holds the baseline schema and its strata snapshot. Two tenants
//! drifted (an index added by hand), one holds a duplicate email that the change's unique
//! index cannot take (it fails mid-run, after its first step). Proven through the CLI:
//! `targets`, `plan --group` (one plan for the one shared state, the drifted left out),
//! `run --group --shard` refused before the canaries, canaries killed mid-run by a failpoint
//! and resumed, four shards at once covering every member exactly once, the summary's
//! counts, a re-run, `status --group`. A second, small fleet: a failing canary stops the
//! rollout before the waves, the failure budget stops new starts, and with a deploy hook
//! the hook runs once for the fleet, between everyone's expand and everyone's contract.

mod common;

use common::project::{git, Project};
use common::{psql, reachable_tempdir};
use std::collections::BTreeMap;
use std::io::Write;
use strata::pg::embedded::Cluster;

const V1: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n";
const V2: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text);\n\
                  CREATE UNIQUE INDEX users_email ON users (email);\n";

/// A throwaway cluster of its own (the harness's is the first of the three).
struct ExtraCluster {
    cluster: Cluster,
    _dir: tempfile::TempDir,
}

impl ExtraCluster {
    fn start() -> ExtraCluster {
        let dir = reachable_tempdir("strata-fleet-cluster-");
        let cluster = Cluster::at(dir.path().to_path_buf()).expect("cluster");
        cluster.start().expect("start");
        ExtraCluster { cluster, _dir: dir }
    }
}

impl Drop for ExtraCluster {
    fn drop(&mut self) {
        let clock = std::time::Instant::now();
        self.cluster.stop_immediately();
        eprintln!("cluster stopped in {:.1}s", clock.elapsed().as_secs_f64());
    }
}

/// A server of the fleet: the URL of database `db` on it.
trait Server {
    fn url(&self, db: &str) -> String;
}

struct Harness;

impl Server for Harness {
    fn url(&self, db: &str) -> String {
        common::admin_url().replace("/postgres?", &format!("/{db}?"))
    }
}

impl Server for ExtraCluster {
    fn url(&self, db: &str) -> String {
        self.cluster.url(db).unwrap()
    }
}

/// `CREATE DATABASE name TEMPLATE template` for each name, in one psql session (each
/// statement is its own transaction when read from stdin).
fn create_from_template(server: &dyn Server, template: &str, names: &[String]) {
    // FILE_COPY (PostgreSQL 15+) copies the files instead of writing every block of the
    // template through the WAL: much faster for many small databases on a cluster that does
    // not fsync.
    let strategy = if common::server_major() >= 15 {
        " STRATEGY FILE_COPY"
    } else {
        ""
    };
    let mut child = std::process::Command::new("psql")
        .args([&server.url("postgres"), "-XAtq", "-v", "ON_ERROR_STOP=1"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("psql");
    let mut stdin = child.stdin.take().unwrap();
    for name in names {
        writeln!(
            stdin,
            "CREATE DATABASE {name} TEMPLATE {template}{strategy};"
        )
        .unwrap();
    }
    drop(stdin);
    assert!(child.wait().unwrap().success(), "CREATE DATABASE failed");
}

fn stdout(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&out.get_output().stdout).to_string()
}

fn stderr(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&out.get_output().stderr).to_string()
}

fn json(out: &assert_cmd::assert::Assert) -> serde_json::Value {
    serde_json::from_slice(&out.get_output().stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(out)))
}

/// Each member's result in a `run --group --format json` summary.
fn results(summary: &serde_json::Value) -> BTreeMap<String, String> {
    summary["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_string(),
                m["result"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Runs finished on the database, as its own history says (the template's baseline run
/// is one of them).
fn finished_runs(url: &str) -> usize {
    psql(
        url,
        "SELECT count(*) FROM strata.runs WHERE finished_at IS NOT NULL",
    )
    .parse()
    .unwrap()
}

/// Copies database `db` of `from` to `to` (pg_dump | psql): its schema, rows and strata's
/// history with the baseline snapshot.
fn copy_database(from: &dyn Server, to: &dyn Server, db: &str) {
    psql(&to.url("postgres"), &format!("CREATE DATABASE {db}"));
    let dump = std::process::Command::new(common::pg_dump().expect("a pg_dump"))
        .args(["--no-owner", &from.url(db)])
        .output()
        .expect("pg_dump");
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let mut restore = std::process::Command::new("psql")
        .args([&to.url(db), "-XAtq", "-v", "ON_ERROR_STOP=1"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("psql");
    restore
        .stdin
        .take()
        .unwrap()
        .write_all(&dump.stdout)
        .unwrap();
    assert!(restore.wait().unwrap().success(), "restoring {db}");
}

/// Makes `template` on `server` hold V1, run by strata (so its snapshot is the baseline
/// for drift), with a row in users.
fn make_template(p: &Project, server: &dyn Server, template: &str) {
    psql(
        &server.url("postgres"),
        &format!("CREATE DATABASE {template}"),
    );
    p.strata()
        .args(["apply", "--database-url", &server.url(template)])
        .assert()
        .success();
    psql(
        &server.url(template),
        "INSERT INTO users VALUES (1, 'a@example.com')",
    );
}

/// The plan branch `plan --group` made, merged into main.
fn plan_group_and_merge(p: &Project, group: &str) -> String {
    let out = p
        .strata()
        .args(["plan", "--group", group])
        .assert()
        .success();
    let err = stderr(&out);
    let branch = err
        .lines()
        .find_map(|l| l.split(" on branch ").nth(1))
        .unwrap_or_else(|| panic!("no branch: {err}"))
        .to_string();
    git(&p.root, &["merge", "-q", "--ff-only", &branch]);
    stdout(&out)
}

const FLEET: &str = r#"
[shadow]
url = "env:STRATA_TEST_SHADOW_URL"

[groups.tenants]
urls_file = "tenants.txt"
parallel = 4
canary = 2
failure_budget = 5

[groups.first_cluster]
discover = { url = "env:CONTROL_URL", query = "SELECT format('PREFIX%sSUFFIX', datname), datname FROM pg_database WHERE datname LIKE 'tenant%' ORDER BY 1" }
"#;

#[test]
fn a_fleet_of_120_on_three_clusters_plans_once_shards_resumes_and_sums_up() {
    let clock = std::time::Instant::now();
    let lap = |what: &str| eprintln!("{:>6.1}s {what}", clock.elapsed().as_secs_f64());
    // The three clusters start at once (the harness's with the project's database).
    let starting = [
        std::thread::spawn(ExtraCluster::start),
        std::thread::spawn(ExtraCluster::start),
    ];
    common::TestDb::new();
    let extra = starting.map(|t| t.join().unwrap());
    lap("three clusters");
    let servers: [&dyn Server; 3] = [&Harness, &extra[0], &extra[1]];
    // Database names unique across the clusters; the harness cluster's carry the pid so
    // that two test processes never collide.
    let pid = std::process::id();
    let name = |i: usize| format!("tenant{pid}_{i:03}");
    let sample = servers[0].url("XDBX");
    let (prefix, suffix) = sample.split_once("XDBX").unwrap();
    let manifest = FLEET
        .replace("PREFIX", &prefix.replace('%', "%%"))
        .replace("SUFFIX", &suffix.replace('%', "%%"))
        .replace("'tenant%'", &format!("'tenant{pid}%'"));
    let p = Project::create("strata-fleet-", &manifest, V1);
    p.write("tenants.txt", "");

    let mut urls = String::from("# the tenants, one URL a line\n");
    let template = format!("tmpl{pid}");
    make_template(&p, servers[0], &template);
    for (s, server) in servers.iter().enumerate() {
        if s > 0 {
            copy_database(servers[0], *server, &template);
        }
        let names: Vec<String> = (0..120).filter(|i| i % 3 == s).map(name).collect();
        create_from_template(*server, &template, &names);
        for n in &names {
            urls.push_str(&format!("{}\n", server.url(n)));
        }
    }
    lap("templates and 120 databases");
    let url_of = |i: usize| servers[i % 3].url(&name(i));
    // Two drifted, one with data the change cannot take.
    psql(&url_of(7), "CREATE INDEX by_hand ON users (email)");
    psql(&url_of(50), "CREATE INDEX by_hand ON users (email)");
    psql(
        &url_of(100),
        "INSERT INTO users VALUES (2, 'a@example.com')",
    );
    p.write("tenants.txt", &urls);
    p.write("schema/app.sql", V2);
    p.commit_all("tenants, and the change");

    let strata = || {
        let mut cmd = p.strata();
        cmd.env("CONTROL_URL", servers[0].url("postgres"));
        cmd
    };

    // Members, from the file and from discovery.
    let out = strata()
        .args(["targets", "--group", "tenants", "--format", "json"])
        .assert()
        .success();
    let listed = json(&out);
    let listed = listed["members"].as_array().unwrap();
    assert_eq!(listed.len(), 120);
    let drifted: Vec<&str> = listed
        .iter()
        .filter(|m| m["state"] == "drifted")
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(drifted, [name(7), name(50)]);
    assert!(
        listed.iter().all(|m| m["fingerprint"].is_string()),
        "{listed:?}"
    );
    let out = strata()
        .args(["targets", "--group", "first_cluster", "--format", "json"])
        .assert()
        .success();
    assert_eq!(json(&out)["members"].as_array().unwrap().len(), 40);
    let out = strata()
        .args([
            "targets",
            "--group",
            "tenants",
            "--format",
            "github-matrix",
            "--shards",
            "4",
        ])
        .assert()
        .success();
    assert_eq!(json(&out)["include"][3]["shard"], "3/4");

    lap("targets");
    // One plan for the one shared state; the drifted left out.
    let planned = plan_group_and_merge(&p, "tenants");
    assert!(planned.contains("118 member(s) at "), "{planned}");
    assert!(planned.contains("2 member(s) left out"), "{planned}");
    let files: Vec<_> = std::fs::read_dir(p.root.join("pending/tenants"))
        .unwrap()
        .collect();
    assert_eq!(files.len(), 1);

    lap("plan --group");
    // A shard before the canaries passed: refused, nothing run.
    let out = strata()
        .args(["run", "--group", "tenants", "--shard", "0/4"])
        .assert()
        .code(1);
    assert!(
        stderr(&out).contains("canaries of group `tenants` have not passed"),
        "{}",
        stderr(&out)
    );

    // The canaries, killed mid-run (after their expand's first step), then resumed.
    let out = strata()
        .args(["run", "--group", "tenants", "--canaries-only"])
        .env("STRATA_FAILPOINT", "before:expand#1")
        .assert()
        .failure();
    assert!(stderr(&out).contains("failpoint before:expand#1 reached"));
    let out = strata()
        .args([
            "--format",
            "json",
            "run",
            "--group",
            "tenants",
            "--canaries-only",
        ])
        .assert()
        .success();
    let canaries = results(&json(&out));
    assert_eq!(canaries.len(), 2, "{canaries:?}");
    assert!(
        canaries.values().any(|r| r == "resumed"),
        "a canary resumes: {canaries:?}"
    );
    assert!(canaries.values().all(|r| r == "resumed" || r == "done"));

    lap("canaries");
    // Four shards at once: every other member exactly once.
    let children: Vec<_> = (0..4)
        .map(|i| {
            let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("strata"));
            cmd.arg("-C")
                .arg(&p.root)
                .args(["--format", "json", "run", "--group", "tenants", "--shard"])
                .arg(format!("{i}/4"))
                .env("CI", "true")
                .env("STRATA_TEST_SHADOW_URL", common::admin_url())
                .env(common::IDLE_STOP.0, common::IDLE_STOP.1)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        for (member, result) in results(&summary) {
            assert!(
                seen.insert(member.clone(), result).is_none(),
                "{member} in two shards"
            );
        }
        for (word, n) in summary["counts"].as_object().unwrap() {
            *counts.entry(word.clone()).or_default() += n.as_u64().unwrap();
        }
    }
    let expected: Vec<String> = (2..120).map(name).collect();
    assert_eq!(seen.keys().cloned().collect::<Vec<_>>(), expected);
    assert_eq!(seen[&name(100)], "failed");
    assert_eq!(seen[&name(7)], "skipped");
    assert_eq!(seen[&name(50)], "skipped");
    assert_eq!(counts["done"], 115, "{counts:?}");
    assert_eq!(counts["failed"], 1);
    assert_eq!(counts["skipped"], 2);

    lap("four shards");
    // Each member's history: finished where done (all of them: `status` below), not where
    // failed or skipped.
    for i in [0, 1, 2, 7, 50, 100, 119] {
        let want = 1 + usize::from(![7, 50, 100].contains(&i));
        assert_eq!(finished_runs(&url_of(i)), want, "{}", name(i));
    }
    assert_eq!(
        psql(&url_of(100), "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'name'"),
        "1",
        "the failing member stopped mid-run, after its first step"
    );

    // Again, whole: what is done stays done; the failing member fails again.
    let out = strata()
        .args(["--format", "markdown", "run", "--group", "tenants"])
        .assert()
        .code(1);
    let md = stdout(&out);
    assert!(
        md.contains("120 members in") && md.contains("117 already done, 2 skipped, 1 failed"),
        "{md}"
    );
    assert!(
        stderr(&out).contains("[done 118/118, running 0, failed 1]"),
        "{}",
        stderr(&out)
    );

    lap("re-run");
    let out = strata()
        .args(["status", "--group", "tenants"])
        .assert()
        .code(1);
    let status = stdout(&out);
    assert!(
        status.contains("group tenants: 120 members: 2 drifted, 117 ran, 1 running"),
        "{status}"
    );
    lap("status");
}

const SMALL: &str = r#"
[shadow]
url = "env:STRATA_TEST_SHADOW_URL"

[deploy]
command = "echo deployed >> deploy.log"

[groups.small]
urls_file = "small.txt"
parallel = 1
canary = 1
check = "test -n \"$STRATA_CANARIES\""
"#;

#[test]
fn a_failing_canary_stops_before_the_waves_the_budget_stops_starts_and_the_hook_runs_once() {
    let pid = std::process::id();
    let name = |i: usize| format!("small{pid}_{i}");
    let p = Project::create("strata-fleet-small-", SMALL, V1);
    p.write("small.txt", "");
    let template = format!("stmpl{pid}");
    make_template(&p, &Harness, &template);
    // The template's own run deployed (apply runs the hook): not the fleet's.
    std::fs::remove_file(p.root.join("deploy.log")).unwrap();
    let names: Vec<String> = (0..6).map(name).collect();
    create_from_template(&Harness, &template, &names);
    let url = |i: usize| Harness.url(&name(i));
    let urls: String = (0..6).map(|i| format!("{}\n", url(i))).collect();
    // The canary and the third member hold data the change's unique index cannot take.
    psql(&url(0), "INSERT INTO users VALUES (2, 'a@example.com')");
    psql(&url(2), "INSERT INTO users VALUES (2, 'a@example.com')");
    p.write("small.txt", &urls);
    p.write("schema/app.sql", V2);
    p.commit_all("the fleet, and the change");
    plan_group_and_merge(&p, "small");
    let runs_started = |i: usize| {
        psql(
            &url(i),
            "SELECT count(*) FROM strata.runs WHERE finished_at IS NULL",
        )
        .parse::<usize>()
        .unwrap()
    };

    // The canary fails: no other member starts, nothing is deployed.
    let out = p
        .strata()
        .args(["--format", "json", "run", "--group", "small"])
        .assert()
        .code(1);
    let first = results(&json(&out));
    assert_eq!(first[&name(0)], "failed");
    assert!(
        (1..6).all(|i| first[&name(i)] == "not_started"),
        "{first:?}"
    );
    assert!((1..6).all(|i| runs_started(i) == 0));
    assert!(stderr(&out).contains("a canary failed: the rollout stops before the other members"));
    assert!(!p.root.join("deploy.log").exists());

    // The canary's data fixed: it resumes, then member 2 fails and the budget (0) stops
    // the starts; no deploy while a member has not expanded.
    psql(&url(0), "DELETE FROM users WHERE id = 2");
    let out = p
        .strata()
        .args(["--format", "json", "run", "--group", "small"])
        .assert()
        .code(1);
    let second = results(&json(&out));
    assert_eq!(second[&name(0)], "up_to_the_hook");
    assert_eq!(second[&name(1)], "up_to_the_hook");
    assert_eq!(second[&name(2)], "failed");
    assert!(
        (3..6).all(|i| second[&name(i)] == "not_started"),
        "{second:?}"
    );
    assert!(stderr(&out).contains("failure budget (0) spent: 3 member(s) not started"));
    assert!(!p.root.join("deploy.log").exists());

    // All fixed: everyone expands, the hook runs once, everyone contracts.
    psql(&url(2), "DELETE FROM users WHERE id = 2");
    let out = p
        .strata()
        .args(["--format", "json", "run", "--group", "small"])
        .assert()
        .success();
    let third = results(&json(&out));
    assert!(third.values().all(|r| r == "resumed"), "{third:?}");
    let log = std::fs::read_to_string(p.root.join("deploy.log")).unwrap();
    assert_eq!(log, "deployed\n", "the hook ran once for the fleet");
    assert!((0..6).all(|i| finished_runs(&url(i)) == 2));
    assert!(stderr(&out).contains("check after the canaries"));
}
