//! Connection parameters as libpq reads them: a `postgres://` URL or `key=value` string, then
//! the service file (`service=`, `PGSERVICE`), then the `PG*` environment, then the password
//! file and libpq's defaults. tokio-postgres's `Config` parses the string and handles several
//! hosts and `target_session_attrs`; strata takes out what it does not know (the service,
//! the password file and libpq's TLS parameters) and handles those itself.

use super::libpq_files;
use super::tls::{RootCert, SslMode, TlsFiles};
use super::PgError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::config::{Host, TargetSessionAttrs};

/// Parameters libpq knows and tokio-postgres does not: taken out of the string.
const LIBPQ_ONLY: &[&str] = &[
    "service",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "passfile",
];

/// Everything needed to open a connection. `Display` never shows the password.
#[derive(Clone)]
pub struct ConnInfo {
    config: tokio_postgres::Config,
    ssl_mode: SslMode,
    tls: TlsFiles,
}

impl std::fmt::Debug for ConnInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ConnInfo({self})")
    }
}

impl ConnInfo {
    /// Parses a `postgres://` URL or a `key=value` string; what it leaves out comes from the
    /// service file, the `PG*` environment, the password file, then libpq's defaults.
    pub fn parse(text: &str) -> Result<Self, PgError> {
        Self::parse_with_env(text, |k| std::env::var(k).ok())
    }

    pub fn parse_with_env(
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, PgError> {
        let (rest, explicit) = take_libpq_params(text)?;
        let mut config = tokio_postgres::Config::from_str(&rest)
            .map_err(|e| PgError::BadUrl(super::describe(&e)))?;
        let service = match explicit
            .get("service")
            .cloned()
            .or_else(|| env("PGSERVICE"))
        {
            Some(name) => libpq_files::service(&name, &env)?,
            None => BTreeMap::new(),
        };
        // libpq's order for what the string leaves out: the service, then the environment.
        let get = |key: &str, var: &str| -> Option<String> {
            explicit
                .get(key)
                .or_else(|| service.get(key))
                .cloned()
                .or_else(|| env(var))
                .filter(|v| !v.is_empty())
        };
        fill_from_env(&mut config, &get, &env)?;
        if config.get_password().is_none() {
            let file = get("passfile", "PGPASSFILE")
                .map(PathBuf::from)
                .or_else(|| env("HOME").map(|h| Path::new(&h).join(".pgpass")));
            if let Some(file) = file {
                let hosts = host_port_pairs(&config);
                let user = config.get_user().unwrap_or_default().to_string();
                let db = config.get_dbname().unwrap_or_default().to_string();
                if let Some(password) = libpq_files::password(&file, &hosts, &db, &user) {
                    config.password(password);
                }
            }
        }
        let (ssl_mode, tls) = resolve_tls(&get, &env)?;
        config.ssl_mode(match ssl_mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            _ => tokio_postgres::config::SslMode::Require,
        });
        Ok(ConnInfo {
            config,
            ssl_mode,
            tls,
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

    pub fn tls_files(&self) -> &TlsFiles {
        &self.tls
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
            let tls = super::tls::connector(self.ssl_mode, &self.tls)?;
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
        if !self.config.get_ports().is_empty() {
            env.push(("PGPORT", self.port_text()));
        }
        if let Some(password) = self.config.get_password() {
            env.push(("PGPASSWORD", String::from_utf8_lossy(password).into_owned()));
        }
        match &self.tls.root_cert {
            Some(RootCert::File(path)) => env.push(("PGSSLROOTCERT", path.display().to_string())),
            Some(RootCert::System) => env.push(("PGSSLROOTCERT", "system".to_string())),
            None => {}
        }
        if let Some(cert) = &self.tls.cert {
            env.push(("PGSSLCERT", cert.display().to_string()));
        }
        if let Some(key) = &self.tls.key {
            env.push(("PGSSLKEY", key.display().to_string()));
        }
        if let Some(options) = self.config.get_options() {
            env.push(("PGOPTIONS", options.to_string()));
        }
        match self.config.get_target_session_attrs() {
            TargetSessionAttrs::ReadWrite => {
                env.push(("PGTARGETSESSIONATTRS", "read-write".to_string()))
            }
            TargetSessionAttrs::ReadOnly => {
                env.push(("PGTARGETSESSIONATTRS", "read-only".to_string()))
            }
            _ => {}
        }
        env
    }

    fn host_text(&self) -> String {
        self.config
            .get_hosts()
            .iter()
            .map(host_name)
            .collect::<Vec<_>>()
            .join(",")
    }

    fn port_text(&self) -> String {
        let ports: Vec<String> = self.config.get_ports().iter().map(u16::to_string).collect();
        ports.join(",")
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
        if !self.config.get_ports().is_empty() {
            write!(f, ":{}", self.port_text())?;
        }
        write!(f, "/{}", self.dbname())?;
        if self.config.get_password().is_some() {
            // Say that a password is set without showing it.
            write!(f, " (password: ***)")?;
        }
        Ok(())
    }
}

fn host_name(host: &Host) -> String {
    match host {
        Host::Tcp(name) => name.clone(),
        Host::Unix(path) => path.display().to_string(),
    }
}

fn host_port_pairs(config: &tokio_postgres::Config) -> Vec<(String, u16)> {
    let ports = config.get_ports();
    config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let port = match ports.len() {
                0 => 5432,
                1 => ports[0],
                _ => ports.get(i).copied().unwrap_or(5432),
            };
            (host_name(host), port)
        })
        .collect()
}

fn default_host() -> &'static str {
    if std::path::Path::new("/var/run/postgresql").is_dir() {
        "/var/run/postgresql"
    } else {
        "localhost"
    }
}

