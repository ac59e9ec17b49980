use super::{Context, Outcome};
use crate::cli::DbAction;
use crate::pg::embedded::{Cluster, ClusterState, DEV_DATABASE};
use crate::report::Format;
use crate::Result;

pub async fn run(ctx: &Context<'_>, action: DbAction) -> Result<Outcome> {
    let cluster = Cluster::for_project(&ctx.root)?;
    let reporter = ctx.reporter;
    match action {
        DbAction::Start => {
            let started = {
                let _progress = reporter.progress("starting the embedded PostgreSQL");
                cluster.start()?
            };
            let url = cluster.url(DEV_DATABASE)?;
            if started {
                reporter.note(&format!("started; database URL: {url}"));
            } else {
                reporter.note(&format!("already running; database URL: {url}"));
            }
        }
        DbAction::Stop => {
            if cluster.stop()? {
                reporter.note("stopped");
            } else {
                reporter.note("not running");
            }
        }
        DbAction::Status => {
            let state = cluster.state()?;
            let url = match state {
                ClusterState::NotInitialised => None,
                _ => Some(cluster.url(DEV_DATABASE)?),
            };
            match reporter.format {
                Format::Json => reporter.json(&serde_json::json!({
                    "state": state,
                    "directory": cluster.base(),
                    "url": url,
                })),
                Format::Text => {
                    let word = match state {
                        ClusterState::NotInitialised => "not initialised",
                        ClusterState::Stopped => "stopped",
                        ClusterState::Running => "running",
                    };
                    let mut text = format!("{word} ({})", cluster.base().display());
                    if let Some(url) = url {
                        text.push_str(&format!("\nurl: {url}"));
                    }
                    reporter.result(&text);
                }
            }
        }
        DbAction::Url => {
            cluster.start()?;
            reporter.result(&cluster.url(DEV_DATABASE)?);
        }
    }
    Ok(Outcome::Fine)
}
