//! Connection parameters: URL and `PG*` environment conventions, TLS modes, redaction.

use super::PgError;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::config::Host;

/// libpq's sslmode values that strata honours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(text: &str) -> Result<Self, PgError> {
        Ok(match text {
            "disable" => SslMode::Disable,
            "allow" | "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(PgError::BadUrl(format!(
                    "unknown sslmode `{other}` (disable, prefer, require, verify-ca, verify-full)"
                )))
            }
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// Everything needed to open a connection. `Display` never shows the password.
#[derive(Clone)]
pub struct ConnInfo {
    config: tokio_postgres::Config,
    ssl_mode: SslMode,
    ssl_root_cert: Option<PathBuf>,
}

impl std::fmt::Debug for ConnInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ConnInfo({self})")
    }
}

impl ConnInfo {
    /// Parses a `postgres://` URL or a `key=value` string; what it leaves out comes from
    /// `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`, `PGSSLMODE`, `PGSSLROOTCERT`,
    /// `PGAPPNAME` and `PGCONNECT_TIMEOUT`, then libpq's defaults.
    pub fn parse(text: &str) -> Result<Self, PgError> {
        Self::parse_with_env(text, |k| std::env::var(k).ok())
    }

    pub fn parse_with_env(
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, PgError> {
        let (rest, ssl_mode, ssl_root_cert) = take_ssl_params(text)?;
        let mut config =
            tokio_postgres::Config::from_str(&rest).map_err(|e| PgError::BadUrl(e.to_string()))?;
        if config.get_hosts().is_empty() {
            match env("PGHOST") {
                Some(hosts) => {
                    for host in hosts.split(',') {
                        config.host(host);
                    }
                }
                None => {
                    config.host(default_host());
                }
            }
        }
        if config.get_ports().is_empty() {
            if let Some(port) = env("PGPORT").and_then(|p| p.parse().ok()) {
                config.port(port);
            }
        }
        if config.get_user().is_none() {
            let user = env("PGUSER")
                .or_else(|| env("USER"))
                .unwrap_or_else(|| "postgres".into());
            config.user(&user);
        }
        if config.get_password().is_none() {
            if let Some(password) = env("PGPASSWORD") {
                config.password(password);
            }
        }
        if config.get_dbname().is_none() {
            let dbname =
                env("PGDATABASE").unwrap_or_else(|| config.get_user().unwrap().to_string());
            config.dbname(&dbname);
        }
        if config.get_application_name().is_none() {
            config.application_name(env("PGAPPNAME").unwrap_or_else(|| "strata".into()));
        }
        if config.get_connect_timeout().is_none() {
            let secs = env("PGCONNECT_TIMEOUT")
                .and_then(|s| s.parse().ok())
                .unwrap_or(10);
            config.connect_timeout(Duration::from_secs(secs));
        }
        let ssl_mode = match ssl_mode {
            Some(mode) => mode,
            None => match env("PGSSLMODE") {
                Some(mode) => SslMode::parse(&mode)?,
                None => SslMode::Prefer,
            },
        };
        let ssl_root_cert = ssl_root_cert.or_else(|| env("PGSSLROOTCERT").map(PathBuf::from));
        config.ssl_mode(match ssl_mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            _ => tokio_postgres::config::SslMode::Require,
        });
        Ok(ConnInfo {
            config,
            ssl_mode,
            ssl_root_cert,
        })
    }

    pub fn dbname(&self) -> &str {
        self.config.get_dbname().unwrap_or("postgres")
    }

    pub fn user(&self) -> &str {
        self.config.get_user().unwrap_or("postgres")
    }

    /// The same server, another database.
    pub fn with_dbname(&self, dbname: &str) -> ConnInfo {
        let mut other = self.clone();
        other.config.dbname(dbname);
        other
    }

    pub fn ssl_mode(&self) -> SslMode {
        self.ssl_mode
    }

    pub async fn connect(&self) -> Result<tokio_postgres::Client, PgError> {
        let connect_error = |source| PgError::Connect {
            target: self.to_string(),
            source,
        };
        let only_sockets = self
            .config
            .get_hosts()
            .iter()
            .all(|h| matches!(h, Host::Unix(_)));
        // TLS is never negotiated over a Unix socket, and rustls cannot name a path.
        let client = if self.ssl_mode == SslMode::Disable || only_sockets {
            let mut config = self.config.clone();
            config.ssl_mode(tokio_postgres::config::SslMode::Disable);
            let (client, connection) = config
                .connect(tokio_postgres::NoTls)
                .await
                .map_err(connect_error)?;
            tokio::spawn(connection);
            client
        } else {
            let tls = super::tls::connector(self.ssl_mode, self.ssl_root_cert.as_deref())?;
            let (client, connection) = self.config.connect(tls).await.map_err(connect_error)?;
            tokio::spawn(connection);
            client
        };
        Ok(client)
    }

