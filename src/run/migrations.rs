//! Applying numbered migrations through refinery, its history table inside strata's own
//! schema (`strata.schema_history`). Before anything runs, the history is checked against the
//! files: an applied file that changed, an applied file that is gone, and a new file numbered
//! below the last applied one are errors. Plain migrations run through refinery's runner, one
//! transaction each; `no-transaction` and `batch` migrations are run here and recorded in the
//! same table (refinery's fake target), so it stays the single source of truth. A batch
//! records its progress with every repetition, so a killed batch resumes.
//!
//! Every function that changes the target expects a client holding the advisory lock
//! (`pg::lock::LockedConnection`).

use crate::model::QualifiedName;
use crate::pg::{describe, PgError};
use crate::report::Reporter;
use crate::source::migration::{Checksum, Migration, MigrationId, Mode};
use miette::Diagnostic;
use std::collections::BTreeMap;
use std::time::Instant;
use tokio_postgres::{Client, GenericClient};

/// refinery's history table: (version, name, applied_on, checksum).
pub fn history_table() -> QualifiedName {
    QualifiedName::new(super::history::schema(), "schema_history")
}

/// Every accepted edit of an applied migration (`strata migrate repair`).
pub fn repairs_table() -> QualifiedName {
    QualifiedName::new(super::history::schema(), "migration_repairs")
}

/// Progress of batch migrations that have started and not finished.
pub fn batches_table() -> QualifiedName {
    QualifiedName::new(super::history::schema(), "migration_batches")
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum MigrateError {
    #[error("applied migrations were edited since they ran: {list}")]
    #[diagnostic(
        code(strata::migrate::changed),
        help("restore the files as they were applied and put the change in a new migration; if the edit is intended and must not run again, accept it with `strata migrate repair {first} --reason \"...\"`")
    )]
    Changed { list: String, first: MigrationId },
    #[error("applied migrations have no file any more: {list}")]
    #[diagnostic(
        code(strata::migrate::missing),
        help("restore the files: applied migrations stay in the migrations directory for good")
    )]
    Missing { list: String },
    #[error("{list} numbered below the last applied migration {last}")]
    #[diagnostic(
        code(strata::migrate::out_of_order),
        help("renumber them above {last} (`strata migrate new` picks the next number), or set `allow_out_of_order = true` under [migrations] in pipeline.toml")
    )]
    OutOfOrder { list: String, last: MigrationId },
    #[error("migration {file} failed: {message}")]
    #[diagnostic(code(strata::migrate::failed), help("{help}"))]
    Failed {
        file: String,
        message: String,
        help: String,
    },
    #[error("migration {id} has not been applied: there is nothing to repair")]
    #[diagnostic(code(strata::migrate::not_applied))]
    NotApplied { id: MigrationId },
    #[error("migration {id} has no file")]
    #[diagnostic(
        code(strata::migrate::no_file),
        help("a repair accepts the file as it is now; restore the file first")
    )]
    NoFile { id: MigrationId },
    #[error("a repair needs a reason")]
    #[diagnostic(
        code(strata::migrate::no_reason),
        help("say why the edit is safe: --reason \"fixed a comment\"")
    )]
    NoReason,
    #[error("refinery: {0}")]
    #[diagnostic(code(strata::migrate::refinery))]
    Refinery(String),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Pg(#[from] PgError),
}

