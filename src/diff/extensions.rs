//! Extensions.

use super::comments::diff_comment;
use super::hazard::{Hazard, DESTRUCTIVE};
use super::Phase;
use super::{ChangeKind, Diff, DiffError, Step};
use crate::model::{quote_ident, quote_literal, ObjectId};

pub(super) fn diff(d: &mut Diff) -> Result<(), DiffError> {
    let (from, to) = (d.from, d.to);
    for name in from
        .extensions
        .keys()
        .filter(|n| !to.extensions.contains_key(*n))
    {
        d.push(
            ObjectId::Extension(name.clone()),
            Step::Drop,
            ChangeKind::Drop,
            Phase::Contract,
            format!("DROP EXTENSION {}", quote_ident(name)),
            vec![Hazard::new(
                DESTRUCTIVE,
                format!("drops extension {name} and what it provides"),
            )],
        );
    }
    for (name, e) in &to.extensions {
        let id = ObjectId::Extension(name.clone());
        let q = quote_ident(name);
        let old = from.extensions.get(name);
        match old {
            None => {
                d.push_created(&id, Phase::Expand, &crate::ddl::create_extension(e), vec![]);
                continue;
            }
            Some(old) => {
                if old.schema != e.schema {
                    d.push(
                        id.clone(),
                        Step::Alter,
                        ChangeKind::AlterExtension,
                        Phase::Expand,
                        format!("ALTER EXTENSION {q} SET SCHEMA {}", quote_ident(&e.schema)),
                        vec![],
                    );
                }
                if old.version != e.version {
                    d.push(
                        id.clone(),
                        Step::Alter,
                        ChangeKind::AlterExtension,
                        Phase::Expand,
                        format!(
                            "ALTER EXTENSION {q} UPDATE TO {}",
                            quote_literal(&e.version)
                        ),
                        vec![],
                    );
                }
            }
        }
        diff_comment(
            d,
            &id,
            || format!("EXTENSION {q}"),
            old.map(|o| &o.comment),
            &e.comment,
        );
    }
    Ok(())
}
