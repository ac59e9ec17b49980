//! Catalog rows → model values. OIDs are used here only to join rows and resolve
//! dependencies; none reaches the model.

use super::deparse::{self, Left};
use super::depend::{self, Catalog, Oids};
use super::row::{CatalogRow, Fields};
use super::settle::{settled, settled_opt, Style};
use super::CatalogError;
use crate::model::*;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, HashMap};
use tokio_postgres::Row;

pub(super) struct Rows {
    pub namespaces: Vec<CatalogRow>,
    pub extensions: Vec<CatalogRow>,
    pub collations: Vec<CatalogRow>,
    pub types: Vec<CatalogRow>,
    pub sequences: Vec<CatalogRow>,
    pub tables: Vec<CatalogRow>,
    pub columns: Vec<ColumnRow>,
    pub constraints: Vec<CatalogRow>,
    pub indexes: Vec<CatalogRow>,
    pub opclasses: Vec<CatalogRow>,
    pub views: Vec<CatalogRow>,
    pub functions: Vec<CatalogRow>,
    pub triggers: Vec<CatalogRow>,
    pub policies: Vec<CatalogRow>,
    pub statistics: Vec<CatalogRow>,
    pub default_privileges: Vec<CatalogRow>,
    pub dependencies: Vec<depend::DependRow>,
}

fn json<T: DeserializeOwned + Default>(row: &impl Fields, column: &str) -> Result<T, CatalogError> {
    let value: Option<serde_json::Value> = row.get(column);
    match value {
        None | Some(serde_json::Value::Null) => Ok(T::default()),
        Some(v) => serde_json::from_value(v)
            .map_err(|e| CatalogError::Unexpected(format!("column {column}: {e}"))),
    }
}

fn grants(row: &impl Fields) -> Result<Grants, CatalogError> {
    let list: Vec<Grant> = json(row, "acl")?;
    Ok(list.into_iter().collect())
}

/// Text the server deparsed for an object of the snapshot. The deparse functions read the
/// latest catalog: NULL means the object was dropped after the snapshot was taken, and the
/// read starts over (`introspect`).
fn deparsed(
    row: &CatalogRow,
    column: &str,
    what: impl FnOnce() -> String,
) -> Result<String, CatalogError> {
    row.get::<Option<String>>(column)
        .ok_or_else(|| CatalogError::Changed(what()))
}

/// `deparsed` for text only some objects have (`present` says whether this one does).
fn deparsed_if(
    present: bool,
    row: &CatalogRow,
    column: &str,
    what: impl FnOnce() -> String,
) -> Result<Option<String>, CatalogError> {
    present.then(|| deparsed(row, column, what)).transpose()
}

fn owner(row: &CatalogRow, owners: bool) -> Option<String> {
    owners.then(|| row.get("owner"))
}

fn qn(row: &CatalogRow, schema: &str, name: &str) -> QualifiedName {
    QualifiedName::new(ident(row, schema), ident(row, name))
}

/// A name column, read without an intermediate `String` (most names are stored inline).
fn ident(row: &impl Fields, column: &str) -> Name {
    Name::new(row.get::<&str>(column))
}

/// The names the model gives a foreign key's copies for the partitions of the partitioned
/// table it references: `key@schema.partition`, after the declared key they come from.
///
/// PostgreSQL keeps such a copy on the key's own table (`conparentid` set, same `conrelid`)
/// for every partition, at any depth, and names it `t_a_fkey1`, `t_a_fkey2`, ... in the
/// order the partitions were attached. A target whose partition was attached after the key
/// and its shadow (loaded in dependency order) would otherwise hold the same copies under
/// each other's names, and never compare equal.
fn referenced_partition_copy_names(rows: &[CatalogRow]) -> HashMap<u32, Name> {
    struct Key<'r> {
        table: u32,
        parent: u32,
        name: &'r str,
        foreign: bool,
    }
    let keys: HashMap<u32, Key> = rows
        .iter()
        .map(|row| {
            let key = Key {
                table: row.get("conrelid"),
                parent: row.get("conparentid"),
                name: row.get("conname"),
                foreign: row.get::<&str>("contype") == "f",
            };
            (row.get::<u32>("oid"), key)
        })
        .collect();
    let copy_parent = |key: &Key| {
        keys.get(&key.parent)
            .filter(|parent| key.foreign && parent.table == key.table)
    };
    let mut out = HashMap::new();
    for row in rows {
        let Some(mut root) = keys.get(&row.get::<u32>("oid")).and_then(&copy_parent) else {
            continue;
        };
        let mut depth = 0;
        while let Some(parent) = copy_parent(root).filter(|_| depth < keys.len()) {
            root = parent;
            depth += 1;
        }
        let Some(schema) = row.get::<Option<&str>>("ref_schema") else {
            continue;
        };
        let table: &str = row.get("ref_table");
        let name = format!("{}@{schema}.{table}", root.name);
        out.insert(row.get::<u32>("oid"), Name::new(&name));
    }
    out
}

