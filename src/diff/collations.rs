//! Collations: created and dropped; one whose definition changes is refused (PostgreSQL
//! cannot alter it, and the columns and indexes using it would have to be rebuilt).

use super::comments::diff_comment;
use super::privileges::diff_owner;
use super::Phase;
use super::{unsupported, ChangeKind, Diff, DiffError, Step};
use crate::model::{Collation, ObjectId};

pub(super) fn diff(d: &mut Diff) -> Result<(), DiffError> {
    let (from, to) = (d.from, d.to);
    for (name, _) in from
        .collations
        .iter()
        .filter(|(n, _)| !to.collations.contains_key(*n))
    {
        d.push(
            ObjectId::Collation(name.clone()),
            Step::Drop,
            ChangeKind::Drop,
            Phase::Contract,
            format!("DROP COLLATION {name}"),
            vec![],
        );
    }
    for (name, c) in &to.collations {
        let id = ObjectId::Collation(name.clone());
        match from.collations.get(name) {
            None => d.push_created(&id, Phase::Expand, &crate::ddl::create_collation(c), vec![]),
            Some(old) if !same_definition(old, c) => {
                return Err(unsupported(
                    &id,
                    "its definition changed, and a collation cannot be altered in place: create \
                     a new collation under another name and move the columns to it",
                ))
            }
            Some(old) => {
                let target = format!("COLLATION {name}");
                diff_owner(d, &id, &target, Some(&old.owner), &c.owner);
                diff_comment(d, &id, || target.clone(), Some(&old.comment), &c.comment);
            }
        }
    }
    Ok(())
}

fn same_definition(a: &Collation, b: &Collation) -> bool {
    (
        &a.provider,
        &a.lc_collate,
        &a.lc_ctype,
        &a.locale,
        &a.rules,
        a.deterministic,
    ) == (
        &b.provider,
        &b.lc_collate,
        &b.lc_ctype,
        &b.locale,
        &b.rules,
        b.deterministic,
    )
}
