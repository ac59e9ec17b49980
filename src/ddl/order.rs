//! Every object's CREATE statements in dependency order, as the creates of a diff from the
//! empty schema: the statement items (a table with its columns is one item; constraints,
//! indexes, triggers, policies are their own) go through the one ordering engine
//! (`crate::order`), tie-broken by (schema, kind rank, object id), so the same schema always
//! gives the same order. Foreign keys are their own items after both tables, so they never
//! make a cycle; any other cycle is a [`CycleError`] naming the objects.

use super::*;
use crate::model::{ObjectId, Schema};
use crate::order::{self, rank, Deps, Item, Step};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeMap;

/// Objects whose CREATE statements depend on each other in a cycle (not through foreign
/// keys, which are added after the tables): strata cannot write them in an order that loads.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("these objects depend on each other in a cycle, so strata cannot order their CREATE statements: {objects}")]
#[diagnostic(code(strata::dump::cycle))]
pub struct CycleError {
    pub objects: String,
}

/// The schema an object sorts under: an extension's is the one it is installed in.
fn schema_of(id: &ObjectId, schema: &Schema) -> String {
    match (id, id.schema()) {
        (_, Some(s)) => s.to_string(),
        (ObjectId::Extension(e), None) => schema
            .extensions
            .get(e)
            .map(|x| x.schema.to_string())
            .unwrap_or_default(),
        (_, None) => String::new(),
    }
}

/// The statement item an object is created by (a column by its table's `CREATE TABLE`,
/// a domain's check by its `CREATE DOMAIN`, an inherited constraint by its table).
fn item_of(id: &ObjectId, schema: &Schema) -> ObjectId {
    match id {
        ObjectId::Column(t, _) => ObjectId::Table(t.clone()),
        ObjectId::Constraint(t, c) => match schema.tables.get(t) {
            Some(table) if table.constraints.get(c).is_some_and(|c| c.local) => id.clone(),
            Some(_) => ObjectId::Table(t.clone()),
            None => ObjectId::Type(t.clone()),
        },
        _ => id.clone(),
    }
}

