use super::Context;
use crate::cli::TargetArgs;
use crate::config::{Target, UrlSource};
use crate::pg::embedded::{Cluster, DEV_DATABASE};
use crate::pg::ConnInfo;
use crate::Result;

/// The database a command works on, with the policies of the manifest's target.
#[derive(Debug, Clone)]
pub struct ResolvedTarget {
    pub name: String,
    pub conninfo: ConnInfo,
    pub policy: Target,
}

/// `--database-url`/`DATABASE_URL` wins over the target's URL; the policies stay the
/// target's. The embedded cluster is started on demand.
pub fn resolve_target(ctx: &Context, args: &TargetArgs) -> Result<ResolvedTarget> {
    let policy = ctx.config.target(args.target.as_deref())?.clone();
    let conninfo = match &args.database_url {
        Some(url) => ConnInfo::parse(url)?,
        None => match policy.resolve_url()? {
            Some(url) => ConnInfo::parse(&url)?,
            None => embedded(ctx)?.conninfo(DEV_DATABASE)?,
        },
    };
    Ok(ResolvedTarget {
        name: policy.name.clone(),
        conninfo,
        policy,
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

fn embedded(ctx: &Context) -> Result<Cluster> {
    let cluster = Cluster::for_project(&ctx.root)?;
    super::db::start_implicitly(ctx.reporter, &cluster)?;
    Ok(cluster)
}