type Lookup<'a> = dyn Fn(&str, &str) -> Option<String> + 'a;

/// What the string left out: from the service, then the `PG*` variable, then the default.
fn fill_from_env(
    config: &mut tokio_postgres::Config,
    get: &Lookup<'_>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), PgError> {
    if config.get_hosts().is_empty() {
        let hosts = get("host", "PGHOST").unwrap_or_else(|| default_host().to_string());
        for host in hosts.split(',') {
            config.host(host);
        }
    }
    if config.get_ports().is_empty() {
        if let Some(ports) = get("port", "PGPORT") {
            for port in ports.split(',') {
                let port = port
                    .trim()
                    .parse()
                    .map_err(|_| PgError::BadUrl(format!("invalid port number: \"{port}\"")))?;
                config.port(port);
            }
        }
    }
    if config.get_user().is_none() {
        let user = get("user", "PGUSER")
            .or_else(|| env("USER"))
            .unwrap_or_else(|| "postgres".into());
        config.user(&user);
    }
    if config.get_password().is_none() {
        if let Some(password) = get("password", "PGPASSWORD") {
            config.password(password);
        }
    }
    if config.get_dbname().is_none() {
        let dbname =
            get("dbname", "PGDATABASE").unwrap_or_else(|| config.get_user().unwrap().to_string());
        config.dbname(&dbname);
    }
    if config.get_options().is_none() {
        if let Some(options) = get("options", "PGOPTIONS") {
            config.options(&options);
        }
    }
    if config.get_application_name().is_none() {
        config.application_name(
            get("application_name", "PGAPPNAME").unwrap_or_else(|| "strata".into()),
        );
    }
    if config.get_connect_timeout().is_none() {
        let secs = match get("connect_timeout", "PGCONNECT_TIMEOUT") {
            Some(s) => s.parse().map_err(|_| {
                PgError::BadUrl(format!(
                    "invalid integer value \"{s}\" for connection option \"connect_timeout\""
                ))
            })?,
            None => 10,
        };
        config.connect_timeout(Duration::from_secs(secs));
    }
    if config.get_target_session_attrs() == TargetSessionAttrs::Any {
        if let Some(attrs) = get("target_session_attrs", "PGTARGETSESSIONATTRS") {
            config.target_session_attrs(match attrs.as_str() {
                "any" => TargetSessionAttrs::Any,
                "read-write" => TargetSessionAttrs::ReadWrite,
                "read-only" => TargetSessionAttrs::ReadOnly,
                other => {
                    return Err(PgError::BadUrl(format!(
                        "invalid target_session_attrs value: \"{other}\" (strata supports any, read-write, read-only)"
                    )))
                }
            });
        }
    }
    Ok(())
}

