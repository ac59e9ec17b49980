//! Zero downtime by default (issue #7), end to end on real PostgreSQL and git: plans for
//! existing tables use the online forms (concurrent indexes, NOT VALID + VALIDATE, SET NOT
//! NULL through a check, UNIQUE USING INDEX), tables created by the plan keep the plain ones,
//! and `-- strata:renamed-from` renames a column without breaking the code still deployed.

mod common;

use common::project::Project;
use common::TestDb;
use predicates::str::contains;
use std::time::Duration;
use strata::config::{LockTimeout, StatementTimeout};
use strata::plan::PlannedStatement;
use strata::run::statements::{run_alone, ExecPolicy};

/// The deploy hook runs `hook.sh` when the test wrote one: code "still deployed" at that
/// point is the old code, the new code is being deployed.
const MANIFEST: &str = r#"
[shadow]
url = "env:STRATA_TEST_SHADOW_URL"

[deploy]
command = "if test -f hook.sh; then sh hook.sh; fi"

[targets.test]
url = "env:STRATA_TEST_TARGET_URL"
lock_timeout = "1s"
retries = 3
"#;

impl Project {
    fn new(schema: &str, manifest_extra: &str) -> Project {
        Project::create(
            "strata-online-",
            &format!("{MANIFEST}{manifest_extra}"),
            schema,
        )
    }
}

/// pending.sql before and from the contract stage's line.
fn split_at_contract(pending: &str) -> (&str, &str) {
    let at = pending
        .find("-- ==== stage contract")
        .unwrap_or_else(|| panic!("no contract stage in:\n{pending}"));
    pending.split_at(at)
}

/// The statement of pending.sql that contains `needle`, with its annotation lines.
fn statement_block<'a>(pending: &'a str, needle: &str) -> &'a str {
    pending
        .split("\n\n")
        .find(|block| block.contains(needle))
        .unwrap_or_else(|| panic!("no statement with {needle:?} in:\n{pending}"))
}

const V1: &str = "
CREATE TABLE orgs (id bigint PRIMARY KEY);
CREATE TABLE users (id bigint PRIMARY KEY, email text, org_id bigint);
";

const V2: &str = "
CREATE TABLE orgs (id bigint PRIMARY KEY);
CREATE TABLE users (
  id bigint PRIMARY KEY,
  email text NOT NULL CONSTRAINT users_email_key UNIQUE,
  org_id bigint CONSTRAINT users_org_id_fkey REFERENCES orgs (id)
);
CREATE INDEX users_org_idx ON users (org_id);
CREATE TABLE teams (id bigint PRIMARY KEY, name text);
CREATE INDEX teams_name_idx ON teams (name);
";

