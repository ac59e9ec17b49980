//! `run` derives safety from the statements, not from the comments (issue 15 items 4, 7, 8;
//! issue 17's small items): hand edits to a merged pending.sql are refused with their line
//! and nothing runs; an empty desired schema needs intent; lossy type changes are
//! destructive; a populated materialized view is not a schema difference.

mod common;

use common::project::Project;
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;

const MANIFEST: &str = r#"
[shadow]
url = "env:STRATA_TEST_SHADOW_URL"

[targets.test]
url = "env:STRATA_TEST_TARGET_URL"
lock_timeout = "1s"
retries = 2
"#;

fn project(schema: &str) -> Project {
    Project::create("strata-safety-", MANIFEST, schema)
}

/// 1-based number of the first line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in:\n{text}"))
        + 1
}

/// `text` with the `-- hazards:` line just above the statement at `line` replaced.
fn with_hazards(text: &str, line: usize, hazards: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let above = (0..line - 1)
        .rev()
        .find(|&i| lines[i].starts_with("-- hazards:"))
        .expect("a hazards line above the statement");
    lines[above] = format!("-- hazards: {hazards}");
    lines.join("\n") + "\n"
}

#[test]
fn a_hand_edited_hazard_comment_is_refused_with_its_line() {
    let p = project("CREATE TABLE users (id bigint PRIMARY KEY, legacy text);\n");
    p.start();
    p.db.psql("INSERT INTO users VALUES (1, 'keep me')");
    p.write(
        "schema/app.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY);\n",
    );
    p.commit_all("drop legacy");
    p.plan_and_merge();
    let pending = p.pending();
    let line = line_of(&pending, "DROP COLUMN legacy");
    p.write("pending.sql", &with_hazards(&pending, line, "none"));
    for args in [&["run"][..], &["run", "--allow-destructive"]] {
        p.strata()
            .args(args)
            .assert()
            .code(1)
            .stderr(contains(format!("pending.sql:{line}")).and(contains("destructive")));
    }
    p.strata()
        .arg("lint")
        .assert()
        .code(1)
        .stdout(contains("plan-integrity"));
    assert_eq!(p.db.psql("SELECT legacy FROM users"), "keep me");
    // As planned, it runs once approved.
    p.write("pending.sql", &pending);
    p.strata().arg("run").assert().code(1);
    p.strata()
        .args(["run", "--allow-destructive"])
        .assert()
        .success();
    assert_eq!(
        p.db.psql("SELECT count(*) FROM information_schema.columns WHERE column_name = 'legacy'"),
        "0"
    );
}

#[test]
fn a_delete_inserted_into_a_schema_stage_is_refused_and_nothing_runs() {
    let p = project("CREATE TABLE users (id bigint PRIMARY KEY, email text);\n");
    p.start();
    p.db.psql("INSERT INTO users VALUES (1, 'a@example.com')");
    p.write(
        "schema/app.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text, name text);\n",
    );
    p.commit_all("add name");
    p.plan_and_merge();
    let pending = p.pending();
    let add = line_of(&pending, "ADD COLUMN name text;");
    let edited = pending.replace(
        "ADD COLUMN name text;\n",
        "ADD COLUMN name text;\nDELETE FROM public.users;\n",
    );
    p.write("pending.sql", &edited);
    p.strata()
        .args(["run", "--allow-destructive"])
        .assert()
        .code(1)
        .stderr(contains(format!("pending.sql:{}", add + 1)).and(contains("DeleteStmt")));
    assert_eq!(p.db.psql("SELECT count(*) FROM users"), "1");
    assert_eq!(
        p.db.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'name'"),
        "0"
    );
}

#[test]
fn a_statement_edited_after_planning_fails_the_digest() {
    let p = project("CREATE TABLE users (id bigint PRIMARY KEY);\n");
    p.start();
    p.write(
        "schema/app.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, name text);\n",
    );
    p.commit_all("add name");
    p.plan_and_merge();
    let pending = p.pending();
    assert!(pending.contains("-- digest: sha256:"), "{pending}");
    p.write(
        "pending.sql",
        &pending.replace("ADD COLUMN name text;", "ADD COLUMN name varchar(5);"),
    );
    p.strata()
        .arg("run")
        .assert()
        .code(1)
        .stderr(contains("edited after planning").and(contains("strata plan")));
    p.strata()
        .arg("check")
        .assert()
        .code(1)
        .stderr(contains("edited after planning"));
    p.strata()
        .arg("lint")
        .assert()
        .code(1)
        .stdout(contains("edited after planning"));
    assert_eq!(
        p.db.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'name'"),
        "0"
    );
    // A hazards comment is not part of the digest: the classification judges it instead.
    p.write(
        "pending.sql",
        &pending.replace("-- hazards: none", "-- hazards: destructive"),
    );
    p.strata()
        .args(["run", "--allow-destructive"])
        .assert()
        .success();
}

