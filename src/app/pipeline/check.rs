use super::rollout::Rollout;
use super::{drift_since_last_run, make_plan, plan_id, read_schema, resumable_run};
use crate::app::{resolve_target, Context, Outcome, ResolvedTarget};
use crate::cli::TargetArgs;
use crate::plan::markdown;
use crate::plan::pending::FILE_NAME;
use crate::plan::Plan;
use crate::report::Format;
use crate::run::history;
use crate::source::statements::read_file;
use crate::Result;
use std::io::Write;

/// `strata check` (merge-request pipelines): plans again and fails when pending.sql is stale.
pub async fn check(
    ctx: &Context<'_>,
    args: &TargetArgs,
    allow_empty_schema: bool,
) -> Result<Outcome> {
    let target = resolve_target(ctx, args)?;
    let client = target.conninfo.connect().await?;
    let source = read_schema(ctx, &client).await?;
    let path = ctx.root.join(FILE_NAME);
    let text = if path.exists() {
        Some(read_file(&path)?)
    } else {
        None
    };
    let committed = match &text {
        Some(text) => Some(Plan::parse(FILE_NAME, text)?),
        None => None,
    };
    // Before planning anew: a run half way, or pending.sql that already ran, settle it.
    let settled = match (resumable_run(&client, &source).await?, &text) {
        (Some(progress), _) => Some((progress.message(), None, Outcome::Findings)),
        (None, Some(text)) if history::run_finished(&client, &plan_id(text)).await? => {
            Some(already_ran(ctx, &target, &client, &plan_id(text)).await)
        }
        _ => None,
    };
    if let Some((reason, rollout, outcome)) = settled {
        match ctx.reporter.format {
            Format::Json => ctx.reporter.json(&serde_json::json!({
                "current": outcome == Outcome::Fine,
                "reason": reason,
                "rollout": rollout.as_ref().map(Rollout::to_json),
            })),
            Format::Text => ctx.reporter.result(&reason),
        }
        return Ok(outcome);
    }
    let drift = drift_since_last_run(&client, &source).await?;
    let fresh = make_plan(ctx, &target, &client, source, drift, allow_empty_schema).await?;
    // Compare what the file would hold: rendering trims migration texts (and the like), so
    // the fresh plan goes through the same render and parse as the committed one.
    let rendered = Plan::parse(FILE_NAME, &fresh.render())?;
    let stale = staleness(committed.as_ref(), &rendered);
    let shown = committed.as_ref().unwrap_or(&fresh);
    let summary = markdown::plan_summary(shown, stale.as_deref());
    if let Some(file) = std::env::var_os("GITHUB_STEP_SUMMARY") {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(file)
        {
            let _ = writeln!(f, "{summary}");
        }
    }
    match ctx.reporter.format {
        Format::Json => ctx.reporter.json(&serde_json::json!({
            "current": stale.is_none(),
            "reason": stale,
            "plan": shown,
        })),
        Format::Text => ctx.reporter.result(&summary),
    }
    Ok(if stale.is_some() {
        Outcome::Findings
    } else {
        Outcome::Fine
    })
}

/// pending.sql already ran on this target: fine while other targets of its rollout are still
/// to run it (the file stays for them), to be removed once every one did.
async fn already_ran(
    ctx: &Context<'_>,
    target: &ResolvedTarget,
    client: &tokio_postgres::Client,
    id: &str,
) -> (String, Option<Rollout>, Outcome) {
    let rollout = Rollout::read(ctx, target, client, id).await;
    if rollout.remaining().is_empty() {
        let reason = format!(
            "{FILE_NAME} already ran on this target ({}) and on every target of its rollout ({}): remove it (`strata run --git-commit` on the last target does)",
            target.name,
            rollout.describe()
        );
        return (reason, Some(rollout), Outcome::Findings);
    }
    let reason = format!(
        "{FILE_NAME} already ran on this target ({}); its rollout goes on, still to run it: {}",
        target.name,
        rollout.describe_remaining()
    );
    (reason, Some(rollout), Outcome::Fine)
}

/// Why the committed plan is not the one strata would make now (`None`: it is).
fn staleness(committed: Option<&Plan>, fresh: &Plan) -> Option<String> {
    let Some(committed) = committed else {
        return (!fresh.is_empty()).then(|| {
            "there is no pending.sql, but schema/ or migrations/ differ from the target: run `strata plan`".to_string()
        });
    };
    if committed.source_fingerprint != fresh.source_fingerprint {
        return Some(
            "the target database changed since pending.sql was planned: run `strata plan` again"
                .into(),
        );
    }
    if committed.desired_fingerprint != fresh.desired_fingerprint {
        return Some(
            "schema/ changed since pending.sql was planned: run `strata plan` again".into(),
        );
    }
    if committed.stages != fresh.stages {
        return Some("the statements or migrations differ from what strata plans now (migrations/ changed, or pending.sql was edited): run `strata plan` again".into());
    }
    None
}