#[test]
fn changes_to_existing_tables_take_their_online_forms() {
    let p = Project::new(V1, "");
    p.start();
    p.db.psql(
        "INSERT INTO orgs SELECT g FROM generate_series(1, 10) g;
         INSERT INTO users SELECT g, 'u' || g || '@example.com', 1 + g % 10 FROM generate_series(1, 1000) g",
    );
    let pending = p.change_to(V2);

    // An index on an existing table: built concurrently, alone, no blocking hazard.
    let index = statement_block(&pending, "users_org_idx");
    assert!(
        index.contains(
            "-- strata:no-transaction\nCREATE INDEX CONCURRENTLY users_org_idx ON public.users"
        ),
        "{index}"
    );
    assert!(!index.contains("non_concurrent_index"), "{index}");
    // An index on a table the plan creates: plain, in the transaction.
    let new_index = statement_block(&pending, "teams_name_idx");
    assert!(
        new_index.contains("CREATE INDEX teams_name_idx ON"),
        "{new_index}"
    );
    assert!(!new_index.contains("no-transaction"), "{new_index}");
    // The foreign key: NOT VALID, then validated alone.
    assert!(
        pending.contains("ADD CONSTRAINT users_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id) NOT VALID;")
            || pending.contains("ADD CONSTRAINT users_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs(id) NOT VALID;"),
        "{pending}"
    );
    let validate = statement_block(&pending, "VALIDATE CONSTRAINT users_org_id_fkey");
    assert!(
        validate.contains("-- hazards: full_table_validation, may_fail_on_data"),
        "{validate}"
    );
    assert!(validate.contains("-- strata:no-transaction"), "{validate}");
    // SET NOT NULL through a check constraint.
    for needle in [
        "ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;",
        "VALIDATE CONSTRAINT users_email_not_null;",
        "ALTER COLUMN email SET NOT NULL;",
        "DROP CONSTRAINT users_email_not_null;",
    ] {
        assert!(pending.contains(needle), "{needle} missing:\n{pending}");
    }
    // UNIQUE through a concurrently built index.
    let unique = statement_block(&pending, "CREATE UNIQUE INDEX CONCURRENTLY users_email_key");
    assert!(unique.contains("-- strata:no-transaction"), "{unique}");
    assert!(
        pending.contains("ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;"),
        "{pending}"
    );
    // Built in expand (the new code's lookups by email use it from the deploy hook on),
    // attached in contract, never dropped in between.
    let (expand, contract) = split_at_contract(&pending);
    assert!(
        expand.contains("CREATE UNIQUE INDEX CONCURRENTLY users_email_key"),
        "{pending}"
    );
    assert!(
        contract.contains("USING INDEX users_email_key;"),
        "{pending}"
    );
    assert!(
        !pending.contains("DROP INDEX CONCURRENTLY IF EXISTS public.users_email_key"),
        "{pending}"
    );

    // After the run: everything valid, nothing temporary left, the plan converged.
    assert_eq!(
        p.db.psql("SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_org_idx'::regclass"),
        "t"
    );
    assert_eq!(
        p.db.psql("SELECT contype::text || convalidated::text FROM pg_constraint WHERE conname IN ('users_org_id_fkey', 'users_email_key') ORDER BY conname"),
        "utrue\nftrue"
    );
    assert_eq!(
        p.db.psql("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email'"),
        "t"
    );
    assert_eq!(
        p.db.psql("SELECT count(*) FROM pg_constraint WHERE conname = 'users_email_not_null'"),
        "0"
    );
    p.strata()
        .arg("plan")
        .assert()
        .success()
        .stdout(contains("nothing to change"));
}

#[test]
fn check_reports_the_hazards_of_the_online_plan() {
    let p = Project::new(V1, "");
    p.start();
    p.write("schema/app.sql", V2);
    p.commit_all("change");
    p.plan_and_merge();
    let out = p.strata().arg("check").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("| contract | schema |"), "{text}");
    assert!(text.contains("full_table_validation"), "{text}");
    let out = p
        .strata()
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hazards: Vec<String> = json["plan"]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|stage| stage["body"]["statements"].as_array())
        .flatten()
        .filter(|st| st["sql"].as_str().unwrap().contains("VALIDATE CONSTRAINT"))
        .flat_map(|st| st["hazards"].as_array().unwrap().clone())
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    assert!(
        hazards.contains(&"full_table_validation".to_string()),
        "{json}"
    );
}

const R1: &str = "CREATE TABLE users (id bigint PRIMARY KEY, fullname text NOT NULL);\n";
const R2: &str = "CREATE TABLE users (
  id bigint PRIMARY KEY,
  -- strata:renamed-from fullname
  full_name text NOT NULL
);
";

/// Old code keeps writing `fullname` while the new code is deployed; what it writes must be
/// in `full_name`.
const OLD_CODE_HOOK: &str = r#"set -e
psql "$STRATA_TEST_TARGET_URL" -XAtq -v ON_ERROR_STOP=1 -c "INSERT INTO users (id, fullname) VALUES (3, 'inserted by old code')" -c "UPDATE users SET fullname = 'updated by old code' WHERE id = 1" -c "INSERT INTO users (id, full_name) VALUES (4, 'inserted by new code')"
psql "$STRATA_TEST_TARGET_URL" -XAtq -v ON_ERROR_STOP=1 -c "SELECT id, full_name, fullname FROM users ORDER BY id" > during-deploy.out
"#;

