//! The projects under examples/ work as their READMEs say: each manifest is valid, each
//! migration passes `strata lint`, and each walk-through (before → change → after) plans and
//! runs on real databases of the test cluster, on a copy of the example (never in examples/).
//! The READMEs themselves were produced from real runs on the embedded cluster; this keeps
//! the files they describe working.

mod common;

use assert_cmd::Command;
use common::{reachable_tempdir, TestDb};
use predicates::str::contains;
use std::path::{Path, PathBuf};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

/// A copy of examples/<name> in a temp directory (files only, no .strata).
struct Copy {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Copy {
    fn of(name: &str) -> Copy {
        let dir = reachable_tempdir("strata-example-");
        let root = dir.path().join(name);
        copy_dir(&example(name), &root);
        Copy { _dir: dir, root }
    }

    fn strata(&self) -> Command {
        let mut cmd = Command::cargo_bin("strata").unwrap();
        cmd.arg("-C")
            .arg(&self.root)
            .env("CI", "true")
            .env_remove("DATABASE_URL")
            .env("STRATA_SHADOW_URL", common::admin_url());
        cmd
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn mv(&self, from: &str, to: &str) {
        std::fs::rename(self.path(from), self.path(to)).unwrap();
    }

    fn cp(&self, from: &str, to: &str) {
        std::fs::copy(self.path(from), self.path(to)).unwrap();
    }

    /// `strata plan --no-git` then `strata run` against the given database (extra args to run).
    fn plan_and_run(&self, url: &str, run_args: &[&str]) -> String {
        self.strata()
            .args(["plan", "--no-git"])
            .env("DATABASE_URL", url)
            .assert()
            .success();
        let out = self
            .strata()
            .arg("run")
            .args(run_args)
            .env("DATABASE_URL", url)
            .assert()
            .success();
        let _ = std::fs::remove_file(self.path("pending.sql"));
        String::from_utf8_lossy(&out.get_output().stderr).to_string()
            + &String::from_utf8_lossy(&out.get_output().stdout)
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == ".strata" {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

const EXAMPLES: [&str; 5] = [
    "adopt-existing-database",
    "expand-contract-rename",
    "data-migration-between-stages",
    "multi-target",
    "tenant-fleet",
];

#[test]
fn every_example_is_complete_valid_and_lint_clean() {
    for name in EXAMPLES {
        let dir = example(name);
        for file in ["pipeline.toml", "README.md", ".gitignore"] {
            assert!(dir.join(file).is_file(), "{name}: {file} missing");
        }
        for sub in ["schema", "migrations"] {
            assert!(dir.join(sub).is_dir(), "{name}: {sub}/ missing");
        }
        let ignore = std::fs::read_to_string(dir.join(".gitignore")).unwrap();
        assert!(ignore.lines().any(|l| l.trim() == "/.strata"), "{name}");
        let copy = Copy::of(name);
        // `strata config` prints a manifest that loads back as the same one.
        let printed = copy.strata().arg("config").assert().success();
        let printed = printed.get_output().stdout.clone();
        std::fs::write(copy.path("pipeline.toml"), &printed).unwrap();
        let again = copy.strata().arg("config").assert().success();
        assert_eq!(
            String::from_utf8_lossy(&again.get_output().stdout),
            String::from_utf8_lossy(&printed),
            "{name}"
        );
        copy.strata()
            .args(["lint", "migrations"])
            .assert()
            .success()
            .stdout(contains("0 errors"));
    }
}

#[test]
fn adopt_existing_database() {
    let db = TestDb::new();
    db.psql(&std::fs::read_to_string(example("adopt-existing-database/legacy.sql")).unwrap());
    let dir = reachable_tempdir("strata-adopt-");
    let strata = || {
        let mut cmd = Command::cargo_bin("strata").unwrap();
        cmd.arg("-C")
            .arg(dir.path())
            .env("CI", "true")
            .env("DATABASE_URL", &db.url)
            .env("STRATA_SHADOW_URL", common::admin_url());
        cmd
    };
    strata()
        .args(["init", "--from-database", &db.url])
        .assert()
        .success();
    strata()
        .args(["plan", "--no-git"])
        .assert()
        .success()
        .stdout(contains("nothing to change"));
    // The example's schema/ is the baseline plus the first change.
    std::fs::copy(
        example("adopt-existing-database/schema/0001_schema_public.sql"),
        dir.path().join("schema/0001_schema_public.sql"),
    )
    .unwrap();
    strata()
        .args(["plan", "--no-git"])
        .assert()
        .success()
        .stdout(contains(
            "ALTER TABLE public.customers ADD COLUMN phone text;",
        ))
        .stdout(contains("CREATE INDEX CONCURRENTLY orders_placed_at_idx"));
    strata().arg("run").assert().success();
    strata().arg("drift").assert().success();
    assert_eq!(db.psql("SELECT count(*) FROM orders"), "3");
}

#[test]
fn expand_contract_rename() {
    let db = TestDb::new();
    let ex = Copy::of("expand-contract-rename");
    std::fs::create_dir(ex.path(".next")).unwrap();
    ex.mv("schema/users.sql", ".next/users.sql");
    ex.mv(
        "migrations/0001_split_user_names.sql",
        ".next/0001_split_user_names.sql",
    );
    ex.cp("steps/1-before.sql", "schema/users.sql");
    ex.plan_and_run(&db.url, &[]);
    db.psql(
        "INSERT INTO users (email, name) SELECT 'user' || i || '@example.com', 'First' || i || ' Last' || i FROM generate_series(1, 2500) i",
    );
    db.psql("INSERT INTO users (email, name) VALUES ('cher@example.com', 'Cher'), ('ada@example.com', 'Ada King Lovelace')");

    // Change 1: refused without --allow-destructive, then expand, backfill, deploy, contract.
    ex.cp("steps/2-split.sql", "schema/users.sql");
    ex.mv(
        ".next/0001_split_user_names.sql",
        "migrations/0001_split_user_names.sql",
    );
    ex.strata()
        .args(["plan", "--no-git"])
        .env("DATABASE_URL", &db.url)
        .assert()
        .success()
        .stdout(contains("ALTER TABLE public.users DROP COLUMN name;"));
    ex.strata()
        .arg("run")
        .env("DATABASE_URL", &db.url)
        .assert()
        .code(1)
        .stderr(contains("destructive"));
    let log = ex.plan_and_run(&db.url, &["--allow-destructive"]);
    assert!(
        log.contains("applied 0001_split_user_names.sql (2502 rows)"),
        "{log}"
    );
    assert!(
        log.contains("deploying the app to local (stage deploy)"),
        "{log}"
    );
    assert_eq!(
        db.psql("SELECT first_name || '|' || last_name FROM users WHERE email = 'ada@example.com'"),
        "Ada|King Lovelace"
    );
    assert_eq!(
        db.psql(
            "SELECT first_name || '|' || last_name FROM users WHERE email = 'cher@example.com'"
        ),
        "Cher|"
    );

    // Change 2: NOT NULL, online.
    ex.cp(".next/users.sql", "schema/users.sql");
    let log = ex.plan_and_run(&db.url, &[]);
    assert!(
        log.contains("VALIDATE CONSTRAINT users_first_name_not_null"),
        "{log}"
    );
    assert_eq!(
        db.psql("SELECT string_agg(is_nullable, ',' ORDER BY column_name) FROM information_schema.columns WHERE table_name = 'users' AND column_name IN ('first_name', 'last_name')"),
        "NO,NO"
    );
}

#[test]
fn data_migration_between_stages() {
    let db = TestDb::new();
    let ex = Copy::of("data-migration-between-stages");
    std::fs::create_dir(ex.path(".next")).unwrap();
    ex.mv("schema/prices.sql", ".next/prices.sql");
    ex.mv(
        "migrations/0001_seed_currencies.sql",
        ".next/0001_seed_currencies.sql",
    );
    ex.cp("steps/1-before.sql", "schema/prices.sql");
    ex.plan_and_run(&db.url, &[]);
    db.psql("INSERT INTO prices (sku, amount_cents, currency) VALUES ('book', 1500, 'EUR'), ('pen', 200, 'USD'), ('mug', 900, 'CHF')");

    ex.cp(".next/prices.sql", "schema/prices.sql");
    ex.mv(
        ".next/0001_seed_currencies.sql",
        "migrations/0001_seed_currencies.sql",
    );
    let plan = ex
        .strata()
        .args(["plan", "--no-git"])
        .env("DATABASE_URL", &db.url)
        .assert()
        .success();
    let plan = String::from_utf8_lossy(&plan.get_output().stdout).to_string();
    let at = |needle: &str| {
        plan.find(needle)
            .unwrap_or_else(|| panic!("{needle} not in:\n{plan}"))
    };
    // The seed sits between the table and the foreign key, the hook last.
    assert!(at("CREATE TABLE public.currencies") < at("-- migration: 0001_seed_currencies.sql"));
    assert!(
        at("-- migration: 0001_seed_currencies.sql")
            < at("VALIDATE CONSTRAINT prices_currency_fkey")
    );
    assert!(at("VALIDATE CONSTRAINT prices_currency_fkey") < at("-- ==== stage deploy (hook)"));
    // As the README says: lint of the migration and this pending.sql finds no error (the
    // constraints of the table the plan creates once raised some).
    ex.strata()
        .arg("lint")
        .assert()
        .success()
        .stdout(contains("2 files checked: 0 errors"));
    ex.strata()
        .arg("run")
        .env("DATABASE_URL", &db.url)
        .assert()
        .success();
    assert_eq!(
        db.psql("SELECT string_agg(code, ',' ORDER BY code) FROM currencies"),
        "CHF,EUR,GBP,USD"
    );
}

#[test]
fn multi_target() {
    let test_db = TestDb::new();
    let prod_db = TestDb::new();
    let ex = Copy::of("multi-target");
    std::fs::create_dir(ex.path(".next")).unwrap();
    ex.mv("schema/articles.sql", ".next/articles.sql");
    ex.cp("steps/1-before.sql", "schema/articles.sql");
    let before = std::fs::read_to_string(ex.path("steps/1-before.sql")).unwrap();
    for db in [&test_db, &prod_db] {
        db.psql(&before);
        db.psql("INSERT INTO articles (title, body) VALUES ('hello', 'first post')");
    }
    let strata = || {
        let mut cmd = ex.strata();
        cmd.env("TEST_DATABASE_URL", &test_db.url)
            .env("PROD_DATABASE_URL", &prod_db.url);
        cmd
    };
    ex.cp(".next/articles.sql", "schema/articles.sql");
    strata()
        .args(["plan", "--no-git"])
        .assert()
        .success()
        .stdout(contains("-- target: test"));
    strata()
        .arg("run")
        .assert()
        .success()
        .stdout(contains("deploying the app to test"));
    strata()
        .arg("status")
        .assert()
        .success()
        .stdout(contains("already applied"));
    strata()
        .args(["status", "--target", "prod"])
        .assert()
        .success()
        .stdout(contains("planned against the database as it is"));
    strata()
        .args(["run", "--target", "prod"])
        .assert()
        .success()
        .stdout(contains("deploying the app to prod"));
    let fingerprint = |target: &str| {
        let out = strata()
            .args(["fingerprint", "--target", target])
            .assert()
            .success();
        String::from_utf8_lossy(&out.get_output().stdout)
            .trim()
            .to_string()
    };
    assert_eq!(fingerprint("test"), fingerprint("prod"));
}
