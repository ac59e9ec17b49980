//! `STRATA_TIMINGS=1`: where a command's time goes, per phase and object kind, printed to
//! stderr when the command ends (docs/benchmarks.md, "Where the time goes"). Off, recording is
//! one relaxed check; nothing is printed and normal output never changes.
//!
//! Phases: `load` (the shadow load, per statement kind; sent one statement per round trip
//! while timing, so each has its own time), `read` (the catalog queries, per query: on one
//! connection they are pipelined, so each one's time is from the previous one's last row to
//! its own), `build` (rows into the model) and `diff` (per object kind, then ordering).
//! Times of work done at once on several connections are summed.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Whether `STRATA_TIMINGS` is set (to anything but `0` or nothing).
pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("STRATA_TIMINGS").is_ok_and(|v| !v.is_empty() && v != "0"))
}

/// phase → kind → (time, how many).
type Times = BTreeMap<&'static str, BTreeMap<String, (Duration, u64)>>;

static TIMES: Mutex<Times> = Mutex::new(BTreeMap::new());

/// Adds `took` to `phase`/`kind`.
pub fn record(phase: &'static str, kind: &str, took: Duration) {
    if !enabled() {
        return;
    }
    let mut times = TIMES.lock().unwrap_or_else(|e| e.into_inner());
    let entry = times
        .entry(phase)
        .or_default()
        .entry(kind.to_string())
        .or_default();
    entry.0 += took;
    entry.1 += 1;
}

/// Runs `f`, recording its time under `phase`/`kind`.
pub fn time<T>(phase: &'static str, kind: &str, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let start = Instant::now();
    let out = f();
    record(phase, kind, start.elapsed());
    out
}

/// The object kind a loaded statement makes or changes, from its parse tree's root node.
pub fn statement_kind(node: &str) -> &str {
    match node {
        "CreateStmt" => "table",
        "AlterTableStmt" => "alter table (constraints, defaults, ...)",
        "IndexStmt" => "index",
        "ViewStmt" | "CreateTableAsStmt" => "view",
        "CreateFunctionStmt" => "function",
        "CreateTrigStmt" => "trigger",
        "CreatePolicyStmt" => "policy",
        "CreateStatsStmt" | "AlterStatsStmt" => "statistics object",
        "CommentStmt" => "comment",
        "CreateSeqStmt" | "AlterSeqStmt" => "sequence",
        "CreateEnumStmt" | "AlterEnumStmt" | "CompositeTypeStmt" | "CreateDomainStmt"
        | "CreateRangeStmt" => "type",
        "CreateSchemaStmt" => "schema",
        "CreateExtensionStmt" => "extension",
        "GrantStmt" | "AlterDefaultPrivilegesStmt" => "privilege",
        other => other,
    }
}

/// The table of what was recorded, per phase, kinds by time (longest first).
pub fn report() -> String {
    let times = TIMES.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = String::from(
        "strata timings (STRATA_TIMINGS): phase / kind: seconds, count, share of phase\n",
    );
    // In the order a command goes through them.
    let rank = |phase: &str| {
        ["load", "read", "build", "diff"]
            .iter()
            .position(|p| *p == phase)
    };
    let mut phases: Vec<_> = times.iter().collect();
    phases.sort_by_key(|(phase, _)| (rank(phase).unwrap_or(usize::MAX), **phase));
    for (phase, kinds) in phases {
        let total: Duration = kinds.values().map(|(d, _)| *d).sum();
        out.push_str(&format!("{phase}: {:.3} s\n", total.as_secs_f64()));
        let mut sorted: Vec<_> = kinds.iter().collect();
        sorted.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
        for (kind, (took, count)) in sorted {
            let share = if total.is_zero() {
                0.0
            } else {
                100.0 * took.as_secs_f64() / total.as_secs_f64()
            };
            out.push_str(&format!(
                "  {kind}: {:.3} s, {count}, {share:.1}%\n",
                took.as_secs_f64()
            ));
        }
    }
    out
}

/// Prints [`report`] to stderr when timings are on and something was recorded.
pub fn print() {
    if enabled() && !TIMES.lock().unwrap_or_else(|e| e.into_inner()).is_empty() {
        eprint!("{}", report());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_named_by_the_kind_they_make() {
        assert_eq!(statement_kind("CreateStmt"), "table");
        assert_eq!(statement_kind("IndexStmt"), "index");
        assert_eq!(statement_kind("DoStmt"), "DoStmt");
    }
}
