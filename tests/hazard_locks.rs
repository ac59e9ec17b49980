//! Hazards that mean what they say (issue 17, item 4): every statement strata plans for one
//! change of each kind is executed on real PostgreSQL while another connection reads
//! `pg_locks`, and the lock it took (and whether it rewrote the table) is compared with the
//! hazards pending.sql gives it:
//! - `table_rewrite` ⇔ the table's relfilenode changed;
//! - `access_exclusive_lock` ⇒ an AccessExclusiveLock on a table;
//! - `blocks_writes`, `index_build`, `non_concurrent_index` ⇒ a ShareLock or stronger;
//!   a plain `CREATE INDEX` (ShareLock for the build) ⇒ `index_build`;
//! - `full_table_validation` ⇒ ShareUpdateExclusiveLock, nothing stronger;
//! - no lock hazard ⇒ the statement changed the catalog only: no rewrite, and a
//!   ShareLock/ShareRowExclusiveLock only from statements that do not scan (triggers,
//!   `NOT VALID` foreign keys).
//!
//! Transactional statements run in a transaction left open while the locks are read (table
//! locks are held to the end of the transaction); the others (concurrent builds, backfills)
//! are watched by polling `pg_locks` while they run.

mod common;

use common::project::Project;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use strata::plan::pending::StageBody;

const MANIFEST: &str = r#"
[shadow]
url = "env:STRATA_TEST_SHADOW_URL"

[deploy]
command = "true"

[targets.test]
url = "env:STRATA_TEST_TARGET_URL"
"#;

/// One table per change kind, each with rows.
const V1: &str = "
CREATE TYPE colour AS ENUM ('red', 'green');
CREATE TABLE parent (id bigint PRIMARY KEY);
CREATE TABLE add_nullable (id bigint PRIMARY KEY, a text);
CREATE TABLE add_default (id bigint PRIMARY KEY, a text);
CREATE TABLE add_not_null (id bigint PRIMARY KEY, a text);
CREATE TABLE add_volatile (id bigint PRIMARY KEY, a text);
CREATE TABLE drop_col (id bigint PRIMARY KEY, a text, gone text);
CREATE TABLE retype_online (id bigint PRIMARY KEY, n integer);
CREATE TABLE retype_indexed (id bigint PRIMARY KEY, n integer);
CREATE INDEX retype_indexed_n ON retype_indexed (n);
CREATE TABLE widen_varchar (id bigint PRIMARY KEY, s varchar(10));
CREATE TABLE narrow_int (id bigint PRIMARY KEY, n bigint);
CREATE TABLE add_index (id bigint PRIMARY KEY, a integer);
CREATE TABLE drop_index (id bigint PRIMARY KEY, a integer);
CREATE INDEX drop_index_a ON drop_index (a);
CREATE TABLE add_unique (id bigint PRIMARY KEY, a integer);
CREATE TABLE add_fk (id bigint PRIMARY KEY, parent_id bigint);
CREATE TABLE add_check (id bigint PRIMARY KEY, a integer);
CREATE TABLE set_not_null (id bigint PRIMARY KEY, a integer);
CREATE TABLE drop_not_null (id bigint PRIMARY KEY, a integer NOT NULL);
CREATE TABLE set_default (id bigint PRIMARY KEY, a integer);
CREATE TABLE with_trigger (id bigint PRIMARY KEY, a integer);
CREATE TABLE with_policy (id bigint PRIMARY KEY, a integer);
CREATE TABLE with_view (id bigint PRIMARY KEY, a integer);
CREATE VIEW the_view AS SELECT id FROM with_view;
CREATE TABLE renamed (id bigint PRIMARY KEY, old_name text);
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
";