/// A row of refinery's history table.
#[derive(Debug, Clone)]
pub struct AppliedRow {
    pub id: MigrationId,
    pub name: String,
    pub applied_on: String,
    /// refinery's checksum (SipHash over name, version and text), as stored.
    pub checksum: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Applied,
    Pending,
    /// Applied, and the file changed since.
    Changed,
    /// Applied, and the file is gone.
    Missing,
    /// Not applied, numbered below the last applied migration.
    OutOfOrder,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct StatusEntry {
    pub id: MigrationId,
    pub name: String,
    pub state: State,
    pub file: Option<String>,
    /// sha256 of the file as it is now.
    pub checksum: Option<Checksum>,
    pub mode: Option<Mode>,
    pub applied_on: Option<String>,
    /// Rows a batch migration that has not finished has changed so far.
    pub batch_rows_done: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// Apply pending migrations up to and including this one.
    pub to: Option<MigrationId>,
    pub allow_out_of_order: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AppliedMigration {
    pub id: MigrationId,
    pub name: String,
    pub mode: Mode,
    /// For a batch: rows changed over all its repetitions (including before a resume).
    pub rows: Option<u64>,
    pub seconds: f64,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ApplyReport {
    pub applied: Vec<AppliedMigration>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RepairOutcome {
    pub id: MigrationId,
    /// False when the file already matched the history.
    pub repaired: bool,
    pub old_checksum: String,
    pub new_checksum: String,
}

/// Creates strata's schema, refinery's history table (the same definition refinery asserts),
/// the repair log and the batch progress table.
pub async fn ensure_tables(client: &impl GenericClient) -> Result<(), PgError> {
    let sql = format!(
        "CREATE TABLE IF NOT EXISTS {history} (
             version INT4 PRIMARY KEY,
             name VARCHAR(255),
             applied_on VARCHAR(255),
             checksum VARCHAR(255));
         CREATE TABLE IF NOT EXISTS {repairs} (
             id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
             version       int4 NOT NULL,
             name          text NOT NULL,
             old_checksum  text NOT NULL,
             new_checksum  text NOT NULL,
             file_checksum text NOT NULL,
             reason        text NOT NULL,
             repaired_by   text NOT NULL DEFAULT current_user,
             repaired_at   timestamptz NOT NULL DEFAULT now());
         CREATE TABLE IF NOT EXISTS {batches} (
             version    int4 PRIMARY KEY,
             name       text NOT NULL,
             iterations bigint NOT NULL,
             rows_done  bigint NOT NULL,
             updated_at timestamptz NOT NULL DEFAULT now());",
        history = history_table(),
        repairs = repairs_table(),
        batches = batches_table(),
    );
    super::history::ensure_schema(client).await?;
    client
        .batch_execute(&sql)
        .await
        .map_err(PgError::query("creating strata's migration tables"))
}

pub async fn tables_exist(client: &impl GenericClient) -> Result<bool, PgError> {
    let row = client
        .query_one(
            "SELECT to_regclass($1) IS NOT NULL, to_regclass($2) IS NOT NULL",
            &[&history_table().to_string(), &batches_table().to_string()],
        )
        .await
        .map_err(PgError::query("looking for the migration history"))?;
    Ok(row.get::<_, bool>(0) && row.get::<_, bool>(1))
}

/// The history, by id.
pub async fn applied(
    client: &impl GenericClient,
) -> Result<BTreeMap<MigrationId, AppliedRow>, PgError> {
    let rows = client
        .query(
            &format!(
                "SELECT version, coalesce(name, ''), coalesce(applied_on, ''), coalesce(checksum, '')
                 FROM {} ORDER BY version",
                history_table()
            ),
            &[],
        )
        .await
        .map_err(PgError::query("reading the migration history"))?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let id = MigrationId(r.get::<_, i32>(0) as u32);
            (
                id,
                AppliedRow {
                    id,
                    name: r.get(1),
                    applied_on: r.get(2),
                    checksum: r.get(3),
                },
            )
        })
        .collect())
}

async fn batch_progress(
    client: &impl GenericClient,
) -> Result<BTreeMap<MigrationId, (i64, i64)>, PgError> {
    let rows = client
        .query(
            &format!(
                "SELECT version, iterations, rows_done FROM {}",
                batches_table()
            ),
            &[],
        )
        .await
        .map_err(PgError::query("reading batch progress"))?;
    Ok(rows
        .into_iter()
        .map(|r| (MigrationId(r.get::<_, i32>(0) as u32), (r.get(1), r.get(2))))
        .collect())
}

fn matches(row: &AppliedRow, m: &Migration) -> bool {
    row.name == m.name && row.checksum == m.refinery_checksum().to_string()
}

