//! The machine-output contract (docs/output.md): under `--format json` every command prints one
//! versioned object on stdout, errors included; formats a command does not print are refused
//! with exit 2; usage and bad input exit 1, database and environment failures 2.

mod common;

use common::project::{git, Project};

const MANIFEST: &str = r#"
[shadow]
url = "env:STRATA_TEST_SHADOW_URL"

[targets.test]
url = "env:STRATA_TEST_TARGET_URL"
"#;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn json_run(p: &Project, args: &[&str]) -> Out {
    let out = p
        .strata()
        .arg("--format")
        .arg("json")
        .args(args)
        .output()
        .unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
    }
}

/// stdout holds exactly one JSON object, of output version 1, naming `command`.
fn one_object(out: &Out, command: &str) -> serde_json::Value {
    let docs: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&out.stdout)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{command}: not JSON ({e}): {}\n{}", out.stdout, out.stderr));
    assert_eq!(docs.len(), 1, "{command}: {}", out.stdout);
    let value = docs.into_iter().next().unwrap();
    assert_eq!(value["strata_output"], 1, "{command}: {value}");
    assert_eq!(value["command"], command, "{value}");
    value
}

fn ok(p: &Project, args: &[&str]) -> serde_json::Value {
    let out = json_run(p, args);
    assert_eq!(out.code, 0, "{args:?}: {}{}", out.stdout, out.stderr);
    one_object(&out, &args[0..command_words(args)].join(" "))
}

fn command_words(args: &[&str]) -> usize {
    match args[0] {
        "migrate" | "db" => 2,
        _ => 1,
    }
}

#[test]
fn every_command_prints_one_versioned_object() {
    let p = Project::create(
        "strata-output-",
        MANIFEST,
        "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n",
    );
    let config = ok(&p, &["config"]);
    assert_eq!(
        config["targets"]["test"]["url"],
        "env:STRATA_TEST_TARGET_URL"
    );
    let new = ok(&p, &["migrate", "new", "seed"]);
    assert!(
        new["file"].as_str().unwrap().ends_with("0001_seed.sql"),
        "{new}"
    );
    p.write(
        "migrations/0001_seed.sql",
        "INSERT INTO users VALUES (1, 'a@example.com');\n",
    );
    p.commit_all("seed");
    let lint = ok(&p, &["lint"]);
    assert_eq!(lint["files"], 1, "{lint}");
    let status = ok(&p, &["migrate", "status"]);
    assert_eq!(status["migrations"][0]["state"], "pending", "{status}");
    let diff = ok(&p, &["diff"]);
    assert_eq!(diff["changes"][0]["kind"], "create", "{diff}");
    assert_eq!(diff["changes"][0]["object"]["kind"], "table", "{diff}");

    // plan, then run what was merged: run says what it did.
    let plan = ok(&p, &["plan"]);
    assert_eq!(plan["changes"], true, "{plan}");
    let branch = plan["branch"].as_str().unwrap();
    git(&p.root, &["merge", "-q", "--ff-only", branch]);
    let check = ok(&p, &["check"]);
    assert!(
        check.get("stale").is_some() || check.get("plan").is_some(),
        "{check}"
    );
    let run = ok(&p, &["run"]);
    assert_eq!(run["pending_sql"], true, "{run}");
    assert_eq!(run["run"]["already_ran"], false, "{run}");
    assert_eq!(run["run"]["migrations_applied"], 1, "{run}");
    let statements = run["run"]["statements"].as_array().unwrap();
    assert!(!statements.is_empty(), "{run}");
    assert!(
        statements.iter().all(|s| s["duration_ms"].is_u64()),
        "{run}"
    );
    let fingerprint = ok(&p, &["fingerprint"]);
    assert_eq!(run["run"]["fingerprint"], fingerprint["fingerprint"]);
    // Again: pending.sql is still there (not removed in a commit); the plan already ran.
    let again = ok(&p, &["run"]);
    assert_eq!(again["run"]["already_ran"], true, "{again}");

    let status = ok(&p, &["status"]);
    assert_eq!(
        status["fingerprint"], fingerprint["fingerprint"],
        "{status}"
    );
    let drift = ok(&p, &["drift"]);
    assert_eq!(drift["drift"], serde_json::json!([]), "{drift}");
    let dump = ok(&p, &["dump"]);
    assert_eq!(dump["schema"]["tables"][0][0]["name"], "users", "{dump}");
    let out = p.root.join("dumped");
    let written = ok(&p, &["dump", "--out", out.to_str().unwrap()]);
    assert!(
        !written["files"].as_array().unwrap().is_empty(),
        "{written}"
    );
    let migrations = ok(&p, &["migrate", "up"]);
    assert_eq!(migrations["applied"], serde_json::json!([]), "{migrations}");

    // apply: the plan and what ran, in one object.
    p.write(
        "schema/app.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text, name text);\n",
    );
    std::fs::remove_file(p.root.join("pending.sql")).unwrap();
    let apply = ok(&p, &["apply"]);
    assert_eq!(apply["changes"], true, "{apply}");
    assert!(
        apply["run"]["statements_run"].as_u64().unwrap() >= 1,
        "{apply}"
    );
    let nothing = ok(&p, &["apply"]);
    assert_eq!(nothing["changes"], false, "{nothing}");

    // The embedded cluster's commands, on a project that has none.
    let db = ok(&p, &["db", "status"]);
    assert_eq!(db["state"], "not_initialised", "{db}");
    let stop = ok(&p, &["db", "stop"]);
    assert_eq!(stop["stopped"], false, "{stop}");
}