const V2: &str = "
CREATE TYPE colour AS ENUM ('red', 'green', 'blue');
CREATE TABLE parent (id bigint PRIMARY KEY);
CREATE TABLE add_nullable (id bigint PRIMARY KEY, a text, b text);
CREATE TABLE add_default (id bigint PRIMARY KEY, a text, b text DEFAULT 'x');
CREATE TABLE add_not_null (id bigint PRIMARY KEY, a text, b text NOT NULL DEFAULT 'x');
CREATE TABLE add_volatile (id bigint PRIMARY KEY, a text, b timestamptz DEFAULT clock_timestamp());
CREATE TABLE drop_col (id bigint PRIMARY KEY, a text);
CREATE TABLE retype_online (id bigint PRIMARY KEY, n bigint);
CREATE TABLE retype_indexed (id bigint PRIMARY KEY, n bigint);
CREATE INDEX retype_indexed_n ON retype_indexed (n);
CREATE TABLE widen_varchar (id bigint PRIMARY KEY, s varchar(20));
CREATE TABLE narrow_int (id bigint PRIMARY KEY, n integer);
CREATE TABLE add_index (id bigint PRIMARY KEY, a integer);
CREATE INDEX add_index_a ON add_index (a);
CREATE TABLE drop_index (id bigint PRIMARY KEY, a integer);
CREATE TABLE add_unique (id bigint PRIMARY KEY, a integer CONSTRAINT add_unique_a_key UNIQUE);
CREATE TABLE add_fk (id bigint PRIMARY KEY, parent_id bigint CONSTRAINT add_fk_parent REFERENCES parent (id));
CREATE TABLE add_check (id bigint PRIMARY KEY, a integer CONSTRAINT add_check_a CHECK (a >= 0));
CREATE TABLE set_not_null (id bigint PRIMARY KEY, a integer NOT NULL);
CREATE TABLE drop_not_null (id bigint PRIMARY KEY, a integer);
CREATE TABLE set_default (id bigint PRIMARY KEY, a integer DEFAULT 7);
CREATE TABLE with_trigger (id bigint PRIMARY KEY, a integer);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER with_trigger_touch BEFORE UPDATE ON with_trigger FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TABLE with_policy (id bigint PRIMARY KEY, a integer);
CREATE POLICY with_policy_all ON with_policy USING (a >= 0);
CREATE TABLE with_view (id bigint PRIMARY KEY, a integer);
CREATE VIEW the_view AS SELECT id, a FROM with_view;
CREATE TABLE renamed (
  id bigint PRIMARY KEY,
  -- strata:renamed-from old_name
  new_name text
);
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
";

/// Every table of V1 gets this many rows (enough for a concurrent build to be seen running).
const ROWS: u32 = 20000;

#[derive(Debug)]
struct Measured {
    sql: String,
    hazards: BTreeSet<String>,
    /// The strongest lock mode taken on a table of `public`, by table.
    locks: BTreeMap<String, String>,
    rewritten: BTreeSet<String>,
}

/// The statements of pending.sql's schema stages with their hazards and transactionality,
/// read by the pending.sql codec (`plan::pending`).
fn statements(pending: &str) -> Vec<(String, BTreeSet<String>, bool)> {
    let plan = strata::plan::pending::Plan::parse("pending.sql", pending).unwrap();
    plan.stages
        .into_iter()
        .filter_map(|stage| match stage.body {
            StageBody::Statements { statements } => Some(statements),
            _ => None,
        })
        .flatten()
        .map(|s| {
            let hazards = s.hazards.iter().map(|h| h.id().to_string()).collect();
            (s.sql, hazards, s.transactional)
        })
        .collect()
}

/// Whether `sql` builds an index without `CONCURRENTLY`.
fn plain_index_build(sql: &str) -> bool {
    let parsed = pg_query::parse(sql).unwrap();
    parsed.protobuf.stmts.iter().any(|s| {
        matches!(
            s.stmt.as_ref().and_then(|n| n.node.as_ref()),
            Some(pg_query::NodeEnum::IndexStmt(i)) if !i.concurrent
        )
    })
}

const STRENGTH: [&str; 8] = [
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
];

fn strength(mode: &str) -> usize {
    STRENGTH.iter().position(|m| *m == mode).unwrap()
}

