//! Partitions that leave their partitioned table and stay as tables of their own: detached
//! by `tables::alter` (the partitioned table stays) or by a rebuild of the partitioned table
//! (`rebuild::copy_and_drop`). `DETACH PARTITION` leaves the partition, as its own, its
//! shares of the partitioned table's keys and checks, its clones of the foreign keys and its
//! attached indexes (the clones of row triggers go with it): they are diffed against `to`
//! like the table's own, and every change on them runs after the detach.

use super::{Diff, Step};
use crate::model::{ObjectId, QualifiedName, Schema};

/// Whether `table` is a partition in `from` that stays, as a table of its own, in `to`
/// (a partition of a rebuilt table that is rebuilt too is made anew instead).
pub(super) fn detached(d: &Diff, table: &QualifiedName) -> bool {
    // Asked for every index and table: most tables were no partition.
    d.from
        .tables
        .get(table)
        .is_some_and(|t| t.partition_of.is_some())
        && d.to
            .tables
            .get(table)
            .is_some_and(|t| t.partition_of.is_none())
        && !d.rebuilt_tables.contains(table)
}

/// Orders the changes on the detached `table` (and on its indexes, constraints and
/// triggers, on either side) after the changes of the given step on `detach`, the object
/// the `DETACH PARTITION` is a change of, and leaves out of the ordering the dependencies
/// the detach cuts.
pub(super) fn follow(
    d: &mut Diff,
    detach: ObjectId,
    step: Option<Step>,
    table: &QualifiedName,
    parent: &QualifiedName,
) {
    cut_from_parent(d, table, parent);
    let own = ObjectId::Table(table.clone());
    for object in detached_objects(d.from, d.to, table, parent) {
        if object == detach {
            continue;
        }
        if detach == own {
            // The detach is the table's own (drop step) change, but the table stays: what
            // hangs on it is not dropped or changed before it, as before a table's drop.
            d.cut.insert((object.clone(), own.clone()));
        }
        d.after.push((detach.clone(), step, object));
    }
}

/// The detach cuts the dependencies of the partition, its columns and its indexes on the
/// partitioned table's (an index of the detached partition is dropped after the detach).
fn cut_from_parent(d: &mut Diff, table: &QualifiedName, parent: &QualifiedName) {
    let from = d.from;
    d.cut.insert((
        ObjectId::Table(table.clone()),
        ObjectId::Table(parent.clone()),
    ));
    for c in from.tables[table].columns.keys() {
        d.cut.insert((
            ObjectId::Column(table.clone(), c.clone()),
            ObjectId::Column(parent.clone(), c.clone()),
        ));
    }
    for i in from.indexes.values().filter(|i| &i.table == table) {
        if let Some(up) = &i.parent {
            d.cut
                .insert((ObjectId::Index(i.name.clone()), ObjectId::Index(up.clone())));
        }
    }
}

/// A detached partition and what changes on it: every change of theirs runs after the
/// detach (an attached index cannot be dropped, a trigger not made while the clone of
/// the partitioned table's of the same name is there, a partition's column not dropped or
/// retyped alone).
fn detached_objects(
    from: &Schema,
    to: &Schema,
    table: &QualifiedName,
    parent: &QualifiedName,
) -> Vec<ObjectId> {
    let mut out = vec![ObjectId::Table(table.clone())];
    for s in [from, to] {
        out.extend(
            s.indexes
                .values()
                .filter(|i| &i.table == table)
                .map(|i| ObjectId::Index(i.name.clone())),
        );
        out.extend(
            s.triggers
                .keys()
                .filter(|k| &k.table == table)
                .map(|k| ObjectId::Trigger(k.clone())),
        );
        out.extend(s.tables.get(table).into_iter().flat_map(|t| {
            t.constraints
                .keys()
                .map(|c| ObjectId::Constraint(table.clone(), c.clone()))
        }));
    }
    // Its columns, and those its partitioned table gives it before the detach (its
    // `ADD COLUMN` recurses; `tables::as_detached`).
    out.extend(
        [
            from.tables.get(table),
            to.tables.get(table),
            to.tables.get(parent),
        ]
        .into_iter()
        .flatten()
        .flat_map(|t| t.columns.keys())
        .map(|c| ObjectId::Column(table.clone(), c.clone())),
    );
    out.sort();
    out.dedup();
    out
}
