//! Making a plan by simulation (DESIGN.md §3): the target's schema is cloned into a shadow
//! database, each stage of the manifest is applied to the clone in order (a schema stage
//! diffs the clone against the desired schema and keeps the changes of its phase; a
//! migrations stage runs the pending migrations), and the result must read back exactly as
//! the desired schema, or there is no plan.

use super::pending::{Plan, PlannedMigration, PlannedStage, PlannedStatement, StageBody};
use super::stage::{rename_stage, schema_stage, MigrationDdl};
use crate::config::{Config, Phase, StageKind};
use crate::model::{Fingerprint, Schema};
use crate::pg::{describe, ConnInfo, PgError};
use crate::report::Reporter;
use crate::source::annotations::Renames;
use crate::source::migration::{Migration, Mode};
use miette::Diagnostic;
use std::borrow::Cow;
use tokio_postgres::Client;

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum PlanError {
    #[error("the plan does not converge: after every stage the simulated database still differs from schema/:\n{}\nstatements still left:\n{remaining}", differences.join("\n"))]
    #[diagnostic(
        code(strata::plan::not_converging),
        help("this is a limitation of strata's diff for these objects; the objects and statements above are what is left. Please report it with the schema involved")
    )]
    NotConverging {
        /// `kind name: attribute: value here, value there`, one line per difference.
        differences: Vec<String>,
        remaining: String,
    },
    #[error("strata planned a statement that `run` would refuse ({message}):\n  {sql}")]
    #[diagnostic(
        code(strata::plan::unclassified),
        help("this is a limitation of strata's statement classification (plan::classify); please report it with the schema involved")
    )]
    Unclassified { sql: String, message: String },
    #[error("migration {file} failed on the shadow copy of the target: {message}")]
    #[diagnostic(
        code(strata::plan::migration_failed),
        help("the migration does not fit the schema the earlier stages leave; fix it, or the stage order in pipeline.toml")
    )]
    MigrationFailed { file: String, message: String },
    #[error("statement failed while simulating stage {stage} on the shadow database: {message}\n  {sql}")]
    #[diagnostic(code(strata::plan::statement_failed))]
    StatementFailed {
        stage: String,
        sql: String,
        message: String,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Pg(#[from] PgError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Diff(#[from] crate::diff::DiffError),
}

/// What a simulation starts from.
pub struct Inputs<'a> {
    pub config: &'a Config,
    pub target_name: &'a str,
    /// The target's schema as read now. Owned: it is dropped once a stage has changed the
    /// clone, so that the contract stage does not hold it beside the desired and simulated
    /// models (at 10,000 tables each is over 100 MB).
    pub source: Schema,
    /// The desired schema, read from a shadow database loaded from schema/.
    pub desired: &'a Schema,
    /// A shadow database holding a schema-only clone of the target, to be changed.
    pub clone: &'a ConnInfo,
    pub pending_migrations: &'a [&'a Migration],
    pub drift: Vec<String>,
    pub planned_at: String,
    /// Renames annotated in schema/ (`-- strata:renamed-from`), with the manifest's mode.
    pub renames: &'a Renames,
}

