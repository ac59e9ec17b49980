//! strata's git layer (`strata::git`) on real repositories: a work tree whose `origin` is a
//! local bare repository that records the push options it receives; and `plan`/`run` through
//! the CLI for what depends on the process environment (identity) or on a target.

mod common;

use common::project::{git, init_repo, record_push_options, Project};
use predicates::str::contains;
use std::path::{Path, PathBuf};
use strata::git::{merge_request_options, plan_branch_name, GitError, Repo};

const FINGERPRINT: &str = "sha256:3f9a1c2e77d0b5a4e8c1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7";

/// A work tree with one commit on `main`, a bare `origin` that records push options.
fn repo_with_remote() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let bare = dir.path().join("origin.git");
    std::fs::create_dir(&work).unwrap();
    std::fs::write(work.join("README"), "hello\n").unwrap();
    init_repo(&work, &bare);
    record_push_options(&bare);
    (dir, work, bare)
}

#[test]
fn plan_branch_commit_leaves_the_work_tree_alone() {
    let (_dir, work, _bare) = repo_with_remote();
    std::fs::write(work.join("README"), "uncommitted edit\n").unwrap();
    git(&work, &["add", "README"]);
    let staged = git(&work, &["diff", "--cached", "--name-only"]);
    let repo = Repo::discover(&work).unwrap();
    let made = repo
        .commit_file_on_new_branch(
            "change-schema-20260101000000",
            &work.join("pending.sql"),
            b"-- plan\n",
            "Schema change: add table",
        )
        .unwrap();
    assert_eq!(made.branch, "change-schema-20260101000000");
    assert_eq!(repo.current_branch().unwrap().as_deref(), Some("main"));
    assert!(!work.join("pending.sql").exists());
    assert_eq!(
        std::fs::read_to_string(work.join("README")).unwrap(),
        "uncommitted edit\n"
    );
    assert_eq!(git(&work, &["diff", "--cached", "--name-only"]), staged);
    assert_eq!(
        git(&work, &["show", "change-schema-20260101000000:pending.sql"]),
        "-- plan"
    );
    assert_eq!(
        git(&work, &["show", "change-schema-20260101000000:README"]),
        "hello"
    );
    assert_eq!(
        git(
            &work,
            &["log", "-1", "--format=%s", "change-schema-20260101000000"]
        ),
        "Schema change: add table"
    );
    assert_eq!(
        git(&work, &["rev-parse", "change-schema-20260101000000^"]),
        git(&work, &["rev-parse", "main"])
    );
}

