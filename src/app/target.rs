use super::Context;
use crate::cli::TargetArgs;
use crate::config::{Config, Target, UrlSource, LOCAL_TARGET};
use crate::pg::embedded::{Cluster, DEV_DATABASE};
use crate::pg::ConnInfo;
use crate::Result;

/// The database a command works on, with the policies of the manifest's target.
#[derive(Debug, Clone)]
pub struct ResolvedTarget {
    pub name: String,
    pub conninfo: ConnInfo,
    pub policy: Target,
    /// Where the URL came from, for people: `--database-url`, `env:PROD_URL of [targets.prod]`, ...
    pub source: String,
}

/// Where the database URL of a command comes from (docs/manifest.md, "Which database"):
/// 1. `--database-url`, the explicit override;
/// 2. the URL of the target named with `--target` (a `DATABASE_URL` in the environment is then
///    ignored, with a warning);
/// 3. `DATABASE_URL`, when no target is named;
/// 4. the default target's URL;
/// 5. with no target declared at all: the server the `PG*` variables name, as libpq would
///    connect with an empty conninfo, else the embedded cluster's `dev` database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlChoice {
    Flag(String),
    Target {
        url: String,
        written: String,
    },
    DatabaseUrl(String),
    /// The `PG*` variables that are set (libpq fills in the rest).
    PgEnv(Vec<&'static str>),
    Embedded,
}

/// The `PG*` variables that name a server or database; PGPASSWORD or PGSSLMODE alone do not.
const PG_SERVER_VARS: [&str; 5] = ["PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE"];

/// The target whose policies apply, the URL choice, and any warning to show. Pure: the
/// environment is passed in.
pub fn choose_url<'c>(
    config: &'c Config,
    args: &TargetArgs,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(&'c Target, UrlChoice, Option<String>)> {
    let env = |var: &str| env(var).filter(|v| !v.is_empty());
    let policy = config.target(args.target.as_deref())?;
    if let Some(url) = &args.database_url {
        return Ok((policy, UrlChoice::Flag(url.clone()), None));
    }
    let database_url = env("DATABASE_URL");
    if let Some(name) = &args.target {
        let reads_database_url = policy.url == UrlSource::Env("DATABASE_URL".into());
        let warning = database_url.filter(|_| !reads_database_url).map(|_| {
            format!(
                "DATABASE_URL is set but ignored: --target {name} uses the target's own URL \
                 ({}); pass --database-url to override it",
                written(policy)
            )
        });
        return Ok((policy, target_choice(policy, env)?, warning));
    }
    if let Some(url) = database_url {
        return Ok((policy, UrlChoice::DatabaseUrl(url), None));
    }
    let implicit_local = policy.name == LOCAL_TARGET && !config.declares_targets;
    let pg_vars: Vec<&'static str> = PG_SERVER_VARS
        .into_iter()
        .filter(|var| env(var).is_some())
        .collect();
    if implicit_local && !pg_vars.is_empty() {
        return Ok((policy, UrlChoice::PgEnv(pg_vars), None));
    }
    Ok((policy, target_choice(policy, env)?, None))
}

fn target_choice(policy: &Target, env: impl Fn(&str) -> Option<String>) -> Result<UrlChoice> {
    Ok(match policy.resolve_url_with(env)? {
        Some(url) => UrlChoice::Target {
            url,
            written: written(policy),
        },
        None => UrlChoice::Embedded,
    })
}

/// The target's `url` as the manifest writes it (a literal URL with its password masked).
fn written(policy: &Target) -> String {
    policy.url.to_string()
}

impl UrlChoice {
    /// Where the URL came from, in words.
    pub fn describe(&self, target: &str) -> String {
        match self {
            UrlChoice::Flag(_) => "--database-url".into(),
            UrlChoice::Target { written, .. } => {
                format!("url = \"{written}\" of [targets.{target}]")
            }
            UrlChoice::DatabaseUrl(_) => "DATABASE_URL (no --target given)".into(),
            UrlChoice::PgEnv(vars) => format!(
                "the libpq environment ({}; no target declared in pipeline.toml)",
                vars.join(", ")
            ),
            UrlChoice::Embedded => format!("the embedded cluster (`{DEV_DATABASE}` database)"),
        }
    }
}