/// Simulates the manifest's stages on the clone and returns the plan, proven to converge.
pub async fn simulate(inputs: Inputs<'_>, reporter: &Reporter) -> Result<Plan, PlanError> {
    let client = inputs.clone.connect().await?;
    // The clone's server runs the target's major (`pg::clone::same_major`).
    let server_major = Some(crate::pg::server_version_num(&client).await? / 10000);
    let migration_ddl = MigrationDdl::of(inputs.pending_migrations);
    let mut stages = Vec::with_capacity(inputs.config.stages.len());
    let migrations_stage_exists = inputs
        .config
        .stages
        .iter()
        .any(|s| s.kind == StageKind::Migrations);
    // What the plan keeps of the source: its fingerprint, and the columns' types the
    // classification starts from (taken now: the model goes once the clone has changed).
    let source_fingerprint = inputs.source.fingerprint().to_string();
    let walker = super::classify::Walker::new(Some(&inputs.source));
    // Until a stage has changed it, the clone holds the target's schema, already read.
    let mut source = Some(inputs.source);
    for (index, stage) in inputs.config.stages.iter().enumerate() {
        let _progress = reporter.progress(&format!("simulating stage {}", stage.name));
        let body = match stage.kind {
            StageKind::Schema => {
                let mut current = match &source {
                    Some(source) => Cow::Borrowed(source),
                    None => Cow::Owned(read_clone(inputs.clone, inputs.config).await?),
                };
                // Plain renames first: the diff then sees the objects under their new names.
                let mut statements = rename_stage(&current, inputs.desired, inputs.renames);
                if !statements.is_empty() {
                    apply_statements(&client, &stage.name, &statements).await?;
                    current = Cow::Owned(read_clone(inputs.clone, inputs.config).await?);
                }
                let phase = stage.phase.unwrap_or(Phase::All);
                // Objects that a later migration creates or renames into place are left to it.
                let migrations_later = migrations_stage_exists
                    && inputs.config.stages[index + 1..]
                        .iter()
                        .any(|s| s.kind == StageKind::Migrations);
                let skip = if migrations_later {
                    &migration_ddl
                } else {
                    &MigrationDdl::default()
                };
                let changes = schema_stage(
                    &current,
                    inputs.desired,
                    phase,
                    skip,
                    inputs.renames,
                    server_major,
                )?;
                apply_statements(&client, &stage.name, &changes).await?;
                statements.extend(changes);
                drop(current);
                if !statements.is_empty() {
                    source = None;
                }
                StageBody::Statements { statements }
            }
            StageKind::Migrations => {
                if !inputs.pending_migrations.is_empty() {
                    source = None;
                }
                for migration in inputs.pending_migrations {
                    run_migration_on_shadow(&client, migration).await?;
                }
                StageBody::Migrations {
                    migrations: inputs
                        .pending_migrations
                        .iter()
                        .map(|m| planned_migration(m))
                        .collect(),
                }
            }
            StageKind::Hook => StageBody::Hook {
                command: stage
                    .command
                    .clone()
                    .or_else(|| inputs.config.deploy_command.clone()),
            },
        };
        stages.push(PlannedStage {
            name: stage.name.clone(),
            kind: stage.kind,
            phase: stage.phase,
            body,
        });
    }
    drop(source);
    let result = {
        let _progress = reporter.progress("reading the simulated database back");
        read_clone(inputs.clone, inputs.config).await?
    };
    if result.fingerprint() != inputs.desired.fingerprint() {
        let remaining = schema_stage(
            &result,
            inputs.desired,
            Phase::All,
            &MigrationDdl::default(),
            &Renames::default(),
            server_major,
        )?
        .iter()
        .map(|s| format!("  {};", s.sql))
        .collect::<Vec<_>>()
        .join("\n");
        let differences = super::compare::differences(
            &result,
            inputs.desired,
            ("the simulated database", "schema/"),
            20,
        )
        .into_iter()
        .map(|line| format!("  {line}"))
        .collect();
        return Err(PlanError::NotConverging {
            differences,
            remaining: if remaining.is_empty() {
                "  (no statement: the difference is in something strata reads but cannot change)"
                    .into()
            } else {
                remaining
            },
        });
    }
    drop(result);
    let mut plan = Plan {
        source_fingerprint,
        desired_fingerprint: inputs.desired.fingerprint().to_string(),
        target: inputs.target_name.to_string(),
        planned_at: inputs.planned_at,
        summary: String::new(),
        drift: inputs.drift,
        stages,
    };
    // Hazards as `run` will judge them: the same classification, from the same schema.
    if let Some(refused) = super::classify::mark(&mut plan, walker).into_iter().next() {
        return Err(PlanError::Unclassified {
            sql: refused.sql,
            message: refused.message,
        });
    }
    plan.summary = summarise(&plan);
    Ok(plan)
}

/// A one-line description: for the commit message, the merge request title, the header.
pub fn summarise(plan: &Plan) -> String {
    let statements = plan.statement_count();
    let migrations = plan.migrations().count();
    let destructive = plan
        .hazards()
        .filter(|h| *h == crate::diff::hazard::DESTRUCTIVE)
        .count();
    let mut parts = vec![format!(
        "{statements} statement{}",
        if statements == 1 { "" } else { "s" }
    )];
    if migrations > 0 {
        parts.push(format!(
            "{migrations} migration{}",
            if migrations == 1 { "" } else { "s" }
        ));
    }
    if destructive > 0 {
        parts.push(format!("{destructive} destructive"));
    }
    format!("Schema change: {}", parts.join(", "))
}

pub fn planned_migration(m: &Migration) -> PlannedMigration {
    PlannedMigration {
        file: m.file.clone(),
        checksum: m.checksum.to_string(),
        directives: m.mode.directive().map(str::to_string).into_iter().collect(),
        text: m.text.clone(),
    }
}

/// Runs each statement on the shadow: the simulation must execute what the run will.
async fn apply_statements(
    client: &Client,
    stage: &str,
    statements: &[PlannedStatement],
) -> Result<(), PlanError> {
    for statement in statements {
        client
            .batch_execute(&statement.sql)
            .await
            .map_err(|e| PlanError::StatementFailed {
                stage: stage.to_string(),
                sql: statement.sql.clone(),
                message: describe(&e),
            })?;
    }
    Ok(())
}

/// A migration on the schema-only clone: its DDL shapes what later stages see; its DML runs
/// on empty tables. A batch migration's statement runs once (on no rows it is done).
pub async fn run_migration_on_shadow(
    client: &Client,
    migration: &Migration,
) -> Result<(), PlanError> {
    let fail = |e: tokio_postgres::Error| PlanError::MigrationFailed {
        file: migration.file.clone(),
        message: describe(&e),
    };
    match migration.mode {
        Mode::Transaction | Mode::Batch => {
            client
                .batch_execute("BEGIN")
                .await
                .map_err(PgError::query("beginning a transaction"))?;
            if let Err(e) = client.batch_execute(&migration.text).await {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(fail(e));
            }
            client
                .batch_execute("COMMIT")
                .await
                .map_err(PgError::query("committing"))?;
        }
        Mode::NoTransaction => {
            for statement in &migration.statements {
                client.batch_execute(&statement.sql).await.map_err(fail)?;
            }
        }
    }
    Ok(())
}

/// Whether a fingerprint in a plan header is the one of `schema`.
pub fn same_fingerprint(text: &str, schema: &Schema) -> bool {
    text.parse::<Fingerprint>()
        .is_ok_and(|f| f == schema.fingerprint())
}

/// The clone's schema as it is now, read over `[shadow] jobs` connections of its own.
async fn read_clone(clone: &ConnInfo, config: &Config) -> Result<Schema, PlanError> {
    let jobs = config.shadow_jobs();
    Ok(crate::catalog::introspect_over(clone, jobs, config)
        .await?
        .schema)
}
