//! `strata run --group G`: the group's plans on its members. Canaries first (then the
//! group's check command), then the rest `parallel` at a time, each member under its own
//! advisory lock with the single-target run's checks and resume; no new member starts once
//! the failure budget is spent. With a hook stage and `hook = "fleet"`: every member up to
//! the hook, the hook once, every member after it. Each member's result is in its own
//! history (`strata.runs`), which is what a re-run and `--shard` read.

use super::{
    group, load_plans, members, standing_in_history, standing_of, FleetPlan, Member, Standing,
};
use crate::app::pipeline::{execute_plan, Choices};
use crate::app::{Context, Outcome};
use crate::cli::FleetRunArgs;
use crate::config::{Group, HookPolicy, StageKind};
use crate::fleet::report;
use crate::fleet::{
    run_bounded, slice, split_canaries, FleetError, MemberReport, MemberResult, Shard, Tally,
};
use crate::plan::{Plan, StageBody};
use crate::report::{Format, OutputFormat, Reporter};
use crate::run::history;
use crate::run::pipeline::HookResume;
use crate::Result;
use std::cell::RefCell;
use std::time::Instant;

/// Which part of each member's plan a pass runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// The whole plan, hooks as they are (`hook = "member"`, or a plan without a hook).
    Whole,
    /// The stages before the first hook stage: the run is not finished.
    BeforeHook,
    /// The whole plan with its hooks taken as done (the fleet's deploy ran once).
    AfterHook,
}

pub async fn run(
    ctx: &Context<'_>,
    name: &str,
    args: &FleetRunArgs,
    choices: Choices,
    format: OutputFormat,
) -> Result<Outcome> {
    let group = group(ctx, name)?;
    let shard = args.shard.as_deref().map(Shard::parse).transpose()?;
    let plans = load_plans(ctx, name)?;
    if plans.is_empty() {
        return Err(FleetError::NoPlan {
            group: name.to_string(),
        }
        .into());
    }
    let hook = fleet_hook(group, &plans);
    let parts: Vec<Part> = match (hook.is_some(), args.before_hook, args.after_hook) {
        (false, _, _) => vec![Part::Whole],
        (true, true, _) => vec![Part::BeforeHook],
        (true, _, true) => vec![Part::AfterHook],
        (true, false, false) if shard.is_some() || args.canaries_only => {
            ctx.reporter.note("the plan has a hook stage and the group's hook runs once for the fleet: pass --before-hook, deploy, then --after-hook (docs/fleet.md)");
            return Ok(Outcome::Findings);
        }
        (true, false, false) => vec![Part::BeforeHook, Part::AfterHook],
    };
    let all = members(ctx, group).await?;
    let (canaries, rest) = split_canaries(all, group.canary);
    let started = Instant::now();
    let mut reports: Vec<MemberReport> = Vec::new();
    let mut outcome = Outcome::Fine;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            // Between the two parts: every member expanded, the deploy runs once.
            if reports.iter().any(|r| {
                !matches!(
                    r.result,
                    MemberResult::Partial
                        | MemberResult::AlreadyDone
                        | MemberResult::UpToDate
                        | MemberResult::Skipped(_)
                )
            }) {
                ctx.reporter.note("not every member ran its part before the hook: the deploy hook is not run, and nothing after it");
                break;
            }
            let (stage, command) = hook.clone().expect("a hook");
            let everyone: Vec<&Member> = canaries.iter().chain(&rest).collect();
            let run_it = match fleet_hook_state(&everyone, &plans, &stage).await? {
                Some(history::StepState::Done) => {
                    ctx.reporter.note(&format!(
                        "stage {stage}: the fleet's hook already ran for this plan (the members' histories say so): not run again"
                    ));
                    false
                }
                Some(history::StepState::Started) => match choices.hook_resume {
                    HookResume::Done => {
                        ctx.reporter.note(&format!(
                            "stage {stage}: the fleet's hook of the interrupted run is taken as done (--hook-done)"
                        ));
                        false
                    }
                    HookResume::Rerun => true,
                    HookResume::Default => {
                        return Err(crate::run::refused::RunRefused::HookInterrupted {
                            process: format!("an interrupted `strata run --group {name}`"),
                        }
                        .into())
                    }
                },
                None => true,
            };
            if run_it {
                record_fleet_hook(&everyone, &plans, &stage, false).await?;
                ctx.reporter
                    .note(&format!("stage {stage}: {command} (once for group {name})"));
                crate::run::hook::run_hook(&ctx.root, &command, name, &stage)
                    .map_err(crate::run::pipeline::RunError::from)?;
                crate::failpoint::hit(&format!("fleet-hook:{name}"));
            }
            record_fleet_hook(&everyone, &plans, &stage, true).await?;
            crate::failpoint::hit(&format!("deployed:{name}"));
            reports.clear();
        }
        let pass = Pass {
            ctx,
            group,
            plans: &plans,
            choices: &choices,
            part: *part,
        };
        let (part_reports, part_outcome) = pass
            .run(&canaries, &rest, shard, args.canaries_only)
            .await?;
        reports = part_reports;
        if part_outcome == Outcome::Findings {
            outcome = Outcome::Findings;
            break;
        }
    }
    let elapsed = started.elapsed();
    match (format, ctx.reporter.format) {
        (_, Format::Json) => ctx
            .reporter
            .json(&report::summary_json(name, &reports, elapsed)),
        (OutputFormat::Markdown, _) => ctx
            .reporter
            .result(&report::summary_markdown(name, &reports, elapsed)),
        _ => ctx
            .reporter
            .result(&report::summary_text(name, &reports, elapsed)),
    }
    if reports
        .iter()
        .any(|r| r.result.is_failure() || r.result == MemberResult::NotStarted)
    {
        outcome = Outcome::Findings;
    }
    Ok(outcome)
}

