//! `strata dump` and `strata fingerprint`: read the target's schema and print or write it.

use super::{resolve_target, Context, Outcome};
use crate::catalog::{self, Introspection};
use crate::cli::TargetArgs;
use crate::ddl::{self, Split};
use crate::model::Schema;
use crate::report::stream::Piece;
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
        ctx.reporter
            .json_pieces(vec![("schema".into(), schema_pieces(&found.schema))]);
        return Ok(Outcome::Fine);
    }
    let files = ddl::dump(&found.schema, split)?;
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
            // A previous dump's files that this one does not write would load with it:
            // removed. Files whose bytes are the same are left untouched.
            let mut earlier = Vec::new();
            dump_files_under(dir, "", &mut earlier);
            for name in earlier {
                if !files.iter().any(|f| f.name == name) {
                    let path = dir.join(&name);
                    std::fs::remove_file(&path).map_err(io(&path))?;
                    if let Some(parent) = path.parent().filter(|p| *p != dir) {
                        // Emptied kind and schema directories go too (fails when not empty).
                        let _ = std::fs::remove_dir(parent);
                        let _ = parent
                            .parent()
                            .filter(|p| *p != dir)
                            .map(std::fs::remove_dir);
                    }
                }
            }
            for f in &files {
                let path = dir.join(&f.name);
                if std::fs::read(&path).is_ok_and(|old| old == f.content.as_bytes()) {
                    continue;
                }
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(io(parent))?;
                }
                std::fs::write(&path, &f.content).map_err(io(&path))?;
            }
            if ctx.reporter.format == Format::Json {
                ctx.reporter.json(&serde_json::json!({
                    "directory": dir,
                    "files": files.iter().map(|f| &f.name).collect::<Vec<_>>(),
                    "fingerprint": found.schema.fingerprint(),
                }));
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

/// The files of an earlier dump under `dir` (at most three levels deep, as `per-object`
/// writes them), as `/`-separated paths relative to it.
fn dump_files_under(dir: &Path, prefix: &str, found: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let relative = format!("{prefix}{name}");
        match entry.file_type() {
            Ok(t) if t.is_dir() && prefix.matches('/').count() < 2 => {
                dump_files_under(&entry.path(), &format!("{relative}/"), found)
            }
            Ok(t) if t.is_file() && ddl::is_dump_file_name(&relative) => found.push(relative),
            _ => {}
        }
    }
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

/// The model's serialisation as pieces: each kind's list written one entry at a time, so the
/// output of a 10,000-table schema is never held whole. The destructuring lists every field,
/// so a new one fails to compile until it is placed here, with its serde attributes.
fn schema_pieces(schema: &Schema) -> Piece<'_> {
    fn value(value: &impl serde::Serialize) -> serde_json::Value {
        serde_json::to_value(value).expect("the model serialises")
    }
    fn whole(field: &impl serde::Serialize) -> Piece<'_> {
        Piece::Whole(value(field))
    }
    fn pairs<'a, I, K, V>(entries: I) -> Piece<'a>
    where
        I: Iterator<Item = (K, V)> + 'a,
        K: serde::Serialize,
        V: serde::Serialize,
    {
        Piece::List(Box::new(entries.map(|pair| value(&pair))))
    }
    let Schema {
        schemas,
        extensions,
        collations,
        types,
        sequences,
        tables,
        indexes,
        views,
        functions,
        triggers,
        policies,
        default_privileges,
        statistics,
        dependencies,
    } = schema;
    let mut members = vec![
        ("schemas", whole(schemas)),
        ("extensions", whole(extensions)),
        ("types", pairs(types.iter())),
        ("sequences", pairs(sequences.iter())),
        ("tables", pairs(tables.iter())),
        ("indexes", pairs(indexes.iter())),
        ("views", pairs(views.iter())),
        ("functions", pairs(functions.iter())),
        ("triggers", pairs(triggers.iter())),
        ("policies", pairs(policies.iter())),
        ("default_privileges", whole(default_privileges)),
        ("dependencies", pairs(dependencies.iter())),
    ];
    // Left out when empty, as `Schema`'s serialisation leaves them out.
    if !collations.is_empty() {
        members.push(("collations", pairs(collations.iter())));
    }
    if !statistics.is_empty() {
        members.push(("statistics", pairs(statistics.iter())));
    }
    Piece::Object(
        members
            .into_iter()
            .map(|(name, piece)| (name.to_string(), piece))
            .collect(),
    )
}
