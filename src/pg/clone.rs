//! A schema-only clone of a live database into a shadow database: `pg_dump --schema-only`
//! piped into `psql` (ON_ERROR_STOP, one transaction). pg_dump copies even what strata does
//! not model, so the simulation runs on a faithful copy.
//!
//! The dump is restored in batches of whole pg_dump entries, each batch one round trip, all in
//! one transaction (psql sends each of its thousands of statements on its own, about a third
//! of the clone's time). pg_dump's `\restrict`/`\unrestrict` lines are psql meta-commands
//! and are left out (nothing interprets meta-commands on this path). Should a batch fail, the
//! transaction is rolled back and the same dump goes through `psql` as before, whose error
//! names the statement.
//!
//! pg_dump refuses a server newer than itself, so the clone uses a pg_dump of the source's
//! major or newer ([`find_pg_dump`]: the embedded cluster's installation, PATH, then
//! /usr/lib/postgresql/<N>/bin). When there is none (the Debian pg_dump 15 against a
//! PostgreSQL 18 target, say), the source is cloned through strata's own model and dump
//! instead, which copies only what strata models; the caller is told which was used. The
//! shadow server must run the source's major ([`same_major`]).
//!
//! The clone itself, which falls back on strata's own dump, is `catalog::clone`; with
//! `[shadow] jobs` above 1 it loads the dump in parallel first, and restores it here, in one
//! stream, only when that fails.
//!
//! Privileges are kept (they are part of the model); owners only when the manifest manages
//! owners (`[schema] owners`). Roles the dump names must exist on the shadow server: those
//! missing there are created `NOLOGIN` first (roles are cluster-wide; a NOLOGIN role with no
//! privileges of its own grants nothing). Passwords travel in the environment
//! (`ConnInfo::libpq_env`), never on a command line.

use super::embedded::Binaries;
use super::{ConnInfo, PgError};
use crate::model::quote_ident;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// A libpq program (pg_dump, psql) from the embedded cluster's installation when there is
/// one, so versions match; else from PATH.
pub fn program(name: &str) -> PathBuf {
    Binaries::locate()
        .ok()
        .map(|b| b.program(name))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from(name))
}

/// The source's major version, which the shadow server (`admin`) must run too: a plan
/// simulated on another major can differ from what the target does.
pub async fn same_major(source: &ConnInfo, admin: &ConnInfo) -> Result<u32, PgError> {
    let (target, shadow) = tokio::join!(server_major(source), server_major(admin));
    let (target, shadow) = (target?, shadow?);
    if target != shadow {
        return Err(PgError::ShadowMajor {
            target,
            shadow,
            shadow_server: admin.to_string(),
        });
    }
    Ok(target)
}

/// The major version of the server `conninfo` points at (`server_version_num` / 10000).
pub async fn server_major(conninfo: &ConnInfo) -> Result<u32, PgError> {
    let client = conninfo.connect().await?;
    Ok(super::server_version_num(&client).await? / 10000)
}

/// A pg_dump program and its major version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgDump {
    pub path: PathBuf,
    pub major: u32,
}

/// A pg_dump able to dump a server of `major`: one of that major if there is one, else the
/// oldest newer one (pg_dump refuses servers newer than itself). Looked for next to the
/// embedded cluster's programs, on PATH, then in /usr/lib/postgresql/<N>/bin.
pub fn find_pg_dump(major: u32) -> Option<PgDump> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(b) = Binaries::locate() {
        candidates.push(b.program("pg_dump"));
    }
    candidates.extend(
        std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .map(|d| d.join("pg_dump")),
    );
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        candidates.extend(entries.flatten().map(|e| e.path().join("bin/pg_dump")));
    }
    let found = candidates
        .into_iter()
        .filter(|p| p.is_file())
        .filter_map(|path| {
            Some(PgDump {
                major: pg_dump_major(&path)?,
                path,
            })
        });
    pick_pg_dump(found, major)
}

fn pick_pg_dump(found: impl Iterator<Item = PgDump>, major: u32) -> Option<PgDump> {
    // The first found of the lowest usable major: the embedded cluster's own when it fits.
    found
        .filter(|d| d.major >= major)
        .fold(None, |best: Option<PgDump>, d| match best {
            Some(b) if b.major <= d.major => Some(b),
            _ => Some(d),
        })
}

/// `pg_dump (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)` -> 15.
fn pg_dump_major(path: &std::path::Path) -> Option<u32> {
    let out = std::process::Command::new(path)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    parse_version_major(&String::from_utf8_lossy(&out.stdout))
}

