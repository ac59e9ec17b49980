//! Tables rebuilt under their name: what PostgreSQL cannot change in place (a table becoming
//! partitioned or plain, a new partition key or strategy, a partition moving from a
//! partitioned table that is dropped to another) is done as careful teams do it by hand:
//!
//! 1. the old table is renamed aside (`t__strata_old`; its identity sequences likewise, and
//!    its foreign keys to other rebuilt or dropped tables are dropped);
//! 2. the table is created as `to` declares it, with its partitions;
//! 3. the rows are copied (`INSERT INTO t (cols) [OVERRIDING SYSTEM VALUE] SELECT cols FROM
//!    t__strata_old`: the columns both have, generated columns left out), identity sequences
//!    continue where the old ones were, sequences owned by the old columns move to the new;
//! 4. the old table is dropped; then the table's indexes, constraints and triggers are made
//!    (after the copy: faster, and a trigger does not fire on copied rows), and whatever
//!    used the old table (views, functions, other tables' foreign keys) is made again
//!    (`recreate_dependents`).
//!
//! The whole rebuild is one phase: expand when the new table keeps every old column (code
//! deployed before it keeps working), contract when a column goes with the old table.

use super::hazard::{Hazard, ACCESS_EXCLUSIVE, DESTRUCTIVE};
use super::{constraints, ChangeKind, Diff, Phase, Step};
use crate::model::{quote_ident, quote_literal, ObjectId, QualifiedName, Schema, Table};
use std::collections::BTreeSet;

/// The tables of both sides that are rebuilt: their partitioning changes, or they are
/// partitions of a rebuilt table that stay partitions, or partitions moving from a
/// partitioned table that is dropped to another.
pub(super) fn rebuilt(from: &Schema, to: &Schema) -> BTreeSet<QualifiedName> {
    let both = |t| both_sides(to, t);
    let mut out: BTreeSet<QualifiedName> = from
        .tables
        .values()
        .filter_map(both)
        .filter(|(o, n)| o.partition_by != n.partition_by)
        .map(|(o, _)| o.name.clone())
        .collect();
    for (o, n) in from.tables.values().filter_map(both) {
        let (Some(a), Some(b)) = (&o.partition_of, &n.partition_of) else {
            continue;
        };
        if a.parent != b.parent && !to.tables.contains_key(&a.parent) {
            out.insert(o.name.clone());
        }
    }
    // Partitions (at any depth) of a rebuilt table that stay partitions go with it.
    loop {
        let more: Vec<QualifiedName> = from
            .tables
            .values()
            .filter_map(both)
            .filter(|(o, n)| {
                !out.contains(&o.name)
                    && n.partition_of.is_some()
                    && o.partition_of
                        .as_ref()
                        .is_some_and(|p| out.contains(&p.parent))
            })
            .map(|(o, _)| o.name.clone())
            .collect();
        if more.is_empty() {
            return out;
        }
        out.extend(more);
    }
}

fn both_sides<'s>(to: &'s Schema, t: &'s Table) -> Option<(&'s Table, &'s Table)> {
    to.tables.get(&t.name).map(|n| (t, n))
}

/// The columns of the rebuilt tables as they were, with the rebuild's phase: what uses them
/// (a view records its columns, not its table) is made again (`recreate_dependents`).
pub(super) fn columns<'d>(d: &'d Diff) -> impl Iterator<Item = (ObjectId, Phase)> + 'd {
    d.rebuilt_tables.iter().flat_map(move |name| {
        let phase = d.recreated[&ObjectId::Table(name.clone())];
        d.from.tables[name]
            .columns
            .keys()
            .map(move |c| (ObjectId::Column(name.clone(), c.clone()), phase))
    })
}

/// The name the old table has between the rename and its drop.
pub(super) fn old_name(name: &QualifiedName) -> QualifiedName {
    super::types::retired_name(name)
}