/// Applied and pending migrations, with what is wrong. Reads only; works before the first
/// run (everything pending).
pub async fn status(
    client: &impl GenericClient,
    migrations: &[Migration],
) -> Result<Vec<StatusEntry>, MigrateError> {
    let (history, batches) = if tables_exist(client).await? {
        (applied(client).await?, batch_progress(client).await?)
    } else {
        Default::default()
    };
    let last = history.keys().next_back().copied();
    let mut entries = Vec::new();
    for m in migrations {
        let row = history.get(&m.id);
        let state = match row {
            Some(row) if matches(row, m) => State::Applied,
            Some(_) => State::Changed,
            None if last.is_some_and(|last| m.id < last) => State::OutOfOrder,
            None => State::Pending,
        };
        entries.push(StatusEntry {
            id: m.id,
            name: m.name.clone(),
            state,
            file: Some(m.file.clone()),
            checksum: Some(m.checksum),
            mode: Some(m.mode),
            applied_on: row.map(|r| r.applied_on.clone()),
            batch_rows_done: batches.get(&m.id).map(|(_, rows)| *rows),
        });
    }
    for (id, row) in &history {
        if !migrations.iter().any(|m| m.id == *id) {
            entries.push(StatusEntry {
                id: *id,
                name: row.name.clone(),
                state: State::Missing,
                file: None,
                checksum: None,
                mode: None,
                applied_on: Some(row.applied_on.clone()),
                batch_rows_done: None,
            });
        }
    }
    entries.sort_by_key(|e| e.id);
    Ok(entries)
}

/// The checks that run before anything is applied; returns the pending migrations in order.
pub fn check<'m>(
    history: &BTreeMap<MigrationId, AppliedRow>,
    migrations: &'m [Migration],
    allow_out_of_order: bool,
) -> Result<Vec<&'m Migration>, MigrateError> {
    let changed: Vec<&Migration> = migrations
        .iter()
        .filter(|m| history.get(&m.id).is_some_and(|row| !matches(row, m)))
        .collect();
    if let Some(first) = changed.first() {
        return Err(MigrateError::Changed {
            list: list(changed.iter().map(|m| m.file.clone())),
            first: first.id,
        });
    }
    let missing: Vec<&AppliedRow> = history
        .values()
        .filter(|row| !migrations.iter().any(|m| m.id == row.id))
        .collect();
    if !missing.is_empty() {
        return Err(MigrateError::Missing {
            list: list(missing.iter().map(|r| format!("{}_{}.sql", r.id, r.name))),
        });
    }
    let pending: Vec<&Migration> = migrations
        .iter()
        .filter(|m| !history.contains_key(&m.id))
        .collect();
    if let Some(&last) = history.keys().next_back() {
        let early: Vec<&&Migration> = pending.iter().filter(|m| m.id < last).collect();
        if !early.is_empty() && !allow_out_of_order {
            return Err(MigrateError::OutOfOrder {
                list: list(early.iter().map(|m| m.file.clone())),
                last,
            });
        }
    }
    Ok(pending)
}