/// sslmode, sslrootcert, sslcert and sslkey with libpq's defaults: `~/.postgresql/root.crt`,
/// `postgresql.crt` and `postgresql.key` when they exist; `sslrootcert=system` implies
/// (and requires) verify-full; `require` with a root certificate file behaves as verify-ca.
fn resolve_tls(
    get: &Lookup<'_>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(SslMode, TlsFiles), PgError> {
    let home_path = |name: &str| env("HOME").map(|h| Path::new(&h).join(".postgresql").join(name));
    let home_file = |name: &str| home_path(name).filter(|p| p.exists());
    let root_cert = match get("sslrootcert", "PGSSLROOTCERT") {
        Some(s) if s == "system" => Some(RootCert::System),
        Some(path) => Some(RootCert::File(PathBuf::from(path))),
        None => home_file("root.crt").map(RootCert::File),
    };
    let explicit = get("sslmode", "PGSSLMODE")
        .map(|m| SslMode::parse(&m))
        .transpose()?;
    let mode = match (explicit, &root_cert) {
        (Some(mode), Some(RootCert::System)) if mode != SslMode::VerifyFull => {
            return Err(PgError::BadUrl(format!(
                "weak sslmode \"{}\" may not be used with sslrootcert=system (use \"verify-full\")",
                mode.as_str()
            )))
        }
        (None, Some(RootCert::System)) => SslMode::VerifyFull,
        (Some(mode), _) => mode,
        (None, _) => SslMode::Prefer,
    };
    let mode = match (&root_cert, mode) {
        (Some(RootCert::File(path)), SslMode::Require) if path.exists() => SslMode::VerifyCa,
        _ => mode,
    };
    if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) && root_cert.is_none() {
        let default = home_path("root.crt")
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "~/.postgresql/root.crt".into());
        return Err(PgError::BadUrl(format!(
            "root certificate file \"{default}\" does not exist; either provide the file (sslrootcert), use the system's trusted roots with sslrootcert=system, or change sslmode to disable server certificate verification"
        )));
    }
    let files = TlsFiles {
        root_cert,
        cert: get("sslcert", "PGSSLCERT")
            .map(PathBuf::from)
            .or_else(|| home_file("postgresql.crt")),
        key: get("sslkey", "PGSSLKEY")
            .map(PathBuf::from)
            .or_else(|| home_file("postgresql.key")),
    };
    Ok((mode, files))
}

/// Takes libpq's own parameters (service, passfile, TLS files) out of the string and
/// returns the rest for tokio-postgres, which names any parameter it does not know.
fn take_libpq_params(text: &str) -> Result<(String, BTreeMap<String, String>), PgError> {
    let mut taken = BTreeMap::new();
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        let Some((base, query)) = text.split_once('?') else {
            return Ok((text.to_string(), taken));
        };
        let mut kept = Vec::new();
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some((key, value)) if LIBPQ_ONLY.contains(&key) => {
                    let value = percent_encoding::percent_decode_str(value)
                        .decode_utf8_lossy()
                        .into_owned();
                    taken.insert(key.to_string(), value);
                }
                _ => kept.push(pair),
            }
        }
        let rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        return Ok((rest, taken));
    }
    let Some(pairs) = key_value_pairs(text) else {
        // Let tokio-postgres report the syntax error.
        return Ok((text.to_string(), taken));
    };
    let mut rest = String::new();
    for (key, value, raw) in pairs {
        if LIBPQ_ONLY.contains(&key.as_str()) {
            taken.insert(key, value);
        } else {
            rest.push_str(raw);
            rest.push(' ');
        }
    }
    Ok((rest, taken))
}

