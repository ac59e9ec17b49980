//! A schema-only clone of a live database into a shadow database: `pg_dump --schema-only`
//! of the source restored on the shadow server (`pg::clone`), or, when no pg_dump can read
//! the source's major, strata's own model of it, read by the catalog and written by `ddl`.

use crate::config::Config;
use crate::pg::clone::{
    clone_error, create_missing_roles, dump, find_pg_dump, no_pg_dump, restore_in_batches,
    restore_with_psql, same_major,
};
use crate::pg::shadow::ShadowDb;
use crate::pg::{ConnInfo, PgError};

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
    let pg_dump = find_pg_dump(major);
    // The dump reads the source while the server copies the template: neither waits on the other.
    let dumping = async {
        match &pg_dump {
            Some(found) => {
                if found.major != major {
                    note(&format!(
                        "cloning with {} (PostgreSQL {}; the target runs {major})",
                        found.path.display(),
                        found.major
                    ));
                }
                dump(&found.path, source, config.schema.owners).await
            }
            None => own_dump(source, major, config, note).await,
        }
    };
    let (shadow, dumped) = tokio::join!(ShadowDb::create(admin, purpose), dumping);
    let shadow = shadow?;
    let cloned = match dumped {
        Ok(text) => match restore_in_batches(&text, &shadow.conninfo).await {
            Ok(()) => Ok(()),
            Err(e) if pg_dump.is_none() => Err(clone_error(source)(format!(
                "{}; strata's own dump of it did not restore: {}",
                no_pg_dump(major),
                e
            ))),
            Err(_) => restore_with_psql(source, text, &shadow.conninfo).await,
        },
        Err(e) => Err(e),
    };
    match cloned {
        Ok(()) => Ok(shadow),
        Err(e) => {
            let _ = shadow.drop_now().await;
            Err(e)
        }
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