#[test]
fn numeric_narrowing_is_destructive_and_the_data_survives_a_refusal() {
    let p = project(
        "CREATE TABLE prices (id bigint PRIMARY KEY, price numeric(10,2), total numeric(10,2));\n\
         CREATE INDEX prices_total ON prices (total);\n",
    );
    p.start();
    p.db.psql("INSERT INTO prices VALUES (1, 12.99, 12.99)");
    p.write(
        "schema/app.sql",
        "CREATE TABLE prices (id bigint PRIMARY KEY, price numeric(10,0), total numeric(10,0));\n\
         CREATE INDEX prices_total ON prices (total);\n",
    );
    p.commit_all("round prices");
    p.plan_and_merge();
    let pending = p.pending();
    assert!(pending.contains("destructive"), "{pending}");
    p.strata()
        .arg("run")
        .assert()
        .code(1)
        .stderr(contains("destructive"));
    assert_eq!(p.db.psql("SELECT price, total FROM prices"), "12.99|12.99");
    // The ALTER ... TYPE of the indexed column is judged with the target's column type:
    // hiding it is caught by run, which reads that type, at its line.
    let line = line_of(&pending, "ALTER COLUMN total TYPE numeric(10,0)");
    p.write(
        "pending.sql",
        &with_hazards(&pending, line, "table_rewrite"),
    );
    p.strata()
        .args(["run", "--allow-destructive"])
        .assert()
        .code(1)
        .stderr(contains(format!("pending.sql:{line}")).and(contains("lossily")));
    assert_eq!(p.db.psql("SELECT price, total FROM prices"), "12.99|12.99");
    p.write("pending.sql", &pending);
    p.strata()
        .args(["run", "--allow-destructive"])
        .assert()
        .success();
    assert_eq!(p.db.psql("SELECT price, total FROM prices"), "13|13");
}

#[test]
fn a_glob_that_matches_nothing_needs_intent() {
    let manifest = format!("{MANIFEST}\n[schema]\nfiles = [\"schema/*.sqll\"]\n");
    let p = Project::create("strata-safety-", &manifest, "CREATE TABLE t (id int);\n");
    p.db.psql("CREATE TABLE t (id int)");
    for command in ["plan", "apply", "diff", "check"] {
        p.strata()
            .arg(command)
            .assert()
            .code(1)
            .stderr(contains("schema/*.sqll").and(contains("--allow-empty-schema")));
    }
    assert_eq!(
        p.db.psql("SELECT count(*) FROM pg_tables WHERE tablename = 't'"),
        "1"
    );
    p.strata()
        .args(["diff", "--allow-empty-schema"])
        .assert()
        .success()
        .stdout(contains("DROP TABLE public.t"));
}

#[test]
fn schema_files_that_declare_nothing_need_intent_when_the_target_has_objects() {
    let p = project("CREATE TABLE t (id int);\n");
    p.start();
    p.write("schema/app.sql", "-- everything moved elsewhere\n");
    p.commit_all("empty the schema");
    p.strata()
        .arg("plan")
        .assert()
        .code(1)
        .stderr(contains("schema/**/*.sql").and(contains("declare nothing")));
    p.strata()
        .args(["plan", "--allow-empty-schema"])
        .assert()
        .success();
}

const MATVIEW: &str = "CREATE TABLE acc (id int PRIMARY KEY, mood text);\n\
    CREATE MATERIALIZED VIEW mv AS SELECT mood, count(*) AS n FROM acc GROUP BY mood;\n\
    CREATE MATERIALIZED VIEW later AS SELECT id FROM acc WITH NO DATA;\n";

#[test]
fn a_populated_materialized_view_is_adopted_and_planned_without_a_difference() {
    let p = project(MATVIEW);
    p.db.psql(MATVIEW);
    p.db.psql("INSERT INTO acc VALUES (1, 'ok'), (2, 'ok')");
    p.db.psql("REFRESH MATERIALIZED VIEW mv");
    p.strata()
        .arg("plan")
        .assert()
        .success()
        .stdout(contains("nothing to change"));
    p.db.psql("REFRESH MATERIALIZED VIEW later");
    p.strata()
        .args(["diff"])
        .assert()
        .success()
        .stderr(contains("the schemas are equal"));
}

#[test]
fn a_new_materialized_view_is_created_as_declared() {
    let p = project("CREATE TABLE acc (id int PRIMARY KEY, mood text);\n");
    p.start();
    p.db.psql("INSERT INTO acc VALUES (1, 'ok')");
    p.change_to(MATVIEW);
    assert_eq!(
        p.db.psql("SELECT string_agg(relname || '=' || relispopulated, ',' ORDER BY relname) FROM pg_class WHERE relkind = 'm'"),
        "later=false,mv=true"
    );
    assert_eq!(p.db.psql("SELECT n FROM mv"), "1");
    p.strata()
        .arg("plan")
        .assert()
        .success()
        .stdout(contains("nothing to change"));
}

#[test]
fn a_run_that_does_not_reach_the_plan_names_the_objects_that_differ() {
    let manifest = format!(
        "{MANIFEST}\n[deploy]\ncommand = \"psql \\\"$STRATA_TEST_TARGET_URL\\\" -XAtq -c 'CREATE TABLE intruder (id int)'\"\n"
    );
    let p = Project::create("strata-safety-", &manifest, "CREATE TABLE t (id int);\n");
    p.plan_and_merge();
    p.strata()
        .arg("run")
        .assert()
        .code(2)
        .stderr(contains("table public.intruder: only in the target"));
}