/// The hook stage (name, command) the fleet runs once, when the group runs hooks once and
/// a plan has one with a command.
fn fleet_hook(group: &Group, plans: &[FleetPlan]) -> Option<(String, String)> {
    if group.hook == HookPolicy::Member {
        return None;
    }
    plans.iter().find_map(|p| {
        p.plan.stages.iter().find_map(|s| match &s.body {
            StageBody::Hook { command: Some(c) } if s.kind == StageKind::Hook => {
                Some((s.name.clone(), c.clone()))
            }
            _ => None,
        })
    })
}

/// How the members' histories record the fleet's hook stage `stage` for their plans: done
/// in any of them (the fleet deployed for this plan), else started in any (a run stopped
/// while the hook ran: whether it completed is unknown), else not at all.
async fn fleet_hook_state(
    members: &[&Member],
    plans: &[FleetPlan],
    stage: &str,
) -> Result<Option<history::StepState>> {
    let mut state = None;
    for member in members {
        let client = member.conninfo.connect().await?;
        let index = match standing_in_history(&client, plans).await? {
            Some(Standing::Running(i) | Standing::Ran(i)) => i,
            _ => continue,
        };
        let steps = history::steps(&client, &plans[index].id).await?;
        match steps.iter().find(|s| s.name == stage).map(|s| s.state) {
            Some(history::StepState::Done) => return Ok(Some(history::StepState::Done)),
            Some(started) => state = Some(started),
            None => {}
        }
    }
    Ok(state)
}

/// Records the fleet's hook stage in every member whose run waits for it: started before
/// the hook runs, done (with the fingerprint its last step left: a hook changes no schema)
/// once it returned, so that a re-run never deploys twice without being told.
async fn record_fleet_hook(
    members: &[&Member],
    plans: &[FleetPlan],
    stage: &str,
    done: bool,
) -> Result<()> {
    for member in members {
        let client = member.conninfo.connect().await?;
        let Some(Standing::Running(index)) = standing_in_history(&client, plans).await? else {
            continue;
        };
        let plan_id = &plans[index].id;
        let steps = history::steps(&client, plan_id).await?;
        let recorded = steps.iter().find(|s| s.name == stage).map(|s| s.state);
        let step = history::Step {
            plan_id: plan_id.clone(),
            name: stage.to_string(),
            failpoints: false,
        };
        match (done, recorded) {
            (false, None) => history::record_started(&client, &step).await?,
            (true, None | Some(history::StepState::Started)) => {
                let fingerprint = steps
                    .iter()
                    .filter(|s| s.name != stage)
                    .rev()
                    .find_map(|s| s.fingerprint_after.clone());
                history::record_step(&client, &step, fingerprint.as_deref()).await?
            }
            _ => {}
        }
    }
    Ok(())
}

/// The plan a part runs (same plan id: the steps are the reviewed plan's).
fn plan_for(plan: &Plan, part: Part) -> Plan {
    let mut plan = plan.clone();
    match part {
        Part::Whole => {}
        Part::BeforeHook => {
            let at = plan
                .stages
                .iter()
                .position(|s| s.kind == StageKind::Hook)
                .unwrap_or(plan.stages.len());
            plan.stages.truncate(at);
        }
        Part::AfterHook => {
            for stage in &mut plan.stages {
                if let StageBody::Hook { command } = &mut stage.body {
                    *command = None;
                }
            }
        }
    }
    plan
}

