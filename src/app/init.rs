//! `strata init`: scaffolds pipeline.toml, schema/ and migrations/ in a directory, empty or
//! from an existing database (its schema dumped as the SDL baseline).

use super::{Context, Outcome};
use crate::catalog;
use crate::config::{ConfigError, MANIFEST_FILE};
use crate::ddl::{self, Split};
use crate::pg::ConnInfo;
use crate::Result;
use std::path::Path;

const MANIFEST: &str = r#"# strata manifest: see docs/manifest.md for every key. Every key is optional.

[schema]
# The desired schema: plain PostgreSQL DDL, any number of files, in any order.
files = ["schema/**/*.sql"]

[migrations]
# Numbered data migrations: NNNN_snake_name.sql, applied once each, in order.
dir = "migrations"

# [deploy]
# command = "./deploy.sh"      # runs between the expand and contract halves of a change

# Without targets, the target is $DATABASE_URL, else the server the PG* variables name,
# else the embedded PostgreSQL under .strata/ (docs/manifest.md, "Which database").
# [targets.production]
# url = "env:DATABASE_URL"
# lock_timeout = "3s"
# retries = 5
# on_drift = "fail"
"#;

/// The target `init --from-database` adopts; its URL stays out of the file (and of git),
/// since it may hold a password.
fn adopted_target(conninfo: &ConnInfo) -> String {
    format!(
        r#"
# The database this project was adopted from: {conninfo}
# Its URL is read from the environment so that no password lands in git:
#   export DATABASE_URL='postgresql://...'
[targets.production]
url = "env:DATABASE_URL"
lock_timeout = "3s"
retries = 5
on_drift = "fail"
"#
    )
}

const EMPTY_SCHEMA: &str = "-- Declare the schema here, as plain PostgreSQL DDL, e.g.\n\
-- CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);\n";

pub async fn init(ctx: &Context<'_>, from_database: Option<&str>) -> Result<Outcome> {
    let root = &ctx.root;
    let manifest = root.join(MANIFEST_FILE);
    if manifest.exists() {
        return Err(ConfigError::AlreadyExists { path: manifest }.into());
    }
    let mut manifest_text = MANIFEST.to_string();
    let schema_files = match from_database {
        Some(url) => {
            let conninfo = ConnInfo::parse(url)?;
            let client = conninfo.connect().await?;
            let found = {
                let _progress = ctx.reporter.progress("reading the database's schema");
                catalog::introspect(&client, &ctx.config).await?
            };
            for warning in &found.warnings {
                ctx.reporter.warn(&warning.to_string());
            }
            ctx.reporter.note(&format!(
                "dumped {} tables of {conninfo} ({})",
                found.schema.tables.len(),
                found.schema.fingerprint()
            ));
            manifest_text.push_str(&adopted_target(&conninfo));
            ddl::dump(&found.schema, Split::PerSchema)?
                .into_iter()
                .map(|f| (f.name, f.content))
                .collect()
        }
        None => vec![("schema.sql".to_string(), EMPTY_SCHEMA.to_string())],
    };
    write(&manifest, &manifest_text)?;
    for (name, content) in &schema_files {
        write(&root.join("schema").join(name), content)?;
    }
    write(&root.join("migrations/.gitkeep"), "")?;
    add_to_gitignore(&root.join(".gitignore"))?;
    ctx.reporter.note(&format!(
        "created {MANIFEST_FILE}, schema/ ({} file{}), migrations/ and .gitignore in {}",
        schema_files.len(),
        if schema_files.len() == 1 { "" } else { "s" },
        root.display()
    ));
    if ctx.reporter.format == crate::report::Format::Json {
        ctx.reporter.json(&serde_json::json!({
            "manifest": manifest,
            "schema_files": schema_files.iter().map(|(name, _)| format!("schema/{name}")).collect::<Vec<_>>(),
        }));
    }
    ctx.reporter.note(
        "next: edit schema/, then `strata plan` (or `strata apply` for the embedded database)",
    );
    Ok(Outcome::Fine)
}

fn write(path: &Path, content: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, &e.to_string()))?;
    }
    std::fs::write(path, content).map_err(|e| io_error(path, &e.to_string()).into())
}

fn add_to_gitignore(path: &Path) -> Result<()> {
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    if existing
        .lines()
        .any(|l| l.trim() == "/.strata" || l.trim() == ".strata")
    {
        return Ok(());
    }
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# strata's embedded PostgreSQL\n/.strata\n");
    write(path, &text)
}

fn io_error(path: &Path, message: &str) -> ConfigError {
    ConfigError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(message.to_string()),
    }
}