#[test]
fn two_plans_in_the_same_second_get_distinct_branches() {
    let (_dir, work, _bare) = repo_with_remote();
    let repo = Repo::discover(&work).unwrap();
    let second = time::macros::datetime!(2026-12-06 03:17:01 UTC);
    let name = plan_branch_name("change-schema-", second, FINGERPRINT);
    let made: Vec<String> = ["first", "second", "third"]
        .iter()
        .map(|text| {
            repo.commit_file_on_new_branch(&name, &work.join("pending.sql"), text.as_bytes(), text)
                .unwrap()
                .branch
        })
        .collect();
    assert_eq!(
        made,
        [
            "change-schema-20261206031701-3f9a1c2e",
            "change-schema-20261206031701-3f9a1c2e-2",
            "change-schema-20261206031701-3f9a1c2e-3",
        ]
    );
    assert_eq!(
        git(&work, &["show", &format!("{}:pending.sql", made[2])]),
        "third"
    );
    // A plan of another schema in that second has a name of its own.
    let other = plan_branch_name("change-schema-", second, "sha256:0123456789abcdef");
    assert_eq!(other, "change-schema-20261206031701-01234567");

    // Plans at once, from several processes' worth of threads: every one gets a branch.
    let racers: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let (work, other) = (&work, &other);
                scope.spawn(move || {
                    Repo::discover(work)
                        .unwrap()
                        .commit_file_on_new_branch(
                            other,
                            &work.join("pending.sql"),
                            format!("{i}").as_bytes(),
                            "race",
                        )
                        .unwrap()
                        .branch
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut distinct = racers.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 6, "{racers:?}");
}

#[test]
fn push_sends_merge_request_options() {
    let (_dir, work, bare) = repo_with_remote();
    let repo = Repo::discover(&work).unwrap();
    repo.commit_file_on_new_branch("change-schema-1", &work.join("pending.sql"), b"x", "m")
        .unwrap();
    repo.push(
        "origin",
        "change-schema-1",
        &merge_request_options("main", "Schema change: 2 statements"),
    )
    .unwrap();
    let received = std::fs::read_to_string(bare.join("push-options")).unwrap();
    assert_eq!(
        received,
        "merge_request.create\nmerge_request.target=main\nmerge_request.title=Schema change: 2 statements\n"
    );
    assert_eq!(git(&bare, &["show", "change-schema-1:pending.sql"]), "x");
}

#[test]
fn removal_is_committed_on_the_current_branch() {
    let (_dir, work, _bare) = repo_with_remote();
    std::fs::write(work.join("pending.sql"), "-- plan\n").unwrap();
    git(&work, &["add", "pending.sql"]);
    git(&work, &["commit", "-qm", "plan"]);
    let repo = Repo::discover(&work).unwrap();
    assert!(repo.is_tracked(&work.join("pending.sql")).unwrap());
    repo.commit_removal(&work.join("pending.sql"), "Ran pending.sql")
        .unwrap();
    assert!(!work.join("pending.sql").exists());
    assert!(!repo.is_tracked(&work.join("pending.sql")).unwrap());
    assert_eq!(git(&work, &["status", "--porcelain"]), "");
    assert_eq!(git(&work, &["log", "-1", "--format=%s"]), "Ran pending.sql");
}

#[test]
fn branch_names_are_utc_timestamps_and_the_desired_fingerprint() {
    let t = time::macros::datetime!(2026-11-22 06:05:09 +02:00);
    assert_eq!(
        plan_branch_name("change-schema-", t, FINGERPRINT),
        "change-schema-20261122040509-3f9a1c2e"
    );
}

#[test]
fn not_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        Repo::discover(dir.path()),
        Err(GitError::NoRepository { .. })
    ));
}

