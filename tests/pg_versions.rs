//! Majors: a shadow server of another major than the target is refused, and the clone of a
//! target no installed pg_dump can read goes through strata's own model and dump. Run against
//! each major by `make test-pg` (scripts/test-pg.sh), which also runs the ignored test here:
//! it needs a second major's server programs (the matrix's cache).

mod common;

use common::project::{git, Project};
use std::path::PathBuf;

const V1: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n";

/// The shadow is the test cluster (`STRATA_TEST_SHADOW_URL`), the target a database on it.
const SAME_SERVER: &str = r#"
[shadow]
url = "env:STRATA_TEST_SHADOW_URL"

[targets.test]
url = "env:STRATA_TEST_TARGET_URL"
"#;

/// No `[shadow]`: the project's embedded cluster is the shadow server.
const EMBEDDED_SHADOW: &str = r#"
[targets.test]
url = "env:STRATA_TEST_TARGET_URL"
"#;

#[test]
fn the_clone_says_when_no_pg_dump_can_read_the_target() {
    let p = Project::create("strata-majors-", SAME_SERVER, V1);
    let out = p.strata().arg("plan").assert().success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    let own_dump = stderr.contains("cloning the target with strata's own dump");
    // With a usable pg_dump strata uses it; without one (a major newer than every installed
    // pg_dump) it clones through its own dump, says so, and the plan still converges.
    assert_eq!(own_dump, common::pg_dump().is_none(), "{stderr}");
    assert!(
        stderr.contains("committed pending.sql on branch"),
        "{stderr}"
    );
    if own_dump {
        assert!(
            stderr.contains(&format!(
                "no pg_dump of PostgreSQL {} or newer",
                common::server_major()
            )),
            "{stderr}"
        );
    }
}

/// A server directory of another major than the test cluster's, from the matrix's cache.
fn other_major_bindir() -> Option<(u32, PathBuf)> {
    let caches = [
        std::env::var_os("STRATA_PG_CACHE").map(PathBuf::from),
        Some(PathBuf::from("/var/cache/strata/pg")),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/strata/pg")),
    ];
    let mine = common::server_major();
    caches.into_iter().flatten().find_map(|cache| {
        std::fs::read_dir(cache).ok()?.flatten().find_map(|e| {
            let major: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            (major != mine && bin.join("postgres").exists()).then_some((major, bin))
        })
    })
}

