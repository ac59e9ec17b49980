use super::{Context, Outcome};
use crate::cli::DbAction;
use crate::pg::embedded::{self, Cluster, ClusterState, DEFAULT_IDLE_STOP, DEV_DATABASE};
use crate::pg::PgError;
use crate::report::{Format, Reporter};
use crate::Result;
use std::path::Path;
use std::time::Duration;

pub async fn run(ctx: &Context<'_>, action: DbAction) -> Result<Outcome> {
    let reporter = ctx.reporter;
    if let DbAction::IdleWatch { dir } = &action {
        idle_watch(&Cluster::at(dir.clone())?).await;
        return Ok(Outcome::Fine);
    }
    if let DbAction::Status { all: true } = action {
        status_all(reporter)?;
        return Ok(Outcome::Fine);
    }
    let cluster = Cluster::for_project(&ctx.root)?;
    match action {
        DbAction::Start => {
            let started = {
                let _progress = reporter.progress("starting the embedded PostgreSQL");
                cluster.start()?
            };
            let url = cluster.url(DEV_DATABASE)?;
            if reporter.format == Format::Json {
                reporter.json(&serde_json::json!({ "started": started, "url": url }));
            }
            if started {
                reporter.note(&format!("started; database URL: {url}"));
            } else {
                if cluster.disarm_idle_stop() {
                    reporter.note("it no longer stops itself when idle");
                }
                reporter.note(&format!("already running; database URL: {url}"));
            }
        }
        DbAction::Stop => {
            let stopped = cluster.stop()?;
            reporter.note(if stopped { "stopped" } else { "not running" });
            if reporter.format == Format::Json {
                reporter.json(&serde_json::json!({ "stopped": stopped }));
            }
        }
        DbAction::Status { .. } => status(reporter, &cluster)?,
        DbAction::Url => {
            start_implicitly(reporter, &cluster)?;
            let url = cluster.url(DEV_DATABASE)?;
            match reporter.format {
                Format::Json => reporter.json(&serde_json::json!({ "url": url })),
                Format::Text => reporter.result(&url),
            }
        }
        DbAction::IdleWatch { .. } => unreachable!("handled above"),
    }
    Ok(Outcome::Fine)
}

fn status(reporter: &Reporter, cluster: &Cluster) -> Result<()> {
    let state = cluster.state()?;
    let url = match state {
        ClusterState::NotInitialised => None,
        _ => Some(cluster.url(DEV_DATABASE)?),
    };
    let idle_stop = armed_idle_stop(cluster, state);
    match reporter.format {
        Format::Json => reporter.json(&serde_json::json!({
            "state": state,
            "directory": cluster.base(),
            "url": url,
            "idle_stop_ms": idle_stop.map(|d| d.as_millis() as u64),
        })),
        Format::Text => {
            let mut text = format!(
                "{} ({})",
                describe(state, idle_stop),
                cluster.base().display()
            );
            if let Some(url) = url {
                text.push_str(&format!("\nurl: {url}"));
            }
            reporter.result(&text);
        }
    }
    Ok(())
}

