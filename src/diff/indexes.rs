//! Indexes (those not backing a constraint): created, dropped; a changed definition is a
//! drop and a create.
//!
//! Partitioned indexes are created as pg_dump does: the partitioned table's index `ON ONLY`
//! (invalid until every partition has an index attached), then each partition's index under
//! its own name, attached with `ALTER INDEX ... ATTACH PARTITION`. So an index left `ON ONLY`
//! on purpose stays so, partitions' own names are kept, and an existing index of a partition
//! is attached rather than built again. A partition's attached index is never dropped on its
//! own (PostgreSQL refuses: the parent index requires it): it goes with its parent's drop.
//!
//! A partition's own primary key or unique constraint may back such an index too
//! (`Constraint::index_parent`). Neither can then be dropped alone: the constraint's index
//! is required by the parent index, and the parent index by the constraint. The parent goes
//! with `DROP INDEX ... CASCADE`, which takes exactly those constraints along; the ones `to`
//! keeps are added again and attached after it is made again.

use super::comments::diff_comment;
use super::hazard::{
    Hazard, BLOCKS_WRITES, DESTRUCTIVE, INDEX_BUILD, MAY_FAIL, NON_CONCURRENT_INDEX,
};
use super::{ChangeKind, Diff, DiffError, Step};
use super::{Op, Phase};
use crate::model::{quote_ident, Constraint, Index, ObjectId, QualifiedName, Schema};
use std::collections::BTreeSet;

pub(super) fn diff(d: &mut Diff) -> Result<(), DiffError> {
    let (from, to) = (d.from, d.to);
    // Attached indexes that cannot stay as they are make their top parent recreated.
    let mut recreate_roots: BTreeSet<QualifiedName> = BTreeSet::new();
    for (name, i) in &from.indexes {
        if d.dropped_tables.contains(&i.table) {
            continue;
        }
        let Some(parent) = attached_parent(d, i) else {
            continue;
        };
        let keeps = to
            .indexes
            .get(name)
            .is_some_and(|n| n.definition == i.definition && n.parent.as_ref() == Some(parent));
        if !keeps {
            recreate_roots.insert(root(from, name));
        }
    }
    for (table, c, parent) in attached_constraints(d) {
        if !keeps_attached(d, table, c) {
            recreate_roots.insert(root(from, parent));
        }
    }
    let out_of_the_way = taken_by_attach(d);
    let renamed = renamed_by_detach(d);
    for (name, i) in &from.indexes {
        if attached_parent(d, i).is_some() || d.dropped_tables.contains(&i.table) {
            continue;
        }
        if let Some(n) = renamed.get(name) {
            rename(d, i, n);
            continue;
        }
        if out_of_the_way.contains(name) {
            let table = ObjectId::Table(i.table.clone());
            d.after.push((
                ObjectId::Index(name.clone()),
                Some(Step::Drop),
                table.clone(),
            ));
            d.before_creation
                .push((table, ObjectId::Index(name.clone())));
        }
        match to.indexes.get(name) {
            None if out_of_the_way.contains(name) => drop(d, i, Phase::Expand),
            None => drop(d, i, Phase::Contract),
            Some(n)
                if n.definition != i.definition
                    || recreate_roots.contains(name)
                    || out_of_the_way.contains(name) =>
            {
                let id = ObjectId::Index(name.clone());
                d.mark_recreated(&id, Phase::Expand);
                recreate(d, name, Phase::Expand)?;
            }
            Some(_) => {}
        }
    }
    let gone = gone(d);
    for (name, i) in &to.indexes {
        let id = ObjectId::Index(name.clone());
        match from.indexes.get(name) {
            _ if d.recreated.contains_key(&id) => {}
            None if renamed.values().any(|n| &n.name == name) => {}
            Some(o) if !gone.contains(name) => {
                attach(d, o, i);
                diff_comment(
                    d,
                    &id,
                    || format!("INDEX {name}"),
                    Some(&o.comment),
                    &i.comment,
                );
            }
            _ if made_with_partition(d, &gone, i) => {}
            _ => {
                let phase = after_dropped_parent(from, to, name);
                create(d, i, phase);
            }
        }
    }
    constraints_dropped_with_parent(d, &gone);
    super::constraints::attach_to_parent_constraints(d, &gone);
    users_after_attached_partitions(d);
    Ok(())
}

