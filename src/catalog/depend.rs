//! Dependencies: pg_depend rows resolved to stable object ids, plus the edges pg_depend does
//! not record (an object in its schema, a column/constraint/trigger/policy/index on its table,
//! a partition's index on its parent's index).

use crate::model::*;
use rustc_hash::FxHashMap;
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
    Collation = 3456,
    Policy = 3256,
    StatisticExt = 3381,
}

impl Catalog {
    const ALL: [Catalog; 12] = [
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
        Catalog::Collation,
        Catalog::StatisticExt,
    ];

    fn from_oid(oid: u32) -> Option<Catalog> {
        Catalog::ALL.into_iter().find(|c| *c as u32 == oid)
    }
}

/// OID → object id, per catalog. Each id is stored once in `ids` (the OIDs of one object,
/// added one after the other, share its slot) and the maps hold slots: dependencies are
/// resolved to slots, and whether the model holds an object is asked once per slot.
#[derive(Default)]
pub(super) struct Oids {
    ids: Vec<ObjectId>,
    objects: FxHashMap<(Catalog, u32), usize>,
    columns: FxHashMap<(u32, i32), usize>,
    /// Relations whose columns stand for the relation itself (views, composite types).
    collapse: FxHashMap<u32, usize>,
}

impl Oids {
    pub fn add(&mut self, catalog: Catalog, oid: u32, id: ObjectId) {
        if oid != 0 {
            let slot = self.slot(id);
            self.objects.insert((catalog, oid), slot);
        }
    }

    pub fn add_column(&mut self, relid: u32, attnum: i16, id: ObjectId) {
        let slot = self.slot(id);
        self.columns.insert((relid, attnum as i32), slot);
    }

    pub fn relation_columns_collapse(&mut self, relid: u32, id: ObjectId) {
        let slot = self.slot(id);
        self.collapse.insert(relid, slot);
    }

    fn slot(&mut self, id: ObjectId) -> usize {
        if self.ids.last() != Some(&id) {
            self.ids.push(id);
        }
        self.ids.len() - 1
    }

    /// The names of a table's columns by number, as `conkey` or `indkey` list them; the
    /// first number not read otherwise.
    pub fn column_names(&self, relid: u32, attnums: &[i16]) -> Result<Vec<&str>, i16> {
        attnums
            .iter()
            .map(|&n| self.column_name(relid, n).ok_or(n))
            .collect()
    }

    /// The name of a table's column by number.
    fn column_name(&self, relid: u32, attnum: i16) -> Option<&str> {
        match self
            .columns
            .get(&(relid, attnum as i32))
            .map(|&s| &self.ids[s])
        {
            Some(ObjectId::Column(_, name)) => Some(name),
            _ => system_column(attnum),
        }
    }

