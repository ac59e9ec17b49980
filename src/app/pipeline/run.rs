use super::{
    divergence, drift_since_last_run, load_migrations, plan_id, read_schema, resumable_run,
};
use crate::app::{resolve_shadow, resolve_target, Context, Outcome, ResolvedTarget};
use crate::cli::RunArgs;
use crate::config::{StageKind, StatementTimeout};
use crate::failpoint;
use crate::git::Repo;
use crate::model::Schema;
use crate::pg::lock::LockedConnection;
use crate::plan::pending::FILE_NAME;
use crate::plan::simulate::{run_migration_on_shadow, same_fingerprint};
use crate::plan::{Plan, StageBody};
use crate::run::migrations::{apply_pending, ApplyOptions};
use crate::run::pipeline::{self, check_destructive, HookResume, RunOptions};
use crate::run::refused::RunRefused;
use crate::run::statements::ExecPolicy;
use crate::run::{history, hook};
use crate::source::migration::Migration;
use crate::source::statements::read_file;
use crate::Result;
use std::time::Duration;
use tokio_postgres::Client;

/// `strata run`: executes the merged pending.sql exactly as reviewed.
pub async fn run(
    ctx: &Context<'_>,
    args: &RunArgs,
    format: crate::report::OutputFormat,
) -> Result<Outcome> {
    let choices = Choices {
        allow_destructive: args.allow_destructive,
        no_rehearsal: args.no_rehearsal,
        lock_wait: Duration::from_secs(args.lock_wait),
        hook_resume: match (args.hook_done, args.rerun_hook) {
            (true, _) => HookResume::Done,
            (_, true) => HookResume::Rerun,
            _ => HookResume::Default,
        },
        whole: None,
    };
    if let Some(group) = &args.fleet.group {
        return crate::app::fleet::run(ctx, group, &args.fleet, choices, format).await;
    }
    let target = resolve_target(ctx, &args.target)?;
    let path = ctx.root.join(FILE_NAME);
    if !path.exists() {
        return run_without_plan(ctx, &target).await;
    }
    let text = read_file(&path)?;
    let plan = Plan::parse(FILE_NAME, &text)?;
    let plan_id = plan_id(&text);
    check_git_commit(ctx, args, &path, &target.name)?;
    let ran = execute_plan(ctx, &target, &plan, &plan_id, &choices).await?;
    finish_git(ctx, args, &path, &plan, &target.name)?;
    if ctx.reporter.format == crate::report::Format::Json {
        ctx.reporter.json(&serde_json::json!({
            "target": target.name,
            "pending_sql": true,
            "run": ran,
        }));
    }
    Ok(Outcome::Fine)
}

/// What executing a plan did (`run`'s and `apply`'s JSON).
#[derive(Debug, Default, serde::Serialize)]
pub(crate) struct Ran {
    /// The plan had already run on the target: nothing was done.
    pub already_ran: bool,
    #[serde(flatten)]
    pub report: pipeline::RunReport,
    /// The target's fingerprint after the run.
    pub fingerprint: Option<String>,
}

/// How `run` (and `apply`) execute a plan, beyond the plan itself.
pub(crate) struct Choices {
    pub allow_destructive: bool,
    pub no_rehearsal: bool,
    pub lock_wait: Duration,
    pub hook_resume: HookResume,
    /// The reviewed plan when the plan given is a part of it (a fleet's stages before its
    /// hook): the part's steps run and are recorded, the whole plan is what is rehearsed,
    /// and the run is not finished (no final read, no snapshot).
    pub whole: Option<Plan>,
}

