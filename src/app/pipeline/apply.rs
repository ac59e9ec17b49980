use super::run::{execute_plan, Choices};
use super::{drift_since_last_run, make_plan, plan_id, read_schema};
use crate::app::{resolve_target, Context, Outcome};
use crate::cli::ApplyArgs;
use crate::report::Format;
use crate::run::pipeline::HookResume;
use crate::Result;
use std::time::Duration;

/// `strata apply` (development): plan and run at once, no git, no pending.sql.
pub async fn apply(ctx: &Context<'_>, args: &ApplyArgs) -> Result<Outcome> {
    let target = resolve_target(ctx, &args.target)?;
    let client = target.conninfo.connect().await?;
    let source = read_schema(ctx, &client).await?;
    let drift = drift_since_last_run(&client, &source).await?;
    let plan = make_plan(
        ctx,
        &target,
        &client,
        source,
        drift,
        args.allow_empty_schema,
    )
    .await?;
    drop(client);
    let json = ctx.reporter.format == Format::Json;
    if plan.is_empty() {
        match json {
            true => ctx.reporter.json(&serde_json::json!({ "changes": false })),
            false => ctx.reporter.result("nothing to change"),
        }
        return Ok(Outcome::Fine);
    }
    let text = plan.render();
    if !json {
        ctx.reporter.result(&text);
    }
    let choices = Choices {
        allow_destructive: args.allow_destructive,
        no_rehearsal: true,
        lock_wait: Duration::from_secs(args.lock_wait),
        hook_resume: HookResume::Default,
    };
    let ran = execute_plan(ctx, &target, &plan, &plan_id(&text), &choices).await?;
    if json {
        ctx.reporter.json(&serde_json::json!({
            "changes": true,
            "target": target.name,
            "summary": plan.summary,
            "plan": plan,
            "run": ran,
        }));
    }
    Ok(Outcome::Fine)
}