/// The phase of every rebuild: contract when a rebuilt table loses a column.
pub(super) fn phase(d: &Diff) -> Phase {
    let loses = d.rebuilt_tables.iter().any(|name| {
        let (o, n) = (&d.from.tables[name], &d.to.tables[name]);
        o.columns.keys().any(|c| !n.columns.contains_key(c))
    });
    if loses {
        Phase::Contract
    } else {
        Phase::Expand
    }
}

/// Whether the table's partitioned table in `from` is rebuilt too (its rows are copied with
/// that one's, and it is dropped with it).
fn under_rebuilt(d: &Diff, old: &Table) -> bool {
    old.partition_of
        .as_ref()
        .is_some_and(|p| d.rebuilt_tables.contains(&p.parent))
}

/// Step 1 and 2 for one rebuilt table (`old` in `from`, `new` in `to`).
pub(super) fn rename_and_create(d: &mut Diff, old: &Table, new: &Table, phase: Phase) {
    let id = ObjectId::Table(old.name.clone());
    let aside = old_name(&old.name);
    d.recreated.insert(id.clone(), phase);
    let locks = Hazard::new(
        ACCESS_EXCLUSIVE,
        format!(
            "locks {} for reads and writes while its rows are copied into the new table",
            old.name
        ),
    );
    let mut hazards = vec![
        Hazard::new(
            DESTRUCTIVE,
            format!(
                "rebuilds table {}: renamed aside, created anew, rows copied, the old table \
                 dropped{}",
                old.name,
                lost_columns(old, new)
            ),
        ),
        locks,
    ];
    // Foreign keys between tables that are rebuilt or dropped go first, on their own.
    // The clones PostgreSQL makes of them per referenced partition go with them.
    for c in old.constraints.values() {
        let cross = c
            .references
            .as_ref()
            .is_some_and(|r| d.dropped_tables.contains(r));
        if cross && c.local {
            constraints::drop(d, &old.name, c, phase);
        } else if !cross {
            d.alias_from.insert(
                ObjectId::Constraint(old.name.clone(), c.name.clone()),
                id.clone(),
            );
        }
    }
    for c in old.columns.keys() {
        d.alias_from
            .insert(ObjectId::Column(old.name.clone(), c.clone()), id.clone());
    }
    if let Some(p) = old.partition_of.as_ref().filter(|_| !under_rebuilt(d, old)) {
        d.push(
            id.clone(),
            Step::Drop,
            ChangeKind::AlterTable,
            phase,
            format!("ALTER TABLE {} DETACH PARTITION {}", p.parent, old.name),
            std::mem::take(&mut hazards),
        );
    }
    d.push(
        id.clone(),
        Step::Drop,
        ChangeKind::AlterTable,
        phase,
        format!(
            "ALTER TABLE {} RENAME TO {}",
            old.name,
            quote_ident(&aside.name)
        ),
        hazards,
    );
    for col in old.columns.values() {
        if let Some(i) = &col.identity {
            d.push(
                id.clone(),
                Step::Drop,
                ChangeKind::AlterSequence,
                phase,
                format!(
                    "ALTER SEQUENCE {} RENAME TO {}",
                    i.sequence,
                    quote_ident(&old_name(&i.sequence).name)
                ),
                vec![],
            );
        }
    }
    let first = d.changes.len();
    super::tables::create(d, new);
    for c in &mut d.changes[first..] {
        c.phase = phase;
    }
}

