//! Index and key/foreign-key constraint definitions, written in the client exactly as
//! `pg_get_indexdef` and `pg_get_constraintdef` print them, from catalog columns the queries
//! read anyway. In a new backend each of those functions misses the catalog caches several
//! times per object: at 1,000 tables they were a third of the server's share of a read.
//!
//! Only the plain shapes are written here: plain columns, default operator classes and
//! collations, built-in access methods. Anything else (expressions, predicates, storage
//! options, a column of a table not read) answers `None`, and its definition comes from the
//! server's own deparser (`sql::DEFINITIONS`). The introspection test checks every definition
//! of its corpus against the server's.

use super::depend::Oids;
use super::row::{CatalogRow, Fields};
use super::CatalogError;
use crate::model::{quote_ident, Name, QualifiedName, Schema};
use std::collections::HashMap;

const TEXT: u32 = 25;
const VARCHAR: u32 = 1043;
/// `indoption` bits (pg_index.h).
const DESC: i16 = 1;
const NULLS_FIRST: i16 = 2;

/// What an index column is written against: each table column's type and collation, and
/// which operator classes are their input type's default.
#[derive(Default)]
pub(super) struct Defaults {
    columns: HashMap<(u32, i16), ColumnType>,
    opclasses: HashMap<u32, Opclass>,
}

#[derive(Clone, Copy)]
struct ColumnType {
    type_oid: u32,
    collation: u32,
}

struct Opclass {
    default: bool,
    input_type: u32,
}

impl Defaults {
    pub fn add_column(&mut self, relid: u32, attnum: i16, type_oid: u32, collation: u32) {
        self.columns.insert(
            (relid, attnum),
            ColumnType {
                type_oid,
                collation,
            },
        );
    }

    pub fn add_opclass(&mut self, row: &CatalogRow) {
        self.opclasses.insert(
            row.get("oid"),
            Opclass {
                default: row.get("opcdefault"),
                input_type: row.get("opcintype"),
            },
        );
    }

    /// An index key column needs no operator class in its definition: what
    /// `GetDefaultOpClass` would choose for the column's type (an exact match, or `text_ops`
    /// for varchar). Other cases (domains, arrays, enums) are left to the server.
    fn default_opclass(&self, opclass: u32, column: ColumnType) -> bool {
        self.opclasses.get(&opclass).is_some_and(|o| {
            o.default
                && (o.input_type == column.type_oid
                    || (column.type_oid == VARCHAR && o.input_type == TEXT))
        })
    }
}

/// `pg_get_constraintdef` of a primary key, unique or foreign key constraint (its row of
/// `sql::constraints`), or `None` when the server must write it.
pub(super) fn constraint(row: &CatalogRow, oids: &Oids) -> Option<String> {
    let relid: u32 = row.get("conrelid");
    let mut text = match row.get::<&str>("contype") {
        "p" => key_constraint("PRIMARY KEY", row, relid, oids)?,
        "u" => key_constraint("UNIQUE", row, relid, oids)?,
        "f" => foreign_key(row, relid, oids)?,
        _ => return None,
    };
    if row.get("condeferrable") {
        text.push_str(" DEFERRABLE");
    }
    if row.get("condeferred") {
        text.push_str(" INITIALLY DEFERRED");
    }
    if !row.get::<bool>("convalidated") {
        text.push_str(" NOT VALID");
    }
    Some(text)
}

fn key_constraint(keyword: &str, row: &CatalogRow, relid: u32, oids: &Oids) -> Option<String> {
    let keys: Vec<i16> = row.get("conkey");
    let index_columns: Vec<i16> = row.get::<Option<_>>("index_columns")?;
    let key_count: i16 = row.get::<Option<_>>("index_key_count")?;
    let nulls = if row.get::<Option<bool>>("nulls_not_distinct")? {
        "NULLS NOT DISTINCT "
    } else {
        ""
    };
    Some(format!(
        "{keyword} {nulls}({}){}{}",
        column_list(oids, relid, &keys)?,
        include(
            oids,
            relid,
            &index_columns,
            usize::try_from(key_count).ok()?
        )?,
        crate::model::storage_parameters_clause(&index_options(row))
    ))
}

/// The storage parameters of a key constraint's index (`pg_class.reloptions`, `name=value`).
pub(super) fn index_options(row: &CatalogRow) -> Vec<String> {
    row.get::<Option<Vec<String>>>("index_options")
        .unwrap_or_default()
}

fn foreign_key(row: &CatalogRow, relid: u32, oids: &Oids) -> Option<String> {
    let keys: Vec<i16> = row.get("conkey");
    let referenced: Vec<i16> = row.get("confkey");
    let ref_relid: u32 = row.get("confrelid");
    let mut text = format!(
        "FOREIGN KEY ({}) REFERENCES {}.{}({})",
        column_list(oids, relid, &keys)?,
        quote_ident(row.get("ref_schema")),
        quote_ident(row.get("ref_table")),
        column_list(oids, ref_relid, &referenced)?,
    );
    match row.get::<&str>("match_type") {
        "s" => {}
        "f" => text.push_str(" MATCH FULL"),
        "p" => text.push_str(" MATCH PARTIAL"),
        _ => return None,
    }
    if let Some(action) = referential_action(row.get("on_update"))? {
        text.push_str(&format!(" ON UPDATE {action}"));
    }
    if let Some(action) = referential_action(row.get("on_delete"))? {
        text.push_str(&format!(" ON DELETE {action}"));
        let set_columns: Option<Vec<i16>> = row.get("on_delete_columns");
        if let Some(set_columns) = set_columns.filter(|c| !c.is_empty()) {
            text.push_str(&format!(" ({})", column_list(oids, relid, &set_columns)?));
        }
    }
    Some(text)
}

