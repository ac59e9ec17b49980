//! Fault injection: one plan holding every kind of step (transactional DDL, a concurrent
//! index, an enum label, a NOT VALID foreign key and its VALIDATE, a batched backfill, a
//! plain migration, the deploy hook, a contract drop) on tables with rows. strata is stopped
//! at every named point of the run (`STRATA_FAILPOINT`), once by SIGKILL and once by a crash
//! of the server (`pg_ctl stop -m immediate`) at that moment; then `strata run` is run again
//! until it succeeds. Every case must converge to the plan's desired fingerprint, with each
//! migration's effect exactly once, the hook completed at least once and never twice at the
//! same time, no invalid index, and `status`/`drift`/`check`/`plan` saying the run is in
//! progress before the re-run and "no drift" after.
//!
//! Each case runs on its own copy of one prepared database (CREATE DATABASE ... TEMPLATE);
//! the cases run one after the other, since a crash stops the one cluster they share, and
//! every test here holds `faults::cluster()` for that reason (helpers shared with
//! tests/faults_online.rs: tests/common/faults.rs).

mod common;
#[allow(dead_code)]
#[path = "common/faults.rs"]
mod faults;

use common::project::Project;
use common::{crash_cluster, restart_cluster};
use faults::{cluster, small, step_with, steps, text, Case, IN_PROGRESS};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use strata::plan::{Plan, StageBody};
use strata::run::pipeline::groups;

const MANIFEST: &str = r#"
[shadow]
url = "env:STRATA_TEST_SHADOW_URL"

[deploy]
command = "exec >/dev/null 2>&1; mkdir \"$HOOK_LOG.lock\" 2>/dev/null || echo overlap >> \"$HOOK_LOG\"; echo start >> \"$HOOK_LOG\"; sleep ${HOOK_SLEEP:-0.3}; echo end >> \"$HOOK_LOG\"; rmdir \"$HOOK_LOG.lock\""

[targets.test]
url = "env:STRATA_TEST_TARGET_URL"
lock_timeout = "2s"
retries = 2
"#;

const V1: &str = "
CREATE TYPE mood AS ENUM ('sad', 'ok');
CREATE TABLE orgs (id bigint PRIMARY KEY);
CREATE TABLE users (id bigint PRIMARY KEY, org bigint, email text, mood mood, legacy text);
";

const V2: &str = "
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE orgs (id bigint PRIMARY KEY);
CREATE TABLE users (
    id bigint PRIMARY KEY,
    org bigint REFERENCES orgs (id),
    email text,
    mood mood,
    full_name text
);
CREATE INDEX users_email_idx ON users (email);
CREATE TABLE migration_effects (migration text NOT NULL, user_id bigint);
";

const BACKFILL: &str = "-- strata:batch
WITH batch AS (
    UPDATE users SET full_name = email
    WHERE id IN (SELECT id FROM users WHERE full_name IS NULL ORDER BY id LIMIT 50)
    RETURNING id
)
INSERT INTO migration_effects (migration, user_id) SELECT '0001', id FROM batch;
";

const NOTE: &str = "INSERT INTO migration_effects (migration) VALUES ('0002');\n";

const USERS: i64 = 200;

/// The prepared project: V1 run with rows, V2 planned and merged (pending.sql).
fn prepare() -> (Project, Plan) {
    let p = Project::create("strata-faults-", MANIFEST, V1);
    p.start();
    p.db.psql(&format!(
        "INSERT INTO orgs VALUES (1); \
         INSERT INTO users SELECT g, 1, 'u' || g || '@example.com', 'ok', 'x' \
         FROM generate_series(1, {USERS}) g"
    ));
    p.write("schema/app.sql", V2);
    p.write("migrations/0001_backfill.sql", BACKFILL);
    p.write("migrations/0002_note.sql", NOTE);
    p.commit_all("v2");
    p.plan_and_merge();
    let text = p.pending();
    for kind in [
        "CREATE TABLE",
        "ADD COLUMN full_name",
        "CREATE INDEX CONCURRENTLY",
        "ADD VALUE 'happy'",
        "NOT VALID",
        "VALIDATE CONSTRAINT",
        "-- migration: 0001_backfill.sql",
        "-- migration: 0002_note.sql",
        "-- hook: ",
        "DROP COLUMN legacy",
    ] {
        assert!(text.contains(kind), "the plan lacks {kind}:\n{text}");
    }
    let plan = Plan::parse("pending.sql", &text).unwrap();
    (p, plan)
}

