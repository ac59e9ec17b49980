//! Why `run` refuses a plan, or finds its result wrong.

use miette::Diagnostic;

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum RunRefused {
    #[error("the database changed since pending.sql was planned (its fingerprint is {actual}, the plan was made against {planned}):\n  {}", changes.join("\n  "))]
    #[diagnostic(
        code(strata::run::stale_plan),
        help("run `strata plan` again: the plan must be made against the database as it is")
    )]
    DatabaseChanged {
        planned: String,
        actual: String,
        changes: Vec<String>,
    },
    #[error("migration {file} changed since pending.sql was planned (planned checksum {planned}, file now {actual})")]
    #[diagnostic(
        code(strata::run::migration_changed),
        help("run `strata plan` again so the reviewed plan holds the migration as it is")
    )]
    MigrationChanged {
        file: String,
        planned: String,
        actual: String,
    },
    #[error("--git-commit on `{target}`, which is not in the rollout ([rollout] targets: {rollout}): only the run on its last target removes pending.sql")]
    #[diagnostic(
        code(strata::run::not_in_rollout),
        help("run without --git-commit/--push, or add `{target}` to [rollout] targets in pipeline.toml")
    )]
    NotInRollout { target: String, rollout: String },
    #[error("migration {file} is in pending.sql but not in the migrations directory")]
    #[diagnostic(code(strata::run::migration_missing))]
    MigrationMissing { file: String },
    #[error("the rehearsal on a shadow copy of the target did not reach the planned schema ({actual} instead of {planned}):\n  {}", differences.join("\n  "))]
    #[diagnostic(
        code(strata::run::rehearsal),
        help("run `strata plan` again; if it repeats, report it with pending.sql")
    )]
    RehearsalDiverged {
        planned: String,
        actual: String,
        /// The objects that differ: kind, name, attribute.
        differences: Vec<String>,
    },
    #[error("the database changed while the run of this plan was interrupted: its fingerprint is {actual}, the run left it at {expected}{}", if changes.is_empty() { String::new() } else { format!("; since the last snapshot (this plan's own steps included):\n  {}", changes.join("\n  ")) })]
    #[diagnostic(
        code(strata::run::changed_during_run),
        help("undo the change and run `strata run` again to finish the plan; or plan again from the database as it is (`strata plan`)")
    )]
    ChangedDuringRun {
        expected: String,
        actual: String,
        changes: Vec<String>,
    },
    #[error("{message}; pending.sql is another plan, which cannot run before that one finishes")]
    #[diagnostic(
        code(strata::run::other_run_in_progress),
        help("run that plan's pending.sql (git history has it) with `strata run` to finish it, then plan again")
    )]
    OtherRunInProgress { message: String },
    #[error("the deploy hook started by an interrupted run still runs (pid {pid}) after {waited_secs} s: a second one is not started beside it")]
    #[diagnostic(
        code(strata::run::hook_running),
        help("let it end (or stop it), then run `strata run` again; add --hook-done if the deploy it ran completed")
    )]
    HookStillRunning { pid: u32, waited_secs: u64 },
    #[error("the deploy hook of an interrupted run was started by {process}, which strata cannot watch from here: it may still run, and whether it completed is unknown")]
    #[diagnostic(
        code(strata::run::hook_interrupted),
        help("once it has ended, run `strata run --hook-done` if the deploy completed, or `strata run --rerun-hook` to run the hook again (hooks must tolerate running more than once)")
    )]
    HookInterrupted { process: String },
    #[error("after the run the target's schema is {actual}, not the planned {planned}; the snapshot was not stored:\n  {}", differences.join("\n  "))]
    #[diagnostic(code(strata::run::diverged))]
    Diverged {
        planned: String,
        actual: String,
        /// The objects that differ: kind, name, attribute.
        differences: Vec<String>,
    },
}
