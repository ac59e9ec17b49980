//! The CI templates in ci/ run for real, as far as a runner can be imitated: the shell of each
//! job (GitHub `run:` steps, GitLab `script:` lines) is extracted with a small line-based reader
//! (the templates are plain block YAML; no YAML crate needed for that), then executed in a
//! temporary git project with a bare `origin`, strata on PATH, the runner's variables imitated
//! (CI=true, GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, CI_COMMIT_BRANCH, ...) and DATABASE_URL at
//! throwaway databases of the test cluster. Every shell step runs: the install steps find
//! strata and a new enough pg_dump on PATH, and `gh` is a stand-in that records its arguments
//! and the pull request's body. What cannot be imitated (actions, services, environment
//! approvals) is not shell and not run.

mod common;

use common::project::{git, init_repo, record_push_options};
use common::{reachable_tempdir, TestDb};
use std::path::{Path, PathBuf};

/// Marks a step or line of a template that needs the real CI service.
const NOT_RUN: &str = "# not run by tests/ci_templates.rs";

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// GitHub Actions: for each job under `jobs:`, the scripts of its `run:` steps, in order.
fn github_jobs(yaml: &str) -> Vec<(String, Vec<String>)> {
    let lines: Vec<&str> = yaml.lines().collect();
    let mut jobs: Vec<(String, Vec<String>)> = Vec::new();
    let mut in_jobs = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if indent(line) == 0 {
            in_jobs = line.trim_end() == "jobs:";
            continue;
        }
        if !in_jobs {
            continue;
        }
        if indent(line) == 2 && line.trim_end().ends_with(':') {
            jobs.push((line.trim().trim_end_matches(':').to_string(), Vec::new()));
            continue;
        }
        let key = line.trim_start().trim_start_matches("- ");
        let Some(rest) = key.strip_prefix("run:") else {
            continue;
        };
        let script = if rest.trim() == "|" {
            let base = indent(line);
            let mut block = Vec::new();
            while i < lines.len() && (lines[i].trim().is_empty() || indent(lines[i]) > base) {
                block.push(lines[i]);
                i += 1;
            }
            let cut = block
                .iter()
                .filter(|l| !l.trim().is_empty())
                .map(|l| indent(l))
                .min()
                .unwrap_or(0);
            block
                .iter()
                .map(|l| l.get(cut..).unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            rest.trim().to_string()
        };
        let job = jobs.last_mut().expect("a run step inside a job");
        if !script.contains(NOT_RUN) {
            job.1.push(script);
        }
    }
    jobs
}

/// GitLab CI: for each top-level job, its `before_script:` (own or from `extends:`) and
/// `script:` lines, one shell script per job; lines marked NOT_RUN are left out.
fn gitlab_jobs(yaml: &str) -> Vec<(String, String)> {
    #[derive(Default)]
    struct Job {
        name: String,
        extends: Option<String>,
        before: Vec<String>,
        script: Vec<String>,
    }
    let mut jobs: Vec<Job> = Vec::new();
    let mut list: Option<&str> = None;
    for line in yaml.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if indent(line) == 0 {
            list = None;
            let name = line.trim_end().trim_end_matches(':');
            if line.trim_end().ends_with(':') && !name.contains(' ') {
                jobs.push(Job {
                    name: name.to_string(),
                    ..Job::default()
                });
            }
            continue;
        }
        let Some(job) = jobs.last_mut() else { continue };
        if indent(line) == 2 {
            let key = line.trim();
            list = match key {
                "script:" => Some("script"),
                "before_script:" => Some("before"),
                _ => None,
            };
            if let Some(parent) = key.strip_prefix("extends:") {
                job.extends = Some(parent.trim().to_string());
            }
            continue;
        }
        if let (Some(which), Some(item)) = (list, line.trim().strip_prefix("- ")) {
            if item.contains(NOT_RUN) {
                continue;
            }
            match which {
                "script" => job.script.push(item.to_string()),
                _ => job.before.push(item.to_string()),
            }
        }
    }
    let before_of = |name: &str| -> Vec<String> {
        jobs.iter()
            .find(|j| j.name == name)
            .map(|j| j.before.clone())
            .unwrap_or_default()
    };
    jobs.iter()
        .filter(|j| !j.script.is_empty())
        .map(|j| {
            let mut lines = j.extends.as_deref().map(before_of).unwrap_or_default();
            lines.extend(j.before.iter().cloned());
            lines.extend(j.script.iter().cloned());
            (j.name.clone(), lines.join("\n"))
        })
        .collect()
}

