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
    #[error("after the run the target's schema is {actual}, not the planned {planned}; the snapshot was not stored:\n  {}", differences.join("\n  "))]
    #[diagnostic(code(strata::run::diverged))]
    Diverged {
        planned: String,
        actual: String,
        /// The objects that differ: kind, name, attribute.
        differences: Vec<String>,
    },
}

impl RunRefused {
    /// 1 when the plan is stale (plan again), 2 when strata's own result is wrong.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunRefused::RehearsalDiverged { .. } | RunRefused::Diverged { .. } => 2,
            _ => 1,
        }
    }
}
