use clap::{CommandFactory, FromArgMatches};
use std::process::ExitCode;

// Introspection builds hundreds of thousands of small strings on worker threads, where glibc's
// per-thread arenas grow a page range at a time (an mprotect per step): mimalloc halves the
// client's share of a 1,000-table diff (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let matches = match strata::cli::Cli::command().try_get_matches() {
        Ok(matches) => matches,
        Err(error) => return usage_error(error),
    };
    let cli = match strata::cli::Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    let reporter = strata::report::Reporter::stdio(cli.format).for_command(command_name(&matches));
    match strata::app::main(cli, &reporter) {
        Ok(outcome) => {
            reporter.finish_json(outcome.exit_code());
            ExitCode::from(outcome.exit_code())
        }
        Err(error) => {
            let code = error.exit_code();
            reporter.error_json(&error, code);
            reporter.note(&format!("{:?}", miette::Report::new(error)));
            ExitCode::from(code)
        }
    }
}

/// `--help` and `--version` end well; a command line strata cannot read is bad input, exit 1
/// (docs/output.md), not clap's 2.
fn usage_error(error: clap::Error) -> ExitCode {
    let _ = error.print();
    ExitCode::from(if error.use_stderr() { 1 } else { 0 })
}

/// The subcommand path, `migrate up`.
fn command_name(matches: &clap::ArgMatches) -> String {
    let mut names = Vec::new();
    let mut current = matches;
    while let Some((name, sub)) = current.subcommand() {
        names.push(name);
        current = sub;
    }
    names.join(" ")
}