/// The indexes of detached partitions (`detach::detached`: their attached indexes are their
/// own after the detach) that `to` declares the same under another name: old name → `to`'s.
fn renamed_by_detach<'a>(d: &Diff<'a>) -> std::collections::BTreeMap<QualifiedName, &'a Index> {
    let (from, to) = (d.from, d.to);
    let after_name = |i: &Index| {
        i.definition
            .split_once(" ON ")
            .map(|(_, rest)| rest.to_string())
    };
    let mut out: std::collections::BTreeMap<QualifiedName, &Index> = Default::default();
    for (name, i) in &from.indexes {
        if to.indexes.contains_key(name) || !super::detach::detached(d, &i.table) {
            continue;
        }
        let n = to.indexes.values().find(|n| {
            n.table == i.table
                && n.unique == i.unique
                && n.parent.is_none()
                && !from.indexes.contains_key(&n.name)
                && after_name(n).is_some()
                && after_name(n) == after_name(i)
                && !out.values().any(|taken| taken.name == n.name)
        });
        if let Some(n) = n {
            out.insert(name.clone(), n);
        }
    }
    out
}

/// `ALTER INDEX ... RENAME TO`, and its comment.
fn rename(d: &mut Diff, old: &Index, new: &Index) {
    let sql = format!(
        "ALTER INDEX {} RENAME TO {}",
        old.name,
        quote_ident(&new.name.name)
    );
    let id = ObjectId::Index(new.name.clone());
    let comments = (&old.comment, &new.comment);
    let target = || format!("INDEX {}", new.name);
    super::comments::rename_with_comment(d, id, sql, target, comments);
}

/// Indexes of a table this change attaches as a partition that `ATTACH PARTITION` would
/// take as the partition's share of one of its new parent's indexes (PostgreSQL attaches
/// the first matching index it finds) while `to` keeps them apart: they are dropped before
/// the attach (which then builds the share under its own name) and made again after.
fn taken_by_attach(d: &Diff) -> BTreeSet<QualifiedName> {
    let (from, to) = (d.from, d.to);
    let mut out = BTreeSet::new();
    for (name, i) in &from.indexes {
        let partition_of = |s: &Schema| s.tables.get(&i.table).map(|t| t.partition_of.clone());
        let (Some(Some(now)), Some(before)) = (partition_of(to), partition_of(from)) else {
            continue;
        };
        if before.as_ref() == Some(&now) || i.parent.is_some() {
            continue;
        }
        let kept_as = to.indexes.get(name).and_then(|n| n.parent.as_ref());
        let taken = to.indexes.values().any(|p| {
            p.table == now.parent
                && from.indexes.get(&p.name) == Some(p)
                && kept_as != Some(&p.name)
                && same_shape(p, i)
        });
        if taken {
            out.insert(name.clone());
        }
    }
    out
}

/// Whether two indexes have the same kind, method, keys and predicate (what PostgreSQL
/// compares to attach one as the other's partition), as far as their text says.
fn same_shape(a: &Index, b: &Index) -> bool {
    let shape = |i: &Index| {
        i.definition
            .split_once(" USING ")
            .map(|(_, rest)| rest.to_string())
    };
    a.unique == b.unique && shape(a).is_some() && shape(a) == shape(b)
}

/// The partitions' own key constraints of `from` attached to a partitioned index (whose
/// index backs no constraint of the parent): (table, constraint, that index). Those of a
/// partition dropped, detached or attached elsewhere are left out: their table's change
/// takes them along.
fn attached_constraints<'a>(
    d: &Diff<'a>,
) -> Vec<(&'a QualifiedName, &'a Constraint, &'a QualifiedName)> {
    let from = d.from;
    let stays = |t: &QualifiedName| {
        !d.dropped_tables.contains(t)
            && d.to.tables.get(t).map(|n| &n.partition_of)
                == from.tables.get(t).map(|o| &o.partition_of)
    };
    // Attached constraints are rare: find them first, then check their tables.
    from.tables
        .values()
        .flat_map(|t| {
            t.constraints
                .values()
                .filter_map(move |c| Some((&t.name, c, c.index_parent.as_ref()?)))
        })
        .filter(|(table, _, _)| stays(table))
        .collect()
}

/// Whether `to` keeps a constraint of `from` attached as it is, on a partition of the same
/// table (dropping it, or attaching it elsewhere, needs its parent index dropped first).
fn keeps_attached(d: &Diff, table: &QualifiedName, c: &Constraint) -> bool {
    let partition_of = |s: &Schema| s.tables.get(table).map(|t| t.partition_of.clone());
    partition_of(d.from) == partition_of(d.to)
        && d.to
            .tables
            .get(table)
            .and_then(|t| t.constraints.get(&c.name))
            .is_some_and(|n| {
                // A comment of its own changes in place.
                (&n.definition, n.kind, n.validated, n.local, &n.index_parent)
                    == (&c.definition, c.kind, c.validated, c.local, &c.index_parent)
            })
}