const V1: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n";
/// Also a new table with a primary key and a foreign key: its constraints in pending.sql must
/// not fail `strata lint` (they did once; the GitHub template carried a "known limitation").
const V2: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n\
CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
user_id bigint NOT NULL REFERENCES users (id), total numeric(10,2) NOT NULL);\n\
CREATE INDEX orders_user_id ON orders (user_id);\n";
const BACKFILL: &str = "-- strata:batch\n\
UPDATE users SET email = id || '@example.invalid'\n\
WHERE id IN (SELECT id FROM users WHERE email IS NULL LIMIT 100);\n";

/// A project as a user's CI would check it out: a git repository with a bare `origin`, the
/// schema (V1) already live in the given databases (created with psql, as an adopted database
/// is), then a change committed on main (V2 and a backfill migration).
struct Project {
    _dir: tempfile::TempDir,
    root: PathBuf,
    remote: PathBuf,
    files: PathBuf,
}

impl Project {
    fn new(manifest: &str, dbs: &[&TestDb]) -> Project {
        let dir = reachable_tempdir("strata-ci-");
        let root = dir.path().join("app");
        let remote = dir.path().join("origin.git");
        let files = dir.path().join("runner");
        std::fs::create_dir_all(root.join("schema")).unwrap();
        std::fs::create_dir_all(root.join("migrations")).unwrap();
        std::fs::create_dir_all(files.join("bin")).unwrap();
        write_gh_stand_in(&files);
        std::fs::write(root.join("pipeline.toml"), manifest).unwrap();
        std::fs::write(root.join("schema/app.sql"), V1).unwrap();
        std::fs::write(root.join("migrations/.gitkeep"), "").unwrap();
        std::fs::write(root.join(".gitignore"), "/.strata\ndeploy.log\n").unwrap();
        for db in dbs {
            db.psql(V1);
            db.psql("INSERT INTO users VALUES (1, 'a@example.com'), (2, NULL), (3, NULL)");
        }
        init_repo(&root, &remote);
        git(&root, &["push", "-q", "origin", "main"]);
        std::fs::write(root.join("schema/app.sql"), V2).unwrap();
        std::fs::write(root.join("migrations/0001_fill_emails.sql"), BACKFILL).unwrap();
        git(&root, &["add", "."]);
        git(&root, &["commit", "-qm", "users.email NOT NULL"]);
        Project {
            _dir: dir,
            root,
            remote,
            files,
        }
    }

    /// Runs one script as a runner would: bash with -eo pipefail in the checkout, strata on
    /// PATH, the given variables; returns stdout and stderr. Panics when it fails.
    fn sh(&self, what: &str, script: &str, vars: &[(&str, String)]) -> String {
        let strata = assert_cmd::cargo::cargo_bin("strata");
        let path = format!(
            "{}:{}:{}",
            self.files.join("bin").display(),
            strata.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = std::process::Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
            .current_dir(&self.root)
            .env("PATH", path)
            .env("CI", "true")
            .env_remove("DATABASE_URL")
            .env_remove("STRATA_SHADOW_URL")
            .env("STRATA_SHADOW_URL", common::admin_url())
            .env("GIT_AUTHOR_NAME", "runner")
            .env("GIT_AUTHOR_EMAIL", "runner@example.com")
            .env("GIT_COMMITTER_NAME", "runner")
            .env("GIT_COMMITTER_EMAIL", "runner@example.com")
            .env("PG_MAJOR", pg_dump_major())
            .env("GH_RECORD", &self.files);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("bash");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success(),
            "{what} failed ({}):\n--- script\n{script}\n--- output\n{text}",
            out.status
        );
        text
    }

