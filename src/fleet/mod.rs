//! Fleets: one change rolled out to many databases (`[groups.NAME]`, docs/fleet.md).
//!
//! The pure part: which members are canaries, which belong to a shard, how a rollout stands
//! (counts, budget, rate, ETA), and how the results read (`report`). The IO (resolving
//! members, reading them, running them) is `app::fleet`'s.

pub mod report;

use miette::Diagnostic;
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum FleetError {
    #[error("unknown group `{name}`; the manifest declares: {known}")]
    #[diagnostic(
        code(strata::fleet::unknown_group),
        help("declare it as [groups.{name}] in pipeline.toml (docs/fleet.md)")
    )]
    UnknownGroup { name: String, known: String },
    #[error("`--shard {given}` is not I/N with 0 <= I < N")]
    #[diagnostic(
        code(strata::fleet::shard),
        help("e.g. --shard 0/4 ... --shard 3/4 (Kubernetes: --shard $JOB_COMPLETION_INDEX/N)")
    )]
    BadShard { given: String },
    #[error("cannot read the members of group `{group}` from {file}: {message}")]
    #[diagnostic(code(strata::fleet::urls_file))]
    UrlsFile {
        group: String,
        file: String,
        message: String,
    },
    #[error("{file}:{line}: not a database URL ({message})")]
    #[diagnostic(
        code(strata::fleet::bad_url),
        help("one postgres:// URL (or key=value conninfo) a line; # starts a comment")
    )]
    BadUrl {
        file: String,
        line: usize,
        message: String,
    },
    #[error("the discovery query of group `{group}` failed: {message}")]
    #[diagnostic(
        code(strata::fleet::discover),
        help("it must return the member's URL (text) in its first column, and may return a name in its second")
    )]
    Discover { group: String, message: String },
    #[error("group `{group}`: two members are named `{name}`")]
    #[diagnostic(
        code(strata::fleet::duplicate_member),
        help("members are named after their database; have the discovery query return a distinct name in a second column")
    )]
    DuplicateMember { group: String, name: String },
    #[error("group `{group}` has no plan: pending/{group}/ holds no .sql file")]
    #[diagnostic(
        code(strata::fleet::no_plan),
        help("run `strata plan --group {group}` (and merge it) first")
    )]
    NoPlan { group: String },
    #[error("the canaries of group `{group}` have not passed: {missing}")]
    #[diagnostic(
        code(strata::fleet::canaries),
        help("run `strata run --group {group} --canaries-only` first (a CI job the shards depend on)")
    )]
    CanariesPending { group: String, missing: String },
}

impl FleetError {
    pub fn exit_code(&self) -> u8 {
        match self {
            FleetError::Discover { .. } => 2,
            _ => 1,
        }
    }
}

/// `--shard I/N`: slice I (from 0) of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub fn parse(text: &str) -> Result<Shard, FleetError> {
        let bad = || FleetError::BadShard {
            given: text.to_string(),
        };
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether the member at `position` (in name order, canaries left out) is this shard's:
    /// round robin, so every shard gets members from the whole range and the N shards
    /// together cover each member exactly once.
    pub fn holds(&self, position: usize) -> bool {
        position % self.count == self.index
    }
}

/// The canaries (the first `canary` members in name order) and the rest, in name order.
pub fn split_canaries<T: AsRef<str>>(mut names: Vec<T>, canary: usize) -> (Vec<T>, Vec<T>) {
    names.sort_by(|a, b| a.as_ref().cmp(b.as_ref()));
    let rest = names.split_off(canary.min(names.len()));
    (names, rest)
}

/// The members of the rollout after the canaries: all of them, or the shard's slice.
pub fn slice<T>(rest: Vec<T>, shard: Option<Shard>) -> Vec<T> {
    match shard {
        None => rest,
        Some(shard) => rest
            .into_iter()
            .enumerate()
            .filter(|(i, _)| shard.holds(*i))
            .map(|(_, m)| m)
            .collect(),
    }
}

/// What happened to one member in a fleet run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "result", content = "detail")]
pub enum MemberResult {
    /// Its plan ran in this run.
    Done,
    /// Resumed: an earlier run of its plan was interrupted, this one finished it.
    Resumed,
    /// Its history says the plan already ran.
    AlreadyDone,
    /// Done with the part asked for (`--before-hook`): the rest of its plan is still to run.
    #[serde(rename = "up_to_the_hook")]
    Partial,
    /// Its schema is already the desired one.
    UpToDate,
    /// Left out, and why (drifted: no plan starts from its schema).
    Skipped(String),
    Failed(String),
    /// Not started: the rollout stopped first (failure budget spent, a canary failed).
    NotStarted,
}

impl MemberResult {
    pub fn is_failure(&self) -> bool {
        matches!(self, MemberResult::Failed(_))
    }

    /// Finished with its plan: nothing left to do on it.
    pub fn is_done(&self) -> bool {
        matches!(
            self,
            MemberResult::Done
                | MemberResult::Resumed
                | MemberResult::AlreadyDone
                | MemberResult::UpToDate
        )
    }