const LOCKS: &str =
    "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
     WHERE l.pid = $1 AND l.locktype = 'relation' AND l.granted AND c.relkind IN ('r', 'p', 'v', 'm') \
     AND c.relnamespace = 'public'::regnamespace";
const FILENODES: &str =
    "SELECT relname, relfilenode::text FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'";

async fn filenodes(client: &tokio_postgres::Client) -> BTreeMap<String, String> {
    client
        .query(FILENODES, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn note(locks: &mut BTreeMap<String, String>, rows: &[tokio_postgres::Row]) {
    for row in rows {
        let (table, mode): (String, String) = (row.get(0), row.get(1));
        let stronger = locks
            .get(&table)
            .is_none_or(|seen| strength(&mode) > strength(seen));
        if stronger {
            locks.insert(table, mode);
        }
    }
}

/// Runs `sql` on `runner` and returns the locks `watcher` saw it take.
async fn measure(
    runner: &Arc<tokio_postgres::Client>,
    watcher: &tokio_postgres::Client,
    pid: i32,
    sql: &str,
    transactional: bool,
) -> (BTreeMap<String, String>, BTreeSet<String>) {
    let before = filenodes(runner).await;
    let mut locks = BTreeMap::new();
    if transactional {
        runner.batch_execute("BEGIN").await.unwrap();
        runner
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
        note(&mut locks, &watcher.query(LOCKS, &[&pid]).await.unwrap());
        runner.batch_execute("COMMIT").await.unwrap();
    } else {
        let done = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let (runner, sql, done) = (runner.clone(), sql.to_string(), done.clone());
            async move {
                let r = runner.batch_execute(&sql).await;
                done.store(true, Ordering::Relaxed);
                r.unwrap_or_else(|e| panic!("{sql}: {e:?}"));
            }
        });
        while !done.load(Ordering::Relaxed) {
            note(&mut locks, &watcher.query(LOCKS, &[&pid]).await.unwrap());
        }
        task.await.unwrap();
    }
    let after = filenodes(runner).await;
    let rewritten = before
        .iter()
        .filter(|(t, node)| after.get(*t).is_some_and(|n| n != *node))
        .map(|(t, _)| t.clone())
        .collect();
    (locks, rewritten)
}

fn strongest(m: &Measured) -> Option<&str> {
    m.locks
        .values()
        .max_by_key(|mode| strength(mode))
        .map(String::as_str)
}

/// The rules of the module's comment; the problems found, one line each.
fn check(m: &Measured) -> Vec<String> {
    let mut problems = Vec::new();
    let has = |h: &str| m.hazards.contains(h);
    let top = strongest(m).map_or(0, strength);
    let access_exclusive = strength("AccessExclusiveLock");
    if has("table_rewrite") == m.rewritten.is_empty() {
        problems.push(format!(
            "table_rewrite claimed {}, rewritten: {:?}",
            has("table_rewrite"),
            m.rewritten
        ));
    }
    if has("access_exclusive_lock") && top != access_exclusive {
        problems.push(format!(
            "access_exclusive_lock claimed, took {:?}",
            strongest(m)
        ));
    }
    for h in ["blocks_writes", "index_build", "non_concurrent_index"] {
        if has(h) && top < strength("ShareLock") {
            problems.push(format!("{h} claimed, took {:?}", strongest(m)));
        }
    }
    if has("full_table_validation") && top != strength("ShareUpdateExclusiveLock") {
        problems.push(format!(
            "full_table_validation claimed, took {:?}",
            strongest(m)
        ));
    }
    if plain_index_build(&m.sql) && !has("index_build") {
        problems.push("a plain index build without index_build".into());
    }
    let lock_hazards = [
        "table_rewrite",
        "access_exclusive_lock",
        "blocks_writes",
        "index_build",
        "validation_scan",
    ];
    let scans = m.sql.contains(" VALIDATE CONSTRAINT ") || m.sql.contains(" SET NOT NULL");
    if !lock_hazards.iter().any(|h| has(h))
        && top >= strength("ShareLock")
        && top < access_exclusive
        && scans
    {
        problems.push(format!(
            "blocks writes while it scans ({:?}) without a hazard",
            strongest(m)
        ));
    }
    let adds_plain_column = m.sql.contains(" ADD COLUMN ")
        && !["NOT NULL", "CHECK", "UNIQUE", "REFERENCES", "PRIMARY KEY"]
            .iter()
            .any(|w| m.sql.contains(w));
    if adds_plain_column && has("may_fail_on_data") {
        problems.push("may_fail_on_data on a column that cannot fail".into());
    }
    problems
}