    /// Environment for libpq programs (psql, pg_dump): the password travels here, never
    /// on a command line where `ps` would show it.
    pub fn libpq_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("PGHOST", self.host_text()),
            ("PGUSER", self.user().to_string()),
            ("PGDATABASE", self.dbname().to_string()),
            ("PGSSLMODE", self.ssl_mode.as_str().to_string()),
        ];
        if let Some(port) = self.config.get_ports().first() {
            env.push(("PGPORT", port.to_string()));
        }
        if let Some(password) = self.config.get_password() {
            env.push(("PGPASSWORD", String::from_utf8_lossy(password).into_owned()));
        }
        if let Some(cert) = &self.ssl_root_cert {
            env.push(("PGSSLROOTCERT", cert.display().to_string()));
        }
        env
    }

    fn host_text(&self) -> String {
        self.config
            .get_hosts()
            .iter()
            .map(|h| match h {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.display().to_string(),
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl std::fmt::Display for ConnInfo {
    /// `postgresql://user@host:port/db`, never with the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = self.host_text();
        let host = if host.starts_with('/') {
            percent_encoding::utf8_percent_encode(&host, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
        } else {
            host
        };
        write!(f, "postgresql://{}@{}", self.user(), host)?;
        if let Some(port) = self.config.get_ports().first() {
            write!(f, ":{port}")?;
        }
        write!(f, "/{}", self.dbname())?;
        if self.config.get_password().is_some() {
            // Say that a password is set without showing it.
            write!(f, " (password: ***)")?;
        }
        Ok(())
    }
}

fn default_host() -> &'static str {
    if std::path::Path::new("/var/run/postgresql").is_dir() {
        "/var/run/postgresql"
    } else {
        "localhost"
    }
}

/// tokio-postgres knows only disable/prefer/require; strata takes sslmode (and
/// sslrootcert) out of the string and handles verification itself.
fn take_ssl_params(text: &str) -> Result<(String, Option<SslMode>, Option<PathBuf>), PgError> {
    let mut mode = None;
    let mut root_cert = None;
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        let Some((base, query)) = text.split_once('?') else {
            return Ok((text.to_string(), None, None));
        };
        let mut kept = Vec::new();
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("sslmode", v)) => mode = Some(SslMode::parse(v)?),
                Some(("sslrootcert", v)) => {
                    root_cert = Some(PathBuf::from(
                        percent_encoding::percent_decode_str(v)
                            .decode_utf8_lossy()
                            .into_owned(),
                    ))
                }
                _ => kept.push(pair),
            }
        }
        let rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        Ok((rest, mode, root_cert))
    } else {
        let mut kept = Vec::new();
        for pair in text.split_whitespace() {
            match pair.split_once('=') {
                Some(("sslmode", v)) => mode = Some(SslMode::parse(v)?),
                Some(("sslrootcert", v)) => root_cert = Some(PathBuf::from(v)),
                _ => kept.push(pair),
            }
        }
        Ok((kept.join(" "), mode, root_cert))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn password_never_displayed() {
        let info = ConnInfo::parse_with_env("postgres://alice:s3cret@db.example:6543/app", no_env)
            .unwrap();
        let shown = info.to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert_eq!(
            shown,
            "postgresql://alice@db.example:6543/app (password: ***)"
        );
        assert!(!format!("{info:?}").contains("s3cret"));
    }

    #[test]
    fn ssl_modes_are_taken_out() {
        let info = ConnInfo::parse_with_env(
            "postgresql://u@h/db?sslmode=verify-full&application_name=x",
            no_env,
        )
        .unwrap();
        assert_eq!(info.ssl_mode(), SslMode::VerifyFull);
        let info = ConnInfo::parse_with_env("host=h user=u sslmode=require", no_env).unwrap();
        assert_eq!(info.ssl_mode(), SslMode::Require);
        assert!(ConnInfo::parse_with_env("postgres://h/db?sslmode=bogus", no_env).is_err());
    }

    #[test]
    fn environment_fills_the_gaps() {
        let env = |k: &str| match k {
            "PGHOST" => Some("envhost".to_string()),
            "PGPORT" => Some("7777".to_string()),
            "PGUSER" => Some("bob".to_string()),
            "PGPASSWORD" => Some("pw".to_string()),
            "PGSSLMODE" => Some("disable".to_string()),
            _ => None,
        };
        let info = ConnInfo::parse_with_env("postgres:///appdb", env).unwrap();
        assert_eq!(
            info.to_string(),
            "postgresql://bob@envhost:7777/appdb (password: ***)"
        );
        assert_eq!(info.ssl_mode(), SslMode::Disable);
        let url_wins = ConnInfo::parse_with_env("postgres://carol@urlhost/x", env).unwrap();
        assert_eq!(url_wins.user(), "carol");
    }

    #[test]
    fn unix_socket_urls() {
        let info =
            ConnInfo::parse_with_env("postgresql://strata@%2Ftmp%2Fs:5999/dev", no_env).unwrap();
        assert_eq!(info.host_text(), "/tmp/s");
        assert_eq!(info.to_string(), "postgresql://strata@%2Ftmp%2Fs:5999/dev");
    }
}
