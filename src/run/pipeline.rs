//! Executing a reviewed plan stage by stage, resuming after the steps that completed.

use super::history::{self, Step, StepRecord, StepState};
use super::hook::{GatedHook, HookError, ProcessId};
use super::reconcile::{reconcile, Reconciled};
use super::refused::RunRefused;
use super::statements::{
    run_alone_watched, run_in_transaction_watched, Blocker, ExecError, ExecPolicy, Watch,
};
use crate::config::{StageKind, StatementTimeout};
use crate::model::Schema;
use crate::plan::pending::FILE_NAME;
use crate::plan::{classify, Plan, PlannedStatement, StageBody};
use crate::report::Reporter;
use miette::Diagnostic;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio_postgres::Client;

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum RunError {
    #[error("the plan holds {} destructive statement(s), and destructive changes are not allowed for target `{target}`:\n{}", statements.len(), statements.join("\n"))]
    #[diagnostic(
        code(strata::run::destructive),
        help("pass --allow-destructive, or set `allow_destructive = true` for the target in pipeline.toml")
    )]
    DestructiveNotAllowed {
        target: String,
        statements: Vec<String>,
    },
    #[error("{FILE_NAME}:{line}: {message}\n  {sql}")]
    #[diagnostic(
        code(strata::run::unsafe_statement),
        help("nothing was executed. pending.sql runs as `strata plan` wrote it: plan again rather than editing it")
    )]
    UnsafeStatement {
        line: usize,
        message: String,
        sql: String,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Exec(#[from] ExecError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Hook(#[from] HookError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Pg(#[from] crate::pg::PgError),
}

pub struct RunOptions {
    pub target: String,
    pub allow_destructive: bool,
    pub policy: ExecPolicy,
    /// Statement timeout for statements that run alone (concurrent index builds).
    pub long_statement_timeout: StatementTimeout,
    /// Directory the deploy hook runs in.
    pub project_root: PathBuf,
    /// What to do with a hook that an interrupted run started.
    pub hook_resume: HookResume,
    /// How long to wait for the hook of an interrupted run that still runs.
    pub hook_wait: Duration,
    /// Whether `STRATA_FAILPOINT` applies (not in a rehearsal).
    pub failpoints: bool,
    /// A connection to the target for watching long statements (pg_stat_activity,
    /// pg_stat_progress_create_index) while they run; `None`: no progress beyond elapsed time.
    pub monitor: Option<crate::pg::ConnInfo>,
}

/// What to do with a deploy hook that an interrupted run started and never recorded done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HookResume {
    /// Wait for it if it still runs on this machine, then run it again (a hook runs at least
    /// once); refuse when it ran on another machine.
    #[default]
    Default,
    /// The operator says it completed: record it done without running it.
    Done,
    /// The operator says it must run again, wherever the first one ran.
    Rerun,
}

/// What one execution did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct RunReport {
    pub statements_run: usize,
    pub steps_skipped: usize,
    pub migrations_applied: usize,
    pub hooks_run: usize,
    /// Every statement run, in order, with its duration.
    pub statements: Vec<StatementRun>,
    /// Attempts repeated because a lock was not granted in time.
    pub lock_retries: usize,
}

/// One statement of a run (`run --format json`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct StatementRun {
    pub stage: String,
    /// Its first line.
    pub sql: String,
    pub duration_ms: u64,
}

/// Tells the person watching each statement's duration and each retry, and keeps them for
/// the report.
struct Watcher<'a> {
    reporter: &'a Reporter,
    stage: String,
    current: Mutex<String>,
    ran: Mutex<Vec<StatementRun>>,
    retries: AtomicUsize,
}

impl<'a> Watcher<'a> {
    fn new(reporter: &'a Reporter, stage: &str, first: &str) -> Watcher<'a> {
        Watcher {
            reporter,
            stage: stage.to_string(),
            current: Mutex::new(first_line(first).to_string()),
            ran: Mutex::new(Vec::new()),
            retries: AtomicUsize::new(0),
        }
    }

    fn label(&self) -> String {
        format!("stage {}: {}", self.stage, self.current.lock().unwrap())
    }

    fn into_report(self, report: &mut RunReport) {
        report.lock_retries += self.retries.into_inner();
        report.statements.extend(self.ran.into_inner().unwrap());
    }
}

impl Watch for Watcher<'_> {
    fn started(&self, sql: &str) {
        *self.current.lock().unwrap() = first_line(sql).to_string();
    }