/// Resolves the target of a command, says on stderr which database it is and why, and
/// starts the embedded cluster when that is the one.
pub fn resolve_target(ctx: &Context, args: &TargetArgs) -> Result<ResolvedTarget> {
    let (policy, choice, warning) = choose_url(&ctx.config, args, |var| std::env::var(var).ok())?;
    if let Some(warning) = warning {
        ctx.reporter.warn(&warning);
    }
    let conninfo = match &choice {
        UrlChoice::Flag(url) | UrlChoice::DatabaseUrl(url) | UrlChoice::Target { url, .. } => {
            ConnInfo::parse(url)?
        }
        UrlChoice::PgEnv(_) => ConnInfo::parse("")?,
        UrlChoice::Embedded => embedded(ctx)?.conninfo(DEV_DATABASE)?,
    };
    let source = choice.describe(&policy.name);
    ctx.reporter.note(&format!(
        "target {}: {conninfo}, from {source}",
        policy.name
    ));
    Ok(ResolvedTarget {
        name: policy.name.clone(),
        conninfo,
        policy: policy.clone(),
        source,
    })
}

/// Connection to the shadow server's maintenance database, where shadow databases are made.
/// `STRATA_SHADOW_URL` in the environment takes the place of the manifest's `[shadow] url`.
pub fn resolve_shadow(ctx: &Context) -> Result<ConnInfo> {
    if let Some(url) = std::env::var("STRATA_SHADOW_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        return Ok(ConnInfo::parse(&url)?);
    }
    Ok(match &ctx.config.shadow {
        UrlSource::Embedded => embedded(ctx)?.conninfo("postgres")?,
        UrlSource::Literal(url) => ConnInfo::parse(url)?,
        UrlSource::Env(var) => ConnInfo::parse(&std::env::var(var).map_err(|_| {
            crate::config::ConfigError::EnvUnset {
                var: var.clone(),
                target: "shadow".into(),
            }
        })?)?,
    })
}

/// The database of the manifest's target `name` as `--target name` chooses it, without a
/// word on stderr: for reading the other targets of a rollout (app/pipeline/rollout.rs).
pub(crate) fn quiet_target_conninfo(ctx: &Context, name: &str) -> Result<ConnInfo> {
    let args = TargetArgs {
        target: Some(name.to_string()),
        database_url: None,
    };
    let (_, choice, _) = choose_url(&ctx.config, &args, |var| std::env::var(var).ok())?;
    match &choice {
        UrlChoice::Flag(url) | UrlChoice::DatabaseUrl(url) | UrlChoice::Target { url, .. } => {
            Ok(ConnInfo::parse(url)?)
        }
        UrlChoice::PgEnv(_) => Ok(ConnInfo::parse("")?),
        UrlChoice::Embedded => Ok(embedded(ctx)?.conninfo(DEV_DATABASE)?),
    }
}

