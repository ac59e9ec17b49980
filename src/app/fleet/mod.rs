//! The fleet commands (docs/fleet.md): `targets`, `plan --group`, `run --group`,
//! `status --group`. Members are resolved here (declared targets, a URL file, a discovery
//! query); the group's plans live in `pending/<group>/`, one file per source schema.

mod plan;
mod run;

pub use plan::plan;
pub use run::run;

use super::{quiet_target_conninfo, Context, Outcome, ResolvedTarget};
use crate::cli::TargetsArgs;
use crate::config::{mask_secrets, Group, Target, UrlSource};
use crate::fleet::report::{self, MemberState};
use crate::fleet::{run_bounded, FleetError};
use crate::pg::ConnInfo;
use crate::plan::Plan;
use crate::report::{Format, OutputFormat};
use crate::run::history;
use crate::source::statements::read_file;
use crate::Result;
use std::path::PathBuf;

/// One database of a group.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub name: String,
    pub conninfo: ConnInfo,
    pub policy: Target,
    /// Where it came from, for people (never a password).
    pub source: String,
}

impl AsRef<str> for Member {
    fn as_ref(&self) -> &str {
        &self.name
    }
}

impl Member {
    pub fn resolved(&self) -> ResolvedTarget {
        ResolvedTarget {
            name: self.name.clone(),
            conninfo: self.conninfo.clone(),
            policy: self.policy.clone(),
            source: self.source.clone(),
        }
    }
}

pub(crate) fn group<'c>(ctx: &'c Context<'_>, name: &str) -> Result<&'c Group> {
    ctx.config.groups.get(name).ok_or_else(|| {
        FleetError::UnknownGroup {
            name: name.to_string(),
            known: ctx
                .config
                .groups
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        }
        .into()
    })
}

/// The members of `group`, in name order.
pub(crate) async fn members(ctx: &Context<'_>, group: &Group) -> Result<Vec<Member>> {
    let mut members = Vec::new();
    for name in &group.targets {
        let policy = ctx.config.target(Some(name))?.clone();
        members.push(Member {
            name: name.clone(),
            conninfo: quiet_target_conninfo(ctx, name)?,
            policy: group.member_policy(policy, name),
            source: format!("target {name}"),
        });
    }
    let unnamed = |url: &str, source: String, name: Option<String>| -> Result<Member> {
        let conninfo = ConnInfo::parse(url)?;
        let name = name.unwrap_or_else(|| conninfo.dbname().to_string());
        Ok(Member {
            policy: group.member_policy(Target::fleet_default(&name), &name),
            name,
            conninfo,
            source,
        })
    };
    if let Some(file) = &group.urls_file {
        let shown = file.display().to_string();
        let text =
            std::fs::read_to_string(ctx.root.join(file)).map_err(|e| FleetError::UrlsFile {
                group: group.name.clone(),
                file: shown.clone(),
                message: e.to_string(),
            })?;
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let member = unnamed(line, format!("{shown}:{}", i + 1), None).map_err(|e| {
                FleetError::BadUrl {
                    file: shown.clone(),
                    line: i + 1,
                    message: mask_secrets(&e.to_string()),
                }
            })?;
            members.push(member);
        }
    }
    if let Some(discover) = &group.discover {
        for (url, name) in discover_rows(ctx, group, &discover.url, &discover.query).await? {
            members.push(unnamed(&url, "discovery".into(), name)?);
        }
    }
    members.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(pair) = members.windows(2).find(|p| p[0].name == p[1].name) {
        return Err(FleetError::DuplicateMember {
            group: group.name.clone(),
            name: pair[0].name.clone(),
        }
        .into());
    }
    Ok(members)
}

