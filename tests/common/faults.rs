//! Fault injection shared by the fault tests: a case is a copy of a prepared target database
//! that `strata run` is stopped on at a named point (`STRATA_FAILPOINT`), by SIGKILL or by a
//! crash of the server (`pg_ctl stop -m immediate`) while strata waits there, and then run
//! again until it succeeds. A crash stops the one test cluster every test of the binary
//! shares, so every test holds [`cluster`].

use crate::common::project::Project;
use crate::common::{crash_cluster, restart_cluster, TestDb};
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use strata::plan::{Plan, StageBody};
use strata::run::pipeline::groups;

/// What `status`, `drift` and `check` say while a run is half way.
pub const IN_PROGRESS: &str = "is in progress on this target: run `strata run` to finish it";

/// A target with a shadow server and a hook that does nothing: the manifest of the fault
/// tests of plans (`faults_online`, `faults_kinds`).
pub const MANIFEST: &str = r#"
[shadow]
url = "env:STRATA_TEST_SHADOW_URL"

[deploy]
command = "true"

[targets.test]
url = "env:STRATA_TEST_TARGET_URL"
lock_timeout = "5s"
retries = 3
"#;

/// Held by every test that crashes the cluster.
static CLUSTER: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn cluster() -> std::sync::MutexGuard<'static, ()> {
    CLUSTER.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A small project: `from` run, `rows` inserted, then `to` planned and merged.
pub fn small(manifest: &str, from: &str, rows: &str, to: &str) -> Project {
    let p = Project::create("strata-faults-", manifest, from);
    p.start();
    p.db.psql(rows);
    p.write("schema/app.sql", to);
    p.commit_all("change");
    p.plan_and_merge();
    p
}

/// The plan's statement steps (`<stage>#<n>`), with whether each runs in a transaction and
/// its SQL.
pub fn steps(plan: &Plan) -> Vec<(String, bool, String)> {
    let mut out = Vec::new();
    for stage in &plan.stages {
        if let StageBody::Statements { statements } = &stage.body {
            for (i, group) in groups(statements).into_iter().enumerate() {
                let sql: Vec<&str> = group.iter().map(|s| s.sql.as_str()).collect();
                out.push((
                    format!("{}#{i}", stage.name),
                    group[0].transactional,
                    sql.join(";\n"),
                ));
            }
        }
    }
    out
}

/// The step holding every one of `needles`.
pub fn step_with(steps: &[(String, bool, String)], needles: &[&str]) -> String {
    steps
        .iter()
        .find(|(_, _, sql)| needles.iter().all(|n| sql.contains(n)))
        .unwrap_or_else(|| panic!("no step holds {needles:?}: {steps:#?}"))
        .0
        .clone()
}

/// Every point of the statement steps: before each, after the start of those outside a
/// transaction, and after the effect of each (not yet recorded done).
pub fn points(steps: &[(String, bool, String)]) -> Vec<String> {
    let mut points = Vec::new();
    for (step, tx, _) in steps {
        points.push(format!("before:{step}"));
        if !tx {
            points.push(format!("started:{step}"));
        }
        points.push(format!("effect:{step}"));
    }
    points.push("before-final-read".into());
    points
}

/// One case: a copy of the prepared database.
pub struct Case<'a> {
    pub p: &'a Project,
    pub db: TestDb,
    pub hook_log: PathBuf,
}

impl<'a> Case<'a> {
    /// A copy of `p`'s database that keeps its commits through a crash (the test cluster
    /// runs with synchronous_commit off, under which a crash loses the last ones; a
    /// production server does not).
    pub fn of(p: &'a Project) -> Case<'a> {
        let db = p.db.copy();
        db.psql(&format!(
            "ALTER DATABASE {} SET synchronous_commit = on",
            db.name
        ));
        Case {
            p,
            hook_log: p.root.join(format!("{}-hook.out", db.name)),
            db,
        }
    }

    pub fn cli(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("strata"));
        cmd.args(["-C", self.p.root.to_str().unwrap()]).args(args);
        for (k, v) in self.p.strata().get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd.env("STRATA_TEST_TARGET_URL", &self.db.url)
            .env("HOOK_LOG", &self.hook_log)
            .env_remove("STRATA_FAILPOINT");
        cmd
    }

    pub fn output(&self, args: &[&str]) -> Output {
        self.cli(args).stdin(Stdio::null()).output().unwrap()
    }

    pub fn run(&self) -> Output {
        self.output(&["run", "--allow-destructive", "--no-rehearsal"])
    }