fn embedded(ctx: &Context) -> Result<Cluster> {
    let cluster = Cluster::for_project(&ctx.root)?;
    super::db::start_implicitly(ctx.reporter, &cluster)?;
    Ok(cluster)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn config(manifest: &str) -> Config {
        Config::parse(std::path::Path::new("/nonexistent"), manifest).unwrap()
    }

    fn args(target: Option<&str>, url: Option<&str>) -> TargetArgs {
        TargetArgs {
            target: target.map(String::from),
            database_url: url.map(String::from),
        }
    }

    fn choose(
        config: &Config,
        args: &TargetArgs,
        env: &[(&str, &str)],
    ) -> (String, UrlChoice, Option<String>) {
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (policy, choice, warning) = choose_url(config, args, |k| env.get(k).cloned()).unwrap();
        (policy.name.clone(), choice, warning)
    }

    const TWO: &str = "default_target = \"test\"\n[targets.test]\nurl = \"env:TEST_URL\"\n\
                       [targets.prod]\nurl = \"postgres://app:pw123@prod/app\"\n";

    #[test]
    fn an_explicit_target_beats_database_url_with_a_warning() {
        let config = config(TWO);
        let (name, choice, warning) = choose(
            &config,
            &args(Some("prod"), None),
            &[("DATABASE_URL", "postgres://x@rich/rich")],
        );
        assert_eq!(name, "prod");
        assert!(
            matches!(&choice, UrlChoice::Target { url, .. } if url == "postgres://app:pw123@prod/app")
        );
        // What is shown never holds the password.
        assert_eq!(
            choice.describe(&name),
            "url = \"postgres://app:***@prod/app\" of [targets.prod]"
        );
        let warning = warning.expect("a warning");
        assert!(
            warning.contains("DATABASE_URL is set but ignored"),
            "{warning}"
        );
        assert!(
            !warning.contains("rich") && !warning.contains("pw123"),
            "{warning}"
        );
    }

    #[test]
    fn database_url_fills_in_when_no_target_is_named() {
        let config = config(TWO);
        let env = [
            ("DATABASE_URL", "postgres://x@rich/rich"),
            ("TEST_URL", "postgres://t@test/t"),
        ];
        let (name, choice, warning) = choose(&config, &args(None, None), &env);
        assert_eq!(name, "test");
        assert_eq!(
            choice,
            UrlChoice::DatabaseUrl("postgres://x@rich/rich".into())
        );
        assert_eq!(warning, None);
        // Without it, the default target's own URL.
        let (_, choice, _) = choose(&config, &args(None, None), &env[1..]);
        assert!(
            matches!(&choice, UrlChoice::Target { url, written } if url == "postgres://t@test/t" && written == "env:TEST_URL")
        );
    }

    #[test]
    fn database_url_flag_beats_everything() {
        let config = config(TWO);
        let (name, choice, warning) = choose(
            &config,
            &args(Some("prod"), Some("postgres://flag/f")),
            &[("DATABASE_URL", "postgres://x@rich/rich"), ("PGHOST", "h")],
        );
        assert_eq!(name, "prod");
        assert_eq!(choice, UrlChoice::Flag("postgres://flag/f".into()));
        assert_eq!(warning, None);
    }

    #[test]
    fn a_target_reading_database_url_is_not_warned_about() {
        let config = config("[targets.prod]\nurl = \"env:DATABASE_URL\"\n");
        let (_, choice, warning) = choose(
            &config,
            &args(Some("prod"), None),
            &[("DATABASE_URL", "postgres://p/p")],
        );
        assert!(matches!(choice, UrlChoice::Target { .. }));
        assert_eq!(warning, None);
    }

    #[test]
    fn pg_variables_mean_a_server_when_no_target_is_declared() {
        let none = config("");
        let (name, choice, _) = choose(
            &none,
            &args(None, None),
            &[("PGHOST", "db"), ("PGDATABASE", "app"), ("PGPASSWORD", "s")],
        );
        assert_eq!(name, LOCAL_TARGET);
        assert_eq!(choice, UrlChoice::PgEnv(vec!["PGHOST", "PGDATABASE"]));
        // PGPASSWORD alone names no server.
        let (_, choice, _) = choose(&none, &args(None, None), &[("PGPASSWORD", "s")]);
        assert_eq!(choice, UrlChoice::Embedded);
        // An explicit `--target local`, or a declared embedded target, is the embedded cluster.
        let (_, choice, _) = choose(&none, &args(Some("local"), None), &[("PGHOST", "db")]);
        assert_eq!(choice, UrlChoice::Embedded);
        let declared = config("[targets.dev]\nurl = \"embedded\"\n");
        let (_, choice, _) = choose(&declared, &args(None, None), &[("PGHOST", "db")]);
        assert_eq!(choice, UrlChoice::Embedded);
    }
}