/// Executes a plan on the target under its advisory lock: refuses a stale plan (or, for a
/// run that was interrupted, a target its steps do not explain), rehearses, runs the stages
/// (reconciling and skipping the steps an earlier run recorded), checks the result, and
/// finishes the run (snapshot and end, in one transaction).
pub(crate) async fn execute_plan(
    ctx: &Context<'_>,
    target: &ResolvedTarget,
    plan: &Plan,
    plan_id: &str,
    choices: &Choices,
) -> Result<Ran> {
    let allow_destructive = choices.allow_destructive || target.policy.allow_destructive;
    check_destructive(plan, None, &target.name, allow_destructive)?;
    let mut locked = LockedConnection::acquire(&target.conninfo, choices.lock_wait, || {
        ctx.reporter
            .note("another strata run holds the target's lock; waiting")
    })
    .await?;
    if history::run_finished(locked.client(), plan_id).await? {
        ctx.reporter.note("this plan already ran on the target");
        return Ok(Ran {
            already_ran: true,
            ..Ran::default()
        });
    }
    let progress = history::progress_of(locked.client(), plan_id).await?;
    let current = read_schema(ctx, locked.client()).await?;
    check_start(locked.client(), plan, progress.as_ref(), &current).await?;
    // Again with the target's schema: a lossy type change is judged from the column's type.
    check_destructive(plan, Some(&current), &target.name, allow_destructive)?;
    let resuming = progress.as_ref().is_some_and(|p| p.begun());
    if resuming {
        ctx.reporter.note(
            "resuming: steps that completed in an earlier run are skipped, an interrupted one is reconciled",
        );
    }
    let migrations = load_migrations(ctx)?;
    let planned = planned_migrations(choices.whole.as_ref().unwrap_or(plan), &migrations)?;
    if !choices.no_rehearsal && !resuming {
        rehearse(
            ctx,
            target,
            choices.whole.as_ref().unwrap_or(plan),
            &planned,
        )
        .await?;
    }
    let options = RunOptions {
        target: target.name.clone(),
        allow_destructive,
        policy: ExecPolicy {
            lock_timeout: target.policy.lock_timeout,
            statement_timeout: target.policy.statement_timeout,
            retries: target.policy.retries,
            backoff: Duration::from_millis(250),
        },
        long_statement_timeout: StatementTimeout(Duration::ZERO),
        project_root: ctx.root.clone(),
        hook_resume: choices.hook_resume,
        hook_wait: choices.lock_wait,
        failpoints: true,
        monitor: Some(target.conninfo.clone()),
    };
    let last_planned = planned.iter().map(|m| m.id).max();
    let report = pipeline::execute(
        locked.client_mut(),
        plan,
        plan_id,
        &options,
        ctx.reporter,
        async |client: &mut Client| -> Result<usize> {
            if last_planned.is_none() {
                return Ok(0);
            }
            let options = ApplyOptions {
                to: last_planned,
                allow_out_of_order: ctx.config.migrations.allow_out_of_order,
            };
            let report = apply_pending(client, &migrations, &options, ctx.reporter).await?;
            Ok(report.applied.len())
        },
        async |client: &Client| {
            let schema = read_schema(ctx, client).await?;
            Ok(Some(schema.fingerprint().to_string()))
        },
    )
    .await?;
    if choices.whole.is_some() {
        return Ok(Ran {
            already_ran: false,
            report,
            fingerprint: None,
        });
    }
    failpoint::hit("before-final-read");
    let after = read_schema(ctx, locked.client()).await?;
    if !same_fingerprint(&plan.desired_fingerprint, &after) {
        return Err(RunRefused::Diverged {
            planned: plan.desired_fingerprint.clone(),
            actual: after.fingerprint().to_string(),
            differences: divergence(ctx, &after, &plan.desired_fingerprint).await,
        }
        .into());
    }
    failpoint::hit("before-finish");
    history::finish_run(
        locked.client_mut(),
        plan_id,
        &after.fingerprint().to_string(),
        &after,
    )
    .await?;
    ctx.reporter.note(&format!(
        "done: {} statements, {} migrations, {} hooks ({} steps already done)",
        report.statements_run, report.migrations_applied, report.hooks_run, report.steps_skipped
    ));
    Ok(Ran {
        already_ran: false,
        report,
        fingerprint: Some(after.fingerprint().to_string()),
    })
}

/// A new run starts from the plan's source; an interrupted one from where its steps left
/// the target. Anything else changed the database under the plan: refused.
async fn check_start(
    client: &Client,
    plan: &Plan,
    progress: Option<&history::Progress>,
    current: &Schema,
) -> Result<()> {
    let actual = current.fingerprint().to_string();
    match progress {
        Some(progress) if !progress.explains(&actual) => Err(RunRefused::ChangedDuringRun {
            expected: progress
                .expected_fingerprint()
                .unwrap_or_default()
                .to_string(),
            actual,
            changes: drift_since_last_run(client, current).await?,
        }
        .into()),
        Some(_) => Ok(()),
        None if same_fingerprint(&plan.source_fingerprint, current) => Ok(()),
        None => {
            if let Some(other) = resumable_run(client, current).await? {
                return Err(RunRefused::OtherRunInProgress {
                    message: other.message(),
                }
                .into());
            }
            let mut changes = drift_since_last_run(client, current).await?;
            if changes.is_empty() {
                changes.push("(no snapshot of an earlier run to name the objects)".into());
            }
            Err(RunRefused::DatabaseChanged {
                planned: plan.source_fingerprint.clone(),
                actual,
                changes,
            }
            .into())
        }
    }
}