#[test]
#[ignore = "needs a second PostgreSQL major (make test-pg fetches them and runs this)"]
fn a_shadow_server_of_another_major_is_refused() {
    let (other, bindir) = other_major_bindir()
        .expect("no other major cached: PG_FETCH_ONLY=1 bash scripts/test-pg.sh fetches them");
    let p = Project::create("strata-majors-", EMBEDDED_SHADOW, V1);
    let before = git(&p.root, &["branch", "--list"]);
    let out = p
        .strata()
        .arg("plan")
        .env("STRATA_PG_BINDIR", &bindir)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains(&format!(
            "runs PostgreSQL {other}, the target PostgreSQL {}",
            common::server_major()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("STRATA_PG_BINDIR"), "{stderr}");
    assert_eq!(
        git(&p.root, &["branch", "--list"]),
        before,
        "no branch made"
    );
    assert!(!p.root.join("pending.sql").exists());
    p.strata()
        .args(["db", "stop"])
        .env("STRATA_PG_BINDIR", &bindir)
        .assert()
        .success();
}

/// The model of `db`, read as `strata` reads a target.
async fn read(db: &common::TestDb) -> strata::model::Schema {
    let cfg = strata::config::Config::parse(std::path::Path::new("."), "").unwrap();
    let client = db.conninfo.connect().await.unwrap();
    strata::catalog::catalog(&client, &cfg).await.unwrap()
}

/// PostgreSQL 18's virtual generated columns: read as virtual, dumped as `VIRTUAL`, round trip
/// to the same fingerprint; a change between STORED and VIRTUAL drops and adds the column again.
/// Checks something only on 18 and newer (older servers have no such columns).
#[tokio::test]
async fn virtual_generated_columns_on_18() {
    if common::server_major() < 18 {
        return;
    }
    let a = common::TestDb::new();
    a.psql(
        "CREATE TABLE t (a int, v int GENERATED ALWAYS AS (a * 2) VIRTUAL, \
         s int GENERATED ALWAYS AS (a * 3) STORED)",
    );
    let schema = read(&a).await;
    let dumped: String = strata::ddl::dump(&schema, strata::ddl::Split::Single)
        .unwrap()
        .into_iter()
        .map(|f| f.content)
        .collect();
    assert!(
        dumped.contains("GENERATED ALWAYS AS ((a * 2)) VIRTUAL"),
        "{dumped}"
    );
    assert!(
        dumped.contains("GENERATED ALWAYS AS ((a * 3)) STORED"),
        "{dumped}"
    );
    let b = common::TestDb::new();
    b.psql(&dumped);
    assert_eq!(read(&b).await.fingerprint(), schema.fingerprint());

    // STORED to VIRTUAL (and back): PostgreSQL has no ALTER for it, so the column is dropped
    // and added again, destructive; applied, it reads back as the declared schema.
    let c = common::TestDb::new();
    c.psql(
        "CREATE TABLE t (a int, v int GENERATED ALWAYS AS (a * 2) STORED, \
         s int GENERATED ALWAYS AS (a * 3) STORED); INSERT INTO t (a) VALUES (1), (2)",
    );
    let changes = strata::diff::diff(&read(&c).await, &schema).unwrap();
    let sql = strata::diff::render(&changes);
    assert!(sql.contains("ALTER TABLE public.t DROP COLUMN v"), "{sql}");
    assert!(
        sql.contains("ADD COLUMN v integer GENERATED ALWAYS AS ((a * 2)) VIRTUAL"),
        "{sql}"
    );
    assert!(!sql.contains("COLUMN s"), "{sql}");
    assert!(changes.iter().any(|ch| ch.is_destructive()), "{changes:?}");
    c.psql(&sql);
    assert_eq!(read(&c).await.fingerprint(), schema.fingerprint());
    assert_eq!(
        c.psql("SELECT string_agg(v::text, ',' ORDER BY a) FROM t")
            .trim(),
        "2,4"
    );
}

/// A SQL-standard function body (`BEGIN ATOMIC`, `RETURN`) is PostgreSQL 14 syntax: below 14 the
/// loader refuses it at its file and line and loads nothing; from 14 on it loads. Over one
/// connection and over several (the parallel load checks before its first batch).
#[tokio::test]
async fn begin_atomic_needs_14() {
    use strata::source::sdl::Sdl;
    let text = "CREATE TABLE t (id int);\n\
                CREATE FUNCTION f() RETURNS int LANGUAGE sql\n\
                BEGIN ATOMIC SELECT count(*) FROM t; END;\n";
    for jobs in [1, 4] {
        let db = common::TestDb::new();
        let sdl = Sdl::from_text("schema/f.sql", text).unwrap();
        let result = strata::source::parallel::load(&db.conninfo, &sdl, jobs).await;
        let tables = db.psql("SELECT count(*) FROM pg_class WHERE relname = 't'");
        if common::server_major() >= 14 {
            result.unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(tables.trim(), "1");
            continue;
        }
        let err = result.expect_err("BEGIN ATOMIC loaded on PostgreSQL 13");
        let report = err.to_string();
        assert!(
            report.contains("needs PostgreSQL 14 or newer; this server runs PostgreSQL 13"),
            "{report}"
        );
        assert!(report.starts_with("schema/f.sql:2: "), "{report}");
        assert_eq!(tables.trim(), "0", "nothing loaded");
    }
}

/// A changed generation expression: on PostgreSQL 17 and newer `ALTER COLUMN ... SET
/// EXPRESSION` (the server's major passed as `diff::Options::server_major`, as `diff` and
/// `plan` do), which keeps the column's rows, comment, grants, the index and the view on it;
/// below 17, and when the major is not known, the column is dropped and added again.
#[tokio::test]
async fn generated_expression_changes_in_place_from_17() {
    let setup = |expr: &str| {
        format!(
            "CREATE TABLE t (a int, b int GENERATED ALWAYS AS ({expr}) STORED); \
             COMMENT ON COLUMN t.b IS 'derived'; GRANT SELECT (b) ON t TO PUBLIC; \
             CREATE INDEX t_b ON t (b); CREATE VIEW v AS SELECT a, b FROM t;"
        )
    };
    let (a, b) = (common::TestDb::new(), common::TestDb::new());
    a.psql(&setup("a * 2"));
    a.psql("INSERT INTO t (a) VALUES (1), (2), (3)");
    b.psql(&setup("a * 3"));
    let (from, to) = (read(&a).await, read(&b).await);
    let major = common::server_major();
    let options = strata::diff::Options {
        server_major: Some(major),
        ..Default::default()
    };
    let changes = strata::diff::diff_with(&from, &to, options).unwrap();
    let sql = strata::diff::render(&changes);
    let unknown = strata::diff::render(&strata::diff::diff(&from, &to).unwrap());
    assert!(unknown.contains("DROP COLUMN b"), "{unknown}");
    if major < 17 {
        assert_eq!(sql, unknown);
        assert!(sql.contains("ADD COLUMN b integer GENERATED"), "{sql}");
        assert!(!sql.contains("SET EXPRESSION"), "{sql}");
    } else {
        assert_eq!(
            sql,
            "-- hazard: table_rewrite: rewrites public.t to compute b with the new expression, \
             and rebuilds its indexes on b\n\
             ALTER TABLE public.t ALTER COLUMN b SET EXPRESSION AS ((a * 3));\n"
        );
        assert!(!changes.iter().any(|c| c.is_destructive()));
    }
    let oid = |db: &common::TestDb, rel: &str| db.psql(&format!("SELECT '{rel}'::regclass::oid"));
    let (table, view) = (oid(&a, "t"), oid(&a, "v"));
    a.psql(&sql);
    assert_eq!(read(&a).await.fingerprint(), to.fingerprint());
    assert!(strata::diff::diff_with(&read(&a).await, &to, options)
        .unwrap()
        .is_empty());
    assert_eq!(
        a.psql("SELECT string_agg(b::text, ',' ORDER BY a) FROM v")
            .trim(),
        "3,6,9"
    );
    assert_eq!(
        a.psql(
            "SELECT col_description(attrelid, attnum) = 'derived' \
             AND has_column_privilege('public', 't', 'b', 'SELECT') \
             FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'b'"
        )
        .trim(),
        "t"
    );
    assert_eq!(oid(&a, "t"), table);
    if major >= 17 {
        // The same view; the index rebuilt by PostgreSQL itself (strata emitted nothing
        // for it, above), valid and used for the new values.
        assert_eq!(oid(&a, "v"), view);
        assert_eq!(
            a.psql("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_b'::regclass")
                .trim(),
            "t"
        );
        assert_eq!(
            a.psql("SELECT count(*) FROM t WHERE b = 6").trim(),
            a.psql("SELECT count(*) FROM t WHERE a = 2").trim()
        );
    }
}
