use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = strata::cli::Cli::parse();
    let reporter = strata::report::Reporter::stdio(cli.format);
    match strata::app::main(cli, &reporter) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(error) => {
            let code = error.exit_code();
            reporter.note(&format!("{:?}", miette::Report::new(error)));
            ExitCode::from(code)
        }
    }
}