#[test]
fn a_renamed_column_keeps_its_data_and_both_names_in_step_until_the_contract() {
    let p = Project::new(R1, "");
    p.start();
    p.db.psql("INSERT INTO users VALUES (1, 'Ada'), (2, 'Grace')");
    p.write("hook.sh", OLD_CODE_HOOK);
    let pending = p.change_to(R2);
    for needle in [
        "ADD COLUMN full_name text;",
        "CREATE FUNCTION public.users_full_name_strata_sync() RETURNS trigger",
        "CREATE TRIGGER users_full_name_strata_sync BEFORE INSERT OR UPDATE ON public.users",
        "DO $strata$",
        "DROP COLUMN fullname;",
        "SET NOT NULL;",
    ] {
        assert!(pending.contains(needle), "{needle} missing:\n{pending}");
    }
    assert!(!pending.contains("destructive"), "{pending}");
    let during = std::fs::read_to_string(p.root.join("during-deploy.out")).unwrap();
    assert_eq!(
        during,
        "1|updated by old code|updated by old code\n2|Grace|Grace\n3|inserted by old code|inserted by old code\n4|inserted by new code|inserted by new code\n"
    );
    assert_eq!(
        p.db.psql("SELECT string_agg(full_name, ',' ORDER BY id) FROM users"),
        "updated by old code,Grace,inserted by old code,inserted by new code"
    );
    assert_eq!(
        p.db.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'fullname'"),
        "0"
    );
    assert_eq!(
        p.db.psql("SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%strata_sync'"),
        "0"
    );
    p.strata()
        .arg("plan")
        .assert()
        .success()
        .stdout(contains("nothing to change"));
}

#[test]
fn the_plain_rename_switch_renames_in_place() {
    let p = Project::new(R1, "\n[plan]\nrenames = \"rename\"\n");
    p.start();
    p.db.psql("INSERT INTO users VALUES (1, 'Ada')");
    let pending = p.change_to(R2);
    let rename = statement_block(&pending, "RENAME COLUMN fullname TO full_name");
    assert!(rename.contains("backward_incompatible"), "{rename}");
    assert!(!pending.contains("CREATE TRIGGER"), "{pending}");
    assert!(!pending.contains("DROP COLUMN"), "{pending}");
    assert_eq!(p.db.psql("SELECT full_name FROM users"), "Ada");
}

/// A concurrent build waits for a lock another session holds: it is retried, then built,
/// and the session's timeouts are reset afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrent_build_behind_a_lock_is_retried_then_done() {
    let db = TestDb::new();
    db.psql("CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 1000)");
    let mut holder = db.client().await;
    let (locked_tx, locked_rx) = tokio::sync::oneshot::channel();
    let handle = tokio::spawn(async move {
        let tx = holder.transaction().await.unwrap();
        tx.batch_execute("LOCK TABLE t IN SHARE UPDATE EXCLUSIVE MODE")
            .await
            .unwrap();
        locked_tx.send(()).unwrap();
        tokio::time::sleep(Duration::from_millis(800)).await;
        tx.commit().await.unwrap();
    });
    locked_rx.await.unwrap();
    let client = db.client().await;
    let policy = ExecPolicy {
        lock_timeout: LockTimeout(Duration::from_millis(150)),
        statement_timeout: StatementTimeout(Duration::from_secs(5)),
        retries: 10,
        backoff: Duration::from_millis(100),
    };
    let build = PlannedStatement {
        sql: "CREATE INDEX CONCURRENTLY t_id_idx ON public.t (id)".into(),
        hazards: vec![],
        transactional: false,
        line: 0,
    };
    let started = std::time::Instant::now();
    let ran = run_alone(
        &client,
        &build,
        &policy,
        StatementTimeout(Duration::from_secs(60)),
    )
    .await
    .unwrap();
    assert!(ran);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "it waited for the lock"
    );
    handle.await.unwrap();
    assert_eq!(
        db.psql("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_id_idx'::regclass"),
        "t"
    );
    let row = client
        .query_one(
            "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1)),
        ("0".into(), "0".into())
    );
}

const T1: &str =
    "CREATE TABLE counters (id bigint PRIMARY KEY, hits integer NOT NULL DEFAULT 0, note text);\n";
const T2: &str =
    "CREATE TABLE counters (id bigint PRIMARY KEY, hits bigint NOT NULL DEFAULT 0, note text);\n";