/// Every named point of a run of `plan` (`strata::run::failpoint`).
fn points(plan: &Plan) -> Vec<String> {
    let mut points = Vec::new();
    for stage in &plan.stages {
        match &stage.body {
            StageBody::Statements { statements } => {
                for (i, group) in groups(statements).into_iter().enumerate() {
                    let step = format!("{}#{i}", stage.name);
                    points.push(format!("before:{step}"));
                    if !group[0].transactional {
                        points.push(format!("started:{step}"));
                    }
                    points.push(format!("effect:{step}"));
                }
            }
            StageBody::Migrations { migrations } => {
                points.push(format!("before:{}", stage.name));
                points.push(format!("started:{}", stage.name));
                for m in migrations {
                    if m.directives.iter().any(|d| d == "batch") {
                        points.push(format!("batch:{}", m.file));
                    }
                    points.push(format!("migration:{}", m.file));
                }
                points.push(format!("effect:{}", stage.name));
            }
            StageBody::Hook { .. } => {
                for point in ["before", "started", "hook", "effect"] {
                    points.push(format!("{point}:{}", stage.name));
                }
            }
        }
    }
    points.push("before-final-read".into());
    points.push("before-finish".into());
    points
}

impl Case<'_> {
    /// A run stopped before its first step changed nothing: no drift, no run in progress,
    /// pending.sql planned against the database as it is.
    fn assert_untouched(&self, point: &str) {
        let status = self.output(&["status", "--format", "json"]);
        let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
        assert!(json["run_in_progress"].is_null(), "{point}: {json}");
        assert_eq!(json["drift"], serde_json::json!([]), "{point}: {json}");
        assert_eq!(
            json["pending_sql"].as_str(),
            Some("present, planned against the database as it is"),
            "{point}: {json}"
        );
    }

    /// Converged (`Case::assert_converged`), each migration's effect once, the hook
    /// completed and never twice at once.
    fn assert_converged_once(&self, point: &str, plan: &Plan) {
        self.assert_converged(point, plan);
        // pending.sql stays (no --git-commit here): check says it ran, without planning.
        let check = self.output(&["check"]);
        assert!(
            text(&check).contains("pending.sql already ran on this target"),
            "{point}: check after the run: {}",
            text(&check)
        );
        assert_eq!(
            self.db.psql(
                "SELECT count(*) || ',' || count(DISTINCT user_id) FROM migration_effects WHERE migration = '0001'"
            ),
            format!("{USERS},{USERS}"),
            "{point}: the backfill did not touch each row exactly once"
        );
        assert_eq!(
            self.db
                .psql("SELECT count(*) FROM migration_effects WHERE migration = '0002'"),
            "1",
            "{point}: the plain migration did not run exactly once"
        );
        assert_eq!(
            self.db
                .psql("SELECT count(*) FROM users WHERE full_name IS DISTINCT FROM email"),
            "0",
            "{point}"
        );
        let log = std::fs::read_to_string(&self.hook_log).unwrap_or_default();
        assert!(
            log.lines().any(|l| l == "end"),
            "{point}: the hook never completed:\n{log}"
        );
        assert!(
            !log.contains("overlap"),
            "{point}: two hooks ran at once:\n{log}"
        );
    }
}

fn hook_runs(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| *l == "end")
        .count()
}

