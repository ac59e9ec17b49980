//! A schema-only clone of a live database into a shadow database: `pg_dump --schema-only`
//! of the source restored on the shadow server (`pg::clone`), or, when no pg_dump can read
//! the source's major, strata's own model of it, read by the catalog and written by `ddl`.
//!
//! With `[shadow] jobs` above 1 and a dump of 10 MB or more (about 4,500 tables; a smaller
//! one is as fast or faster in one stream: [`PARALLEL_FROM_BYTES`]), the dump is loaded the way schema/
//! is, over that many connections (`source::parallel`, the dump parsed as one file:
//! `Sdl::from_dump`). Such a load commits as it goes, so it cannot be rolled back: when it
//! fails, its database is dropped and the dump restored again on a new one in one stream,
//! in one transaction (`pg::clone::restore_in_batches`, then psql for an error that names
//! the statement), as with one job. A dump that does not parse (a newer major's syntax) goes
//! that way straight away.

use crate::config::Config;
use crate::pg::clone::{
    clone_error, create_missing_roles, dump, find_pg_dump, meta_commands, no_pg_dump,
    restore_in_batches, restore_with_psql, same_major, with_meta_commands, without_meta_commands,
};
use crate::pg::shadow::ShadowDb;
use crate::pg::{ConnInfo, PgError};
use crate::source::{parallel, sdl::Sdl};

/// The smallest dump loaded in parallel: below it, parsing it and building its graph cost
/// about what a second connection saves, or more. Measured on 2 shared cores (release
/// build, cluster on tmpfs, `tests/parallel_clone.rs` `clone_timings`, base mix), one
/// stream against two connections, the parse included: 1,000 tables (2.3 MB) 1.1-1.2 s
/// against 2.0 s; 2,000 (4.5 MB) 3.0-5.9 s against 3.6-4.1 s; 5,000 (11.3 MB) 6.5-7.4 s
/// against 6.0-7.7 s; 10,000 (22.7 MB) 29-32 s against 19-20 s.
const PARALLEL_FROM_BYTES: usize = 10_000_000;

/// Creates a shadow database on `admin`'s server holding the schema of `source`. `note` is
/// told when the clone was not made by a pg_dump of the source's own major.
pub async fn clone_schema(
    source: &ConnInfo,
    admin: &ConnInfo,
    purpose: &str,
    config: &Config,
    note: &(dyn Fn(&str) + Sync),
) -> Result<ShadowDb, PgError> {
    let major = same_major(source, admin).await?;
    create_missing_roles(source, admin).await?;
    let jobs = config.shadow_jobs();
    // The dump reads the source while the server copies the template: neither waits on the other.
    let dumping = async {
        let (text, dumper) = dump_source(source, major, config, note).await?;
        let jobs = if text.len() < PARALLEL_FROM_BYTES {
            1
        } else {
            jobs
        };
        Ok::<_, PgError>(Dump::parse(source, text, dumper, jobs).await)
    };
    let (shadow, dumped) = tokio::join!(ShadowDb::create(admin, purpose), dumping);
    let shadow = shadow?;
    match dumped {
        Ok(dumped) => {
            let to = Restore {
                source,
                admin,
                purpose,
                jobs,
            };
            Ok(restore(&to, dumped, shadow).await?.0)
        }
        Err(e) => {
            let _ = shadow.drop_now().await;
            Err(e)
        }
    }
}

/// The schema of `source` (a server of `major`) as SQL: pg_dump's, or strata's own when no
/// pg_dump can read that major. `note` is told when it is not a pg_dump of that major.
pub async fn dump_source(
    source: &ConnInfo,
    major: u32,
    config: &Config,
    note: &(dyn Fn(&str) + Sync),
) -> Result<(String, Dumper), PgError> {
    match find_pg_dump(major) {
        Some(found) => {
            if found.major != major {
                note(&format!(
                    "cloning with {} (PostgreSQL {}; the target runs {major})",
                    found.path.display(),
                    found.major
                ));
            }
            let text = dump(&found.path, source, config.schema.owners).await?;
            Ok((text, Dumper::PgDump))
        }
        None => Ok((
            own_dump(source, major, config, note).await?,
            Dumper::Strata { major },
        )),
    }
}

/// Who wrote a dump, which says what to do when it does not restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dumper {
    /// pg_dump: its psql restore names the failing statement.
    PgDump,
    /// strata's own dump (no pg_dump can read the source's `major`).
    Strata { major: u32 },
}

/// A dump of the source: its text, parsed when it is to be loaded in parallel.
pub struct Dump {
    how: Loaded,
    dumper: Dumper,
}

/// How a dump is to be loaded.
enum Loaded {
    /// In one stream: one job, or text the parser does not read.
    OneStream(String),
    /// In parallel: the statements hold their own SQL; the text, needed again only when the
    /// parallel load fails, waits in `kept`, without its psql meta-commands (in `meta`).
    Parsed {
        sdl: Sdl,
        meta: Vec<String>,
        kept: Kept,
    },
}

/// A parsed dump's text: in an unnamed temporary file while its statements load (at 10,000
/// tables 32 MB, held beside the statements' own copies while the other side of a `plan`
/// builds its model), or in memory when no file can be written.
enum Kept {
    Memory(String),
    File(std::fs::File),
}

