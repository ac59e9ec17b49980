//! The diff correctness corpus: tests/diff_cases/<case>/{from.sql,to.sql}.
//!
//! For each case: load from.sql into database A and to.sql into database B (through strata's
//! SDL loader), read both with the catalog, diff A→B, apply the SQL to A; then A must read
//! back with B's fingerprint, `pg_dump --schema-only` of both must agree (column lines and
//! column comments sorted, expressions settled as the catalog reads them; only where an installed pg_dump can dump the server's major, see
//! `common::pg_dump`), and a second diff must be empty. A case may hold `expect_error` (a text the diff
//! error must contain) instead, for changes strata refuses to express. A case may hold
//! `rows.sql` (rows inserted into A before the diff is applied) and `check.sql` (a query
//! of one boolean that must be true on A afterwards: the rows kept their values), and `roles`
//! (role names, one per line, created on the cluster first). A case may
//! hold `min_major` (a PostgreSQL major, e.g. `14` for `BEGIN ATOMIC`): on an older server it is
//! skipped, and the corpus's summary line counts it.

mod common;

use common::TestDb;
use std::path::{Path, PathBuf};
use strata::source::load::load;
use strata::source::sdl::Sdl;

/// The corpus directory: tests/diff_cases, or `DIFF_CASES_DIR` (cases converted from other
/// tools' suites, scored locally; docs/architecture.md "Corpus").
fn cases() -> Vec<PathBuf> {
    let root = std::env::var_os("DIFF_CASES_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diff_cases"),
        PathBuf::from,
    );
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

/// The major a case needs (its `min_major` file), when it needs a newer one than the server's.
fn needs_newer(dir: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(dir.join("min_major")).ok()?;
    let major: u32 = text
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{}: min_major is not a number", dir.display()));
    (major > common::server_major()).then_some(major)
}

async fn read(db: &TestDb) -> strata::model::Schema {
    let client = db.client().await;
    let config = strata::config::Config::parse(Path::new("."), "").unwrap();
    strata::catalog::catalog(&client, &config)
        .await
        .unwrap_or_else(|e| panic!("catalog of {}: {e:?}", db.name))
}

async fn load_file(db: &TestDb, path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).unwrap();
    let sdl = Sdl::from_text(&path.display().to_string(), &text).map_err(|e| format!("{e:?}"))?;
    load(&db.client().await, &sdl)
        .await
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

/// `pg_dump --schema-only` with comments, SET lines and blank lines dropped, and the lines
/// of each CREATE TABLE's column list sorted (column order is not part of what a diff
/// can change without recreating the table).
/// `None` when no installed pg_dump can dump the test cluster's major (`common::pg_dump`).
fn dump(db: &TestDb) -> Option<String> {
    let out = std::process::Command::new(common::pg_dump()?)
        .args(["--schema-only", "--no-owner"])
        .envs(db.conninfo.libpq_env())
        .output()
        .expect("pg_dump");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(normalise_dump(&String::from_utf8_lossy(&out.stdout)))
}

/// pg_dump's text with what two equal schemas may print otherwise made alike: comments, `SET`
/// lines and blank lines left out, the column lines of each table sorted (the migrated
/// side adds columns at the end), and so each run of `COMMENT ON COLUMN` lines (they follow
/// the column order), and every expression in its settled form (`catalog::settle`: what
/// schema/ wrote and what strata's DDL made of it print alike once read back).
fn normalise_dump(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut columns: Option<Vec<String>> = None;
    let settled = |line: &str| {
        use strata::catalog::settle::{settled, Style};
        settled(settled(line.to_string(), Style::Plain), Style::Pretty)
    };
    let mut column_comments: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with("--")
            || line.starts_with("SET ")
            || line.starts_with("SELECT pg_catalog.set_config")
            || line.starts_with("\\restrict")
            || line.starts_with("\\unrestrict")
            || line.trim().is_empty()
        {
            continue;
        }
        let line = settled(line);
        let line = line.as_str();
        if line.starts_with("COMMENT ON COLUMN ") {
            column_comments.push(line.to_string());
            continue;
        }
        if !column_comments.is_empty() {
            column_comments.sort();
            out.append(&mut column_comments);
        }
        if let Some(cols) = columns.as_mut() {
            if line.starts_with(')') {
                cols.sort();
                out.append(cols);
                columns = None;
                out.push(line.to_string());
            } else {
                cols.push(line.trim_end_matches(',').to_string());
            }
            continue;
        }
        out.push(line.to_string());
        if (line.starts_with("CREATE TABLE") || line.starts_with("CREATE UNLOGGED TABLE"))
            && line.ends_with('(')
        {
            columns = Some(Vec::new());
        }
    }
    column_comments.sort();
    out.append(&mut column_comments);
    out.join("\n")
}

