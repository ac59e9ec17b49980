//! The deploy hook: a shell command run between the expand and contract halves of a change.

use miette::Diagnostic;
use std::path::Path;
use std::process::Command;

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum HookError {
    #[error("cannot start the deploy hook `{command}`: {message}")]
    #[diagnostic(code(strata::hook::spawn))]
    Spawn { command: String, message: String },
    #[error("the deploy hook `{command}` failed ({status}); the stages after it did not run")]
    #[diagnostic(
        code(strata::hook::failed),
        help(
            "fix the deploy and run `strata run` again: it resumes after the stages that completed"
        )
    )]
    Failed { command: String, status: String },
}

/// Runs `command` with `sh -c` in `dir`, its output passed through, with `STRATA_TARGET` and
/// `STRATA_STAGE` in its environment. Its exit status decides whether the pipeline goes on.
pub fn run_hook(dir: &Path, command: &str, target: &str, stage: &str) -> Result<(), HookError> {
    let status = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .env("STRATA_TARGET", target)
        .env("STRATA_STAGE", stage)
        .status()
        .map_err(|e| HookError::Spawn {
            command: command.to_string(),
            message: e.to_string(),
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(HookError::Failed {
            command: command.to_string(),
            status: status.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_sees_target_and_stage() {
        let dir = tempfile::tempdir().unwrap();
        run_hook(
            dir.path(),
            "echo \"$STRATA_TARGET/$STRATA_STAGE\" > out",
            "prod",
            "deploy",
        )
        .unwrap();
        let out = std::fs::read_to_string(dir.path().join("out")).unwrap();
        assert_eq!(out, "prod/deploy\n");
    }

    #[test]
    fn failing_hook_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = run_hook(dir.path(), "exit 3", "t", "deploy").unwrap_err();
        assert!(matches!(err, HookError::Failed { .. }));
        assert!(err.to_string().contains("exit status: 3"), "{err}");
    }
}
