//! A strata project in a real git repository (with a bare `origin`), driven through the CLI
//! against the test cluster: the shadow server is the harness's cluster, the target a
//! database of its own.

use super::{admin_url, reachable_tempdir, TestDb};
use assert_cmd::Command;
use std::path::{Path, PathBuf};

pub struct Project {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub remote: PathBuf,
    pub db: TestDb,
}

const COMMITTER: [(&str, &str); 4] = [
    ("GIT_AUTHOR_NAME", "dev"),
    ("GIT_AUTHOR_EMAIL", "dev@example.com"),
    ("GIT_COMMITTER_NAME", "dev"),
    ("GIT_COMMITTER_EMAIL", "dev@example.com"),
];

/// `git args` in `dir`, which must succeed; its trimmed stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .envs(COMMITTER)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `root` as a git repository on `main` with everything in it committed, and a bare
/// repository at `remote` as its `origin`.
pub fn init_repo(root: &Path, remote: &Path) {
    git(
        remote.parent().unwrap(),
        &["init", "-q", "--bare", remote.to_str().unwrap()],
    );
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "."]);
    git(root, &["commit", "-qm", "start"]);
    git(root, &["remote", "add", "origin", remote.to_str().unwrap()]);
}

/// Makes the bare repository `remote` accept push options and record them, one a line, in
/// `remote/push-options` (as a GitLab server would act on them).
pub fn record_push_options(remote: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let hook = remote.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\ni=0\nwhile [ $i -lt \"${GIT_PUSH_OPTION_COUNT:-0}\" ]; do\n  eval \"echo \\$GIT_PUSH_OPTION_$i\" >> \"$GIT_DIR/push-options\"\n  i=$((i+1))\ndone\n",
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    git(remote, &["config", "receive.advertisePushOptions", "true"]);
}

impl Project {
    /// A repository holding `manifest` as pipeline.toml, `schema` as schema/app.sql and an
    /// empty migrations/, committed on `main`. The manifest reads the shadow server from
    /// `env:STRATA_TEST_SHADOW_URL` and the target from `env:STRATA_TEST_TARGET_URL`.
    pub fn create(prefix: &str, manifest: &str, schema: &str) -> Project {
        let dir = reachable_tempdir(prefix);
        let root = dir.path().join("app");
        let remote = dir.path().join("origin.git");
        std::fs::create_dir_all(root.join("schema")).unwrap();
        std::fs::create_dir_all(root.join("migrations")).unwrap();
        std::fs::write(root.join("pipeline.toml"), manifest).unwrap();
        std::fs::write(root.join("schema/app.sql"), schema).unwrap();
        std::fs::write(
            root.join(".gitignore"),
            "/.strata\ndeploy.log\nfail-deploy\n*.out\n",
        )
        .unwrap();
        init_repo(&root, &remote);
        Project {
            _dir: dir,
            root,
            remote,
            db: TestDb::new(),
        }
    }

    pub fn strata(&self) -> Command {
        let mut cmd = Command::cargo_bin("strata").unwrap();
        cmd.arg("-C")
            .arg(&self.root)
            .env("CI", "true")
            .env_remove("DATABASE_URL")
            .env("STRATA_TEST_SHADOW_URL", admin_url())
            .env("STRATA_TEST_TARGET_URL", &self.db.url)
            .env(super::IDLE_STOP.0, super::IDLE_STOP.1)
            .envs(COMMITTER);
        cmd
    }

    pub fn write(&self, path: &str, text: &str) {
        let path = self.root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    pub fn commit_all(&self, message: &str) {
        git(&self.root, &["add", "-A"]);
        git(&self.root, &["commit", "-qm", message]);
    }

    /// `strata plan`, then merge its branch into main as a reviewer would; the branch's name.
    pub fn plan_and_merge(&self) -> String {
        let out = self.strata().arg("plan").assert().success();
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        let branch = stderr
            .lines()
            .find_map(|line| line.strip_prefix("committed pending.sql on branch "))
            .unwrap_or_else(|| panic!("plan made no branch: {stderr}"))
            .to_string();
        git(&self.root, &["merge", "-q", "--ff-only", &branch]);
        branch
    }

    pub fn pending(&self) -> String {
        std::fs::read_to_string(self.root.join("pending.sql")).unwrap()
    }

    /// The schema as it stands planned and run, so that its tables exist (and can hold rows).
    pub fn start(&self) {
        self.plan_and_merge();
        self.strata()
            .args(["run", "--git-commit"])
            .assert()
            .success();
    }

    /// Plan and run `schema`, returning the pending.sql that ran.
    pub fn change_to(&self, schema: &str) -> String {
        self.write("schema/app.sql", schema);
        self.commit_all("change");
        self.plan_and_merge();
        let pending = self.pending();
        self.strata()
            .args(["run", "--git-commit"])
            .assert()
            .success();
        pending
    }
}
