//! Constraints PostgreSQL makes from another one (`Constraint::local` false): a partition's
//! share of its partitioned table's key or check, a partition's clone of its partitioned
//! table's foreign key, and, when a foreign key references a partitioned table, one more on
//! the referencing table per referenced partition. None is added or dropped by a statement
//! of its own: each comes and goes with the constraint it is made from, and orders with it.
//! So a foreign key dropped on its own is dropped before the partitions its clones lean on
//! are detached, renamed or dropped (folded into their tables' drops instead, two
//! partitioned tables referencing each other, dropped or rebuilt together, were a
//! dependency cycle), and a foreign key referencing a partition is added after the key of
//! the partitioned table that gives the partition its share.

use super::{ChangeKind, Diff, Step};
use crate::model::{Constraint, ConstraintKind, ObjectId, QualifiedName, Schema};
use std::collections::BTreeSet;

/// Orders each constraint made from another with the drop (in `from`) and the creation (in
/// `to`) of the declared constraint it comes from, where that one has a statement of its
/// own and the made one has none.
pub(super) fn go_with_their_constraint(d: &mut Diff) {
    drop_no_more_than_once(d);
    let with_step = |step: Step| -> BTreeSet<&ObjectId> {
        d.changes
            .iter()
            .filter(|c| c.step == step && matches!(c.object, ObjectId::Constraint(..)))
            .map(|c| &c.object)
            .collect()
    };
    let changed: BTreeSet<&ObjectId> = d.changes.iter().map(|c| &c.object).collect();
    let drops = aliases(d.from, &with_step(Step::Drop), &changed);
    let creates = aliases(d.to, &with_step(Step::Create), &changed);
    d.alias_from.extend(drops);
    d.alias_to.extend(creates);
}

/// A made constraint that became its partition's own (`detach::detached`) and is gone in
/// `to` is not dropped by a statement of its own when the constraint it comes from is: that
/// statement, which runs before the detach, takes it along.
fn drop_no_more_than_once(d: &mut Diff) {
    let from = d.from;
    let dropped: BTreeSet<ObjectId> = d
        .changes
        .iter()
        .filter(|c| c.step == Step::Drop && c.kind == ChangeKind::Drop)
        .map(|c| c.object.clone())
        .collect();
    let taken_along = |object: &ObjectId| {
        let ObjectId::Constraint(table, name) = object else {
            return false;
        };
        from.tables
            .get(table)
            .and_then(|t| t.constraints.get(name))
            .filter(|c| !c.local)
            .and_then(|c| made_from(from, table, c))
            .is_some_and(|root| &root != object && dropped.contains(&root))
    };
    d.changes
        .retain(|c| c.step != Step::Drop || !taken_along(&c.object));
}

/// (made constraint, the declared one it comes from) for those of `schema` whose declared
/// one is in `stepped` and that have no change of their own.
fn aliases(
    schema: &Schema,
    stepped: &BTreeSet<&ObjectId>,
    changed: &BTreeSet<&ObjectId>,
) -> Vec<(ObjectId, ObjectId)> {
    let mut out = Vec::new();
    for (name, table) in &schema.tables {
        for c in table.constraints.values().filter(|c| !c.local) {
            let id = ObjectId::Constraint(name.clone(), c.name.clone());
            if changed.contains(&id) {
                continue;
            }
            if let Some(root) = made_from(schema, name, c).filter(|r| stepped.contains(r)) {
                out.push((id, root));
            }
        }
    }
    out
}

/// The declared constraint a made one comes from, through constraints made of made ones.
fn made_from(s: &Schema, table: &QualifiedName, made: &Constraint) -> Option<ObjectId> {
    let mut at = (table, made);
    let mut seen = BTreeSet::new();
    while !at.1.local {
        if !seen.insert((at.0, &at.1.name)) {
            return None;
        }
        at = parent(s, at.0, at.1)?;
    }
    Some(ObjectId::Constraint(at.0.clone(), at.1.name.clone()))
}

/// The constraint one made constraint comes from: of its partitioned table (a check of the
/// same name, a key on the same columns, a foreign key with the same columns and referenced
/// table, of the same name by preference), or, for a foreign key, one of its own table with
/// the same columns referencing a table that the made one's referenced table is a
/// partition of.
fn parent<'s>(
    s: &'s Schema,
    table: &QualifiedName,
    made: &Constraint,
) -> Option<(&'s QualifiedName, &'s Constraint)> {
    let t = s.tables.get(table)?;
    let same_kind = |c: &&Constraint| c.kind == made.kind && c.columns == made.columns;
    let up = t
        .partition_of
        .as_ref()
        .map(|p| &p.parent)
        .or(t.inherits.first())
        .and_then(|p| s.tables.get(p));
    let in_parent = up.and_then(|up| {
        let found = match made.kind {
            ConstraintKind::Check => up.constraints.get(&made.name).filter(|c| same_kind(c)),
            ConstraintKind::ForeignKey => up
                .constraints
                .values()
                .filter(same_kind)
                .filter(|c| c.references == made.references)
                .min_by_key(|c| c.name != made.name),
            _ => up.constraints.values().find(same_kind),
        };
        Some((&up.name, found?))
    });
    if in_parent.is_some() || made.kind != ConstraintKind::ForeignKey {
        return in_parent;
    }
    let ancestors = ancestors(s, made.references.as_ref()?);
    t.constraints
        .values()
        .filter(same_kind)
        .filter(|c| c.name != made.name)
        .find(|c| {
            c.references
                .as_ref()
                .is_some_and(|r| ancestors.contains(&r))
        })
        .map(|c| (&t.name, c))
}

/// The tables `table` is a partition of, at any depth.
fn ancestors<'s>(s: &'s Schema, table: &QualifiedName) -> Vec<&'s QualifiedName> {
    let mut out: Vec<&QualifiedName> = Vec::new();
    let mut at = s.tables.get(table);
    while let Some(p) = at.and_then(|t| t.partition_of.as_ref()) {
        if out.contains(&&p.parent) {
            break;
        }
        out.push(&p.parent);
        at = s.tables.get(&p.parent);
    }
    out
}
