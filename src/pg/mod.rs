//! Connecting to PostgreSQL: URLs and TLS, the embedded cluster, shadow databases, the lock.

pub mod clone;
mod conninfo;
pub mod embedded;
mod libpq_files;
pub mod lock;
pub mod shadow;
mod tls;

pub use conninfo::ConnInfo;
pub use tls::{RootCert, SslMode, TlsFiles};

use miette::Diagnostic;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum PgError {
    #[error("invalid database URL: {0}")]
    #[diagnostic(code(strata::pg::url))]
    BadUrl(String),
    #[error("cannot connect to {target}: {}", describe(source))]
    #[diagnostic(
        code(strata::pg::connect),
        help("check the URL, that the server runs, and that the credentials are right")
    )]
    Connect {
        target: String,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("TLS: {0}")]
    #[diagnostic(code(strata::pg::tls))]
    Tls(String),
    #[error("PostgreSQL server programs (initdb, pg_ctl, postgres) were not found")]
    #[diagnostic(
        code(strata::pg::binaries_missing),
        help("install them (Debian/Ubuntu: `apt-get install postgresql`), put their directory on PATH, or name a database with --database-url")
    )]
    BinariesMissing,
    #[error("strata runs as root, and PostgreSQL refuses to; no `postgres` system user exists to run it as")]
    #[diagnostic(
        code(strata::pg::root),
        help("create one (`useradd --system postgres`; the Debian postgresql package does it), or run strata as an ordinary user")
    )]
    NoUnprivilegedUser,
    #[error("the embedded cluster in {} is not initialised", base.display())]
    #[diagnostic(code(strata::pg::not_initialised), help("run `strata db start`"))]
    NotInitialised { base: PathBuf },
    #[error("STRATA_IDLE_STOP: {message}")]
    #[diagnostic(
        code(strata::pg::idle_stop),
        help("write how long an implicitly started embedded cluster may stay idle, e.g. \"5min\" or \"30s\", or \"off\"")
    )]
    BadIdleStop { message: String },
    #[error("embedded PostgreSQL: {0}")]
    #[diagnostic(code(strata::pg::embedded))]
    Embedded(String),
    #[error("{context}: {}", describe(source))]
    #[diagnostic(code(strata::pg::query))]
    Query {
        context: String,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("another strata run holds the lock on {database}; gave up after {waited_secs}s")]
    #[diagnostic(
        code(strata::pg::locked),
        help("wait for the other run to finish, or pass a longer --lock-wait")
    )]
    Locked { database: String, waited_secs: u64 },
    #[error("the history schema `{schema}` does not exist, and role `{role}` may not create it (no CREATE on the database)")]
    #[diagnostic(
        code(strata::pg::history_schema),
        help("have an administrator run `CREATE SCHEMA {schema} AUTHORIZATION {role}` once (docs/privileges.md), or name an existing schema the role owns in `[history] schema`")
    )]
    HistorySchema { schema: String, role: String },
    #[error("cloning the schema of {source_db}: {message}")]
    #[diagnostic(
        code(strata::pg::clone),
        help("strata clones with a pg_dump at least as new as the target (else with its own dump): install the target's major's client programs (Debian: postgresql-client-<major>) or put their directory on PATH")
    )]
    Clone { source_db: String, message: String },
    #[error("the shadow server {shadow_server} runs PostgreSQL {shadow}, the target PostgreSQL {target}: a plan simulated on another major can differ from what the target does")]
    #[diagnostic(
        code(strata::pg::shadow_major),
        help("use a shadow server of PostgreSQL {target}: `[shadow] url` / STRATA_SHADOW_URL, or for the embedded one STRATA_PG_BINDIR naming that major's initdb, pg_ctl and postgres")
    )]
    ShadowMajor {
        target: u32,
        shadow: u32,
        shadow_server: String,
    },
}

impl PgError {
    pub fn query(context: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> PgError {
        let context = context.into();
        move |source| PgError::Query { context, source }
    }
}

/// The server's `server_version_num` (150018 for 15.18).
pub async fn server_version_num(client: &tokio_postgres::Client) -> Result<u32, PgError> {
    let num: String = client
        .query_one("SELECT current_setting('server_version_num')", &[])
        .await
        .map_err(PgError::query("reading the server version"))?
        .get(0);
    Ok(num.parse().unwrap_or(0))
}

/// tokio-postgres's Display says only "db error"; show the server's message and detail.
pub fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut text = format!("{}: {}", db.severity(), db.message());
        if let Some(detail) = db.detail() {
            text.push_str(&format!(" (detail: {detail})"));
        }
        if let Some(hint) = db.hint() {
            text.push_str(&format!(" (hint: {hint})"));
        }
        return text;
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}
