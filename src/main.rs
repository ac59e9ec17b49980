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
    let result = strata::app::main(cli, &reporter);
    strata::timings::print();
    match result {
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
/// (docs/output.md), not clap's 2. Under `--format json` it is also the error object on stdout
/// (`strata::usage`); clap's text stays on stderr for the person.
fn usage_error(error: clap::Error) -> ExitCode {
    let _ = error.print();
    if !error.use_stderr() {
        return ExitCode::from(0);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if wants_json(&args) {
        let reporter = strata::report::Reporter::stdio(strata::report::Format::Json)
            .for_command(command_words(&args));
        reporter.json(&serde_json::json!({ "error": usage_json(&error) }));
    }
    ExitCode::from(1)
}

/// Whether the command line asks for `--format json` (read by hand: clap could not parse it).
fn wants_json(args: &[String]) -> bool {
    let before_dashes = args.iter().take_while(|a| *a != "--");
    let mut previous_was_format = false;
    for arg in before_dashes {
        if arg == "--format=json" || (previous_was_format && arg == "json") {
            return true;
        }
        previous_was_format = arg == "--format";
    }
    false
}

/// The subcommand words of a command line clap refused (`migrate up`), as far as they are known.
fn command_words(args: &[String]) -> String {
    let mut command = strata::cli::Cli::command();
    let mut words = Vec::new();
    let mut skip_value = false;
    for arg in args {
        if std::mem::take(&mut skip_value) || arg.starts_with('-') {
            skip_value = matches!(arg.as_str(), "--format" | "-C" | "--project");
            continue;
        }
        match command.find_subcommand(arg) {
            Some(sub) => {
                words.push(sub.get_name().to_string());
                command = sub.clone();
            }
            None => break,
        }
    }
    words.join(" ")
}

/// clap's error as docs/output.md's error object: its first line the message, the rest (a
/// tip, the usage line) the help.
fn usage_json(error: &clap::Error) -> strata::report::error_json::ErrorJson {
    let text = error.to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let message = lines.next().unwrap_or_default();
    let help: Vec<&str> = lines.collect();
    strata::report::error_json::ErrorJson {
        code: "strata::usage".to_string(),
        message: message
            .strip_prefix("error: ")
            .unwrap_or(message)
            .to_string(),
        help: (!help.is_empty()).then(|| help.join("\n")),
        location: None,
        causes: Vec::new(),
        exit_code: 1,
    }
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