/// Steps 3 and 4 for every rebuilt table whose partitioned table is not rebuilt (the
/// others are copied and dropped with it), and the orderings around them.
pub(super) fn copy_and_drop(d: &mut Diff, phase: Phase) {
    let (from, to) = (d.from, d.to);
    let tops: Vec<QualifiedName> = d
        .rebuilt_tables
        .iter()
        .filter(|n| !under_rebuilt(d, &from.tables[*n]))
        .cloned()
        .collect();
    for name in &tops {
        let old = &from.tables[name];
        let unit = ObjectId::Table(old_name(name));
        let made = tree(to, name);
        let root = copy(d, &unit, old, phase);
        clone_triggers_after_drops(d, &made);
        for t in made.iter().chain(&root) {
            d.after
                .push((ObjectId::Table(t.clone()), Some(Step::Create), unit.clone()));
        }
        for t in made.iter().chain(&root) {
            // Before their creation only: a foreign key between rebuilt tables is dropped
            // (from the old table) before the rename.
            for after in made_after_copy(to, t)
                .into_iter()
                .chain(references_to(to, t))
            {
                d.before_creation.push((unit.clone(), after));
            }
        }
        for old_table in tree(from, name) {
            let Some(new) = to.tables.get(&old_table) else {
                continue;
            };
            continue_sequences(d, &unit, &from.tables[&old_table], new, phase);
            let leaves = from.tables[&old_table]
                .partition_of
                .as_ref()
                .filter(|_| !d.rebuilt_tables.contains(&old_table));
            if let Some(p) = leaves {
                d.push(
                    unit.clone(),
                    Step::Drop,
                    ChangeKind::AlterTable,
                    phase,
                    format!(
                        "ALTER TABLE {} DETACH PARTITION {old_table}",
                        old_name(&p.parent)
                    ),
                    vec![],
                );
                super::detach::follow(d, unit.clone(), None, &old_table, &p.parent);
            }
        }
        d.push(
            unit,
            Step::Drop,
            ChangeKind::Drop,
            phase,
            format!("DROP TABLE {}", old_name(name)),
            vec![Hazard::new(
                DESTRUCTIVE,
                format!("drops the old version of {name}, whose rows were copied"),
            )],
        );
    }
}

/// A table that becomes a partition of a rebuilt table gets a clone of each of the parent's
/// row triggers; one of its own of the same name (gone in `to`) is dropped before.
fn clone_triggers_after_drops(d: &mut Diff, made: &[QualifiedName]) {
    let (from, to) = (d.from, d.to);
    for t in made.iter().filter(|t| !d.rebuilt_tables.contains(*t)) {
        for own in from
            .triggers
            .keys()
            .filter(|k| &k.table == t && !to.triggers.contains_key(*k))
        {
            for parent in to
                .triggers
                .keys()
                .filter(|k| k.name == own.name && made.contains(&k.table))
            {
                d.before_creation.push((
                    ObjectId::Trigger(own.clone()),
                    ObjectId::Trigger(parent.clone()),
                ));
            }
        }
    }
}

/// A table and its partitions at any depth in `schema`.
fn tree(schema: &Schema, top: &QualifiedName) -> Vec<QualifiedName> {
    let mut out = vec![top.clone()];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i].clone();
        out.extend(
            schema
                .tables
                .values()
                .filter(|t| t.partition_of.as_ref().is_some_and(|p| p.parent == parent))
                .map(|t| t.name.clone()),
        );
        i += 1;
    }
    out
}

/// `INSERT INTO root (cols) SELECT cols FROM old`: into the table's top partitioned table
/// in `to`, which routes each row to its partition.
fn copy(d: &mut Diff, unit: &ObjectId, old: &Table, phase: Phase) -> Option<QualifiedName> {
    let to = d.to;
    let mut root = &to.tables[&old.name];
    while let Some(p) = root
        .partition_of
        .as_ref()
        .and_then(|p| to.tables.get(&p.parent))
    {
        root = p;
    }
    let columns: Vec<&crate::model::Name> = old
        .column_order
        .0
        .iter()
        .filter(|c| {
            root.columns.get(*c).is_some_and(|n| n.generated.is_none())
                && old.columns.get(*c).is_some_and(|o| o.generated.is_none())
        })
        .collect();
    if columns.is_empty() {
        return None;
    }
    let overriding = columns.iter().any(|c| root.columns[*c].identity.is_some());
    let list = columns
        .iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    d.push(
        unit.clone(),
        Step::Drop,
        ChangeKind::AlterTable,
        phase,
        format!(
            "INSERT INTO {} ({list}){} SELECT {list} FROM {}",
            root.name,
            if overriding {
                " OVERRIDING SYSTEM VALUE"
            } else {
                ""
            },
            old_name(&old.name)
        ),
        vec![],
    );
    Some(root.name.clone()).filter(|r| r != &old.name)
}

