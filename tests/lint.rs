//! `strata lint` through the command line, in a temporary project (no database needed).

use assert_cmd::Command;
use std::path::Path;

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn strata(project: &Path) -> Command {
    let mut cmd = Command::cargo_bin("strata").unwrap();
    cmd.arg("-C").arg(project).env_remove("DATABASE_URL");
    cmd
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn lint(project: &Path, args: &[&str]) -> Output {
    let out = strata(project).arg("lint").args(args).output().unwrap();
    Output {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

const INDEX: (&str, &str) = (
    "migrations/0001_add_index.sql",
    "-- speeds up lookups\nCREATE INDEX users_email ON users (email);\n",
);

#[test]
fn text_names_file_line_rule_and_exits_1_on_an_error() {
    let dir = project(&[INDEX]);
    let out = lint(dir.path(), &[]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(
            "migrations/0001_add_index.sql:2:1: error[require-concurrent-index-creation]: "
        ),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("  help: Use CREATE INDEX CONCURRENTLY"));
    assert!(out
        .stdout
        .ends_with("1 file checked: 1 error, 0 warnings\n"));
}

#[test]
fn json_is_versioned_and_complete() {
    let dir = project(&[INDEX]);
    let out = lint(dir.path(), &["--format", "json"]);
    assert_eq!(out.code, 1);
    let value: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(value["version"], 1);
    assert_eq!(value["files"], 1);
    assert_eq!(value["errors"], 1);
    let finding = &value["findings"][0];
    assert_eq!(finding["rule"], "require-concurrent-index-creation");
    assert_eq!(finding["level"], "error");
    assert_eq!(finding["file"], "migrations/0001_add_index.sql");
    assert_eq!(finding["line"], 2);
    assert_eq!(finding["column"], 1);
    assert!(finding["message"].as_str().unwrap().len() > 10);
    assert!(finding["help"].as_str().unwrap().contains("CONCURRENTLY"));
}

#[test]
fn github_prints_workflow_commands() {
    let dir = project(&[INDEX]);
    let out = lint(dir.path(), &["--format", "github"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.starts_with(
            "::error file=migrations/0001_add_index.sql,line=2,col=1,\
             title=require-concurrent-index-creation::"
        ),
        "{}",
        out.stdout
    );
    assert_eq!(out.stdout.lines().count(), 1);
    assert!(out.stderr.contains("1 error"));
}

#[test]
fn sarif_is_2_1_0_with_the_registry_as_rules() {
    let dir = project(&[INDEX]);
    let out = lint(dir.path(), &["--format", "sarif"]);
    assert_eq!(out.code, 1);
    let value: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(value["version"], "2.1.0");
    let runs = value["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let rules = runs[0]["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().any(|r| r["id"] == "require-primary-key"));
    let result = &runs[0]["results"][0];
    assert_eq!(result["ruleId"], "require-concurrent-index-creation");
    assert_eq!(result["level"], "error");
    let index = result["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[index]["id"], result["ruleId"]);
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "migrations/0001_add_index.sql"
    );
    assert_eq!(location["region"]["startLine"], 2);
}

#[test]
fn a_comment_suppresses_the_rule_for_the_next_statement_only() {
    let dir = project(&[(
        "migrations/0001_add_index.sql",
        "-- strata:ignore require-concurrent-index-creation\n\
         CREATE INDEX a ON t (a);\n\
         CREATE INDEX b ON t (b);\n\
         -- squawk-ignore require-concurrent-index-creation\n\
         CREATE INDEX c ON t (c);\n",
    )]);
    let out = lint(dir.path(), &["--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let lines: Vec<_> = value["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3]);
    assert_eq!(out.code, 1);
}

#[test]
fn warnings_alone_exit_0() {
    let dir = project(&[(
        "migrations/0001_add_note.sql",
        "ALTER TABLE t ADD COLUMN note varchar(100);\n",
    )]);
    let out = lint(dir.path(), &[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out.stdout.contains("warning[prefer-text-field]"));
    assert!(out.stdout.contains("0 errors, 1 warning"));
}

#[test]
fn configured_rules_and_levels_from_the_manifest() {
    let dir = project(&[
        (
            "pipeline.toml",
            "[lint]\nnaming = \"snake_case\"\nrequire_primary_key = true\n\
             require_fk_index = true\nbanned_types = [\"timestamp\", \"varchar(n)\"]\n\
             [lint.levels]\nrequire-fk-index = \"warning\"\nprefer-timestamptz = \"off\"\n",
        ),
        (
            "migrations/0001_tables.sql",
            "CREATE TABLE \"Events\" (at timestamp, owner_id bigint REFERENCES users);\n",
        ),
    ]);
    let out = lint(dir.path(), &["--format", "json"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let value: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let found: Vec<(String, String)> = value["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["level"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let has = |rule: &str, level: &str| found.contains(&(rule.to_string(), level.to_string()));
    assert!(has("naming-convention", "error"), "{found:?}");
    assert!(has("require-primary-key", "error"), "{found:?}");
    assert!(has("banned-type", "error"), "{found:?}");
    assert!(has("require-fk-index", "warning"), "{found:?}");
    assert!(
        !found.iter().any(|(rule, _)| rule == "prefer-timestamp-tz"),
        "{found:?}"
    );
}

#[test]
fn an_unknown_rule_in_the_manifest_is_a_config_error() {
    let dir = project(&[("pipeline.toml", "[lint.levels]\nno-such-rule = \"off\"\n")]);
    let out = lint(dir.path(), &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("unknown lint rule `no-such-rule`"),
        "{}",
        out.stderr
    );
}

#[test]
fn pending_sql_hazards_are_findings_and_files_can_be_named() {
    let dir = project(&[
        INDEX,
        (
            "pending.sql",
            "-- strata plan\n-- ==== stage contract (schema, phase contract)\n\n\
             -- hazards: destructive\nALTER TABLE users DROP COLUMN legacy;\n",
        ),
    ]);
    let out = lint(dir.path(), &["pending.sql", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(value["files"], 1);
    let findings = value["findings"].as_array().unwrap();
    assert!(findings
        .iter()
        .any(|f| f["rule"] == "plan-hazard" && f["level"] == "warning" && f["line"] == 5));
    // a planned drop in a schema stage is the plan's `destructive` hazard, not a squawk error
    assert!(!findings.iter().any(|f| f["rule"] == "ban-drop-column"));
    assert_eq!(out.code, 0);

    // with no FILES: every migration and pending.sql
    let all = lint(dir.path(), &["--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&all.stdout).unwrap();
    assert_eq!(value["files"], 2);
}

#[test]
fn a_clean_project_exits_0() {
    let dir = project(&[(
        "migrations/0001_backfill.sql",
        "UPDATE users SET full_name = first_name || ' ' || last_name WHERE full_name IS NULL;\n",
    )]);
    let out = lint(dir.path(), &[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out.stdout.contains("1 file checked: 0 errors, 0 warnings"));
}

#[test]
fn a_syntax_error_is_a_finding_and_a_missing_file_an_error() {
    let dir = project(&[("migrations/0001_bad.sql", "SELECT 1;\nSELEC 2;\n")]);
    let out = lint(dir.path(), &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout
            .contains("migrations/0001_bad.sql:2:1: error[syntax-error]"),
        "{}",
        out.stdout
    );
    let missing = lint(dir.path(), &["nope.sql"]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("nope.sql"));
}

#[test]
fn a_banned_type_that_is_not_a_type_is_a_config_error() {
    let dir = project(&[(
        "pipeline.toml",
        "[lint]\nbanned_types = [\"not a type at all\"]\n",
    )]);
    let out = lint(dir.path(), &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("`not a type at all` is not a type"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_resolved_manifest_shows_the_lint_section() {
    let dir = project(&[(
        "pipeline.toml",
        "[lint]\nrequire_primary_key = true\n[lint.levels]\nprefer-timestamptz = \"error\"\n",
    )]);
    let out = strata(dir.path())
        .args(["config", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["lint"]["require_primary_key"], true);
    assert_eq!(value["lint"]["levels"]["prefer-timestamp-tz"], "error");
    let text = strata(dir.path()).arg("config").output().unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("[lint"));
}

#[test]
fn a_directory_argument_means_its_sql_files() {
    let dir = project(&[
        INDEX,
        ("migrations/0002_ok.sql", "SELECT 1;\n"),
        ("migrations/notes.txt", "not sql"),
    ]);
    let out = lint(dir.path(), &["migrations", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(value["files"], 2);
}

/// Regression guard: suppression comments are read once per file, not once per finding.
#[test]
fn a_large_pending_sql_gives_every_finding() {
    let mut text = String::from("-- strata plan\n");
    for i in 0..3000 {
        text.push_str(&format!(
            "\n-- hazards: destructive\n-- strata:ignore ban-drop-column\nALTER TABLE t{i} DROP COLUMN c;\n"
        ));
    }
    let dir = project(&[("pending.sql", &text)]);
    let out = lint(dir.path(), &["--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(value["warnings"], 3000);
    assert_eq!(value["errors"], 0);
    assert_eq!(out.code, 0);
}

#[test]
fn foreign_keys_in_pending_sql_see_the_schemas_indexes() {
    let dir = project(&[
        ("pipeline.toml", "[lint]\nrequire_fk_index = true\n"),
        (
            "schema/app.sql",
            "CREATE TABLE users (id bigint PRIMARY KEY);\n\
             CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, shop_id bigint);\n\
             CREATE INDEX orders_user_id ON orders (user_id);\n",
        ),
        (
            "pending.sql",
            "-- hazards: none\n\
             ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users NOT VALID;\n\
             -- hazards: none\n\
             ALTER TABLE orders ADD CONSTRAINT orders_shop_fk FOREIGN KEY (shop_id) REFERENCES shops NOT VALID;\n",
        ),
    ]);
    let out = lint(dir.path(), &["--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(value["files"], 1, "{}", out.stdout);
    let found: Vec<_> = value["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "require-fk-index")
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(found, [("pending.sql".to_string(), 4)]);
}