/// The names of the steps a part records (as `run::pipeline` names them).
fn step_names(plan: &Plan) -> Vec<String> {
    let mut names = Vec::new();
    for stage in &plan.stages {
        match &stage.body {
            StageBody::Statements { statements } => {
                for i in 0..crate::run::pipeline::groups(statements).len() {
                    names.push(format!("{}#{i}", stage.name));
                }
            }
            StageBody::Migrations { .. } => names.push(stage.name.clone()),
            StageBody::Hook { .. } if stage.kind == StageKind::Hook => {
                names.push(stage.name.clone())
            }
            StageBody::Hook { .. } => {}
        }
    }
    names
}

struct Pass<'a, 'c> {
    ctx: &'a Context<'c>,
    group: &'a Group,
    plans: &'a [FleetPlan],
    choices: &'a Choices,
    part: Part,
}

impl Pass<'_, '_> {
    async fn run(
        &self,
        canaries: &[Member],
        rest: &[Member],
        shard: Option<Shard>,
        canaries_only: bool,
    ) -> Result<(Vec<MemberReport>, Outcome)> {
        let ctx = self.ctx;
        let mut reports = Vec::new();
        if let Some(shard) = shard {
            self.require_canaries(canaries).await?;
            ctx.reporter.note(&format!(
                "shard {}/{}: the canaries passed",
                shard.index, shard.count
            ));
        } else {
            ctx.reporter.note(&format!("canaries: {}", names(canaries)));
            let canary_reports = self.wave(canaries.to_vec(), true, usize::MAX - 1).await;
            let failed = canary_reports.iter().any(|r| r.result.is_failure());
            reports.extend(canary_reports);
            if failed {
                ctx.reporter
                    .note("a canary failed: the rollout stops before the other members");
                reports.extend(not_started(rest));
                return Ok((reports, Outcome::Findings));
            }
            if let Some(check) = &self.group.check {
                if let Err(why) = run_check(ctx, &self.group.name, check, canaries).await {
                    ctx.reporter.note(&format!(
                        "the check after the canaries failed ({why}): the rollout stops"
                    ));
                    reports.extend(not_started(rest));
                    return Ok((reports, Outcome::Findings));
                }
            }
            if canaries_only {
                return Ok((reports, Outcome::Fine));
            }
        }
        let members = slice(rest.to_vec(), shard);
        reports.extend(self.wave(members, false, self.group.failure_budget).await);
        Ok((reports, Outcome::Fine))
    }

    /// Runs `members` `parallel` at a time with live progress; stops starting new ones once
    /// more than `budget` failed.
    async fn wave(&self, members: Vec<Member>, canary: bool, budget: usize) -> Vec<MemberReport> {
        let ctx = self.ctx;
        let started = Instant::now();
        let tally = RefCell::new(Tally {
            total: members.len(),
            ..Tally::default()
        });
        let mut reports = Vec::new();
        let limit = if canary {
            self.group.parallel.min(members.len().max(1))
        } else {
            self.group.parallel
        };
        let left = run_bounded(
            members,
            limit,
            |member| {
                tally.borrow_mut().running += 1;
                Box::pin(self.member(member, canary))
            },
            |report: MemberReport, _| {
                let mut t = tally.borrow_mut();
                t.running -= 1;
                t.finished += 1;
                if report.result.is_failure() {
                    t.failed += 1;
                    ctx.reporter.note(&format!(
                        "{}: failed: {}",
                        report.name,
                        report.result.detail().lines().next().unwrap_or("")
                    ));
                }
                ctx.reporter
                    .note(&report::progress_line(&t, started.elapsed()));
                reports.push(report);
            },
            || !tally.borrow().over_budget(budget),
        )
        .await;
        if !left.is_empty() {
            ctx.reporter.note(&format!(
                "failure budget ({budget}) spent: {} member(s) not started",
                left.len()
            ));
        }
        reports.extend(not_started(&left));
        reports
    }

    /// One member: its plan chosen from its history or its schema, run under its lock.
    async fn member(&self, member: Member, canary: bool) -> MemberReport {
        let started = Instant::now();
        let result = match self.member_result(&member, canary).await {
            Ok(result) => result,
            Err(e) => MemberResult::Failed(crate::config::mask_secrets(&error_text(&e))),
        };
        // This member's part is over and in its history; no other starts before it ends.
        crate::failpoint::hit(&format!("member:{}", member.name));
        MemberReport {
            name: member.name,
            result,
            canary,
            seconds: started.elapsed().as_secs_f64(),
        }
    }