    fn ran(&self, sql: &str, took: Duration) {
        let sql = first_line(sql).to_string();
        self.reporter.note(&format!(
            "stage {}: {sql} ({})",
            self.stage,
            crate::report::duration_text(took)
        ));
        self.ran.lock().unwrap().push(StatementRun {
            stage: self.stage.clone(),
            sql,
            duration_ms: took.as_millis() as u64,
        });
    }

    fn retry(&self, sql: &str, attempt: u32, pause: Duration, blockers: &[Blocker]) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        let held_by = match blockers {
            [] => {
                "no session holding a lock on its tables is visible in pg_stat_activity".to_string()
            }
            _ => format!(
                "held by {}",
                blockers
                    .iter()
                    .map(|b| b.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        };
        self.reporter.warn(&format!(
            "stage {}: lock not granted within lock_timeout for {}; {held_by}; attempt {attempt} in {}",
            self.stage,
            first_line(sql),
            crate::report::duration_text(pause)
        ));
    }
}

/// How far the statement running on the backend `pid` is, read on the monitor connection:
/// a concurrent index build's phase and blocks, or what it waits for.
async fn probe_statement(
    monitor: &Option<crate::pg::ConnInfo>,
    connection: &mut Option<Client>,
    pid: Option<i32>,
) -> crate::report::Advance {
    let mut advance = crate::report::Advance {
        unit: "blocks",
        ..Default::default()
    };
    let (Some(conninfo), Some(pid)) = (monitor, pid) else {
        return advance;
    };
    if connection.is_none() {
        *connection = conninfo.connect().await.ok();
    }
    let Some(client) = connection else {
        return advance;
    };
    let row = client
        .query_opt(
            "SELECT a.wait_event_type, a.wait_event, p.phase, p.blocks_done, p.blocks_total
             FROM pg_stat_activity a LEFT JOIN pg_stat_progress_create_index p ON p.pid = a.pid
             WHERE a.pid = $1",
            &[&pid],
        )
        .await;
    let Ok(Some(row)) = row else {
        return advance;
    };
    let wait: Option<String> = row.get(0);
    let event: Option<String> = row.get(1);
    let phase: Option<String> = row.get(2);
    let total: Option<i64> = row.get(4);
    if let Some(phase) = phase {
        advance.phase = Some(format!("index build: {phase}"));
        if total.is_some_and(|t| t > 0) {
            advance.done = row.get::<_, Option<i64>>(3).map(|d| d as u64);
            advance.total = total.map(|t| t as u64);
        }
    }
    if wait.as_deref() == Some("Lock") {
        let waiting = format!("waiting for a lock ({})", event.unwrap_or_default());
        advance.phase = Some(match advance.phase {
            Some(phase) => format!("{phase}; {waiting}"),
            None => waiting,
        });
    }
    advance
}

async fn backend_pid(client: &Client) -> Option<i32> {
    client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .ok()
        .map(|r| r.get(0))
}

/// Refuses, before anything runs, a plan with a statement that is not a schema change or
/// that is destructive without saying so, and a plan with destructive statements unless
/// allowed. Destructive is judged by `plan::classify` from the statements themselves (with
/// the target's schema when given: a lossy type change needs the column's type), and by
/// the plan's own hazards.
pub fn check_destructive(
    plan: &Plan,
    schema: Option<&Schema>,
    target: &str,
    allowed: bool,
) -> Result<(), RunError> {
    let review = classify::review(plan, schema);
    if let Some(refused) = review.refused.into_iter().next() {
        return Err(RunError::UnsafeStatement {
            line: refused.line,
            message: refused.message,
            sql: first_line(&refused.sql).to_string(),
        });
    }
    if review.destructive.is_empty() || allowed {
        return Ok(());
    }
    Err(RunError::DestructiveNotAllowed {
        target: target.to_string(),
        statements: review
            .destructive
            .iter()
            .map(|f| {
                // A plan not read from a file (`apply`) has no lines to name.
                let at = if f.line > 0 {
                    format!("{FILE_NAME}:{}: ", f.line)
                } else {
                    String::new()
                };
                format!("  {at}{} ({})", first_line(&f.sql), f.message)
            })
            .collect(),
    })
}

/// Consecutive transactional statements form one group; a no-transaction statement is a
/// group of its own.
pub fn groups(statements: &[PlannedStatement]) -> Vec<Vec<&PlannedStatement>> {
    let mut groups: Vec<Vec<&PlannedStatement>> = Vec::new();
    for statement in statements {
        match groups.last_mut() {
            Some(group) if statement.transactional && group[0].transactional => {
                group.push(statement)
            }
            _ => groups.push(vec![statement]),
        }
    }
    groups
}

/// Executes `plan` on `client` (which must hold the target's advisory lock), step by step,
/// as `run::history` describes: done steps are skipped, a started one is reconciled.
/// `migrate` runs a migrations stage and returns how many migrations it applied; `observe`
/// returns the target's fingerprint after a step (`None`: not recorded).
pub async fn execute<M, F, E>(
    client: &mut Client,
    plan: &Plan,
    plan_id: &str,
    options: &RunOptions,
    reporter: &Reporter,
    mut migrate: M,
    mut observe: F,
) -> Result<RunReport, E>
where
    M: AsyncFnMut(&mut Client) -> Result<usize, E>,
    F: AsyncFnMut(&Client) -> Result<Option<String>, E>,
    E: From<RunError> + From<RunRefused> + From<crate::pg::PgError>,
{
    check_destructive(plan, None, &options.target, options.allow_destructive)?;
    history::ensure_tables(&*client).await?;
    history::start_run(
        &*client,
        plan_id,
        &plan.source_fingerprint,
        &plan.desired_fingerprint,
    )
    .await?;
    let records: BTreeMap<String, StepRecord> = history::steps(&*client, plan_id)
        .await?
        .into_iter()
        .map(|r| (r.name.clone(), r))
        .collect();
    let mut report = RunReport::default();
    for stage in &plan.stages {
        let step = |name: String| Step {
            plan_id: plan_id.to_string(),
            name,
            failpoints: options.failpoints,
        };
        match (&stage.body, stage.kind) {
            (StageBody::Statements { statements }, _) => {
                for (i, group) in groups(statements).into_iter().enumerate() {
                    let step = step(format!("{}#{i}", stage.name));
                    let record = records.get(&step.name);
                    if is_done(record) {
                        report.steps_skipped += 1;
                        continue;
                    }
                    step.failpoint("before");
                    let watcher = Watcher::new(reporter, &stage.name, &group[0].sql);
                    let pid = match options.monitor {
                        Some(_) => backend_pid(client).await,
                        None => None,
                    };
                    let mut monitor = None;
                    let label = || watcher.label();
                    let probe = async || probe_statement(&options.monitor, &mut monitor, pid).await;
                    if group[0].transactional {
                        reporter
                            .with_heartbeat(
                                &label,
                                probe,
                                run_in_transaction_watched(
                                    client,
                                    &group,
                                    &options.policy,
                                    Some(&step),
                                    &watcher,
                                ),
                            )
                            .await
                            .map_err(RunError::from)?;
                        report.statements_run += group.len();
                    } else {
                        let run = match record {
                            Some(_) => match reconcile(client, &group[0].sql).await? {
                                Reconciled::Done(why) => {
                                    reporter.note(&format!(
                                        "interrupted step {}: {why}: done",
                                        step.name
                                    ));
                                    false
                                }
                                Reconciled::Redo(why) => {
                                    reporter
                                        .note(&format!("interrupted step {}: {why}", step.name));
                                    true
                                }
                            },
                            None => {
                                history::record_started(&*client, &step).await?;
                                step.failpoint("started");
                                true
                            }
                        };
                        if run {
                            reporter
                                .with_heartbeat(
                                    &label,
                                    probe,
                                    run_alone_watched(
                                        client,
                                        group[0],
                                        &options.policy,
                                        options.long_statement_timeout,
                                        &watcher,
                                    ),
                                )
                                .await
                                .map_err(RunError::from)?;
                            report.statements_run += 1;
                        }
                        step.failpoint("effect");
                        history::record_step(&*client, &step, None).await?;
                    }
                    watcher.into_report(&mut report);
                    observe_after(client, &step, &mut observe).await?;
                }
            }
            (StageBody::Migrations { .. }, _) => {
                let step = step(stage.name.clone());
                let record = records.get(&step.name);
                if is_done(record) {
                    report.steps_skipped += 1;
                    continue;
                }
                step.failpoint("before");
                if record.is_some() {
                    reporter.note(&format!(
                        "stage {}: resuming the migrations (those applied are not run again)",
                        stage.name
                    ));
                } else {
                    reporter.note(&format!("stage {}: migrations", stage.name));
                    history::record_started(&*client, &step).await?;
                    step.failpoint("started");
                }
                report.migrations_applied += migrate(client).await?;
                step.failpoint("effect");
                history::record_step(&*client, &step, None).await?;
                observe_after(client, &step, &mut observe).await?;
            }
            (StageBody::Hook { command }, StageKind::Hook) => {
                let step = step(stage.name.clone());
                let record = records.get(&step.name);
                if is_done(record) {
                    report.steps_skipped += 1;
                    continue;
                }
                step.failpoint("before");
                let run = match (record, command) {
                    (Some(record), Some(_)) => {
                        settle_interrupted_hook(record, &stage.name, options, reporter).await?
                    }
                    _ => true,
                };
                if let (true, Some(command)) = (run, command) {
                    reporter.note(&format!("stage {}: {command}", stage.name));
                    history::record_started(&*client, &step).await?;
                    step.failpoint("started");
                    run_hook_step(client, &step, command, &stage.name, options).await?;
                    report.hooks_run += 1;
                }
                step.failpoint("effect");
                history::record_step(&*client, &step, None).await?;
                observe_after(client, &step, &mut observe).await?;
            }
            (StageBody::Hook { .. }, _) => {}
        }
    }
    Ok(report)
}

fn is_done(record: Option<&StepRecord>) -> bool {
    record.is_some_and(|r| r.state == StepState::Done)
}

async fn observe_after<F, E>(client: &Client, step: &Step, observe: &mut F) -> Result<(), E>
where
    F: AsyncFnMut(&Client) -> Result<Option<String>, E>,
    E: From<crate::pg::PgError>,
{
    if let Some(fingerprint) = observe(client).await? {
        history::record_fingerprint(client, step, &fingerprint).await?;
    }
    Ok(())
}

/// Runs the hook of a step recorded as started: behind its gate until its process is
/// recorded. A hook that fails is forgotten, so that the next run starts it afresh.
async fn run_hook_step(
    client: &Client,
    step: &Step,
    command: &str,
    stage: &str,
    options: &RunOptions,
) -> Result<(), RunError> {
    let mut hook = GatedHook::spawn(&options.project_root, command, &options.target, stage)
        .map_err(RunError::from)?;
    let process = hook
        .process()
        .map_or_else(|| UNKNOWN_PROCESS.to_string(), |p| p.to_string());
    history::record_process(client, step, &process).await?;
    hook.release().await.map_err(RunError::from)?;
    step.failpoint("hook");
    if let Err(e) = hook.wait().await {
        history::forget_step(client, step).await?;
        return Err(RunError::from(e));
    }
    Ok(())
}

/// Recorded for a hook whose process cannot be identified (not Linux).
const UNKNOWN_PROCESS: &str = "unknown";

/// Decides about a hook that an interrupted run recorded as started: whether to run it now.
/// A hook runs at least once, never twice at the same time.
async fn settle_interrupted_hook(
    record: &StepRecord,
    stage: &str,
    options: &RunOptions,
    reporter: &Reporter,
) -> Result<bool, RunRefused> {
    if options.hook_resume == HookResume::Done {
        reporter.note(&format!(
            "stage {stage}: the deploy hook of the interrupted run is taken as done (--hook-done)"
        ));
        return Ok(false);
    }
    let Some(recorded) = record.process.as_deref() else {
        // Its process was never recorded, so its gate never opened: it never ran.
        return Ok(true);
    };
    match ProcessId::parse(recorded) {
        Some(process) if process.is_local() => {
            if process.alive() {
                reporter.note(&format!(
                    "stage {stage}: the deploy hook started by an interrupted run still runs (pid {}): waiting for it to end",
                    process.pid
                ));
                if !process.wait_gone(options.hook_wait).await {
                    return Err(RunRefused::HookStillRunning {
                        pid: process.pid,
                        waited_secs: options.hook_wait.as_secs(),
                    });
                }
            }
            reporter.note(&format!(
                "stage {stage}: the deploy hook of the interrupted run ended without its outcome recorded: running it again (a hook runs at least once)"
            ));
            Ok(true)
        }
        _ if options.hook_resume == HookResume::Rerun => {
            reporter.note(&format!(
                "stage {stage}: running the deploy hook of the interrupted run again (--rerun-hook)"
            ));
            Ok(true)
        }
        process => Err(RunRefused::HookInterrupted {
            process: process.map_or_else(
                || "a process strata could not identify".to_string(),
                |p| format!("pid {} on {}", p.pid, p.host),
            ),
        }),
    }
}

fn first_line(sql: &str) -> &str {
    sql.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(sql: &str, transactional: bool) -> PlannedStatement {
        PlannedStatement {
            sql: sql.into(),
            hazards: vec![],
            transactional,
            line: 0,
        }
    }

    #[test]
    fn groups_split_at_no_transaction_statements() {
        let statements = vec![
            st("a", true),
            st("b", true),
            st("c", false),
            st("d", false),
            st("e", true),
        ];
        let shape: Vec<Vec<&str>> = groups(&statements)
            .iter()
            .map(|g| g.iter().map(|s| s.sql.as_str()).collect())
            .collect();
        assert_eq!(shape, vec![vec!["a", "b"], vec!["c"], vec!["d"], vec!["e"]]);
    }
}