impl Kept {
    fn new(text: String) -> Kept {
        use std::io::Write;
        let spilled = tempfile::tempfile().and_then(|mut file| {
            file.write_all(text.as_bytes())?;
            Ok(file)
        });
        match spilled {
            Ok(file) => Kept::File(file),
            Err(_) => Kept::Memory(text),
        }
    }

    fn into_text(self) -> std::io::Result<String> {
        use std::io::{Read, Seek};
        match self {
            Kept::Memory(text) => Ok(text),
            Kept::File(mut file) => {
                let mut text = String::new();
                file.rewind()?;
                file.read_to_string(&mut text)?;
                Ok(text)
            }
        }
    }
}

impl Dump {
    /// The dump, parsed (off the async threads) when `jobs` is more than 1.
    pub async fn parse(source: &ConnInfo, text: String, dumper: Dumper, jobs: usize) -> Dump {
        if jobs <= 1 {
            return Dump {
                how: Loaded::OneStream(text),
                dumper,
            };
        }
        let name = match dumper {
            Dumper::PgDump => format!("pg_dump of {source}"),
            Dumper::Strata { .. } => format!("strata's dump of {source}"),
        };
        let how = tokio::task::spawn_blocking(move || {
            match Sdl::from_dump(&name, without_meta_commands(&text)) {
                Ok(mut sdl) => {
                    let meta = meta_commands(&text);
                    drop(text);
                    let kept = Kept::new(sdl.take_text());
                    Loaded::Parsed { sdl, meta, kept }
                }
                Err(_) => Loaded::OneStream(text),
            }
        })
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        Dump { how, dumper }
    }

    /// Whether it will be loaded in parallel.
    pub fn is_parsed(&self) -> bool {
        matches!(self.how, Loaded::Parsed { .. })
    }
}

/// Where a dump of `source` is restored: shadow databases on `admin`'s server, named for
/// `purpose`, loaded over `jobs` connections.
pub struct Restore<'a> {
    pub source: &'a ConnInfo,
    pub admin: &'a ConnInfo,
    pub purpose: &'a str,
    pub jobs: usize,
}

/// How a dump was restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restored {
    InParallel,
    InOneStream,
    /// In one stream on a new database, after the parallel load failed.
    AgainInOneStream,
}

/// Restores the dump into `shadow` (empty): in parallel when it was parsed; in one stream
/// otherwise, or on a new database when the parallel load failed. The database is dropped
/// when the dump cannot be restored.
pub async fn restore(
    to: &Restore<'_>,
    dump: Dump,
    shadow: ShadowDb,
) -> Result<(ShadowDb, Restored), PgError> {
    let Dump { how, dumper } = dump;
    let (shadow, how, text) = match how {
        Loaded::Parsed { sdl, meta, kept } => {
            match parallel::load(&shadow.conninfo, &sdl, to.jobs).await {
                Ok(_) => return Ok((shadow, Restored::InParallel)),
                Err(_) => {
                    drop(sdl);
                    // What it committed stays: the single stream starts on an empty database.
                    let _ = shadow.drop_now().await;
                    let text = kept.into_text().map_err(|e| {
                        clone_error(to.source)(format!(
                            "reading the dump back from its temporary file: {e}"
                        ))
                    })?;
                    let text = with_meta_commands(text, &meta);
                    let again = ShadowDb::create(to.admin, to.purpose).await?;
                    (again, Restored::AgainInOneStream, text)
                }
            }
        }
        Loaded::OneStream(text) => (shadow, Restored::InOneStream, text),
    };
    match restore_in_one_stream(to.source, text, dumper, &shadow.conninfo).await {
        Ok(()) => Ok((shadow, how)),
        Err(e) => {
            let _ = shadow.drop_now().await;
            Err(e)
        }
    }
}

/// One transaction in batches of pg_dump entries, then psql when a batch fails (its error
/// names the statement).
async fn restore_in_one_stream(
    source: &ConnInfo,
    text: String,
    dumper: Dumper,
    shadow: &ConnInfo,
) -> Result<(), PgError> {
    match restore_in_batches(&text, shadow).await {
        Ok(()) => Ok(()),
        Err(e) => match dumper {
            Dumper::Strata { major } => Err(clone_error(source)(format!(
                "{}; strata's own dump of it did not restore: {}",
                no_pg_dump(major),
                e
            ))),
            Dumper::PgDump => restore_with_psql(source, text, shadow).await,
        },
    }
}

/// The source's schema as strata models it, as SQL: the clone when no pg_dump can read the
/// source. Objects strata does not model are not copied, and the note says how many.
async fn own_dump(
    source: &ConnInfo,
    major: u32,
    config: &Config,
    note: &(dyn Fn(&str) + Sync),
) -> Result<String, PgError> {
    let fail = clone_error(source);
    let client = source.connect().await?;
    let found = super::introspect(&client, config).await.map_err(|e| {
        fail(format!(
            "{}, and strata cannot read it: {e}",
            no_pg_dump(major)
        ))
    })?;
    let unmodelled = match found.warnings.len() {
        0 => String::new(),
        n => format!("; {n} object(s) strata does not model are not copied"),
    };
    note(&format!(
        "{}: cloning the target with strata's own dump{unmodelled}",
        no_pg_dump(major)
    ));
    let files = crate::ddl::dump(&found.schema, crate::ddl::Split::Single).map_err(|e| {
        fail(format!(
            "{}, and strata's own dump failed: {e}",
            no_pg_dump(major)
        ))
    })?;
    Ok(files.into_iter().map(|f| f.content).collect())
}