/// Old code keeps writing `hits` while the widened column is being built.
#[test]
fn a_rewriting_type_change_goes_through_a_new_column_and_keeps_the_data() {
    let p = Project::new(T1, "");
    p.start();
    p.db.psql("INSERT INTO counters SELECT g, g * 10 FROM generate_series(1, 25000) g");
    let pending = p.change_to(T2);
    for needle in [
        "ADD COLUMN counters_hits_strata_new bigint;",
        "CREATE TRIGGER counters_hits_strata_retype",
        "SET counters_hits_strata_new = hits::bigint",
        "RENAME COLUMN counters_hits_strata_new TO hits;",
    ] {
        assert!(pending.contains(needle), "{needle} missing:\n{pending}");
    }
    assert!(!pending.contains("TYPE bigint"), "{pending}");
    assert!(!pending.contains("table_rewrite"), "{pending}");
    assert_eq!(
        p.db.psql("SELECT format_type(atttypid, atttypmod) || ' ' || attnotnull::text || ' ' || pg_get_expr(adbin, adrelid) FROM pg_attribute JOIN pg_attrdef ON adrelid = attrelid AND adnum = attnum WHERE attrelid = 'counters'::regclass AND attname = 'hits'"),
        "bigint true 0"
    );
    assert_eq!(
        p.db.psql("SELECT count(*), sum(hits) FROM counters"),
        "25000|3125125000"
    );
    p.db.psql("INSERT INTO counters (id) VALUES (0)");
    assert_eq!(p.db.psql("SELECT hits FROM counters WHERE id = 0"), "0");
    p.strata()
        .arg("plan")
        .assert()
        .success()
        .stdout(contains("nothing to change"));
}

/// One `all` stage: expand and contract of the rename in the same stage, on a table without
/// a primary key (the backfill goes by ctid), with a default on the new column.
#[test]
fn a_rename_in_a_single_all_stage_converges() {
    let p = Project::new(
        "CREATE TABLE notes (body text NOT NULL, author text);\n",
        "\n[[stages]]\nname = \"all\"\nkind = \"schema\"\nphase = \"all\"\n",
    );
    p.start();
    p.db.psql("INSERT INTO notes SELECT 'note ' || g, 'a' || g FROM generate_series(1, 12345) g");
    let pending = p.change_to(
        "CREATE TABLE notes (\n  -- strata:renamed-from body\n  text text NOT NULL DEFAULT '',\n  author text\n);\n",
    );
    assert!(pending.contains("WHERE ctid = ANY"), "{pending}");
    assert!(pending.contains("SET DEFAULT ''::text;"), "{pending}");
    assert_eq!(
        p.db.psql("SELECT count(*), count(DISTINCT text), min(text) FROM notes"),
        "12345|12345|note 1"
    );
    assert_eq!(
        p.db.psql("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'notes'::regclass AND attname = 'text'"),
        "t"
    );
    p.strata()
        .arg("plan")
        .assert()
        .success()
        .stdout(contains("nothing to change"));
}

/// A table annotated `renamed-from` is renamed in place, in the first schema stage.
#[test]
fn a_renamed_table_is_renamed_in_place() {
    let p = Project::new(
        "CREATE TABLE people (id bigint PRIMARY KEY, name text);\n",
        "",
    );
    p.start();
    p.db.psql("INSERT INTO people VALUES (1, 'Ada')");
    let pending = p.change_to(
        "-- strata:renamed-from people\nCREATE TABLE persons (id bigint PRIMARY KEY, name text);\n",
    );
    let rename = statement_block(&pending, "RENAME TO persons");
    assert!(
        rename.contains("ALTER TABLE public.people RENAME TO persons;"),
        "{rename}"
    );
    assert!(rename.contains("backward_incompatible"), "{rename}");
    assert!(!pending.contains("DROP TABLE"), "{pending}");
    assert_eq!(p.db.psql("SELECT name FROM persons"), "Ada");
    p.strata()
        .arg("plan")
        .assert()
        .success()
        .stdout(contains("nothing to change"));
}

