//! The error every command returns, and the one place errors become exit codes. Each layer
//! keeps its own typed error; one that wraps a lower layer's error (a plan's database error,
//! a load's SQL error) is flattened here into that layer's variant, so the message and the
//! exit code do not depend on which layer passed it up.

use crate::catalog::CatalogError;
use crate::git::GitError;
use crate::run::migrations::MigrateError;
use crate::run::refused::RunRefused;
use miette::Diagnostic;

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum Error {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Pg(#[from] crate::pg::PgError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Source(#[from] crate::source::SourceError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Git(#[from] crate::git::GitError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Run(crate::run::pipeline::RunError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Migration(#[from] crate::source::migration::MigrationError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Migrate(#[from] crate::run::migrations::MigrateError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Diff(#[from] crate::diff::DiffError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Dump(#[from] crate::ddl::CycleError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Refused(#[from] crate::run::refused::RunRefused),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Plan(crate::plan::simulate::PlanError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Fleet(#[from] crate::fleet::FleetError),
    #[error("`strata {command}` does not print --format {format}")]
    #[diagnostic(
        code(strata::format_refused),
        help("it prints {supported} (docs/output.md)")
    )]
    FormatRefused {
        command: String,
        format: String,
        supported: String,
    },
    #[error("interrupted")]
    #[diagnostic(code(strata::interrupted))]
    Interrupted,
}

impl Error {
    /// 1 for bad input the user can fix (manifest, SQL, files), 2 when strata failed;
    /// 130 after Ctrl-C.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config(_) => 1,
            Error::Source(_) => 1,
            Error::Pg(crate::pg::PgError::BadIdleStop { .. }) => 1,
            Error::Pg(_) => 2,
            // a repository the user must set up first; else git failed
            Error::Git(
                GitError::NoRepository { .. } | GitError::Unborn | GitError::NotCommitted { .. },
            ) => 1,
            Error::Git(_) => 2,
            Error::Run(
                crate::run::pipeline::RunError::DestructiveNotAllowed { .. }
                | crate::run::pipeline::RunError::UnsafeStatement { .. },
            ) => 1,
            Error::Run(_) => 2,
            Error::Migration(_) => 1,
            // the user must fix the files or the command; else the database failed
            Error::Migrate(
                MigrateError::Changed { .. }
                | MigrateError::Missing { .. }
                | MigrateError::OutOfOrder { .. }
                | MigrateError::NotApplied { .. }
                | MigrateError::NoFile { .. }
                | MigrateError::NoReason,
            ) => 1,
            Error::Migrate(
                MigrateError::Failed { .. } | MigrateError::Refinery(_) | MigrateError::Pg(_),
            ) => 2,
            // a manifest that does not match the database; else reading failed
            Error::Catalog(CatalogError::MissingSchema { .. }) => 1,
            Error::Catalog(_) => 2,
            // A change strata cannot express: the user changes the schema files or writes a
            // migration.
            Error::Diff(_) => 1,
            // a database whose objects strata cannot order
            Error::Dump(_) => 2,
            // strata's own result is wrong; else the plan is stale (plan again)
            Error::Refused(RunRefused::RehearsalDiverged { .. } | RunRefused::Diverged { .. }) => 2,
            Error::Refused(_) => 1,
            Error::Plan(crate::plan::simulate::PlanError::MigrationFailed { .. }) => 1,
            Error::Plan(_) => 2,
            Error::Fleet(e) => e.exit_code(),
            // The contract: a format the command cannot produce is refused with 2.
            Error::FormatRefused { .. } => 2,
            Error::Interrupted => 130,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<crate::source::load::LoadError> for Error {
    fn from(e: crate::source::load::LoadError) -> Self {
        use crate::source::load::LoadError;
        match e {
            LoadError::Source(e) => e.into(),
            LoadError::Pg(e) => e.into(),
        }
    }
}

impl From<crate::plan::simulate::PlanError> for Error {
    fn from(e: crate::plan::simulate::PlanError) -> Self {
        use crate::plan::simulate::PlanError;
        match e {
            PlanError::Pg(e) => e.into(),
            PlanError::Catalog(e) => e.into(),
            PlanError::Diff(e) => e.into(),
            e => Error::Plan(e),
        }
    }
}

impl From<crate::run::pipeline::RunError> for Error {
    fn from(e: crate::run::pipeline::RunError) -> Self {
        use crate::run::pipeline::RunError;
        match e {
            RunError::Pg(e) => e.into(),
            e => Error::Run(e),
        }
    }
}
