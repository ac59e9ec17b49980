//! Name conflicts between a dropped object and a created one: PostgreSQL allows a name once
//! per namespace, so an object that takes a name another object frees is created only after
//! that object is dropped (a table "renamed" by the migration, whose constraint and index
//! names the new table reuses; an index replaced by a constraint of the same name; a view
//! whose name a new table takes).
//!
//! The namespaces: relations (tables, views, materialized views, sequences, indexes, the
//! indexes behind primary key, unique and exclusion constraints, composite types), types
//! (every table and view has a row type of its own name), and constraint names on one
//! table. Two changes on the same object are ordered anyway (`drop < create`), and
//! functions, triggers and policies are identified by exactly the name that conflicts, so
//! they need nothing here.

use super::{Change, Step};
use crate::model::{ConstraintKind, ObjectId, QualifiedName, Schema, TypeKind};
use std::collections::{BTreeMap, BTreeSet};

/// A name an object occupies, in the namespace where it must be unique.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Name {
    Relation(QualifiedName),
    Type(QualifiedName),
    Constraint(QualifiedName, String),
}

/// Edges `(drop, create)` between changes: the create takes a name the drop frees.
pub(crate) fn edges(from: &Schema, to: &Schema, changes: &[Change]) -> Vec<(usize, usize)> {
    let dropped_tables: BTreeSet<&QualifiedName> = changes
        .iter()
        .filter_map(|c| match (&c.object, c.step) {
            (ObjectId::Table(t), Step::Drop) => Some(t),
            _ => None,
        })
        .collect();
    // A dropped table's indexes go with it (no change of their own).
    let mut indexes_of: BTreeMap<&QualifiedName, Vec<&QualifiedName>> = BTreeMap::new();
    if !dropped_tables.is_empty() {
        for index in from.indexes.values() {
            if dropped_tables.contains(&index.table) {
                indexes_of
                    .entry(&index.table)
                    .or_default()
                    .push(&index.name);
            }
        }
    }
    let mut freed: BTreeMap<Name, Vec<usize>> = BTreeMap::new();
    for (i, c) in changes.iter().enumerate() {
        if c.step == Step::Drop {
            for name in names(from, &c.object, &indexes_of) {
                freed.entry(name).or_default().push(i);
            }
        }
    }
    if freed.is_empty() {
        return Vec::new();
    }
    let none = BTreeMap::new();
    let mut out = BTreeSet::new();
    for (j, c) in changes.iter().enumerate() {
        // An identity added to a column creates its sequence.
        let identity = match (&c.object, c.kind) {
            (ObjectId::Column(t, col), super::ChangeKind::AddIdentity) => to
                .tables
                .get(t)
                .and_then(|t| t.columns.get(col))
                .and_then(|col| col.identity.as_ref())
                .map(|i| Name::Relation(i.sequence.clone())),
            _ => None,
        };
        if c.step != Step::Create && identity.is_none() {
            continue;
        }
        let taken = if c.step == Step::Create {
            names(to, &c.object, &none)
        } else {
            Vec::new()
        };
        for name in taken.into_iter().chain(identity) {
            for &i in freed.get(&name).into_iter().flatten() {
                if changes[i].object != c.object {
                    out.insert((i, j));
                }
            }
        }
    }
    out.into_iter().collect()
}

/// The names `id` occupies in `schema`; for a table, with its constraints' names and the
/// indexes `indexes_of` lists for it.
fn names(
    schema: &Schema,
    id: &ObjectId,
    indexes_of: &BTreeMap<&QualifiedName, Vec<&QualifiedName>>,
) -> Vec<Name> {
    let in_schema = |t: &QualifiedName, name: &str| QualifiedName {
        schema: t.schema.clone(),
        name: name.into(),
    };
    let mut out = Vec::new();
    match id {
        ObjectId::Table(t) => {
            out.push(Name::Relation(t.clone()));
            out.push(Name::Type(t.clone()));
            if let Some(table) = schema.tables.get(t) {
                for c in table.constraints.values() {
                    out.push(Name::Constraint(t.clone(), c.name.to_string()));
                    if backed_by_index(c.kind) {
                        out.push(Name::Relation(in_schema(t, &c.name)));
                    }
                }
            }
            for index in indexes_of.get(t).into_iter().flatten() {
                out.push(Name::Relation((*index).clone()));
            }
            // Its identity columns' sequences.
            let sequences = schema
                .tables
                .get(t)
                .into_iter()
                .flat_map(|t| t.columns.values());
            for i in sequences.filter_map(|c| c.identity.as_ref()) {
                out.push(Name::Relation(i.sequence.clone()));
            }
        }
        ObjectId::View(v) => {
            out.push(Name::Relation(v.clone()));
            out.push(Name::Type(v.clone()));
        }
        ObjectId::Index(n) | ObjectId::Sequence(n) => out.push(Name::Relation(n.clone())),
        ObjectId::Type(t) => {
            out.push(Name::Type(t.clone()));
            if let Some(def) = schema.types.get(t) {
                if matches!(def.kind, TypeKind::Composite(_)) {
                    out.push(Name::Relation(t.clone()));
                }
            }
        }
        ObjectId::Constraint(t, name) => {
            if let Some(c) = schema.tables.get(t).and_then(|t| t.constraints.get(name)) {
                out.push(Name::Constraint(t.clone(), name.to_string()));
                if backed_by_index(c.kind) {
                    out.push(Name::Relation(in_schema(t, name)));
                }
            }
        }
        _ => {}
    }
    out
}

fn backed_by_index(kind: ConstraintKind) -> bool {
    matches!(
        kind,
        ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion
    )
}