    async fn member_result(&self, member: &Member, canary: bool) -> Result<MemberResult> {
        let client = member.conninfo.connect().await?;
        let (index, resuming) = match standing_in_history(&client, self.plans).await? {
            Some(Standing::Ran(_)) => return Ok(MemberResult::AlreadyDone),
            Some(Standing::Running(i)) => {
                let progress = history::progress_of(&client, &self.plans[i].id).await?;
                let names = step_names(&plan_for(&self.plans[i].plan, self.part));
                let done = progress.as_ref().is_some_and(|p| {
                    names.iter().all(|n| {
                        p.steps
                            .iter()
                            .any(|s| &s.name == n && s.state == history::StepState::Done)
                    })
                });
                if self.part == Part::BeforeHook && done {
                    return Ok(MemberResult::AlreadyDone);
                }
                (i, progress.is_some_and(|p| p.begun()))
            }
            _ => {
                let schema = crate::catalog::catalog(&client, &self.ctx.config).await?;
                match standing_of(&schema.fingerprint().to_string(), self.plans) {
                    Standing::Pending(i) => (i, false),
                    Standing::UpToDate => return Ok(MemberResult::UpToDate),
                    _ => {
                        return Ok(MemberResult::Skipped(
                            "no plan starts from its schema (changed outside strata, or planned without it): plan the group again".into(),
                        ))
                    }
                }
            }
        };
        drop(client);
        let fleet_plan = &self.plans[index];
        let plan = plan_for(&fleet_plan.plan, self.part);
        let quiet = Reporter::capture(
            Format::Text,
            Box::new(std::io::sink()),
            Box::new(std::io::sink()),
        );
        let member_ctx = Context {
            root: self.ctx.root.clone(),
            config: self.ctx.config.clone(),
            reporter: &quiet,
        };
        let choices = Choices {
            allow_destructive: self.choices.allow_destructive,
            // The canaries rehearse; the others run what the canaries proved.
            no_rehearsal: self.choices.no_rehearsal || !canary,
            lock_wait: self.choices.lock_wait,
            hook_resume: self.choices.hook_resume,
            whole: (self.part == Part::BeforeHook).then(|| fleet_plan.plan.clone()),
        };
        execute_plan(
            &member_ctx,
            &member.resolved(),
            &plan,
            &fleet_plan.id,
            &choices,
        )
        .await?;
        Ok(match (self.part, resuming) {
            (Part::BeforeHook, _) => MemberResult::Partial,
            (_, true) => MemberResult::Resumed,
            _ => MemberResult::Done,
        })
    }

    /// A shard runs only after every canary passed the same part, as their histories say.
    async fn require_canaries(&self, canaries: &[Member]) -> Result<()> {
        let mut missing = Vec::new();
        for canary in canaries {
            let passed = async {
                let client = canary.conninfo.connect().await?;
                for plan in self.plans {
                    if let Some(run) = history::run_of(&client, &plan.id).await? {
                        if run.finished {
                            return Ok::<_, crate::Error>(true);
                        }
                        if self.part == Part::BeforeHook {
                            let steps = history::steps(&client, &plan.id).await?;
                            let names = step_names(&plan_for(&plan.plan, self.part));
                            return Ok(names.iter().all(|n| {
                                steps
                                    .iter()
                                    .any(|s| &s.name == n && s.state == history::StepState::Done)
                            }));
                        }
                    }
                }
                Ok(false)
            }
            .await;
            match passed {
                Ok(true) => {}
                Ok(false) => missing.push(format!("{} (not run)", canary.name)),
                Err(e) => missing.push(format!(
                    "{} ({})",
                    canary.name,
                    crate::config::mask_secrets(&e.to_string())
                )),
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        Err(FleetError::CanariesPending {
            group: self.group.name.clone(),
            missing: missing.join(", "),
        }
        .into())
    }
}

fn names(members: &[Member]) -> String {
    if members.is_empty() {
        return "none".into();
    }
    members
        .iter()
        .map(|m| m.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn not_started(members: &[Member]) -> Vec<MemberReport> {
    members
        .iter()
        .map(|m| MemberReport {
            name: m.name.clone(),
            result: MemberResult::NotStarted,
            canary: false,
            seconds: 0.0,
        })
        .collect()
}

/// The error and its causes on one line each, as miette would print the chain.
fn error_text(e: &crate::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(&format!(": {line}"));
        }
        source = cause.source();
    }
    text
}

/// The group's check after the canaries: a shell command in the project directory, with
/// `STRATA_GROUP` and `STRATA_CANARIES` (names, comma-separated).
async fn run_check(
    ctx: &Context<'_>,
    group: &str,
    command: &str,
    canaries: &[Member],
) -> std::result::Result<(), String> {
    ctx.reporter
        .note(&format!("check after the canaries: {command}"));
    let canaries: Vec<&str> = canaries.iter().map(|m| m.name.as_str()).collect();
    let status = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(&ctx.root)
        .env("STRATA_GROUP", group)
        .env("STRATA_CANARIES", canaries.join(","))
        .status()
        .await
        .map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{status}"))
    }
}