/// Identity sequences continue where the old ones were; sequences the old columns own move
/// to the new table before the old one is dropped (they would go with it).
fn continue_sequences(d: &mut Diff, unit: &ObjectId, old: &Table, new: &Table, phase: Phase) {
    for (name, col) in &old.columns {
        let (Some(a), Some(b)) = (
            &col.identity,
            new.columns.get(name).and_then(|c| c.identity.as_ref()),
        ) else {
            continue;
        };
        d.push(
            unit.clone(),
            Step::Drop,
            ChangeKind::AlterSequence,
            phase,
            format!(
                "SELECT pg_catalog.setval({}, last_value, is_called) FROM {}",
                quote_literal(&b.sequence.to_string()),
                old_name(&a.sequence)
            ),
            vec![],
        );
    }
    let (from, to) = (d.from, d.to);
    let owned: Vec<(QualifiedName, String)> = from
        .sequences
        .values()
        .filter(|s| to.sequences.contains_key(&s.name))
        .filter(|s| s.owned_by.as_ref().is_some_and(|(t, _)| t == &old.name))
        .map(|s| {
            let target = match &to.sequences[&s.name].owned_by {
                Some((t, c)) if to.tables.contains_key(t) => format!("{t}.{}", quote_ident(c)),
                _ => "NONE".to_string(),
            };
            (s.name.clone(), target)
        })
        .collect();
    for (seq, target) in owned {
        d.push(
            unit.clone(),
            Step::Drop,
            ChangeKind::AlterSequence,
            phase,
            format!("ALTER SEQUENCE {seq} OWNED BY {target}"),
            vec![],
        );
    }
}

/// What is made on a table of the rebuild after its rows are copied: its indexes,
/// constraints, triggers and statistics objects (their names are free once the old table is
/// dropped).
fn made_after_copy(to: &Schema, table: &QualifiedName) -> Vec<ObjectId> {
    let mut out: Vec<ObjectId> = to
        .indexes
        .values()
        .filter(|i| &i.table == table)
        .map(|i| ObjectId::Index(i.name.clone()))
        .collect();
    if let Some(t) = to.tables.get(table) {
        out.extend(
            t.constraints
                .values()
                .filter(|c| c.local)
                .map(|c| ObjectId::Constraint(table.clone(), c.name.clone())),
        );
    }
    out.extend(
        to.triggers
            .keys()
            .filter(|k| &k.table == table)
            .map(|k| ObjectId::Trigger(k.clone())),
    );
    out.extend(
        to.statistics
            .values()
            .filter(|s| &s.table == table)
            .map(|s| ObjectId::Statistics(s.name.clone())),
    );
    out
}

/// The foreign keys of `to` that reference `table`: checked against the copied rows.
fn references_to(to: &Schema, table: &QualifiedName) -> Vec<ObjectId> {
    to.tables
        .values()
        .flat_map(|t| {
            t.constraints
                .values()
                .filter(|c| c.local && c.references.as_ref() == Some(table))
                .map(|c| ObjectId::Constraint(t.name.clone(), c.name.clone()))
        })
        .collect()
}

/// ", and the values of columns a, b are lost" for columns the new table does not have.
fn lost_columns(old: &Table, new: &Table) -> String {
    let lost: Vec<&str> = old
        .columns
        .keys()
        .filter(|c| !new.columns.contains_key(*c))
        .map(|c| c.as_str())
        .collect();
    if lost.is_empty() {
        String::new()
    } else {
        format!("; the values of column(s) {} are lost", lost.join(", "))
    }
}
