//! Command-line definitions (clap). `main.rs` parses, `app` does the work.

use crate::report::Format;
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
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the resolved manifest (pipeline.toml with every default filled in).
    Config,
    /// Manage the embedded PostgreSQL cluster under .strata/.
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum DbAction {
    /// Create (if needed) and start the cluster; harmless when it already runs.
    Start,
    /// Stop the cluster.
    Stop,
    /// Say whether the cluster runs, and where.
    Status,
    /// Print the URL of the embedded development database.
    Url,
}

/// Which database a command works on.
#[derive(Debug, Clone, Args, Default)]
pub struct TargetArgs {
    /// Target name from pipeline.toml (default: the manifest's default target).
    #[arg(long)]
    pub target: Option<String>,
    /// Database URL; takes the place of the target's URL.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}