    fn file(&self, name: &str) -> PathBuf {
        self.files.join(name)
    }
}

/// `gh` for the plan job: records its arguments (one per line) in `gh-args` and the file
/// given with `--body-file` in `gh-body.md`, next to the runner's other files.
fn write_gh_stand_in(files: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let gh = files.join("bin/gh");
    std::fs::write(
        &gh,
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$GH_RECORD/gh-args\"\n\
         while [ $# -gt 0 ]; do\n\
           if [ \"$1\" = --body-file ]; then cp \"$2\" \"$GH_RECORD/gh-body.md\"; fi\n\
           shift\n\
         done\n",
    )
    .unwrap();
    std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The major version of the pg_dump on PATH, as the templates' PG_MAJOR: their install step
/// then finds it new enough and installs nothing.
fn pg_dump_major() -> String {
    let out = std::process::Command::new("pg_dump")
        .arg("--version")
        .output()
        .expect("pg_dump");
    let text = String::from_utf8_lossy(&out.stdout);
    let digits: String = text
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit())
        .collect();
    assert!(!digits.is_empty(), "pg_dump --version: {text}");
    digits
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn template(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("ci").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What a line-based reader can check of YAML's shape: no tabs, and no indented line before
/// the first top-level key (a comment block that lost its `#`).
fn assert_plain_block_yaml(name: &str, yaml: &str) {
    assert!(!yaml.contains('\t'), "{name}: tabs");
    let first = yaml
        .lines()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .unwrap_or_default();
    assert_eq!(
        indent(first),
        0,
        "{name}: indented line before any key: {first}"
    );
}

#[test]
fn the_extractors_find_every_job() {
    assert_plain_block_yaml("github-actions.yml", &template("github-actions.yml"));
    assert_plain_block_yaml("gitlab-ci.yml", &template("gitlab-ci.yml"));
    let gh = github_jobs(&template("github-actions.yml"));
    let names: Vec<&str> = gh.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["check", "run-test", "run-prod", "plan"]);
    // Every job starts by installing what strata needs: a new enough pg_dump, and libclang
    // to build strata; every step is run by the tests.
    for (name, steps) in &gh {
        assert!(
            steps[0].contains("postgresql-client-$PG_MAJOR") && steps[0].contains("libclang-dev"),
            "{name}: {}",
            steps[0]
        );
        assert!(steps.iter().all(|s| !s.contains(NOT_RUN)));
    }
    assert!(gh[0].1.iter().any(|s| s.contains("strata check")));
    assert!(gh[0]
        .1
        .iter()
        .any(|s| s.contains("strata lint --format github")));
    assert!(gh[2].1[1].contains("strata run --target prod --git-commit --push"));
    assert!(gh[3].1[1].contains("gh pr create"));

    let gl = gitlab_jobs(&template("gitlab-ci.yml"));
    let names: Vec<&str> = gl.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["plan", "check", "run"]);
    for (_, script) in &gl {
        assert!(script.contains("postgresql-client-$PG_MAJOR"), "{script}");
        assert!(script.contains("libclang-dev"), "{script}");
        assert!(script.contains("git config user.name"), "{script}");
    }
    assert!(gl[0].1.contains("strata plan --push --merge-request"));
    assert!(gl[2].1.contains("strata run --git-commit --push"));
}

const GITHUB_MANIFEST: &str = r#"
[deploy]
command = "echo deployed-$STRATA_TARGET >> deploy.log"

[targets.test]
url = "env:DATABASE_URL"

[targets.prod]
url = "env:DATABASE_URL"
lock_timeout = "1s"

[rollout]
targets = ["test", "prod"]
"#;

