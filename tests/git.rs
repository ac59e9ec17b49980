//! strata's git layer (`strata::git`) on real repositories: a work tree whose `origin` is a
//! local bare repository that records the push options it receives.

mod common;

use common::project::{git, init_repo, record_push_options};
use std::path::PathBuf;
use strata::git::{merge_request_options, plan_branch_name, GitError, Repo};

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
    let repo = Repo::discover(&work).unwrap();
    repo.commit_file_on_new_branch(
        "change-schema-20260101000000",
        &work.join("pending.sql"),
        b"-- plan\n",
        "Schema change: add table",
    )
    .unwrap();
    assert_eq!(repo.current_branch().unwrap().as_deref(), Some("main"));
    assert!(!work.join("pending.sql").exists());
    assert_eq!(
        std::fs::read_to_string(work.join("README")).unwrap(),
        "uncommitted edit\n"
    );
    assert_eq!(
        git(&work, &["show", "change-schema-20260101000000:pending.sql"]),
        "-- plan"
    );
    assert_eq!(
        git(
            &work,
            &["log", "-1", "--format=%s", "change-schema-20260101000000"]
        ),
        "Schema change: add table"
    );
    assert!(matches!(
        repo.commit_file_on_new_branch(
            "change-schema-20260101000000",
            &work.join("pending.sql"),
            b"x",
            "again"
        ),
        Err(GitError::BranchExists(_))
    ));
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
fn branch_names_are_utc_timestamps() {
    let t = time::macros::datetime!(2026-11-22 06:05:09 +02:00);
    assert_eq!(
        plan_branch_name("change-schema-", t),
        "change-schema-20261122040509"
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
