//! `strata migrate new|status|up|repair`.

use super::{resolve_target, Context, Outcome};
use crate::cli::MigrateAction;
use crate::pg::lock::LockedConnection;
use crate::report::Format;
use crate::run::migrations::{self, ApplyOptions, State};
use crate::source::migration::{self, Loaded, MigrationError, MigrationId};
use crate::Result;
use std::path::PathBuf;
use std::time::Duration;

pub async fn run(ctx: &Context<'_>, action: MigrateAction) -> Result<Outcome> {
    match action {
        MigrateAction::New { name } => new(ctx, &name),
        MigrateAction::Status { target } => {
            let loaded = load(ctx)?;
            let target = resolve_target(ctx, &target)?;
            let client = target.conninfo.connect().await?;
            let entries = migrations::status(&client, &loaded.migrations).await?;
            report_status(ctx, &entries);
            let blocking = entries.iter().any(|e| {
                matches!(e.state, State::Changed | State::Missing)
                    || (e.state == State::OutOfOrder && !ctx.config.migrations.allow_out_of_order)
            });
            Ok(if blocking {
                Outcome::Findings
            } else {
                Outcome::Fine
            })
        }
        MigrateAction::Up {
            to,
            lock_wait,
            target,
        } => {
            let loaded = load(ctx)?;
            let target = resolve_target(ctx, &target)?;
            let mut lock = lock(ctx, &target.conninfo, lock_wait).await?;
            let options = ApplyOptions {
                to: to.map(MigrationId),
                allow_out_of_order: ctx.config.migrations.allow_out_of_order,
            };
            let report = migrations::apply_pending(
                lock.client_mut(),
                &loaded.migrations,
                &options,
                ctx.reporter,
            )
            .await?;
            match ctx.reporter.format {
                Format::Json => ctx.reporter.json(&report),
                Format::Text => ctx.reporter.result(&match report.applied.len() {
                    0 => "no pending migrations".to_string(),
                    n => format!("applied {n} migration{}", if n == 1 { "" } else { "s" }),
                }),
            }
            Ok(Outcome::Fine)
        }
        MigrateAction::Repair {
            id,
            reason,
            lock_wait,
            target,
        } => {
            let loaded = load(ctx)?;
            let target = resolve_target(ctx, &target)?;
            let mut lock = lock(ctx, &target.conninfo, lock_wait).await?;
            let outcome = migrations::repair(
                lock.client_mut(),
                &loaded.migrations,
                MigrationId(id),
                &reason,
            )
            .await?;
            match ctx.reporter.format {
                Format::Json => ctx.reporter.json(&outcome),
                Format::Text if outcome.repaired => ctx.reporter.result(&format!(
                    "migration {} repaired: the file as it is now is recorded as applied",
                    outcome.id
                )),
                Format::Text => ctx.reporter.result(&format!(
                    "migration {} already matches its file: nothing to repair",
                    outcome.id
                )),
            }
            Ok(Outcome::Fine)
        }
    }
}

fn dir(ctx: &Context) -> PathBuf {
    ctx.root.join(&ctx.config.migrations.dir)
}

/// Reads and checks the migration files; warnings (DDL) go to the reporter.
fn load(ctx: &Context) -> Result<Loaded> {
    let loaded = migration::load_dir(&dir(ctx), ctx.config.migrations.ddl)?;
    for warning in &loaded.warnings {
        ctx.reporter.warn(&warning.to_string());
    }
    Ok(loaded)
}

async fn lock(
    ctx: &Context<'_>,
    conninfo: &crate::pg::ConnInfo,
    wait_secs: u64,
) -> Result<LockedConnection> {
    Ok(
        LockedConnection::acquire(conninfo, Duration::from_secs(wait_secs), || {
            ctx.reporter
                .note("another strata run holds the lock on the target; waiting for it")
        })
        .await?,
    )
}

fn new(ctx: &Context, name: &str) -> Result<Outcome> {
    let dir = dir(ctx);
    let file = migration::next_file_name(&dir, name)?;
    let io = |e: std::io::Error| MigrationError::Io {
        path: dir.display().to_string(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    let path = dir.join(&file);
    let text = format!(
        "-- {file}: describe the data change.\n\
         -- Runs once, in one transaction. Directives (leading comments only):\n\
         --   -- strata:no-transaction   statement by statement, no transaction\n\
         --   -- strata:batch            one DML statement, repeated until it affects no rows\n"
    );
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
        .map_err(io)?;
    match ctx.reporter.format {
        Format::Json => ctx.reporter.json(&serde_json::json!({ "file": path })),
        Format::Text => ctx.reporter.result(&path.display().to_string()),
    }
    Ok(Outcome::Fine)
}

fn report_status(ctx: &Context, entries: &[migrations::StatusEntry]) {
    if ctx.reporter.format == Format::Json {
        ctx.reporter
            .json(&serde_json::json!({ "migrations": entries }));
        return;
    }
    if entries.is_empty() {
        ctx.reporter.result("no migrations");
        return;
    }
    let mut out = String::new();
    for e in entries {
        let state = match e.state {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Changed => "CHANGED",
            State::Missing => "MISSING",
            State::OutOfOrder => "out-of-order",
        };
        let file = e
            .file
            .clone()
            .unwrap_or_else(|| format!("{}_{}.sql (no file)", e.id, e.name));
        let checksum = e
            .checksum
            .map(|c| c.to_string())
            .unwrap_or_else(|| "-".into());
        out.push_str(&format!("{state:<13} {file:<40} {checksum}"));
        if let Some(directive) = e.mode.and_then(|m| m.directive()) {
            out.push_str(&format!("  [{directive}]"));
        }
        if let Some(applied_on) = &e.applied_on {
            out.push_str(&format!("  applied {applied_on}"));
        }
        if let Some(rows) = e.batch_rows_done {
            out.push_str(&format!("  (batch in progress: {rows} rows done)"));
        }
        out.push('\n');
    }
    ctx.reporter.result(&out);
}
