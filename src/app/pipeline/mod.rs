//! The pipeline commands: `plan`, `run`, `check`, `drift`, `status`, `apply`.
//!
//! Each is a sequence of IO steps over the pieces that do the work: `catalog` reads schemas,
//! `source` reads schema/ and migrations/, `pg` makes shadow databases, `plan` simulates and
//! renders, `run` executes, `git` records.

mod apply;
mod check;
mod inspect;
mod plan;
mod rollout;
pub(crate) mod run;

pub use apply::apply;
pub use check::check;
pub use inspect::{drift, status};
pub use plan::plan;
pub use run::run;
pub(crate) use run::{execute_plan, Choices};

use super::{resolve_shadow, Context};
use crate::app::ResolvedTarget;
use crate::model::Schema;
use crate::pg::shadow::ShadowDb;
use crate::pg::ConnInfo;
use crate::plan::simulate::{self, Inputs};
use crate::plan::Plan;
use crate::run::history;
use crate::source::migration::{self, Migration};
use crate::source::{load::shadow_from_sdl, sdl};
use crate::Result;
use tokio_postgres::Client;

/// Reads a schema and reports what strata does not model.
pub(crate) async fn read_schema(ctx: &Context<'_>, client: &Client) -> Result<Schema> {
    let read = crate::catalog::introspect(client, &ctx.config).await?;
    Ok(with_warnings_told(ctx, read))
}

/// The schema of a shadow database, read over `[shadow] jobs` connections sharing one
/// snapshot.
pub(crate) async fn read_shadow_schema(ctx: &Context<'_>, shadow: &ConnInfo) -> Result<Schema> {
    let jobs = ctx.config.shadow_jobs();
    let read = crate::catalog::introspect_over(shadow, jobs, &ctx.config).await?;
    Ok(with_warnings_told(ctx, read))
}

fn with_warnings_told(ctx: &Context<'_>, read: crate::catalog::Introspection) -> Schema {
    for warning in &read.warnings {
        ctx.reporter.warn(&warning.to_string());
    }
    read.schema
}

/// Objects added, removed or changed since the snapshot the last run stored, one line each.
/// Empty when nothing changed or no run stored a snapshot yet.
pub(crate) async fn drift_since_last_run(client: &Client, current: &Schema) -> Result<Vec<String>> {
    let Some(last) = history::last_snapshot(client).await? else {
        return Ok(Vec::new());
    };
    if last.fingerprint == current.fingerprint().to_string() {
        return Ok(Vec::new());
    }
    let Some(stored) = history::snapshot_model(client, &last).await? else {
        return Ok(vec![format!(
            "the schema changed since the last run (fingerprint {}; the stored snapshot is from another strata version)",
            last.fingerprint
        )]);
    };
    Ok(crate::plan::stage::describe_differences(&stored, current))
}

/// The run in progress on the target that `strata run` can finish: the run started last,
/// not finished, that recorded at least one step and whose recorded steps explain the
/// target's schema (`history::Progress`). While there is one, the differences from the last
/// snapshot are that run's, not drift. A run that recorded no step changed nothing: the
/// target is simply at its plan's source, and nothing blocks planning anew.
pub(crate) async fn resumable_run(
    client: &Client,
    current: &Schema,
) -> Result<Option<history::Progress>> {
    let actual = current.fingerprint().to_string();
    Ok(history::unfinished_run(client)
        .await?
        .filter(|progress| progress.begun() && progress.explains(&actual)))
}

/// The migrations of the project, with warnings reported.
pub(crate) fn load_migrations(ctx: &Context<'_>) -> Result<Vec<Migration>> {
    let dir = ctx.root.join(&ctx.config.migrations.dir);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let loaded = migration::load_dir(&dir, ctx.config.migrations.ddl)?;
    for warning in &loaded.warnings {
        ctx.reporter.warn(&warning.to_string());
    }
    Ok(loaded.migrations)
}

/// Migrations not applied on the target yet, after the checks (edited, missing, out of order).
pub(crate) async fn pending_migrations<'m>(
    ctx: &Context<'_>,
    client: &Client,
    migrations: &'m [Migration],
) -> Result<Vec<&'m Migration>> {
    let history = if crate::run::migrations::tables_exist(client).await? {
        crate::run::migrations::applied(client).await?
    } else {
        Default::default()
    };
    Ok(crate::run::migrations::check(
        &history,
        migrations,
        ctx.config.migrations.allow_out_of_order,
    )?)
}

