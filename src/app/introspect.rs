//! `strata dump` and `strata fingerprint`: read the target's schema and print or write it.

use super::{resolve_target, Context, Outcome};
use crate::catalog::{self, Introspection};
use crate::cli::TargetArgs;
use crate::ddl::{self, Split};
use crate::report::Format;
use crate::Result;
use std::path::Path;

async fn read(ctx: &Context<'_>, target: &TargetArgs) -> Result<Introspection> {
    let target = resolve_target(ctx, target)?;
    let client = target.conninfo.connect().await?;
    let found = {
        let _progress = ctx
            .reporter
            .progress(&format!("reading the schema of {}", target.name));
        catalog::introspect(&client, &ctx.config).await?
    };
    for warning in &found.warnings {
        ctx.reporter.warn(&warning.to_string());
    }
    Ok(found)
}

/// Writes the live schema as SDL: to stdout, or as files under `out` (made if missing; the
/// files of an earlier dump there are replaced, other files left alone). With
/// `--format json` and no `out`, prints the model instead.
pub async fn dump(
    ctx: &Context<'_>,
    target: &TargetArgs,
    out: Option<&Path>,
    split: Split,
) -> Result<Outcome> {
    let found = read(ctx, target).await?;
    if ctx.reporter.format == Format::Json && out.is_none() {
        // The model itself, as snapshots store it.
        ctx.reporter.json(&found.schema);
        return Ok(Outcome::Fine);
    }
    let files = ddl::dump(&found.schema, split);
    match out {
        None => {
            let text: Vec<&str> = files.iter().map(|f| f.content.as_str()).collect();
            ctx.reporter.result(&text.join("\n"));
        }
        Some(dir) => {
            let io = |path: &Path| {
                let path = path.display().to_string();
                move |e: std::io::Error| catalog::CatalogError::Write {
                    path,
                    message: e.to_string(),
                }
            };
            std::fs::create_dir_all(dir).map_err(io(dir))?;
            // A previous dump's files would load after this one's: remove them first.
            let stale: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
                .map_err(io(dir))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(ddl::is_dump_file_name)
                })
                .collect();
            for path in stale {
                std::fs::remove_file(&path).map_err(io(&path))?;
            }
            for f in &files {
                let path = dir.join(&f.name);
                std::fs::write(&path, &f.content).map_err(io(&path))?;
            }
            ctx.reporter.note(&format!(
                "wrote {} file{} to {} ({})",
                files.len(),
                if files.len() == 1 { "" } else { "s" },
                dir.display(),
                found.schema.fingerprint()
            ));
        }
    }
    Ok(Outcome::Fine)
}

pub async fn fingerprint(ctx: &Context<'_>, target: &TargetArgs) -> Result<Outcome> {
    let found = read(ctx, target).await?;
    let fingerprint = found.schema.fingerprint();
    match ctx.reporter.format {
        Format::Json => ctx.reporter.json(&serde_json::json!({
            "fingerprint": fingerprint,
            "queries": found.queries,
            "warnings": found.warnings,
        })),
        Format::Text => ctx.reporter.result(&fingerprint.to_string()),
    }
    Ok(Outcome::Fine)
}