#[test]
fn every_fault_at_every_point_converges_when_run_again() {
    let _cluster = cluster();
    let started = std::time::Instant::now();
    let (p, plan) = prepare();
    let points = points(&plan);
    let logs = common::reachable_tempdir("strata-faults-hooks-");

    // Without a fault: one run, the hook once.
    let clean = Case {
        p: &p,
        db: p.db.copy(),
        hook_log: logs.path().join("clean.log"),
    };
    assert_eq!(clean.rerun("no fault").0, 1);
    clean.assert_converged_once("no fault", &plan);
    assert_eq!(hook_runs(&clean.hook_log), 1);
    clean.db.drop_now();

    let mut outcomes = Vec::new();
    for crash in [false, true] {
        for (i, point) in points.iter().enumerate() {
            let case = Case {
                p: &p,
                db: p.db.copy(),
                hook_log: logs.path().join(format!("{crash}-{i}.log")),
            };
            // The test cluster runs with synchronous_commit off, under which a crash loses
            // the last commits; a production server does not.
            case.db.psql(&format!(
                "ALTER DATABASE {} SET synchronous_commit = on",
                case.db.name
            ));
            case.inject(point, crash);
            if case.begun() {
                // `plan` is asked in a third of the cases: it says the same as check.
                case.assert_in_progress(point, i % 3 == 0);
            } else {
                case.assert_untouched(point);
            }
            let (runs, said) = case.rerun(point);
            if point.starts_with("hook:") {
                assert!(
                    said.contains("still runs (pid") && said.contains("waiting for it to end"),
                    "{point}: the re-run did not wait for the hook left behind:\n{said}"
                );
            }
            case.assert_converged_once(point, &plan);
            outcomes.push(format!(
                "{:5} {point:32} converged after {runs} run(s), hook completed {} time(s)",
                if crash { "crash" } else { "kill" },
                hook_runs(&case.hook_log)
            ));
            case.db.drop_now();
        }
    }
    eprintln!(
        "{} faults injected in {:.0} s ({} points x SIGKILL and server crash), all converged:\n{}",
        outcomes.len(),
        started.elapsed().as_secs_f64(),
        points.len(),
        outcomes.join("\n")
    );
}

const PLAIN: &str = r#"
[shadow]
url = "env:STRATA_TEST_SHADOW_URL"

[targets.test]
url = "env:STRATA_TEST_TARGET_URL"
"#;

#[test]
fn a_concurrent_index_left_invalid_by_a_crash_is_dropped_and_built_again() {
    let _cluster = cluster();
    let p = small(
        PLAIN,
        "CREATE TABLE t (id int PRIMARY KEY, a int);\n",
        "INSERT INTO t SELECT g, g FROM generate_series(1, 100) g",
        "CREATE TABLE t (id int PRIMARY KEY, a int);\nCREATE INDEX t_a_idx ON t (a);\n",
    );
    assert!(p.pending().contains("CREATE INDEX CONCURRENTLY t_a_idx"));
    let case = Case {
        p: &p,
        db: p.db.copy(),
        hook_log: p.root.join("hook.out"),
    };
    case.inject("started:expand#0", false);
    // What a crash in the middle of the build leaves: the index, invalid.
    case.db.psql(
        "CREATE INDEX t_a_idx ON t (a); \
         UPDATE pg_index SET indisvalid = false WHERE indexrelid = 't_a_idx'::regclass",
    );
    case.assert_in_progress("started:expand#0", true);
    let out = case.run();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("index public.t_a_idx was left invalid: dropped it, building it again"),
        "{}",
        text(&out)
    );
    assert_eq!(
        case.db
            .psql("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_a_idx'::regclass"),
        "t"
    );
    let drift = case.output(&["drift"]);
    assert!(text(&drift).contains("no drift"), "{}", text(&drift));
}

