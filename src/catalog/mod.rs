//! Introspection: a live database's schema read into `model::Schema` with a fixed number of
//! catalog queries (one per object kind, see `sql.rs`), whatever the number of objects.
//!
//! Left out: system schemas, strata's own schema `strata`, schemas the manifest does not
//! manage, and objects that belong to an extension. Objects strata does not model come back
//! as `Unmodelled` warnings, never silently dropped.

mod build;
pub mod clone;
mod deparse;
mod depend;
mod row;
pub mod settle;
mod sql;

use crate::config::Config;
use crate::model::Schema;
use miette::Diagnostic;
use row::{CatalogRow, Columns, Fields};
use serde::Serialize;
use std::sync::atomic::{AtomicU32, Ordering};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row};

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum CatalogError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Pg(#[from] crate::pg::PgError),
    #[error(
        "schema {name:?} is listed in schema.include_schemas but does not exist in the database"
    )]
    #[diagnostic(
        code(strata::catalog::missing_schema),
        help("create it, or remove it from include_schemas in pipeline.toml")
    )]
    MissingSchema { name: String },
    #[error("cannot write {path}: {message}")]
    #[diagnostic(code(strata::dump::write))]
    Write { path: String, message: String },
    #[error(
        "{0} was dropped or replaced while strata read the catalog, on each of {n} tries",
        n = ATTEMPTS
    )]
    #[diagnostic(
        code(strata::catalog::changed),
        help("DDL kept committing during the read; run again once it is done")
    )]
    Changed(String),
    #[error(
        "the catalog read waited over {} ms for a lock on each of {n} tries",
        READ_LOCK_TIMEOUT.as_millis(),
        n = ATTEMPTS
    )]
    #[diagnostic(
        code(strata::catalog::lock_wait),
        help(
            "another session holds or waits for an ACCESS EXCLUSIVE lock on a table or view \
              strata reads (see pg_locks); run again once it is done"
        )
    )]
    LockWait,
    #[error("unexpected catalog data: {0}")]
    #[diagnostic(code(strata::catalog::unexpected))]
    Unexpected(String),
}

impl CatalogError {
    /// When this failure comes from DDL or locks of other sessions during the read (worth
    /// starting over with a new snapshot), the error to report if it persists. The server's
    /// deparse functions read the latest catalog, not the snapshot: for an object dropped
    /// after the snapshot was taken they answer NULL (turned into `Changed` where the model is
    /// built) or fail with an internal error.
    fn concurrent(&self) -> Option<CatalogError> {
        if let CatalogError::Changed(what) = self {
            return Some(CatalogError::Changed(what.clone()));
        }
        let db = self.db_error()?;
        if *db.code() == SqlState::LOCK_NOT_AVAILABLE {
            return Some(CatalogError::LockWait);
        }
        let lost = *db.code() == SqlState::INTERNAL_ERROR
            && (db.message().starts_with("cache lookup failed")
                || db.message().starts_with("could not open relation with OID"));
        lost.then(|| CatalogError::Changed(format!("an object ({})", db.message())))
    }

    /// "current transaction is aborted": the consequence of an earlier error, not a cause.
    fn follows_another(&self) -> bool {
        self.db_error()
            .is_some_and(|db| *db.code() == SqlState::IN_FAILED_SQL_TRANSACTION)
    }

    fn db_error(&self) -> Option<&tokio_postgres::error::DbError> {
        match self {
            CatalogError::Pg(crate::pg::PgError::Query { source, .. }) => source.as_db_error(),
            _ => None,
        }
    }
}

/// An object strata does not model (foreign table, event trigger, cast, operator, ...).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Unmodelled {
    pub kind: String,
    pub name: String,
}

impl std::fmt::Display for Unmodelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} is not modelled by strata: it is left out of the schema, the fingerprint and dumps",
            self.kind, self.name
        )
    }
}

/// What introspection found.
#[derive(Debug, Clone)]
pub struct Introspection {
    pub schema: Schema,
    pub warnings: Vec<Unmodelled>,
    /// How many catalog queries were sent (fixed, whatever the schema's size).
    pub queries: u32,
}

/// What a read covers: the three things introspection needs of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope {
    /// Empty means every schema but the system ones and `history_schema`.
    pub include_schemas: Vec<String>,
    pub exclude_schemas: Vec<String>,
    /// Whether owners are modelled (`[schema] owners`).
    pub owners: bool,
    /// strata's own schema (run history), never read.
    pub history_schema: String,
}

