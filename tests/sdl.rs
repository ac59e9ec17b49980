//! Loading SDL into real PostgreSQL: any file order, errors at file:line, shadow databases,
//! and the schema-only clone.

mod common;

use common::TestDb;
use std::path::Path;
use strata::source::load::{load, shadow_from_sdl};
use strata::source::sdl::{load_path, Sdl};
use strata::source::SourceError;

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The `file:line` and message of a load or parse error.
fn located(e: strata::Error) -> (String, usize, String) {
    match e {
        strata::Error::Source(SourceError::Sql {
            path,
            line,
            message,
            ..
        }) => (path, line, message),
        other => panic!("expected an error at file:line, got {other:?}"),
    }
}

#[tokio::test]
async fn files_in_reverse_dependency_order_load() {
    let dir = tempfile::tempdir().unwrap();
    // Sorted: 1_views (needs tables, a function, a schema), 2_fk (needs both tables),
    // 3_tables (needs the type and the schema), 4_types.
    write(
        dir.path(),
        "1_views.sql",
        "CREATE VIEW app.active AS SELECT id, app.label(name) AS label FROM app.users WHERE NOT deleted;\n\
         CREATE VIEW app.active_count AS SELECT count(*) FROM app.active;\n",
    );
    write(
        dir.path(),
        "2_fk.sql",
        "ALTER TABLE app.orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES app.users (id);\n\
         CREATE INDEX orders_user_idx ON app.orders (user_id);\n",
    );
    write(
        dir.path(),
        "3_tables.sql",
        "CREATE TABLE app.orders (id bigint PRIMARY KEY, user_id bigint, state app.state NOT NULL);\n\
         CREATE TABLE app.users (id bigint PRIMARY KEY, name text, deleted boolean NOT NULL DEFAULT false);\n",
    );
    write(
        dir.path(),
        "sub/4_types.sql",
        "CREATE FUNCTION app.label(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT upper($1) $$;\n\
         CREATE TYPE app.state AS ENUM ('new', 'paid');\n\
         CREATE SCHEMA app;\n",
    );
    let sdl = load_path(dir.path()).unwrap();
    assert_eq!(sdl.files.len(), 4);
    assert!(sdl.files[3].path.ends_with("sub/4_types.sql"));
    let db = TestDb::new();
    let stats = load(&db.client().await, &sdl).await.unwrap();
    assert_eq!(stats.statements, 9);
    assert!(stats.passes > 1 && stats.deferred > 0, "{stats:?}");
    assert_eq!(
        db.psql("SELECT count(*) FROM pg_views WHERE schemaname = 'app'"),
        "2"
    );
    assert_eq!(
        db.psql("SELECT conname FROM pg_constraint WHERE contype = 'f'"),
        "orders_user_fk"
    );
}

#[tokio::test]
async fn dependency_order_loads_in_one_pass() {
    let mut text = String::from("CREATE SCHEMA s;\n");
    for i in 0..1200 {
        text.push_str(&format!("CREATE TABLE s.t{i} (id int PRIMARY KEY);\n"));
    }
    let sdl = Sdl::from_text("big.sql", &text).unwrap();
    let db = TestDb::new();
    let stats = load(&db.client().await, &sdl).await.unwrap();
    assert_eq!(
        (stats.statements, stats.passes, stats.deferred),
        (1201, 1, 0)
    );
}

