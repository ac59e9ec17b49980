use super::{drift_since_last_run, load_migrations, read_schema};
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
    let changes = drift_since_last_run(&client, &current).await?;
    match ctx.reporter.format {
        Format::Json => ctx.reporter.json(&serde_json::json!({
            "target": target.name,
            "snapshot": last.as_ref().map(|(f, _, at)| serde_json::json!({"fingerprint": f, "recorded_at": at})),
            "fingerprint": current.fingerprint().to_string(),
            "drift": changes,
        })),
        Format::Text => {
            if last.is_none() {
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
    Ok(if changes.is_empty() {
        Outcome::Fine
    } else {
        Outcome::Findings
    })
}

/// `strata status`: target, last run, drift, pending migrations, whether pending.sql is current.
pub async fn status(ctx: &Context<'_>, args: &TargetArgs) -> Result<Outcome> {
    let target = resolve_target(ctx, args)?;
    let client = target.conninfo.connect().await?;
    let current = read_schema(ctx, &client).await?;
    let last = history::last_snapshot(&client).await?;
    let drift = drift_since_last_run(&client, &current).await?;
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
    let pending_sql = if path.exists() {
        let plan = Plan::parse(FILE_NAME, &read_file(&path)?)?;
        if same_fingerprint(&plan.source_fingerprint, &current) {
            "present, planned against the database as it is"
        } else if same_fingerprint(&plan.desired_fingerprint, &current) {
            "present, already applied (remove it, or run `strata run --git-commit`)"
        } else {
            "present, STALE: the database changed since it was planned"
        }
    } else {
        "none"
    };
    match ctx.reporter.format {
        Format::Json => ctx.reporter.json(&serde_json::json!({
            "target": target.name,
            "database": target.conninfo.to_string(),
            "database_source": target.source,
            "fingerprint": current.fingerprint().to_string(),
            "last_run": last.as_ref().map(|(f, _, at)| serde_json::json!({"fingerprint": f, "recorded_at": at})),
            "drift": drift,
            "pending_migrations": pending,
            "pending_sql": pending_sql,
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
                    .map(|(_, _, at)| at.clone())
                    .unwrap_or_else(|| "never".into())
            ));
            text.push_str(&format!(
                "drift:              {}\n",
                if drift.is_empty() { "none".to_string() } else { drift.join("; ") }
            ));
            text.push_str(&format!(
                "pending migrations: {}\n",
                if pending.is_empty() { "none".to_string() } else { pending.join(", ") }
            ));
            text.push_str(&format!("pending.sql:        {pending_sql}\n"));
            ctx.reporter.result(&text);
        }
    }
    Ok(Outcome::Fine)
}
