//! `strata plan --group G`: every member read (bounded), grouped by fingerprint, one
//! simulation per distinct schema; the plans go to `pending/<group>/<fingerprint>.sql`,
//! each pinned to its source fingerprint and all converging on schema/.

use super::{group, members, plan_dir, Member};
use crate::app::pipeline::{drift_since_last_run, make_plan, resumable_run};
use crate::app::{Context, Outcome};
use crate::cli::PlanArgs;
use crate::config::GroupDrift;
use crate::fleet::run_bounded;
use crate::git::{self, Repo};
use crate::model::Schema;
use crate::report::Format;
use crate::Result;
use std::collections::BTreeMap;

/// A member as read for planning.
struct Read {
    member: Member,
    schema: Schema,
    /// Why it is not at the schema its last run left (drift, or a run not finished).
    changed: Vec<String>,
}

async fn read(ctx: &Context<'_>, member: Member) -> std::result::Result<Read, (String, String)> {
    let fail = |e: crate::Error| {
        (
            member.name.clone(),
            crate::config::mask_secrets(&e.to_string()),
        )
    };
    let inner = async {
        let client = member.conninfo.connect().await?;
        let schema = crate::catalog::catalog(&client, &ctx.config).await?;
        let changed = match resumable_run(&client, &schema).await? {
            Some(progress) => vec![progress.message()],
            None => drift_since_last_run(&client, &schema).await?,
        };
        Ok::<_, crate::Error>((schema, changed))
    };
    match inner.await {
        Ok((schema, changed)) => Ok(Read {
            member,
            schema,
            changed,
        }),
        Err(e) => Err(fail(e)),
    }
}

/// The file of the plan from `fingerprint`: `pending/<group>/<first 16 hex digits>.sql`.
pub(crate) fn file_name(fingerprint: &str) -> String {
    let hex = fingerprint.strip_prefix("sha256:").unwrap_or(fingerprint);
    format!("{}.sql", &hex[..hex.len().min(16)])
}

