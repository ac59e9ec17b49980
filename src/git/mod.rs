//! git: the plan branch and its commit (made without touching the work tree or the index),
//! the commit that removes pending.sql after a run, and pushing.
//!
//! Every operation runs the `git` program, so commits follow git's own rules: the author and
//! committer come from `GIT_AUTHOR_*`/`GIT_COMMITTER_*`, then the repository's and the global
//! `user.*` (and `author.*`/`committer.*`) config; signing follows `commit.gpgsign`; the
//! removal commit runs the repository's commit hooks; pushing brings the credential helpers
//! and SSH set-up that CI runners already have. What the plan branch's commit skips is said
//! at [`Repo::commit_file_on_new_branch`].

mod command;
mod identity;

use command::{capture, describe, run};
use miette::Diagnostic;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum GitError {
    #[error("{path} is not inside a git repository")]
    #[diagnostic(
        code(strata::git::no_repo),
        help("run `git init`, or pass --no-git to only write the file")
    )]
    NoRepository { path: PathBuf },
    #[error("`{command}` failed: {message}")]
    #[diagnostic(code(strata::git::failed))]
    Failed { command: String, message: String },
    #[error("the repository has no commit yet; commit something first")]
    #[diagnostic(code(strata::git::unborn))]
    Unborn,
    #[error("branches {0} to {0}-100 all exist already")]
    #[diagnostic(
        code(strata::git::branch_exists),
        help("delete the old plan branches (`git branch --list`)")
    )]
    BranchExists(String),
    #[error("{file} is not committed in the repository, so --git-commit has no commit to make")]
    #[diagnostic(
        code(strata::git::not_committed),
        help("pending.sql written by `strata plan --no-git` is not in git: commit it first, or run without --git-commit/--push and delete the file yourself after the run")
    )]
    NotCommitted { file: String },
    #[error("git commit of the removal of {file} failed: {message}")]
    #[diagnostic(
        code(strata::git::commit),
        help("the plan ran; {file} is removed from the work tree and the index: fix what git reports (a hook, signing, identity) and run `git commit` yourself")
    )]
    Commit { file: String, message: String },
    #[error("git push to {remote} failed: {message}")]
    #[diagnostic(code(strata::git::push))]
    Push { remote: String, message: String },
}

/// GitLab push options that open a merge request for the pushed branch.
pub fn merge_request_options(target_branch: &str, title: &str) -> Vec<String> {
    vec![
        "merge_request.create".to_string(),
        format!("merge_request.target={target_branch}"),
        format!("merge_request.title={title}"),
    ]
}

/// The hooks `git commit` runs and `git commit-tree` does not.
const COMMIT_HOOKS: [&str; 4] = [
    "pre-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
];

/// The plan branch as made.
#[derive(Debug)]
pub struct PlanCommit {
    /// The branch's name: the one asked for, or with `-2`, `-3`... when that was taken.
    pub branch: String,
    pub commit: String,
    /// Commit hooks installed in the repository that this commit did not run.
    pub hooks_not_run: Vec<String>,
}

pub struct Repo {
    /// The work tree's top-level directory.
    root: PathBuf,
}

impl Repo {
    /// The repository holding `path`.
    pub fn discover(path: &Path) -> Result<Repo, GitError> {
        let mut cmd = Command::new("git");
        cmd.current_dir(path).args(["rev-parse", "--show-toplevel"]);
        run(&mut cmd, None)
            .map(|root| Repo {
                root: PathBuf::from(root),
            })
            .map_err(|_| GitError::NoRepository {
                path: path.to_path_buf(),
            })
    }

    /// `git <args>` in the work tree's top-level directory, pathspecs taken literally.
    fn git(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        cmd.current_dir(&self.root)
            .arg("--literal-pathspecs")
            .args(args);
        cmd
    }

    /// The short name of the checked-out branch (`None` when HEAD is detached).
    pub fn current_branch(&self) -> Result<Option<String>, GitError> {
        self.head()?;
        let mut cmd = self.git(&["symbolic-ref", "--quiet", "--short", "HEAD"]);
        let out = capture(&mut cmd, None)?;
        match out.status.code() {
            Some(0) => Ok(Some(
                String::from_utf8_lossy(&out.stdout).trim().to_string(),
            )),
            Some(1) => Ok(None),
            _ => Err(GitError::Failed {
                command: describe(&cmd),
                message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            }),
        }
    }