    /// Stops `strata run` at `point`: by SIGKILL, or by crashing the server while strata
    /// waits there (and then killing strata, whose connection is gone).
    pub fn inject(&self, point: &str, crash: bool) {
        let mut cmd = self.cli(&["run", "--allow-destructive", "--no-rehearsal"]);
        cmd.env("STRATA_FAILPOINT", point).stdin(Stdio::null());
        if point.starts_with("hook:") {
            // The hook strata leaves behind still runs when strata runs again.
            cmd.env("HOOK_SLEEP", "3");
        }
        let reached = format!("failpoint {point} reached");
        if !crash {
            let out = cmd.env("STRATA_FAILPOINT_ACTION", "kill").output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.signal() == Some(9) && stderr.contains(&reached),
                "{point}: strata was not killed there ({}):\n{stderr}",
                out.status
            );
            return;
        }
        let mut child = cmd
            .env("STRATA_FAILPOINT_ACTION", "pause")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut seen = String::new();
        for line in BufReader::new(child.stderr.take().unwrap()).lines() {
            let line = line.unwrap();
            seen.push_str(&line);
            seen.push('\n');
            if line.contains(&reached) {
                break;
            }
        }
        crash_cluster();
        let _ = child.kill();
        let status = child.wait().unwrap();
        restart_cluster();
        assert!(
            seen.contains(&reached),
            "{point}: strata did not reach it ({status}):\n{seen}"
        );
    }

    /// Whether the interrupted run recorded any step.
    pub fn begun(&self) -> bool {
        self.db.psql(
            "SELECT count(*) > 0 FROM strata.steps s JOIN strata.runs r USING (plan_id) WHERE r.finished_at IS NULL",
        ) == "t"
    }

    /// What `status`, `drift` and `check` (and `plan`, when `with_plan`) say while the run
    /// is half way: in progress, not drift.
    pub fn assert_in_progress(&self, point: &str, with_plan: bool) {
        let status = self.output(&["status", "--format", "json"]);
        let json: serde_json::Value = serde_json::from_slice(&status.stdout)
            .unwrap_or_else(|e| panic!("{point}: status: {e}: {}", text(&status)));
        assert!(
            json["run_in_progress"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(IN_PROGRESS)),
            "{point}: status: {json}\nruns: {}\nsteps: {}",
            self.db
                .psql("SELECT plan_id, started_at, finished_at FROM strata.runs"),
            self.db.psql("SELECT * FROM strata.steps")
        );
        assert_eq!(
            json["drift"],
            serde_json::json!([]),
            "{point}: status: {json}"
        );
        let mut commands = vec![vec!["drift"], vec!["check"]];
        if with_plan {
            commands.push(vec!["plan", "--no-git"]);
        }
        for args in commands {
            let out = self.output(&args);
            assert!(
                out.status.code() == Some(1) && text(&out).contains(IN_PROGRESS),
                "{point}: {args:?} ({}):\n{}",
                out.status,
                text(&out)
            );
        }
    }

    /// Runs `strata run` again until it succeeds (at most 3 runs); how many it took, and
    /// what the last one said.
    pub fn rerun(&self, point: &str) -> (usize, String) {
        for attempt in 1..=3 {
            let out = self.run();
            if out.status.success() {
                return (attempt, text(&out));
            }
            eprintln!(
                "{point}: re-run {attempt} failed ({}):\n{}",
                out.status,
                text(&out)
            );
        }
        panic!("{point}: `strata run` did not succeed in 3 runs");
    }

    /// The target has the plan's desired schema and no run in progress (`strata status`).
    pub fn assert_finished(&self, point: &str, plan: &Plan) {
        let status = self.output(&["status", "--format", "json"]);
        let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
        assert_eq!(
            json["fingerprint"].as_str(),
            Some(plan.desired_fingerprint.as_str()),
            "{point}: {json}"
        );
        assert!(json["run_in_progress"].is_null(), "{point}: {json}");
        // The run's record happened once: one snapshot for each finished run, none for a run
        // left unfinished (the finish and its snapshot share a transaction).
        assert_eq!(
            self.db.psql(
                "SELECT count(*) FROM strata.runs r \
                 WHERE (SELECT count(*) FROM strata.snapshots s WHERE s.plan_id = r.plan_id) \
                    <> (r.finished_at IS NOT NULL)::int"
            ),
            "0",
            "{point}: a run's snapshot was not stored exactly once"
        );
        assert_eq!(
            self.db
                .psql("SELECT count(*) FROM strata.runs WHERE finished_at IS NOT NULL"),
            self.db.psql(
                "SELECT count(DISTINCT plan_id) FROM strata.snapshots WHERE plan_id IS NOT NULL"
            ),
            "{point}: a snapshot names no finished run"
        );
    }

    /// Finished (above), and no drift, no invalid index.
    pub fn assert_converged(&self, point: &str, plan: &Plan) {
        self.assert_finished(point, plan);
        let drift = self.output(&["drift"]);
        assert!(
            drift.status.success() && text(&drift).contains("no drift"),
            "{point}: drift after the run: {}",
            text(&drift)
        );
        assert_eq!(
            self.db
                .psql("SELECT count(*) FROM pg_index WHERE NOT indisvalid"),
            "0",
            "{point}: an invalid index remains"
        );
    }
}

/// Stops the run of `p`'s plan at every point of `points`, by SIGKILL and by a server crash,
/// each on its own copy of the database: `at_stop` checks the copy right after the stop,
/// `at_end` after the re-runs converged. Returns one line per case.
pub fn every_fault(
    p: &Project,
    plan: &Plan,
    points: &[String],
    at_stop: impl Fn(&Case, &str),
    at_end: impl Fn(&Case, &str),
) -> Vec<String> {
    let mut outcomes = Vec::new();
    for crash in [false, true] {
        for point in points {
            let case = Case::of(p);
            case.inject(point, crash);
            at_stop(&case, point);
            if case.begun() {
                case.assert_in_progress(point, false);
            }
            let (runs, _) = case.rerun(point);
            case.assert_converged(point, plan);
            at_end(&case, point);
            let outcome = format!(
                "{:5} {point:32} converged after {runs} run(s)",
                if crash { "crash" } else { "kill" }
            );
            eprintln!("{outcome}");
            outcomes.push(outcome);
            case.db.drop_now();
        }
    }
    outcomes
}