fn write_hook(work: &Path, name: &str, script: &str) {
    use std::os::unix::fs::PermissionsExt;
    let hook = work.join(".git/hooks").join(name);
    std::fs::write(&hook, format!("#!/bin/sh\n{script}")).unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn removal_runs_commit_hooks_and_plan_commit_names_the_ones_it_skips() {
    let (_dir, work, _bare) = repo_with_remote();
    std::fs::write(work.join("pending.sql"), "-- plan\n").unwrap();
    git(&work, &["add", "pending.sql"]);
    git(&work, &["commit", "-qm", "plan"]);
    let log = work.join(".git/hooks.log");
    write_hook(
        &work,
        "pre-commit",
        &format!("echo pre-commit >> '{}'\n", log.display()),
    );
    write_hook(
        &work,
        "commit-msg",
        "printf '\\nHooked: yes\\n' >> \"$1\"\n",
    );
    let repo = Repo::discover(&work).unwrap();

    let made = repo
        .commit_file_on_new_branch("b", &work.join("pending.sql"), b"x", "plan")
        .unwrap();
    assert_eq!(made.hooks_not_run, ["pre-commit", "commit-msg"]);
    assert_eq!(git(&work, &["log", "-1", "--format=%B", "b"]), "plan");
    assert!(!log.exists());

    repo.commit_removal(&work.join("pending.sql"), "Ran pending.sql")
        .unwrap();
    assert_eq!(
        git(&work, &["log", "-1", "--format=%B"]),
        "Ran pending.sql\n\nHooked: yes"
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "pre-commit\n");
}

#[test]
fn a_failing_hook_fails_the_removal_commit_with_its_output() {
    let (_dir, work, _bare) = repo_with_remote();
    std::fs::write(work.join("pending.sql"), "-- plan\n").unwrap();
    git(&work, &["add", "pending.sql"]);
    git(&work, &["commit", "-qm", "plan"]);
    let head = git(&work, &["rev-parse", "HEAD"]);
    write_hook(&work, "pre-commit", "echo 'policy says no' >&2\nexit 1\n");
    let err = Repo::discover(&work)
        .unwrap()
        .commit_removal(&work.join("pending.sql"), "Ran pending.sql")
        .unwrap_err();
    match &err {
        GitError::Commit { message, .. } => assert!(message.contains("policy says no"), "{err}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(git(&work, &["rev-parse", "HEAD"]), head);
}

#[test]
fn removal_commits_only_pending_sql() {
    let (_dir, work, _bare) = repo_with_remote();
    std::fs::write(work.join("pending.sql"), "-- plan\n").unwrap();
    git(&work, &["add", "pending.sql"]);
    git(&work, &["commit", "-qm", "plan"]);
    std::fs::write(work.join("README"), "staged, not strata's\n").unwrap();
    git(&work, &["add", "README"]);
    Repo::discover(&work)
        .unwrap()
        .commit_removal(&work.join("pending.sql"), "Ran pending.sql")
        .unwrap();
    assert_eq!(
        git(&work, &["show", "--name-status", "--format=", "HEAD"]),
        "D\tpending.sql"
    );
    assert_eq!(git(&work, &["diff", "--cached", "--name-only"]), "README");
}

#[test]
fn commits_are_signed_when_commit_gpgsign_is_set() {
    let (dir, work, _bare) = repo_with_remote();
    let key = dir.path().join("key");
    let out = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .output()
        .expect("ssh-keygen");
    assert!(out.status.success());
    std::fs::write(work.join("pending.sql"), "-- plan\n").unwrap();
    git(&work, &["add", "pending.sql"]);
    git(&work, &["commit", "-qm", "plan"]);
    git(&work, &["config", "gpg.format", "ssh"]);
    git(
        &work,
        &[
            "config",
            "user.signingkey",
            key.with_extension("pub").to_str().unwrap(),
        ],
    );
    git(&work, &["config", "commit.gpgsign", "true"]);
    let repo = Repo::discover(&work).unwrap();
    repo.commit_file_on_new_branch("b", &work.join("pending.sql"), b"x", "plan")
        .unwrap();
    repo.commit_removal(&work.join("pending.sql"), "Ran")
        .unwrap();
    for commit in ["b", "HEAD"] {
        let raw = git(&work, &["cat-file", "commit", commit]);
        assert!(
            raw.contains("gpgsig -----BEGIN SSH SIGNATURE-----"),
            "{raw}"
        );
    }
}

const MANIFEST: &str = r#"
[shadow]
url = "env:STRATA_TEST_SHADOW_URL"

[targets.test]
url = "env:STRATA_TEST_TARGET_URL"
"#;

/// Git's identity variables and config locations, all taken away from a command.
fn without_identity(cmd: &mut assert_cmd::Command, home: &Path) {
    for role in ["AUTHOR", "COMMITTER"] {
        for part in ["NAME", "EMAIL", "DATE"] {
            cmd.env_remove(format!("GIT_{role}_{part}"));
        }
    }
    cmd.env_remove("EMAIL")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1");
}

/// The branch `strata plan` reports in `stderr`.
fn branch_in(stderr: &[u8]) -> String {
    let stderr = String::from_utf8_lossy(stderr);
    stderr
        .lines()
        .find_map(|line| line.strip_prefix("committed pending.sql on branch "))
        .unwrap_or_else(|| panic!("{stderr}"))
        .to_string()
}

#[test]
fn commits_follow_gits_identity_rules() {
    let p = Project::create("strata-git-", MANIFEST, "CREATE TABLE a (id int);\n");
    let home = p.root.parent().unwrap().join("home");
    std::fs::create_dir(&home).unwrap();

    // The environment beats every config.
    git(&p.root, &["config", "user.name", "Repo User"]);
    let out = p
        .strata()
        .arg("plan")
        .env("GIT_AUTHOR_NAME", "Ann Author")
        .env("GIT_AUTHOR_EMAIL", "ann@example.com")
        .env("GIT_COMMITTER_NAME", "Cid Committer")
        .env("GIT_COMMITTER_EMAIL", "cid@example.com")
        .assert()
        .success();
    let branch = branch_in(&out.get_output().stderr);
    assert_eq!(
        git(
            &p.root,
            &["log", "-1", "--format=%an <%ae>/%cn <%ce>", &branch]
        ),
        "Ann Author <ann@example.com>/Cid Committer <cid@example.com>"
    );
    git(&p.root, &["merge", "-q", "--ff-only", &branch]);

    // Then the repository's config, then the global one.
    std::fs::write(
        home.join(".gitconfig"),
        "[user]\n\tname = Global User\n\temail = global@example.com\n",
    )
    .unwrap();
    let mut run = p.strata();
    without_identity(&mut run, &home);
    run.args(["run", "--git-commit"]).assert().success();
    assert_eq!(
        git(&p.root, &["log", "-1", "--format=%an <%ae>/%cn <%ce>"]),
        "Repo User <global@example.com>/Repo User <global@example.com>"
    );

    // No identity anywhere (a CI runner): strata's own.
    git(&p.root, &["config", "--unset", "user.name"]);
    std::fs::remove_file(home.join(".gitconfig")).unwrap();
    p.write("schema/app.sql", "CREATE TABLE a (id int, b int);\n");
    p.commit_all("b");
    let mut plan = p.strata();
    without_identity(&mut plan, &home);
    let out = plan.arg("plan").assert().success();
    let branch = branch_in(&out.get_output().stderr);
    assert_eq!(
        git(
            &p.root,
            &["log", "-1", "--format=%an <%ae>/%cn <%ce>", &branch]
        ),
        "strata <strata@localhost>/strata <strata@localhost>"
    );

    // useConfigOnly asks git to fail without configured identity; strata does not paper over it.
    git(&p.root, &["config", "user.useConfigOnly", "true"]);
    git(&p.root, &["merge", "-q", "--ff-only", &branch]);
    let mut run = p.strata();
    without_identity(&mut run, &home);
    run.args(["run", "--git-commit"])
        .assert()
        .code(2)
        .stderr(contains("strata::git::commit"));
}

#[test]
fn run_git_commit_refuses_a_pending_sql_that_is_not_committed() {
    let p = Project::create("strata-git-", MANIFEST, "CREATE TABLE a (id int);\n");
    p.strata().args(["plan", "--no-git"]).assert().success();
    assert!(p.root.join("pending.sql").exists());
    for flag in ["--git-commit", "--push"] {
        p.strata()
            .args(["run", flag])
            .assert()
            .code(1)
            .stderr(contains("strata::git::not_committed"))
            .stderr(contains("pending.sql is not committed"));
    }
    // Refused before anything ran: no table, no history, the file still there.
    assert_eq!(
        p.db.psql("SELECT count(*) FROM pg_class WHERE relname = 'a'"),
        "0"
    );
    assert_eq!(
        p.db.psql("SELECT count(*) FROM pg_namespace WHERE nspname = 'strata'"),
        "0"
    );
    assert!(p.root.join("pending.sql").exists());
    // Without the flag the run goes ahead and leaves the file to the user.
    p.strata().arg("run").assert().success();
    assert_eq!(
        p.db.psql("SELECT count(*) FROM pg_class WHERE relname = 'a'"),
        "1"
    );
    p.strata()
        .args(["run", "--git-commit"])
        .assert()
        .code(1)
        .stderr(contains("strata::git::not_committed"));
}
