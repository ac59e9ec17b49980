//! Schemas (namespaces).

use super::comments::diff_comment;
use super::hazard::{Hazard, DESTRUCTIVE};
use super::privileges::{diff_grants, diff_owner};
use super::Phase;
use super::{ChangeKind, Diff, DiffError, Step};
use crate::model::{quote_ident, ObjectId};

pub(super) fn diff(d: &mut Diff) -> Result<(), DiffError> {
    let (from, to) = (d.from, d.to);
    for (name, _) in from
        .schemas
        .iter()
        .filter(|(n, _)| !to.schemas.contains_key(*n))
    {
        d.push(
            ObjectId::Schema(name.clone()),
            Step::Drop,
            ChangeKind::Drop,
            Phase::Contract,
            format!("DROP SCHEMA {}", quote_ident(name)),
            vec![Hazard::new(DESTRUCTIVE, format!("drops schema {name}"))],
        );
    }
    for (name, s) in &to.schemas {
        let id = ObjectId::Schema(name.clone());
        let q = quote_ident(name);
        let old = from.schemas.get(name);
        if old.is_none() {
            d.push_created(&id, Phase::Expand, &crate::ddl::create_schema(s), vec![]);
            continue;
        }
        diff_owner(
            d,
            &id,
            &format!("SCHEMA {q}"),
            old.map(|o| &o.owner),
            &s.owner,
        );
        diff_comment(
            d,
            &id,
            || format!("SCHEMA {q}"),
            old.map(|o| &o.comment),
            &s.comment,
        );
        diff_grants(
            d,
            &id,
            || format!("SCHEMA {q}"),
            None,
            old.map(|o| &o.grants),
            &s.grants,
        );
    }
    Ok(())
}