#[derive(serde::Deserialize, Default)]
struct OwnedBy {
    schema: Name,
    table: Name,
    column: Name,
    identity: bool,
}

#[derive(serde::Deserialize)]
struct CheckRow {
    oid: u32,
    name: Name,
    definition: Option<String>,
    validated: bool,
    comment: Option<String>,
}

/// One row of `sql::columns`, taken as it arrives (`Queries::each`): held as `Row`s until
/// the model was built, the columns' rows were the largest part of the read (a 24-byte range
/// per field besides the text, about 9 MB at 1,000 tables `wide`). The column's own fields
/// are read here and move into the model; `build` fills in its default, generation
/// expression and identity, which need the tables and sequences.
pub(super) struct ColumnRow {
    relid: u32,
    attnum: i16,
    type_oid: u32,
    collation_oid: u32,
    default_oid: Option<u32>,
    /// `attidentity`: `a`, `d` or none.
    identity_kind: u8,
    /// `attgenerated`: `s`, `v` or none.
    generated_kind: u8,
    /// The default or generation expression (NULL when it was dropped after the snapshot).
    expr: Option<String>,
    column: Column,
}

/// An empty `"char"` column (`attidentity`, `attgenerated`).
const NONE: u8 = 0;

impl ColumnRow {
    pub fn new(row: &Row) -> Result<ColumnRow, CatalogError> {
        let kind = |column: &str| row.get::<_, &str>(column).bytes().next().unwrap_or(NONE);
        Ok(ColumnRow {
            relid: row.get("attrelid"),
            attnum: row.get("attnum"),
            type_oid: row.get("atttypid"),
            collation_oid: row.get("attcollation"),
            default_oid: row.get("default_oid"),
            identity_kind: kind("identity"),
            generated_kind: kind("generated"),
            expr: settled_opt(row.get("default_expr"), Style::Plain),
            column: Column {
                name: ident(row, "attname"),
                data_type: row.get("data_type"),
                collation: row.get("collation"),
                default: None,
                not_null: row.get("attnotnull"),
                identity: None,
                generated_virtual: false,
                generated: None,
                local: row.get("attislocal"),
                comment: row.get("comment"),
                grants: grants(row)?,
            },
        })
    }
}

