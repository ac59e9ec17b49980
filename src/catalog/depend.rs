//! Dependencies: pg_depend rows resolved to stable object ids, plus the edges pg_depend does
//! not record (an object in its schema, a column/constraint/trigger/policy/index on its table,
//! a partition's index on its parent's index).

use crate::model::*;
use std::collections::HashMap;
use tokio_postgres::Row;

/// OID → object id, per catalog.
#[derive(Default)]
pub(super) struct Oids {
    objects: HashMap<(&'static str, u32), ObjectId>,
    columns: HashMap<(u32, i32), ObjectId>,
    /// Relations whose columns stand for the relation itself (views, composite types).
    collapse: HashMap<u32, ObjectId>,
}

const CLASSES: &[&str] = &[
    "pg_namespace",
    "pg_extension",
    "pg_type",
    "pg_class",
    "pg_constraint",
    "pg_proc",
    "pg_trigger",
    "pg_policy",
];

fn class(name: &str) -> Option<&'static str> {
    CLASSES.iter().copied().find(|c| *c == name)
}

impl Oids {
    pub fn add(&mut self, class: &'static str, oid: u32, id: ObjectId) {
        if oid != 0 {
            self.objects.insert((class, oid), id);
        }
    }

    pub fn add_column(&mut self, relid: u32, attnum: i16, id: ObjectId) {
        self.columns.insert((relid, attnum as i32), id);
    }

    pub fn relation_columns_collapse(&mut self, relid: u32, id: ObjectId) {
        self.collapse.insert(relid, id);
    }

    fn get(&self, class_name: &str, oid: u32, sub: i32) -> Option<&ObjectId> {
        let class = class(class_name)?;
        if class == "pg_class" && sub > 0 {
            if let Some(id) = self.columns.get(&(oid, sub)) {
                return Some(id);
            }
            return self.collapse.get(&oid);
        }
        self.objects.get(&(class, oid))
    }
}

/// The dependency map being built: only edges between two different objects the model
/// holds (checked here, so nothing is cloned for an edge that would be thrown away).
struct Edges<'a> {
    schema: &'a Schema,
    deps: Dependencies,
}

impl Edges<'_> {
    fn add(&mut self, from: &ObjectId, to: &ObjectId) {
        if from == to || !self.schema.contains(from) || !self.schema.contains(to) {
            return;
        }
        match self.deps.get_mut(from) {
            Some(set) => {
                if !set.contains(to) {
                    set.insert(to.clone());
                }
            }
            None => {
                self.deps
                    .insert(from.clone(), std::iter::once(to.clone()).collect());
            }
        }
    }
}

pub(super) fn resolve(rows: &[Row], oids: &Oids, schema: &Schema) -> Dependencies {
    let mut edges = Edges {
        schema,
        deps: Dependencies::new(),
    };
    for row in rows {
        let Some(from) = oids.get(
            row.get::<_, &str>("class"),
            row.get("objid"),
            row.get("objsubid"),
        ) else {
            continue;
        };
        let deptype: &str = row.get("deptype");
        // A sequence's OWNED BY is its `owned_by` field, not an ordering edge: the column's
        // default depends on the sequence, not the other way round.
        if deptype == "a" && matches!(from, ObjectId::Sequence(_)) {
            continue;
        }
        let to = match oids.get(
            row.get::<_, &str>("refclass"),
            row.get("refobjid"),
            row.get("refobjsubid"),
        ) {
            Some(to) => to,
            None => match row.get::<_, Option<u32>>("ref_extension") {
                Some(ext) => match oids.get("pg_extension", ext, 0) {
                    Some(to) => to,
                    None => continue,
                },
                None => continue,
            },
        };
        // A view over a column of its own (pg_rewrite → own columns) is no edge.
        edges.add(from, to);
    }
    let mut edge = |from: ObjectId, to: ObjectId| edges.add(&from, &to);
    for name in schema.types.keys() {
        edge(
            ObjectId::Type(name.clone()),
            ObjectId::Schema(name.schema.clone()),
        );
    }
    for name in schema.sequences.keys() {
        edge(
            ObjectId::Sequence(name.clone()),
            ObjectId::Schema(name.schema.clone()),
        );
    }
    for (name, table) in &schema.tables {
        let t = ObjectId::Table(name.clone());
        edge(t.clone(), ObjectId::Schema(name.schema.clone()));
        for column in table.columns.keys() {
            edge(ObjectId::Column(name.clone(), column.clone()), t.clone());
        }
        for constraint in table.constraints.keys() {
            edge(
                ObjectId::Constraint(name.clone(), constraint.clone()),
                t.clone(),
            );
        }
        if let Some(p) = &table.partition_of {
            edge(t.clone(), ObjectId::Table(p.parent.clone()));
        }
        for parent in &table.inherits {
            edge(t.clone(), ObjectId::Table(parent.clone()));
        }
    }
    for (name, index) in &schema.indexes {
        let i = ObjectId::Index(name.clone());
        edge(i.clone(), ObjectId::Schema(name.schema.clone()));
        let table = if schema.views.contains_key(&index.table) {
            ObjectId::View(index.table.clone())
        } else {
            ObjectId::Table(index.table.clone())
        };
        edge(i.clone(), table);
        if let Some(parent) = &index.parent {
            if schema.indexes.contains_key(parent) {
                edge(i.clone(), ObjectId::Index(parent.clone()));
            }
        }
    }
    for name in schema.views.keys() {
        edge(
            ObjectId::View(name.clone()),
            ObjectId::Schema(name.schema.clone()),
        );
    }
    for sig in schema.functions.keys() {
        edge(
            ObjectId::Function(sig.clone()),
            ObjectId::Schema(sig.name.schema.clone()),
        );
    }
    for (key, trigger) in &schema.triggers {
        let t = ObjectId::Trigger(key.clone());
        let table = if schema.views.contains_key(&key.table) {
            ObjectId::View(key.table.clone())
        } else {
            ObjectId::Table(key.table.clone())
        };
        edge(t.clone(), table);
        if schema.functions.contains_key(&trigger.function) {
            edge(t, ObjectId::Function(trigger.function.clone()));
        }
    }
    for key in schema.policies.keys() {
        edge(
            ObjectId::Policy(key.clone()),
            ObjectId::Table(key.table.clone()),
        );
    }
    for ext in schema.extensions.values() {
        if schema.schemas.contains_key(&ext.schema) {
            edge(
                ObjectId::Extension(ext.name.clone()),
                ObjectId::Schema(ext.schema.clone()),
            );
        }
    }
    edges.deps
}