/// A partition added to the live partitioned table `events` never takes more than SHARE UPDATE
/// EXCLUSIVE on it (`ATTACH PARTITION`; `PARTITION OF` would take ACCESS EXCLUSIVE), and the
/// statements that add it do run.
fn partition_added_online(measured: &[Measured]) -> Vec<String> {
    let adding: Vec<_> = measured
        .iter()
        .filter(|m| m.locks.contains_key("events_2025"))
        .collect();
    if adding.is_empty() {
        return vec!["no planned statement created events_2025".into()];
    }
    adding
        .iter()
        .filter_map(|m| {
            let on_parent = m.locks.get("events").map_or(0, |mode| strength(mode));
            (on_parent > strength("ShareUpdateExclusiveLock")).then(|| {
                format!(
                    "{}: took {:?} on the parent events",
                    m.sql.lines().next().unwrap(),
                    m.locks.get("events")
                )
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_planned_statement_takes_the_lock_its_hazards_say() {
    let p = Project::create("strata-locks-", MANIFEST, V1);
    p.start();
    for table in [
        "parent",
        "add_nullable",
        "add_default",
        "add_not_null",
        "add_volatile",
        "drop_col",
        "retype_online",
        "retype_indexed",
        "widen_varchar",
        "narrow_int",
        "add_index",
        "drop_index",
        "add_unique",
        "add_fk",
        "add_check",
        "set_not_null",
        "set_default",
        "with_trigger",
        "with_policy",
        "with_view",
    ] {
        p.db.psql(&format!(
            "INSERT INTO {table} (id) SELECT g FROM generate_series(1, {ROWS}) g"
        ));
    }
    p.db.psql(&format!("INSERT INTO drop_not_null SELECT g, 1 FROM generate_series(1, {ROWS}) g; UPDATE set_not_null SET a = 1; UPDATE add_check SET a = 1; UPDATE add_fk SET parent_id = id; UPDATE add_unique SET a = id; INSERT INTO renamed SELECT g, 'n' FROM generate_series(1, {ROWS}) g; INSERT INTO events SELECT g, date '2024-01-01' + g % 365 FROM generate_series(1, {ROWS}) g"));
    p.write("schema/app.sql", V2);
    p.commit_all("change");
    p.plan_and_merge();
    let pending = p.pending();
    let runner = Arc::new(p.db.client().await);
    let watcher = p.db.client().await;
    let pid: i32 = runner
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    let mut measured = Vec::new();
    for (sql, hazards, transactional) in statements(&pending) {
        // A statement planned alone that PostgreSQL allows in a transaction (a VALIDATE) is
        // measured in one: its locks are then read for certain, not by luck of a poll.
        let in_tx = transactional || !(sql.contains(" CONCURRENTLY ") || sql.starts_with("DO "));
        let (locks, rewritten) = measure(&runner, &watcher, pid, &sql, in_tx).await;
        measured.push(Measured {
            sql,
            hazards,
            locks,
            rewritten,
        });
    }
    let mut problems = Vec::new();
    for m in &measured {
        println!(
            "| `{}` | {} | {} | {} |",
            m.sql.lines().next().unwrap(),
            strongest(m).unwrap_or("none"),
            if m.rewritten.is_empty() { "no" } else { "yes" },
            m.hazards.iter().cloned().collect::<Vec<_>>().join(", ")
        );
        for problem in check(m) {
            problems.push(format!("{}: {problem}", m.sql.lines().next().unwrap()));
        }
    }
    assert!(measured.len() > 30, "{pending}");
    problems.extend(partition_added_online(&measured));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