/// A statistics object on a renamed table follows it: the rename carries it (its definition
/// then names the new table), so it is neither dropped nor created again.
#[test]
fn a_statistics_object_follows_its_renamed_table() {
    let p = Project::new(
        "CREATE TABLE people (id bigint PRIMARY KEY, name text, city text);\n\
         CREATE STATISTICS people_name_city ON name, city FROM people;\n",
        "",
    );
    p.start();
    let pending = p.change_to(
        "-- strata:renamed-from people\nCREATE TABLE persons (id bigint PRIMARY KEY, name text, city text);\n\
         CREATE STATISTICS people_name_city ON name, city FROM persons;\n",
    );
    assert!(
        pending.contains("ALTER TABLE public.people RENAME TO persons;"),
        "{pending}"
    );
    assert!(!pending.contains("STATISTICS"), "{pending}");
    assert_eq!(
        p.db.psql("SELECT stxrelid::regclass::text FROM pg_statistic_ext WHERE stxname = 'people_name_city'"),
        "persons"
    );
    p.strata()
        .arg("plan")
        .assert()
        .success()
        .stdout(contains("nothing to change"));
}

/// A primary key added to an existing table, a check constraint, an index dropped.
#[test]
fn a_primary_key_a_check_and_a_dropped_index_on_an_existing_table() {
    let p = Project::new(
        "CREATE TABLE events (id bigint NOT NULL, kind text);\nCREATE INDEX events_kind_idx ON events (kind);\n",
        "",
    );
    p.start();
    p.db.psql("INSERT INTO events SELECT g, 'k' || (g % 7) FROM generate_series(1, 5000) g");
    let pending = p.change_to(
        "CREATE TABLE events (id bigint PRIMARY KEY, kind text CONSTRAINT events_kind_check CHECK (kind <> ''));\n",
    );
    for needle in [
        "-- strata:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY events_pkey ON public.events (id);",
        "ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_pkey;",
        "NOT VALID;",
        "-- strata:no-transaction\nALTER TABLE public.events VALIDATE CONSTRAINT events_kind_check;",
        "-- strata:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS public.events_kind_idx;",
    ] {
        assert!(pending.contains(needle), "{needle} missing:\n{pending}");
    }
    let (expand, contract) = split_at_contract(&pending);
    assert!(
        expand.contains("CREATE UNIQUE INDEX CONCURRENTLY events_pkey"),
        "{pending}"
    );
    assert!(
        contract.contains("PRIMARY KEY USING INDEX events_pkey;"),
        "{pending}"
    );
    assert_eq!(
        p.db.psql("SELECT string_agg(conname || ':' || contype::text || ':' || convalidated::text, ',' ORDER BY conname) FROM pg_constraint WHERE conrelid = 'events'::regclass AND contype <> 'n'"),
        "events_kind_check:c:true,events_pkey:p:true"
    );
    assert_eq!(
        p.db.psql("SELECT to_regclass('events_kind_idx') IS NULL"),
        "t"
    );
    p.strata()
        .arg("plan")
        .assert()
        .success()
        .stdout(contains("nothing to change"));
}

/// `[plan] backfill_batch` and `backfill_pause` pace the backfill: each batch is its own
/// transaction (so the rows it locks are released at its commit), on the primary key's
/// keyset and, without one, by ctid. Rows written by one transaction share its xmin.
#[test]
fn the_backfill_commits_every_backfill_batch_rows_and_pauses_between() {
    const B1: &str = "CREATE TABLE users (id bigint PRIMARY KEY, fullname text);
CREATE TABLE notes (body text);
";
    const B2: &str = "CREATE TABLE users (
  id bigint PRIMARY KEY,
  full_name text -- strata:renamed-from fullname
);
CREATE TABLE notes (
  text text -- strata:renamed-from body
);
";
    let p = Project::new(
        B1,
        "\n[plan]\nbackfill_batch = 3\nbackfill_pause = \"1ms\"\n",
    );
    p.start();
    p.db.psql(
        "INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 10) g;
         INSERT INTO notes SELECT 'note ' || g FROM generate_series(1, 10) g",
    );
    let pending = p.change_to(B2);
    let users = statement_block(&pending, "UPDATE public.users SET full_name");
    assert!(users.contains("ORDER BY id LIMIT 3) b;"), "{users}");
    assert!(users.contains("PERFORM pg_sleep(0.001);"), "{users}");
    let notes = statement_block(&pending, "UPDATE public.notes SET text");
    assert!(notes.contains("LIMIT 3));"), "{notes}");
    // 10 rows, 3 per transaction: 4 transactions each.
    assert_eq!(
        p.db.psql(
            "SELECT count(DISTINCT xmin::text), string_agg(full_name, ',' ORDER BY id) FROM users"
        ),
        "4|user 1,user 2,user 3,user 4,user 5,user 6,user 7,user 8,user 9,user 10"
    );
    assert_eq!(
        p.db.psql("SELECT count(DISTINCT xmin::text), count(*) FILTER (WHERE text LIKE 'note %') FROM notes"),
        "4|10"
    );
}