    fn get(&self, catalog: Catalog, oid: u32, sub: i32) -> Option<usize> {
        if catalog == Catalog::Class && sub > 0 {
            if let Some(&slot) = self.columns.get(&(oid, sub)) {
                return Some(slot);
            }
            return self.collapse.get(&oid).copied();
        }
        self.objects.get(&(catalog, oid)).copied()
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

/// One pg_depend row.
pub(super) struct DependRow {
    classid: u32,
    objid: u32,
    objsubid: i32,
    refclassid: u32,
    refobjid: u32,
    refobjsubid: i32,
    deptype: i8,
}

impl DependRow {
    /// A row of `sql::DEPENDENCIES`, its columns by position (in the order it selects them).
    pub fn new(row: &Row) -> DependRow {
        DependRow {
            classid: row.get(0),
            objid: row.get(1),
            objsubid: row.get(2),
            refclassid: row.get(3),
            refobjid: row.get(4),
            refobjsubid: row.get(5),
            deptype: row.get(6),
        }
    }
}

const EXTENSION_MEMBER: i8 = b'e' as i8;
const AUTO: i8 = b'a' as i8;

/// An [`ObjectId`] made of borrowed parts, ordered the same way (same variants in the same
/// order, fields compared alike): edges are gathered, sorted and deduplicated as pairs of
/// these, and only the edges kept become owned ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum IdRef<'a> {
    Schema(&'a Name),
    Extension(&'a Name),
    Type(&'a QualifiedName),
    Sequence(&'a QualifiedName),
    Table(&'a QualifiedName),
    Column(&'a QualifiedName, &'a Name),
    Constraint(&'a QualifiedName, &'a Name),
    Index(&'a QualifiedName),
    View(&'a QualifiedName),
    Function(&'a FunctionSig),
    Trigger(&'a SubName),
    Policy(&'a SubName),
    Collation(&'a QualifiedName),
    Statistics(&'a QualifiedName),
}

impl<'a> From<&'a ObjectId> for IdRef<'a> {
    fn from(id: &'a ObjectId) -> Self {
        match id {
            ObjectId::Schema(n) => IdRef::Schema(n),
            ObjectId::Extension(n) => IdRef::Extension(n),
            ObjectId::Type(n) => IdRef::Type(n),
            ObjectId::Sequence(n) => IdRef::Sequence(n),
            ObjectId::Table(n) => IdRef::Table(n),
            ObjectId::Column(t, c) => IdRef::Column(t, c),
            ObjectId::Constraint(t, c) => IdRef::Constraint(t, c),
            ObjectId::Index(n) => IdRef::Index(n),
            ObjectId::View(n) => IdRef::View(n),
            ObjectId::Function(sig) => IdRef::Function(sig),
            ObjectId::Trigger(key) => IdRef::Trigger(key),
            ObjectId::Policy(key) => IdRef::Policy(key),
            ObjectId::Collation(n) => IdRef::Collation(n),
            ObjectId::Statistics(n) => IdRef::Statistics(n),
        }
    }
}

impl IdRef<'_> {
    fn to_id(self) -> ObjectId {
        match self {
            IdRef::Schema(n) => ObjectId::Schema(n.clone()),
            IdRef::Extension(n) => ObjectId::Extension(n.clone()),
            IdRef::Type(n) => ObjectId::Type(n.clone()),
            IdRef::Sequence(n) => ObjectId::Sequence(n.clone()),
            IdRef::Table(n) => ObjectId::Table(n.clone()),
            IdRef::Column(t, c) => ObjectId::Column(t.clone(), c.clone()),
            IdRef::Constraint(t, c) => ObjectId::Constraint(t.clone(), c.clone()),
            IdRef::Index(n) => ObjectId::Index(n.clone()),
            IdRef::View(n) => ObjectId::View(n.clone()),
            IdRef::Function(sig) => ObjectId::Function(sig.clone()),
            IdRef::Trigger(key) => ObjectId::Trigger(key.clone()),
            IdRef::Policy(key) => ObjectId::Policy(key.clone()),
            IdRef::Collation(n) => ObjectId::Collation(n.clone()),
            IdRef::Statistics(n) => ObjectId::Statistics(n.clone()),
        }
    }
}

type Edge<'a> = (IdRef<'a>, IdRef<'a>);

/// The dependency map: only edges between two different objects the model holds.
///
/// The edges are gathered as pairs of ids borrowed from the model's own keys, sorted and
/// deduplicated once; the ids they name are cloned once each into the map, and the edges
/// become pairs of indices. The pg_depend rows and the OID maps are dropped before the map is
/// built: the read's peak is here, and they are not needed any more.
pub(super) fn resolve(rows: Vec<DependRow>, oids: Oids, schema: &Schema) -> Dependencies {
    let recorded = recorded_edges(&rows, &oids, schema);
    drop((rows, oids));
    let mut edges = structural_edges(schema);
    edges.reserve_exact(recorded.len());
    edges.extend(recorded);
    // A stable sort: the structural edges, gathered in order, are one run it only merges
    // (an unstable sort took twice the instructions of the whole read here).
    edges.sort();
    edges.dedup();
    let ends = Ends::of(&edges);
    let pairs: Vec<(usize, usize)> = edges
        .iter()
        .map(|(from, to)| (ends.index(from), ends.index(to)))
        .collect();
    drop(edges);
    let ids = ends.sorted.into_iter().map(IdRef::to_id).collect();
    Dependencies::from_sorted_pairs(ids, &pairs)
}

/// Every object at either end of the sorted edges, sorted, and each one's place among them.
/// Most ends are objects edges leave (the edges list them in order already); the others are
/// few (schemas, mostly), so the ends are not sorted whole, and a place is looked up by the
/// id's address: every `IdRef` borrows the model's own key, so one object has one address.
/// At 10,000 tables, sorting the ends and a binary search per edge end took a third of the
/// model's build, and hashing the names instead a fifth.
struct Ends<'a> {
    sorted: Vec<IdRef<'a>>,
    place: FxHashMap<Address, usize>,
}

/// An `IdRef` by where its parts are: its kind, and the addresses of the keys it borrows.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Address(u8, usize, usize);

impl IdRef<'_> {
    fn address(&self) -> Address {
        fn at<T>(r: &T) -> usize {
            r as *const T as usize
        }
        match *self {
            IdRef::Schema(n) => Address(0, at(n), 0),
            IdRef::Extension(n) => Address(1, at(n), 0),
            IdRef::Type(n) => Address(2, at(n), 0),
            IdRef::Sequence(n) => Address(3, at(n), 0),
            IdRef::Table(n) => Address(4, at(n), 0),
            IdRef::Column(t, c) => Address(5, at(t), at(c)),
            IdRef::Constraint(t, c) => Address(6, at(t), at(c)),
            IdRef::Index(n) => Address(7, at(n), 0),
            IdRef::View(n) => Address(8, at(n), 0),
            IdRef::Function(sig) => Address(9, at(sig), 0),
            IdRef::Trigger(key) => Address(10, at(key), 0),
            IdRef::Policy(key) => Address(11, at(key), 0),
            IdRef::Collation(n) => Address(12, at(n), 0),
            IdRef::Statistics(n) => Address(13, at(n), 0),
        }
    }
}

impl<'a> Ends<'a> {
    fn of(edges: &[Edge<'a>]) -> Ends<'a> {
        let mut froms: Vec<IdRef<'a>> = edges.iter().map(|&(from, _)| from).collect();
        froms.dedup();
        let known: rustc_hash::FxHashSet<Address> = froms.iter().map(IdRef::address).collect();
        let mut others: Vec<IdRef<'a>> = edges
            .iter()
            .map(|&(_, to)| to)
            .filter(|to| !known.contains(&to.address()))
            .collect();
        drop(known);
        others.sort_unstable();
        others.dedup();
        let mut ends = Ends {
            sorted: Vec::with_capacity(froms.len() + others.len()),
            place: FxHashMap::default(),
        };
        ends.place.reserve(froms.len() + others.len());
        let (mut f, mut o) = (froms.into_iter().peekable(), others.into_iter().peekable());
        loop {
            let next = match (f.peek(), o.peek()) {
                (Some(a), Some(b)) if a <= b => f.next(),
                (_, Some(_)) => o.next(),
                (Some(_), None) => f.next(),
                (None, None) => break,
            };
            ends.push(next.expect("an end"));
        }
        ends
    }

    /// Adds the next end in order; an object met again under another address (not expected:
    /// ids borrow the model's keys) shares the place of the first.
    fn push(&mut self, id: IdRef<'a>) {
        if self.sorted.last() != Some(&id) {
            self.sorted.push(id);
        }
        self.place.insert(id.address(), self.sorted.len() - 1);
    }

    fn index(&self, id: &IdRef<'a>) -> usize {
        self.place[&id.address()]
    }
}

/// The edges pg_depend records, resolved to ids (a view over a column of its own,
/// pg_rewrite → own columns, is no edge).
fn recorded_edges<'a>(rows: &[DependRow], oids: &Oids, schema: &'a Schema) -> Vec<Edge<'a>> {
    // What belongs to an extension, in any catalog (an operator class, a function, ...): a
    // dependency on it is a dependency on the extension.
    let extension_of: FxHashMap<(u32, u32), u32> = rows
        .iter()
        .filter(|r| r.deptype == EXTENSION_MEMBER)
        .map(|r| ((r.classid, r.objid), r.refobjid))
        .collect();
    let held: Vec<Option<IdRef<'a>>> = oids.ids.iter().map(|id| held(schema, id)).collect();
    let lookup = |classid: u32, oid: u32, sub: i32| oids.get(Catalog::from_oid(classid)?, oid, sub);
    let mut edges = Vec::with_capacity(rows.len());
    for row in rows.iter().filter(|r| r.deptype != EXTENSION_MEMBER) {
        let Some(from) = lookup(row.classid, row.objid, row.objsubid).and_then(|s| held[s]) else {
            continue;
        };
        // A sequence's OWNED BY is its `owned_by` field, not an ordering edge: the column's
        // default depends on the sequence, not the other way round.
        if row.deptype == AUTO && matches!(from, IdRef::Sequence(_)) {
            continue;
        }
        let to = lookup(row.refclassid, row.refobjid, row.refobjsubid).or_else(|| {
            let extension = extension_of.get(&(row.refclassid, row.refobjid))?;
            oids.get(Catalog::Extension, *extension, 0)
        });
        let Some(to) = to.and_then(|s| held[s]) else {
            continue;
        };
        if from != to {
            edges.push((from, to));
        }
    }
    edges
}

/// `id` borrowed from the model's own keys; `None` when the model does not hold it (the
/// same answer as `Schema::contains`).
fn held<'a>(schema: &'a Schema, id: &ObjectId) -> Option<IdRef<'a>> {
    fn key<K, V>((key, _): (K, V)) -> K {
        key
    }
    Some(match id {
        ObjectId::Schema(n) => IdRef::Schema(schema.schemas.get_key_value(n).map(key)?),
        ObjectId::Extension(n) => IdRef::Extension(schema.extensions.get_key_value(n).map(key)?),
        ObjectId::Type(n) => IdRef::Type(schema.types.get_key_value(n).map(key)?),
        ObjectId::Sequence(n) => IdRef::Sequence(schema.sequences.get_key_value(n).map(key)?),
        ObjectId::Table(n) => IdRef::Table(schema.tables.get_key_value(n).map(key)?),
        ObjectId::Column(t, c) => {
            let (t, table) = schema.tables.get_key_value(t)?;
            IdRef::Column(t, table.columns.get_key_value(c).map(key)?)
        }
        ObjectId::Constraint(parent, c) => {
            let on_table = schema.tables.get_key_value(parent).and_then(|(t, table)| {
                Some(IdRef::Constraint(
                    t,
                    table.constraints.get_key_value(c).map(key)?,
                ))
            });
            match on_table {
                Some(id) => id,
                None => {
                    let (t, ty) = schema.types.get_key_value(parent)?;
                    let TypeKind::Domain(domain) = &ty.kind else {
                        return None;
                    };
                    IdRef::Constraint(t, domain.checks.get_key_value(c).map(key)?)
                }
            }
        }
        ObjectId::Index(n) => IdRef::Index(schema.indexes.get_key_value(n).map(key)?),
        ObjectId::View(n) => IdRef::View(schema.views.get_key_value(n).map(key)?),
        ObjectId::Function(sig) => IdRef::Function(schema.functions.get_key_value(sig).map(key)?),
        ObjectId::Trigger(k) => IdRef::Trigger(schema.triggers.get_key_value(k).map(key)?),
        ObjectId::Policy(k) => IdRef::Policy(schema.policies.get_key_value(k).map(key)?),
        ObjectId::Collation(n) => IdRef::Collation(schema.collations.get_key_value(n).map(key)?),
        ObjectId::Statistics(n) => IdRef::Statistics(schema.statistics.get_key_value(n).map(key)?),
    })
}

/// The edges pg_depend does not record: an object in its schema, a column/constraint/
/// trigger/policy/index on its table, a partition's index on its parent's index. The
/// dependent object comes from the model's own maps, so only the other end is looked up.
/// Gathered kind by kind in the order of `ObjectId`.
fn structural_edges<'a>(schema: &'a Schema) -> Vec<Edge<'a>> {
    let in_schema = |name: &str| {
        let (name, _) = schema.schemas.get_key_value(name)?;
        Some(IdRef::Schema(name))
    };
    let table = |name: &QualifiedName| {
        let (name, _) = schema.tables.get_key_value(name)?;
        Some(IdRef::Table(name))
    };
    // An index or a trigger may be on a view.
    let relation = |name: &QualifiedName| match schema.views.get_key_value(name) {
        Some((name, _)) => Some(IdRef::View(name)),
        None => table(name),
    };
    let mut edges = Vec::new();
    let mut edge = |from: IdRef<'a>, to: Option<IdRef<'a>>| match to {
        Some(to) if to != from => edges.push((from, to)),
        _ => {}
    };
    for (name, ext) in &schema.extensions {
        edge(IdRef::Extension(name), in_schema(&ext.schema));
    }
    for name in schema.types.keys() {
        edge(IdRef::Type(name), in_schema(&name.schema));
    }
    for name in schema.collations.keys() {
        edge(IdRef::Collation(name), in_schema(&name.schema));
    }
    for name in schema.sequences.keys() {
        edge(IdRef::Sequence(name), in_schema(&name.schema));
    }
    for (name, t) in &schema.tables {
        edge(IdRef::Table(name), in_schema(&name.schema));
        if let Some(p) = &t.partition_of {
            edge(IdRef::Table(name), table(&p.parent));
        }
        for parent in &t.inherits {
            edge(IdRef::Table(name), table(parent));
        }
    }
    for (name, t) in &schema.tables {
        // A partition's or child's column on its parent's column: the parent's changes
        // reach it, so its own come after.
        let parent = t.partition_of.as_ref().map(|p| &p.parent);
        let parent = parent
            .or(t.inherits.first())
            .and_then(|p| schema.tables.get_key_value(p));
        for column in t.columns.keys() {
            edge(IdRef::Column(name, column), Some(IdRef::Table(name)));
            if let Some((pname, p)) = parent {
                if let Some((pcolumn, _)) = p.columns.get_key_value(column) {
                    edge(
                        IdRef::Column(name, column),
                        Some(IdRef::Column(pname, pcolumn)),
                    );
                }
            }
        }
    }
    for (name, t) in &schema.tables {
        for constraint in t.constraints.keys() {
            edge(
                IdRef::Constraint(name, constraint),
                Some(IdRef::Table(name)),
            );
        }
    }
    for (name, index) in &schema.indexes {
        edge(IdRef::Index(name), in_schema(&name.schema));
        edge(IdRef::Index(name), relation(&index.table));
        if let Some(parent) = &index.parent {
            if let Some((parent, _)) = schema.indexes.get_key_value(parent) {
                edge(IdRef::Index(name), Some(IdRef::Index(parent)));
            }
        }
    }
    for name in schema.views.keys() {
        edge(IdRef::View(name), in_schema(&name.schema));
    }
    for sig in schema.functions.keys() {
        edge(IdRef::Function(sig), in_schema(&sig.name.schema));
    }
    for (key, trigger) in &schema.triggers {
        edge(IdRef::Trigger(key), relation(&key.table));
        if let Some((function, _)) = schema.functions.get_key_value(&trigger.function) {
            edge(IdRef::Trigger(key), Some(IdRef::Function(function)));
        }
    }
    for key in schema.policies.keys() {
        edge(IdRef::Policy(key), table(&key.table));
    }
    for (name, s) in &schema.statistics {
        edge(IdRef::Statistics(name), in_schema(&name.schema));
        edge(IdRef::Statistics(name), relation(&s.table));
    }
    edges
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `IdRef` mirrors `ObjectId`: it gives the same id back and sorts the same way.
    #[test]
    fn id_ref_orders_as_object_id() {
        let q = |schema: &str, name: &str| QualifiedName::new(schema, name);
        let sig = |name: &str, args: &str| FunctionSig {
            name: q("a", name),
            args: args.into(),
        };
        let ids = [
            ObjectId::Schema("a".into()),
            ObjectId::Schema("b".into()),
            ObjectId::Extension("x".into()),
            ObjectId::Type(q("a", "t")),
            ObjectId::Sequence(q("a", "s")),
            ObjectId::Table(q("a", "t")),
            ObjectId::Table(q("b", "a")),
            ObjectId::Column(q("a", "t"), "c".into()),
            ObjectId::Column(q("a", "t"), "d".into()),
            ObjectId::Column(q("a", "u"), "a".into()),
            ObjectId::Constraint(q("a", "t"), "k".into()),
            ObjectId::Index(q("a", "i")),
            ObjectId::View(q("a", "v")),
            ObjectId::Function(sig("f", "")),
            ObjectId::Function(sig("f", "integer")),
            ObjectId::Trigger(SubName::new(q("a", "t"), "g")),
            ObjectId::Policy(SubName::new(q("a", "t"), "p")),
            ObjectId::Collation(q("a", "c")),
            ObjectId::Statistics(q("a", "s")),
        ];
        for a in &ids {
            assert_eq!(IdRef::from(a).to_id(), *a);
            for b in &ids {
                assert_eq!(IdRef::from(a).cmp(&IdRef::from(b)), a.cmp(b), "{a} / {b}");
            }
        }
    }
}