#[test]
fn init_prints_what_it_created() {
    let dir = common::reachable_tempdir("strata-output-init-");
    let out = assert_cmd::Command::cargo_bin("strata")
        .unwrap()
        .args(["--format", "json", "init"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["command"], "init");
    assert_eq!(value["schema_files"][0], "schema/schema.sql");
}

#[test]
fn formats_a_command_does_not_print_are_refused_with_2_before_any_work() {
    let p = Project::create("strata-output-", MANIFEST, "CREATE TABLE t (id int);\n");
    for (args, format) in [
        (&["status"][..], "sarif"),
        (&["plan"][..], "github"),
        (&["completions", "bash"][..], "json"),
        (&["man"][..], "json"),
    ] {
        let out = p
            .strata()
            .args(["--format", format])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?} {format}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("strata::format_refused"), "{stderr}");
        // Under --format json the refusal is the JSON error; under the others, nothing.
        if format == "json" {
            let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(value["error"]["code"], "strata::format_refused");
        } else {
            assert!(out.stdout.is_empty(), "{args:?}");
        }
    }
    assert!(!p.root.join("pending.sql").exists());
    // lint prints all four.
    for format in ["text", "json", "github", "sarif"] {
        let out = p
            .strata()
            .args(["--format", format, "lint"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "lint --format {format}");
    }
}