impl Scope {
    pub fn manages_schema(&self, name: &str) -> bool {
        let included =
            self.include_schemas.is_empty() || self.include_schemas.iter().any(|s| s == name);
        included && !self.exclude_schemas.iter().any(|s| s == name)
    }
}

/// What the read functions take: a [`Scope`], or the manifest it comes from.
pub trait ToScope {
    fn scope(&self) -> Scope;
}

impl ToScope for Scope {
    fn scope(&self) -> Scope {
        self.clone()
    }
}

impl ToScope for Config {
    fn scope(&self) -> Scope {
        Scope {
            include_schemas: self.schema.include_schemas.clone(),
            exclude_schemas: self.schema.exclude_schemas.clone(),
            owners: self.schema.owners,
            history_schema: crate::config::history_schema(),
        }
    }
}

/// Reads the schema the manifest manages; warnings for unmodelled objects are dropped
/// (use `introspect` to see them).
pub async fn catalog(client: &Client, scope: &impl ToScope) -> Result<Schema, CatalogError> {
    Ok(introspect(client, scope).await?.schema)
}

/// How many times a read is tried when objects vanish under it or a lock wait times out
/// (each try a new snapshot).
const ATTEMPTS: u32 = 3;

/// How long the read waits for any one lock. It holds the locks it has taken while it waits:
/// waiting behind an ACCESS EXCLUSIVE lock for long would make DDL on the tables already read
/// wait for strata, and the application's queries wait behind that DDL.
const READ_LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Reads the schema the manifest manages, with warnings and the query count.
///
/// Every catalog query runs in one read-only REPEATABLE READ transaction, so all of them see
/// the same snapshot: DDL committed meanwhile (a partition manager, another deploy) is either
/// wholly in the model or not at all. Like pg_dump, the read then holds the ACCESS SHARE locks
/// the server's deparse functions take (views, CHECK constraints, expression indexes) until it
/// ends, and waits at most `READ_LOCK_TIMEOUT` for each. An object dropped between the
/// snapshot and its deparsing, or a lock wait that times out, makes the read start over with
/// a new snapshot (`ATTEMPTS` in all). Must not be called inside a transaction of the caller's.
pub async fn introspect(
    client: &Client,
    scope: &impl ToScope,
) -> Result<Introspection, CatalogError> {
    introspect_on(&[client], scope).await
}

/// [`introspect_on`] over `jobs` connections of its own to the database `conninfo` names
/// (at least one): for databases strata owns (shadow databases), where a few more
/// connections cost nobody anything.
pub async fn introspect_over(
    conninfo: &crate::pg::ConnInfo,
    jobs: usize,
    scope: &impl ToScope,
) -> Result<Introspection, CatalogError> {
    let mut clients = Vec::with_capacity(jobs.max(1));
    for _ in 0..jobs.max(1) {
        clients.push(conninfo.connect().await?);
    }
    let clients: Vec<&Client> = clients.iter().collect();
    introspect_on(&clients, scope).await
}

/// [`introspect`] with the catalog queries spread over several connections to the same
/// database (as `pg_dump -j` does): the first exports its snapshot (`pg_export_snapshot`),
/// the others import it (`SET TRANSACTION SNAPSHOT`), so every query still sees one snapshot.
/// Query `k` of a read goes to connection `k mod n`: the count per connection is fixed.
pub async fn introspect_on(
    clients: &[&Client],
    scope: &impl ToScope,
) -> Result<Introspection, CatalogError> {
    let scope = scope.scope();
    let mut attempt = 1;
    loop {
        let result = read_once(clients, &scope).await;
        match result.as_ref().err().and_then(CatalogError::concurrent) {
            Some(_) if attempt < ATTEMPTS => attempt += 1,
            Some(persisting) => return Err(persisting),
            None => return result,
        }
    }
}

async fn read_once(clients: &[&Client], scope: &Scope) -> Result<Introspection, CatalogError> {
    let result = match begin_read(clients).await {
        Ok(()) => read(clients, scope).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(read) => {
            for client in clients {
                client
                    .batch_execute("COMMIT")
                    .await
                    .map_err(crate::pg::PgError::query("ending the catalog read"))?;
            }
            Ok(read)
        }
        Err(e) => {
            // The read's own error is the one to report; a failed ROLLBACK adds nothing.
            for client in clients {
                let _ = client.batch_execute("ROLLBACK").await;
            }
            Err(e)
        }
    }
}

