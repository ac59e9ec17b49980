//! `[groups.NAME]`: fleets of databases that one change rolls out to (docs/fleet.md).
//! Members come from declared targets, a file of URLs, or a query on a control database;
//! the group's policy says how the rollout goes.

use super::{duration, raw::RawGroup, ConfigError, Ctx, LockTimeout, Target, UrlSource};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use toml::Spanned;

/// What a fleet does with a member whose schema changed outside strata since its last run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GroupDrift {
    /// Listed and left out of the plan and the run (the default).
    #[default]
    Skip,
    /// No plan made while any member drifted.
    Fail,
    /// Planned from its schema as it is, like any other state.
    Reconcile,
}

/// Discovery of members by a query on a control database: one row per member, the URL in
/// the first column (and a name in the second, when there is one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Discover {
    pub url: UrlSource,
    pub query: String,
}

/// Where a plan's hook stages run in a fleet (docs/fleet.md, "The deploy hook").
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum HookPolicy {
    /// Once for the fleet: every member runs up to the first hook stage (expand
    /// everywhere), the hook runs once (deploy once), then every member runs the rest
    /// (contract everywhere). For one application shared by the fleet.
    #[default]
    Fleet,
    /// In each member's run, as for a single target: an application per member.
    Member,
}

/// A group, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    #[serde(skip)]
    pub name: String,
    /// Declared targets that are members (their own policies apply, the group's override).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// A file of URLs, one a line (`#` comments), relative to the project.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urls_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discover: Option<Discover>,
    /// Members running at once (connections, runs).
    pub parallel: usize,
    /// Members run first, alone, before any other starts.
    pub canary: usize,
    /// A command run after the canaries passed; its failure stops the rollout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    /// Members that may fail before no new member is started.
    pub failure_budget: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_timeout: Option<LockTimeout>,
    pub on_drift: GroupDrift,
    pub hook: HookPolicy,
}

impl Group {
    /// The policy a member runs under: `base` (its declared target's, or the defaults),
    /// with the group's lock_timeout.
    pub fn member_policy(&self, mut base: Target, name: &str) -> Target {
        base.name = name.to_string();
        if let Some(timeout) = self.lock_timeout {
            base.lock_timeout = timeout;
        }
        base
    }
}

pub(super) fn resolve_groups(
    ctx: &Ctx,
    raw: BTreeMap<String, Spanned<RawGroup>>,
    targets: &BTreeMap<String, Target>,
) -> Result<BTreeMap<String, Group>, ConfigError> {
    raw.into_iter()
        .map(|(name, spanned)| {
            let span = spanned.span();
            let group = resolve_group(ctx, &name, span, spanned.into_inner(), targets)?;
            Ok((name, group))
        })
        .collect()
}

fn resolve_group(
    ctx: &Ctx,
    name: &str,
    span: std::ops::Range<usize>,
    raw: RawGroup,
    targets: &BTreeMap<String, Target>,
) -> Result<Group, ConfigError> {
    if raw.targets.is_none() && raw.urls_file.is_none() && raw.discover.is_none() {
        return Err(ctx.invalid(
            format!("group `{name}` has no members"),
            span,
            "this group",
            Some("give it `targets = [...]`, `urls_file = \"...\"` or `discover = { url = \"...\", query = \"...\" }`".into()),
        ));
    }
    let mut members = Vec::new();
    for target in raw.targets.unwrap_or_default() {
        if !targets.contains_key(target.get_ref()) {
            return Err(ctx.invalid(
                format!(
                    "group `{name}`: `{}` is not a declared target",
                    target.get_ref()
                ),
                target.span(),
                "unknown target",
                Some(format!(
                    "declared targets: {}",
                    targets.keys().cloned().collect::<Vec<_>>().join(", ")
                )),
            ));
        }
        if members.contains(target.get_ref()) {
            return Err(ctx.invalid(
                format!("group `{name}`: `{}` is named twice", target.get_ref()),
                target.span(),
                "named again here",
                None,
            ));
        }
        members.push(target.into_inner());
    }
    let urls_file = match raw.urls_file {
        Some(file) if !ctx.root.join(file.get_ref()).is_file() => {
            return Err(ctx.invalid(
                format!("group `{name}`: file `{}` does not exist", file.get_ref()),
                file.span(),
                "no such file",
                Some("a file of database URLs, one a line, relative to pipeline.toml".into()),
            ))
        }
        Some(file) => Some(PathBuf::from(file.into_inner())),
        None => None,
    };
    let discover = match raw.discover {
        Some(d) => {
            let d = d.into_inner();
            if d.query.get_ref().trim().is_empty() {
                return Err(ctx.invalid(
                    format!("group `{name}`: the discovery query is empty"),
                    d.query.span(),
                    "no query",
                    Some("a SELECT returning one URL per row (and a name in a second column), e.g. SELECT format('postgres://db/%s', datname) FROM pg_database WHERE datname LIKE 'tenant_%'".into()),
                ));
            }
            Some(Discover {
                url: UrlSource::parse(d.url.get_ref()),
                query: d.query.into_inner(),
            })
        }
        None => None,
    };
    let at_least_one =
        |value: Option<Spanned<i64>>, key: &str, default: usize, min: i64| match value {
            None => Ok(default),
            Some(v) if *v.get_ref() >= min => Ok(*v.get_ref() as usize),
            Some(v) => Err(ctx.invalid(
                format!("group `{name}`: {key} must be at least {min}"),
                v.span(),
                "too small",
                None,
            )),
        };
    let lock_timeout = raw
        .lock_timeout
        .map(|v| {
            duration::parse(v.get_ref())
                .map(LockTimeout)
                .map_err(|message| {
                    ctx.invalid(
                        message,
                        v.span(),
                        "not a duration",
                        Some("write e.g. \"500ms\", \"5s\" or \"2min\"".into()),
                    )
                })
        })
        .transpose()?;
    Ok(Group {
        name: name.to_string(),
        targets: members,
        urls_file,
        discover,
        parallel: at_least_one(raw.parallel, "parallel", 4, 1)?,
        canary: at_least_one(raw.canary, "canary", 1, 0)?,
        check: raw.check,
        failure_budget: at_least_one(raw.failure_budget, "failure_budget", 0, 0)?,
        lock_timeout,
        on_drift: raw.on_drift.unwrap_or_default(),
        hook: raw.hook.unwrap_or_default(),
    })
}

impl Target {
    /// The policy of a member that is not a declared target (from a URL file or discovery):
    /// the defaults of a `[targets.NAME]` with nothing set.
    pub fn fleet_default(name: &str) -> Target {
        Target {
            name: name.to_string(),
            url: UrlSource::Embedded,
            allow_destructive: false,
            lock_timeout: LockTimeout::default(),
            statement_timeout: super::StatementTimeout::default(),
            retries: super::DEFAULT_RETRIES,
            on_drift: super::OnDrift::default(),
        }
    }
}