/// One line per embedded cluster of this user's projects: state, project, directory.
fn status_all(reporter: &Reporter) -> Result<()> {
    let mut rows = Vec::new();
    for (base, project) in embedded::registered() {
        let cluster = Cluster::at(base)?;
        let state = cluster.state()?;
        rows.push((state, armed_idle_stop(&cluster, state), project, cluster));
    }
    match reporter.format {
        Format::Json => reporter.json(&serde_json::json!({ "clusters": serde_json::Value::Array(
            rows.iter()
                .map(|(state, idle, project, cluster)| {
                    serde_json::json!({
                        "state": state,
                        "project": project,
                        "directory": cluster.base(),
                        "idle_stop_ms": idle.map(|d| d.as_millis() as u64),
                    })
                })
                .collect(),
        ) })),
        Format::Text if rows.is_empty() => reporter.result("no embedded clusters"),
        Format::Text => reporter.result(
            &rows
                .iter()
                .map(|(state, idle, project, cluster)| {
                    format!(
                        "{}  {}  ({})",
                        describe(*state, *idle),
                        project.display(),
                        cluster.base().display()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    }
    Ok(())
}

fn armed_idle_stop(cluster: &Cluster, state: ClusterState) -> Option<Duration> {
    (state == ClusterState::Running)
        .then(|| cluster.idle_stop())
        .flatten()
}

fn describe(state: ClusterState, idle_stop: Option<Duration>) -> String {
    match (state, idle_stop) {
        (ClusterState::NotInitialised, _) => "not initialised".into(),
        (ClusterState::Stopped, _) => "stopped".into(),
        (ClusterState::Running, None) => "running".into(),
        (ClusterState::Running, Some(idle)) => {
            format!("running (stops after {} idle)", human(idle))
        }
    }
}

fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms % 60_000 == 0 {
        format!("{}min", ms / 60_000)
    } else if ms % 1_000 == 0 {
        format!("{}s", ms / 1_000)
    } else {
        format!("{ms}ms")
    }
}

/// How long a cluster that a command starts implicitly may stay idle: `STRATA_IDLE_STOP`
/// ("30s", "5min"; "off" or "0" for never), else [`DEFAULT_IDLE_STOP`].
fn idle_stop_setting() -> Result<Option<Duration>, PgError> {
    let Some(text) = std::env::var("STRATA_IDLE_STOP")
        .ok()
        .filter(|t| !t.trim().is_empty())
    else {
        return Ok(Some(DEFAULT_IDLE_STOP));
    };
    if matches!(text.trim(), "off" | "never") {
        return Ok(None);
    }
    let idle = crate::config::duration::parse(&text)
        .map_err(|message| PgError::BadIdleStop { message })?;
    Ok((!idle.is_zero()).then_some(idle))
}

/// Starts the project's cluster for a command that needs it; a cluster this call starts
/// stops itself once idle. Either way, the cluster is in use until this process ends.
pub fn start_implicitly(reporter: &Reporter, cluster: &Cluster) -> Result<()> {
    let idle = idle_stop_setting()?;
    let held = cluster.hold_in_use();
    if cluster.start()? {
        match idle {
            Some(idle) => {
                cluster.arm_idle_stop(idle)?;
                spawn_idle_watch(cluster.base())?;
                reporter.note(&format!(
                    "started the embedded PostgreSQL in {}; it stops after {} idle \
                     (`strata db start` keeps it running)",
                    cluster.base().display(),
                    human(idle)
                ));
            }
            None => reporter.note(&format!(
                "started the embedded PostgreSQL in {}",
                cluster.base().display()
            )),
        }
    }
    if !held {
        cluster.hold_in_use();
    }
    cluster.touch();
    Ok(())
}

/// Starts `strata db _idle-watch` for the cluster in `base`, detached: its own session (a
/// Ctrl-C or a closed terminal does not reach it), no inherited output (a caller waiting for
/// this command's output does not wait for it).
fn spawn_idle_watch(base: &Path) -> Result<(), PgError> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe()
        .map_err(|e| PgError::Embedded(format!("cannot find strata's own program: {e}")))?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("-C")
        .arg(base)
        .args(["db", "_idle-watch", "--dir"])
        .arg(base)
        .current_dir(base)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // SAFETY: setsid is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid()
                .map(|_| ())
                .map_err(std::io::Error::from)
        });
    }
    // Deliberately not waited for: it outlives this command. When it ends, init reaps it.
    #[allow(clippy::zombie_processes)]
    let _watcher = cmd
        .spawn()
        .map_err(|e| PgError::Embedded(format!("cannot start the idle watcher: {e}")))?;
    Ok(())
}

/// The watcher: polls until the cluster has had no client and no command for its idle stop,
/// then stops it. A command holding the cluster in use, or any client connection, counts as
/// use. Gives up when the idle stop is disarmed (`db start`, `db stop`) or the
/// server it watches is gone (stopped, or restarted by someone else).
async fn idle_watch(cluster: &Cluster) {
    let Some(server) = cluster.postmaster_pid() else {
        return;
    };
    loop {
        let Some(idle) = cluster.idle_stop() else {
            return;
        };
        tokio::time::sleep((idle / 5).clamp(Duration::from_millis(100), Duration::from_secs(10)))
            .await;
        if cluster.postmaster_pid() != Some(server) {
            return;
        }
        let Some(_no_command) = cluster.idle_lock() else {
            cluster.touch();
            continue;
        };
        match cluster.client_count().await {
            Ok(0) => {}
            Ok(_) => {
                cluster.touch();
                continue;
            }
            Err(_) => continue,
        }
        if cluster.idle_for() >= idle && cluster.idle_stop().is_some() {
            let _ = cluster.stop();
            return;
        }
    }
}