/// Starts the read's transaction on every connection, all on the first one's snapshot.
async fn begin_read(clients: &[&Client]) -> Result<(), CatalogError> {
    let settings = format!(
        "SET LOCAL search_path = ''; SET LOCAL lock_timeout = '{}'; \
         SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL jit = off",
        crate::config::duration::as_millis_text(READ_LOCK_TIMEOUT)
    );
    let begin = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
    let fail = || crate::pg::PgError::query("starting the catalog read");
    let (first, helpers) = clients.split_first().expect("a connection");
    first
        .batch_execute(&format!("{begin}; {settings}"))
        .await
        .map_err(fail())?;
    if helpers.is_empty() {
        return Ok(());
    }
    let snapshot: String = first
        .query_one("SELECT pg_export_snapshot()", &[])
        .await
        .map_err(fail())?
        .get(0);
    for helper in helpers {
        helper
            .batch_execute(&format!(
                "{begin}; SET TRANSACTION SNAPSHOT {}; {settings}",
                crate::model::quote_literal(&snapshot)
            ))
            .await
            .map_err(fail())?;
    }
    Ok(())
}

/// The rows of each pipelined query, or the error that made them fail: once one query of
/// the transaction fails, the ones after it fail with "current transaction is aborted", which
/// says nothing (and may be the first error polled).
fn all_or_cause<const N: usize>(
    results: [Result<Vec<CatalogRow>, CatalogError>; N],
) -> Result<[Vec<CatalogRow>; N], CatalogError> {
    let mut rows = Vec::with_capacity(N);
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok(r) => rows.push(r),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        let cause = errors
            .iter()
            .position(|e| !e.follows_another())
            .unwrap_or(0);
        return Err(errors.swap_remove(cause));
    }
    rows.try_into()
        .map_err(|_| CatalogError::Unexpected("a query without its rows".to_string()))
}

/// A streamed query's rows, and its result as [`all_or_cause`] takes it.
fn set_aside<T>(
    result: Result<Vec<T>, CatalogError>,
) -> (Vec<T>, Result<Vec<CatalogRow>, CatalogError>) {
    match result {
        Ok(rows) => (rows, Ok(Vec::new())),
        Err(e) => (Vec::new(), Err(e)),
    }
}

/// Counts the catalog queries sent.
pub(crate) struct Queries<'a> {
    clients: &'a [&'a Client],
    count: AtomicU32,
    /// Per connection, when its last query's rows had all arrived (`STRATA_TIMINGS`): queries
    /// on one connection are pipelined, so each one's time runs from there to its own rows.
    done: Vec<std::sync::Mutex<std::time::Instant>>,
}

impl Queries<'_> {
    /// A query's rows, each copied out of the connection's buffer as it arrives.
    pub(crate) async fn rows(
        &self,
        what: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<CatalogRow>, CatalogError> {
        let mut columns = None;
        self.each(what, sql, params, |row| {
            let columns = columns.get_or_insert_with(|| Columns::of(row));
            Ok(CatalogRow::copy(row, columns))
        })
        .await
    }

    /// Each row turned into a `T` as it arrives: the queries whose rows outnumber the objects
    /// take their own compact form (pg_depend's 215,000 rows at 10,000 tables took about 60 MB
    /// as `Row`s).
    pub(crate) async fn each<T>(
        &self,
        what: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        mut f: impl FnMut(&Row) -> Result<T, CatalogError>,
    ) -> Result<Vec<T>, CatalogError> {
        let k = self.count.fetch_add(1, Ordering::Relaxed) as usize;
        let fail = || crate::pg::PgError::query(format!("reading {what} from the catalog"));
        let stream = self.clients[k % self.clients.len()]
            .query_raw(sql, params.iter().copied())
            .await
            .map_err(fail())?;
        let mut stream = std::pin::pin!(stream);
        let mut out = Vec::new();
        while let Some(row) =
            std::future::poll_fn(|cx| futures_core::Stream::poll_next(stream.as_mut(), cx)).await
        {
            out.push(f(&row.map_err(fail())?)?);
        }
        self.record(k, what);
        Ok(out)
    }

    /// `STRATA_TIMINGS`: query `k`'s time, from the end of the one before it on its connection.
    fn record(&self, k: usize, what: &str) {
        if crate::timings::enabled() {
            let now = std::time::Instant::now();
            let mut done = self.done[k % self.clients.len()]
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            crate::timings::record("read", what, now.saturating_duration_since(*done));
            *done = now;
        }
    }
}

