//! One function per command: the only place that sequences IO.

mod completions;
mod db;
mod diff;
pub mod error;
mod fleet;
mod init;
mod introspect;
mod lint;
mod migrate;
mod pipeline;
mod target;

pub(crate) use target::quiet_target_conninfo;
pub use target::{resolve_shadow, resolve_target, ResolvedTarget};

use crate::cli::{Cli, Command};
use crate::config::Config;
use crate::report::{Format, OutputFormat, Reporter};
use crate::{Error, Result};
use std::path::PathBuf;

/// How a command that did its job ended: 0 fine, 1 findings that block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Fine,
    Findings,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Fine => 0,
            Outcome::Findings => 1,
        }
    }
}

/// What every command gets: the project, its manifest and the reporter.
pub struct Context<'a> {
    pub root: PathBuf,
    pub config: Config,
    pub reporter: &'a Reporter,
}

pub fn main(cli: Cli, reporter: &Reporter) -> Result<Outcome> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let result = tokio::select! {
            result = dispatch(cli, reporter) => result,
            _ = interrupted() => Err(Error::Interrupted),
        };
        crate::pg::shadow::cleanup_all().await;
        result
    })
}

/// SIGINT (Ctrl-C) or SIGTERM (a CI job cancelled, a container stopped): the command stops
/// where it is and its shadow databases are dropped.
async fn interrupted() {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

async fn dispatch(cli: Cli, reporter: &Reporter) -> Result<Outcome> {
    check_format(&cli.command, cli.format, reporter.command())?;
    // These describe the binary, not a project: no manifest is read.
    match cli.command {
        Command::Completions { shell } => {
            return completions::completions(shell).map(|()| Outcome::Fine)
        }
        Command::Man => return completions::man().map(|()| Outcome::Fine),
        _ => {}
    }
    let root = cli.project.clone();
    let format = cli.format;
    let config = Config::load(&root, crate::lint::rule_id)?;
    crate::config::set_history_schema(&config.history.schema);
    let ctx = Context {
        root,
        config,
        reporter,
    };
    match cli.command {
        Command::Config => show_config(&ctx),
        Command::Lint { files } => lint::run(&ctx, &files, format),
        Command::Diff(args) => diff::run(&ctx, &args).await,
        Command::Db { action } => db::run(&ctx, action).await,
        Command::Migrate { action } => migrate::run(&ctx, action).await,
        Command::Dump { out, split, target } => {
            introspect::dump(&ctx, &target, out.as_deref(), split).await
        }
        Command::Fingerprint { target } => introspect::fingerprint(&ctx, &target).await,
        Command::Plan(args) if args.group.is_some() => fleet::plan(&ctx, &args).await,
        Command::Plan(args) => pipeline::plan(&ctx, &args).await,
        Command::Run(args) => pipeline::run(&ctx, &args, format).await,
        Command::Check {
            target,
            allow_empty_schema,
        } => pipeline::check(&ctx, &target, allow_empty_schema).await,
        Command::Drift { target } => pipeline::drift(&ctx, &target).await,
        Command::Status {
            group: Some(group), ..
        } => fleet::status(&ctx, &group).await,
        Command::Status { target, .. } => pipeline::status(&ctx, &target).await,
        Command::Targets(args) => fleet::targets(&ctx, &args, format).await,
        Command::Apply(args) => pipeline::apply(&ctx, &args).await,
        Command::Init { from_database } => init::init(&ctx, from_database.as_deref()).await,
        Command::Completions { .. } | Command::Man => unreachable!("handled above"),
    }
}

/// Every command prints text and JSON, but for the scripts `completions` and `man` print
/// (text only); `github` and `sarif` are `lint`'s. Anything else is refused before any work.
fn check_format(command: &Command, format: OutputFormat, name_of_command: &str) -> Result<()> {
    let supported: &[OutputFormat] = match command {
        Command::Completions { .. } | Command::Man => &[OutputFormat::Text],
        Command::Lint { .. } => &[
            OutputFormat::Text,
            OutputFormat::Json,
            OutputFormat::Github,
            OutputFormat::Sarif,
        ],
        Command::Targets(_) => &[
            OutputFormat::Text,
            OutputFormat::Json,
            OutputFormat::GithubMatrix,
            OutputFormat::Gitlab,
        ],
        Command::Run(args) if args.fleet.group.is_some() => &[
            OutputFormat::Text,
            OutputFormat::Json,
            OutputFormat::Markdown,
        ],
        _ => &[OutputFormat::Text, OutputFormat::Json],
    };
    if supported.contains(&format) {
        return Ok(());
    }
    let name = |f: &OutputFormat| {
        use clap::ValueEnum;
        f.to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    };
    Err(Error::FormatRefused {
        command: name_of_command.to_string(),
        format: name(&format),
        supported: supported.iter().map(name).collect::<Vec<_>>().join(", "),
    })
}

fn show_config(ctx: &Context) -> Result<Outcome> {
    match ctx.reporter.format {
        Format::Json => ctx.reporter.json(&ctx.config.to_json()),
        Format::Text => ctx.reporter.result(&ctx.config.to_toml()),
    }
    Ok(Outcome::Fine)
}