pub(crate) async fn store_snapshot(
    client: &Client,
    schema: &Schema,
    plan_id: Option<&str>,
) -> Result<()> {
    history::ensure_tables(client).await?;
    history::store_snapshot(client, &schema.fingerprint().to_string(), schema, plan_id).await?;
    Ok(())
}

/// The migrations pending.sql names, checked against the files as they are now.
fn planned_migrations<'m>(plan: &Plan, migrations: &'m [Migration]) -> Result<Vec<&'m Migration>> {
    plan.migrations()
        .map(|planned| {
            let file = migrations
                .iter()
                .find(|m| m.file == planned.file)
                .ok_or_else(|| RunRefused::MigrationMissing {
                    file: planned.file.clone(),
                })?;
            let actual = file.checksum.to_string();
            if actual != planned.checksum {
                return Err(RunRefused::MigrationChanged {
                    file: planned.file.clone(),
                    planned: planned.checksum.clone(),
                    actual,
                }
                .into());
            }
            Ok(file)
        })
        .collect()
}

/// Runs the plan on a shadow copy of the target first; it must reach the desired schema.
async fn rehearse(
    ctx: &Context<'_>,
    target: &ResolvedTarget,
    plan: &Plan,
    planned: &[&Migration],
) -> Result<()> {
    let _progress = ctx
        .reporter
        .progress("rehearsing on a shadow copy of the target");
    let admin = resolve_shadow(ctx)?;
    let clone = crate::catalog::clone::clone_schema(
        &target.conninfo,
        &admin,
        "rehearsal",
        &ctx.config,
        &|m: &str| ctx.reporter.note(m),
    )
    .await?;
    let result = async {
        let mut client = clone.conninfo.connect().await?;
        let options = RunOptions {
            target: target.name.clone(),
            allow_destructive: true,
            policy: ExecPolicy {
                lock_timeout: target.policy.lock_timeout,
                statement_timeout: target.policy.statement_timeout,
                retries: 0,
                backoff: Duration::ZERO,
            },
            long_statement_timeout: StatementTimeout(Duration::ZERO),
            project_root: ctx.root.clone(),
            hook_resume: HookResume::Default,
            hook_wait: Duration::ZERO,
            failpoints: false,
            monitor: None,
        };
        let rehearsal = without_hooks(plan);
        let quiet = crate::report::Reporter::capture(
            crate::report::Format::Text,
            Box::new(std::io::sink()),
            Box::new(std::io::sink()),
        );
        pipeline::execute(
            &mut client,
            &rehearsal,
            "rehearsal",
            &options,
            &quiet,
            async |client: &mut Client| -> Result<usize> {
                for migration in planned {
                    run_migration_on_shadow(client, migration).await?;
                }
                Ok(planned.len())
            },
            async |_: &Client| Ok(None),
        )
        .await?;
        let after = read_schema(ctx, &client).await?;
        if !same_fingerprint(&plan.desired_fingerprint, &after) {
            return Err(RunRefused::RehearsalDiverged {
                planned: plan.desired_fingerprint.clone(),
                actual: after.fingerprint().to_string(),
                differences: divergence(ctx, &after, &plan.desired_fingerprint).await,
            }
            .into());
        }
        Ok(())
    }
    .await;
    let _ = clone.drop_now().await;
    result
}

/// The plan with its hook stages emptied: a rehearsal deploys nothing.
fn without_hooks(plan: &Plan) -> Plan {
    let mut plan = plan.clone();
    for stage in &mut plan.stages {
        if let StageBody::Hook { command } = &mut stage.body {
            *command = None;
        }
    }
    plan
}