    pub fn word(&self) -> &'static str {
        match self {
            MemberResult::Done => "done",
            MemberResult::Resumed => "resumed",
            MemberResult::AlreadyDone => "already done",
            MemberResult::Partial => "up to the hook",
            MemberResult::UpToDate => "up to date",
            MemberResult::Skipped(_) => "skipped",
            MemberResult::Failed(_) => "failed",
            MemberResult::NotStarted => "not started",
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            MemberResult::Skipped(why) | MemberResult::Failed(why) => why,
            _ => "",
        }
    }
}

/// One member's line of the summary.
#[derive(Debug, Clone, Serialize)]
pub struct MemberReport {
    pub name: String,
    #[serde(flatten)]
    pub result: MemberResult,
    pub canary: bool,
    pub seconds: f64,
}

/// Where a rollout stands while it runs: for the progress line and the budget.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub total: usize,
    pub finished: usize,
    pub failed: usize,
    pub running: usize,
}

impl Tally {
    /// Members finished per second, and the time the rest would take at that rate.
    pub fn rate_and_eta(&self, elapsed: Duration) -> (f64, Option<Duration>) {
        let secs = elapsed.as_secs_f64();
        if self.finished == 0 || secs <= 0.0 {
            return (0.0, None);
        }
        let rate = self.finished as f64 / secs;
        let left = self.total.saturating_sub(self.finished) as f64;
        (rate, Some(Duration::from_secs_f64(left / rate)))
    }

    /// Whether the failures spent the budget: no new member starts.
    pub fn over_budget(&self, budget: usize) -> bool {
        self.failed > budget
    }
}

/// Runs `jobs` at most `limit` at a time, in order of start, handing each result to `done`
/// as it ends; `go_on` is asked before each start (false: the rest are not started and are
/// returned). All futures are polled on the caller's task (no `'static` bound: they may
/// borrow the command's context).
pub async fn run_bounded<'a, J, T>(
    jobs: Vec<J>,
    limit: usize,
    start: impl Fn(J) -> Pin<Box<dyn Future<Output = T> + 'a>>,
    mut done: impl FnMut(T, usize),
    go_on: impl Fn() -> bool,
) -> Vec<J> {
    let mut queue = jobs.into_iter();
    let mut running: Vec<Pin<Box<dyn Future<Output = T> + 'a>>> = Vec::new();
    let mut stopped = false;
    loop {
        while !stopped && running.len() < limit.max(1) {
            if !go_on() {
                stopped = true;
                break;
            }
            match queue.next() {
                Some(job) => running.push(start(job)),
                None => break,
            }
        }
        if running.is_empty() {
            break;
        }
        let result = std::future::poll_fn(|cx| {
            for i in 0..running.len() {
                if let std::task::Poll::Ready(value) = running[i].as_mut().poll(cx) {
                    drop(running.swap_remove(i));
                    return std::task::Poll::Ready(value);
                }
            }
            std::task::Poll::Pending
        })
        .await;
        done(result, running.len());
    }
    queue.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_member_exactly_once() {
        let members: Vec<String> = (0..103).map(|i| format!("tenant_{i:03}")).collect();
        let (canaries, rest) = split_canaries(members.clone(), 2);
        assert_eq!(canaries, ["tenant_000", "tenant_001"]);
        let mut seen: Vec<String> = canaries.clone();
        for index in 0..4 {
            let shard = Shard { index, count: 4 };
            let part = slice(rest.clone(), Some(shard));
            assert!((25..=26).contains(&part.len()), "{}", part.len());
            seen.extend(part);
        }
        seen.sort();
        assert_eq!(seen, members);
    }

    #[test]
    fn shard_syntax() {
        assert_eq!(Shard::parse("2/4").unwrap(), Shard { index: 2, count: 4 });
        for bad in ["4/4", "1", "a/b", "0/0", "-1/3"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rate_eta_and_budget() {
        let tally = Tally {
            total: 100,
            finished: 20,
            failed: 1,
            running: 4,
        };
        let (rate, eta) = tally.rate_and_eta(Duration::from_secs(10));
        assert_eq!(rate, 2.0);
        assert_eq!(eta, Some(Duration::from_secs(40)));
        assert!(!tally.over_budget(1));
        assert!(tally.over_budget(0));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn bounded_runs_at_most_the_limit_and_stops_when_told() {
        use std::cell::Cell;
        let now = Cell::new(0usize);
        let peak = Cell::new(0usize);
        let ended = Cell::new(0usize);
        let left = run_bounded(
            (0..10).collect(),
            3,
            |i: usize| {
                let (now, peak) = (&now, &peak);
                Box::pin(async move {
                    now.set(now.get() + 1);
                    peak.set(peak.get().max(now.get()));
                    tokio::task::yield_now().await;
                    now.set(now.get() - 1);
                    i
                })
            },
            |_, _| ended.set(ended.get() + 1),
            || ended.get() < 5,
        )
        .await;
        assert_eq!(peak.get(), 3);
        assert!(ended.get() >= 5 && ended.get() <= 7, "{}", ended.get());
        assert_eq!(left.len() + ended.get(), 10);
    }
}
