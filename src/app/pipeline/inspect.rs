use super::rollout::Rollout;
use super::{drift_since_last_run, load_migrations, plan_id, read_schema, resumable_run};
use crate::app::{resolve_target, Context, Outcome};
use crate::cli::TargetArgs;
use crate::plan::pending::FILE_NAME;
use crate::plan::simulate::same_fingerprint;
use crate::plan::Plan;
use crate::report::Format;
use crate::run::{history, migrations};
use crate::source::statements::read_file;
use crate::Result;

/// `strata drift`: objects changed outside strata since the last run; exit 1 when any.
pub async fn drift(ctx: &Context<'_>, args: &TargetArgs) -> Result<Outcome> {
    let target = resolve_target(ctx, args)?;
    let client = target.conninfo.connect().await?;
    let current = read_schema(ctx, &client).await?;
    let last = history::last_snapshot(&client).await?;
    let resumable = resumable_run(&client, &current).await?;
    let changes = match resumable {
        Some(_) => Vec::new(),
        None => drift_since_last_run(&client, &current).await?,
    };
    match ctx.reporter.format {
        Format::Json => ctx.reporter.json(&serde_json::json!({
            "target": target.name,
            "snapshot": last.as_ref().map(|s| serde_json::json!({"fingerprint": s.fingerprint, "recorded_at": s.recorded_at})),
            "fingerprint": current.fingerprint().to_string(),
            "drift": changes,
            "run_in_progress": resumable.as_ref().map(progress_json),
        })),
        Format::Text => {
            if let Some(progress) = &resumable {
                ctx.reporter.result(&progress.message());
            } else if last.is_none() {
                ctx.reporter.result("no run has stored a snapshot on this target yet: nothing to compare with");
            } else if changes.is_empty() {
                ctx.reporter.result("no drift");
            } else {
                ctx.reporter.result(&format!(
                    "drift since the last run:\n  {}",
                    changes.join("\n  ")
                ));
            }
        }
    }
    Ok(if changes.is_empty() && resumable.is_none() {
        Outcome::Fine
    } else {
        Outcome::Findings
    })
}

fn progress_json(progress: &history::Progress) -> serde_json::Value {
    serde_json::json!({
        "plan_id": progress.run.plan_id,
        "started_at": progress.run.started_at,
        "steps_recorded": progress.steps.len(),
        "message": progress.message(),
    })
}

/// `strata status`: target, last run, drift, pending migrations, whether pending.sql is current.
pub async fn status(ctx: &Context<'_>, args: &TargetArgs) -> Result<Outcome> {
    let target = resolve_target(ctx, args)?;
    let client = target.conninfo.connect().await?;
    let current = read_schema(ctx, &client).await?;
    let last = history::last_snapshot(&client).await?;
    let resumable = resumable_run(&client, &current).await?;
    let drift = match resumable {
        Some(_) => Vec::new(),
        None => drift_since_last_run(&client, &current).await?,
    };
    let files = load_migrations(ctx)?;
    let entries = migrations::status(&client, &files).await?;
    let pending: Vec<String> = entries
        .iter()
        .filter(|e| e.state != migrations::State::Applied)
        .map(|e| {
            format!(
                "{} ({:?})",
                e.file.clone().unwrap_or_else(|| e.name.clone()),
                e.state
            )
            .to_lowercase()
        })
        .collect();
    let path = ctx.root.join(FILE_NAME);
    let (pending_sql, rollout) = if path.exists() {
        let text = read_file(&path)?;
        let plan = Plan::parse(FILE_NAME, &text)?;
        let id = plan_id(&text);
        let rollout = Rollout::read(ctx, &target, &client, &id).await;
        let state = if resumable.as_ref().is_some_and(|p| p.run.plan_id == id) {
            "present, a run of it is in progress on this target: run `strata run` to finish it"
                .to_string()
        } else if history::run_finished(&client, &id).await? {
            match rollout.remaining().as_slice() {
                [] => "present, already applied on every target of its rollout: remove it (`strata run --git-commit` on the last target does)".to_string(),
                rest => format!("present, already applied on this target; still to run it: {}", rest.join(", ")),
            }
        } else if same_fingerprint(&plan.source_fingerprint, &current) {
            "present, planned against the database as it is".to_string()
        } else {
            "present, STALE: the database changed since it was planned".to_string()
        };
        (state, Some(rollout))
    } else {
        ("none".to_string(), None)
    };
    match ctx.reporter.format {
        Format::Json => ctx.reporter.json(&serde_json::json!({
            "target": target.name,
            "database": target.conninfo.to_string(),
            "database_source": target.source,
            "fingerprint": current.fingerprint().to_string(),
            "last_run": last.as_ref().map(|s| serde_json::json!({"fingerprint": s.fingerprint, "recorded_at": s.recorded_at})),
            "drift": drift,
            "run_in_progress": resumable.as_ref().map(progress_json),
            "pending_migrations": pending,
            "pending_sql": pending_sql,
            "rollout": rollout.as_ref().map(Rollout::to_json),
        })),
        Format::Text => {
            let mut text = format!(
                "target:             {} ({})\ndatabase from:      {}\nfingerprint:        {}\n",
                target.name,
                target.conninfo,
                target.source,
                current.fingerprint()
            );
            text.push_str(&format!(
                "last run:           {}\n",
                last.as_ref()
                    .map(|s| s.recorded_at.clone())
                    .unwrap_or_else(|| "never".into())
            ));
            if let Some(progress) = &resumable {
                text.push_str(&format!("run:                {}\n", progress.message()));
            }
            text.push_str(&format!(
                "drift:              {}\n",
                if drift.is_empty() { "none".to_string() } else { drift.join("; ") }
            ));
            text.push_str(&format!(
                "pending migrations: {}\n",
                if pending.is_empty() { "none".to_string() } else { pending.join(", ") }
            ));
            text.push_str(&format!("pending.sql:        {pending_sql}\n"));
            if let Some(rollout) = &rollout {
                text.push_str(&format!("rollout:            {}\n", rollout.describe()));
            }
            ctx.reporter.result(&text);
        }
    }
    Ok(Outcome::Fine)
}