/// Runs the changes as `strata run` would: runs of transactional statements in one
/// transaction each, the others (`ALTER TYPE ... ADD VALUE`) on their own.
async fn apply(
    client: &tokio_postgres::Client,
    changes: &[strata::diff::Change],
) -> Result<(), String> {
    let mut batch = String::new();
    for change in changes {
        if change.transactional {
            batch.push_str(&change.sql());
            batch.push_str(";\n");
            continue;
        }
        run(client, &mut batch).await?;
        client
            .batch_execute(&change.sql())
            .await
            .map_err(|e| strata::pg::describe(&e))?;
    }
    run(client, &mut batch).await
}

async fn run(client: &tokio_postgres::Client, batch: &mut String) -> Result<(), String> {
    if batch.is_empty() {
        return Ok(());
    }
    let sql = format!("BEGIN;\n{batch}COMMIT;");
    batch.clear();
    match client.batch_execute(&sql).await {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = client.batch_execute("ROLLBACK").await;
            Err(strata::pg::describe(&e))
        }
    }
}

/// Every statement the diff writes is one `run` accepts in a schema stage, and what the
/// classification finds destructive the diff says is (`plan::classify`, shared by plan and
/// run).
fn classified(
    name: &str,
    from: &strata::model::Schema,
    changes: &[strata::diff::Change],
) -> Result<(), String> {
    let mut walker = strata::plan::classify::Walker::new(Some(from));
    for change in changes {
        let verdict = walker.classify(&change.sql());
        if let Err(why) = verdict.allowed {
            return Err(format!(
                "[{name}] run would refuse: {why}\n  {}",
                change.sql()
            ));
        }
        let says = change
            .hazards
            .iter()
            .any(|h| h.kind == strata::diff::hazard::DESTRUCTIVE);
        if let (Some(why), false) = (verdict.destructive, says) {
            return Err(format!(
                "[{name}] classified destructive ({why}) but the diff does not say so:\n  {}",
                change.sql()
            ));
        }
    }
    Ok(())
}

/// The roles a case's files grant to (its `roles` file, one name per line): roles belong to
/// the cluster, not to a schema, so they are made before either side loads.
async fn create_roles(db: &TestDb, dir: &Path) {
    let Ok(names) = std::fs::read_to_string(dir.join("roles")) else {
        return;
    };
    let client = db.client().await;
    for name in names.lines().map(str::trim).filter(|n| !n.is_empty()) {
        // Cases run four at a time: another may be creating the same role.
        let create = format!("CREATE ROLE {}", strata::model::quote_ident(name));
        client
            .batch_execute(&format!(
                "DO $do$ BEGIN EXECUTE {}; EXCEPTION WHEN duplicate_object OR unique_violation \
                 THEN NULL; END $do$",
                strata::model::quote_literal(&create)
            ))
            .await
            .unwrap_or_else(|e| panic!("creating role {name}: {e}"));
    }
}

