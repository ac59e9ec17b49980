//! `strata-bench-diff`: times the in-memory part of a diff (issue 4) — comparing two models,
//! ordering the changes and rendering the SQL — with no database involved.
//!
//! ```text
//! strata --format json dump --database-url URL_A > from.json   # the model, as snapshots store it
//! strata --format json dump --database-url URL_B > to.json
//! strata-bench-diff from.json to.json [--runs N]
//! ```
//!
//! Prints one JSON object: the two models' fingerprints (to check them against
//! `strata fingerprint` of the databases), the time to read the two files, the median over
//! `--runs` (default 3) of `diff::diff` (comparison and ordering) and of `diff::render`, the
//! number of changes and SQL bytes, and the peak resident set (`VmHWM`) after loading the two
//! models and at the end. Used by scripts/bench/bench.py.

use std::time::Instant;
use strata::model::Schema;

fn main() {
    if let Err(message) = run() {
        eprintln!("strata-bench-diff: {message}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut files = Vec::new();
    let mut runs = 3usize;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => {
                runs = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or("--runs takes a positive number")?;
            }
            "-h" | "--help" => {
                println!("usage: strata-bench-diff FROM.json TO.json [--runs N]");
                return Ok(());
            }
            _ => files.push(arg),
        }
    }
    let [from_path, to_path] = files.as_slice() else {
        return Err("usage: strata-bench-diff FROM.json TO.json [--runs N]".into());
    };
    let started = Instant::now();
    let from = read(from_path)?;
    let to = read(to_path)?;
    let load_seconds = started.elapsed().as_secs_f64();
    let rss_models_kb = peak_rss_kb();

    let mut diff_times = Vec::with_capacity(runs);
    let mut render_times = Vec::with_capacity(runs);
    let mut result = None;
    for _ in 0..runs {
        let t = Instant::now();
        let changes = strata::diff::diff(&from, &to).map_err(|e| format!("diff failed: {e}"))?;
        diff_times.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let sql = strata::diff::render(&changes);
        render_times.push(t.elapsed().as_secs_f64());
        result = Some((changes.len(), sql.len()));
    }
    let (changes, sql_bytes) = result.expect("at least one run");
    let out = serde_json::json!({
        "from_fingerprint": from.fingerprint().to_string(),
        "to_fingerprint": to.fingerprint().to_string(),
        "load_seconds": load_seconds,
        "runs": runs,
        "diff_seconds": median(&mut diff_times),
        "render_seconds": median(&mut render_times),
        "changes": changes,
        "sql_bytes": sql_bytes,
        "peak_rss_mb_models": rss_models_kb.map(|kb| kb as f64 / 1024.0),
        "peak_rss_mb": peak_rss_kb().map(|kb| kb as f64 / 1024.0),
    });
    println!("{out}");
    Ok(())
}

/// `strata --format json dump` wraps the model in the output envelope (docs/output.md):
/// `{"strata_output": 1, "command": "dump", "schema": {...}}`.
#[derive(serde::Deserialize)]
struct DumpOutput {
    schema: Schema,
}

fn read(path: &str) -> Result<Schema, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open {path}: {e}"))?;
    let output: DumpOutput = serde_json::from_reader(std::io::BufReader::new(file))
        .map_err(|e| format!("{path} is not a strata model (`strata --format json dump`): {e}"))?;
    Ok(output.schema)
}

fn median(times: &mut [f64]) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// The process's peak resident set so far, from /proc (Linux); None elsewhere.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