/// Constraints attached to a partitioned index that does not survive: `DROP INDEX ...
/// CASCADE` drops them (their own drop is refused), so `to`'s are added again (and
/// attached) after the parent index is made again.
fn constraints_dropped_with_parent(d: &mut Diff, gone: &BTreeSet<QualifiedName>) {
    let from = d.from;
    for (table, c, parent) in attached_constraints(d) {
        if !gone.contains(parent) {
            continue;
        }
        let id = ObjectId::Constraint(table.clone(), c.name.clone());
        let root = ObjectId::Index(root(from, parent));
        let readd =
            d.to.tables
                .get(table)
                .and_then(|t| t.constraints.get(&c.name))
                .filter(|n| n.local);
        if let Some(n) = readd {
            let phase = d.recreated.get(&root).copied().unwrap_or(Phase::Contract);
            d.mark_recreated(&id, phase);
            super::constraints::add(d, table, n, phase);
        } else {
            // Gone, or made again as the share of a parent's constraint (by that
            // constraint's creation or `attach_to_parent_constraints`).
            d.changes.retain(|x| x.object != id);
            d.recreated.remove(&id);
        }
        d.before_creation.push((root, id));
    }
}

/// The partitions' own constraints attached anywhere below a partitioned index, as
/// `CONSTRAINT name ON table`.
fn attached_constraints_below(d: &Diff, name: &QualifiedName) -> Vec<String> {
    attached_constraints(d)
        .into_iter()
        .filter(|(_, _, parent)| root(d.from, parent) == *name)
        .map(|(t, c, _)| format!("{} ON {t}", quote_ident(&c.name)))
        .collect()
}

/// A partitioned index is invalid until every partition's index is attached to it, and a
/// foreign key that needs it is refused until then ("there is no unique constraint matching
/// given keys"): what uses it in `to` is created after each partition's index.
fn users_after_attached_partitions(d: &mut Diff) {
    let to = d.to;
    let mut children: std::collections::BTreeMap<ObjectId, Vec<ObjectId>> = Default::default();
    for i in to.indexes.values() {
        if let Some(parent) = &i.parent {
            children
                .entry(ObjectId::Index(parent.clone()))
                .or_default()
                .push(ObjectId::Index(i.name.clone()));
        }
    }
    if children.is_empty() {
        return;
    }
    for (user, deps) in &to.dependencies {
        if matches!(user, ObjectId::Index(_)) {
            continue;
        }
        for parts in deps.iter().filter_map(|dep| children.get(dep)) {
            d.before_creation
                .extend(parts.iter().map(|p| (p.clone(), user.clone())));
        }
    }
}

/// The partitioned index `i` is attached to and stays attached to through the change of its
/// table (a partition detached or attached again takes its indexes along).
fn attached_parent<'a>(d: &Diff, i: &'a Index) -> Option<&'a QualifiedName> {
    let parent = i.parent.as_ref()?;
    let (from, to) = (d.from.tables.get(&i.table), d.to.tables.get(&i.table));
    (from.map(|t| &t.partition_of) == to.map(|t| &t.partition_of)).then_some(parent)
}

/// The index at the top of `name`'s partition hierarchy.
fn root(s: &Schema, name: &QualifiedName) -> QualifiedName {
    let mut at = name;
    while let Some(p) = s.indexes.get(at).and_then(|i| i.parent.as_ref()) {
        if !s.indexes.contains_key(p) {
            break;
        }
        at = p;
    }
    at.clone()
}