#[test]
fn github_actions_template_runs() {
    let jobs = github_jobs(&template("github-actions.yml"));
    let job = |name: &str| -> Vec<String> {
        jobs.iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("job {name}"))
            .1
            .clone()
    };
    let test_db = TestDb::new();
    let prod_db = TestDb::new();
    let p = Project::new(GITHUB_MANIFEST, &[&test_db, &prod_db]);
    let runner = |job_name: &str, db: &TestDb| -> (String, String) {
        let summary = p.file(&format!("{job_name}-summary.md"));
        let output = p.file(&format!("{job_name}-output"));
        let vars = [
            ("DATABASE_URL", db.url.clone()),
            ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
            ("GITHUB_OUTPUT", output.display().to_string()),
            ("GITHUB_ACTIONS", "true".to_string()),
            ("GITHUB_REF_NAME", "main".to_string()),
        ];
        let mut log = String::new();
        for (i, step) in job(job_name).iter().enumerate() {
            log += &p.sh(&format!("{job_name} step {i}"), step, &vars);
        }
        (log, read(&summary))
    };

    // workflow_dispatch: plan against test, push the branch, open the pull request.
    let (log, _) = runner("plan", &test_db);
    assert!(log.contains("Schema change:"), "{log}");
    let args = read(&p.file("gh-args"));
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(args[..3], ["pr", "create", "--head"], "{args:?}");
    let branch = args[3].to_string();
    assert!(branch.starts_with("change-schema-"), "{branch}");
    assert!(!git(&p.remote, &["branch", "--list", &branch]).is_empty());
    let pending = std::process::Command::new("git")
        .args(["show", &format!("origin/{branch}:pending.sql")])
        .current_dir(&p.root)
        .output()
        .unwrap();
    let pending = String::from_utf8(pending.stdout).unwrap();
    assert!(pending.contains("CREATE TABLE public.orders"), "{pending}");
    let summary = pending
        .lines()
        .find_map(|l| l.strip_prefix("-- summary: "))
        .expect("a summary line");
    assert_eq!(args[4..], ["--title", summary, "--body-file", "body.md"]);
    let body = read(&p.file("gh-body.md"));
    assert_eq!(
        body,
        format!(
            "Planned by strata against `test` from `main`. Review pending.sql;\n\
             after the merge, `strata run` executes it as written.\n\n```sql\n{pending}```\n"
        )
    );

    // pull_request: the PR's head checked out; check and lint.
    git(&p.root, &["checkout", "-q", &branch]);
    let (log, summary) = runner("check", &test_db);
    assert!(summary.contains("## strata plan for `test`"), "{summary}");
    assert!(summary.contains("pending.sql is current"), "{summary}");
    assert!(summary.contains("## strata lint"), "{summary}");
    assert!(
        log.contains("::warning file=pending.sql"),
        "annotations expected:\n{log}"
    );

    // Merge, push to main: run on test, then prod (approval imitated by just going on).
    git(&p.root, &["checkout", "-q", "main"]);
    git(&p.root, &["merge", "-q", "--ff-only", &branch]);
    git(&p.root, &["push", "-q", "origin", "main"]);
    let (log, _) = runner("run-test", &test_db);
    assert!(log.contains("applied 0001_fill_emails.sql"), "{log}");
    assert!(
        p.root.join("pending.sql").exists(),
        "test keeps pending.sql"
    );
    let (log, _) = runner("run-prod", &prod_db);
    assert!(log.contains("removed pending.sql in a commit"), "{log}");
    for db in [&test_db, &prod_db] {
        assert_eq!(
            db.psql("SELECT is_nullable FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'email'"),
            "NO"
        );
        assert_eq!(
            db.psql("SELECT count(*) FROM users WHERE email IS NULL"),
            "0"
        );
    }
    let pushed = git(&p.remote, &["log", "--format=%s", "main"]);
    assert!(pushed.starts_with("strata: ran pending.sql"), "{pushed}");
    assert!(git(&p.remote, &["ls-tree", "main", "pending.sql"]).is_empty());
    let deployed = read(&p.root.join("deploy.log"));
    assert_eq!(deployed, "deployed-test\ndeployed-prod\n");
}

