use super::rollout::Rollout;
use super::{drift_since_last_run, make_plan, plan_id, read_schema, resumable_run};
use crate::app::{resolve_target, Context, Outcome, ResolvedTarget};
use crate::cli::PlanArgs;
use crate::config::OnDrift;
use crate::git::{self, Repo};
use crate::plan::pending::FILE_NAME;
use crate::report::Format;
use crate::source::statements::read_file;
use crate::Result;
use tokio_postgres::Client;

/// `strata plan`: the reviewed change, on a new branch (or only the file with `--no-git`).
pub async fn plan(ctx: &Context<'_>, args: &PlanArgs) -> Result<Outcome> {
    let target = resolve_target(ctx, &args.target)?;
    // Outside git (without --no-git) the plan could not be committed: said before the
    // simulation, as bad input (exit 1), not after it.
    if !args.no_git {
        Repo::discover(&ctx.root)?;
    }
    let client = target.conninfo.connect().await?;
    if !rollout_allows_replacing(ctx, args, &target, &client).await? {
        return Ok(Outcome::Findings);
    }
    let source = {
        let _progress = ctx.reporter.progress("reading the target's schema");
        read_schema(ctx, &client).await?
    };
    let (drift, changed) = match resumable_run(&client, &source).await? {
        // The differences from the last snapshot are that run's own, not drift.
        Some(progress) => (
            Vec::new(),
            Some(Changed {
                what: progress.message(),
                refusal: "no plan made: finish that run first (or, if it cannot finish, set on_drift = \"warn\" or \"reconcile\" to plan from the database as it is)",
                warning: format!(
                    "{}; the plan starts from the database as that run left it",
                    progress.message()
                ),
            }),
        ),
        None => {
            let drift = drift_since_last_run(&client, &source).await?;
            let changed = (!drift.is_empty()).then(|| Changed {
                what: format!(
                    "the database changed outside strata since the last run:\n  {}",
                    drift.join("\n  ")
                ),
                refusal: "no plan made (on_drift = \"fail\"): undo the change, or set on_drift = \"warn\" or \"reconcile\" to plan from the database as it is",
                warning: format!(
                    "the database changed outside strata since the last run; the plan starts from it as it is:\n  {}",
                    drift.join("\n  ")
                ),
            });
            (drift, changed)
        }
    };
    if let Some(changed) = changed {
        match target.policy.on_drift {
            OnDrift::Fail => {
                ctx.reporter.note(&changed.what);
                ctx.reporter.note(changed.refusal);
                return Ok(Outcome::Findings);
            }
            OnDrift::Warn => ctx.reporter.warn(&changed.warning),
            OnDrift::Reconcile => {}
        }
    }
    let plan = make_plan(
        ctx,
        &target,
        &client,
        source,
        drift,
        args.allow_empty_schema,
    )
    .await?;
    write_plan(ctx, args, plan)
}

/// Whether a new plan may replace the pending.sql there is: not while its rollout is under
/// way (some targets ran it, others not), unless `--supersede`. Refused: said why.
async fn rollout_allows_replacing(
    ctx: &Context<'_>,
    args: &PlanArgs,
    target: &ResolvedTarget,
    client: &Client,
) -> Result<bool> {
    let path = ctx.root.join(FILE_NAME);
    if !path.exists() {
        return Ok(true);
    }
    let text = read_file(&path)?;
    let rollout = Rollout::read(ctx, target, client, &plan_id(&text)).await;
    if !rollout.under_way(&target.name) {
        return Ok(true);
    }
    if args.supersede {
        ctx.reporter.warn(&format!(
            "superseding {FILE_NAME} part way through its rollout ({}): the new plan starts from {}'s schema; a target at another schema cannot run it (docs/commands.md, \"Rollout\")",
            rollout.describe(),
            target.name
        ));
        return Ok(true);
    }
    let reason = format!(
        "{FILE_NAME} is part way through its rollout ({}); targets still to run it: {}",
        rollout.describe(),
        rollout.describe_remaining()
    );
    ctx.reporter.note(&reason);
    ctx.reporter.note(&format!(
        "no plan made: run {FILE_NAME} on {} first, or pass --supersede to replace it",
        rollout.remaining().join(", ")
    ));
    if ctx.reporter.format == Format::Json {
        ctx.reporter.json(&serde_json::json!({
            "changes": false,
            "refused": reason,
            "rollout": rollout.to_json(),
        }));
    }
    Ok(false)
}

/// The target is not where the last run left it, and what `on_drift` makes of that.
struct Changed {
    what: String,
    refusal: &'static str,
    warning: String,
}

/// Writes a plan made: pending.sql on a new branch (or only the file), or "nothing to change".
fn write_plan(ctx: &Context<'_>, args: &PlanArgs, plan: crate::plan::Plan) -> Result<Outcome> {
    if plan.is_empty() {
        match ctx.reporter.format {
            Format::Json => ctx.reporter.json(&serde_json::json!({"changes": false})),
            Format::Text => ctx.reporter.result("nothing to change"),
        }
        return Ok(Outcome::Fine);
    }
    let text = plan.render();
    let path = ctx.root.join(FILE_NAME);
    let branch = if args.no_git {
        std::fs::write(&path, &text).map_err(|e| crate::source::SourceError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        ctx.reporter.note(&format!("wrote {}", path.display()));
        None
    } else {
        let repo = Repo::discover(&ctx.root)?;
        let base = repo.current_branch()?;
        let branch = git::plan_branch_name(
            &ctx.config.git.branch_prefix,
            time::OffsetDateTime::now_utc(),
            &plan.desired_fingerprint,
        );
        let message = format!(
            "{}\n\nPlanned by strata for target `{}`.\n",
            plan.summary, plan.target
        );
        let made = repo.commit_file_on_new_branch(&branch, &path, text.as_bytes(), &message)?;
        let branch = made.branch;
        ctx.reporter
            .note(&format!("committed {FILE_NAME} on branch {branch}"));
        if !made.hooks_not_run.is_empty() {
            ctx.reporter.warn(&format!(
                "the plan branch's commit is made with `git commit-tree` (nothing is checked out), which runs no commit hooks; not run: {}",
                made.hooks_not_run.join(", ")
            ));
        }
        if args.push || args.merge_request {
            let options = match (&base, args.merge_request) {
                (Some(base), true) => git::merge_request_options(base, &plan.summary),
                _ => Vec::new(),
            };
            repo.push(&ctx.config.git.remote, &branch, &options)?;
            ctx.reporter
                .note(&format!("pushed {branch} to {}", ctx.config.git.remote));
        }
        Some(branch)
    };
    match ctx.reporter.format {
        Format::Json => ctx.reporter.json(&serde_json::json!({
            "changes": true,
            "branch": branch,
            "summary": plan.summary,
            "plan": plan,
        })),
        Format::Text => ctx.reporter.result(&text),
    }
    Ok(Outcome::Fine)
}
