//! Executing a reviewed plan stage by stage, resuming after the steps that completed.

use super::history::{self, Step};
use super::hook::{run_hook, HookError};
use super::statements::{run_alone, run_in_transaction, ExecError, ExecPolicy};
use crate::config::{StageKind, StatementTimeout};
use crate::model::Schema;
use crate::plan::pending::FILE_NAME;
use crate::plan::{classify, Plan, PlannedStatement, StageBody};
use crate::report::Reporter;
use miette::Diagnostic;
use std::collections::BTreeSet;
use std::path::PathBuf;
use tokio_postgres::Client;

/// The hazard id of statements that can lose data.
pub const DESTRUCTIVE: &str = "destructive";

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
}

/// What one execution did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct RunReport {
    pub statements_run: usize,
    pub steps_skipped: usize,
    pub migrations_applied: usize,
    pub hooks_run: usize,
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

/// Executes `plan` on `client` (which must hold the target's advisory lock). `migrate` runs
/// a migrations stage and returns how many migrations it applied.
pub async fn execute<M>(
    client: &mut Client,
    plan: &Plan,
    plan_id: &str,
    options: &RunOptions,
    reporter: &Reporter,
    mut migrate: M,
) -> Result<RunReport, crate::Error>
where
    M: AsyncFnMut(&mut Client) -> Result<usize, crate::Error>,
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
    let done: BTreeSet<String> = history::completed_steps(&*client, plan_id)
        .await?
        .into_iter()
        .map(|(step, _)| step)
        .collect();
    let mut report = RunReport::default();
    for stage in &plan.stages {
        let step = |name: String| Step {
            plan_id: plan_id.to_string(),
            name,
        };
        match (&stage.body, stage.kind) {
            (StageBody::Statements { statements }, _) => {
                for (i, group) in groups(statements).into_iter().enumerate() {
                    let step = step(format!("{}#{i}", stage.name));
                    if done.contains(&step.name) {
                        report.steps_skipped += 1;
                        continue;
                    }
                    let _progress = reporter.progress(&format!(
                        "stage {}: {}",
                        stage.name,
                        first_line(&group[0].sql)
                    ));
                    if group[0].transactional {
                        run_in_transaction(client, &group, &options.policy, Some(&step))
                            .await
                            .map_err(RunError::from)?;
                    } else {
                        run_alone(
                            client,
                            group[0],
                            &options.policy,
                            options.long_statement_timeout,
                        )
                        .await
                        .map_err(RunError::from)?;
                        history::record_step(&*client, &step, None).await?;
                    }
                    report.statements_run += group.len();
                }
            }
            (StageBody::Migrations { .. }, _) => {
                let step = step(stage.name.clone());
                if done.contains(&step.name) {
                    report.steps_skipped += 1;
                    continue;
                }
                reporter.note(&format!("stage {}: migrations", stage.name));
                report.migrations_applied += migrate(client).await?;
                history::record_step(&*client, &step, None).await?;
            }
            (StageBody::Hook { command }, StageKind::Hook) => {
                let step = step(stage.name.clone());
                if done.contains(&step.name) {
                    report.steps_skipped += 1;
                    continue;
                }
                if let Some(command) = command {
                    reporter.note(&format!("stage {}: {command}", stage.name));
                    run_hook(&options.project_root, command, &options.target, &stage.name)
                        .map_err(RunError::from)?;
                    report.hooks_run += 1;
                }
                history::record_step(&*client, &step, None).await?;
            }
            (StageBody::Hook { .. }, _) => {}
        }
    }
    history::finish_run(&*client, plan_id).await?;
    Ok(report)
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
