//! The composite GitHub Action (action.yml at the root) runs for real, as far as a runner can
//! be imitated: each step's `run:` script is extracted with a line-based reader (plain block
//! YAML, like ci/), its `${{ inputs.* }}` and `${{ github.action_path }}` filled in as GitHub
//! would, its `env:` and `working-directory:` applied, then run with bash in a temporary git
//! project, strata on PATH (so the install step finds it and installs nothing).

mod common;

use common::project::Project;
use std::collections::BTreeMap;
use std::path::Path;

const MANIFEST: &str = r#"
[shadow]
url = "env:STRATA_TEST_SHADOW_URL"

[targets.test]
url = "env:STRATA_TEST_TARGET_URL"
"#;

#[derive(Debug, Default)]
struct Step {
    name: String,
    env: Vec<(String, String)>,
    working_directory: Option<String>,
    run: String,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn unquote(value: &str) -> String {
    value.trim().trim_matches('"').to_string()
}

/// The inputs' defaults and the steps under `runs:`.
fn parse(yaml: &str) -> (BTreeMap<String, String>, Vec<Step>) {
    let lines: Vec<&str> = yaml.lines().collect();
    let (mut inputs, mut steps) = (BTreeMap::new(), Vec::<Step>::new());
    let (mut section, mut input, mut in_env) = ("", String::new(), false);
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let key = line.trim_start().trim_start_matches("- ");
        match indent(line) {
            0 => section = line.trim_end().trim_end_matches(':'),
            2 if section == "inputs" => input = key.trim_end_matches(':').to_string(),
            4 if section == "inputs" => {
                if let Some(v) = key.strip_prefix("default:") {
                    inputs.insert(input.clone(), unquote(v));
                }
            }
            4 if section == "runs" && line.trim_start().starts_with("- ") => {
                steps.push(Step::default());
                in_env = false;
                if let Some(v) = key.strip_prefix("name:") {
                    steps.last_mut().unwrap().name = v.trim().to_string();
                }
            }
            6 if section == "runs" => {
                let step = steps.last_mut().expect("a key inside a step");
                in_env = key == "env:";
                if let Some(v) = key.strip_prefix("name:") {
                    step.name = v.trim().to_string();
                } else if let Some(v) = key.strip_prefix("working-directory:") {
                    step.working_directory = Some(v.trim().to_string());
                } else if key.trim_end() == "run: |" {
                    let mut block = Vec::new();
                    while i < lines.len() && (lines[i].trim().is_empty() || indent(lines[i]) > 6) {
                        block.push(lines[i].get(8..).unwrap_or(""));
                        i += 1;
                    }
                    step.run = block.join("\n");
                }
            }
            8 if in_env => {
                let (k, v) = key.split_once(':').expect("KEY: value");
                let step = steps.last_mut().unwrap();
                step.env.push((k.trim().to_string(), v.trim().to_string()));
            }
            _ => {}
        }
    }
    (inputs, steps)
}

/// `${{ inputs.x }}` and `${{ github.action_path }}`, as GitHub fills them in.
fn expand(text: &str, inputs: &BTreeMap<String, String>) -> String {
    let mut out = text.replace("${{ github.action_path }}", env!("CARGO_MANIFEST_DIR"));
    for (k, v) in inputs {
        out = out.replace(&format!("${{{{ inputs.{k} }}}}"), v);
    }
    assert!(
        !out.contains("${{"),
        "an expression the test does not fill in: {out}"
    );
    out
}

/// Runs every step of the action with `with` over the defaults; the output, and whether all
/// steps succeeded.
fn run_action(p: &Project, with: &[(&str, &str)]) -> (String, bool) {
    let yaml = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml"))
        .expect("action.yml");
    let (mut inputs, steps) = parse(&yaml);
    for (k, v) in with {
        assert!(inputs.contains_key(*k), "no input {k}");
        inputs.insert(k.to_string(), v.to_string());
    }
    let strata = assert_cmd::cargo::cargo_bin("strata");
    let path = format!(
        "{}:{}",
        strata.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let summary = p.root.join("summary.out");
    let mut log = String::new();
    for step in &steps {
        let dir = p.root.join(expand(
            step.working_directory.as_deref().unwrap_or("."),
            &inputs,
        ));
        let mut cmd = std::process::Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &step.run])
            .current_dir(dir)
            .env("PATH", &path)
            .env("CI", "true")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env_remove("DATABASE_URL")
            .env("STRATA_TEST_SHADOW_URL", common::admin_url())
            .env("STRATA_TEST_TARGET_URL", &p.db.url)
            .env(common::IDLE_STOP.0, common::IDLE_STOP.1);
        for (k, v) in &step.env {
            cmd.env(k, expand(v, &inputs));
        }
        let out = cmd.output().expect("bash");
        log += &format!(
            "[{}]\n{}{}",
            step.name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if !out.status.success() {
            return (log, false);
        }
    }
    (log, true)
}

#[test]
fn the_reader_finds_the_inputs_and_steps() {
    let yaml =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap();
    let (inputs, steps) = parse(&yaml);
    assert_eq!(
        inputs.keys().collect::<Vec<_>>(),
        ["args", "command", "target", "working-directory"]
    );
    assert_eq!(inputs["command"], "check");
    let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Install strata", "strata"]);
    assert!(steps[0].run.contains("cargo install --locked --path"));
    assert!(steps[1].run.contains("strata check"));
    // Inputs reach the shell through env only: no expression inside a script.
    assert!(steps.iter().all(|s| !s.run.contains("${{")));
}

#[test]
fn the_action_checks_lints_and_runs() {
    let p = Project::create(
        "strata-action-",
        MANIFEST,
        "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n",
    );
    let (log, ok) = run_action(&p, &[("command", "bogus")]);
    assert!(!ok, "an unknown command must fail:\n{log}");
    assert!(
        log.contains("::error::strata action: command must be check, lint or run"),
        "{log}"
    );
    assert!(log.contains("strata already installed"), "{log}");

    // Nothing planned yet: check fails (pending.sql missing), as it should.
    let (log, ok) = run_action(&p, &[("target", "test")]);
    assert!(!ok, "check without a plan must fail:\n{log}");

    p.plan_and_merge();
    let (log, ok) = run_action(&p, &[("command", "check"), ("target", "test")]);
    assert!(ok, "{log}");
    let (log, ok) = run_action(&p, &[("command", "lint"), ("args", "migrations")]);
    assert!(ok, "{log}");
    assert_eq!(
        p.db.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'users'"),
        "0"
    );
    let (log, ok) = run_action(
        &p,
        &[
            ("command", "run"),
            ("target", "test"),
            ("args", "--git-commit"),
        ],
    );
    assert!(ok, "{log}");
    assert_eq!(
        p.db.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'users'"),
        "1"
    );
    assert!(
        !p.root.join("pending.sql").exists(),
        "--git-commit removed it:\n{log}"
    );
}