#[tokio::test]
async fn settings_apply_to_their_own_file_even_when_deferred() {
    let dir = tempfile::tempdir().unwrap();
    // a.sql's view is deferred (the table comes later) and must still run with a.sql's
    // search_path, not b.sql's.
    write(
        dir.path(),
        "a.sql",
        "SET search_path = one;\nCREATE VIEW v AS SELECT * FROM t;\n",
    );
    write(
        dir.path(),
        "b.sql",
        "CREATE SCHEMA one;\nCREATE SCHEMA two;\nSELECT pg_catalog.set_config('search_path', 'two', false);\nCREATE TABLE one.t (a int);\nCREATE TABLE t (b int);\n",
    );
    let sdl = load_path(dir.path()).unwrap();
    let db = TestDb::new();
    load(&db.client().await, &sdl).await.unwrap();
    assert_eq!(
        db.psql("SELECT table_schema FROM information_schema.views WHERE table_name = 'v'"),
        "one"
    );
    assert_eq!(
        db.psql("SELECT table_schema || '.' || table_name FROM information_schema.columns WHERE column_name = 'b'"),
        "two.t"
    );
}

#[test]
fn dml_in_sdl_points_at_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "t.sql",
        "CREATE TABLE t (id int);\n\n-- seed\nINSERT INTO t VALUES (1);\n",
    );
    let e = load_path(dir.path()).unwrap_err();
    let (path, line, message) = located(e.into());
    assert!(path.ends_with("t.sql"), "{path}");
    assert_eq!(line, 4);
    assert!(message.contains("DML"), "{message}");
}

#[test]
fn transaction_control_in_sdl_is_an_error() {
    let e = Sdl::from_text("x.sql", "BEGIN;\nCREATE TABLE t (id int);\nCOMMIT;\n").unwrap_err();
    let (path, line, message) = located(e.into());
    assert_eq!((path.as_str(), line), ("x.sql", 1));
    assert!(message.contains("transaction control"), "{message}");
}

#[test]
fn syntax_error_points_at_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.sql", "CREATE TABLE a (id int);\n");
    write(
        dir.path(),
        "b.sql",
        "CREATE TABLE b (id int);\nCREATE TABLE c (id int,,);\n",
    );
    let (path, line, message) = located(load_path(dir.path()).unwrap_err().into());
    assert!(path.ends_with("b.sql"), "{path}");
    assert_eq!(line, 2);
    assert!(message.contains("syntax error"), "{message}");
}

#[tokio::test]
async fn unknown_type_shows_postgres_message_at_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.sql",
        "CREATE TABLE a (id int PRIMARY KEY);\n",
    );
    write(
        dir.path(),
        "b.sql",
        "CREATE TABLE b (\n  id int,\n  amount nmeric(10, 2)\n);\n",
    );
    let sdl = load_path(dir.path()).unwrap();
    let db = TestDb::new();
    let (path, line, message) = located(load(&db.client().await, &sdl).await.unwrap_err().into());
    assert!(path.ends_with("b.sql"), "{path}");
    assert_eq!(line, 1);
    assert!(
        message.contains(r#"type "nmeric" does not exist"#),
        "{message}"
    );
    // Nothing was committed.
    assert_eq!(
        db.psql("SELECT count(*) FROM pg_class WHERE relname = 'a'"),
        "0"
    );
}

#[tokio::test]
async fn a_duplicate_is_an_error_at_its_line() {
    let sdl = Sdl::from_text(
        "dup.sql",
        "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\nCREATE TABLE a (id int);\nCREATE TABLE c (id int);\nCREATE TABLE d (id int);\nCREATE TABLE e (id int);\n",
    )
    .unwrap();
    let db = TestDb::new();
    let (path, line, message) = located(load(&db.client().await, &sdl).await.unwrap_err().into());
    assert_eq!((path.as_str(), line), ("dup.sql", 3));
    assert!(message.contains("already exists"), "{message}");
}

#[tokio::test]
async fn shadow_from_sdl_creates_and_loads_a_database() {
    let sdl = Sdl::from_text(
        "s.sql",
        "CREATE VIEW v AS SELECT * FROM t;\nCREATE TABLE t (a int);\n",
    )
    .unwrap();
    let (shadow, stats) = shadow_from_sdl(&common::admin_conninfo(), &sdl, "desired", 1)
        .await
        .unwrap();
    assert_eq!(stats.passes, 2);
    let client = shadow.conninfo.connect().await.unwrap();
    let row = client
        .query_one("SELECT count(*) FROM pg_views WHERE viewname = 'v'", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 1);
    drop(client);
    shadow.drop_now().await.unwrap();
}

