//! The schema model: plain values with a canonical order, and their fingerprint.
//!
//! Everything is keyed by names (never OIDs) in `BTreeMap`s, so two databases holding the
//! same schema give equal values, and serialising one gives the same bytes every time.
//! `catalog` fills it from a live database; `ddl` renders it; `diff` compares two of them.

mod dependencies;
mod fingerprint;
mod id;
mod name;
mod objects;
pub mod pairs;
mod sorted_map;

pub use dependencies::{Dependencies, Deps};
pub use fingerprint::Fingerprint;
pub use id::{FunctionSig, ObjectId, SubName};
pub use name::{quote_ident, quote_literal, Name, QualifiedName};
pub use objects::*;
pub use sorted_map::SortedMap;

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One database's schema, as far as strata manages it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    pub schemas: BTreeMap<Name, Namespace>,
    pub extensions: BTreeMap<Name, Extension>,
    /// Absent from the serialisation when empty: a schema without collations keeps the
    /// fingerprint it had before they were modelled.
    #[serde(with = "pairs", default, skip_serializing_if = "BTreeMap::is_empty")]
    pub collations: BTreeMap<QualifiedName, Collation>,
    #[serde(with = "pairs")]
    pub types: BTreeMap<QualifiedName, TypeDef>,
    #[serde(with = "pairs")]
    pub sequences: BTreeMap<QualifiedName, Sequence>,
    #[serde(with = "pairs")]
    pub tables: BTreeMap<QualifiedName, Table>,
    /// Indexes that do not back a constraint (those are part of the constraint).
    #[serde(with = "pairs")]
    pub indexes: BTreeMap<QualifiedName, Index>,
    /// Views and materialized views.
    #[serde(with = "pairs")]
    pub views: BTreeMap<QualifiedName, View>,
    /// Functions, procedures and aggregates, told apart by their argument types.
    #[serde(with = "pairs")]
    pub functions: BTreeMap<FunctionSig, Function>,
    #[serde(with = "pairs")]
    pub triggers: BTreeMap<SubName, Trigger>,
    #[serde(with = "pairs")]
    pub policies: BTreeMap<SubName, Policy>,
    pub default_privileges: BTreeSet<DefaultPrivilege>,
    /// Extended statistics objects. Absent from the serialisation when empty, like
    /// `collations` (older snapshots load, fingerprints without them are unchanged).
    #[serde(with = "pairs", default, skip_serializing_if = "BTreeMap::is_empty")]
    pub statistics: BTreeMap<QualifiedName, Statistics>,
    /// Edges from pg_depend (plus "a column/constraint/trigger/policy belongs to its table"),
    /// written as `[object, [dependency, ...]]` pairs.
    pub dependencies: Dependencies,
}

impl Schema {
    /// sha256 over the canonical serialisation (see `fingerprint.rs` for what counts).
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(self)
    }

    /// Every object the model holds, by identity (columns and constraints included).
    /// Whether the model holds `id`: the same answer as `object_ids().contains(id)`, without
    /// building the set.
    pub fn contains(&self, id: &ObjectId) -> bool {
        match id {
            ObjectId::Schema(name) => self.schemas.contains_key(name),
            ObjectId::Extension(name) => self.extensions.contains_key(name),
            ObjectId::Type(name) => self.types.contains_key(name),
            ObjectId::Sequence(name) => self.sequences.contains_key(name),
            ObjectId::Table(name) => self.tables.contains_key(name),
            ObjectId::Column(table, column) => self
                .tables
                .get(table)
                .is_some_and(|t| t.columns.contains_key(column)),
            ObjectId::Constraint(parent, name) => {
                self.tables
                    .get(parent)
                    .is_some_and(|t| t.constraints.contains_key(name))
                    || self.types.get(parent).is_some_and(|t| match &t.kind {
                        TypeKind::Domain(domain) => domain.checks.contains_key(name),
                        _ => false,
                    })
            }
            ObjectId::Index(name) => self.indexes.contains_key(name),
            ObjectId::View(name) => self.views.contains_key(name),
            ObjectId::Function(sig) => self.functions.contains_key(sig),
            ObjectId::Trigger(key) => self.triggers.contains_key(key),
            ObjectId::Policy(key) => self.policies.contains_key(key),
            ObjectId::Collation(name) => self.collations.contains_key(name),
            ObjectId::Statistics(name) => self.statistics.contains_key(name),
        }
    }

    pub fn object_ids(&self) -> BTreeSet<ObjectId> {
        let mut ids = BTreeSet::new();
        ids.extend(self.schemas.keys().cloned().map(ObjectId::Schema));
        ids.extend(self.extensions.keys().cloned().map(ObjectId::Extension));
        ids.extend(self.types.keys().cloned().map(ObjectId::Type));
        ids.extend(self.collations.keys().cloned().map(ObjectId::Collation));
        ids.extend(self.sequences.keys().cloned().map(ObjectId::Sequence));
        for (name, table) in &self.tables {
            ids.insert(ObjectId::Table(name.clone()));
            for column in table.columns.keys() {
                ids.insert(ObjectId::Column(name.clone(), column.clone()));
            }
            for constraint in table.constraints.keys() {
                ids.insert(ObjectId::Constraint(name.clone(), constraint.clone()));
            }
        }
        for (name, ty) in &self.types {
            if let TypeKind::Domain(domain) = &ty.kind {
                for check in domain.checks.keys() {
                    ids.insert(ObjectId::Constraint(name.clone(), check.clone()));
                }
            }
        }
        ids.extend(self.indexes.keys().cloned().map(ObjectId::Index));
        ids.extend(self.views.keys().cloned().map(ObjectId::View));
        ids.extend(self.functions.keys().cloned().map(ObjectId::Function));
        ids.extend(self.triggers.keys().cloned().map(ObjectId::Trigger));
        ids.extend(self.policies.keys().cloned().map(ObjectId::Policy));
        ids.extend(self.statistics.keys().cloned().map(ObjectId::Statistics));
        ids
    }
}
