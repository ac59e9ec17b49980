//! `strata diff --from SRC --to SRC`: the DDL that turns one schema into another.
//!
//! A source is a PostgreSQL URL (read as it is) or a file or directory of SDL (loaded into a
//! shadow database first). Both sides are read by the same catalog code. `--from` defaults to
//! the target database, `--to` to the manifest's schema files. Read-only: prints SQL
//! (destructive statements included) or, with `--format json`, the typed changes.

use super::{resolve_shadow, resolve_target, Context, Outcome};
use crate::cli::DiffArgs;
use crate::model::Schema;
use crate::pg::ConnInfo;
use crate::report::Format;
use crate::source::annotations::Renames;
use crate::source::{load::shadow_from_sdl, sdl};
use crate::Result;
use std::path::PathBuf;

/// Where one side of a diff comes from.
#[derive(Debug, Clone)]
pub enum SchemaSource {
    Url(Box<ConnInfo>),
    Sdl(PathBuf),
    /// The manifest's `[schema] files`.
    Manifest,
}

impl SchemaSource {
    /// `postgres://…`/`postgresql://…` (or a `key=value` connection string) is a database;
    /// anything else a path.
    pub fn parse(text: &str) -> Result<SchemaSource> {
        if text.starts_with("postgres://")
            || text.starts_with("postgresql://")
            || (text.contains('=') && !std::path::Path::new(text).exists())
        {
            return Ok(SchemaSource::Url(Box::new(ConnInfo::parse(text)?)));
        }
        Ok(SchemaSource::Sdl(PathBuf::from(text)))
    }
}

pub async fn run(ctx: &Context<'_>, args: &DiffArgs) -> Result<Outcome> {
    let from = match &args.from {
        Some(text) => SchemaSource::parse(text)?,
        None => SchemaSource::Url(Box::new(resolve_target(ctx, &args.target)?.conninfo)),
    };
    let to = match &args.to {
        Some(text) => SchemaSource::parse(text)?,
        None => SchemaSource::Manifest,
    };
    // Both sides at once: two server backends work in parallel. Not when both are SDL: two
    // progress spinners would fight over one terminal line.
    let allow = args.allow_empty_schema;
    let (from_schema, to_schema) =
        if matches!(from, SchemaSource::Url(_)) || matches!(to, SchemaSource::Url(_)) {
            tokio::try_join!(read(ctx, &from, "from", allow), read(ctx, &to, "to", allow))?
        } else {
            (
                read(ctx, &from, "from", allow).await?,
                read(ctx, &to, "to", allow).await?,
            )
        };
    // Schema files that declare nothing, against a side that holds objects.
    for (source, side, other) in [
        (&to, &to_schema.0, &from_schema.0),
        (&from, &from_schema.0, &to_schema.0),
    ] {
        let files = match source {
            SchemaSource::Url(_) => continue,
            SchemaSource::Sdl(path) => vec![path.display().to_string()],
            SchemaSource::Manifest => ctx.config.schema.files.clone(),
        };
        if sdl::object_count(side) == 0 {
            let declares_nothing = sdl::Sdl::default();
            sdl::require_intent(&declares_nothing, &files, sdl::object_count(other), allow)?;
        }
    }
    let ((from, _, from_major), (to, to_renames, _)) = (from_schema, to_schema);
    // `-- strata:using` conversions in the schema files of the side diffed to.
    let conversions = to_renames.unwrap_or_default();
    let options = crate::diff::Options {
        conversions: conversions.conversions(),
        server_major: Some(from_major),
    };
    let changes = crate::diff::diff_with(&from, &to, options)?;
    match ctx.reporter.format {
        Format::Json => ctx
            .reporter
            .json(&serde_json::json!({ "changes": changes })),
        Format::Text => {
            if changes.is_empty() {
                ctx.reporter
                    .note("the schemas are equal: nothing to change");
            } else {
                ctx.reporter.result(&crate::diff::render(&changes));
            }
        }
    }
    // The process ends once the command returns: freeing the two models one allocation at
    // a time would take about 15 ms at 1,000 tables, for nothing (clang's driver skips
    // freeing at exit for the same reason).
    std::mem::forget((from, to));
    Ok(Outcome::Fine)
}

/// Reads one side into the model (through a shadow database for SDL), with the renames and
/// conversions annotated in the schema files it was loaded from (taken from the load's parse:
/// parsing them twice costs time) and the major version of the server it was read from (the
/// diff's SQL runs on `from`'s).
pub async fn read(
    ctx: &Context<'_>,
    source: &SchemaSource,
    purpose: &str,
    allow_empty_schema: bool,
) -> Result<(Schema, Option<Renames>, u32)> {
    let sdl = match source {
        SchemaSource::Url(conninfo) => {
            let (schema, major) = read_database(ctx, conninfo, 1).await?;
            return Ok((schema, None, major));
        }
        SchemaSource::Sdl(path) => sdl::load_path(path)?,
        SchemaSource::Manifest => sdl::load_config(&ctx.config)?,
    };
    // A glob that matches nothing is refused before anything is loaded.
    sdl::require_intent(&sdl, &ctx.config.schema.files, 0, allow_empty_schema)?;
    let admin = resolve_shadow(ctx)?;
    let (shadow, _stats) = {
        let _progress = ctx.reporter.progress(&format!(
            "loading the {purpose} schema into a shadow database"
        ));
        shadow_from_sdl(&admin, &sdl, purpose, ctx.config.shadow_jobs()).await?
    };
    // The parsed files (about 30 MB at 10,000 tables) are not held while the model is read.
    let renames = crate::source::annotations::renames(&sdl, &ctx.config.plan);
    drop(sdl);
    let read = read_database(ctx, &shadow.conninfo, ctx.config.shadow_jobs()).await;
    shadow.drop_now().await?;
    let (schema, major) = read?;
    Ok((schema, Some(renames), major))
}

/// A database given by URL is read over one connection (it may be production's, behind a
/// pooler); a shadow database strata made, over `jobs`.
async fn read_database(
    ctx: &Context<'_>,
    conninfo: &ConnInfo,
    jobs: usize,
) -> Result<(Schema, u32)> {
    let client = conninfo.connect().await?;
    let schema = if jobs > 1 {
        crate::catalog::introspect_over(conninfo, jobs, &ctx.config)
            .await?
            .schema
    } else {
        crate::catalog::catalog(&client, &ctx.config).await?
    };
    Ok((
        schema,
        crate::pg::server_version_num(&client).await? / 10000,
    ))
}