/// `Some(None)` for NO ACTION, which is not printed; `None` for a code not known here.
fn referential_action(code: &str) -> Option<Option<&'static str>> {
    Some(match code {
        "a" => None,
        "r" => Some("RESTRICT"),
        "c" => Some("CASCADE"),
        "n" => Some("SET NULL"),
        "d" => Some("SET DEFAULT"),
        _ => return None,
    })
}

/// `pg_get_indexdef` of an index (its row of `sql::INDEXES`) whose `definition` the query left
/// NULL (no expressions, predicate or storage options, a built-in access method), or `None`
/// when the server must write it after all.
pub(super) fn index(row: &CatalogRow, oids: &Oids, defaults: &Defaults) -> Option<String> {
    let relid: u32 = row.get("indrelid");
    let columns: Vec<i16> = row.get("index_columns");
    let key_count = usize::try_from(row.get::<i16>("index_key_count")).ok()?;
    let options: Vec<i16> = row.get("index_options");
    let collations: Vec<u32> = row.get("index_collations");
    let opclasses: Vec<u32> = row.get("index_opclasses");
    let method: &str = row.get("access_method");
    let mut keys = Vec::with_capacity(key_count);
    for (k, attnum) in columns.iter().take(key_count).enumerate() {
        let column = *defaults.columns.get(&(relid, *attnum))?;
        let collation = *collations.get(k)?;
        if (collation != 0 && collation != column.collation)
            || !defaults.default_opclass(*opclasses.get(k)?, column)
        {
            return None;
        }
        let mut key = column_list(oids, relid, &[*attnum])?;
        key.push_str(order(method, *options.get(k)?)?);
        keys.push(key);
    }
    let included = include(oids, relid, &columns, key_count)?;
    let unique = if row.get("indisunique") {
        "UNIQUE "
    } else {
        ""
    };
    let only = if row.get::<&str>("index_kind") == "I" {
        "ONLY "
    } else {
        ""
    };
    let mut text = format!(
        "CREATE {unique}INDEX {} ON {only}{}.{} USING {} ({}){included}",
        quote_ident(row.get("relname")),
        quote_ident(row.get("nspname")),
        quote_ident(row.get("table_name")),
        quote_ident(method),
        keys.join(", "),
    );
    if row.get("nulls_not_distinct") {
        text.push_str(" NULLS NOT DISTINCT");
    }
    Some(text)
}

/// DESC / NULLS FIRST / NULLS LAST as printed for an ordered (btree) index column.
fn order(method: &str, option: i16) -> Option<&'static str> {
    if method != "btree" {
        return (option == 0).then_some("");
    }
    Some(match (option & DESC != 0, option & NULLS_FIRST != 0) {
        (true, true) => " DESC",
        (true, false) => " DESC NULLS LAST",
        (false, true) => " NULLS FIRST",
        (false, false) => "",
    })
}

/// ` INCLUDE (...)` for an index's columns past its `key_count` key columns, if any.
fn include(oids: &Oids, relid: u32, columns: &[i16], key_count: usize) -> Option<String> {
    match columns.get(key_count..)? {
        [] => Some(String::new()),
        included => Some(format!(
            " INCLUDE ({})",
            column_list(oids, relid, included)?
        )),
    }
}

fn column_list(oids: &Oids, relid: u32, attnums: &[i16]) -> Option<String> {
    let names = oids.column_names(relid, attnums).ok()?;
    let quoted: Vec<String> = names.into_iter().map(quote_ident).collect();
    Some(quoted.join(", "))
}

/// Definitions left to the server's deparser: asked for in one more query, only when any.
#[derive(Default)]
pub(super) struct Left {
    indexes: Vec<(u32, QualifiedName)>,
    constraints: Vec<(u32, QualifiedName, Name)>,
}

impl Left {
    pub fn index(&mut self, oid: u32, name: &QualifiedName) {
        self.indexes.push((oid, name.clone()));
    }

    pub fn constraint(&mut self, oid: u32, table: &QualifiedName, name: &Name) {
        self.constraints.push((oid, table.clone(), name.clone()));
    }

    pub fn is_empty(&self) -> bool {
        self.indexes.is_empty() && self.constraints.is_empty()
    }

    pub fn index_oids(&self) -> Vec<u32> {
        self.indexes.iter().map(|(oid, _)| *oid).collect()
    }

    pub fn constraint_oids(&self) -> Vec<u32> {
        self.constraints.iter().map(|(oid, ..)| *oid).collect()
    }

    /// Puts the server's definitions (rows of `sql::DEFINITIONS`) in the model.
    pub fn fill(self, schema: &mut Schema, rows: &[CatalogRow]) -> Result<(), CatalogError> {
        let mut written: HashMap<(&str, u32), Option<String>> = rows
            .iter()
            .map(|r| ((r.get("kind"), r.get("oid")), r.get("definition")))
            .collect();
        let mut take = |kind: &'static str, oid: u32, what: String| {
            written
                .get_mut(&(kind, oid))
                .and_then(Option::take)
                .ok_or(CatalogError::Changed(what))
        };
        for (oid, name) in self.indexes {
            let definition = take("index", oid, format!("index {name}"))?;
            if let Some(index) = schema.indexes.get_mut(&name) {
                index.definition = definition;
            }
        }
        for (oid, table, name) in self.constraints {
            let definition = take("constraint", oid, format!("constraint {name} on {table}"))?;
            if let Some(c) = schema
                .tables
                .get_mut(&table)
                .and_then(|t| t.constraints.get_mut(&name))
            {
                c.definition = definition;
            }
        }
        Ok(())
    }
}