/// Each object's CREATE statements, in an order psql can load into an empty database:
/// schemas, then objects in dependency order, then `OWNED BY` of sequences, then default
/// privileges (last, so they do not change the privileges of the objects created here).
pub fn create_statements(schema: &Schema) -> Result<Vec<(ObjectId, String)>, CycleError> {
    let mut items: BTreeMap<ObjectId, Statements> = BTreeMap::new();
    for s in schema.schemas.values() {
        items.insert(ObjectId::Schema(s.name.clone()), create_schema(s));
    }
    for e in schema.extensions.values() {
        items.insert(ObjectId::Extension(e.name.clone()), create_extension(e));
    }
    for c in schema.collations.values() {
        items.insert(ObjectId::Collation(c.name.clone()), create_collation(c));
    }
    for t in schema.types.values() {
        items.insert(ObjectId::Type(t.name.clone()), create_type(t));
    }
    for s in schema.sequences.values() {
        items.insert(ObjectId::Sequence(s.name.clone()), create_sequence(s));
    }
    for f in schema.functions.values() {
        items.insert(ObjectId::Function(f.sig.clone()), create_function(f));
    }
    for t in schema.tables.values() {
        let mut text = create_table(t);
        let parent = t.partition_of.as_ref().map(|p| &p.parent);
        if let Some(parent) = parent
            .or(t.inherits.first())
            .and_then(|p| schema.tables.get(p))
        {
            text.append(tables::dropped_inherited_defaults(t, parent));
        }
        items.insert(ObjectId::Table(t.name.clone()), text);
        for c in t.constraints.values().filter(|c| c.local) {
            items.insert(
                ObjectId::Constraint(t.name.clone(), c.name.clone()),
                add_constraint(&t.name, c),
            );
        }
    }
    for i in schema.indexes.values() {
        items.insert(ObjectId::Index(i.name.clone()), create_index(i));
    }
    // `REPLICA IDENTITY USING INDEX` goes with the index (or its constraint).
    for t in schema.tables.values() {
        if let crate::model::ReplicaIdentity::Index(index) = &t.replica_identity {
            let qualified = crate::model::QualifiedName::new(t.name.schema.clone(), index);
            let key = match tables::creating_constraint(schema, &t.name, index) {
                Some((table, name)) => ObjectId::Constraint(table, name),
                None => ObjectId::Index(qualified),
            };
            if let Some(text) = items.get_mut(&key) {
                text.append(tables::replica_identity(&t.name, &t.replica_identity));
            }
        }
    }
    for s in schema.statistics.values() {
        items.insert(ObjectId::Statistics(s.name.clone()), create_statistics(s));
    }
    for v in schema.views.values() {
        items.insert(ObjectId::View(v.name.clone()), create_view(v));
    }
    for (k, t) in &schema.triggers {
        items.insert(ObjectId::Trigger(k.clone()), create_trigger(t));
    }
    for (k, p) in &schema.policies {
        items.insert(ObjectId::Policy(k.clone()), create_policy(p));
    }

    // Dependencies between items: sub-objects folded into the item that creates them.
    // Hashed, not B-tree, lookups: a dump asks them for every dependency of the schema.
    let keys: FxHashSet<&ObjectId> = items.keys().collect();
    let mut deps: FxHashMap<&ObjectId, Vec<&ObjectId>> = FxHashMap::default();
    for (from, tos) in &schema.dependencies {
        let Some(&f) = keys.get(&item_of(from, schema)) else {
            continue;
        };
        for to in tos {
            if let Some(&t) = keys.get(&item_of(to, schema)) {
                if f != t {
                    deps.entry(f).or_default().push(t);
                }
            }
        }
    }
    let ids: Vec<&ObjectId> = items.keys().collect();
    let creates: Vec<Item<&ObjectId, (String, u8)>> = ids
        .iter()
        .map(|&id| Item {
            object: id,
            step: Step::Create,
            rank: (schema_of(id, schema), rank(id, Step::Create)),
        })
        .collect();
    let (order, _) =
        order::order(&creates, &Deps::new(), &deps, &[]).map_err(|cycle| CycleError {
            objects: cycle.objects(),
        })?;
    let mut out: Vec<(ObjectId, String)> = order
        .into_iter()
        .map(|i| (ids[i].clone(), items[ids[i]].to_string()))
        .collect();
    for s in schema.sequences.values() {
        if let Some(sql) = sequence_owned_by(s) {
            out.push((ObjectId::Sequence(s.name.clone()), sql.to_string()));
        }
    }
    let defaults = default_privileges(&schema.default_privileges);
    if !defaults.is_empty() {
        let id = ObjectId::Schema(Default::default());
        out.push((id, defaults.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ddl::tables::tests::{column, table};
    use crate::model::*;

    fn fk(name: &str, to: &QualifiedName) -> Constraint {
        Constraint {
            name: name.into(),
            kind: ConstraintKind::ForeignKey,
            definition: format!("FOREIGN KEY (r) REFERENCES {to}(id)"),
            columns: vec!["r".into()],
            references: Some(to.clone()),
            validated: true,
            deferrable: false,
            initially_deferred: false,
            local: true,
            comment: None,
            index_options: Vec::new(),
            index_parent: None,
        }
    }

    fn ns(name: &str) -> Namespace {
        Namespace {
            name: name.into(),
            owner: None,
            comment: None,
            grants: Grants::new(),
        }
    }

    fn dep(s: &mut Schema, from: ObjectId, to: ObjectId) {
        s.dependencies.insert(from, to);
    }

    /// Two tables whose foreign keys point at each other, and a view over one of them
    /// in a schema that sorts first.
    fn cyclic() -> Schema {
        let (a, b) = (QualifiedName::new("s", "a"), QualifiedName::new("s", "b"));
        let mut s = Schema::default();
        s.schemas.insert("s".into(), ns("s"));
        s.schemas.insert("early".into(), ns("early"));
        for (me, other) in [(&a, &b), (&b, &a)] {
            let mut t = table("s", &me.name, vec![column("id", "int"), column("r", "int")]);
            let c = fk(&format!("{}_r", me.name), other);
            t.constraints.insert(c.name.clone(), c);
            s.tables.insert(me.clone(), t);
            dep(
                &mut s,
                ObjectId::Table(me.clone()),
                ObjectId::Schema("s".into()),
            );
            dep(
                &mut s,
                ObjectId::Constraint(me.clone(), format!("{}_r", me.name).into()),
                ObjectId::Table(other.clone()),
            );
        }
        let v = QualifiedName::new("early", "v");
        s.views.insert(
            v.clone(),
            View {
                name: v.clone(),
                materialized: false,
                definition: " SELECT a.id FROM s.a".into(),
                options: vec![],
                populated: Default::default(),
                owner: None,
                comment: None,
                column_comments: Default::default(),
                grants: Grants::new(),
            },
        );
        dep(
            &mut s,
            ObjectId::View(v.clone()),
            ObjectId::Column(a.clone(), "id".into()),
        );
        dep(&mut s, ObjectId::View(v), ObjectId::Schema("early".into()));
        s
    }

    #[test]
    fn tables_come_before_their_foreign_keys_and_views_after_their_tables() {
        let order: Vec<String> = create_statements(&cyclic())
            .unwrap()
            .into_iter()
            .map(|(id, _)| id.to_string())
            .collect();
        assert_eq!(
            order,
            [
                "schema early",
                "schema s",
                "table s.a",
                "view early.v",
                "table s.b",
                "constraint a_r ON s.a",
                "constraint b_r ON s.b",
            ]
        );
    }

    #[test]
    fn the_order_is_stable() {
        let s = cyclic();
        assert_eq!(
            create_statements(&s).unwrap(),
            create_statements(&s.clone()).unwrap()
        );
    }

    #[test]
    fn a_cycle_other_than_foreign_keys_is_an_error_naming_the_objects() {
        let mut s = cyclic();
        let (a, b) = (QualifiedName::new("s", "a"), QualifiedName::new("s", "b"));
        dep(
            &mut s,
            ObjectId::Table(a.clone()),
            ObjectId::Table(b.clone()),
        );
        dep(&mut s, ObjectId::Table(b), ObjectId::Table(a));
        let e = create_statements(&s).unwrap_err();
        // Only the cycle: not the view and the foreign keys waiting behind it.
        assert_eq!(e.objects, "table s.a, table s.b");
    }
}