/// The keyset backfill walks up to the largest key there was when it started: rows the
/// application inserts meanwhile get their value from the trigger, and chasing them never
/// ends while every pause sees a few new ones (a traffic run spent 690 s on the newest
/// rows). Here every batch's UPDATE inserts a row behind it; a loop that chased them would
/// reach the trigger's limit and fail the run.
#[test]
fn the_keyset_backfill_ends_while_rows_keep_arriving() {
    const CHASER: &str = "CREATE FUNCTION users_arrive() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT count(*) FROM users) >= 50 THEN
    RAISE EXCEPTION 'the backfill chased the rows inserted behind it';
  END IF;
  INSERT INTO users (id) SELECT max(id) + 1 FROM users;
  RETURN NULL;
END
$$;
CREATE TRIGGER users_arrive AFTER UPDATE ON users FOR EACH STATEMENT EXECUTE FUNCTION users_arrive();
";
    let p = Project::new(
        &format!("CREATE TABLE users (id bigint PRIMARY KEY, fullname text);\n{CHASER}"),
        "\n[plan]\nbackfill_batch = 3\nbackfill_pause = \"0ms\"\n",
    );
    p.start();
    p.db.psql("INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 10) g");
    p.change_to(&format!(
        "CREATE TABLE users (\n  id bigint PRIMARY KEY,\n  full_name text -- strata:renamed-from fullname\n);\n{CHASER}"
    ));
    // Four batches over ids 1..10, each inserting one row after it.
    assert_eq!(
        p.db.psql("SELECT count(*), string_agg(full_name, ',' ORDER BY id) FROM users"),
        "14|user 1,user 2,user 3,user 4,user 5,user 6,user 7,user 8,user 9,user 10"
    );
}

/// A partition added to a partitioned table that exists: a standalone table like the parent,
/// then `ATTACH PARTITION` (SHARE UPDATE EXCLUSIVE on the parent, not the ACCESS EXCLUSIVE of
/// `PARTITION OF`); the parent's index, check and default end up on it and the plan converges.
#[test]
fn a_partition_of_an_existing_table_is_attached() {
    const PARENT: &str = "CREATE TABLE events (id bigint NOT NULL, at date NOT NULL DEFAULT '2025-01-01', what text CONSTRAINT events_what_check CHECK (what <> '')) PARTITION BY RANGE (at);
CREATE INDEX events_what_idx ON events (what);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
";
    let p = Project::new(PARENT, "");
    p.start();
    p.db.psql("INSERT INTO events SELECT g, '2025-06-01', 'e' FROM generate_series(1, 1000) g");
    let pending = p.change_to(&format!(
        "{PARENT}CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');\n"
    ));
    for needle in [
        "CREATE TABLE public.events_2026 (LIKE public.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS);",
        "ALTER TABLE public.events ATTACH PARTITION public.events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');",
    ] {
        assert!(pending.contains(needle), "{needle} missing:\n{pending}");
    }
    assert!(!pending.contains("PARTITION OF"), "{pending}");
    p.db.psql("INSERT INTO events (id, what) VALUES (0, 'x'); INSERT INTO events VALUES (1, '2026-06-01', 'e')");
    assert_eq!(
        p.db.psql("SELECT tableoid::regclass::text FROM events WHERE id = 1 AND at = '2026-06-01'"),
        "events_2026"
    );
    assert_eq!(
        p.db.psql("SELECT count(*) FROM pg_inherits WHERE inhparent = 'events_what_idx'::regclass"),
        "2"
    );
    p.strata()
        .arg("plan")
        .assert()
        .success()
        .stdout(contains("nothing to change"));
}