#[test]
fn a_hook_interrupted_on_another_machine_needs_the_operator_to_say() {
    let _cluster = cluster();
    let p = small(
        MANIFEST,
        "CREATE TABLE t (id int PRIMARY KEY);\n",
        "SELECT 1",
        "CREATE TABLE t (id int PRIMARY KEY, a int);\n",
    );
    let case = Case {
        p: &p,
        db: p.db.copy(),
        hook_log: p.root.join("hook.out"),
    };
    case.inject("hook:deploy", false);
    // As if that run had been on another CI runner.
    case.db.psql(
        "UPDATE strata.steps SET process = regexp_replace(process, 'host=\\S+', 'host=elsewhere') \
         WHERE step = 'deploy'",
    );
    let refused = case.run();
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("strata::run::hook_interrupted")
            && text(&refused).contains("--hook-done"),
        "{}",
        text(&refused)
    );
    let done = case.output(&["run", "--no-rehearsal", "--hook-done"]);
    assert!(done.status.success(), "{}", text(&done));
    assert!(
        text(&done).contains("taken as done (--hook-done)"),
        "{}",
        text(&done)
    );
    // The hook that strata lost was not started again.
    let log = std::fs::read_to_string(&case.hook_log).unwrap();
    assert_eq!(log.lines().filter(|l| *l == "start").count(), 1, "{log}");
}

#[test]
fn a_hook_that_changes_the_schema_leaves_the_run_unfinished_for_good() {
    let _cluster = cluster();
    let manifest = PLAIN.replace(
        "[targets.test]",
        "[deploy]\ncommand = \"test -z \\\"$SNEAKY\\\" || psql \\\"$STRATA_TEST_TARGET_URL\\\" -Xqc 'CREATE TABLE IF NOT EXISTS sneaky (id int)'\"\n\n[targets.test]",
    );
    let p = small(
        &manifest,
        "CREATE TABLE t (id int PRIMARY KEY);\n",
        "SELECT 1",
        "CREATE TABLE t (id int PRIMARY KEY, a int);\n",
    );
    for _ in 0..2 {
        let out = p
            .strata()
            .args(["run", "--no-rehearsal"])
            .env("SNEAKY", "1")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(
            text(&out).contains("strata::run::diverged"),
            "{}",
            text(&out)
        );
    }
}

#[test]
fn a_change_made_while_a_run_was_interrupted_is_refused_and_is_drift() {
    let _cluster = cluster();
    let p = small(
        PLAIN,
        "CREATE TABLE t (id int PRIMARY KEY);\n",
        "SELECT 1",
        "CREATE TABLE t (id int PRIMARY KEY, a int);\nCREATE TABLE u (id int);\n",
    );
    let case = Case {
        p: &p,
        db: p.db.copy(),
        hook_log: p.root.join("hook.out"),
    };
    case.inject("before-final-read", false);
    case.db.psql("CREATE TABLE sneaky (id int)");
    let refused = case.run();
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("strata::run::changed_during_run"),
        "{}",
        text(&refused)
    );
    let drift = case.output(&["drift"]);
    assert_eq!(drift.status.code(), Some(1));
    assert!(
        text(&drift).contains("sneaky") && !text(&drift).contains(IN_PROGRESS),
        "{}",
        text(&drift)
    );
}

#[test]
fn another_plan_is_refused_while_a_run_is_in_progress_and_says_which() {
    let _cluster = cluster();
    let p = small(
        PLAIN,
        "CREATE TABLE t (id int PRIMARY KEY);\n",
        "SELECT 1",
        "CREATE TABLE t (id int PRIMARY KEY, a int);\n",
    );
    let case = Case {
        p: &p,
        db: p.db.copy(),
        hook_log: p.root.join("hook.out"),
    };
    case.inject("before-final-read", false);
    // Another plan made from the same source (only its header differs).
    let planned = p.pending();
    let other = planned.replace("-- planned-at: ", "-- planned-at: 1999 ");
    assert_ne!(planned, other);
    p.write("pending.sql", &other);
    let refused = case.run();
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("strata::run::other_run_in_progress"),
        "{}",
        text(&refused)
    );
    p.write("pending.sql", &planned);
    let (runs, _) = case.rerun("before-final-read");
    assert_eq!(runs, 1);
}

