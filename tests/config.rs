//! Which database a command works on (docs/manifest.md, "Which database"), and what
//! `strata config` prints, against real databases of the test cluster.

mod common;

use assert_cmd::Command;
use common::{reachable_tempdir, TestDb};
use std::path::Path;

const PG_VARS: [&str; 6] = [
    "PGHOST",
    "PGPORT",
    "PGDATABASE",
    "PGUSER",
    "PGPASSWORD",
    "PGSSLMODE",
];

fn project(manifest: &str) -> tempfile::TempDir {
    let dir = reachable_tempdir("strata-config-");
    std::fs::create_dir_all(dir.path().join("schema")).unwrap();
    std::fs::create_dir_all(dir.path().join("migrations")).unwrap();
    std::fs::write(dir.path().join("pipeline.toml"), manifest).unwrap();
    std::fs::write(
        dir.path().join("schema/app.sql"),
        "CREATE TABLE t (id int);\n",
    )
    .unwrap();
    dir
}

/// strata in `dir` with no DATABASE_URL and no PG* variable unless the test sets them.
fn strata(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("strata").unwrap();
    cmd.arg("-C")
        .arg(dir)
        .env("CI", "true")
        .env_remove("DATABASE_URL");
    for var in PG_VARS {
        cmd.env_remove(var);
    }
    cmd
}

struct Output {
    stdout: String,
    stderr: String,
}

fn ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    let o = Output {
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    };
    assert!(
        out.status.success(),
        "{:?}\n{}\n{}",
        out.status,
        o.stdout,
        o.stderr
    );
    o
}

/// Two databases told apart by their schema: `rich` has a table `rich_only`.
fn two_databases() -> (TestDb, TestDb) {
    let rich = TestDb::new();
    rich.psql("CREATE TABLE rich_only (id int)");
    (rich, TestDb::new())
}

fn fingerprint(dir: &Path, url: &str) -> String {
    ok(strata(dir).args(["fingerprint", "--database-url", url]))
        .stdout
        .trim()
        .to_string()
}

/// The line `fingerprint: ...` of `strata status`: the database it actually read.
fn status_fingerprint(out: &Output) -> String {
    out.stdout
        .lines()
        .find_map(|l| l.strip_prefix("fingerprint:"))
        .unwrap_or_else(|| panic!("no fingerprint in {}", out.stdout))
        .trim()
        .to_string()
}