    /// Creates `branch` (or `branch-2`, `branch-3`... when it exists) from HEAD with one
    /// commit that writes `file` (a path inside the repository) with `contents`. The work
    /// tree, the index and the checked-out branch are left exactly as they were: the tree is
    /// built in a temporary index (`read-tree HEAD`, `update-index`, `write-tree`) and
    /// committed with `git commit-tree`, which takes author and committer as `git commit`
    /// does and is signed (`-S`) when `commit.gpgsign` is set, but runs no commit hooks
    /// (they act on a checked-out work tree, and this commit has none); the installed ones
    /// are returned so that the caller can say so.
    pub fn commit_file_on_new_branch(
        &self,
        branch: &str,
        file: &Path,
        contents: &[u8],
        message: &str,
    ) -> Result<PlanCommit, GitError> {
        self.commit_files_on_new_branch(branch, &[(file, contents)], &[], message)
    }

    /// [`Repo::commit_file_on_new_branch`] for several files, and files to remove (a
    /// fleet's `pending/<group>/`).
    pub fn commit_files_on_new_branch(
        &self,
        branch: &str,
        files: &[(&Path, &[u8])],
        removed: &[&Path],
        message: &str,
    ) -> Result<PlanCommit, GitError> {
        let head = self.head()?;
        let index_dir = tempfile::tempdir().map_err(|e| GitError::Failed {
            command: "a temporary index".into(),
            message: e.to_string(),
        })?;
        let index = index_dir.path().join("index");
        let with_index = |args: &[&str]| {
            let mut cmd = self.git(args);
            cmd.env("GIT_INDEX_FILE", &index);
            cmd
        };
        run(&mut with_index(&["read-tree", &head]), None)?;
        for (file, contents) in files {
            let relative = self.relative(file)?;
            let blob = run(
                &mut self.git(&["hash-object", "-w", "--stdin"]),
                Some(contents),
            )?;
            let entry = format!("100644,{blob},{relative}");
            run(
                &mut with_index(&["update-index", "--add", "--cacheinfo", &entry]),
                None,
            )?;
        }
        for file in removed {
            let relative = self.relative(file)?;
            run(
                &mut with_index(&["update-index", "--force-remove", "--", &relative]),
                None,
            )?;
        }
        let tree = run(&mut with_index(&["write-tree"]), None)?;
        let mut commit_tree = self.git(&["commit-tree", &tree, "-p", &head, "-F", "-"]);
        if self.config_bool("commit.gpgsign") == Some(true) {
            commit_tree.arg("-S");
        }
        commit_tree.envs(identity::fallback(self));
        let commit = run(&mut commit_tree, Some(message.as_bytes()))?;
        let branch = self.claim_branch(branch, &commit)?;
        Ok(PlanCommit {
            branch,
            commit,
            hooks_not_run: self.installed_hooks(&COMMIT_HOOKS),
        })
    }

    /// Points the first free name of `base`, `base-2`, `base-3`... at `commit`. Each try is
    /// atomic (`update-ref` with an empty old value), so two plans at once never share one.
    fn claim_branch(&self, base: &str, commit: &str) -> Result<String, GitError> {
        for n in 1..=100 {
            let name = match n {
                1 => base.to_string(),
                n => format!("{base}-{n}"),
            };
            let reference = format!("refs/heads/{name}");
            if self.resolves(&reference)? {
                continue;
            }
            let mut cmd = self.git(&["update-ref", "-m", "strata plan", &reference, commit, ""]);
            match run(&mut cmd, None) {
                Ok(_) => return Ok(name),
                Err(_) if self.resolves(&reference)? => continue,
                Err(e) => return Err(e),
            }
        }
        Err(GitError::BranchExists(base.to_string()))
    }

    /// Deletes `file` from the work tree and the index and commits that, and nothing else
    /// staged, on the current branch with `git commit`: hooks and signing as configured.
    pub fn commit_removal(&self, file: &Path, message: &str) -> Result<String, GitError> {
        let relative = self.relative(file)?;
        run(
            &mut self.git(&["rm", "-q", "--force", "--ignore-unmatch", "--", &relative]),
            None,
        )?;
        let mut commit = self.git(&["commit", "-q", "-F", "-", "--", &relative]);
        commit.envs(identity::fallback(self));
        run(&mut commit, Some(message.as_bytes())).map_err(|e| GitError::Commit {
            file: relative.clone(),
            message: match e {
                GitError::Failed { message, .. } => message,
                other => other.to_string(),
            },
        })?;
        self.head()
    }

