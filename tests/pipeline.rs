//! The whole loop on real PostgreSQL and real git repositories: plan on a branch, merge, run
//! (expand, migrations, deploy hook, contract), drift, resume, locking.

mod common;

use assert_cmd::Command;
use common::project::{git, record_push_options, Project};
use common::{reachable_tempdir, TestDb};
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;

const MANIFEST: &str = r#"
[shadow]
url = "env:STRATA_TEST_SHADOW_URL"

[deploy]
command = "echo deployed-$STRATA_STAGE >> deploy.log; test ! -f fail-deploy"

[targets.test]
url = "env:STRATA_TEST_TARGET_URL"
lock_timeout = "1s"
retries = 2
"#;

impl Project {
    fn new(schema: &str) -> Project {
        Project::create("strata-pipeline-", MANIFEST, schema)
    }
}

const V1: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n";

#[test]
fn the_whole_loop() {
    let p = Project::new(V1);
    p.write(
        "migrations/0001_seed.sql",
        "INSERT INTO users VALUES (1, 'a@example.com');\n",
    );
    p.commit_all("seed");

    let branch = p.plan_and_merge();
    assert!(branch.starts_with("change-schema-"), "{branch}");
    let pending = p.pending();
    assert!(
        pending.contains("-- source-fingerprint: sha256:"),
        "{pending}"
    );
    assert!(
        pending.contains("-- desired-fingerprint: sha256:"),
        "{pending}"
    );
    assert!(pending.contains("CREATE TABLE"), "{pending}");
    assert!(pending.contains("-- migration: 0001_seed.sql"), "{pending}");

    p.strata().args(["run", "--git-commit"]).assert().success();
    assert_eq!(p.db.psql("SELECT email FROM users"), "a@example.com");
    assert!(!p.root.join("pending.sql").exists());
    assert_eq!(git(&p.root, &["status", "--porcelain"]), "");
    let log = std::fs::read_to_string(p.root.join("deploy.log")).unwrap();
    assert_eq!(log, "deployed-deploy\n");

    // Nothing changed: no file, no branch.
    p.strata()
        .arg("plan")
        .assert()
        .success()
        .stdout(contains("nothing to change"));
    assert!(!p.root.join("pending.sql").exists());
    p.strata().arg("drift").assert().success();

    // An edit to schema/ gives a plan that holds only that edit, split into expand/contract.
    p.write(
        "schema/app.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text);\n",
    );
    p.commit_all("add name");
    p.plan_and_merge();
    let pending = p.pending();
    assert!(pending.contains("ADD COLUMN name text"), "{pending}");
    assert!(!pending.contains("CREATE TABLE"), "{pending}");
    assert!(!pending.contains("-- migration:"), "{pending}");
    p.strata().arg("run").assert().success();
    assert_eq!(
        p.db.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'name'"),
        "1"
    );
}

#[test]
fn a_manual_change_between_plan_and_run_is_refused_and_named() {
    let p = Project::new(V1);
    p.plan_and_merge();
    p.strata().arg("run").assert().success();
    p.write(
        "schema/app.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text);\n",
    );
    p.commit_all("add name");
    p.plan_and_merge();
    p.db.psql("CREATE TABLE sneaky (id int)");
    p.strata()
        .arg("run")
        .assert()
        .code(1)
        .stderr(contains("changed since"))
        .stderr(contains("sneaky"));
    assert_eq!(
        p.db.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'name'"),
        "0"
    );
    p.strata()
        .arg("drift")
        .assert()
        .code(1)
        .stdout(contains("sneaky"));
}