/// libpq's `key=value` syntax: values may be single-quoted, `\` escapes. Each pair comes
/// with its original text.
fn key_value_pairs(text: &str) -> Option<Vec<(String, String, &str)>> {
    let mut pairs = Vec::new();
    let bytes: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < bytes.len() && bytes[*i].1.is_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        if i >= bytes.len() {
            return Some(pairs);
        }
        let start = bytes[i].0;
        let mut key = String::new();
        while i < bytes.len() && bytes[i].1 != '=' && !bytes[i].1.is_whitespace() {
            key.push(bytes[i].1);
            i += 1;
        }
        skip_ws(&mut i);
        if i >= bytes.len() || bytes[i].1 != '=' {
            return None;
        }
        i += 1;
        skip_ws(&mut i);
        let mut value = String::new();
        let quoted = i < bytes.len() && bytes[i].1 == '\'';
        if quoted {
            i += 1;
        }
        loop {
            if i >= bytes.len() {
                if quoted {
                    return None;
                }
                break;
            }
            let c = bytes[i].1;
            if c == '\\' && i + 1 < bytes.len() {
                value.push(bytes[i + 1].1);
                i += 2;
                continue;
            }
            if (quoted && c == '\'') || (!quoted && c.is_whitespace()) {
                if quoted {
                    i += 1;
                }
                break;
            }
            value.push(c);
            i += 1;
        }
        let end = bytes.get(i).map(|b| b.0).unwrap_or(text.len());
        pairs.push((key, value, &text[start..end]));
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
            "postgresql://u@h/db?sslmode=verify-full&sslrootcert=%2Fca.pem&application_name=x",
            no_env,
        )
        .unwrap();
        assert_eq!(info.ssl_mode(), SslMode::VerifyFull);
        assert_eq!(
            info.tls_files().root_cert,
            Some(RootCert::File("/ca.pem".into()))
        );
        let err = ConnInfo::parse_with_env("host=h sslmode=verify-ca", no_env).unwrap_err();
        assert!(err.to_string().contains("root certificate file"), "{err}");
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

    #[test]
    fn unknown_parameters_are_named() {
        let err = ConnInfo::parse_with_env("host=h sslcompression=1", no_env).unwrap_err();
        assert!(err.to_string().contains("`sslcompression`"), "{err}");
        let err = ConnInfo::parse_with_env("postgres://h/db?bogus_param=1", no_env).unwrap_err();
        assert!(err.to_string().contains("`bogus_param`"), "{err}");
        let err =
            ConnInfo::parse_with_env("host=h target_session_attrs=primary", no_env).unwrap_err();
        assert!(err.to_string().contains("target_session_attrs"), "{err}");
    }

    #[test]
    fn quoted_values_and_libpq_keys() {
        let info = ConnInfo::parse_with_env(
            "host=h password='a b\\'' sslcert='/c d.crt' sslkey=/k.key user=u",
            no_env,
        )
        .unwrap();
        assert_eq!(info.config.get_password(), Some(&b"a b'"[..]));
        assert_eq!(info.tls_files().cert, Some("/c d.crt".into()));
        assert_eq!(info.user(), "u");
    }

    #[test]
    fn system_roots_mean_verify_full() {
        let info = ConnInfo::parse_with_env("host=h sslrootcert=system", no_env).unwrap();
        assert_eq!(info.ssl_mode(), SslMode::VerifyFull);
        let err = ConnInfo::parse_with_env("host=h sslrootcert=system sslmode=require", no_env)
            .unwrap_err();
        assert!(
            err.to_string().contains("weak sslmode \"require\""),
            "{err}"
        );
    }

    #[test]
    fn several_hosts_and_ports() {
        let info = ConnInfo::parse_with_env(
            "host=a,b port=1,2 user=u target_session_attrs=read-write",
            no_env,
        )
        .unwrap();
        assert_eq!(info.to_string(), "postgresql://u@a,b:1,2/u");
        assert_eq!(
            host_port_pairs(&info.config),
            vec![("a".to_string(), 1), ("b".to_string(), 2)]
        );
        assert!(info
            .libpq_env()
            .contains(&("PGTARGETSESSIONATTRS", "read-write".to_string())));
    }
}