#[test]
fn errors_under_json_are_one_object_with_code_help_and_location() {
    let p = Project::create("strata-output-", MANIFEST, "CREATE TABLE t (id int);\n");
    // Bad input: the manifest, with the place.
    p.write("pipeline.toml", &format!("{MANIFEST}\n[targets.test.x]\n"));
    let out = json_run(&p, &["status"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let value = one_object(&out, "status");
    let error = &value["error"];
    assert_eq!(error["code"], "strata::config::invalid", "{value}");
    assert_eq!(error["exit_code"], 1);
    assert!(
        error["help"].as_str().is_some_and(|h| !h.is_empty()),
        "{value}"
    );
    assert_eq!(error["location"]["file"], "pipeline.toml", "{value}");
    assert_eq!(error["location"]["line"], 8, "{value}");
    // The person still reads it on stderr.
    assert!(
        out.stderr.contains("strata::config::invalid"),
        "{}",
        out.stderr
    );

    // Bad SQL: the file and line.
    p.write("pipeline.toml", MANIFEST);
    p.write(
        "schema/app.sql",
        "CREATE TABLE t (id int);\nCREATE TABLE u (id nosuchtype;\n",
    );
    let out = json_run(&p, &["diff"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let value = one_object(&out, "diff");
    assert_eq!(
        value["error"]["location"]["file"], "schema/app.sql",
        "{value}"
    );
    assert_eq!(value["error"]["location"]["line"], 2, "{value}");

    // The database cannot be reached: an environment failure, 2.
    p.write("schema/app.sql", "CREATE TABLE t (id int);\n");
    let out = p
        .strata()
        .args(["--format", "json", "fingerprint"])
        .env(
            "STRATA_TEST_TARGET_URL",
            "postgres://nobody@127.0.0.1:1/none",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["error"]["exit_code"], 2, "{value}");
    assert!(
        value["error"]["code"]
            .as_str()
            .unwrap()
            .starts_with("strata::"),
        "{value}"
    );
    assert!(!value["error"]["message"].as_str().unwrap().is_empty());
}

#[test]
fn usage_errors_exit_1_and_help_exits_0() {
    let strata = || assert_cmd::Command::cargo_bin("strata").unwrap();
    strata().arg("--no-such-flag").assert().code(1);
    strata()
        .args(["plan", "--no-git", "--push"])
        .assert()
        .code(1);
    strata().arg("--help").assert().code(0);
    strata().arg("--version").assert().code(0);
}

/// A command line clap refuses, under `--format json`: the error object on stdout (code
/// `strata::usage`, exit 1), clap's text on stderr; the format may come before or after the
/// subcommand, as one word or two.
#[test]
fn usage_errors_under_json_are_the_error_object() {
    let strata = |args: &[&str]| {
        let out = assert_cmd::Command::cargo_bin("strata")
            .unwrap()
            .args(args)
            .output()
            .unwrap();
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).to_string(),
        }
    };
    let cases: [(&[&str], &str, &str); 4] = [
        (
            &["--format", "json", "--no-such-flag"],
            "",
            "--no-such-flag",
        ),
        (
            &["migrate", "up", "--format=json", "--bogus"],
            "migrate up",
            "--bogus",
        ),
        (
            &["--format", "json", "plan", "--no-git", "--push"],
            "plan",
            "--push",
        ),
        (
            &["--format", "json", "no-such-command"],
            "",
            "no-such-command",
        ),
    ];
    for (args, command, named) in cases {
        let out = strata(args);
        assert_eq!(out.code, 1, "{args:?}: {}", out.stderr);
        let value = one_object(&out, command);
        let error = &value["error"];
        assert_eq!(error["code"], "strata::usage", "{value}");
        assert_eq!(error["exit_code"], 1, "{value}");
        assert!(error["location"].is_null(), "{value}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(named), "{args:?}: {value}");
        assert!(!message.starts_with("error:"), "{value}");
        assert!(
            error["help"].as_str().is_some_and(|h| h.contains("Usage:")),
            "{value}"
        );
        assert!(out.stderr.contains(named), "{}", out.stderr);
    }
    // Without --format json a usage error prints no object (stdout stays empty).
    let out = strata(&["--no-such-flag"]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    // --help under --format json is still help (text, exit 0), not an error.
    let out = strata(&["--format", "json", "--help"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("Usage:"), "{}", out.stdout);
}

#[test]
fn plan_outside_git_is_refused_before_the_simulation() {
    let dir = common::reachable_tempdir("strata-output-nogit-");
    std::fs::write(dir.path().join("pipeline.toml"), MANIFEST).unwrap();
    std::fs::create_dir(dir.path().join("schema")).unwrap();
    std::fs::write(
        dir.path().join("schema/app.sql"),
        "CREATE TABLE t (id int);\n",
    )
    .unwrap();
    // No database answers here: had strata simulated first, this would fail with 2.
    let out = assert_cmd::Command::cargo_bin("strata")
        .unwrap()
        .args(["-C", dir.path().to_str().unwrap(), "plan"])
        .env(
            "STRATA_TEST_TARGET_URL",
            "postgres://nobody@127.0.0.1:1/none",
        )
        .env(
            "STRATA_TEST_SHADOW_URL",
            "postgres://nobody@127.0.0.1:1/none",
        )
        .env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("strata::git"));
    assert!(!dir.path().join("pending.sql").exists());
}