/// Issue 17: dependents dropped and created again in one transaction (a function's result
/// type changes under a view) and the online type change's swap (a view over the column,
/// recreated in the swap's transaction).
const WINDOWS: &str = r#"
[shadow]
url = "env:STRATA_TEST_SHADOW_URL"

[targets.test]
url = "env:STRATA_TEST_TARGET_URL"
lock_timeout = "30s"
retries = 3
"#;

const WINDOWS_V1: &str = "
CREATE TABLE users (id bigint PRIMARY KEY, age integer, note text);
CREATE FUNCTION answer() RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT 42 $$;
CREATE VIEW adults AS SELECT id, age FROM users WHERE age >= 18;
CREATE VIEW answers AS SELECT id, answer() AS answer FROM users;
";

const WINDOWS_V2: &str = "
CREATE TABLE users (id bigint PRIMARY KEY, age bigint, note text);
CREATE FUNCTION answer() RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT 42::bigint $$;
CREATE VIEW adults AS SELECT id, age FROM users WHERE age >= 18;
CREATE VIEW answers AS SELECT id, answer() AS answer FROM users;
";

const WINDOWS_ROWS: &str =
    "INSERT INTO users SELECT g, g % 90, 'n' || g FROM generate_series(1, 300) g";

impl Case<'_> {
    /// The deployed code's objects are there, with their rows, whatever point the run
    /// stopped at.
    fn assert_dependents_present(&self, point: &str) {
        assert_eq!(
            self.db.psql(
                "SELECT (SELECT count(*) FROM adults) || ',' || (SELECT sum(answer) FROM answers)"
            ),
            "229,12600",
            "{point}: a dependent is missing or wrong"
        );
    }

    fn assert_retyped(&self, point: &str, plan: &Plan) {
        self.assert_finished(point, plan);
        self.assert_dependents_present(point);
        // Every row once, with its value (the backfill and the swap took effect once).
        assert_eq!(
            self.db.psql(
                "SELECT count(*) || ',' || sum(age) || ',' || pg_typeof(sum(age))::text \
                 || ',' || (SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
                 WHERE attrelid = 'users'::regclass AND attname = 'age') FROM users"
            ),
            format!(
                "300,{},numeric,bigint",
                (1..=300).map(|g| g % 90).sum::<i64>()
            ),
            "{point}"
        );
    }
}

#[test]
fn faults_in_the_no_window_groups_and_the_retype_swap_converge_with_dependents_kept() {
    let _cluster = cluster();
    let p = small(WINDOWS, WINDOWS_V1, WINDOWS_ROWS, WINDOWS_V2);
    let plan = Plan::parse("pending.sql", &p.pending()).unwrap();
    let steps = steps(&plan);
    // The two windows of issue 17, each one transaction (one step).
    step_with(
        &steps,
        &[
            "DROP VIEW public.answers",
            "DROP FUNCTION public.answer()",
            "CREATE VIEW public.answers",
        ],
    );
    step_with(
        &steps,
        &[
            "DROP VIEW public.adults",
            "RENAME COLUMN users_age_strata_new TO age",
            "CREATE VIEW public.adults",
        ],
    );
    let mut points = Vec::new();
    for (step, tx, _) in &steps {
        points.push(format!("before:{step}"));
        if !tx {
            points.push(format!("started:{step}"));
        }
        points.push(format!("effect:{step}"));
    }
    let mut outcomes = Vec::new();
    for crash in [false, true] {
        for point in &points {
            let case = Case {
                p: &p,
                db: p.db.copy(),
                hook_log: p.root.join("hook.out"),
            };
            case.db.psql(&format!(
                "ALTER DATABASE {} SET synchronous_commit = on",
                case.db.name
            ));
            case.inject(point, crash);
            case.assert_dependents_present(point);
            let (runs, _) = case.rerun(point);
            case.assert_retyped(point, &plan);
            outcomes.push(format!(
                "{:5} {point:24} converged after {runs} run(s)",
                if crash { "crash" } else { "kill" }
            ));
            case.db.drop_now();
        }
    }
    eprintln!("{}", outcomes.join("\n"));
}