/// The model, and the definitions the client could not write (`deparse.rs`).
///
/// Each kind's rows are taken by value, so a row is freed once read: the model grows while
/// the rows shrink, instead of on top of all of them (at 1,000 tables `wide`, the columns'
/// rows alone are about 9 MB).
pub(super) fn build(mut rows: Rows, owners: bool) -> Result<(Schema, Left), CatalogError> {
    let mut schema = Schema::default();
    let mut oids = Oids::default();
    let mut defaults = deparse::Defaults::default();
    let mut left = Left::default();
    for row in std::mem::take(&mut rows.opclasses) {
        let row = &row;
        defaults.add_opclass(row);
    }

    for row in std::mem::take(&mut rows.namespaces) {
        let row = &row;
        let name = ident(row, "nspname");
        oids.add(
            Catalog::Namespace,
            row.get("oid"),
            ObjectId::Schema(name.clone()),
        );
        schema.schemas.insert(
            name.clone(),
            Namespace {
                name,
                owner: owner(row, owners),
                comment: row.get("comment"),
                grants: grants(row)?,
            },
        );
    }

    for row in std::mem::take(&mut rows.extensions) {
        let row = &row;
        let name = ident(row, "extname");
        oids.add(
            Catalog::Extension,
            row.get("oid"),
            ObjectId::Extension(name.clone()),
        );
        schema.extensions.insert(
            name.clone(),
            Extension {
                name,
                schema: ident(row, "nspname"),
                version: row.get("extversion"),
                comment: row.get("comment"),
            },
        );
    }

    for row in std::mem::take(&mut rows.collations) {
        let row = &row;
        let name = qn(row, "nspname", "collname");
        oids.add(
            Catalog::Collation,
            row.get("oid"),
            ObjectId::Collation(name.clone()),
        );
        schema.collations.insert(
            name.clone(),
            Collation {
                name,
                provider: row.get("provider"),
                lc_collate: row.get("lc_collate"),
                lc_ctype: row.get("lc_ctype"),
                locale: row.get("locale"),
                rules: row.get("rules"),
                deterministic: row.get("deterministic"),
                owner: owner(row, owners),
                comment: row.get("comment"),
            },
        );
    }

    for row in std::mem::take(&mut rows.types) {
        let row = &row;
        let name = qn(row, "nspname", "typname");
        let id = ObjectId::Type(name.clone());
        oids.add(Catalog::Type, row.get("oid"), id.clone());
        oids.add(Catalog::Type, row.get("typarray"), id.clone());
        let typrelid: u32 = row.get("typrelid");
        if typrelid != 0 {
            oids.add(Catalog::Class, typrelid, id.clone());
            oids.relation_columns_collapse(typrelid, id.clone());
        }
        let typtype: String = row.get("typtype");
        let kind = match typtype.as_str() {
            "e" => TypeKind::Enum(json(row, "labels")?),
            "c" => {
                #[derive(serde::Deserialize)]
                struct Attr {
                    name: String,
                    data_type: String,
                    collation: Option<String>,
                }
                let attrs: Vec<Attr> = json(row, "attributes")?;
                TypeKind::Composite(
                    attrs
                        .into_iter()
                        .map(|a| CompositeAttribute {
                            name: a.name,
                            data_type: a.data_type,
                            collation: a.collation,
                        })
                        .collect(),
                )
            }
            "d" => {
                let checks: Vec<CheckRow> = json(row, "checks")?;
                let mut map = BTreeMap::new();
                for c in checks {
                    oids.add(
                        Catalog::Constraint,
                        c.oid,
                        ObjectId::Constraint(name.clone(), c.name.clone()),
                    );
                    let definition = c.definition.ok_or_else(|| {
                        CatalogError::Changed(format!("constraint {} on domain {name}", c.name))
                    })?;
                    let definition = settled(definition, Style::Plain);
                    map.insert(
                        c.name,
                        DomainCheck {
                            definition,
                            validated: c.validated,
                            comment: c.comment,
                        },
                    );
                }
                TypeKind::Domain(Domain {
                    base_type: row.get("base_type"),
                    collation: row.get("domain_collation"),
                    default: settled_opt(row.get("domain_default"), Style::Plain),
                    not_null: row.get("typnotnull"),
                    checks: map,
                })
            }
            "r" => TypeKind::Range(Range {
                subtype: row.get("subtype"),
                subtype_opclass: row.get("subtype_opclass"),
                collation: row.get("range_collation"),
                canonical: row.get("canonical"),
                subtype_diff: row.get("subtype_diff"),
                multirange: row.get("multirange"),
            }),
            other => {
                return Err(CatalogError::Unexpected(format!(
                    "type {name} of typtype {other}"
                )))
            }
        };
        schema.types.insert(
            name.clone(),
            TypeDef {
                name,
                kind,
                owner: owner(row, owners),
                comment: row.get("comment"),
                grants: grants(row)?,
            },
        );
    }

    // Identity sequences become part of their column.
    let mut identity_sequences: HashMap<(QualifiedName, Name), (QualifiedName, SequenceOptions)> =
        HashMap::new();
    for row in std::mem::take(&mut rows.sequences) {
        let row = &row;
        let name = qn(row, "nspname", "relname");
        let options = SequenceOptions {
            data_type: row.get("data_type"),
            start: row.get("seqstart"),
            increment: row.get("seqincrement"),
            min_value: row.get("seqmin"),
            max_value: row.get("seqmax"),
            cache: row.get("seqcache"),
            cycle: row.get("seqcycle"),
        };
        let owned: Option<OwnedBy> = json::<Option<OwnedBy>>(row, "owned_by")?;
        if let Some(o) = &owned {
            if o.identity {
                let table = QualifiedName::new(o.schema.clone(), o.table.clone());
                oids.add(
                    Catalog::Class,
                    row.get("oid"),
                    ObjectId::Column(table.clone(), o.column.clone()),
                );
                identity_sequences.insert((table, o.column.clone()), (name, options));
                continue;
            }
        }
        oids.add(
            Catalog::Class,
            row.get("oid"),
            ObjectId::Sequence(name.clone()),
        );
        schema.sequences.insert(
            name.clone(),
            Sequence {
                name,
                options,
                owned_by: owned.map(|o| (QualifiedName::new(o.schema, o.table), o.column)),
                unlogged: row.get("unlogged"),
                owner: owner(row, owners),
                comment: row.get("comment"),
                grants: grants(row)?,
            },
        );
    }

    let mut table_by_oid: HashMap<u32, QualifiedName> = HashMap::new();
    for row in std::mem::take(&mut rows.tables) {
        let row = &row;
        let name = qn(row, "nspname", "relname");
        let oid: u32 = row.get("oid");
        oids.add(Catalog::Class, oid, ObjectId::Table(name.clone()));
        oids.add(
            Catalog::Type,
            row.get("reltype"),
            ObjectId::Table(name.clone()),
        );
        table_by_oid.insert(oid, name.clone());
        let parents: Vec<(String, String)> = json(row, "parents")?;
        let parents: Vec<QualifiedName> = parents
            .into_iter()
            .map(|(s, n)| QualifiedName::new(s, n))
            .collect();
        let is_partition: bool = row.get("relispartition");
        let (partition_of, inherits) = if is_partition {
            let parent = parents.into_iter().next().ok_or_else(|| {
                CatalogError::Unexpected(format!("partition {name} without a parent"))
            })?;
            (
                Some(PartitionOf {
                    parent,
                    bound: deparsed(row, "bound", || format!("partition {name}"))?,
                }),
                vec![],
            )
        } else {
            (None, parents)
        };
        let relkind: String = row.get("relkind");
        let partition_by = deparsed_if(relkind == "p", row, "partition_by", || {
            format!("table {name}")
        })?;
        schema.tables.insert(
            name.clone(),
            Table {
                name,
                columns: SortedMap::new(),
                column_order: ColumnOrder::default(),
                constraints: SortedMap::new(),
                unlogged: row.get("unlogged"),
                partition_by,
                partition_of,
                inherits,
                options: row.get("options"),
                rls_enabled: row.get("relrowsecurity"),
                rls_forced: row.get("relforcerowsecurity"),
                replica_identity: replica_identity(row),
                owner: owner(row, owners),
                comment: row.get("comment"),
                grants: grants(row)?,
            },
        );
    }

    let mut view_by_oid: HashMap<u32, QualifiedName> = HashMap::new();
    for row in std::mem::take(&mut rows.views) {
        let row = &row;
        let name = qn(row, "nspname", "relname");
        let oid: u32 = row.get("oid");
        oids.add(Catalog::Class, oid, ObjectId::View(name.clone()));
        oids.add(
            Catalog::Type,
            row.get("reltype"),
            ObjectId::View(name.clone()),
        );
        oids.relation_columns_collapse(oid, ObjectId::View(name.clone()));
        if let Some(rule) = row.get::<Option<u32>>("rule") {
            oids.add(Catalog::Rewrite, rule, ObjectId::View(name.clone()));
        }
        view_by_oid.insert(oid, name.clone());
        let definition = deparsed(row, "definition", || format!("view {name}"))?;
        let definition = settled(definition, Style::Pretty);
        schema.views.insert(
            name.clone(),
            View {
                name,
                materialized: row.get("materialized"),
                definition: definition.trim_end().trim_end_matches(';').to_string(),
                options: row.get("options"),
                populated: Populated(row.get("relispopulated")),
                owner: owner(row, owners),
                comment: row.get("comment"),
                column_comments: BTreeMap::new(),
                grants: grants(row)?,
            },
        );
    }

    for row in std::mem::take(&mut rows.columns) {
        let ColumnRow {
            relid,
            attnum,
            type_oid,
            collation_oid,
            default_oid,
            identity_kind,
            generated_kind,
            expr,
            mut column,
        } = row;
        let name = column.name.clone();
        if let Some(view) = view_by_oid.get(&relid) {
            if let Some(oid) = default_oid {
                oids.add(Catalog::Attrdef, oid, ObjectId::View(view.clone()));
            }
            if let Some(comment) = column.comment {
                let v = schema.views.get_mut(view).expect("view read above");
                v.column_comments.insert(name.to_string(), comment);
            }
            continue;
        }
        let Some(table_name) = table_by_oid.get(&relid) else {
            continue; // a relation that belongs to an extension
        };
        let column_id = ObjectId::Column(table_name.clone(), name.clone());
        if let Some(oid) = default_oid {
            oids.add(Catalog::Attrdef, oid, column_id.clone());
        }
        oids.add_column(relid, attnum, column_id);
        defaults.add_column(relid, attnum, type_oid, collation_oid);
        let expr = match (default_oid, expr) {
            (None, _) => None,
            (Some(_), Some(expr)) => Some(expr),
            (Some(_), None) => {
                return Err(CatalogError::Changed(format!(
                    "the default of {table_name}.{name}"
                )))
            }
        };
        let own_sequence = identity_sequences.remove(&(table_name.clone(), name.clone()));
        // PostgreSQL 17+: a partition's column shows its parent's identity (and uses the
        // parent's sequence); it comes with PARTITION OF, so the model leaves it to the parent.
        let inherited_identity =
            own_sequence.is_none() && schema.tables[table_name].partition_of.is_some();
        column.identity = if identity_kind == NONE || inherited_identity {
            None
        } else {
            let (sequence, options) = own_sequence.ok_or_else(|| {
                CatalogError::Unexpected(format!(
                    "identity column {table_name}.{name} without its sequence"
                ))
            })?;
            Some(Box::new(Identity {
                always: identity_kind == b'a',
                sequence,
                options,
            }))
        };
        (column.default, column.generated) = if generated_kind == NONE {
            (expr, None)
        } else {
            (None, expr)
        };
        column.generated_virtual = generated_kind == b'v';
        let table = schema.tables.get_mut(table_name).expect("table read above");
        table.column_order.0.push(name.clone());
        table.columns.insert(name, column);
    }

    let copy_names = referenced_partition_copy_names(&rows.constraints);
    for row in std::mem::take(&mut rows.constraints) {
        let row = &row;
        let relid: u32 = row.get("conrelid");
        let Some(table_name) = table_by_oid.get(&relid) else {
            continue;
        };
        let name = match copy_names.get(&row.get::<u32>("oid")) {
            Some(canonical) => canonical.clone(),
            None => ident(row, "conname"),
        };
        let id = ObjectId::Constraint(table_name.clone(), name.clone());
        oids.add(Catalog::Constraint, row.get("oid"), id.clone());
        let indid: u32 = row.get("conindid");
        let contype: String = row.get("contype");
        if indid != 0 && contype != "f" {
            oids.add(Catalog::Class, indid, id.clone());
        }
        let kind = match contype.as_str() {
            "c" => ConstraintKind::Check,
            "p" => ConstraintKind::PrimaryKey,
            "u" => ConstraintKind::Unique,
            "f" => ConstraintKind::ForeignKey,
            _ => ConstraintKind::Exclusion,
        };
        let references = row
            .get::<Option<String>>("ref_schema")
            .map(|s| QualifiedName::new(s, ident(row, "ref_table")));
        let definition = settled_opt(row.get("definition"), Style::Plain)
            .or_else(|| deparse::constraint(row, &oids))
            .unwrap_or_else(|| {
                left.constraint(row.get("oid"), table_name, &name);
                String::new()
            });
        let constraint = Constraint {
            name: name.clone(),
            kind,
            definition,
            columns: constraint_columns(row, relid, &oids)?,
            references,
            validated: row.get("convalidated"),
            deferrable: row.get("condeferrable"),
            initially_deferred: row.get("condeferred"),
            local: row.get("local"),
            comment: row.get("comment"),
            index_options: deparse::index_options(row),
            index_parent: json::<Option<(String, String)>>(row, "index_parent")?
                .map(|(s, n)| QualifiedName::new(s, n)),
        };
        let table = schema.tables.get_mut(table_name).expect("table read above");
        table.constraints.insert(name, constraint);
    }
    for table in schema.tables.values_mut() {
        table.columns.shrink_to_fit();
        table.column_order.0.shrink_to_fit();
        table.constraints.shrink_to_fit();
    }

    for row in std::mem::take(&mut rows.indexes) {
        let row = &row;
        let relid: u32 = row.get("indrelid");
        let table = match (table_by_oid.get(&relid), view_by_oid.get(&relid)) {
            (Some(t), _) | (None, Some(t)) => t.clone(),
            (None, None) => continue,
        };
        let name = qn(row, "nspname", "relname");
        oids.add(
            Catalog::Class,
            row.get("indexrelid"),
            ObjectId::Index(name.clone()),
        );
        let parent: Option<(String, String)> = json(row, "parent")?;
        let definition = settled_opt(row.get("definition"), Style::Plain)
            .or_else(|| deparse::index(row, &oids, &defaults))
            .unwrap_or_else(|| {
                left.index(row.get("indexrelid"), &name);
                String::new()
            });
        schema.indexes.insert(
            name.clone(),
            Index {
                name,
                table,
                definition,
                unique: row.get("indisunique"),
                parent: parent.map(|(s, n)| QualifiedName::new(s, n)),
                comment: row.get("comment"),
            },
        );
    }

    for row in std::mem::take(&mut rows.functions) {
        let row = &row;
        let name = qn(row, "nspname", "proname");
        let sig = FunctionSig {
            args: deparsed(row, "args", || format!("function {name}"))?.into(),
            name,
        };
        oids.add(
            Catalog::Proc,
            row.get("oid"),
            ObjectId::Function(sig.clone()),
        );
        let prokind: String = row.get("prokind");
        let kind = match prokind.as_str() {
            "p" => FunctionKind::Procedure,
            "a" => FunctionKind::Aggregate,
            "w" => FunctionKind::Window,
            _ => FunctionKind::Function,
        };
        let definition = if kind == FunctionKind::Aggregate {
            aggregate_definition(&sig, row)
        } else {
            // A body in another language is one string token, left alone; a SQL-standard
            // body (`RETURN`, `BEGIN ATOMIC`) and parameter defaults print as expressions.
            let text = deparsed(row, "definition", || format!("function {sig}"))?;
            settled(text.trim_end().to_string(), Style::Plain)
        };
        let returns = deparsed(row, "returns", || format!("function {sig}"))?;
        schema.functions.insert(
            sig.clone(),
            Function {
                sig,
                kind,
                definition,
                returns,
                owner: owner(row, owners),
                comment: row.get("comment"),
                grants: grants(row)?,
            },
        );
    }

    for row in std::mem::take(&mut rows.triggers) {
        let row = &row;
        let table = qn(row, "nspname", "relname");
        let name = ident(row, "tgname");
        let key = SubName::new(table.clone(), name.clone());
        oids.add(
            Catalog::Trigger,
            row.get("oid"),
            ObjectId::Trigger(key.clone()),
        );
        let enabled: String = row.get("enabled");
        let enabled = match enabled.as_str() {
            "D" => TriggerEnabled::Disabled,
            "R" => TriggerEnabled::Replica,
            "A" => TriggerEnabled::Always,
            _ => TriggerEnabled::Origin,
        };
        let definition = deparsed(row, "definition", || format!("trigger {key}"))?;
        let definition = settled(definition, Style::Plain);
        let function_args = deparsed(row, "fn_args", || format!("trigger {key}"))?;
        schema.triggers.insert(
            key,
            Trigger {
                table,
                name,
                definition,
                function: FunctionSig {
                    name: qn(row, "fn_schema", "fn_name"),
                    args: function_args.into(),
                },
                enabled,
                comment: row.get("comment"),
            },
        );
    }

    for row in std::mem::take(&mut rows.policies) {
        let row = &row;
        let table = qn(row, "nspname", "relname");
        let name = ident(row, "polname");
        let key = SubName::new(table.clone(), name.clone());
        oids.add(
            Catalog::Policy,
            row.get("oid"),
            ObjectId::Policy(key.clone()),
        );
        let cmd: String = row.get("cmd");
        let command = match cmd.as_str() {
            "r" => PolicyCommand::Select,
            "a" => PolicyCommand::Insert,
            "w" => PolicyCommand::Update,
            "d" => PolicyCommand::Delete,
            _ => PolicyCommand::All,
        };
        let using = deparsed_if(row.get("has_using"), row, "using_expr", || {
            format!("policy {key}")
        })?;
        let with_check = deparsed_if(row.get("has_check"), row, "check_expr", || {
            format!("policy {key}")
        })?;
        let (using, with_check) = (
            settled_opt(using, Style::Plain),
            settled_opt(with_check, Style::Plain),
        );
        schema.policies.insert(
            key,
            Policy {
                table,
                name,
                permissive: row.get("polpermissive"),
                command,
                roles: json(row, "roles")?,
                using,
                with_check,
                comment: row.get("comment"),
            },
        );
    }

    for row in std::mem::take(&mut rows.statistics) {
        let row = &row;
        let name = qn(row, "nspname", "stxname");
        oids.add(
            Catalog::StatisticExt,
            row.get("oid"),
            ObjectId::Statistics(name.clone()),
        );
        let definition = deparsed(row, "definition", || format!("statistics object {name}"))?;
        let definition = settled(definition, Style::Plain);
        schema.statistics.insert(
            name.clone(),
            Statistics {
                table: qn(row, "table_schema", "table_name"),
                name,
                definition,
                target: row.get("target"),
                owner: owner(row, owners),
                comment: row.get("comment"),
            },
        );
    }

    for row in std::mem::take(&mut rows.default_privileges) {
        let row = &row;
        let objtype: String = row.get("objtype");
        let Some(object_kind) = DefaultObjectKind::from_catalog(&objtype) else {
            continue;
        };
        let role: String = row.get("role");
        let schema_name: Option<String> = row.get("nspname");
        let list: Vec<Grant> = json(row, "acl")?;
        for grant in list {
            schema.default_privileges.insert(DefaultPrivilege {
                role: role.clone(),
                schema: schema_name.clone(),
                object_kind,
                grant,
            });
        }
    }

    schema.dependencies = depend::resolve(std::mem::take(&mut rows.dependencies), oids, &schema);
    Ok((schema, left))
}

