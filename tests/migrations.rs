//! `strata migrate`: numbered DML migrations against real PostgreSQL, through the CLI.

mod common;

use assert_cmd::Command;
use common::{reachable_tempdir, TestDb};
use std::path::Path;
use std::time::{Duration, Instant};
use tempfile::TempDir;

fn project() -> TempDir {
    let dir = reachable_tempdir("strata-migrations-");
    std::fs::create_dir(dir.path().join("migrations")).unwrap();
    dir
}

fn write(project: &TempDir, file: &str, text: impl AsRef<[u8]>) {
    std::fs::write(project.path().join("migrations").join(file), text).unwrap();
}

fn strata(project: &Path, db: &TestDb, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("strata")
        .unwrap()
        .arg("-C")
        .arg(project)
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env_remove("PGDATABASE")
        .output()
        .unwrap()
}

fn std_command(project: &Path, db: &TestDb, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("strata"));
    cmd.arg("-C")
        .arg(project)
        .args(args)
        .env("DATABASE_URL", &db.url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    cmd
}

/// stderr with miette's wrapping undone: box-drawing gutters dropped, whitespace collapsed.
fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .replace(['│', '×', '╭', '╰', '─', '·', '┬'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[track_caller]
fn expect_code(out: &std::process::Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(out),
        stderr(out)
    );
}

fn up(project: &TempDir, db: &TestDb) -> std::process::Output {
    strata(project.path(), db, &["migrate", "up"])
}

fn history(db: &TestDb) -> String {
    db.psql("SELECT string_agg(version || ':' || name, ',' ORDER BY version) FROM strata.schema_history")
}

#[test]
fn applies_in_order_once_and_reports_status() {
    let db = TestDb::new();
    db.psql("CREATE TABLE log (n serial PRIMARY KEY, what text)");
    let p = project();
    write(
        &p,
        "0002_second.sql",
        "INSERT INTO log (what) VALUES ('second');\n",
    );
    write(
        &p,
        "0001_first.sql",
        "INSERT INTO log (what) VALUES ('first');\n",
    );
    write(
        &p,
        "0010_tenth.sql",
        "-- strata:no-transaction\nINSERT INTO log (what) VALUES ('tenth');\n",
    );

    let out = strata(p.path(), &db, &["migrate", "status"]);
    expect_code(&out, 0);
    assert!(stdout(&out).contains("pending"), "{}", stdout(&out));

    let out = strata(p.path(), &db, &["migrate", "up", "--to", "2"]);
    expect_code(&out, 0);
    assert_eq!(history(&db), "1:first,2:second");
    let out = up(&p, &db);
    expect_code(&out, 0);
    assert_eq!(
        db.psql("SELECT string_agg(what, ',' ORDER BY n) FROM log"),
        "first,second,tenth"
    );
    assert_eq!(history(&db), "1:first,2:second,10:tenth");

    let out = up(&p, &db);
    expect_code(&out, 0);
    assert!(stdout(&out).contains("no pending migrations"));
    assert_eq!(db.psql("SELECT count(*) FROM log"), "3");

    let out = strata(p.path(), &db, &["--format", "json", "migrate", "status"]);
    expect_code(&out, 0);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = status["migrations"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    for e in entries {
        assert_eq!(e["state"], "applied", "{e}");
        assert!(e["checksum"].as_str().unwrap().starts_with("sha256:"));
    }
    assert_eq!(entries[2]["mode"], "no_transaction");
}

#[test]
fn new_creates_the_next_numbered_file() {
    let db = TestDb::new();
    let p = project();
    write(&p, "0004_old.sql", "SELECT 1;\n");
    let out = strata(p.path(), &db, &["migrate", "new", "backfill_names"]);
    expect_code(&out, 0);
    assert!(p
        .path()
        .join("migrations/0005_backfill_names.sql")
        .is_file());
    let out = strata(p.path(), &db, &["migrate", "new", "Bad-Name"]);
    expect_code(&out, 1);
    assert!(stderr(&out).contains("snake_case"), "{}", stderr(&out));
}

#[test]
fn an_edited_applied_migration_stops_everything_until_repaired() {
    let db = TestDb::new();
    db.psql("CREATE TABLE t (x int)");
    let p = project();
    write(&p, "0001_one.sql", "INSERT INTO t VALUES (1);\n");
    expect_code(&up(&p, &db), 0);

    write(
        &p,
        "0001_one.sql",
        "-- inserts one row\nINSERT INTO t VALUES (1);\n",
    );
    write(&p, "0002_two.sql", "INSERT INTO t VALUES (2);\n");
    let out = up(&p, &db);
    expect_code(&out, 1);
    assert!(stderr(&out).contains("0001_one.sql"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("strata migrate repair 0001"),
        "{}",
        stderr(&out)
    );
    assert_eq!(db.psql("SELECT count(*) FROM t"), "1");
    assert_eq!(history(&db), "1:one");

    let out = strata(p.path(), &db, &["migrate", "status"]);
    expect_code(&out, 1);
    assert!(stdout(&out).contains("CHANGED"), "{}", stdout(&out));

    let out = strata(p.path(), &db, &["migrate", "repair", "1", "--reason", ""]);
    expect_code(&out, 1);
    let out = strata(
        p.path(),
        &db,
        &["migrate", "repair", "1", "--reason", "added a comment"],
    );
    expect_code(&out, 0);
    assert_eq!(
        db.psql("SELECT version || ':' || reason FROM strata.migration_repairs"),
        "1:added a comment"
    );
    expect_code(&up(&p, &db), 0);
    assert_eq!(
        db.psql("SELECT string_agg(x::text, ',' ORDER BY x) FROM t"),
        "1,2"
    );
    // A repair of an unchanged file changes nothing.
    let out = strata(p.path(), &db, &["migrate", "repair", "2", "--reason", "x"]);
    expect_code(&out, 0);
    assert!(stdout(&out).contains("nothing to repair"));
    assert_eq!(
        db.psql("SELECT count(*) FROM strata.migration_repairs"),
        "1"
    );
}

#[test]
fn a_crlf_copy_is_not_an_edit() {
    let db = TestDb::new();
    db.psql("CREATE TABLE t (x int)");
    let p = project();
    write(&p, "0001_one.sql", "-- one\nINSERT INTO t VALUES (1);\n");
    expect_code(&up(&p, &db), 0);
    write(
        &p,
        "0001_one.sql",
        "-- one\r\nINSERT INTO t VALUES (1);\r\n",
    );
    let out = up(&p, &db);
    expect_code(&out, 0);
    assert!(stdout(&out).contains("no pending migrations"));
}

#[test]
fn a_missing_applied_file_is_an_error() {
    let db = TestDb::new();
    db.psql("CREATE TABLE t (x int)");
    let p = project();
    write(&p, "0001_one.sql", "INSERT INTO t VALUES (1);\n");
    write(&p, "0002_two.sql", "INSERT INTO t VALUES (2);\n");
    expect_code(&up(&p, &db), 0);
    std::fs::remove_file(p.path().join("migrations/0001_one.sql")).unwrap();
    write(&p, "0003_three.sql", "INSERT INTO t VALUES (3);\n");
    let out = up(&p, &db);
    expect_code(&out, 1);
    assert!(stderr(&out).contains("0001_one.sql"), "{}", stderr(&out));
    assert_eq!(db.psql("SELECT count(*) FROM t"), "2");
}

#[test]
fn out_of_order_is_an_error_unless_allowed() {
    let db = TestDb::new();
    db.psql("CREATE TABLE t (x int)");
    let p = project();
    write(&p, "0002_two.sql", "INSERT INTO t VALUES (2);\n");
    expect_code(&up(&p, &db), 0);
    write(&p, "0001_one.sql", "INSERT INTO t VALUES (1);\n");
    write(&p, "0003_three.sql", "INSERT INTO t VALUES (3);\n");
    let out = up(&p, &db);
    expect_code(&out, 1);
    assert!(stderr(&out).contains("0001_one.sql"), "{}", stderr(&out));
    assert_eq!(db.psql("SELECT count(*) FROM t"), "1");

    std::fs::write(
        p.path().join("pipeline.toml"),
        "[migrations]\nallow_out_of_order = true\n",
    )
    .unwrap();
    expect_code(&up(&p, &db), 0);
    assert_eq!(history(&db), "1:one,2:two,3:three");
    assert_eq!(db.psql("SELECT count(*) FROM t"), "3");
    // and it is not applied again
    expect_code(&up(&p, &db), 0);
    assert_eq!(db.psql("SELECT count(*) FROM t"), "3");
}

#[test]
fn bad_files_are_errors_before_anything_runs() {
    let db = TestDb::new();
    db.psql("CREATE TABLE t (x int)");
    let cases: &[(&str, &[u8], &str)] = &[
        (
            "0002_dup.sql",
            b"INSERT INTO t VALUES (2);",
            "two migrations have number 0002",
        ),
        (
            "2_short.sql",
            b"INSERT INTO t VALUES (2);",
            "not a migration file name",
        ),
        (
            "0002_CamelCase.sql",
            b"INSERT INTO t VALUES (2);",
            "not a migration file name",
        ),
        ("0003_empty.sql", b"-- nothing yet\n", "is empty"),
        (
            "0003_latin1.sql",
            b"INSERT INTO t VALUES (3); -- caf\xe9\n",
            "not UTF-8",
        ),
        (
            "0003_directive.sql",
            b"-- strata:fast\nINSERT INTO t VALUES (3);\n",
            "unknown directive",
        ),
        (
            "0003_tx.sql",
            b"BEGIN;\nINSERT INTO t VALUES (3);\nCOMMIT;\n",
            "transaction control",
        ),
        (
            "0003_syntax.sql",
            b"INSERT INTO t VALUES (3);\nINSRT INTO t;\n",
            ":2",
        ),
        (
            "0003_batch.sql",
            b"-- strata:batch\nUPDATE t SET x = 1;\nUPDATE t SET x = 2;\n",
            "batch migration must be exactly one",
        ),
    ];
    for (file, text, expected) in cases {
        let p = project();
        write(&p, "0001_one.sql", "INSERT INTO t VALUES (1);\n");
        write(&p, "0002_two.sql", "INSERT INTO t VALUES (2);\n");
        write(&p, file, text);
        let out = up(&p, &db);
        expect_code(&out, 1);
        assert!(
            stderr(&out).contains(expected),
            "{file}: expected {expected:?} in\n{}",
            stderr(&out)
        );
        if *file == "0002_dup.sql" {
            assert!(stderr(&out).contains("0002_two.sql"), "{}", stderr(&out));
        }
    }
    assert_eq!(db.psql("SELECT count(*) FROM t"), "0");
}

#[test]
fn ddl_is_a_warning_by_default_and_an_error_when_configured() {
    let db = TestDb::new();
    let p = project();
    write(
        &p,
        "0001_make.sql",
        "CREATE TABLE t (x int);\nINSERT INTO t VALUES (1);\n",
    );
    std::fs::write(
        p.path().join("pipeline.toml"),
        "[migrations]\nddl = \"error\"\n",
    )
    .unwrap();
    let out = up(&p, &db);
    expect_code(&out, 1);
    assert!(
        stderr(&out).contains("DDL inside a migration"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("0001_make.sql:1"), "{}", stderr(&out));

    std::fs::remove_file(p.path().join("pipeline.toml")).unwrap();
    let out = up(&p, &db);
    expect_code(&out, 0);
    assert!(stderr(&out).contains("warning: "), "{}", stderr(&out));
    assert!(stderr(&out).contains("0001_make.sql:1"), "{}", stderr(&out));
    assert_eq!(db.psql("SELECT count(*) FROM t"), "1");
}

#[test]
fn a_failing_migration_rolls_back_and_stays_pending() {
    let db = TestDb::new();
    db.psql("CREATE TABLE t (x int)");
    let p = project();
    write(&p, "0001_one.sql", "INSERT INTO t VALUES (1);\n");
    write(
        &p,
        "0002_two.sql",
        "INSERT INTO t VALUES (2);\nINSERT INTO t VALUES (1 / 0);\n",
    );
    write(&p, "0003_three.sql", "INSERT INTO t VALUES (3);\n");
    let out = up(&p, &db);
    expect_code(&out, 2);
    assert!(
        stderr(&out).contains("division by zero"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("0002_two.sql"), "{}", stderr(&out));
    assert_eq!(db.psql("SELECT string_agg(x::text, ',') FROM t"), "1");
    assert_eq!(history(&db), "1:one");

    write(&p, "0002_two.sql", "INSERT INTO t VALUES (2);\n");
    expect_code(&up(&p, &db), 0);
    assert_eq!(
        db.psql("SELECT string_agg(x::text, ',' ORDER BY x) FROM t"),
        "1,2,3"
    );
    assert_eq!(history(&db), "1:one,2:two,3:three");
}

#[test]
fn two_runs_at_once_apply_each_migration_exactly_once() {
    let db = TestDb::new();
    db.psql("CREATE TABLE t (n int)");
    let p = project();
    for i in 1..=5 {
        write(
            &p,
            &format!("{i:04}_step_{i}.sql"),
            format!("SELECT pg_sleep(0.2);\nINSERT INTO t VALUES ({i});\n"),
        );
    }
    let a = std_command(p.path(), &db, &["migrate", "up"])
        .spawn()
        .unwrap();
    let b = std_command(p.path(), &db, &["migrate", "up"])
        .spawn()
        .unwrap();
    let a = a.wait_with_output().unwrap();
    let b = b.wait_with_output().unwrap();
    expect_code(&a, 0);
    expect_code(&b, 0);
    assert_eq!(
        db.psql("SELECT string_agg(n::text, ',' ORDER BY n) FROM t"),
        "1,2,3,4,5"
    );
    assert_eq!(db.psql("SELECT count(*) FROM strata.schema_history"), "5");
}

#[test]
fn batch_over_100k_rows() {
    let db = TestDb::new();
    db.psql(
        "CREATE TABLE people (id int PRIMARY KEY, first text, last text, full_name text);
         INSERT INTO people SELECT g, 'f' || g, 'l' || g FROM generate_series(1, 100000) g;",
    );
    let p = project();
    write(
        &p,
        "0001_backfill_full_name.sql",
        "-- strata:batch\n\
         UPDATE people SET full_name = first || ' ' || last\n\
         WHERE id IN (SELECT id FROM people WHERE full_name IS NULL LIMIT 10000);\n",
    );
    let out = strata(p.path(), &db, &["--format", "json", "migrate", "up"]);
    expect_code(&out, 0);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["applied"][0]["rows"], 100000, "{report}");
    assert_eq!(
        db.psql("SELECT count(*) FROM people WHERE full_name = first || ' ' || last"),
        "100000"
    );
    assert_eq!(history(&db), "1:backfill_full_name");
    assert_eq!(
        db.psql("SELECT count(*) FROM strata.migration_batches"),
        "0"
    );
}

#[test]
fn a_batch_killed_midway_resumes_without_applying_anything_twice() {
    let db = TestDb::new();
    db.psql(
        "CREATE TABLE items (id int PRIMARY KEY, counter int NOT NULL DEFAULT 0);
         INSERT INTO items (id) SELECT g FROM generate_series(1, 3000) g;",
    );
    let p = project();
    write(
        &p,
        "0001_count.sql",
        "-- strata:batch\n\
         WITH pause AS (SELECT pg_sleep(0.1))\n\
         UPDATE items SET counter = counter + 1 FROM pause\n\
         WHERE id IN (SELECT id FROM items WHERE counter = 0 ORDER BY id LIMIT 100);\n",
    );
    let mut child = std_command(p.path(), &db, &["migrate", "up"])
        .spawn()
        .unwrap();
    let started = Instant::now();
    // Two queries: a statement naming a table that does not exist yet fails to parse, whatever
    // its WHERE says, and strata creates the table only once it has started.
    let rows_done = || -> i64 {
        if db.psql("SELECT to_regclass('strata.migration_batches') IS NOT NULL") != "t" {
            return 0;
        }
        db.psql("SELECT coalesce(max(rows_done), 0) FROM strata.migration_batches")
            .parse()
            .unwrap()
    };
    loop {
        if rows_done() >= 500 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the batch made no progress"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let killed = child.wait().unwrap();
    assert!(!killed.success());
    let done_before: i64 = db
        .psql("SELECT rows_done FROM strata.migration_batches")
        .parse()
        .unwrap();
    assert!(done_before < 3000, "the batch finished before the kill");
    assert_eq!(db.psql("SELECT count(*) FROM strata.schema_history"), "0");
    assert_eq!(
        db.psql("SELECT count(*) FROM items WHERE counter = 1")
            .parse::<i64>()
            .unwrap(),
        done_before,
        "progress is committed with the rows it counts"
    );

    let out = up(&p, &db);
    expect_code(&out, 0);
    assert!(stderr(&out).contains("resuming batch"), "{}", stderr(&out));
    assert_eq!(
        db.psql("SELECT count(*) FROM items WHERE counter = 1"),
        "3000"
    );
    assert_eq!(
        db.psql("SELECT count(*) FROM items WHERE counter <> 1"),
        "0"
    );
    assert_eq!(history(&db), "1:count");
    assert_eq!(
        db.psql("SELECT count(*) FROM strata.migration_batches"),
        "0"
    );
}