async fn discover_rows(
    ctx: &Context<'_>,
    group: &Group,
    url: &UrlSource,
    query: &str,
) -> Result<Vec<(String, Option<String>)>> {
    let failed = |message: String| FleetError::Discover {
        group: group.name.clone(),
        message: mask_secrets(&message),
    };
    let conninfo = match url {
        UrlSource::Literal(url) => ConnInfo::parse(url)?,
        UrlSource::Env(var) => ConnInfo::parse(&std::env::var(var).map_err(|_| {
            crate::config::ConfigError::EnvUnset {
                var: var.clone(),
                target: format!("group {}'s discovery", group.name),
            }
        })?)?,
        UrlSource::Embedded => super::resolve_shadow(ctx)?,
    };
    let client = conninfo.connect().await?;
    let rows = client
        .query(query, &[])
        .await
        .map_err(|e| failed(crate::pg::describe(&e)))?;
    rows.iter()
        .map(|row| {
            let url: String = row.try_get(0).map_err(|e| failed(e.to_string()))?;
            let name: Option<String> = if row.len() > 1 {
                row.try_get(1).map_err(|e| failed(e.to_string()))?
            } else {
                None
            };
            Ok((url, name))
        })
        .collect()
}

/// A plan of the group, read from `pending/<group>/`.
#[derive(Debug, Clone)]
pub(crate) struct FleetPlan {
    pub file: String,
    pub plan: Plan,
    pub id: String,
}

pub(crate) fn plan_dir(ctx: &Context<'_>, group: &str) -> PathBuf {
    ctx.root.join("pending").join(group)
}

/// The group's plans, by file name.
pub(crate) fn load_plans(ctx: &Context<'_>, group: &str) -> Result<Vec<FleetPlan>> {
    let dir = plan_dir(ctx, group);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let file = format!(
                "pending/{group}/{}",
                path.file_name().unwrap_or_default().to_string_lossy()
            );
            let text = read_file(&path)?;
            Ok(FleetPlan {
                plan: Plan::parse(&file, &text)?,
                id: super::pipeline::plan_id(&text),
                file,
            })
        })
        .collect()
}

/// Where a member stands with the group's plans (read-only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Standing {
    /// A run of plan `i` finished on it.
    Ran(usize),
    /// A run of plan `i` started and did not finish (interrupted, failed, or part way).
    Running(usize),
    /// Plan `i` starts from its schema.
    Pending(usize),
    /// Its schema is a plan's desired schema, or there is no plan and it has not drifted.
    UpToDate,
    /// No plan starts from its schema.
    NoPlan,
}

impl Standing {
    fn word(&self) -> &'static str {
        match self {
            Standing::Ran(_) => "ran",
            Standing::Running(_) => "running",
            Standing::Pending(_) => "pending",
            Standing::UpToDate => "up_to_date",
            Standing::NoPlan => "no_plan",
        }
    }
}

/// The plan a member's history names: finished, else started.
pub(crate) async fn standing_in_history(
    client: &tokio_postgres::Client,
    plans: &[FleetPlan],
) -> Result<Option<Standing>> {
    let mut started = None;
    for (i, plan) in plans.iter().enumerate() {
        match history::run_of(client, &plan.id).await? {
            Some(run) if run.finished => return Ok(Some(Standing::Ran(i))),
            Some(_) => started = Some(Standing::Running(i)),
            None => {}
        }
    }
    Ok(started)
}

/// Where a member's schema (its fingerprint) puts it among the plans.
pub(crate) fn standing_of(fingerprint: &str, plans: &[FleetPlan]) -> Standing {
    if let Some(i) = plans
        .iter()
        .position(|p| p.plan.source_fingerprint == fingerprint)
    {
        return Standing::Pending(i);
    }
    if plans.is_empty()
        || plans
            .iter()
            .any(|p| p.plan.desired_fingerprint == fingerprint)
    {
        return Standing::UpToDate;
    }
    Standing::NoPlan
}