async fn read(clients: &[&Client], scope: &Scope) -> Result<Introspection, CatalogError> {
    let version = crate::pg::server_version_num(clients[0]).await?;
    let q = Queries {
        clients,
        count: AtomicU32::new(0),
        done: clients
            .iter()
            .map(|_| std::sync::Mutex::new(std::time::Instant::now()))
            .collect(),
    };
    let namespaces = q
        .rows("schemas", &sql::namespaces(&scope.history_schema), &[])
        .await?;
    let mut managed: Vec<u32> = Vec::new();
    let mut managed_rows = Vec::new();
    for row in namespaces {
        let name: String = row.get("nspname");
        let plain: bool = row.get("plain");
        if plain && scope.manages_schema(&name) {
            managed.push(row.get("oid"));
            managed_rows.push(row);
        }
    }
    for name in &scope.include_schemas {
        if !managed_rows
            .iter()
            .any(|r| r.get::<String>("nspname") == *name)
        {
            return Err(CatalogError::MissingSchema { name: name.clone() });
        }
    }
    let p: [&(dyn ToSql + Sync); 1] = [&managed];
    let (types_sql, seq_sql, tables_sql, cols_sql, views_sql, fn_sql, unm_sql) = (
        sql::types(version),
        sql::sequences(),
        sql::tables(),
        sql::columns(),
        sql::views(),
        sql::functions(),
        sql::unmodelled(),
    );
    let (constraints_sql, indexes_sql) = (sql::constraints(version), sql::indexes(version));
    let collations_sql = sql::collations(version);
    let statistics_sql = sql::statistics(version);
    // Sent together: tokio-postgres pipelines them on the one connection.
    let results = tokio::join!(
        q.rows("extensions", sql::EXTENSIONS, &p),
        q.rows("collations", &collations_sql, &p),
        q.rows("types", &types_sql, &p),
        q.rows("sequences", &seq_sql, &p),
        q.rows("tables", &tables_sql, &p),
        q.each("columns", &cols_sql, &p, build::ColumnRow::new),
        q.rows("constraints", &constraints_sql, &p),
        q.rows("indexes", &indexes_sql, &p),
        q.rows("operator classes", sql::OPCLASSES, &[]),
        q.rows("views", &views_sql, &p),
        q.rows("functions", &fn_sql, &p),
        q.rows("triggers", sql::TRIGGERS, &p),
        q.rows("policies", sql::POLICIES, &p),
        q.rows("statistics objects", &statistics_sql, &p),
        q.rows("default privileges", sql::DEFAULT_PRIVILEGES, &p),
        q.each("dependencies", sql::DEPENDENCIES, &[], |row| Ok(
            depend::DependRow::new(row)
        )),
        q.rows("unmodelled objects", &unm_sql, &p),
    );
    // The streamed queries' errors take part in choosing the cause; their rows are set aside.
    let (columns, columns_check) = set_aside(results.5);
    let (dependencies, dependencies_check) = set_aside(results.15);
    #[rustfmt::skip]
    let [
        extensions, collations, types, sequences, tables, _, constraints, indexes, opclasses, views,
        functions, triggers, policies, statistics, default_privileges, _, unmodelled,
    ] =
        all_or_cause([
            results.0, results.1, results.2, results.3, results.4, columns_check, results.6, results.7,
            results.8, results.9, results.10, results.11, results.12, results.13, results.14,
            dependencies_check, results.16,
        ])?;
    let rows = build::Rows {
        namespaces: managed_rows,
        extensions,
        collations,
        types,
        sequences,
        tables,
        columns,
        constraints,
        indexes,
        opclasses,
        views,
        functions,
        triggers,
        policies,
        statistics,
        default_privileges,
        dependencies,
    };
    let owners = scope.owners;
    // Off the async workers: the other side of a diff reads meanwhile.
    let (mut schema, left) = tokio::task::spawn_blocking(move || {
        crate::timings::time("build", "model", || build::build(rows, owners))
    })
    .await
    .map_err(|e| CatalogError::Unexpected(format!("building the model: {e}")))??;
    if !left.is_empty() {
        let rows = q
            .rows(
                "index and constraint definitions",
                sql::DEFINITIONS,
                &[&left.index_oids(), &left.constraint_oids()],
            )
            .await?;
        left.fill(&mut schema, &rows)?;
    }
    let warnings = unmodelled
        .iter()
        .map(|r| Unmodelled {
            kind: r.get("kind"),
            name: r.get("name"),
        })
        .collect();
    Ok(Introspection {
        schema,
        warnings,
        queries: q.count.load(Ordering::Relaxed),
    })
}