#[test]
fn a_failing_deploy_hook_stops_before_contract_and_a_rerun_resumes() {
    let p = Project::new(
        "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, legacy text);\n",
    );
    p.plan_and_merge();
    p.strata().arg("run").assert().success();
    p.write(
        "schema/app.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text);\n",
    );
    p.commit_all("replace legacy by name");
    p.plan_and_merge();
    let pending = p.pending();
    assert!(pending.contains("-- ==== stage contract"), "{pending}");
    assert!(pending.contains("DROP COLUMN legacy"), "{pending}");
    p.write("fail-deploy", "");
    p.strata()
        .args(["run", "--allow-destructive"])
        .assert()
        .code(2)
        .stderr(contains("deploy hook"));
    // Expand ran, contract did not.
    assert_eq!(
        p.db.psql("SELECT string_agg(column_name, ',' ORDER BY column_name) FROM information_schema.columns WHERE table_name = 'users'"),
        "email,id,legacy,name"
    );
    std::fs::remove_file(p.root.join("fail-deploy")).unwrap();
    p.strata()
        .args(["run", "--allow-destructive"])
        .assert()
        .success();
    assert_eq!(
        p.db.psql("SELECT string_agg(column_name, ',' ORDER BY column_name) FROM information_schema.columns WHERE table_name = 'users'"),
        "email,id,name"
    );
}

#[test]
fn destructive_statements_need_approval() {
    let p = Project::new("CREATE TABLE a (id int); CREATE TABLE b (id int);\n");
    p.plan_and_merge();
    p.strata().arg("run").assert().success();
    p.write("schema/app.sql", "CREATE TABLE a (id int);\n");
    p.commit_all("drop b");
    p.plan_and_merge();
    p.strata()
        .arg("run")
        .assert()
        .code(1)
        .stderr(contains("destructive"));
    assert_eq!(
        p.db.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'b'"),
        "1"
    );
    p.strata()
        .args(["run", "--allow-destructive"])
        .assert()
        .success();
    assert_eq!(
        p.db.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'b'"),
        "0"
    );
}

#[test]
fn plan_pushes_with_merge_request_options() {
    let p = Project::new(V1);
    record_push_options(&p.remote);
    p.strata()
        .args(["plan", "--push", "--merge-request"])
        .assert()
        .success();
    let options = std::fs::read_to_string(p.remote.join("push-options")).unwrap();
    assert!(options.contains("merge_request.create\n"), "{options}");
    assert!(options.contains("merge_request.target=main\n"), "{options}");
    assert!(options.contains("merge_request.title="), "{options}");
    let branches = git(&p.remote, &["branch", "--list", "change-schema-*"]);
    assert!(!branches.is_empty());
    // The work tree and branch are as they were.
    assert_eq!(git(&p.root, &["rev-parse", "--abbrev-ref", "HEAD"]), "main");
    assert!(!p.root.join("pending.sql").exists());
}

#[test]
fn two_runs_at_once_apply_everything_once() {
    let p = Project::new(V1);
    p.write(
        "migrations/0001_slow.sql",
        "INSERT INTO users SELECT 1, 'x' FROM pg_sleep(1);\n",
    );
    p.commit_all("slow");
    p.plan_and_merge();
    let mut a = std::process::Command::new(assert_cmd::cargo::cargo_bin("strata"));
    let mut b = std::process::Command::new(assert_cmd::cargo::cargo_bin("strata"));
    for cmd in [&mut a, &mut b] {
        let env = p.strata();
        cmd.args(["-C", p.root.to_str().unwrap(), "run"]);
        for (k, v) in env.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
    }
    let a = a.output();
    let b = b.output();
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.status.success() || b.status.success(), "{a:?}\n{b:?}");
    assert_eq!(p.db.psql("SELECT count(*) FROM users"), "1");
}

#[test]
fn a_migration_renaming_a_column_that_the_sdl_renames_converges() {
    let p = Project::new("CREATE TABLE users (id bigint PRIMARY KEY, fullname text);\n");
    p.plan_and_merge();
    p.strata().arg("run").assert().success();
    p.write(
        "schema/app.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, full_name text);\n",
    );
    p.write(
        "migrations/0001_rename_fullname.sql",
        "ALTER TABLE users RENAME COLUMN fullname TO full_name;\n",
    );
    p.commit_all("rename");
    p.plan_and_merge();
    let pending = p.pending();
    assert!(!pending.contains("DROP COLUMN"), "{pending}");
    p.strata().arg("run").assert().success();
    p.strata()
        .arg("plan")
        .assert()
        .success()
        .stdout(contains("nothing to change"));
}