#[tokio::test]
async fn clone_reproduces_a_schema() {
    let db = TestDb::new();
    db.psql(
        "CREATE ROLE strata_sdl_reader NOLOGIN;
         CREATE SCHEMA app;
         CREATE TYPE app.mood AS ENUM ('ok', 'sad');
         CREATE TABLE app.people (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, mood app.mood, name text NOT NULL CHECK (name <> ''));
         CREATE INDEX people_name ON app.people (lower(name));
         CREATE VIEW app.names AS SELECT name FROM app.people;
         COMMENT ON TABLE app.people IS 'everyone';
         GRANT SELECT ON app.names TO strata_sdl_reader;
         INSERT INTO app.people (mood, name) VALUES ('ok', 'ann');",
    );
    let shadow = strata::catalog::clone::clone_schema(
        &db.conninfo,
        &common::admin_conninfo(),
        "clone",
        &strata::config::Config::parse(Path::new("."), "").unwrap(),
        &|_| {},
    )
    .await
    .unwrap();
    let describe = "SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
        SELECT c.relname || ':' || c.relkind::text || ':' || coalesce(obj_description(c.oid, 'pg_class'), '') || ':' || coalesce(c.relacl::text, '') AS x
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'app'
        UNION ALL SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'app'::regnamespace
        UNION ALL SELECT pg_get_viewdef('app.names'::regclass)) s";
    let client = shadow.conninfo.connect().await.unwrap();
    let cloned: String = client.query_one(describe, &[]).await.unwrap().get(0);
    assert_eq!(cloned.trim(), db.psql(describe));
    // Schema only: no rows.
    let rows: i64 = client
        .query_one("SELECT count(*) FROM app.people", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 0);
    drop(client);
    shadow.drop_now().await.unwrap();
}

#[tokio::test]
async fn clone_of_a_body_holding_pg_dump_entry_markers_goes_through_psql() {
    // The batched restore cuts the dump at pg_dump's `-- Name:` entry headers; 250 such lines
    // inside one function body put a cut inside the body, that batch fails, and the clone
    // must come out whole through the psql fallback.
    let db = TestDb::new();
    let body = format!(
        "\n{}SELECT 1;\n",
        "--\n-- Name: fake; Type: TABLE\n".repeat(250)
    );
    db.psql(&format!(
        "CREATE SCHEMA app;\nCREATE FUNCTION app.one() RETURNS int LANGUAGE sql AS $body${body}$body$;"
    ));
    let shadow = strata::catalog::clone::clone_schema(
        &db.conninfo,
        &common::admin_conninfo(),
        "clone",
        &strata::config::Config::parse(Path::new("."), "").unwrap(),
        &|_| {},
    )
    .await
    .unwrap();
    let client = shadow.conninfo.connect().await.unwrap();
    let cloned: String = client
        .query_one("SELECT prosrc FROM pg_proc WHERE proname = 'one'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(cloned, body);
    drop(client);
    shadow.drop_now().await.unwrap();
}

#[tokio::test]
async fn a_long_chain_written_backwards_loads_in_few_passes() {
    // t0 references t1 references t2 ... : every statement needs the next one.
    let n = 2000;
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!(
            "CREATE TABLE t{i} (id int PRIMARY KEY, next int REFERENCES t{} (id));\n",
            i + 1
        ));
    }
    text.push_str(&format!("CREATE TABLE t{n} (id int PRIMARY KEY);\n"));
    let sdl = Sdl::from_text("chain.sql", &text).unwrap();
    let db = TestDb::new();
    let started = std::time::Instant::now();
    let stats = load(&db.client().await, &sdl).await.unwrap();
    assert_eq!(stats.passes, 2, "{stats:?}");
    assert_eq!(stats.deferred, n, "{stats:?}");
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
}
