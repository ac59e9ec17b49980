//! The application-traffic harness (issue 17, "How it is proven"): for one change kind, a
//! table of `rows` rows, `strata run` of the change while two client pools query the target:
//! the *old* code (the application before the change: reads through every view, writes of
//! every column it knows, calls of every function) from the start until the deploy hook
//! returns, the *new* code from the hook on until the end. The deploy hook switches the pools:
//! it writes `deploying` in `$TRAFFIC_DIR` and waits until the new pool runs, then writes
//! `deployed` and waits until the old pool stopped. The same change applied naively (`psql`
//! of a plain `strata diff`, one statement per transaction) runs on a copy of the same data.
//!
//! Recorded per pool: queries, failed queries (with the first errors), the longest query
//! latency and the longest time a query of the pool was seen waiting for a lock (sampled every
//! 20 ms from `pg_stat_activity`: `wait_event_type = 'Lock'`, measured from the query's start).
//! `tests/traffic.rs` runs every kind on ~10k rows and asserts 0 failed queries; its ignored
//! `bench_online` (`make bench-online`) runs them on 1M rows and writes the table.

use crate::common::project::{git, Project};
use crate::common::{reachable_tempdir, TestDb};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MANIFEST: &str = r#"
[shadow]
url = "env:STRATA_TEST_SHADOW_URL"

[deploy]
command = '''d="$TRAFFIC_DIR"; test -n "$d" || exit 0; touch "$d/deploying"; i=0; until test -e "$d/new-running" || test $i -gt 3000; do sleep 0.02; i=$((i+1)); done; touch "$d/deployed"; i=0; until test -e "$d/old-stopped" || test $i -gt 3000; do sleep 0.02; i=$((i+1)); done'''

[targets.test]
url = "env:STRATA_TEST_TARGET_URL"
lock_timeout = "1s"
retries = 10
"#;

/// The schema every kind starts from; `{cols}` and `{extra}` are the kind's additions.
const BASE: &str = "
CREATE TYPE mood AS ENUM ({labels});
CREATE TABLE owners (id bigint PRIMARY KEY);
CREATE SEQUENCE ticket_seq{seq};
CREATE TABLE items (
  id bigint PRIMARY KEY,
  owner_id bigint{owner},
  name text{name},
  qty integer{qty},
  score {score},
  mood mood,
  note text{note}{cols}
);
CREATE VIEW item_names AS SELECT id, name, qty{view} FROM items;
CREATE FUNCTION item_qty(p bigint{arg}) RETURNS integer LANGUAGE sql STABLE
AS $$ SELECT {body} FROM items WHERE id = p $$;
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, what text) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
{extra}";

/// What the application does before any change: `{id}` is an existing row, `{new}` a fresh id.
const APP: [&str; 6] = [
    "SELECT name, qty FROM item_names WHERE id = {id}",
    "SELECT item_qty({id})",
    "UPDATE items SET owner_id = owner_id, name = name, qty = qty + 1, score = score, mood = mood, note = note WHERE id = {id}",
    "INSERT INTO items (id, owner_id, name, qty, score, mood, note) VALUES ({new}, 1, 'new {new}', 1, 1, 'happy', 'x')",
    "INSERT INTO events VALUES ({new}, '2025-06-01', 'e')",
    "SELECT nextval('ticket_seq')",
];

/// One change kind: the schema before and after, and what the old and new code do beyond `APP`.
pub struct Kind {
    pub name: &'static str,
    pub v1: String,
    pub v2: String,
    pub old: Vec<&'static str>,
    pub new: Vec<&'static str>,
    /// SQL run after the rows are loaded (values for the kind's own columns).
    pub fill: &'static str,
}

/// `BASE` with its placeholders: `edits` replace the defaults.
fn schema(edits: &[(&str, &str)]) -> String {
    let defaults = [
        ("{labels}", "'happy', 'sad'"),
        ("{seq}", ""),
        ("{owner}", ""),
        ("{name}", ""),
        ("{qty}", ""),
        ("{score}", "integer"),
        ("{note}", ""),
        ("{cols}", ""),
        ("{view}", ""),
        ("{arg}", ""),
        ("{body}", "qty"),
        ("{extra}", ""),
    ];
    let mut text = BASE.to_string();
    for (key, default) in defaults {
        let value = edits
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(default, |(_, v)| v);
        text = text.replace(key, value);
    }
    text
}