/// Indexes of `from` that do not survive the change: dropped, recreated, on a dropped
/// table, or attached (below) to one of those.
fn gone(d: &Diff) -> BTreeSet<QualifiedName> {
    let from = d.from;
    let recreated: BTreeSet<&QualifiedName> = d
        .recreated
        .keys()
        .filter_map(|id| match id {
            ObjectId::Index(name) => Some(name),
            _ => None,
        })
        .collect();
    let top_gone = |n: &QualifiedName, i: &Index| {
        d.dropped_tables.contains(&i.table)
            || !d.to.indexes.contains_key(n)
            || recreated.contains(n)
    };
    from.indexes
        .iter()
        .filter(|&(name, index)| {
            let (mut at, mut i) = (name, index);
            loop {
                if top_gone(at, i) {
                    return true;
                }
                // Detached before its parent goes: it stays, as an index of its own.
                if super::detach::detached(d, &i.table) {
                    return false;
                }
                match i
                    .parent
                    .as_ref()
                    .and_then(|p| from.indexes.get_key_value(p))
                {
                    Some((p, parent)) => (at, i) = (p, parent),
                    None => return false,
                }
            }
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// An index of `from` attached to a parent that is dropped (in the contract phase), which
/// takes it along: made again on its own after that drop, so in the contract phase too.
fn after_dropped_parent(from: &Schema, to: &Schema, name: &QualifiedName) -> Phase {
    let mut at = from.indexes.get(name).and_then(|i| i.parent.as_ref());
    while let Some(p) = at {
        if from.indexes.contains_key(p) && !to.indexes.contains_key(p) {
            return Phase::Contract;
        }
        at = from.indexes.get(p).and_then(|i| i.parent.as_ref());
    }
    Phase::Expand
}

/// Whether PostgreSQL makes `i` itself: an index of a partition this change creates or
/// attaches, under a partitioned index that exists by then (tables come before new
/// indexes), is made by `CREATE TABLE ... PARTITION OF` / `ATTACH PARTITION`.
fn made_with_partition(d: &Diff, gone: &BTreeSet<QualifiedName>, i: &Index) -> bool {
    let Some(parent) = &i.parent else {
        return false;
    };
    let attached = |t: &QualifiedName| {
        let partition_of = |s: &Schema| s.tables.get(t).map(|t| t.partition_of.clone());
        partition_of(d.to).flatten().is_some() && partition_of(d.from) != partition_of(d.to)
    };
    if !d.created_tables.contains(&i.table) && !attached(&i.table) {
        return false;
    }
    if d.from.indexes.contains_key(parent) && !gone.contains(parent) {
        return true;
    }
    d.to.indexes
        .get(parent)
        .is_some_and(|p| made_with_partition(d, gone, p))
}

/// An existing index of a partition attached to its parent's (new or existing) index.
fn attach(d: &mut Diff, old: &Index, new: &Index) {
    let Some(parent) = &new.parent else {
        return;
    };
    if old.parent.as_ref() == Some(parent) || attached_parent(d, new).is_none() {
        return;
    }
    d.push(
        ObjectId::Index(new.name.clone()),
        Step::Create,
        ChangeKind::AlterTable,
        Phase::Expand,
        format!("ALTER INDEX {parent} ATTACH PARTITION {}", new.name),
        vec![],
    );
}

fn drop(d: &mut Diff, i: &Index, phase: Phase) {
    let partitioned = (d.from.tables.get(&i.table)).is_some_and(|t| t.partition_by.is_some());
    // Only a partitioned table's index has partitions' constraints attached below it.
    let attached = if partitioned {
        attached_constraints_below(d, &i.name)
    } else {
        Vec::new()
    };
    let (op, hazards) = if attached.is_empty() {
        let op = Op::DropIndex {
            name: i.name.clone(),
            concurrently: false,
            if_exists: false,
        };
        (op, vec![])
    } else {
        let op = Op::Sql(format!("DROP INDEX {} CASCADE", i.name));
        let hazard = Hazard::new(
            DESTRUCTIVE,
            format!(
                "drops with CASCADE the partitions' constraints attached to it: {}",
                attached.join(", ")
            ),
        );
        (op, vec![hazard])
    };
    d.push(
        ObjectId::Index(i.name.clone()),
        Step::Drop,
        ChangeKind::Drop,
        phase,
        op,
        hazards,
    );
}

fn create(d: &mut Diff, i: &Index, phase: Phase) {
    let id = ObjectId::Index(i.name.clone());
    let mut hazards = vec![
        Hazard::new(
            INDEX_BUILD,
            format!("blocks writes to {} while it builds", i.table),
        ),
        Hazard::new(
            NON_CONCURRENT_INDEX,
            format!("{} already exists: built without CONCURRENTLY", i.table),
        ),
        Hazard::new(BLOCKS_WRITES, format!("SHARE lock on {}", i.table)),
    ];
    if i.unique {
        hazards.push(Hazard::new(
            MAY_FAIL,
            format!("fails if {} holds duplicates", i.table),
        ));
    }
    // A materialized view this diff creates is as new and unused as a created table.
    let new_view = d.to.views.contains_key(&i.table) && !d.from.views.contains_key(&i.table);
    let hazards = if new_view {
        Vec::new()
    } else {
        d.on_live_table(&i.table, hazards)
    };
    // A partitioned table's index comes `ON ONLY` (as pg_get_indexdef writes it); the
    // partitions' indexes are created and attached as indexes of their own.
    let op = Op::CreateIndex {
        definition: i.definition.clone(),
        concurrently: false,
    };
    d.push_created_as(&id, phase, op, &crate::ddl::create_index(i), hazards);
}

pub(super) fn recreate(d: &mut Diff, name: &QualifiedName, phase: Phase) -> Result<(), DiffError> {
    let (from, to) = (d.from, d.to);
    if let Some(i) = from.indexes.get(name) {
        // An attached index goes with its parent's drop (dropping it alone is refused).
        if attached_parent(d, i).is_none() {
            drop(d, i, phase);
        }
    }
    if let Some(i) = to.indexes.get(name) {
        create(d, i, phase);
    }
    Ok(())
}
