//! The deploy hook: a shell command run between the expand and contract halves of a change.
//!
//! In a run, the hook is a step recorded as started before it runs and done after it
//! (`run::pipeline`). The process that runs it is recorded too ([`ProcessId`]): if strata
//! dies while the hook runs, the hook goes on alone, and the next run must not start a
//! second one beside it. To make sure the recorded process is the one that runs the hook,
//! the hook is started behind a gate: its shell waits for a line on its stdin, which strata
//! writes only once the process is recorded (if strata dies before, the gate sees end of
//! file and the hook never starts). The hook itself gets no stdin.

use miette::Diagnostic;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

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
        .map_err(|e| spawn_error(command, e))?;
    outcome(command, status)
}

fn spawn_error(command: &str, e: std::io::Error) -> HookError {
    HookError::Spawn {
        command: command.to_string(),
        message: e.to_string(),
    }
}

fn outcome(command: &str, status: std::process::ExitStatus) -> Result<(), HookError> {
    if status.success() {
        Ok(())
    } else {
        Err(HookError::Failed {
            command: command.to_string(),
            status: status.to_string(),
        })
    }
}

/// A hook started and held at its gate.
pub struct GatedHook {
    command: String,
    child: tokio::process::Child,
    gate: tokio::process::ChildStdin,
}

/// The shell that waits at the gate, then becomes the hook's shell (same process).
const GATE: &str = "IFS= read -r _ || exit 97; exec sh -c \"$1\" </dev/null";

impl GatedHook {
    /// Starts `command` held at its gate (see the module's comment).
    pub fn spawn(
        dir: &Path,
        command: &str,
        target: &str,
        stage: &str,
    ) -> Result<GatedHook, HookError> {
        let mut child = tokio::process::Command::new("sh")
            .args(["-c", GATE, "strata-hook", command])
            .current_dir(dir)
            .env("STRATA_TARGET", target)
            .env("STRATA_STAGE", stage)
            .stdin(Stdio::piped())
            .spawn()
            .map_err(|e| spawn_error(command, e))?;
        let gate = child.stdin.take().expect("stdin is piped");
        Ok(GatedHook {
            command: command.to_string(),
            child,
            gate,
        })
    }

    /// The process that will run the hook (`None` where processes cannot be identified).
    pub fn process(&self) -> Option<ProcessId> {
        self.child.id().and_then(ProcessId::of)
    }

    /// Opens the gate: the hook starts.
    pub async fn release(&mut self) -> Result<(), HookError> {
        self.gate
            .write_all(b"go\n")
            .await
            .map_err(|e| spawn_error(&self.command, e))
    }

    /// Waits for the hook to end; its exit status decides.
    pub async fn wait(mut self) -> Result<(), HookError> {
        let status = self
            .child
            .wait()
            .await
            .map_err(|e| spawn_error(&self.command, e))?;
        outcome(&self.command, status)
    }
}

/// A process, identified across pid reuse and machines: its pid, its start time (clock
/// ticks since boot, `/proc/<pid>/stat`), the boot and the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessId {
    pub pid: u32,
    pub start: u64,
    pub boot: String,
    pub host: String,
}

impl ProcessId {
    /// The identity of the running process `pid` (Linux; `None` elsewhere).
    pub fn of(pid: u32) -> Option<ProcessId> {
        let (state, start) = stat(pid)?;
        if state == 'Z' {
            return None;
        }
        Some(ProcessId {
            pid,
            start,
            boot: this_boot()?,
            host: this_host()?,
        })
    }

    pub fn parse(text: &str) -> Option<ProcessId> {
        let mut fields = std::collections::BTreeMap::new();
        for part in text.split_whitespace() {
            let (key, value) = part.split_once('=')?;
            fields.insert(key, value);
        }
        Some(ProcessId {
            pid: fields.get("pid")?.parse().ok()?,
            start: fields.get("start")?.parse().ok()?,
            boot: fields.get("boot")?.to_string(),
            host: fields.get("host")?.to_string(),
        })
    }

    /// Whether this machine, since its last boot, is where the process ran: only then can
    /// strata tell whether it still runs.
    pub fn is_local(&self) -> bool {
        this_boot().is_some_and(|b| b == self.boot) && this_host().is_some_and(|h| h == self.host)
    }

    /// Whether the process still runs (a local one; a zombie has ended).
    pub fn alive(&self) -> bool {
        self.is_local()
            && stat(self.pid).is_some_and(|(state, start)| state != 'Z' && start == self.start)
    }

    /// Waits until the process has ended or `limit` has passed; whether it ended.
    pub async fn wait_gone(&self, limit: Duration) -> bool {
        let started = Instant::now();
        while self.alive() {
            if started.elapsed() >= limit {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        true
    }
}

impl std::fmt::Display for ProcessId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid={} start={} boot={} host={}",
            self.pid, self.start, self.boot, self.host
        )
    }
}

/// `(state, start time)` of `pid` from `/proc/<pid>/stat`.
fn stat(pid: u32) -> Option<(char, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: fields after it.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Field 3 is the state, field 22 the start time.
    Some((
        fields.first()?.chars().next()?,
        fields.get(19)?.parse().ok()?,
    ))
}

fn this_boot() -> Option<String> {
    Some(
        std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .ok()?
            .trim()
            .to_string(),
    )
}

fn this_host() -> Option<String> {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let host = host.trim().replace(char::is_whitespace, "_");
    (!host.is_empty()).then_some(host)
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

    #[tokio::test]
    async fn a_gated_hook_starts_only_when_released_and_is_identified() {
        let dir = tempfile::tempdir().unwrap();
        let mut hook =
            GatedHook::spawn(dir.path(), "echo \"$STRATA_STAGE\" > out", "t", "deploy").unwrap();
        let process = hook.process().expect("Linux identifies processes");
        assert!(process.alive());
        assert_eq!(
            ProcessId::parse(&process.to_string()),
            Some(process.clone())
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            !dir.path().join("out").exists(),
            "the hook ran before the gate opened"
        );
        hook.release().await.unwrap();
        hook.wait().await.unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("out")).unwrap(),
            "deploy\n"
        );
        assert!(!process.alive());
    }

    #[test]
    fn a_process_of_another_machine_is_not_watched() {
        let me = ProcessId::of(std::process::id()).expect("Linux identifies processes");
        assert!(me.alive());
        let elsewhere = ProcessId {
            host: format!("{}-other", me.host),
            ..me.clone()
        };
        assert!(!elsewhere.is_local() && !elsewhere.alive());
        let reused = ProcessId {
            start: me.start + 1,
            ..me
        };
        assert!(
            reused.is_local() && !reused.alive(),
            "a reused pid is not the process"
        );
    }

    #[tokio::test]
    async fn a_hook_whose_gate_closes_never_runs() {
        let dir = tempfile::tempdir().unwrap();
        let hook = GatedHook::spawn(dir.path(), "echo ran > out", "t", "deploy").unwrap();
        let GatedHook { child, gate, .. } = hook;
        drop(gate);
        let status = child.wait_with_output().await.unwrap().status;
        assert_eq!(status.code(), Some(97));
        assert!(!dir.path().join("out").exists());
    }
}
