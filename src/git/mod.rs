//! git: the plan branch and its commit (git2, without touching the work tree or the index),
//! the commit that removes pending.sql after a run, and pushing.
//!
//! Pushing shells out to the `git` program: libgit2's local transport runs no server-side
//! hooks (so a GitLab-style `-o merge_request.create` could not be exercised end to end), and
//! the git program brings the credential helpers and SSH set-up that CI runners already have.

use git2::{build::TreeUpdateBuilder, FileMode, Repository, Signature};
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
    #[error("git: {0}")]
    #[diagnostic(code(strata::git::failed))]
    Git(#[from] git2::Error),
    #[error("the repository has no commit yet; commit something first")]
    #[diagnostic(code(strata::git::unborn))]
    Unborn,
    #[error("branch {0} already exists")]
    #[diagnostic(code(strata::git::branch_exists))]
    BranchExists(String),
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

pub struct Repo {
    repo: Repository,
}

impl Repo {
    /// The repository holding `path`.
    pub fn discover(path: &Path) -> Result<Repo, GitError> {
        Repository::discover(path)
            .map(|repo| Repo { repo })
            .map_err(|_| GitError::NoRepository {
                path: path.to_path_buf(),
            })
    }

    fn workdir(&self) -> &Path {
        self.repo.workdir().unwrap_or_else(|| self.repo.path())
    }

    /// The short name of the checked-out branch (`None` when HEAD is detached).
    pub fn current_branch(&self) -> Result<Option<String>, GitError> {
        let head = match self.repo.head() {
            Ok(head) => head,
            Err(e) if e.code() == git2::ErrorCode::UnbornBranch => return Err(GitError::Unborn),
            Err(e) => return Err(e.into()),
        };
        Ok(head
            .is_branch()
            .then(|| head.shorthand().unwrap_or("").to_string()))
    }

    /// Creates `branch` from HEAD with one commit that writes `file` (a path inside the
    /// repository) with `contents`. The work tree, the index and the checked-out branch are
    /// left exactly as they were.
    pub fn commit_file_on_new_branch(
        &self,
        branch: &str,
        file: &Path,
        contents: &[u8],
        message: &str,
    ) -> Result<git2::Oid, GitError> {
        if self
            .repo
            .find_branch(branch, git2::BranchType::Local)
            .is_ok()
        {
            return Err(GitError::BranchExists(branch.to_string()));
        }
        let head = self.head_commit()?;
        let blob = self.repo.blob(contents)?;
        let relative = self.relative(file)?;
        let tree_id = TreeUpdateBuilder::new()
            .upsert(path_bytes(&relative), blob, FileMode::Blob)
            .create_updated(&self.repo, &head.tree()?)?;
        let tree = self.repo.find_tree(tree_id)?;
        let signature = self.signature()?;
        let commit = self
            .repo
            .commit(None, &signature, &signature, message, &tree, &[&head])?;
        self.repo
            .branch(branch, &self.repo.find_commit(commit)?, false)?;
        Ok(commit)
    }

    /// Deletes `file` from the work tree and the index and commits that on the current branch.
    pub fn commit_removal(&self, file: &Path, message: &str) -> Result<git2::Oid, GitError> {
        let relative = self.relative(file)?;
        if file.exists() {
            std::fs::remove_file(file).map_err(|e| {
                GitError::Git(git2::Error::from_str(&format!(
                    "cannot remove {}: {e}",
                    file.display()
                )))
            })?;
        }
        let mut index = self.repo.index()?;
        index.remove_path(&relative)?;
        index.write()?;
        let tree = self.repo.find_tree(index.write_tree()?)?;
        let head = self.head_commit()?;
        let signature = self.signature()?;
        Ok(self.repo.commit(
            Some("HEAD"),
            &signature,
            &signature,
            message,
            &tree,
            &[&head],
        )?)
    }

    /// Whether `file` is tracked in HEAD's tree.
    pub fn is_tracked(&self, file: &Path) -> Result<bool, GitError> {
        let relative = self.relative(file)?;
        Ok(self.head_commit()?.tree()?.get_path(&relative).is_ok())
    }

    /// `git push <remote> <branch>` with `-o` push options.
    pub fn push(&self, remote: &str, branch: &str, options: &[String]) -> Result<(), GitError> {
        let mut cmd = Command::new("git");
        cmd.current_dir(self.workdir())
            .arg("push")
            .arg("--porcelain");
        for option in options {
            cmd.arg("-o").arg(option);
        }
        cmd.arg(remote)
            .arg(format!("refs/heads/{branch}:refs/heads/{branch}"));
        let out = cmd.output().map_err(|e| GitError::Push {
            remote: remote.to_string(),
            message: format!("cannot run git: {e}"),
        })?;
        if out.status.success() {
            Ok(())
        } else {
            Err(GitError::Push {
                remote: remote.to_string(),
                message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            })
        }
    }

    fn head_commit(&self) -> Result<git2::Commit<'_>, GitError> {
        match self.repo.head() {
            Ok(head) => Ok(head.peel_to_commit()?),
            Err(e) if e.code() == git2::ErrorCode::UnbornBranch => Err(GitError::Unborn),
            Err(e) => Err(e.into()),
        }
    }

    /// The repository's configured author, or `strata <strata@localhost>` where none is set
    /// (CI runners often have no git identity).
    fn signature(&self) -> Result<Signature<'static>, GitError> {
        match self.repo.signature() {
            Ok(signature) => Ok(signature),
            Err(_) => Ok(Signature::now("strata", "strata@localhost")?),
        }
    }

    fn relative(&self, file: &Path) -> Result<PathBuf, GitError> {
        let workdir = std::fs::canonicalize(self.workdir())
            .map_err(|e| GitError::Git(git2::Error::from_str(&format!("work tree: {e}"))))?;
        let parent = file.parent().unwrap_or(Path::new("."));
        let parent = std::fs::canonicalize(parent).map_err(|e| {
            GitError::Git(git2::Error::from_str(&format!("{}: {e}", parent.display())))
        })?;
        let name = file
            .file_name()
            .ok_or_else(|| GitError::Git(git2::Error::from_str("pending file has no name")))?;
        parent
            .join(name)
            .strip_prefix(&workdir)
            .map(Path::to_path_buf)
            .map_err(|_| GitError::NoRepository {
                path: file.to_path_buf(),
            })
    }
}

fn path_bytes(path: &Path) -> Vec<u8> {
    path.to_string_lossy().replace('\\', "/").into_bytes()
}

/// `change-schema-<UTC yyyymmddHHMMSS>`.
pub fn plan_branch_name(prefix: &str, now: time::OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year][month][day][hour][minute][second]");
    format!(
        "{prefix}{}",
        now.to_offset(time::UtcOffset::UTC)
            .format(&format)
            .expect("formattable")
    )
}