#[test]
fn a_run_killed_midway_converges_when_run_again() {
    let p = Project::new(V1);
    p.write(
        "migrations/0001_slow.sql",
        "INSERT INTO users SELECT 1, 'x' FROM pg_sleep(3);\n",
    );
    p.commit_all("slow");
    p.plan_and_merge();
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("strata"));
    cmd.args(["-C", p.root.to_str().unwrap(), "run"]);
    for (k, v) in p.strata().get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let mut child = cmd.spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2000));
    child.kill().unwrap();
    child.wait().unwrap();
    p.strata().arg("run").assert().success();
    assert_eq!(p.db.psql("SELECT count(*) FROM users"), "1");
    p.strata()
        .arg("plan")
        .assert()
        .success()
        .stdout(contains("nothing to change"));
}

#[test]
fn check_says_whether_pending_sql_is_current() {
    let p = Project::new(V1);
    // No pending.sql while schema/ differs from the database: stale.
    p.strata()
        .arg("check")
        .assert()
        .code(1)
        .stdout(contains("stale"));
    p.plan_and_merge();
    let summary = p.root.join("summary.md");
    p.strata()
        .arg("check")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .assert()
        .success()
        .stdout(contains("pending.sql is current"))
        .stdout(contains("| expand | schema |"));
    let written = std::fs::read_to_string(&summary).unwrap();
    assert!(written.contains("## strata plan for `test`"), "{written}");
    // schema/ changes after the plan: stale.
    p.write(
        "schema/app.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n",
    );
    p.strata()
        .arg("check")
        .assert()
        .code(1)
        .stdout(contains("schema/ changed"));
    p.write("schema/app.sql", V1);
    // The database changes after the plan: stale.
    p.db.psql("CREATE TABLE elsewhere (id int)");
    p.strata()
        .args(["check", "--format", "json"])
        .assert()
        .code(1)
        .stdout(contains("\"current\": false"))
        .stdout(contains("target database changed"));
}

#[test]
fn status_and_drift_policies() {
    let p = Project::new(V1);
    p.write(
        "migrations/0001_seed.sql",
        "INSERT INTO users VALUES (1, 'a@example.com');\n",
    );
    p.commit_all("seed");
    p.strata()
        .arg("status")
        .assert()
        .success()
        .stdout(contains("last run:           never"))
        .stdout(contains("0001_seed.sql (pending)"));
    p.plan_and_merge();
    p.strata().arg("status").assert().success().stdout(contains(
        "pending.sql:        present, planned against the database as it is",
    ));
    p.strata().arg("run").assert().success();
    p.strata()
        .args(["status", "--format", "json"])
        .assert()
        .success()
        .stdout(contains("\"pending_migrations\": []"))
        .stdout(contains("already applied"));
    // Drift: with on_drift = "fail" (the default) plan refuses; "reconcile" plans it away.
    p.db.psql("ALTER TABLE users ADD COLUMN manual int");
    p.strata()
        .arg("plan")
        .assert()
        .code(1)
        .stderr(contains("added: column public.users.manual"));
    let manifest = MANIFEST.replace("retries = 2", "retries = 2\non_drift = \"reconcile\"");
    p.write("pipeline.toml", &manifest);
    p.commit_all("reconcile drift");
    p.plan_and_merge();
    let pending = p.pending();
    assert!(
        pending.contains("-- drift: added: column public.users.manual"),
        "{pending}"
    );
    assert!(pending.contains("DROP COLUMN manual"), "{pending}");
}

#[test]
fn apply_plans_and_runs_at_once_without_git() {
    let p = Project::new(V1);
    p.strata().arg("apply").assert().success();
    assert_eq!(p.db.psql("SELECT count(*) FROM users"), "0");
    p.write(
        "schema/app.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY);\n",
    );
    p.strata()
        .arg("apply")
        .assert()
        .code(1)
        .stderr(contains("destructive"));
    p.strata()
        .args(["apply", "--allow-destructive"])
        .assert()
        .success();
    assert_eq!(
        p.db.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users'"),
        "1"
    );
    p.strata()
        .arg("apply")
        .assert()
        .success()
        .stdout(contains("nothing to change"));
    assert_eq!(git(&p.root, &["branch", "--list", "change-schema-*"]), "");
}

