//! `strata lint [FILES...]`: reads the files, lints them (pure), renders the findings.

use super::{Context, Outcome};
use crate::lint::{self, render, FileKind, Input};
use crate::plan::pending::FILE_NAME;
use crate::report::OutputFormat;
use crate::source::statements::{read_file, SourceError};
use crate::Result;
use std::path::{Path, PathBuf};

pub fn run(ctx: &Context, files: &[PathBuf], format: OutputFormat) -> Result<Outcome> {
    let paths = if files.is_empty() {
        default_files(ctx)?
    } else {
        let mut paths = Vec::new();
        for file in files {
            expand(&ctx.root, file, &mut paths)?;
        }
        paths
    };
    let mut inputs = Vec::with_capacity(paths.len());
    for shown in paths {
        let text = read_file(&resolve(&ctx.root, &shown))?;
        let kind = if shown.file_name().is_some_and(|n| n == FILE_NAME) {
            FileKind::Pending
        } else {
            FileKind::Migration
        };
        inputs.push(Input {
            path: shown.display().to_string(),
            text,
            kind,
        });
    }
    let linted = inputs.len();
    let lint_config = &ctx.config.lint;
    if lint_config.require_fk_index || lint_config.require_primary_key {
        inputs.extend(schema_context(ctx));
    }
    let findings = lint::lint(&inputs, lint_config);
    let reporter = ctx.reporter;
    match format {
        OutputFormat::Text => reporter.result(&render::text(&findings, linted)),
        OutputFormat::Json => reporter.json(&render::json(&findings, linted)),
        OutputFormat::Github => {
            reporter.result(&render::github(&findings));
            reporter.note(&render::summary(&findings, linted));
        }
        OutputFormat::Sarif => reporter.raw_json(&render::sarif(&findings)),
    }
    Ok(if lint::has_errors(&findings) {
        Outcome::Findings
    } else {
        Outcome::Fine
    })
}

/// The desired schema's files, so that a foreign key or table in pending.sql is checked
/// against the indexes and keys the schema declares. When they cannot be read, the rules
/// see the linted files only, and the person is told.
fn schema_context(ctx: &Context) -> Vec<Input> {
    match crate::source::sdl::load_config(&ctx.config) {
        Ok(sdl) => sdl
            .files
            .into_iter()
            .map(|file| Input {
                path: file.path,
                text: file.text,
                kind: FileKind::Schema,
            })
            .collect(),
        Err(error) => {
            ctx.reporter.warn(&format!(
                "schema files not read, so require-fk-index and require-primary-key see only the linted files: {error}"
            ));
            Vec::new()
        }
    }
}

/// Every migration file and pending.sql when present, shown relative to the project.
fn default_files(ctx: &Context) -> Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    let dir = &ctx.config.migrations.dir;
    if resolve(&ctx.root, dir).is_dir() {
        expand(&ctx.root, dir, &mut paths)?;
    }
    if ctx.root.join(FILE_NAME).is_file() {
        paths.push(PathBuf::from(FILE_NAME));
    }
    Ok(paths)
}

/// A file, or the `.sql` files of a directory (sorted).
fn expand(root: &Path, shown: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let path = resolve(root, shown);
    if !path.is_dir() {
        out.push(shown.to_path_buf());
        return Ok(());
    }
    let entries = std::fs::read_dir(&path).map_err(|e| SourceError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name())
        .filter(|name| {
            let name = name.to_string_lossy();
            name.ends_with(".sql") && !name.starts_with('.')
        })
        .map(|name| shown.join(name))
        .filter(|shown| resolve(root, shown).is_file())
        .collect();
    files.sort();
    out.extend(files);
    Ok(())
}

/// Relative paths are relative to the project (`-C`), as every path strata reads.
fn resolve(root: &Path, shown: &Path) -> PathBuf {
    if shown.is_absolute() {
        shown.to_path_buf()
    } else {
        root.join(shown)
    }
}
