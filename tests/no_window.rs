//! No window without an object the deployed code uses (issue 17, item 1): a change that
//! forces dependents to be dropped and recreated drops, changes and recreates them in one
//! transaction, and the deployed code querying them throughout `strata run` never fails.

mod common;

use common::project::Project;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MANIFEST: &str = r#"
[shadow]
url = "env:STRATA_TEST_SHADOW_URL"

[deploy]
command = "true"

[targets.test]
url = "env:STRATA_TEST_TARGET_URL"
lock_timeout = "1s"
retries = 5
"#;

const V1: &str = "
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE users (id bigint PRIMARY KEY, age integer, fullname text, mood mood);
CREATE FUNCTION any_adult() RETURNS boolean LANGUAGE sql STABLE
BEGIN ATOMIC SELECT EXISTS (SELECT 1 FROM users WHERE age >= 18); END;
CREATE VIEW adults AS SELECT id, age, any_adult() AS any_adult FROM users WHERE age >= 18;
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY grown_ups ON users USING (age >= 0);
";

const V2: &str = "
CREATE TYPE mood AS ENUM ('happy', 'sad', 'calm');
CREATE TABLE users (
  id bigint PRIMARY KEY,
  age bigint,
  -- strata:renamed-from fullname
  full_name text,
  mood mood
);
CREATE FUNCTION any_adult() RETURNS boolean LANGUAGE sql STABLE
BEGIN ATOMIC SELECT EXISTS (SELECT 1 FROM users WHERE age >= 18); END;
CREATE VIEW adults AS SELECT id, age, any_adult() AS any_adult FROM users WHERE age >= 18;
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY grown_ups ON users USING (age >= 0);
";

/// The statements of the expand stage of `pending`, one block each (with its annotations).
fn expand_blocks(pending: &str) -> Vec<&str> {
    let start = pending
        .find("-- ==== stage expand")
        .expect("an expand stage");
    let end = pending[start..]
        .find("-- ==== stage data")
        .expect("a data stage")
        + start;
    pending[start..end]
        .split("\n\n")
        .filter(|b| b.contains("-- hazards:"))
        .collect()
}

/// No committed boundary (a no-transaction statement, which the run executes alone) lies
/// between the statement containing `drop` and the one containing `create`.
fn assert_one_transaction(pending: &str, drop: &str, create: &str) {
    let blocks = expand_blocks(pending);
    let at = |needle: &str| {
        blocks
            .iter()
            .position(|b| b.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in expand:\n{pending}"))
    };
    let (d, c) = (at(drop), at(create));
    assert!(d < c, "{drop} after {create}:\n{pending}");
    for b in &blocks[d..=c] {
        assert!(
            !b.contains("-- strata:no-transaction"),
            "a committed boundary between {drop} and {create}:\n{b}\n\nin:\n{pending}"
        );
        assert!(!b.contains("breaks_deployed_code"), "{b}");
    }
}

/// What the deployed code does, over and over: read through the view, call the function (in it),
/// and (as a catalog check, the owner bypassing row security) see the policy.
const OLD_CODE: [&str; 3] = [
    "SELECT count(*) FROM adults WHERE any_adult",
    // Through the view: a direct call of a function with a SQL-standard body (`BEGIN ATOMIC`)
    // that waits for the swap's lock can fail with "attribute N of type users has been
    // dropped": PostgreSQL does not look the body up again after the wait (docs/hazards.md).
    "SELECT any_adult FROM adults LIMIT 1",
    "SELECT 1 / count(*) FROM pg_policy WHERE polname = 'grown_ups'",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dependents_of_a_retyped_column_never_go_missing_during_the_run() {
    let p = Project::create("strata-nowin-", MANIFEST, V1);
    p.start();
    p.db.psql(
        "INSERT INTO users SELECT g, g % 90, 'n' || g, 'happy' FROM generate_series(1, 20000) g",
    );
    p.write("schema/app.sql", V2);
    p.commit_all("change");
    p.plan_and_merge();
    let pending = p.pending();
    assert_one_transaction(
        &pending,
        "DROP VIEW public.adults",
        "CREATE VIEW public.adults",
    );
    assert_one_transaction(
        &pending,
        "DROP FUNCTION public.any_adult()",
        "CREATE OR REPLACE FUNCTION public.any_adult()",
    );
    assert_one_transaction(&pending, "DROP POLICY grown_ups", "CREATE POLICY grown_ups");
    // The dependents go around the swap, not the whole online type change.
    let blocks = expand_blocks(&pending);
    let drop_view = blocks.iter().position(|b| b.contains("DROP VIEW")).unwrap();
    let backfill = blocks
        .iter()
        .position(|b| b.contains("users_age_strata_new = age::bigint"))
        .expect("an online type change");
    assert!(backfill < drop_view, "{pending}");
    assert!(blocks[drop_view..]
        .iter()
        .any(|b| b.contains("RENAME COLUMN users_age_strata_new TO age")));

    let stop = Arc::new(AtomicBool::new(false));
    let client = p.db.client().await;
    let traffic = tokio::spawn({
        let stop = stop.clone();
        async move {
            let (mut ok, mut failed) = (0u32, Vec::new());
            let deadline = Instant::now() + Duration::from_secs(120);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                let query = OLD_CODE[(ok as usize + failed.len()) % OLD_CODE.len()];
                match client.simple_query(query).await {
                    Ok(_) => ok += 1,
                    Err(e) => failed.push(
                        e.as_db_error()
                            .map_or_else(|| e.to_string(), |d| d.message().to_string()),
                    ),
                }
            }
            (ok, failed)
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut run = p.strata();
    run.args(["run", "--git-commit"]);
    let status = tokio::task::spawn_blocking(move || run.assert().success())
        .await
        .unwrap();
    drop(status);
    stop.store(true, Ordering::Relaxed);
    let (ok, failed) = traffic.await.unwrap();
    assert!(
        failed.is_empty(),
        "{} failed queries: {failed:?}",
        failed.len()
    );
    assert!(ok > 20, "only {ok} queries ran during the run");
    assert_eq!(
        p.db.psql("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'age'"),
        "bigint"
    );
    assert_eq!(p.db.psql("SELECT count(*) FROM adults"), "15987");
    p.strata()
        .arg("plan")
        .assert()
        .success()
        .stdout(predicates::str::contains("nothing to change"));
}