/// Loads schema/ into a shadow database, clones the target into another, and simulates the
/// stages from `source` (the target's schema, read by the caller with `client`). Both shadow
/// databases are dropped afterwards, whatever happens.
pub(crate) async fn make_plan(
    ctx: &Context<'_>,
    resolved: &ResolvedTarget,
    client: &Client,
    source: Schema,
    drift: Vec<String>,
    allow_empty_schema: bool,
) -> Result<Plan> {
    if source.tables.len() >= TABLES_FOR_SMALL_FOOTPRINT {
        return_freed_memory_at_once();
    }
    let (target_name, target) = (resolved.name.as_str(), &resolved.conninfo);
    let migrations = load_migrations(ctx)?;
    let pending = pending_migrations(ctx, client, &migrations).await?;
    let sdl = sdl::load_config(&ctx.config)?;
    sdl::require_intent(
        &sdl,
        &ctx.config.schema.files,
        sdl::object_count(&source),
        allow_empty_schema,
    )?;
    let admin = resolve_shadow(ctx)?;
    // Before loading schema/ there: a shadow of another major is refused, not half used.
    crate::pg::clone::same_major(target, &admin).await?;
    let renames = crate::source::annotations::renames(&sdl, &ctx.config.plan);
    // Loading schema/ and cloning the target are independent: done at once, each on its own
    // server backend (one progress line: two spinners would fight over the terminal).
    let (desired, clone) = {
        let _progress = ctx
            .reporter
            .progress("loading schema/ and cloning the target's schema into shadow databases");
        let desired = async {
            let (db, _) =
                shadow_from_sdl(&admin, &sdl, "desired", ctx.config.shadow_jobs()).await?;
            // The parsed files (tens of MB at 10,000 tables) are not needed once loaded:
            // not held beside the desired schema's model and the clone's parsed dump.
            drop(sdl);
            let schema = read_shadow_schema(ctx, &db.conninfo).await;
            let _ = db.drop_now().await;
            schema
        };
        let note = |m: &str| ctx.reporter.note(m);
        let clone =
            crate::catalog::clone::clone_schema(target, &admin, "simulate", &ctx.config, &note);
        tokio::join!(desired, clone)
    };
    let (desired, clone) = match (desired, clone) {
        (Ok(desired), Ok(clone)) => (desired, clone),
        (Err(e), clone) => {
            if let Ok(clone) = clone {
                let _ = clone.drop_now().await;
            }
            return Err(e);
        }
        (Ok(_), Err(e)) => return Err(e.into()),
    };
    let plan = simulate_on(
        ctx,
        &clone,
        target_name,
        (source, &desired),
        &pending,
        drift,
        &renames,
    )
    .await;
    let _ = clone.drop_now().await;
    plan
}

/// A plan holds up to three models and a parsed dump at once, and builds one while it frees
/// another's rows. mimalloc (the binary's allocator) hands emptied pages back to the system
/// only after a delay by default; at 10,000 tables (`wide` mix) the pages still held added
/// about 70 MB to `plan`'s peak RSS (727-744 MB against 662-665 MB). Handing them back at
/// once costs CPU on every free: `plan` at 1,000 tables took 16% more client CPU and 4% more
/// wall time for it, `diff` at 1,000 tables 6-10% more wall time. So only a plan of a big
/// schema asks for it (from [`TABLES_FOR_SMALL_FOOTPRINT`] tables in the target, a choice
/// between the two measured sizes). `MIMALLOC_PURGE_DELAY` (milliseconds) overrides it.
const TABLES_FOR_SMALL_FOOTPRINT: usize = 2_000;

fn return_freed_memory_at_once() {
    // `mi_option_purge_delay` in mimalloc.h (v2 and v3); the crate's bindings leave it out.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: sets one of mimalloc's option values; it has no other precondition.
    unsafe { libmimalloc_sys::mi_option_set_default(PURGE_DELAY, 0) }
}

async fn simulate_on(
    ctx: &Context<'_>,
    clone: &ShadowDb,
    target_name: &str,
    (source, desired): (Schema, &Schema),
    pending: &[&Migration],
    drift: Vec<String>,
    renames: &crate::source::annotations::Renames,
) -> Result<Plan> {
    Ok(simulate::simulate(
        Inputs {
            config: &ctx.config,
            target_name,
            source,
            desired,
            clone: &clone.conninfo,
            pending_migrations: pending,
            drift,
            planned_at: now_rfc3339(),
            renames,
        },
        ctx.reporter,
    )
    .await?)
}

/// What differs between `actual` and the schema a plan was to reach (`planned`, its
/// fingerprint), object by object, for the error that says the two differ: schema/ is
/// loaded again; when it no longer has that fingerprint, only that is said. Never fails:
/// it words an error already being reported.
pub(crate) async fn divergence(ctx: &Context<'_>, actual: &Schema, planned: &str) -> Vec<String> {
    let desired: Result<Schema> = async {
        let sdl = sdl::load_config(&ctx.config)?;
        let admin = resolve_shadow(ctx)?;
        let (db, _) = shadow_from_sdl(&admin, &sdl, "desired", ctx.config.shadow_jobs()).await?;
        let schema = read_shadow_schema(ctx, &db.conninfo).await;
        let _ = db.drop_now().await;
        schema
    }
    .await;
    match desired {
        Ok(desired) if simulate::same_fingerprint(planned, &desired) => {
            crate::plan::compare::differences(
                actual,
                &desired,
                ("the target", "the planned schema"),
                20,
            )
        }
        Ok(_) => vec!["(schema/ changed since the plan: the objects cannot be named)".into()],
        Err(e) => vec![format!(
            "(the planned schema could not be read to name the objects: {e})"
        )],
    }
}

pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formattable")
}

/// The plan's identity for run history: sha256 of pending.sql as merged.
pub(crate) fn plan_id(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}