/// The columns `conkey` lists, by name (read from the columns already built, not joined again
/// in the catalog query).
fn constraint_columns(
    row: &CatalogRow,
    relid: u32,
    oids: &Oids,
) -> Result<Vec<Name>, CatalogError> {
    let keys: Option<Vec<i16>> = row.get("conkey");
    let names = oids
        .column_names(relid, &keys.unwrap_or_default())
        .map_err(|attnum| {
            CatalogError::Unexpected(format!(
                "constraint {} names column number {attnum}, which was not read",
                row.get::<String>("conname")
            ))
        })?;
    Ok(names.into_iter().map(Name::new).collect())
}

/// `relreplident`, with the index marked `indisreplident` for `i` (none left: as `n`).
fn replica_identity(row: &CatalogRow) -> ReplicaIdentity {
    let kind: String = row.get("replident");
    match kind.as_str() {
        "f" => ReplicaIdentity::Full,
        "n" => ReplicaIdentity::Nothing,
        "i" => row
            .get::<Option<String>>("replident_index")
            .map_or(ReplicaIdentity::Nothing, ReplicaIdentity::Index),
        _ => ReplicaIdentity::Default,
    }
}

/// `CREATE AGGREGATE` from pg_aggregate (pg_get_functiondef does not do aggregates).
fn aggregate_definition(sig: &FunctionSig, row: &CatalogRow) -> String {
    let mut parts = vec![
        format!("SFUNC = {}", row.get::<String>("sfunc")),
        format!("STYPE = {}", row.get::<String>("stype")),
    ];
    if let Some(f) = row.get::<Option<String>>("finalfunc") {
        parts.push(format!("FINALFUNC = {f}"));
    }
    if let Some(f) = row.get::<Option<String>>("combinefunc") {
        parts.push(format!("COMBINEFUNC = {f}"));
    }
    if let Some(v) = row.get::<Option<String>>("initcond") {
        parts.push(format!("INITCOND = {}", quote_literal(&v)));
    }
    if let Some(op) = row.get::<Option<String>>("sortop") {
        // regoperator text is `schema.op(type,type)`: SORTOP wants the operator alone.
        let op = op.split('(').next().unwrap_or(&op).to_string();
        if op.contains('.') {
            parts.push(format!("SORTOP = OPERATOR({op})"));
        } else {
            parts.push(format!("SORTOP = {op}"));
        }
    }
    format!(
        "CREATE AGGREGATE {}({}) (\n    {}\n)",
        sig.name,
        if sig.args.is_empty() { "*" } else { &sig.args },
        parts.join(",\n    ")
    )
}