/// No pending.sql: no schema change. Check drift, then run the deploy hook.
async fn run_without_plan(ctx: &Context<'_>, target: &ResolvedTarget) -> Result<Outcome> {
    let client = target.conninfo.connect().await?;
    let current = read_schema(ctx, &client).await?;
    let drift = drift_since_last_run(&client, &current).await?;
    if !drift.is_empty() {
        ctx.reporter.note(&format!(
            "the database changed outside strata since the last run:\n  {}",
            drift.join("\n  ")
        ));
        if target.policy.on_drift == crate::config::OnDrift::Fail {
            report_without_plan(ctx, target, &drift, 0, true);
            return Ok(Outcome::Findings);
        }
    }
    if history::last_snapshot(&client).await?.is_none() {
        store_snapshot(&client, &current, None).await?;
        ctx.reporter
            .note("stored the schema as it is as the baseline for drift checks (first run on this target)");
    }
    ctx.reporter.note("no pending.sql: no schema change");
    let mut hooks_run = 0;
    for stage in ctx
        .config
        .stages
        .iter()
        .filter(|s| s.kind == StageKind::Hook)
    {
        if let Some(command) = stage
            .command
            .as_ref()
            .or(ctx.config.deploy_command.as_ref())
        {
            hook::run_hook(&ctx.root, command, &target.name, &stage.name)
                .map_err(crate::run::pipeline::RunError::from)?;
            hooks_run += 1;
        }
    }
    report_without_plan(ctx, target, &drift, hooks_run, false);
    Ok(Outcome::Fine)
}

fn report_without_plan(
    ctx: &Context<'_>,
    target: &ResolvedTarget,
    drift: &[String],
    hooks_run: usize,
    refused: bool,
) {
    if ctx.reporter.format == crate::report::Format::Json {
        ctx.reporter.json(&serde_json::json!({
            "target": target.name,
            "pending_sql": false,
            "drift": drift,
            "refused_for_drift": refused,
            "hooks_run": hooks_run,
        }));
    }
}

/// `--git-commit`/`--push` need pending.sql committed (not only written by `plan --no-git`)
/// and a target of the rollout: refused before the run, which changes nothing, rather than a
/// run with no commit after it.
fn check_git_commit(
    ctx: &Context<'_>,
    args: &RunArgs,
    path: &std::path::Path,
    target: &str,
) -> Result<()> {
    if !(args.git_commit || args.push) {
        return Ok(());
    }
    if super::rollout::after(&ctx.config, target).is_none() {
        return Err(RunRefused::NotInRollout {
            target: target.to_string(),
            rollout: ctx.config.rollout.join(", "),
        }
        .into());
    }
    if !Repo::discover(&ctx.root)?.is_tracked(path)? {
        return Err(crate::git::GitError::NotCommitted {
            file: FILE_NAME.to_string(),
        }
        .into());
    }
    Ok(())
}

/// pending.sql is removed (in a commit, with `--git-commit`) by the run on the last target of
/// `[rollout] targets`; on an earlier target, or one outside the rollout, it stays.
fn finish_git(
    ctx: &Context<'_>,
    args: &RunArgs,
    path: &std::path::Path,
    plan: &Plan,
    target: &str,
) -> Result<()> {
    let committing = args.git_commit || args.push;
    match super::rollout::after(&ctx.config, target) {
        // Refused before the run with --git-commit (check_git_commit).
        None => return Ok(()),
        Some(rest) if !rest.is_empty() => {
            ctx.reporter.note(&format!(
                "{FILE_NAME} stays for the rest of its rollout{}: {}",
                if committing {
                    " (nothing to commit)"
                } else {
                    ""
                },
                rest.join(", ")
            ));
            return Ok(());
        }
        Some(_) if !committing => {
            ctx.reporter.note(&format!(
                "{target} is the last target of the rollout: remove {FILE_NAME} (`strata run --git-commit` does)"
            ));
            return Ok(());
        }
        Some(_) => {}
    }
    let repo = Repo::discover(&ctx.root)?;
    repo.commit_removal(
        path,
        &format!("strata: ran {FILE_NAME} on {target}\n\n{}\n", plan.summary),
    )?;
    ctx.reporter
        .note(&format!("removed {FILE_NAME} in a commit"));
    if args.push {
        if let Some(branch) = repo.current_branch()? {
            repo.push(&ctx.config.git.remote, &branch, &[])?;
        }
    }
    Ok(())
}
