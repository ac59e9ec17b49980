//! Command-line definitions (clap). `main.rs` parses, `app` does the work.

use crate::report::OutputFormat;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "strata",
    version,
    about = "Declarative PostgreSQL schema + numbered data migrations, planned by simulation and run as expand/contract"
)]
pub struct Cli {
    /// Project directory (holding pipeline.toml).
    #[arg(short = 'C', long = "project", global = true, default_value = ".")]
    pub project: PathBuf,
    /// Output format (`github` and `sarif` are for `strata lint`; other commands print text).
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the resolved manifest (pipeline.toml with every default filled in).
    Config,
    /// Lint migration files and pending.sql (default: all of them); exit 1 on an error-level finding.
    Lint {
        /// Files to lint (default: every migration and pending.sql if present).
        files: Vec<PathBuf>,
    },
    /// Print the DDL that turns one schema into another (read-only; destructive statements included).
    Diff(DiffArgs),
    /// Manage the embedded PostgreSQL cluster under .strata/.
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
    /// Plan the change: simulate the pipeline on a shadow database, write pending.sql on a new branch.
    Plan(PlanArgs),
    /// Execute the merged pending.sql on the target (production CI, after merge).
    Run(RunArgs),
    /// Plan again and fail when pending.sql is stale; print a markdown summary.
    Check {
        #[command(flatten)]
        target: TargetArgs,
        /// Accept a desired schema that is empty (no file matches `[schema] files`, or they declare nothing).
        #[arg(long)]
        allow_empty_schema: bool,
    },
    /// List objects changed outside strata since the last run; exit 1 when any.
    Drift {
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Target, last run, drift, pending migrations, and whether pending.sql is current.
    Status {
        #[command(flatten)]
        target: TargetArgs,
        /// Every member of this `[groups.NAME]`: where each stands with the fleet's plans.
        #[arg(long)]
        group: Option<String>,
    },
    /// List the members of a group (or every group) with fingerprint and pending state.
    Targets(TargetsArgs),
    /// Development: plan and run at once against the (by default embedded) database, no git.
    Apply(ApplyArgs),
    /// Scaffold pipeline.toml, schema/ and migrations/ here, empty or from an existing database.
    Init {
        /// Dump this database's schema into schema/ as the baseline.
        #[arg(long)]
        from_database: Option<String>,
    },
    /// Numbered data migrations (migrations/NNNN_name.sql): create, list, apply, repair.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Write the target's schema as SDL (plain DDL, loadable by psql in file-name order).
    Dump {
        /// Directory to write the files to (default: print to stdout).
        #[arg(long)]
        out: Option<PathBuf>,
        /// One file, one file per run of a schema's objects, or one file per object.
        #[arg(long, value_enum, default_value_t = crate::ddl::Split::Single)]
        split: crate::ddl::Split,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Print the fingerprint (sha256 of the canonical schema model) of the target's schema.
    Fingerprint {
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Print a shell completion script (e.g. `strata completions bash > /etc/bash_completion.d/strata`).
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print the man page, strata(1), as roff (e.g. `strata man > /usr/local/share/man/man1/strata.1`).
    Man,
}

/// Shells `strata completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Subcommand)]
pub enum DbAction {
    /// Create (if needed) and start the cluster; harmless when it already runs.
    Start,
    /// Stop the cluster.
    Stop,
    /// Say whether the cluster runs, and where.
    Status {
        /// Every project's embedded cluster of this user, with its project.
        #[arg(long)]
        all: bool,
    },
    /// Print the URL of the embedded development database.
    Url,
    /// Internal: stop the cluster in the project directory (-C) once it is idle; started by
    /// the command that started the cluster implicitly.
    #[command(name = "_idle-watch", hide = true)]
    IdleWatch {
        /// The cluster's directory.
        #[arg(long)]
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Create the next numbered migration file: migrations/NNNN_NAME.sql.
    New {
        /// snake_case name, e.g. backfill_full_name.
        name: String,
    },
    /// List applied and pending migrations with their checksums.
    Status {
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Apply the pending migrations, in order, under the advisory lock.
    Up {
        /// Stop after this migration number.
        #[arg(long)]
        to: Option<u32>,
        /// Seconds to wait for another strata run holding the target's lock.
        #[arg(long, default_value_t = 600)]
        lock_wait: u64,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Accept the edited file of an applied migration (recorded with the reason).
    Repair {
        /// The migration number.
        id: u32,
        /// Why the edit is safe (stored in strata.migration_repairs).
        #[arg(long)]
        reason: String,
        /// Seconds to wait for another strata run holding the target's lock.
        #[arg(long, default_value_t = 600)]
        lock_wait: u64,
        #[command(flatten)]
        target: TargetArgs,
    },
}

/// `strata diff`: each side is a postgres URL, or a file or directory of SDL.
#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// The schema to start from: a postgres:// URL, or an SDL file or directory
    /// (default: the target database).
    #[arg(long)]
    pub from: Option<String>,
    /// The schema to arrive at: a postgres:// URL, or an SDL file or directory
    /// (default: the manifest's schema files).
    #[arg(long)]
    pub to: Option<String>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Accept a desired schema that is empty (no file matches `[schema] files`, or they declare nothing).
    #[arg(long)]
    pub allow_empty_schema: bool,
}

/// Which database a command works on.
#[derive(Debug, Clone, Args, Default)]
pub struct TargetArgs {
    /// Target name from pipeline.toml (default: the manifest's default target).
    #[arg(long)]
    pub target: Option<String>,
    /// Database URL; takes the place of the target's URL. The DATABASE_URL environment
    /// variable is used only when no --target is given (docs/manifest.md, "Which database").
    #[arg(long)]
    pub database_url: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Push the plan branch to the configured remote.
    #[arg(long)]
    pub push: bool,
    /// Push with GitLab merge-request options (implies --push).
    #[arg(long)]
    pub merge_request: bool,
    /// Only write pending.sql; no branch, no commit.
    #[arg(long, conflicts_with_all = ["push", "merge_request"])]
    pub no_git: bool,
    /// Accept a desired schema that is empty (no file matches `[schema] files`, or they declare nothing).
    #[arg(long)]
    pub allow_empty_schema: bool,
    /// Replace a pending.sql that some targets of `[rollout] targets` ran and others did not.
    #[arg(long)]
    pub supersede: bool,
    /// Plan for every member of this `[groups.NAME]`: one plan per distinct schema, in
    /// pending/NAME/ (docs/fleet.md).
    #[arg(long, conflicts_with_all = ["supersede"])]
    pub group: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Allow statements that can lose data (drops, narrowing).
    #[arg(long)]
    pub allow_destructive: bool,
    /// Remove pending.sql in a git commit after the run.
    #[arg(long)]
    pub git_commit: bool,
    /// Push that commit (implies --git-commit).
    #[arg(long)]
    pub push: bool,
    /// Skip the rehearsal on a shadow copy of the target.
    #[arg(long)]
    pub no_rehearsal: bool,
    /// Seconds to wait for another strata run holding the target's lock (and for the
    /// deploy hook of an interrupted run that still runs).
    #[arg(long, default_value_t = 600)]
    pub lock_wait: u64,
    /// The deploy hook of an interrupted run completed: record it done, do not run it again.
    #[arg(long, conflicts_with = "rerun_hook")]
    pub hook_done: bool,
    /// Run the deploy hook of an interrupted run again, even when strata cannot tell whether
    /// the first one ended (it ran on another machine).
    #[arg(long)]
    pub rerun_hook: bool,
    #[command(flatten)]
    pub fleet: FleetRunArgs,
}

/// `strata run --group`: the fleet rollout (docs/fleet.md).
#[derive(Debug, Clone, Args, Default)]
pub struct FleetRunArgs {
    /// Run the plans of pending/NAME/ on every member of `[groups.NAME]`: canaries, then the
    /// rest `parallel` at a time.
    #[arg(long)]
    pub group: Option<String>,
    /// Only this slice of the members (I of N, from 0), after the canaries passed: for CI
    /// matrices and Kubernetes Indexed Jobs.
    #[arg(long, requires = "group", value_name = "I/N")]
    pub shard: Option<String>,
    /// Run the canaries (and the group's check) only.
    #[arg(long, requires = "group", conflicts_with = "shard")]
    pub canaries_only: bool,
    /// Run each member's stages up to the first hook stage only (expand everywhere).
    #[arg(long, requires = "group", conflicts_with = "after_hook")]
    pub before_hook: bool,
    /// Run each member's stages after the hook (contract everywhere); the hook is taken as
    /// done by the deploy in between.
    #[arg(long, requires = "group")]
    pub after_hook: bool,
}

#[derive(Debug, Clone, Args)]
pub struct TargetsArgs {
    /// The group whose members to list (default: every group).
    #[arg(long)]
    pub group: Option<String>,
    /// Shards in the matrix of `--format github-matrix|gitlab` (default 4).
    #[arg(long)]
    pub shards: Option<usize>,
}

#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Accept a desired schema that is empty (no file matches `[schema] files`, or they declare nothing).
    #[arg(long)]
    pub allow_empty_schema: bool,
    /// Allow statements that can lose data (drops, narrowing).
    #[arg(long)]
    pub allow_destructive: bool,
    /// Seconds to wait for another strata run holding the target's lock.
    #[arg(long, default_value_t = 600)]
    pub lock_wait: u64,
}