fn parse_version_major(text: &str) -> Option<u32> {
    let version = text.split(") ").nth(1)?;
    let digits: String = version.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

pub fn no_pg_dump(major: u32) -> String {
    format!("no pg_dump of PostgreSQL {major} or newer was found (PATH, /usr/lib/postgresql)")
}

pub async fn create_missing_roles(source: &ConnInfo, admin: &ConnInfo) -> Result<(), PgError> {
    const ROLES: &str = "SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY 1";
    let wanted = source.connect().await?;
    let wanted: Vec<String> = wanted
        .query(ROLES, &[])
        .await
        .map_err(PgError::query("listing the roles of the source database"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let shadow = admin.connect().await?;
    let present: std::collections::BTreeSet<String> = shadow
        .query(ROLES, &[])
        .await
        .map_err(PgError::query("listing the roles of the shadow server"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for role in wanted.iter().filter(|r| !present.contains(*r)) {
        shadow
            .batch_execute(&format!("CREATE ROLE {} NOLOGIN", quote_ident(role)))
            .await
            .map_err(PgError::query(format!(
                "creating role {role} on the shadow server (the schema grants to it)"
            )))?;
    }
    Ok(())
}

/// A clone of `source` that failed, with what went wrong.
pub fn clone_error(source: &ConnInfo) -> impl Fn(String) -> PgError + '_ {
    move |message| PgError::Clone {
        source_db: source.to_string(),
        message,
    }
}

/// pg_dump entries sent in one round trip.
const ENTRIES_PER_BATCH: usize = 200;

/// `pg_dump --schema-only` of `source`, as text.
pub async fn dump(pg_dump: &Path, source: &ConnInfo, owners: bool) -> Result<String, PgError> {
    let fail = clone_error(source);
    let mut dump = tokio::process::Command::new(pg_dump);
    // strata's own schema (history, snapshots) is not part of the schema being simulated.
    let exclude = format!("--exclude-schema={}", crate::config::history_schema());
    dump.args(["--schema-only", &exclude]);
    if !owners {
        dump.arg("--no-owner");
    }
    let dumped = dump
        .envs(source.libpq_env())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| fail(format!("cannot run pg_dump: {e}")))?;
    if !dumped.status.success() {
        return Err(fail(format!(
            "pg_dump failed: {}",
            String::from_utf8_lossy(&dumped.stderr).trim()
        )));
    }
    String::from_utf8(dumped.stdout).map_err(|e| fail(format!("pg_dump output: {e}")))
}

/// The dump in pieces of whole entries: pg_dump starts each entry with a `-- Name: ...`
/// comment block. A piece cut inside a quoted body (a function whose text holds such a
/// block) cannot parse, so it fails rather than doing something else.
fn batches(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut entries = 0;
    for (i, entry) in text.split("\n--\n-- Name: ").enumerate() {
        if i > 0 {
            entries += 1;
            if entries > ENTRIES_PER_BATCH {
                out.push(std::mem::take(&mut current));
                entries = 1;
            }
            current.push_str("\n--\n-- Name: ");
        }
        for line in entry.split_inclusive('\n') {
            if !is_meta_command(line) {
                current.push_str(line);
            }
        }
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

/// psql meta-commands pg_dump writes around the dump (CVE-2025-8714): only psql reads them.
fn is_meta_command(line: &str) -> bool {
    let bare = line.trim_end();
    bare.starts_with("\\restrict ") || bare.starts_with("\\unrestrict ")
}

/// The dump's psql meta-commands (`\restrict`, `\unrestrict`), in order.
pub fn meta_commands(text: &str) -> Vec<String> {
    text.split_inclusive('\n')
        .filter(|line| is_meta_command(line))
        .map(str::to_string)
        .collect()
}

/// Plain SQL of a dump with its meta-commands put back around it: `\restrict` first,
/// `\unrestrict` last, where pg_dump writes them (psql then reads it as the dump itself).
pub fn with_meta_commands(plain: String, meta: &[String]) -> String {
    let (opening, closing): (Vec<&String>, Vec<&String>) = meta
        .iter()
        .partition(|line| line.starts_with("\\restrict "));
    let mut text = String::with_capacity(plain.len() + meta.iter().map(String::len).sum::<usize>());
    opening.into_iter().for_each(|line| text.push_str(line));
    text.push_str(&plain);
    if !closing.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    closing.into_iter().for_each(|line| text.push_str(line));
    text
}

/// The dump as plain SQL: without its psql meta-commands (what [`batches`] sends too).
pub fn without_meta_commands(text: &str) -> String {
    text.split_inclusive('\n')
        .filter(|line| !is_meta_command(line))
        .collect()
}

pub async fn restore_in_batches(text: &str, target: &ConnInfo) -> Result<(), PgError> {
    let client = target.connect().await?;
    let run = async {
        client.batch_execute("BEGIN").await?;
        for batch in batches(text) {
            client.batch_execute(&batch).await?;
        }
        client.batch_execute("COMMIT").await
    };
    match run.await {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = client.batch_execute("ROLLBACK").await;
            Err(PgError::query(
                "restoring the dump into the shadow database",
            )(e))
        }
    }
}

/// The dump through `psql` (ON_ERROR_STOP, one transaction): the fallback, whose error
/// message names the failing statement.
pub async fn restore_with_psql(
    source: &ConnInfo,
    text: String,
    target: &ConnInfo,
) -> Result<(), PgError> {
    use tokio::io::AsyncWriteExt;
    let fail = clone_error(source);
    let mut restore = tokio::process::Command::new(program("psql"))
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"])
        .envs(target.libpq_env())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| fail(format!("cannot run psql: {e}")))?;
    let mut stdin = restore.stdin.take().expect("piped stdin");
    let feed = async move {
        let written = stdin.write_all(text.as_bytes()).await;
        drop(stdin);
        written
    };
    let (fed, restored) = tokio::join!(feed, restore.wait_with_output());
    let restored = restored.map_err(|e| fail(format!("psql: {e}")))?;
    if !restored.status.success() {
        return Err(fail(format!(
            "restoring into the shadow database failed: {}",
            String::from_utf8_lossy(&restored.stderr).trim()
        )));
    }
    fed.map_err(|e| fail(format!("psql: {e}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_dump_of_the_same_major_first_else_the_oldest_newer() {
        let d = |path: &str, major| PgDump {
            path: PathBuf::from(path),
            major,
        };
        let found = || vec![d("a", 17), d("b", 15), d("c", 16), d("d", 16)].into_iter();
        assert_eq!(pick_pg_dump(found(), 16), Some(d("c", 16)));
        assert_eq!(pick_pg_dump(found(), 14), Some(d("b", 15)));
        assert_eq!(pick_pg_dump(found(), 17), Some(d("a", 17)));
        assert_eq!(pick_pg_dump(found(), 18), None);
        assert_eq!(
            parse_version_major("pg_dump (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)\n"),
            Some(15)
        );
        assert_eq!(
            parse_version_major("pg_dump (PostgreSQL) 18beta1\n"),
            Some(18)
        );
        assert_eq!(parse_version_major("nonsense"), None);
    }

    #[test]
    fn batches_keep_whole_entries_and_drop_psql_meta_commands() {
        let mut dump = String::from("--\n-- dump\n--\n\n\\restrict abc123\n\nSET x = 0;\n");
        for i in 0..(ENTRIES_PER_BATCH + 5) {
            dump.push_str(&format!(
                "\n--\n-- Name: t{i}; Type: TABLE\n--\n\nCREATE TABLE t{i} ();\n"
            ));
        }
        dump.push_str("\n\\unrestrict abc123\n");
        let pieces = batches(&dump);
        assert_eq!(pieces.len(), 2);
        assert_eq!(
            pieces.concat(),
            dump.replace("\\restrict abc123\n", "")
                .replace("\\unrestrict abc123\n", "")
        );
        assert!(pieces[0].ends_with(&format!("CREATE TABLE t{} ();\n", ENTRIES_PER_BATCH - 1)));
        assert!(pieces[1].starts_with("\n--\n-- Name: t"));
        assert!(!pieces.concat().contains("restrict"));
        assert_eq!(without_meta_commands(&dump), pieces.concat());
        let meta = meta_commands(&dump);
        assert_eq!(meta, ["\\restrict abc123\n", "\\unrestrict abc123\n"]);
        let again = with_meta_commands(without_meta_commands(&dump), &meta);
        assert!(again.starts_with("\\restrict abc123\n--\n-- dump"));
        assert!(again.ends_with("CREATE TABLE t204 ();\n\n\\unrestrict abc123\n"));
        assert_eq!(without_meta_commands(&again), without_meta_commands(&dump));
    }
}
