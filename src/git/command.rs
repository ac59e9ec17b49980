//! Running the `git` program and turning its failures into [`GitError`]s.

use super::GitError;
use std::io::Write;
use std::process::{Command, Output, Stdio};

/// `cmd` as a person would type it, for error messages.
pub(super) fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|arg| arg.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `cmd` to its end with `input` on its stdin (none: stdin closed); its output and status.
pub(super) fn capture(cmd: &mut Command, input: Option<&[u8]>) -> Result<Output, GitError> {
    let command = describe(cmd);
    let cannot = |e: std::io::Error| GitError::Failed {
        command: command.clone(),
        message: format!("cannot run git: {e}"),
    };
    let mut child = cmd
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(cannot)?;
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(input).map_err(cannot)?;
    }
    child.wait_with_output().map_err(cannot)
}

/// Runs `cmd`, which must succeed; its stdout, trimmed. A failure carries git's stderr (and
/// stdout, where hooks often write).
pub(super) fn run(cmd: &mut Command, input: Option<&[u8]>) -> Result<String, GitError> {
    let out = capture(cmd, input)?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).trim().to_string());
    }
    let message = [&out.stderr, &out.stdout]
        .iter()
        .map(|text| String::from_utf8_lossy(text).trim().to_string())
        .filter(|text| !text.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    Err(GitError::Failed {
        command: describe(cmd),
        message: if message.is_empty() {
            format!("exit status {}", out.status)
        } else {
            message
        },
    })
}