const GITLAB_MANIFEST: &str = r#"
[targets.production]
url = "env:DATABASE_URL"
"#;

#[test]
fn gitlab_ci_template_runs() {
    let jobs = gitlab_jobs(&template("gitlab-ci.yml"));
    let job = |name: &str| -> String {
        jobs.iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("job {name}"))
            .1
            .clone()
    };
    let db = TestDb::new();
    let p = Project::new(GITLAB_MANIFEST, &[&db]);
    record_push_options(&p.remote);
    git(&p.root, &["push", "-q", "origin", "main"]);
    let gitlab = |source: &str, branch: &str| -> Vec<(&'static str, String)> {
        vec![
            ("DATABASE_URL", db.url.clone()),
            ("GITLAB_CI", "true".to_string()),
            ("CI_PIPELINE_SOURCE", source.to_string()),
            ("CI_COMMIT_BRANCH", branch.to_string()),
            ("CI_DEFAULT_BRANCH", "main".to_string()),
            ("CI_COMMIT_SHA", git(&p.root, &["rev-parse", "HEAD"])),
            ("CI_SERVER_HOST", "gitlab.example.com".to_string()),
            ("CI_PROJECT_PATH", "group/app".to_string()),
        ]
    };

    // A scheduled pipeline on main (detached, as runners check out): plan, push, MR options.
    let head = git(&p.root, &["rev-parse", "HEAD"]);
    git(&p.root, &["checkout", "-q", "--detach", &head]);
    let log = p.sh("plan", &job("plan"), &gitlab("schedule", "main"));
    assert!(log.contains("committed pending.sql on branch"), "{log}");
    let options = read(&p.remote.join("push-options"));
    assert!(options.contains("merge_request.create\n"), "{options}");
    assert!(options.contains("merge_request.target=main\n"), "{options}");
    let branch = git(
        &p.remote,
        &[
            "branch",
            "--list",
            "change-schema-*",
            "--format=%(refname:short)",
        ],
    );
    assert_eq!(branch.lines().count(), 1, "{branch}");

    // The merge-request pipeline: the branch checked out; check and lint.
    git(&p.root, &["fetch", "-q", "origin"]);
    git(
        &p.root,
        &["checkout", "-q", "--detach", &format!("origin/{branch}")],
    );
    p.sh(
        "check",
        &job("check"),
        &gitlab("merge_request_event", &branch),
    );
    let summary = read(&p.root.join("strata-check.md"));
    assert!(summary.contains("pending.sql is current"), "{summary}");
    std::fs::remove_file(p.root.join("strata-check.md")).unwrap();

    // After merge: the push pipeline on main. plan stands aside while pending.sql waits; run.
    git(&p.root, &["checkout", "-q", "main"]);
    git(
        &p.root,
        &["merge", "-q", "--ff-only", &format!("origin/{branch}")],
    );
    git(&p.root, &["push", "-q", "origin", "main"]);
    let head = git(&p.root, &["rev-parse", "HEAD"]);
    git(&p.root, &["checkout", "-q", "--detach", &head]);
    let log = p.sh("plan after merge", &job("plan"), &gitlab("push", "main"));
    assert!(log.contains("pending.sql awaits strata run"), "{log}");
    let log = p.sh("run", &job("run"), &gitlab("push", "main"));
    assert!(log.contains("removed pending.sql in a commit"), "{log}");
    assert_eq!(
        db.psql("SELECT count(*) FROM users WHERE email IS NULL"),
        "0"
    );
    let pushed = git(&p.remote, &["log", "--format=%s", "main"]);
    assert!(pushed.starts_with("strata: ran pending.sql"), "{pushed}");
    assert!(git(&p.remote, &["ls-tree", "main", "pending.sql"]).is_empty());
}
