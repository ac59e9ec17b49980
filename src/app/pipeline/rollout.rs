//! The rollout of one pending.sql across the targets of `[rollout] targets`, in order: which
//! of them ran it, read from each target's own run history (`strata.runs`, by plan id). `plan`
//! refuses to replace a pending.sql whose rollout is under way, `check` passes on a target
//! that already ran it, `status` shows it, and the run on the last target removes the file.

use crate::app::{quiet_target_conninfo, Context, ResolvedTarget};
use crate::config::Config;
use crate::run::history;
use tokio_postgres::Client;

/// Where one target of the rollout stands with a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum State {
    Ran,
    /// A run of it started and did not finish.
    InProgress,
    NotRun,
    /// Its history could not be read: why, in words (never a password: the errors name the
    /// target's conninfo masked).
    Unreachable(String),
}

#[derive(Debug, Clone)]
pub(crate) struct Rollout {
    pub targets: Vec<(String, State)>,
}

impl Rollout {
    /// Each rollout target's state with the plan `plan_id`. `here` is the command's own
    /// target and connection (which may come from `--database-url`): it is not connected to
    /// again. A target that cannot be reached is said so, not an error; so is one whose URL
    /// names this very database (targets that share `env:DATABASE_URL`, set per CI job): its
    /// history is not to be read from here.
    pub async fn read(
        ctx: &Context<'_>,
        here: &ResolvedTarget,
        client: &Client,
        plan_id: &str,
    ) -> Rollout {
        let mut targets = Vec::new();
        for name in &ctx.config.rollout {
            let state = if *name == here.name {
                state_on(client, plan_id).await
            } else {
                match connect(ctx, name, here).await {
                    Ok(client) => state_on(&client, plan_id).await,
                    Err(reason) => State::Unreachable(reason),
                }
            };
            targets.push((name.clone(), state));
        }
        Rollout { targets }
    }

    /// The targets not known to have run it, in rollout order.
    pub fn remaining(&self) -> Vec<&str> {
        self.targets
            .iter()
            .filter(|(_, s)| *s != State::Ran)
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// Whether replacing the plan leaves the targets at different schemas: some target ran
    /// it (or is running it), and some other did not or cannot be read. A plan no target ran
    /// is replaced freely (the new one starts from where they all are), and so is one that
    /// every target ran. A run in progress on the planning target itself is left to `plan`'s
    /// own rule (on_drift).
    pub fn under_way(&self, planning: &str) -> bool {
        let started = self.targets.iter().any(|(name, state)| match state {
            State::Ran => true,
            State::InProgress => name != planning,
            State::NotRun | State::Unreachable(_) => false,
        });
        started && !self.remaining().is_empty()
    }

    /// `test: ran, prod: not run`.
    pub fn describe(&self) -> String {
        self.targets
            .iter()
            .map(|(name, state)| format!("{name}: {}", state.words()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The remaining targets with their state, for messages: `prod (not run)`.
    pub fn describe_remaining(&self) -> String {
        self.targets
            .iter()
            .filter(|(_, s)| *s != State::Ran)
            .map(|(name, state)| format!("{name} ({})", state.words()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn to_json(&self) -> serde_json::Value {
        self.targets
            .iter()
            .map(|(name, state)| {
                let (state, reason) = match state {
                    State::Ran => ("ran", None),
                    State::InProgress => ("in_progress", None),
                    State::NotRun => ("not_run", None),
                    State::Unreachable(reason) => ("unreachable", Some(reason.clone())),
                };
                serde_json::json!({"target": name, "state": state, "reason": reason})
            })
            .collect()
    }
}

impl State {
    fn words(&self) -> String {
        match self {
            State::Ran => "ran".into(),
            State::InProgress => "run in progress".into(),
            State::NotRun => "not run".into(),
            State::Unreachable(reason) => format!("unreachable: {reason}"),
        }
    }
}

/// The targets of the rollout after `target`, in order; `None` when `target` is not in it.
pub(crate) fn after<'c>(config: &'c Config, target: &str) -> Option<&'c [String]> {
    let at = config.rollout.iter().position(|t| t == target)?;
    Some(&config.rollout[at + 1..])
}

async fn state_on(client: &Client, plan_id: &str) -> State {
    match history::run_of(client, plan_id).await {
        Ok(Some(run)) if run.finished => State::Ran,
        Ok(Some(_)) => State::InProgress,
        Ok(None) => State::NotRun,
        Err(e) => State::Unreachable(e.to_string()),
    }
}

async fn connect(ctx: &Context<'_>, name: &str, here: &ResolvedTarget) -> Result<Client, String> {
    let conninfo = quiet_target_conninfo(ctx, name).map_err(|e| e.to_string())?;
    if conninfo.to_string() == here.conninfo.to_string() {
        return Err(format!(
            "its URL names the same database as {}'s here ({}): run this command where {name}'s URL is set",
            here.name, here.source
        ));
    }
    conninfo.connect().await.map_err(|e| e.to_string())
}
