//! The error every command returns; each module keeps its own typed error.

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
    Run(#[from] crate::run::pipeline::RunError),
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
    Refused(#[from] crate::run::refused::RunRefused),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Plan(#[from] crate::plan::simulate::PlanError),
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
            Error::Git(e) => e.exit_code(),
            Error::Run(
                crate::run::pipeline::RunError::DestructiveNotAllowed { .. }
                | crate::run::pipeline::RunError::UnsafeStatement { .. },
            ) => 1,
            Error::Run(_) => 2,
            Error::Migration(_) => 1,
            Error::Migrate(e) => e.exit_code(),
            Error::Catalog(e) => e.exit_code(),
            // A change strata cannot express: the user changes the schema files or writes a
            // migration.
            Error::Diff(_) => 1,
            Error::Refused(e) => e.exit_code(),
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