async fn run_case(dir: &Path) -> Result<(), String> {
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let a = TestDb::new();
    let b = TestDb::new();
    create_roles(&a, dir).await;
    load_file(&a, &dir.join("from.sql"))
        .await
        .map_err(|e| format!("[{name}] from.sql does not load: {e}"))?;
    load_file(&b, &dir.join("to.sql"))
        .await
        .map_err(|e| format!("[{name}] to.sql does not load: {e}"))?;
    let from = read(&a).await;
    let to = read(&b).await;
    let expect_error = std::fs::read_to_string(dir.join("expect_error"))
        .ok()
        .map(|s| s.trim().to_string());
    // `-- strata:using` conversions in to.sql.
    let to_sdl = Sdl::from_text(
        "to.sql",
        &std::fs::read_to_string(dir.join("to.sql")).unwrap(),
    )
    .map_err(|e| format!("[{name}] {e:?}"))?;
    let conversions = strata::source::annotations::renames(&to_sdl, &Default::default());
    // The server's major, as `strata diff` and `plan` pass it: on 17 and newer the corpus
    // runs the statements only those majors have.
    let options = strata::diff::Options {
        conversions: conversions.conversions(),
        server_major: Some(common::server_major()),
    };
    let changes = match (strata::diff::diff_with(&from, &to, options), &expect_error) {
        (Ok(changes), None) => changes,
        (Err(e), Some(expected)) => {
            let message = e.to_string();
            return if message.contains(expected.as_str()) {
                Ok(())
            } else {
                Err(format!(
                    "[{name}] expected an error containing {expected:?}, got: {message}"
                ))
            };
        }
        (Ok(changes), Some(expected)) => {
            return Err(format!(
                "[{name}] expected an error containing {expected:?}, got SQL:\n{}",
                strata::diff::render(&changes)
            ))
        }
        (Err(e), None) => return Err(format!("[{name}] diff failed: {e}")),
    };
    let sql = strata::diff::render(&changes);
    classified(&name, &from, &changes)?;
    if std::env::var_os("DIFF_SHOW").is_some() {
        eprintln!("--- {name} ---\n{sql}");
    }
    let client = a.client().await;
    if let Ok(rows) = std::fs::read_to_string(dir.join("rows.sql")) {
        client
            .batch_execute(&rows)
            .await
            .map_err(|e| format!("[{name}] rows.sql: {}", strata::pg::describe(&e)))?;
    }
    apply(&client, &changes)
        .await
        .map_err(|e| format!("[{name}] applying the diff failed: {e}\n--- SQL ---\n{sql}"))?;
    if let Ok(check) = std::fs::read_to_string(dir.join("check.sql")) {
        let row = client
            .query_one(check.as_str(), &[])
            .await
            .map_err(|e| format!("[{name}] check.sql: {}", strata::pg::describe(&e)))?;
        if !row.get::<_, bool>(0) {
            return Err(format!(
                "[{name}] check.sql is false after applying the diff\n--- SQL ---\n{sql}"
            ));
        }
    }
    drop(client);
    let migrated = read(&a).await;
    if migrated.fingerprint() != to.fingerprint() {
        let again = strata::diff::diff(&migrated, &to)
            .map(|c| strata::diff::render(&c))
            .unwrap_or_else(|e| e.to_string());
        return Err(format!(
            "[{name}] fingerprints differ after applying the diff\n--- SQL ---\n{sql}\n--- still to do ---\n{again}"
        ));
    }
    if let (Some(dump_a), Some(dump_b)) = (dump(&a), dump(&b)) {
        if dump_a != dump_b {
            let diff = similar::TextDiff::from_lines(&dump_b, &dump_a)
                .unified_diff()
                .header("to.sql", "migrated")
                .to_string();
            return Err(format!(
            "[{name}] pg_dump differs after applying the diff\n--- SQL ---\n{sql}\n--- dump diff ---\n{diff}"
        ));
        }
    }
    let second = strata::diff::diff(&migrated, &to).map_err(|e| e.to_string())?;
    if !second.is_empty() {
        return Err(format!(
            "[{name}] a second diff is not empty:\n{}\n--- first SQL ---\n{sql}",
            strata::diff::render(&second)
        ));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus() {
    let only = std::env::var("DIFF_CASE").ok();
    let cases: Vec<PathBuf> = cases()
        .into_iter()
        .filter(|c| {
            only.as_deref()
                .is_none_or(|o| o.split(',').any(|o| c.ends_with(o)))
        })
        .collect();
    assert!(!cases.is_empty(), "no cases");
    let (skipped, cases): (Vec<PathBuf>, Vec<PathBuf>) =
        cases.into_iter().partition(|c| needs_newer(c).is_some());
    for dir in &skipped {
        eprintln!(
            "skipped: {} needs PostgreSQL {} (the server is {})",
            dir.file_name().unwrap().to_string_lossy(),
            needs_newer(dir).unwrap(),
            common::server_major()
        );
    }
    let mut failures = Vec::new();
    let mut known = Vec::new();
    // A few at a time: each case makes two databases.
    for chunk in cases.chunks(4) {
        let results = futures_join(chunk).await;
        for (dir, result) in chunk.iter().zip(results) {
            // A case with `known_failure` (the reason) must still fail: when it passes,
            // the file has to go.
            let reason = std::fs::read_to_string(dir.join("known_failure")).ok();
            match (result, reason) {
                (Ok(()), None) => {}
                (Err(e), None) => failures.push(e),
                (Err(_), Some(reason)) => known.push(format!(
                    "{}: {}",
                    dir.file_name().unwrap().to_string_lossy(),
                    reason.trim()
                )),
                // Known failures show in pg_dump's output, which is not compared where no
                // installed pg_dump can dump this major.
                (Ok(()), Some(reason)) if common::pg_dump().is_none() => known.push(format!(
                    "{}: {} (not checked: no pg_dump for this major)",
                    dir.file_name().unwrap().to_string_lossy(),
                    reason.trim()
                )),
                (Ok(()), Some(_)) => failures.push(format!(
                    "[{}] passes now: remove its known_failure file",
                    dir.file_name().unwrap().to_string_lossy()
                )),
            }
        }
    }
    for k in &known {
        eprintln!("known failure: {k}");
    }
    let total = cases.len();
    eprintln!(
        "diff corpus: {} passed, {} failed, {} known failure(s), {} skipped below their min_major, of {} cases (PostgreSQL {})",
        total - failures.len() - known.len(),
        failures.len(),
        known.len(),
        skipped.len(),
        total + skipped.len(),
        common::server_major()
    );
    if !failures.is_empty() {
        panic!(
            "{} of {total} diff cases failed:\n\n{}",
            failures.len(),
            failures.join("\n\n")
        );
    }
}

async fn futures_join(chunk: &[PathBuf]) -> Vec<Result<(), String>> {
    let handles: Vec<_> = chunk
        .iter()
        .cloned()
        .map(|dir| tokio::spawn(async move { run_case(&dir).await }))
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(
            h.await
                .unwrap_or_else(|e| Err(format!("case panicked: {e}"))),
        );
    }
    out
}

#[test]
fn dump_normalisation_sorts_columns() {
    let a = "CREATE TABLE public.t (\n    b integer,\n    a integer\n);\n";
    let b = "CREATE TABLE public.t (\n    a integer,\n    b integer\n);\n";
    assert_eq!(normalise_dump(a), normalise_dump(b));
    assert_ne!(
        normalise_dump(a),
        normalise_dump("CREATE TABLE public.t (\n    a integer\n);")
    );
}

/// `strata diff` from the command line: SDL directories on both sides (through shadow
/// databases on the test cluster), text and JSON output, equal schemas, an unsupported change.
#[test]
fn strata_diff_command() {
    let project = common::reachable_tempdir("strata-diff-cli-");
    let dir = project.path();
    let write = |path: &str, text: &str| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    // The shadow server is the test cluster (never an embedded cluster in the project).
    write(
        "pipeline.toml",
        &format!("[shadow]\nurl = \"{}\"\n", common::admin_url()),
    );
    write("old/t.sql", "CREATE TYPE mood AS ENUM ('sad', 'ok');\nCREATE TABLE t (id int PRIMARY KEY, note text);\n");
    write("new/v.sql", "CREATE VIEW v AS SELECT id FROM t;\n");
    write("new/t.sql", "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');\nCREATE TABLE t (id bigint PRIMARY KEY);\n");
    write(
        "retyped/t.sql",
        "CREATE TYPE mood AS ENUM ('sad', 'ok');\nCREATE TABLE t (id timestamp PRIMARY KEY, note text);\n",
    );
    let strata = |args: &[&str]| {
        assert_cmd::Command::cargo_bin("strata")
            .unwrap()
            .current_dir(dir)
            .env("STRATA_SHADOW_URL", common::admin_url())
            .args(args)
            .output()
            .unwrap()
    };
    let out = strata(&["diff", "--from", "old", "--to", "new"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("ALTER TYPE public.mood ADD VALUE 'happy' AFTER 'ok';"),
        "{stdout}"
    );
    assert!(
        stdout.contains("-- hazard: destructive: drops column public.t.note"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ALTER TABLE public.t ALTER COLUMN id TYPE bigint;"),
        "{stdout}"
    );
    assert!(
        stdout.find("ALTER COLUMN id TYPE").unwrap() < stdout.find("CREATE VIEW public.v").unwrap()
    );

    let out = strata(&["diff", "--from", "old", "--to", "new", "--format", "json"]);
    assert!(out.status.success());
    let changes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(changes["strata_output"], 1);
    let kinds: Vec<&str> = changes["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"add_enum_value") && kinds.contains(&"drop_column"),
        "{kinds:?}"
    );

    let out = strata(&["diff", "--from", "old", "--to", "old/t.sql"]);
    assert!(out.status.success());
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // integer to timestamp has no cast: refused until the schema says how.
    let out = strata(&["diff", "--from", "old", "--to", "retyped"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("public.t") && stderr.contains("strata:using"),
        "{stderr}"
    );
}

/// An array of a rebuilt composite moves element by element through a helper function; a
/// value it cannot convert without losing its shape (two dimensions) makes the change fail
/// with the column's name, and the transaction leaves the table as it was.
#[tokio::test]
async fn a_two_dimensional_array_of_a_rebuilt_composite_fails_by_name() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/diff_cases/composite_array_attribute_changed");
    let (a, b) = (TestDb::new(), TestDb::new());
    load_file(&a, &dir.join("from.sql")).await.unwrap();
    load_file(&b, &dir.join("to.sql")).await.unwrap();
    a.psql("INSERT INTO t (id, ps) VALUES (1, ARRAY[[ROW(1, 'x')::pair, ROW(2, 'y')::pair], [ROW(3, 'z')::pair, NULL]])");
    let changes = strata::diff::diff(&read(&a).await, &read(&b).await).unwrap();
    let sql = strata::diff::render(&changes);
    assert!(
        sql.contains(
            "may_fail_on_data: fails if a value of public.t.ps has more than one dimension"
        ),
        "{sql}"
    );
    let client = a.client().await;
    let err = client
        .batch_execute(&format!("BEGIN;\n{sql}COMMIT;"))
        .await
        .unwrap_err();
    let message = strata::pg::describe(&err);
    assert!(
        message.contains("strata converts public.t.ps to public.pair[] element by element"),
        "{message}"
    );
    drop(client);
    assert_eq!(
        a.psql("SELECT ps::text FROM t"),
        r#"{{"(1,x)","(2,y)"},{"(3,z)",NULL}}"#
    );
    assert_eq!(
        a.psql("SELECT count(*) FROM pg_type WHERE typname = 'pair__strata_old'"),
        "0"
    );
}