#[test]
fn init_scaffolds_a_project_from_an_existing_database() {
    let db = TestDb::new();
    db.psql("CREATE SCHEMA shop; CREATE TABLE shop.items (id int PRIMARY KEY, \"Name\" text); CREATE VIEW shop.v AS SELECT id FROM shop.items");
    let dir = reachable_tempdir("strata-init-");
    let run = |args: &[&str]| {
        let mut cmd = Command::cargo_bin("strata").unwrap();
        cmd.arg("-C")
            .arg(dir.path())
            .args(args)
            .env("CI", "true")
            .env_remove("DATABASE_URL");
        cmd
    };
    run(&["init", "--from-database", &db.url])
        .assert()
        .success();
    let schema = std::fs::read_dir(dir.path().join("schema"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect::<String>();
    assert!(schema.contains("CREATE TABLE shop.items"), "{schema}");
    assert!(dir.path().join("migrations").is_dir());
    assert!(std::fs::read_to_string(dir.path().join(".gitignore"))
        .unwrap()
        .contains("/.strata"));
    run(&["config"]).assert().success();
    // The dump is the baseline: planning against the same database changes nothing.
    let manifest = std::fs::read_to_string(dir.path().join("pipeline.toml")).unwrap();
    assert!(manifest.contains("[targets.production]"), "{manifest}");
    assert!(!manifest.contains(&db.url), "{manifest}");
    run(&["plan", "--no-git", "--target", "production"])
        .env("DATABASE_URL", &db.url)
        .env("STRATA_SHADOW_URL", common::admin_url())
        .assert()
        .success()
        .stdout(contains("nothing to change"));
    // Never overwrites.
    run(&["init"])
        .assert()
        .code(1)
        .stderr(contains("already exists"))
        .stderr(contains("cannot read").not());
    let empty = reachable_tempdir("strata-init-");
    let mut cmd = Command::cargo_bin("strata").unwrap();
    cmd.arg("-C")
        .arg(empty.path())
        .arg("init")
        .assert()
        .success();
    assert!(empty.path().join("schema/schema.sql").exists());
}

#[test]
fn a_not_null_column_without_default_is_filled_by_a_migration_before_the_contract() {
    let p = Project::new(V1);
    p.start();
    p.db.psql(
        "INSERT INTO users SELECT g, 'u' || g || '@example.com' FROM generate_series(1, 50) g",
    );
    p.write(
        "schema/app.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, handle text NOT NULL);\n",
    );
    p.write(
        "migrations/0001_fill_handles.sql",
        "UPDATE users SET handle = split_part(email, '@', 1) WHERE handle IS NULL;\n",
    );
    p.commit_all("users get a handle");
    p.plan_and_merge();
    let pending = p.pending();
    let expand = pending.find("ADD COLUMN handle text;").expect(&pending);
    let migration = pending.find("UPDATE users SET handle").expect(&pending);
    let set_not_null = pending.find("SET NOT NULL").expect(&pending);
    assert!(expand < migration && migration < set_not_null, "{pending}");
    p.strata().args(["run", "--git-commit"]).assert().success();
    assert_eq!(
        p.db.psql("SELECT count(*) FROM users WHERE handle = split_part(email, '@', 1)"),
        "50"
    );
    assert_eq!(
        p.db.psql("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'handle'"),
        "t"
    );
    p.strata().arg("drift").assert().success();
}

#[test]
fn a_not_null_column_nobody_fills_stops_the_run_at_the_contract() {
    let p = Project::new(V1);
    p.start();
    p.db.psql("INSERT INTO users VALUES (1, 'a@example.com')");
    p.write(
        "schema/app.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, handle text NOT NULL);\n",
    );
    p.commit_all("users get a handle, unfilled");
    p.plan_and_merge();
    assert!(p.pending().contains("may_fail_on_data"), "{}", p.pending());
    p.strata()
        .arg("run")
        .assert()
        .failure()
        .stderr(contains("handle"));
    // Expand ran; the column exists and may stay nullable until a migration fills it.
    assert_eq!(
        p.db.psql("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'handle'"),
        "f"
    );
}

#[test]
fn a_plan_that_creates_tables_passes_lint_and_carries_no_lock_hazards() {
    let p = Project::new(
        "CREATE TABLE owners (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE);\n\
         CREATE TABLE pets (id bigint PRIMARY KEY, owner_id bigint NOT NULL REFERENCES owners (id), name text CHECK (name <> ''));\n\
         CREATE INDEX pets_owner_id_idx ON pets (owner_id);\n",
    );
    p.plan_and_merge();
    let pending = p.pending();
    let hazards: Vec<&str> = pending
        .lines()
        .filter(|l| l.starts_with("-- hazards:") && *l != "-- hazards: none")
        .collect();
    assert!(hazards.is_empty(), "{pending}");
    p.strata()
        .args(["lint", "pending.sql"])
        .assert()
        .success()
        .stdout(contains("0 errors"));
}

/// A foreign key to a partitioned table has a copy on its own table for each partition,
/// which PostgreSQL names with a number in the order the partitions were attached. On a
/// target whose partition came after the key, and on its shadow (loaded in dependency
/// order), the copies have each other's names: the model names them after their key and
/// partition, so the plan has only the real change and the run finishes instead of finding
/// the target different from the planned schema.
#[test]
fn a_partition_attached_after_a_foreign_key_to_its_parent_does_not_stop_a_run() {
    const PARTITIONED: &str =
        "CREATE TABLE events (id int, k int, PRIMARY KEY (id, k)) PARTITION BY RANGE (k);
CREATE TABLE events_2 PARTITION OF events FOR VALUES FROM (10) TO (20);
CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (10);
CREATE TABLE notes (id int, k int, FOREIGN KEY (id, k) REFERENCES events);
";
    let p = Project::new(PARTITIONED);
    p.db.psql(
        "CREATE TABLE events (id int, k int, PRIMARY KEY (id, k)) PARTITION BY RANGE (k);
         CREATE TABLE events_2 PARTITION OF events FOR VALUES FROM (10) TO (20);
         CREATE TABLE notes (id int, k int, FOREIGN KEY (id, k) REFERENCES events);
         CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (10);",
    );
    // The copies' names, as the target has them: the later partition took the next number.
    assert_eq!(
        p.db.psql(
            "SELECT string_agg(conname || '>' || confrelid::regclass, ' ' ORDER BY conname) \
             FROM pg_constraint WHERE contype = 'f'"
        ),
        "notes_id_k_fkey>events notes_id_k_fkey1>events_2 notes_id_k_fkey2>events_1"
    );
    assert_converged(&p);

    let pending = p.change_to(&format!("{PARTITIONED}CREATE TABLE extra (id int);\n"));
    assert!(pending.contains("CREATE TABLE public.extra"), "{pending}");
    assert!(!pending.contains("fkey"), "{pending}");
    assert_converged(&p);
}

/// No drift, and a plan with nothing to change.
fn assert_converged(p: &Project) {
    p.strata().arg("drift").assert().success();
    p.strata()
        .arg("plan")
        .assert()
        .success()
        .stdout(contains("nothing to change"));
}

/// `varchar_col IN (...)` as a user writes it in schema/ prints as an array cast that reads
/// back as another expression once strata's DDL has made it (`catalog::settle`): the plan
/// converges, the run finishes, and the next plan has nothing to change instead of dropping
/// and adding the check, the index and the view again.
#[test]
fn an_in_list_over_varchar_plans_runs_and_then_has_nothing_to_change() {
    const V1: &str = "CREATE TABLE users (id bigint PRIMARY KEY, role varchar(10));\n";
    const V2: &str = "CREATE TABLE users (id bigint PRIMARY KEY, \
         role varchar(10) CHECK (role IN ('admin', 'member')));
CREATE INDEX users_admins ON users (id) WHERE role IN ('admin');
CREATE INDEX users_staff ON users (id) WHERE role NOT IN ('member', 'guest');
CREATE VIEW staff AS SELECT id FROM users WHERE role IN ('admin', 'member');
";
    let p = Project::new(V1);
    p.plan_and_merge();
    p.strata().arg("run").assert().success();
    let pending = p.change_to(V2);
    assert!(pending.contains("users_role_check"), "{pending}");
    assert_converged(&p);
}
