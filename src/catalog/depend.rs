//! Dependencies: pg_depend rows resolved to stable object ids, plus the edges pg_depend does
//! not record (an object in its schema, a column/constraint/trigger/policy/index on its table,
//! a partition's index on its parent's index).

use crate::model::*;
use std::collections::HashMap;
use tokio_postgres::Row;

/// The system catalogs objects are read from, by their OIDs (fixed in PostgreSQL's catalog
/// headers, the same in every version): pg_depend names catalogs by these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Catalog {
    Type = 1247,
    Proc = 1255,
    Class = 1259,
    /// A column default: read as its column.
    Attrdef = 2604,
    Constraint = 2606,
    Namespace = 2615,
    /// A view's `_RETURN` rule: read as the view.
    Rewrite = 2618,
    Trigger = 2620,
    Extension = 3079,
    Policy = 3256,
}

impl Catalog {
    const ALL: [Catalog; 10] = [
        Catalog::Type,
        Catalog::Proc,
        Catalog::Class,
        Catalog::Attrdef,
        Catalog::Constraint,
        Catalog::Namespace,
        Catalog::Rewrite,
        Catalog::Trigger,
        Catalog::Extension,
        Catalog::Policy,
    ];

    fn from_oid(oid: u32) -> Option<Catalog> {
        Catalog::ALL.into_iter().find(|c| *c as u32 == oid)
    }
}

/// OID → object id, per catalog.
#[derive(Default)]
pub(super) struct Oids {
    objects: HashMap<(Catalog, u32), ObjectId>,
    columns: HashMap<(u32, i32), ObjectId>,
    /// Relations whose columns stand for the relation itself (views, composite types).
    collapse: HashMap<u32, ObjectId>,
}

impl Oids {
    pub fn add(&mut self, catalog: Catalog, oid: u32, id: ObjectId) {
        if oid != 0 {
            self.objects.insert((catalog, oid), id);
        }
    }

    pub fn add_column(&mut self, relid: u32, attnum: i16, id: ObjectId) {
        self.columns.insert((relid, attnum as i32), id);
    }

    pub fn relation_columns_collapse(&mut self, relid: u32, id: ObjectId) {
        self.collapse.insert(relid, id);
    }

    /// The name of a table's column by number, as `conkey` lists them.
    pub fn column_name(&self, relid: u32, attnum: i16) -> Option<&str> {
        match self.columns.get(&(relid, attnum as i32)) {
            Some(ObjectId::Column(_, name)) => Some(name),
            _ => system_column(attnum),
        }
    }

    fn get(&self, catalog: Catalog, oid: u32, sub: i32) -> Option<&ObjectId> {
        if catalog == Catalog::Class && sub > 0 {
            if let Some(id) = self.columns.get(&(oid, sub)) {
                return Some(id);
            }
            return self.collapse.get(&oid);
        }
        self.objects.get(&(catalog, oid))
    }
}

/// System columns by their (negative) attribute numbers; a check constraint may name `tableoid`.
fn system_column(attnum: i16) -> Option<&'static str> {
    match attnum {
        -1 => Some("ctid"),
        -2 => Some("xmin"),
        -3 => Some("cmin"),
        -4 => Some("xmax"),
        -5 => Some("cmax"),
        -6 => Some("tableoid"),
        _ => None,
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

/// One pg_depend row.
struct DependRow {
    classid: u32,
    objid: u32,
    objsubid: i32,
    refclassid: u32,
    refobjid: u32,
    refobjsubid: i32,
    deptype: i8,
}

impl DependRow {
    fn read(row: &Row) -> DependRow {
        DependRow {
            classid: row.get("classid"),
            objid: row.get("objid"),
            objsubid: row.get("objsubid"),
            refclassid: row.get("refclassid"),
            refobjid: row.get("refobjid"),
            refobjsubid: row.get("refobjsubid"),
            deptype: row.get("deptype"),
        }
    }
}

const EXTENSION_MEMBER: i8 = b'e' as i8;
const AUTO: i8 = b'a' as i8;

pub(super) fn resolve(rows: &[Row], oids: &Oids, schema: &Schema) -> Dependencies {
    let mut edges = Edges {
        schema,
        deps: Dependencies::new(),
    };
    let rows: Vec<DependRow> = rows.iter().map(DependRow::read).collect();
    // What belongs to an extension, in any catalog (an operator class, a function, ...): a
    // dependency on it is a dependency on the extension.
    let extension_of: HashMap<(u32, u32), u32> = rows
        .iter()
        .filter(|r| r.deptype == EXTENSION_MEMBER)
        .map(|r| ((r.classid, r.objid), r.refobjid))
        .collect();
    let lookup = |classid: u32, oid: u32, sub: i32| oids.get(Catalog::from_oid(classid)?, oid, sub);
    for row in rows.iter().filter(|r| r.deptype != EXTENSION_MEMBER) {
        let Some(from) = lookup(row.classid, row.objid, row.objsubid) else {
            continue;
        };
        // A sequence's OWNED BY is its `owned_by` field, not an ordering edge: the column's
        // default depends on the sequence, not the other way round.
        if row.deptype == AUTO && matches!(from, ObjectId::Sequence(_)) {
            continue;
        }
        let to = lookup(row.refclassid, row.refobjid, row.refobjsubid).or_else(|| {
            let extension = extension_of.get(&(row.refclassid, row.refobjid))?;
            oids.get(Catalog::Extension, *extension, 0)
        });
        let Some(to) = to else {
            continue;
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
