//! libpq's files: the password file (`~/.pgpass`, `PGPASSFILE`) and the connection service
//! file (`~/.pg_service.conf`, `PGSERVICEFILE`, `PGSYSCONFDIR/pg_service.conf`).

use super::PgError;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Keys a service file may set (libpq's connection parameters that strata understands).
pub const SERVICE_KEYS: &[&str] = &[
    "host",
    "port",
    "user",
    "password",
    "dbname",
    "options",
    "application_name",
    "connect_timeout",
    "target_session_attrs",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "passfile",
];

/// The settings of service `name`: the user's file first, then the system's, as libpq does.
pub fn service(
    name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>, PgError> {
    let mut files = Vec::new();
    match env("PGSERVICEFILE") {
        Some(file) => files.push(PathBuf::from(file)),
        None => {
            if let Some(home) = env("HOME") {
                files.push(Path::new(&home).join(".pg_service.conf"));
            }
        }
    }
    if let Some(dir) = env("PGSYSCONFDIR") {
        files.push(Path::new(&dir).join("pg_service.conf"));
    }
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        if let Some(settings) = find_service(&text, name, file)? {
            return Ok(settings);
        }
    }
    let searched: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    Err(PgError::BadUrl(format!(
        "definition of service \"{name}\" not found (searched: {})",
        if searched.is_empty() {
            "no service file: set PGSERVICEFILE or HOME".to_string()
        } else {
            searched.join(", ")
        }
    )))
}

fn find_service(
    text: &str,
    name: &str,
    file: &Path,
) -> Result<Option<BTreeMap<String, String>>, PgError> {
    let mut in_service = false;
    let mut found = None::<BTreeMap<String, String>>;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            if found.is_some() {
                break;
            }
            in_service = section == name;
            if in_service {
                found = Some(BTreeMap::new());
            }
            continue;
        }
        let Some(settings) = found.as_mut().filter(|_| in_service) else {
            continue;
        };
        let bad =
            |what: String| PgError::BadUrl(format!("{}, line {}: {what}", file.display(), n + 1));
        let (key, value) = line.split_once('=').ok_or_else(|| {
            bad(format!(
                "syntax error in service \"{name}\" (expected key=value)"
            ))
        })?;
        let key = key.trim();
        if !SERVICE_KEYS.contains(&key) {
            return Err(bad(format!(
                "invalid connection option \"{key}\" in service \"{name}\""
            )));
        }
        settings.insert(key.to_string(), value.trim().to_string());
    }
    Ok(found)
}

/// The password for the first of `hosts` (with its port) that has a matching line, as
/// libpq reads it: `host:port:db:user:password`, `*` matches anything, `\:` and `\\` escape,
/// and a Unix-socket host matches `localhost`. A file readable by group or others is
/// ignored with libpq's warning.
pub fn password(file: &Path, hosts: &[(String, u16)], dbname: &str, user: &str) -> Option<String> {
    let meta = std::fs::metadata(file).ok()?;
    if !meta.is_file() {
        return None;
    }
    if meta.mode() & 0o077 != 0 {
        eprintln!(
            "WARNING: password file \"{}\" has group or world access; permissions should be u=rw (0600) or less",
            file.display()
        );
        return None;
    }
    let text = std::fs::read_to_string(file).ok()?;
    for (host, port) in hosts {
        let host = if host.is_empty() || host.starts_with('/') {
            "localhost"
        } else {
            host.as_str()
        };
        let wanted = [host, &port.to_string(), dbname, user];
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let fields = split_pgpass(line);
            if fields.len() < 5 {
                continue;
            }
            let matches = fields[..4]
                .iter()
                .zip(wanted.iter())
                .all(|(field, want)| field == "*" || field == want);
            if matches {
                return Some(fields[4..].join(":"));
            }
        }
    }
    None
}

/// Splits a pgpass line on unescaped `:`, undoing `\:` and `\\`.
fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    fields.last_mut().unwrap().push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            _ => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn pgpass(text: &str, mode: u32) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pgpass");
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        (dir, path)
    }

    #[test]
    fn pgpass_matching_and_escapes() {
        let (_d, path) = pgpass(
            "# comment\nother:5432:*:*:nope\nlocalhost:5433:app:bob:a\\:b\\\\c\ndb.example:*:*:*:star\n",
            0o600,
        );
        let socket = vec![("/tmp/sock".to_string(), 5433)];
        assert_eq!(
            password(&path, &socket, "app", "bob").as_deref(),
            Some("a:b\\c")
        );
        assert_eq!(password(&path, &socket, "app", "carol"), None);
        let tcp = vec![("nohere".to_string(), 1), ("db.example".to_string(), 9)];
        assert_eq!(password(&path, &tcp, "x", "y").as_deref(), Some("star"));
    }

    #[test]
    fn pgpass_readable_by_others_is_ignored() {
        let (_d, path) = pgpass("*:*:*:*:secret\n", 0o644);
        assert_eq!(password(&path, &[("h".into(), 5432)], "d", "u"), None);
    }

    #[test]
    fn service_file_unknown_key_is_named() {
        let text = "[a]\nhost=h\n[b]\nhots=x\n";
        let found = find_service(text, "a", Path::new("f")).unwrap().unwrap();
        assert_eq!(found["host"], "h");
        let err = find_service(text, "b", Path::new("f")).unwrap_err();
        assert!(err.to_string().contains("\"hots\""), "{err}");
        assert!(find_service(text, "c", Path::new("f")).unwrap().is_none());
    }
}