/// A member read for `targets`/`status`: fingerprint, standing, drift.
async fn inspect(
    ctx: &Context<'_>,
    group: &str,
    member: &Member,
    plans: &[FleetPlan],
) -> MemberState {
    let state = |fingerprint, state: &str, detail| MemberState {
        group: group.to_string(),
        name: member.name.clone(),
        source: member.source.clone(),
        fingerprint,
        state: state.to_string(),
        detail,
    };
    let read = async {
        let client = member.conninfo.connect().await?;
        let schema = crate::catalog::catalog(&client, &ctx.config).await?;
        let fingerprint = schema.fingerprint().to_string();
        if let Some(standing) = standing_in_history(&client, plans).await? {
            return Ok::<_, crate::Error>((fingerprint, standing, Vec::new()));
        }
        let drift = super::pipeline::drift_since_last_run(&client, &schema).await?;
        Ok((fingerprint.clone(), standing_of(&fingerprint, plans), drift))
    };
    match read.await {
        Err(e) => state(None, "unreachable", Some(mask_secrets(&e.to_string()))),
        Ok((fingerprint, standing, drift)) => {
            let detail = match &standing {
                Standing::Ran(i) | Standing::Running(i) | Standing::Pending(i) => {
                    Some(plans[*i].file.clone())
                }
                _ => None,
            };
            if !drift.is_empty() && !matches!(standing, Standing::Pending(_)) {
                return state(Some(fingerprint), "drifted", Some(drift.join("; ")));
            }
            state(Some(fingerprint), standing.word(), detail)
        }
    }
}

/// Reads every member of `group`, `group.parallel` at a time.
async fn inspect_group(ctx: &Context<'_>, group: &Group) -> Result<Vec<MemberState>> {
    let members = members(ctx, group).await?;
    let plans = load_plans(ctx, &group.name)?;
    let mut states = Vec::new();
    run_bounded(
        members.iter().collect(),
        group.parallel,
        |m| Box::pin(inspect(ctx, &group.name, m, &plans)),
        |state, _| states.push(state),
        || true,
    )
    .await;
    states.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(states)
}

/// `strata targets`: the members of a group (or every group), with fingerprint and state;
/// or a CI matrix of shards (`github-matrix`, `gitlab`: one shard per `parallel` members).
pub async fn targets(
    ctx: &Context<'_>,
    args: &TargetsArgs,
    format: OutputFormat,
) -> Result<Outcome> {
    let groups: Vec<&Group> = match &args.group {
        Some(name) => vec![group(ctx, name)?],
        None => ctx.config.groups.values().collect(),
    };
    if matches!(format, OutputFormat::GithubMatrix | OutputFormat::Gitlab) {
        let shards = args.shards.unwrap_or(4).max(1);
        for group in &groups {
            match format {
                OutputFormat::GithubMatrix => ctx
                    .reporter
                    .result(&report::github_matrix(&group.name, shards).to_string()),
                _ => ctx.reporter.result(&report::gitlab(&group.name, shards)),
            }
        }
        return Ok(Outcome::Fine);
    }
    let mut all = Vec::new();
    for group in groups {
        all.extend(inspect_group(ctx, group).await?);
    }
    match ctx.reporter.format {
        Format::Json => ctx.reporter.json(&serde_json::json!({ "members": all })),
        Format::Text => ctx.reporter.result(&report::members_text(&all)),
    }
    Ok(Outcome::Fine)
}

/// `strata status --group G`: every member with its state, and the counts; exit 1 when a
/// member drifted, is unreachable or has a run that did not finish.
pub async fn status(ctx: &Context<'_>, name: &str) -> Result<Outcome> {
    let group = group(ctx, name)?;
    let states = inspect_group(ctx, group).await?;
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for s in &states {
        *counts.entry(s.state.as_str()).or_default() += 1;
    }
    let line = counts
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ");
    match ctx.reporter.format {
        Format::Json => ctx.reporter.json(&serde_json::json!({
            "group": name, "counts": counts, "members": states,
        })),
        Format::Text => ctx.reporter.result(&format!(
            "{}\ngroup {name}: {} members: {line}",
            report::members_text(&states),
            states.len()
        )),
    }
    let troubled = states
        .iter()
        .any(|s| matches!(s.state.as_str(), "drifted" | "unreachable" | "running"));
    Ok(if troubled {
        Outcome::Findings
    } else {
        Outcome::Fine
    })
}