    /// Whether `file` is tracked in HEAD's tree.
    pub fn is_tracked(&self, file: &Path) -> Result<bool, GitError> {
        let head = self.head()?;
        let relative = self.relative(file)?;
        let listed = run(
            &mut self.git(&["ls-tree", "--name-only", &head, "--", &relative]),
            None,
        )?;
        Ok(!listed.is_empty())
    }

    /// `git push <remote> <branch>` with `-o` push options.
    pub fn push(&self, remote: &str, branch: &str, options: &[String]) -> Result<(), GitError> {
        let mut cmd = self.git(&["push", "--porcelain"]);
        for option in options {
            cmd.arg("-o").arg(option);
        }
        cmd.arg(remote)
            .arg(format!("refs/heads/{branch}:refs/heads/{branch}"));
        run(&mut cmd, None).map(drop).map_err(|e| GitError::Push {
            remote: remote.to_string(),
            message: match e {
                GitError::Failed { message, .. } => message,
                other => other.to_string(),
            },
        })
    }

    /// HEAD's commit id.
    fn head(&self) -> Result<String, GitError> {
        run(
            &mut self.git(&["rev-parse", "--quiet", "--verify", "HEAD^{commit}"]),
            None,
        )
        .map_err(|_| GitError::Unborn)
    }

    fn resolves(&self, reference: &str) -> Result<bool, GitError> {
        let mut cmd = self.git(&["rev-parse", "--quiet", "--verify", reference]);
        Ok(capture(&mut cmd, None)?.status.success())
    }

    /// `git config --get <key>`; `None` when unset.
    fn config(&self, key: &str) -> Option<String> {
        run(&mut self.git(&["config", "--get", key]), None).ok()
    }

    fn config_bool(&self, key: &str) -> Option<bool> {
        run(
            &mut self.git(&["config", "--type=bool", "--get", key]),
            None,
        )
        .ok()
        .map(|value| value == "true")
    }

    /// The ones of `names` installed as executable hooks (`core.hooksPath` included).
    fn installed_hooks(&self, names: &[&str]) -> Vec<String> {
        use std::os::unix::fs::PermissionsExt;
        names
            .iter()
            .filter(|name| {
                let hook = format!("hooks/{name}");
                run(&mut self.git(&["rev-parse", "--git-path", &hook]), None)
                    .ok()
                    .and_then(|path| std::fs::metadata(self.root.join(path)).ok())
                    .is_some_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
            })
            .map(|name| name.to_string())
            .collect()
    }

    /// `file`'s path from the top of the work tree, with `/` separators.
    fn relative(&self, file: &Path) -> Result<String, GitError> {
        let io_error = |path: &Path, e: std::io::Error| GitError::Failed {
            command: format!("resolving {}", path.display()),
            message: e.to_string(),
        };
        let root = std::fs::canonicalize(&self.root).map_err(|e| io_error(&self.root, e))?;
        let parent = file.parent().unwrap_or(Path::new("."));
        let parent = std::fs::canonicalize(parent).map_err(|e| io_error(parent, e))?;
        let name = file.file_name().ok_or_else(|| GitError::NoRepository {
            path: file.to_path_buf(),
        })?;
        parent
            .join(name)
            .strip_prefix(&root)
            .map(|path| path.to_string_lossy().replace('\\', "/"))
            .map_err(|_| GitError::NoRepository {
                path: file.to_path_buf(),
            })
    }
}

/// `<prefix><UTC yyyymmddHHMMSS>-<the first 8 hex digits of the desired fingerprint>`:
/// sorted by time, and two plans of different schemas in one second differ. Plans of the
/// same schema in the same second are told apart by [`Repo::commit_file_on_new_branch`].
pub fn plan_branch_name(
    prefix: &str,
    now: time::OffsetDateTime,
    desired_fingerprint: &str,
) -> String {
    let format = time::macros::format_description!("[year][month][day][hour][minute][second]");
    let stamp = now
        .to_offset(time::UtcOffset::UTC)
        .format(&format)
        .expect("formattable");
    let hex = desired_fingerprint
        .strip_prefix("sha256:")
        .unwrap_or(desired_fingerprint);
    let short: String = hex
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect();
    match short.is_empty() {
        true => format!("{prefix}{stamp}"),
        false => format!("{prefix}{stamp}-{short}"),
    }
}