fn list(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

/// Applies the pending migrations in order. `client` must hold the target's advisory lock
/// (`LockedConnection::acquire`); the pipeline's migrations stage calls this.
pub async fn apply_pending(
    client: &mut Client,
    migrations: &[Migration],
    options: &ApplyOptions,
    reporter: &Reporter,
) -> Result<ApplyReport, MigrateError> {
    ensure_tables(&*client).await?;
    // A batch recorded as applied whose progress row survived (killed between the two).
    client
        .execute(
            &format!(
                "DELETE FROM {} b WHERE EXISTS (SELECT 1 FROM {} h WHERE h.version = b.version)",
                batches_table(),
                history_table()
            ),
            &[],
        )
        .await
        .map_err(PgError::query("clearing finished batch progress"))?;
    let history = applied(&*client).await?;
    let pending = check(&history, migrations, options.allow_out_of_order)?;
    let mut last = history.keys().next_back().copied();
    let mut report = ApplyReport::default();
    for m in pending {
        if options.to.is_some_and(|to| m.id > to) {
            break;
        }
        let in_order = last.is_none_or(|last| m.id > last);
        let started = Instant::now();
        let rows = match m.mode {
            Mode::Transaction => {
                let _progress = reporter.progress(&format!("applying {}", m.file));
                if in_order {
                    apply_with_refinery(client, m).await?;
                } else {
                    let tx = client
                        .transaction()
                        .await
                        .map_err(PgError::query("starting a transaction"))?;
                    tx.batch_execute(&m.text)
                        .await
                        .map_err(|e| failed(m, &describe(&e)))?;
                    record_directly(&tx, m).await?;
                    tx.commit().await.map_err(|e| failed(m, &describe(&e)))?;
                }
                None
            }
            Mode::NoTransaction => {
                for statement in &m.statements {
                    let _progress = reporter.progress(&format!(
                        "applying {} (line {}, no transaction)",
                        m.file, statement.line
                    ));
                    client.batch_execute(&statement.sql).await.map_err(|e| {
                        failed(m, &format!("line {}: {}", statement.line, describe(&e)))
                    })?;
                }
                record(client, m, in_order).await?;
                None
            }
            Mode::Batch => {
                let rows = run_batch(client, m, reporter).await?;
                record(client, m, in_order).await?;
                client
                    .execute(
                        &format!("DELETE FROM {} WHERE version = $1", batches_table()),
                        &[&(m.id.0 as i32)],
                    )
                    .await
                    .map_err(PgError::query("clearing batch progress"))?;
                Some(rows)
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        reporter.note(&format!(
            "applied {}{} in {seconds:.1}s",
            m.file,
            rows.map(|r| format!(" ({r} rows)")).unwrap_or_default()
        ));
        report.applied.push(AppliedMigration {
            id: m.id,
            name: m.name.clone(),
            mode: m.mode,
            rows,
            seconds,
        });
        last = Some(last.map_or(m.id, |l| l.max(m.id)));
        crate::failpoint::hit(&format!("migration:{}", m.file));
    }
    Ok(report)
}

fn failed(m: &Migration, message: &str) -> MigrateError {
    let help = match m.mode {
        Mode::Transaction => format!(
            "its transaction was rolled back and {} stays pending; fix the file and run again",
            m.file
        ),
        Mode::Batch => format!(
            "the failing repetition was rolled back; earlier ones are committed and {} stays pending; fix the cause and run again: the batch resumes",
            m.file
        ),
        Mode::NoTransaction => format!(
            "statements before the failing one were committed and {} stays pending; make them safe to run again (IF NOT EXISTS, ...) and run again",
            m.file
        ),
    };
    MigrateError::Failed {
        file: m.file.clone(),
        message: message.to_string(),
        help,
    }
}

fn refinery_message(e: &refinery::Error) -> String {
    match e.kind() {
        refinery::error::Kind::Connection(context, source) => {
            match source.downcast_ref::<tokio_postgres::Error>() {
                Some(pg) => describe(pg),
                None => format!("{context}: {source}"),
            }
        }
        other => other.to_string(),
    }
}

fn runner(m: &Migration, target: refinery::Target) -> refinery::Runner {
    let mut runner = refinery::Runner::new(&[m.refinery()])
        // The checks are done (`check`), with strata's messages; refinery sees one
        // migration at a time.
        .set_abort_divergent(false)
        .set_abort_missing(false)
        .set_target(target);
    runner.set_migration_table_name(history_table().to_string());
    runner
}

/// One migration in its own transaction, recorded in the same transaction, by refinery.
async fn apply_with_refinery(client: &mut Client, m: &Migration) -> Result<(), MigrateError> {
    let report = runner(m, refinery::Target::Latest)
        .run_async(client)
        .await
        .map_err(|e| failed(m, &refinery_message(&e)))?;
    if report.applied_migrations().len() != 1 {
        return Err(MigrateError::Refinery(format!(
            "refinery did not apply {}",
            m.file
        )));
    }
    Ok(())
}

/// Records a migration that strata ran itself: through refinery's fake target when it is
/// in order (refinery only fakes versions above its last), else with the row refinery
/// would have written.
async fn record(client: &mut Client, m: &Migration, in_order: bool) -> Result<(), MigrateError> {
    if in_order {
        runner(m, refinery::Target::FakeVersion(m.id.0))
            .run_async(client)
            .await
            .map_err(|e| MigrateError::Refinery(refinery_message(&e)))?;
        Ok(())
    } else {
        record_directly(&*client, m).await
    }
}

async fn record_directly(client: &impl GenericClient, m: &Migration) -> Result<(), MigrateError> {
    let applied_on = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("a UTC time formats as RFC 3339");
    client
        .execute(
            &format!(
                "INSERT INTO {} (version, name, applied_on, checksum) VALUES ($1, $2, $3, $4)",
                history_table()
            ),
            &[
                &(m.id.0 as i32),
                &m.name,
                &applied_on,
                &m.refinery_checksum().to_string(),
            ],
        )
        .await
        .map_err(PgError::query(format!("recording {}", m.file)))?;
    Ok(())
}

/// Repeats the batch statement, each time in its own transaction together with the progress
/// row, until it affects no rows. Returns the rows changed, including before a resume.
async fn run_batch(
    client: &mut Client,
    m: &Migration,
    reporter: &Reporter,
) -> Result<u64, MigrateError> {
    let statement = &m.statements[0];
    let id = m.id.0 as i32;
    let before = client
        .query_opt(
            &format!(
                "SELECT iterations, rows_done FROM {} WHERE version = $1",
                batches_table()
            ),
            &[&id],
        )
        .await
        .map_err(PgError::query("reading batch progress"))?
        .map(|r| (r.get::<_, i64>(0), r.get::<_, i64>(1)));
    let mut total = 0u64;
    if let Some((iterations, rows)) = before {
        reporter.note(&format!(
            "resuming batch {}: {rows} rows in {iterations} repetitions were done before",
            m.file
        ));
        total = rows as u64;
    }
    let estimate = estimated_rows(&*client, &statement.sql).await;
    let done = std::sync::atomic::AtomicU64::new(total);
    let upsert = format!(
        "INSERT INTO {t} AS b (version, name, iterations, rows_done) VALUES ($1, $2, 1, $3)
         ON CONFLICT (version) DO UPDATE
         SET iterations = b.iterations + 1, rows_done = b.rows_done + EXCLUDED.rows_done, updated_at = now()",
        t = batches_table()
    );
    let repeat = async {
        loop {
            let tx = client
                .transaction()
                .await
                .map_err(PgError::query("starting a transaction"))?;
            let rows = tx
                .execute(statement.sql.as_str(), &[])
                .await
                .map_err(|e| failed(m, &describe(&e)))?;
            tx.execute(upsert.as_str(), &[&id, &m.name, &(rows as i64)])
                .await
                .map_err(PgError::query("recording batch progress"))?;
            tx.commit().await.map_err(|e| failed(m, &describe(&e)))?;
            crate::failpoint::hit(&format!("batch:{}", m.file));
            done.fetch_add(rows, std::sync::atomic::Ordering::Relaxed);
            crate::failpoint::pause(&format!("slow-batch:{}", m.file)).await;
            if rows == 0 {
                return Ok::<_, MigrateError>(());
            }
        }
    };
    let label = || format!("applying {} (batch)", m.file);
    let probe = async || crate::report::Advance {
        done: Some(done.load(std::sync::atomic::Ordering::Relaxed)),
        total: estimate,
        unit: "rows",
        phase: None,
    };
    reporter.with_heartbeat(&label, probe, repeat).await?;
    Ok(done.into_inner())
}

/// The table an UPDATE, DELETE or INSERT changes, quoted for `to_regclass`.
fn changed_table(sql: &str) -> Option<String> {
    use pg_query::NodeEnum;
    let node = crate::sqlparse::first_statement(sql)?;
    let relation = match &node {
        NodeEnum::UpdateStmt(s) => s.relation.as_ref()?,
        NodeEnum::DeleteStmt(s) => s.relation.as_ref()?,
        NodeEnum::InsertStmt(s) => s.relation.as_ref()?,
        _ => return None,
    };
    Some(match relation.schemaname.as_str() {
        "" => crate::model::quote_ident(&relation.relname),
        schema => format!(
            "{}.{}",
            crate::model::quote_ident(schema),
            crate::model::quote_ident(&relation.relname)
        ),
    })
}

/// The planner's estimate of the rows of the table a batch statement changes
/// (`pg_class.reltuples`; none for a table never analysed or vacuumed).
async fn estimated_rows(client: &impl GenericClient, sql: &str) -> Option<u64> {
    let table = changed_table(sql)?;
    let row = client
        .query_opt(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass($1)",
            &[&table],
        )
        .await
        .ok()??;
    u64::try_from(row.get::<_, i64>(0)).ok().filter(|n| *n > 0)
}

/// Accepts the current file of an applied migration as what was applied: its checksum
/// replaces the recorded one, and the repair is logged with its reason.
pub async fn repair(
    client: &mut Client,
    migrations: &[Migration],
    id: MigrationId,
    reason: &str,
) -> Result<RepairOutcome, MigrateError> {
    if reason.trim().is_empty() {
        return Err(MigrateError::NoReason);
    }
    ensure_tables(&*client).await?;
    let history = applied(&*client).await?;
    let row = history.get(&id).ok_or(MigrateError::NotApplied { id })?;
    let m = migrations
        .iter()
        .find(|m| m.id == id)
        .ok_or(MigrateError::NoFile { id })?;
    let new_checksum = m.refinery_checksum().to_string();
    if matches(row, m) {
        return Ok(RepairOutcome {
            id,
            repaired: false,
            old_checksum: row.checksum.clone(),
            new_checksum,
        });
    }
    let tx = client
        .transaction()
        .await
        .map_err(PgError::query("starting a transaction"))?;
    tx.execute(
        &format!(
            "UPDATE {} SET name = $1, checksum = $2 WHERE version = $3",
            history_table()
        ),
        &[&m.name, &new_checksum, &(id.0 as i32)],
    )
    .await
    .map_err(PgError::query("repairing the migration history"))?;
    tx.execute(
        &format!(
            "INSERT INTO {} (version, name, old_checksum, new_checksum, file_checksum, reason)
             VALUES ($1, $2, $3, $4, $5, $6)",
            repairs_table()
        ),
        &[
            &(id.0 as i32),
            &m.name,
            &row.checksum,
            &new_checksum,
            &m.checksum.to_string(),
            &reason,
        ],
    )
    .await
    .map_err(PgError::query("logging the repair"))?;
    tx.commit()
        .await
        .map_err(PgError::query("committing the repair"))?;
    Ok(RepairOutcome {
        id,
        repaired: true,
        old_checksum: row.checksum.clone(),
        new_checksum,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DdlInMigrations;
    use std::path::Path;

    fn migration(file: &str, text: &str) -> Migration {
        crate::source::migration::parse_migration(
            Path::new(file),
            file,
            text.as_bytes().to_vec(),
            DdlInMigrations::Warn,
        )
        .unwrap()
        .0
    }

    fn row(m: &Migration) -> (MigrationId, AppliedRow) {
        (
            m.id,
            AppliedRow {
                id: m.id,
                name: m.name.clone(),
                applied_on: "2026-01-01T00:00:00Z".into(),
                checksum: m.refinery_checksum().to_string(),
            },
        )
    }

    #[test]
    fn pending_are_the_unapplied_in_order() {
        let files = vec![
            migration("0001_a.sql", "SELECT 1;"),
            migration("0002_b.sql", "SELECT 2;"),
            migration("0003_c.sql", "SELECT 3;"),
        ];
        let history = BTreeMap::from([row(&files[0])]);
        let pending = check(&history, &files, false).unwrap();
        let ids: Vec<u32> = pending.iter().map(|m| m.id.0).collect();
        assert_eq!(ids, [2, 3]);
    }

    #[test]
    fn edits_missing_files_and_out_of_order_are_refused() {
        let a = migration("0001_a.sql", "SELECT 1;");
        let b = migration("0002_b.sql", "SELECT 2;");
        let history = BTreeMap::from([row(&a), row(&b)]);

        let edited = vec![migration("0001_a.sql", "SELECT 10;"), b.clone()];
        match check(&history, &edited, false).unwrap_err() {
            MigrateError::Changed { list, first } => {
                assert_eq!(list, "0001_a.sql");
                assert_eq!(first, MigrationId(1));
            }
            other => panic!("{other:?}"),
        }
        let renamed = vec![migration("0001_other.sql", "SELECT 1;"), b.clone()];
        assert!(matches!(
            check(&history, &renamed, false),
            Err(MigrateError::Changed { .. })
        ));
        assert!(matches!(
            check(&history, std::slice::from_ref(&b), false),
            Err(MigrateError::Missing { .. })
        ));

        let history = BTreeMap::from([row(&b)]);
        let files = vec![a.clone(), b.clone()];
        assert!(matches!(
            check(&history, &files, false),
            Err(MigrateError::OutOfOrder {
                last: MigrationId(2),
                ..
            })
        ));
        assert_eq!(check(&history, &files, true).unwrap().len(), 1);
    }

    #[test]
    fn crlf_matches_the_recorded_checksum() {
        let lf = migration("0001_a.sql", "-- x\nSELECT 1;\n");
        let crlf = migration("0001_a.sql", "-- x\r\nSELECT 1;\r\n");
        let history = BTreeMap::from([row(&lf)]);
        assert!(check(&history, &[crlf], false).unwrap().is_empty());
    }
}