/// A deadlock with the application (the swap's transaction holds the view and waits for the
/// table; the application holds the table and then reads the view): PostgreSQL aborts the
/// swap's transaction, strata retries it. Stopped right after that rollback (SIGKILL, or a
/// server crash), the run resumes: the view never went missing and the change took effect once.
#[test]
fn a_run_stopped_while_retrying_after_a_deadlock_resumes() {
    let _cluster = cluster();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(deadlock_then_fault());
}

async fn deadlock_then_fault() {
    let p = small(WINDOWS, WINDOWS_V1, WINDOWS_ROWS, WINDOWS_V2);
    let plan = Plan::parse("pending.sql", &p.pending()).unwrap();
    let swap = step_with(
        &steps(&plan),
        &["DROP VIEW public.adults", "CREATE VIEW public.adults"],
    );
    for crash in [false, true] {
        let case = Case {
            p: &p,
            db: p.db.copy(),
            hook_log: p.root.join("hook.out"),
        };
        case.db.psql(&format!(
            "ALTER DATABASE {} SET synchronous_commit = on",
            case.db.name
        ));
        // Everything before the swap done.
        case.inject(&format!("before:{swap}"), false);
        let app = case.db.client().await;
        app.batch_execute("BEGIN; SET LOCAL deadlock_timeout = '1h'; SELECT count(*) FROM users")
            .await
            .unwrap();
        let app_pid: i32 = app
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap()
            .get(0);
        let point = format!("retry:{swap}");
        let mut run = case.cli(&["run", "--allow-destructive", "--no-rehearsal"]);
        run.env("STRATA_FAILPOINT", &point)
            .env(
                "STRATA_FAILPOINT_ACTION",
                if crash { "pause" } else { "kill" },
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let started = std::time::Instant::now();
        let mut child = run.spawn().unwrap();
        // The swap waits for the table the application holds; then the application reads
        // the view the swap holds: a deadlock, which the swap's session detects (the
        // application's deadlock_timeout is an hour).
        let watcher = case.db.client().await;
        loop {
            let waiting: i64 = watcher
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> $1",
                    &[&app_pid],
                )
                .await
                .unwrap()
                .get(0);
            if waiting > 0 {
                break;
            }
            assert!(started.elapsed() < std::time::Duration::from_secs(60));
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let read = tokio::spawn(async move {
            let r = app.simple_query("SELECT count(*) FROM adults").await;
            (app, r.map(|_| ()))
        });
        let stderr = child.stderr.take().unwrap();
        let reached = tokio::task::spawn_blocking({
            let point = point.clone();
            move || {
                let mut seen = String::new();
                for line in BufReader::new(stderr).lines() {
                    let line = line.unwrap();
                    seen.push_str(&line);
                    seen.push('\n');
                    if line.contains(&format!("failpoint {point} reached")) {
                        return (true, seen);
                    }
                }
                (false, seen)
            }
        })
        .await
        .unwrap();
        assert!(reached.0, "{point}: not reached:\n{}", reached.1);
        // Well within the 30 s lock_timeout: the deadlock, not a timeout, ended the wait.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
        if crash {
            crash_cluster();
            let _ = child.kill();
            child.wait().unwrap();
            restart_cluster();
            let _ = read.await;
        } else {
            child.wait().unwrap();
            let (app, r) = read.await.unwrap();
            r.expect("the application's read of the view, after the swap rolled back");
            app.batch_execute("COMMIT").await.unwrap();
        }
        drop(watcher);
        case.assert_dependents_present(&point);
        let (runs, _) = case.rerun(&point);
        assert_eq!(runs, 1);
        case.assert_retyped(&point, &plan);
        case.db.drop_now();
    }
}