#[test]
fn an_explicit_target_beats_an_ambient_database_url() {
    let (rich, prod) = two_databases();
    let dir = project(&format!(
        "default_target = \"test\"\n[targets.test]\nurl = \"env:TEST_URL\"\n\
         [targets.prod]\nurl = \"{}\"\n",
        prod.url
    ));
    let rich_fp = fingerprint(dir.path(), &rich.url);
    let prod_fp = fingerprint(dir.path(), &prod.url);
    assert_ne!(rich_fp, prod_fp);

    // --target prod with a leftover DATABASE_URL: prod, and a warning that it was ignored.
    let out = ok(strata(dir.path())
        .args(["status", "--target", "prod"])
        .env("DATABASE_URL", &rich.url));
    assert_eq!(status_fingerprint(&out), prod_fp, "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!("/{} ", prod.name))
            || out.stdout.contains(&format!("/{})", prod.name)),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains(&rich.name), "{}", out.stdout);
    assert!(
        out.stderr
            .contains("warning: DATABASE_URL is set but ignored: --target prod"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.contains("database from:      url = \"postgres"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("target prod: postgresql://"),
        "{}",
        out.stderr
    );

    // No target named: DATABASE_URL fills in (the default target's policies), and says so.
    let out = ok(strata(dir.path())
        .arg("status")
        .env("DATABASE_URL", &rich.url)
        .env("TEST_URL", &prod.url));
    assert_eq!(status_fingerprint(&out), rich_fp);
    assert!(
        out.stdout.contains("target:             test ("),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("DATABASE_URL (no --target given)"),
        "{}",
        out.stdout
    );
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);

    // Neither: the default target's own URL.
    let out = ok(strata(dir.path()).arg("status").env("TEST_URL", &rich.url));
    assert_eq!(status_fingerprint(&out), rich_fp);
    assert!(
        out.stdout
            .contains("url = \"env:TEST_URL\" of [targets.test]"),
        "{}",
        out.stdout
    );

    // --database-url is the explicit override, whatever else is set.
    let out = ok(strata(dir.path())
        .args(["status", "--target", "prod", "--database-url", &rich.url])
        .env("DATABASE_URL", &prod.url));
    assert_eq!(status_fingerprint(&out), rich_fp);
    assert!(
        out.stdout.contains("database from:      --database-url"),
        "{}",
        out.stdout
    );

    // The JSON says it too.
    let out = ok(strata(dir.path())
        .args(["status", "--target", "prod", "--format", "json"])
        .env("DATABASE_URL", &rich.url));
    let value: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(value["fingerprint"], prod_fp.as_str());
    assert!(value["database_source"]
        .as_str()
        .unwrap()
        .contains("[targets.prod]"));
}

/// libpq's rule: with no target declared, PG* variables name the server (not the embedded
/// cluster, which is never started).
#[test]
fn pg_variables_name_the_server_when_no_target_is_declared() {
    let (rich, _) = two_databases();
    let dir = project("");
    let rich_fp = fingerprint(dir.path(), &rich.url);
    let mut cmd = strata(dir.path());
    cmd.arg("status");
    for (var, value) in rich.conninfo.libpq_env() {
        if var != "PGSSLMODE" {
            cmd.env(var, value);
        }
    }
    let out = ok(&mut cmd);
    assert_eq!(status_fingerprint(&out), rich_fp, "{}", out.stdout);
    assert!(
        out.stdout.contains(
            "database from:      the libpq environment (PGHOST, PGPORT, PGDATABASE, PGUSER"
        ),
        "{}",
        out.stdout
    );
    assert!(
        !dir.path().join(".strata").exists(),
        "the embedded cluster was started"
    );
}

/// Issue 15 item 9: a literal URL with a password and an unrelated error in the same table.
#[test]
fn a_config_error_never_prints_the_password() {
    let dir = project(
        "[targets.prod]\nurl = \"postgres://app:hunter2@db.example.com/app\"\nlock_timeout = \"soon\"\n\
         [shadow]\nurl = \"host=shadow password=swordfish\"\n",
    );
    for args in [&["config"][..], &["status", "--target", "prod"]] {
        let out = strata(dir.path()).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("lock_timeout"), "{text}");
        assert!(
            text.contains("postgres://app:***@db.example.com/app"),
            "{text}"
        );
        assert!(
            !text.contains("hunter2") && !text.contains("swordfish"),
            "{text}"
        );
    }
}

/// `strata config` output, saved as pipeline.toml, is the same manifest.
#[test]
fn strata_config_output_loads_back() {
    let dir = project(
        "default_target = \"prod\"\n[deploy]\ncommand = \"true\"\n\
         [targets.prod]\nurl = \"env:PROD_URL\"\nlock_timeout = \"2s\"\n\
         [plan]\nbackfill_batch = 50\n[shadow]\nurl = \"embedded\"\n",
    );
    let first = ok(strata(dir.path()).arg("config")).stdout;
    assert!(first.contains("backfill_batch = 50"), "{first}");
    std::fs::write(dir.path().join("pipeline.toml"), &first).unwrap();
    let second = ok(strata(dir.path()).arg("config")).stdout;
    assert_eq!(first, second);
    let json = ok(strata(dir.path()).args(["config", "--format", "json"])).stdout;
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["stages"][0]["name"], "expand");
    assert_eq!(value["targets"]["prod"]["lock_timeout"], "2000ms");
}
