use clap::Parser;
use std::process::ExitCode;

// Introspection builds hundreds of thousands of small strings on worker threads, where glibc's
// per-thread arenas grow a page range at a time (an mprotect per step): mimalloc halves the
// client's share of a 1,000-table diff (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