pub async fn plan(ctx: &Context<'_>, args: &PlanArgs) -> Result<Outcome> {
    let name = args.group.as_deref().expect("called with --group");
    let group = group(ctx, name)?;
    let members = members(ctx, group).await?;
    let total = members.len();
    let started = std::time::Instant::now();
    let mut reads = Vec::new();
    let mut unreachable = Vec::new();
    {
        let _progress = ctx
            .reporter
            .progress(&format!("reading {total} members of group {name}"));
        run_bounded(
            members,
            group.parallel,
            |m| Box::pin(read(ctx, m)),
            |r, _| match r {
                Ok(r) => reads.push(r),
                Err(e) => unreachable.push(e),
            },
            || true,
        )
        .await;
    }
    ctx.reporter.note(&format!(
        "read {} members in {:.1}s",
        total,
        started.elapsed().as_secs_f64()
    ));
    let (drifted, clean): (Vec<Read>, Vec<Read>) =
        reads.into_iter().partition(|r| !r.changed.is_empty());
    let mut drifted_names: Vec<(String, String)> = drifted
        .iter()
        .map(|r| (r.member.name.clone(), r.changed.join("; ")))
        .collect();
    drifted_names.sort();
    for (member, why) in &drifted_names {
        ctx.reporter.note(&format!("{member}: {why}"));
    }
    for (member, why) in &unreachable {
        ctx.reporter
            .warn(&format!("{member}: unreachable, left out: {why}"));
    }
    let planned: Vec<Read> = match group.on_drift {
        GroupDrift::Fail if !drifted.is_empty() => {
            ctx.reporter.note(&format!(
                "no plan made (on_drift = \"fail\"): {} member(s) changed outside strata",
                drifted.len()
            ));
            return Ok(Outcome::Findings);
        }
        GroupDrift::Reconcile => clean.into_iter().chain(drifted).collect(),
        _ => {
            if !drifted.is_empty() {
                ctx.reporter.note(&format!(
                    "left out (on_drift = \"skip\"): {}",
                    drifted_names
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            clean
        }
    };
    // One simulation per distinct source schema.
    let mut states: BTreeMap<String, Vec<Read>> = BTreeMap::new();
    for read in planned {
        states
            .entry(read.schema.fingerprint().to_string())
            .or_default()
            .push(read);
    }
    let mut files = Vec::new();
    let mut report = Vec::new();
    for (fingerprint, mut reads) in states {
        reads.sort_by(|a, b| a.member.name.cmp(&b.member.name));
        let names: Vec<String> = reads.iter().map(|r| r.member.name.clone()).collect();
        let first = reads.swap_remove(0);
        let resolved = first.member.resolved();
        let client = first.member.conninfo.connect().await?;
        ctx.reporter.note(&format!(
            "planning from {} ({} member(s), e.g. {})",
            short(&fingerprint),
            names.len(),
            first.member.name
        ));
        let plan = make_plan(
            ctx,
            &resolved,
            &client,
            first.schema,
            Vec::new(),
            args.allow_empty_schema,
        )
        .await?;
        let file = (!plan.is_empty()).then(|| file_name(&fingerprint));
        report.push(serde_json::json!({
            "source_fingerprint": fingerprint,
            "members": names,
            "file": file.as_ref().map(|f| format!("pending/{name}/{f}")),
            "summary": plan.summary,
        }));
        if let Some(file) = file {
            files.push((file, plan));
        }
    }
    let branch = write(ctx, args, name, &files)?;
    match ctx.reporter.format {
        Format::Json => ctx.reporter.json(&serde_json::json!({
            "group": name,
            "changes": !files.is_empty(),
            "branch": branch,
            "states": report,
            "left_out": drifted_names.iter().map(|(n, why)| serde_json::json!({"member": n, "why": why})).collect::<Vec<_>>(),
            "unreachable": unreachable.iter().map(|(n, why)| serde_json::json!({"member": n, "why": why})).collect::<Vec<_>>(),
        })),
        Format::Text => {
            let mut out = String::new();
            for state in &report {
                let members = state["members"].as_array().map_or(0, Vec::len);
                out.push_str(&format!(
                    "{} member(s) at {}: {}\n",
                    members,
                    short(state["source_fingerprint"].as_str().unwrap_or("")),
                    match state["file"].as_str() {
                        Some(file) => format!("{file}: {}", state["summary"].as_str().unwrap_or("")),
                        None => "nothing to change".into(),
                    }
                ));
            }
            if !drifted_names.is_empty() {
                out.push_str(&format!("{} member(s) left out (changed outside strata)\n", drifted_names.len()));
            }
            ctx.reporter.result(&out);
        }
    }
    Ok(if unreachable.is_empty() {
        Outcome::Fine
    } else {
        Outcome::Findings
    })
}

fn short(fingerprint: &str) -> &str {
    let hex = fingerprint.strip_prefix("sha256:").unwrap_or(fingerprint);
    &hex[..hex.len().min(12)]
}

/// Replaces `pending/<group>/` with `files`: in the work tree (`--no-git`) or in a commit
/// on a new branch. The branch's name when one was made.
fn write(
    ctx: &Context<'_>,
    args: &PlanArgs,
    group: &str,
    files: &[(String, crate::plan::Plan)],
) -> Result<Option<String>> {
    let dir = plan_dir(ctx, group);
    let io = |e: std::io::Error| crate::source::SourceError::Io {
        path: dir.display().to_string(),
        message: e.to_string(),
    };
    let old: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    if files.is_empty() && old.is_empty() {
        return Ok(None);
    }
    let new: Vec<(std::path::PathBuf, String)> = files
        .iter()
        .map(|(file, plan)| (dir.join(file), plan.render()))
        .collect();
    if args.no_git {
        for path in &old {
            std::fs::remove_file(path).map_err(io)?;
        }
        std::fs::create_dir_all(&dir).map_err(io)?;
        for (path, text) in &new {
            std::fs::write(path, text).map_err(io)?;
            ctx.reporter.note(&format!("wrote {}", path.display()));
        }
        return Ok(None);
    }
    // Paths are resolved inside the repository: the directory must exist.
    std::fs::create_dir_all(&dir).map_err(io)?;
    let repo = Repo::discover(&ctx.root)?;
    let base = repo.current_branch()?;
    let desired = files
        .first()
        .map(|(_, p)| p.desired_fingerprint.clone())
        .unwrap_or_default();
    let branch = git::plan_branch_name(
        &ctx.config.git.branch_prefix,
        time::OffsetDateTime::now_utc(),
        &desired,
    );
    let summary = format!("strata plan for group {group}: {} plan(s)", files.len());
    let entries: Vec<(&std::path::Path, &[u8])> = new
        .iter()
        .map(|(p, t)| (p.as_path(), t.as_bytes()))
        .collect();
    let removed: Vec<&std::path::Path> = old
        .iter()
        .filter(|p| !new.iter().any(|(n, _)| n == *p))
        .map(|p| p.as_path())
        .collect();
    let made =
        repo.commit_files_on_new_branch(&branch, &entries, &removed, &format!("{summary}\n"))?;
    ctx.reporter.note(&format!(
        "committed pending/{group}/ on branch {}",
        made.branch
    ));
    if args.push || args.merge_request {
        let options = match (&base, args.merge_request) {
            (Some(base), true) => git::merge_request_options(base, &summary),
            _ => Vec::new(),
        };
        repo.push(&ctx.config.git.remote, &made.branch, &options)?;
    }
    Ok(Some(made.branch))
}