fn kind(
    name: &'static str,
    v1: &[(&str, &str)],
    v2: &[(&str, &str)],
    old: &[&'static str],
    new: &[&'static str],
) -> Kind {
    Kind {
        name,
        v1: schema(v1),
        v2: schema(v2),
        old: old.to_vec(),
        new: new.to_vec(),
        fill: "",
    }
}

const SCORES_VIEW: &str = "CREATE VIEW item_scores AS SELECT id, score FROM items;\n";
const RLS: &str = "ALTER TABLE items ENABLE ROW LEVEL SECURITY;\n";
const TOUCH: &str = "CREATE FUNCTION items_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.note := coalesce(NEW.note, 'touched'); RETURN NEW; END $$;
";

/// Every change kind of issue 17, in its order.
pub fn kinds() -> Vec<Kind> {
    let color_new: &[&'static str] = &[
        "UPDATE items SET color = 'blue' WHERE id = {id}",
        "INSERT INTO items (id, name, color) VALUES ({new}, 'new {new}', 'green')",
    ];
    vec![
        kind("add column (nullable)", &[], &[("{cols}", ",\n  color text")], &[], color_new),
        kind(
            "add column (with default)",
            &[],
            &[("{cols}", ",\n  color text DEFAULT 'red'")],
            &[],
            color_new,
        ),
        kind(
            "add column (NOT NULL with default)",
            &[],
            &[("{cols}", ",\n  color text NOT NULL DEFAULT 'red'")],
            &[],
            color_new,
        ),
        kind(
            "drop column (after deploy)",
            &[("{cols}", ",\n  legacy text")],
            &[],
            &[
                "UPDATE items SET legacy = 'l' WHERE id = {id}",
                "INSERT INTO items (id, name, legacy) VALUES ({new}, 'new {new}', 'l')",
            ],
            &[],
        ),
        Kind {
            fill: "UPDATE items SET fullname = name",
            ..kind(
                "rename column (renamed-from)",
                &[("{cols}", ",\n  fullname text")],
                &[("{cols}", ",\n  -- strata:renamed-from fullname\n  full_name text")],
                &[
                    "UPDATE items SET fullname = 'f' || id WHERE id = {id}",
                    "SELECT fullname FROM items WHERE id = {id}",
                    "INSERT INTO items (id, name, fullname) VALUES ({new}, 'new {new}', 'f')",
                ],
                &[
                    "UPDATE items SET full_name = 'g' || id WHERE id = {id}",
                    "SELECT full_name FROM items WHERE id = {id}",
                    "INSERT INTO items (id, name, full_name) VALUES ({new}, 'new {new}', 'g')",
                ],
            )
        },
        kind(
            "type change int -> bigint",
            &[],
            &[("{score}", "bigint")],
            &["SELECT score FROM items WHERE id = {id}"],
            &["UPDATE items SET score = 5000000000 WHERE id = {id}"],
        ),
        kind(
            "type change under a view",
            &[("{extra}", SCORES_VIEW)],
            &[("{score}", "bigint"), ("{extra}", SCORES_VIEW)],
            &["SELECT score FROM item_scores WHERE id = {id}"],
            &[
                "SELECT score FROM item_scores WHERE id = {id}",
                "UPDATE items SET score = 5000000000 WHERE id = {id}",
            ],
        ),
        kind(
            "add index",
            &[],
            &[("{extra}", "CREATE INDEX items_name_idx ON items (name);\n")],
            &[],
            &["SELECT id FROM items WHERE name = 'item {id}'"],
        ),
        kind(
            "add unique constraint",
            &[],
            &[("{name}", " CONSTRAINT items_name_key UNIQUE")],
            &[],
            &["SELECT id FROM items WHERE name = 'item {id}'"],
        ),
        kind(
            "add foreign key",
            &[],
            &[(
                "{owner}",
                " CONSTRAINT items_owner_id_fkey REFERENCES owners (id)",
            )],
            &[],
            &[],
        ),
        kind(
            "add CHECK",
            &[],
            &[("{qty}", " CONSTRAINT items_qty_check CHECK (qty >= 0)")],
            &[],
            &[],
        ),
        kind("SET NOT NULL", &[], &[("{name}", " NOT NULL")], &[], &[]),
        kind(
            "add enum value",
            &[],
            &[("{labels}", "'happy', 'sad', 'calm'")],
            &[],
            &["UPDATE items SET mood = 'calm' WHERE id = {id}"],
        ),
        kind(
            "rebuild an enum (value removed)",
            &[("{labels}", "'happy', 'sad', 'meh'")],
            &[],
            &["SELECT count(*) FROM items WHERE id = {id} AND mood <> 'meh'"],
            &[],
        ),
        kind(
            "change a view's definition",
            &[],
            &[("{view}", ", note")],
            &[],
            &["SELECT note FROM item_names WHERE id = {id}"],
        ),
        kind(
            "change a function's body",
            &[],
            &[("{body}", "coalesce(qty, 0)")],
            &[],
            &[],
        ),
        kind(
            "change a function's signature",
            &[],
            &[
                ("{arg}", ", plus integer DEFAULT 0"),
                ("{body}", "qty + plus"),
            ],
            &[],
            &["SELECT item_qty({id}, 1)"],
        ),
        kind(
            "add a trigger",
            &[("{extra}", TOUCH)],
            &[(
                "{extra}",
                &format!("{TOUCH}CREATE TRIGGER items_touch BEFORE UPDATE ON items FOR EACH ROW EXECUTE FUNCTION items_touch();\n"),
            )],
            &[],
            &[],
        ),
        kind(
            "alter a trigger",
            &[(
                "{extra}",
                &format!("{TOUCH}CREATE TRIGGER items_touch BEFORE UPDATE ON items FOR EACH ROW EXECUTE FUNCTION items_touch();\n"),
            )],
            &[(
                "{extra}",
                &format!("{TOUCH}CREATE TRIGGER items_touch BEFORE INSERT OR UPDATE ON items FOR EACH ROW EXECUTE FUNCTION items_touch();\n"),
            )],
            &[],
            &[],
        ),
        kind(
            "add a policy",
            &[("{extra}", RLS)],
            &[(
                "{extra}",
                &format!("{RLS}CREATE POLICY items_mine ON items USING (owner_id IS NOT NULL);\n"),
            )],
            &[],
            &[],
        ),
        kind(
            "add a partition",
            &[],
            &[(
                "{extra}",
                "CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');\n",
            )],
            &[],
            &["INSERT INTO events VALUES ({new}, '2026-06-01', 'e')"],
        ),
        kind(
            "change a default",
            &[],
            &[("{note}", " DEFAULT 'none'")],
            &[],
            &["INSERT INTO items (id, name) VALUES ({new}, 'new {new}')"],
        ),
        kind(
            "change a sequence",
            &[],
            &[("{seq}", " INCREMENT BY 10 CACHE 5")],
            &[],
            &[],
        ),
    ]
}

/// The kind named `name`.
pub fn find(name: &str) -> Kind {
    kinds()
        .into_iter()
        .find(|k| k.name == name)
        .unwrap_or_else(|| panic!("no change kind {name:?}"))
}

/// What one pool saw.
#[derive(Default, Clone, Debug)]
pub struct PoolStats {
    pub queries: u64,
    pub failed: u64,
    pub errors: Vec<String>,
    pub worst_ms: f64,
    /// The slowest query, and when it started (seconds since the pool started).
    pub worst_sql: String,
    pub lock_wait_ms: f64,
}

impl PoolStats {
    fn merge(&mut self, other: &PoolStats) {
        self.queries += other.queries;
        self.failed += other.failed;
        for e in &other.errors {
            if self.errors.len() < 5 && !self.errors.contains(e) {
                self.errors.push(e.clone());
            }
        }
        if other.worst_ms > self.worst_ms {
            self.worst_ms = other.worst_ms;
            self.worst_sql = other.worst_sql.clone();
        }
    }
}

/// One way of applying the change, measured.
#[derive(Debug, Clone)]
pub struct Measured {
    pub seconds: f64,
    pub old: PoolStats,
    pub new: PoolStats,
}

impl Measured {
    pub fn failed(&self) -> u64 {
        self.old.failed + self.new.failed
    }
    pub fn worst_ms(&self) -> f64 {
        self.old.worst_ms.max(self.new.worst_ms)
    }
    pub fn lock_wait_ms(&self) -> f64 {
        self.old.lock_wait_ms.max(self.new.lock_wait_ms)
    }
}

pub struct Outcome {
    pub kind: &'static str,
    /// `strata run`, or why the change could not be planned (a kind strata refuses).
    pub strata: Result<Measured, String>,
    pub naive: Option<Result<Measured, String>>,
}

/// Clients per pool.
const CLIENTS: usize = 2;

/// How long a pool's clients may take to run their first query.
const POOL_START: Duration = Duration::from_secs(60);
/// How long one query of a pool may take before the harness calls it hung.
const QUERY_HANG: Duration = Duration::from_secs(120);

/// How long `strata run` (or the naive psql) may take on `rows` rows before the harness
/// kills it and fails with what it printed and what the target's sessions were waiting for.
fn run_limit(rows: u64) -> Duration {
    // Generous: a paced backfill under four concurrent kinds and their traffic took over
    // 140 s at 10,000 rows in one clean-clone CI run; the limit only turns a hang into a
    // failure with the sessions named.
    Duration::from_secs(600 + rows / 100)
}

static NEXT_ID: AtomicI64 = AtomicI64::new(10_000_000_000);

/// A pool of `CLIENTS` clients running `queries` in turn until stopped.
struct Pool {
    stop: Arc<AtomicBool>,
    running: Arc<AtomicI64>,
    tasks: Vec<tokio::task::JoinHandle<PoolStats>>,
}

impl Pool {
    async fn start(db: &TestDb, app: &str, queries: Vec<String>, rows: u64) -> Pool {
        let stop = Arc::new(AtomicBool::new(false));
        let running = Arc::new(AtomicI64::new(0));
        let mut tasks = Vec::new();
        for c in 0..CLIENTS {
            let client = db.client().await;
            client
                .simple_query(&format!("SET application_name = '{app}'"))
                .await
                .unwrap();
            let (stop, running, queries) = (stop.clone(), running.clone(), queries.clone());
            tasks.push(tokio::spawn(async move {
                let mut stats = PoolStats::default();
                let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ ((c as u64 + 1) * 7919);
                let mut i = c;
                let pool_start = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let id = 1 + seed % rows;
                    let sql = queries[i % queries.len()]
                        .replace("{id}", &id.to_string())
                        .replace(
                            "{new}",
                            &NEXT_ID.fetch_add(1, Ordering::Relaxed).to_string(),
                        );
                    i += 1;
                    let started = Instant::now();
                    let result = client.simple_query(&sql).await;
                    let ms = started.elapsed().as_secs_f64() * 1000.0;
                    if ms > stats.worst_ms {
                        stats.worst_ms = ms;
                        stats.worst_sql =
                            format!("{sql} (at {:.1} s)", (started - pool_start).as_secs_f64());
                    }
                    stats.queries += 1;
                    running.fetch_add(1, Ordering::Relaxed);
                    if let Err(e) = result {
                        stats.failed += 1;
                        let message = e
                            .as_db_error()
                            .map_or_else(|| e.to_string(), |d| d.message().to_string());
                        if stats.errors.len() < 5 {
                            stats.errors.push(format!("{sql}: {message}"));
                        }
                    }
                }
                stats
            }));
        }
        Pool {
            stop,
            running,
            tasks,
        }
    }

    /// Until every client ran a query; a pool whose first queries hang fails the test.
    async fn wait_running(&self, app: &str) {
        let started = Instant::now();
        while self.running.load(Ordering::Relaxed) < CLIENTS as i64 {
            assert!(
                started.elapsed() < POOL_START,
                "{app}: the pool's first queries did not return within {POOL_START:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Stops the pool; a client whose query does not return within `QUERY_HANG` is counted
    /// as a failed query (the test fails instead of hanging on it).
    async fn finish(self) -> PoolStats {
        self.stop.store(true, Ordering::Relaxed);
        let mut total = PoolStats::default();
        for mut t in self.tasks {
            match tokio::time::timeout(QUERY_HANG, &mut t).await {
                Ok(stats) => total.merge(&stats.unwrap()),
                Err(_) => {
                    t.abort();
                    total.merge(&PoolStats {
                        failed: 1,
                        errors: vec![format!("a query did not return within {QUERY_HANG:?}")],
                        ..PoolStats::default()
                    });
                }
            }
        }
        total
    }
}

/// Samples, every 20 ms, how long each pool's queries have been waiting for a lock.
struct LockSampler {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<(f64, f64)>,
}

impl LockSampler {
    async fn start(db: &TestDb) -> LockSampler {
        let client = db.client().await;
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let stop = stop.clone();
            async move {
                let (mut old, mut new) = (0f64, 0f64);
                while !stop.load(Ordering::Relaxed) {
                    let rows = client
                        .query(
                            "SELECT application_name, \
                             max(extract(epoch FROM clock_timestamp() - query_start) * 1000)::float8 \
                             FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
                             AND application_name IN ('traffic-old', 'traffic-new') GROUP BY 1",
                            &[],
                        )
                        .await
                        .unwrap();
                    for row in rows {
                        let ms: f64 = row.get(1);
                        match row.get::<_, &str>(0) {
                            "traffic-old" => old = old.max(ms),
                            _ => new = new.max(ms),
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                (old, new)
            }
        });
        LockSampler { stop, task }
    }

    async fn finish(self) -> (f64, f64) {
        self.stop.store(true, Ordering::Relaxed);
        tokio::time::timeout(QUERY_HANG, self.task)
            .await
            .expect("the lock sampler's query hung")
            .unwrap()
    }
}

fn queries(kind_queries: &[&str]) -> Vec<String> {
    APP.iter()
        .chain(kind_queries)
        .map(|q| q.to_string())
        .collect()
}

/// The project at the kind's V1 with `rows` rows, V2 written and committed (not planned).
fn prepare(kind: &Kind, rows: u64) -> Project {
    let p = Project::create("strata-traffic-", MANIFEST, &kind.v1);
    p.start();
    p.db.psql(&format!(
        "INSERT INTO owners SELECT g FROM generate_series(1, 1000) g; \
         INSERT INTO items (id, owner_id, name, qty, score, mood, note) \
         SELECT g, 1 + g % 1000, 'item ' || g, g % 100, g % 1000, \
         (ARRAY['happy', 'sad'])[1 + g % 2]::mood, 'note ' || g FROM generate_series(1, {rows}) g"
    ));
    if !kind.fill.is_empty() {
        p.db.psql(kind.fill);
    }
    p.db.psql("VACUUM ANALYZE");
    p.write("schema/app.sql", &kind.v2);
    p.commit_all("change");
    p
}

fn std_command(p: &Project, args: &[&str]) -> tokio::process::Command {
    let template = p.strata();
    let mut cmd = tokio::process::Command::new(assert_cmd::cargo::cargo_bin("strata"));
    cmd.args(["-C", p.root.to_str().unwrap()]).args(args);
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.stdin(std::process::Stdio::null()).kill_on_drop(true);
    cmd
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `strata run` under traffic, the hook switching the pools.
async fn under_strata(p: &Project, kind: &Kind, rows: u64) -> Result<Measured, String> {
    let dir = reachable_tempdir("strata-traffic-hook-");
    let planned = bounded_output(std_command(p, &["plan"]), PLAN_LIMIT, "strata plan").await?;
    if !planned.status.success() {
        return Err(text(&planned));
    }
    let branch = text(&planned)
        .lines()
        .find_map(|l| l.strip_prefix("committed pending.sql on branch "))
        .map(str::to_string)
        .ok_or_else(|| format!("plan made no branch:\n{}", text(&planned)))?;
    git(&p.root, &["merge", "-q", "--ff-only", &branch]);
    let sampler = LockSampler::start(&p.db).await;
    let old = Pool::start(&p.db, "traffic-old", queries(&kind.old), rows).await;
    old.wait_running("traffic-old").await;
    let started = Instant::now();
    let mut run = std_command(
        p,
        &[
            "run",
            "--git-commit",
            "--allow-destructive",
            "--no-rehearsal",
        ],
    );
    run.env("TRAFFIC_DIR", dir.path());
    // Its output goes to files, so that what it said is there even when it must be killed.
    let (out_file, err_file) = (dir.path().join("run.out"), dir.path().join("run.err"));
    let mut child = run
        .stdout(std::fs::File::create(&out_file).unwrap())
        .stderr(std::fs::File::create(&err_file).unwrap())
        .spawn()
        .unwrap();
    let limit = run_limit(rows);
    let (mut old, mut old_stats, mut new) = (Some(old), None, None);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > limit {
            break None;
        }
        if new.is_none() && dir.path().join("deploying").exists() {
            let pool = Pool::start(&p.db, "traffic-new", queries(&kind.new), rows).await;
            pool.wait_running("traffic-new").await;
            new = Some(pool);
            touch(&dir.path().join("new-running"));
        }
        if old.is_some() && dir.path().join("deployed").exists() {
            old_stats = Some(old.take().unwrap().finish().await);
            touch(&dir.path().join("old-stopped"));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let said = || {
        format!(
            "{}{}",
            std::fs::read_to_string(&out_file).unwrap_or_default(),
            std::fs::read_to_string(&err_file).unwrap_or_default()
        )
    };
    let Some(status) = status else {
        let waiting = sessions(&p.db).await;
        let _ = child.kill().await;
        for pool in [old, new].into_iter().flatten() {
            pool.finish().await;
        }
        sampler.finish().await;
        let hook: Vec<String> = ["deploying", "new-running", "deployed", "old-stopped"]
            .iter()
            .filter(|f| dir.path().join(f).exists())
            .map(|f| f.to_string())
            .collect();
        return Err(format!(
            "strata run did not end within {limit:?} (killed); the hook's files: {hook:?}; \
             the target's sessions:\n{waiting}\nstrata said:\n{}",
            said()
        ));
    };
    let seconds = started.elapsed().as_secs_f64();
    if let Some(pool) = old.take() {
        old_stats = Some(pool.finish().await);
    }
    // The new code keeps running a little after the run, on the finished schema.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let new_stats = match new {
        Some(pool) => pool.finish().await,
        None => PoolStats::default(),
    };
    let (old_wait, new_wait) = sampler.finish().await;
    if !status.success() {
        return Err(format!("strata run failed ({status}):\n{}", said()));
    }
    if new_stats.queries == 0 {
        return Err(format!(
            "the deploy hook never switched the pools:\n{}",
            said()
        ));
    }
    Ok(Measured {
        seconds,
        old: PoolStats {
            lock_wait_ms: old_wait,
            ..old_stats.unwrap()
        },
        new: PoolStats {
            lock_wait_ms: new_wait,
            ..new_stats
        },
    })
}

/// What every other session on the target is doing (for a run that hangs).
async fn sessions(db: &TestDb) -> String {
    let client = db.client().await;
    let rows = client
        .query(
            "SELECT format('%s pid %s %s %s:%s %s', application_name, pid, state, \
             wait_event_type, wait_event, left(query, 160)) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() ORDER BY pid",
            &[],
        )
        .await
        .map(|rows| {
            rows.iter()
                .map(|r| r.get::<_, String>(0))
                .collect::<Vec<_>>()
        });
    match rows {
        Ok(rows) => rows.join("\n"),
        Err(e) => format!("(cannot read pg_stat_activity: {e})"),
    }
}

/// How long `strata plan` or `strata diff` may take.
const PLAN_LIMIT: Duration = Duration::from_secs(300);

/// `cmd`'s output, or an error when it does not end within `limit` (it is killed).
async fn bounded_output(
    mut cmd: tokio::process::Command,
    limit: Duration,
    what: &str,
) -> Result<std::process::Output, String> {
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(out) => Ok(out.unwrap()),
        // Dropping the future drops the child, which kills it (kill_on_drop).
        Err(_) => Err(format!("{what} did not end within {limit:?} (killed)")),
    }
}

fn touch(path: &Path) {
    std::fs::write(path, "").unwrap();
}

/// The naive form on `db`: the old code until `psql -f` of a plain `strata diff` returns,
/// then the new code for a moment.
async fn under_naive(p: &Project, db: &TestDb, kind: &Kind, rows: u64) -> Result<Measured, String> {
    let diff = bounded_output(
        std_command(p, &["diff", "--from", &db.url]),
        PLAN_LIMIT,
        "strata diff",
    )
    .await?;
    if !diff.status.success() {
        return Err(text(&diff));
    }
    let sql = p.root.join("naive.out");
    std::fs::write(&sql, &diff.stdout).unwrap();
    let sampler = LockSampler::start(db).await;
    let old = Pool::start(db, "traffic-old", queries(&kind.old), rows).await;
    old.wait_running("traffic-old").await;
    let started = Instant::now();
    let mut psql = tokio::process::Command::new("psql");
    psql.args([db.url.as_str(), "-Xq", "-v", "ON_ERROR_STOP=1", "-f"])
        .arg(&sql)
        .kill_on_drop(true);
    let out = bounded_output(psql, run_limit(rows), "the naive psql").await;
    let seconds = started.elapsed().as_secs_f64();
    let new = Pool::start(db, "traffic-new", queries(&kind.new), rows).await;
    let old_stats = old.finish().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let new_stats = new.finish().await;
    let (old_wait, new_wait) = sampler.finish().await;
    let out = out?;
    if !out.status.success() {
        return Err(format!("psql failed: {}", text(&out)));
    }
    Ok(Measured {
        seconds,
        old: PoolStats {
            lock_wait_ms: old_wait,
            ..old_stats
        },
        new: PoolStats {
            lock_wait_ms: new_wait,
            ..new_stats
        },
    })
}

/// Measures `kind` on `rows` rows: strata, and (when `naive`) the naive statements on a copy
/// of the same data. The databases are dropped afterwards.
pub async fn measure(kind: &Kind, rows: u64, naive: bool) -> Outcome {
    let p = prepare(kind, rows);
    let copy = naive.then(|| p.db.copy());
    let strata = under_strata(&p, kind, rows).await;
    let naive = match &copy {
        Some(db) => Some(under_naive(&p, db, kind, rows).await),
        None => None,
    };
    p.db.drop_now();
    if let Some(db) = copy {
        db.drop_now();
    }
    Outcome {
        kind: kind.name,
        strata,
        naive,
    }
}

/// A markdown table of `outcomes` (docs/hazards.md, docs/benchmarks.md).
pub fn table(outcomes: &[Outcome]) -> String {
    let mut out = String::from(
        "| change kind | strata: run s | failed old/new | worst ms | lock wait ms | naive: s | failed old/new | worst ms | lock wait ms | worst naive / strata |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for o in outcomes {
        let cells = |m: &Option<&Result<Measured, String>>| match m {
            Some(Ok(m)) => format!(
                "{:.1} | {}/{} | {:.0} | {:.0}",
                m.seconds,
                m.old.failed,
                m.new.failed,
                m.worst_ms(),
                m.lock_wait_ms()
            ),
            Some(Err(e)) => format!("{} | - | - | -", first_line(e)),
            None => "- | - | - | -".into(),
        };
        let ratio = match (&o.strata, &o.naive) {
            (Ok(s), Some(Ok(n))) => format!("{:.1}x", n.worst_ms() / s.worst_ms().max(1.0)),
            _ => "-".into(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            o.kind,
            cells(&Some(&o.strata)),
            cells(&o.naive.as_ref()),
            ratio
        ));
    }
    out
}

fn first_line(e: &str) -> String {
    let line = e
        .lines()
        .map(str::trim)
        .find(|l| l.contains("×") || l.contains("error") || l.contains("ERROR"))
        .unwrap_or_else(|| e.lines().next().unwrap_or(""));
    format!("pending: {}", line.replace('|', "/"))
}

/// Writes `text` to `path` when given (the bench's report).
pub fn report(path: Option<&str>, text: &str) {
    if let Some(path) = path {
        std::fs::write(path, text).unwrap();
    }
}
