//! Naming what differs between two schemas that should be equal: the object (kind and name)
//! and the attribute, for the errors of a plan or run that does not converge. Walks the
//! models' serialisation, so every attribute the fingerprint counts can be named.

use crate::model::Schema;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// At most `limit` lines `view public.mv: definition: "..." in <left>, "..." in <right>`.
pub fn differences(
    left: &Schema,
    right: &Schema,
    names: (&str, &str),
    limit: usize,
) -> Vec<String> {
    let (a, b) = differing_objects(left, right);
    values_differences(&a, &b, names, limit)
}

/// The two models' serialisations, kind by kind, holding only the objects that are not equal
/// in the other model (as `[key, value]` pairs): the errors that call this come when a plan
/// or run does not converge, and at 10,000 tables a `Value` of each whole model took
/// gigabytes. Equal objects give no line either way, so the lines are those of the whole.
fn differing_objects(left: &Schema, right: &Schema) -> (Value, Value) {
    let Schema {
        schemas,
        extensions,
        collations,
        types,
        sequences,
        tables,
        indexes,
        views,
        functions,
        triggers,
        policies,
        default_privileges,
        statistics,
        dependencies,
    } = left;
    let (mut a, mut b) = (Map::new(), Map::new());
    let mut kind = |name: &str, (x, y): (Value, Value)| {
        if x != y {
            a.insert(name.to_string(), x);
            b.insert(name.to_string(), y);
        }
    };
    kind("schemas", changed(schemas, &right.schemas));
    kind("extensions", changed(extensions, &right.extensions));
    kind("collations", changed(collations, &right.collations));
    kind("types", changed(types, &right.types));
    kind("sequences", changed(sequences, &right.sequences));
    kind("tables", changed(tables, &right.tables));
    kind("indexes", changed(indexes, &right.indexes));
    kind("views", changed(views, &right.views));
    kind("functions", changed(functions, &right.functions));
    kind("triggers", changed(triggers, &right.triggers));
    kind("policies", changed(policies, &right.policies));
    if default_privileges != &right.default_privileges {
        kind(
            "default_privileges",
            (
                to_value(default_privileges),
                to_value(&right.default_privileges),
            ),
        );
    }
    kind("statistics", changed(statistics, &right.statistics));
    let other = &right.dependencies;
    let differs = |x: &crate::model::Dependencies, y: &crate::model::Dependencies| {
        let pairs: Vec<_> = x
            .iter()
            .filter(|(k, deps)| y.get(k).is_none_or(|d| !d.iter().eq(deps.iter())))
            .collect();
        to_value(&pairs)
    };
    kind(
        "dependencies",
        (differs(dependencies, other), differs(other, dependencies)),
    );
    (Value::Object(a), Value::Object(b))
}

/// The entries of each map that the other does not hold equal, as `[key, value]` lists.
fn changed<K: Ord + Serialize, V: PartialEq + Serialize>(
    x: &BTreeMap<K, V>,
    y: &BTreeMap<K, V>,
) -> (Value, Value) {
    let only = |x: &BTreeMap<K, V>, y: &BTreeMap<K, V>| {
        let pairs: Vec<(&K, &V)> = x.iter().filter(|(k, v)| y.get(k) != Some(v)).collect();
        to_value(&pairs)
    };
    (only(x, y), only(y, x))
}

fn to_value(value: &impl Serialize) -> Value {
    serde_json::to_value(value).expect("the model serialises")
}

fn values_differences(
    a: &Value,
    b: &Value,
    (left_name, right_name): (&str, &str),
    limit: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    let empty = serde_json::Map::new();
    let (ka, kb) = (
        a.as_object().unwrap_or(&empty),
        b.as_object().unwrap_or(&empty),
    );
    for (kind, va) in ka {
        let vb = kb.get(kind).unwrap_or(&Value::Null);
        if va == vb {
            continue;
        }
        let (ea, eb) = (entries(va), entries(vb));
        for (name, x) in &ea {
            let label = format!("{} {name}", singular(kind));
            match eb.get(name) {
                None => out.push(format!("{label}: only in {left_name}")),
                Some(y) => attributes(&label, "", x, y, (left_name, right_name), &mut out),
            }
        }
        for name in eb.keys().filter(|n| !ea.contains_key(*n)) {
            out.push(format!("{} {name}: only in {right_name}", singular(kind)));
        }
    }
    if out.len() > limit {
        let more = out.len() - limit;
        out.truncate(limit);
        out.push(format!("... and {more} more"));
    }
    out
}

fn singular(kind: &str) -> String {
    match kind {
        "dependencies" => "dependency of".into(),
        "policies" => "policy".into(),
        "default_privileges" => "default privileges".into(),
        other => other.strip_suffix('s').unwrap_or(other).replace('_', " "),
    }
}

/// A kind's objects by name: a map, a list of `[key, value]` pairs, or (a set) the whole.
fn entries(value: &Value) -> BTreeMap<String, &Value> {
    match value {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(items) if items.iter().all(is_pair) => {
            items.iter().map(|p| (key_label(&p[0]), &p[1])).collect()
        }
        Value::Null => BTreeMap::new(),
        other => BTreeMap::from([(String::new(), other)]),
    }
}

fn is_pair(v: &Value) -> bool {
    v.as_array().is_some_and(|p| p.len() == 2)
}

/// `public.t` for a qualified name, `Table public.t` for an object id.
fn key_label(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        Value::Object(map) if map.len() == 1 => {
            let (k, v) = map.iter().next().expect("one entry");
            format!("{k} {}", key_label(v))
        }
        Value::Object(map) => {
            // serde_json sorts keys; a name reads schema first, then table, then name.
            let rank = |k: &str| ["schema", "table", "name"].iter().position(|r| *r == k);
            let mut fields: Vec<(&String, &Value)> = map.iter().collect();
            fields.sort_by_key(|(k, _)| rank(k).unwrap_or(3));
            fields
                .into_iter()
                .map(|(_, v)| key_label(v))
                .collect::<Vec<_>>()
                .join(".")
        }
        Value::Array(items) => items.iter().map(key_label).collect::<Vec<_>>().join("."),
        other => other.to_string(),
    }
}

fn attributes(
    label: &str,
    path: &str,
    a: &Value,
    b: &Value,
    names: (&str, &str),
    out: &mut Vec<String>,
) {
    if a == b {
        return;
    }
    if let (Value::Object(x), Value::Object(y)) = (a, b) {
        for (key, va) in x {
            if key == "column_order" {
                continue; // compares equal whatever it holds
            }
            let vb = y.get(key).unwrap_or(&Value::Null);
            let sub = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            attributes(label, &sub, va, vb, names, out);
        }
        return;
    }
    let path = if path.is_empty() { "definition" } else { path };
    out.push(format!(
        "{label}: {path}: {} in {}, {} in {}",
        short(a),
        names.0,
        short(b),
        names.1
    ));
}

fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 80 {
        format!("{}...", text.chars().take(77).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(ty: &str) -> Value {
        json!({
            "tables": [[{"schema": "public", "name": "t"},
                {"columns": {"age": {"data_type": ty, "not_null": false}}, "column_order": ["age"]}]],
            "views": [],
        })
    }

    fn model(tables: &[(&str, &str)]) -> Schema {
        let mut schema = Schema::default();
        for (name, email_type) in tables {
            let table = json!({"column_order": ["amount", "email"], "columns": {
                "amount": {"collation": null, "comment": null, "data_type": "numeric(12,2)",
                    "default": "0", "generated": null, "grants": [], "identity": null,
                    "local": true, "name": "amount", "not_null": true},
                "email": {"collation": null, "comment": null, "data_type": email_type,
                    "default": null, "generated": null, "grants": [], "identity": null,
                    "local": true, "name": "email", "not_null": false}},
                "comment": null, "constraints": {}, "grants": [], "inherits": [],
                "name": {"schema": "public", "name": name}, "options": [], "owner": null,
                "partition_by": null, "partition_of": null, "replica_identity": "default",
                "rls_enabled": false, "rls_forced": false, "unlogged": false});
            let table: crate::model::Table = serde_json::from_value(table).unwrap();
            schema.tables.insert(table.name.clone(), table);
        }
        schema
    }

    /// Only the objects that differ are serialised, and the lines are those of comparing
    /// the whole serialisations.
    #[test]
    fn the_differing_objects_name_what_the_whole_models_would() {
        use crate::model::{ObjectId, QualifiedName};
        let mut left = model(&[("a", "text"), ("b", "text"), ("c", "text"), ("d", "text")]);
        let mut right = model(&[
            ("a", "text"),
            ("b", "integer"),
            ("c", "text"),
            ("e", "text"),
        ]);
        let t = |n: &str| ObjectId::Table(QualifiedName::new("public", n));
        let c = |n: &str| ObjectId::Column(QualifiedName::new("public", n), "email".into());
        left.dependencies.insert(c("a"), t("a"));
        right.dependencies.insert(c("a"), t("a"));
        left.dependencies.insert(c("c"), t("c"));
        right.dependencies.insert(c("c"), t("d"));
        right
            .tables
            .get_mut(&QualifiedName::new("public", "c"))
            .unwrap()
            .column_order = Default::default();
        let names = ("the database", "schema/");
        let lines = differences(&left, &right, names, 100);
        let whole = values_differences(&to_value(&left), &to_value(&right), names, 100);
        assert_eq!(lines, whole);
        assert_eq!(lines.len(), 4, "{lines:#?}"); // c differs only in column order: no line
        let (a, b) = differing_objects(&left, &right);
        assert_eq!(a["tables"].as_array().map(Vec::len), Some(3)); // b, c (column order), d
        assert_eq!(b["tables"].as_array().map(Vec::len), Some(3)); // b, c, e
        assert_eq!(a["dependencies"].as_array().map(Vec::len), Some(1));
        assert!(a.get("views").is_none());
        assert_eq!(differences(&left, &left, names, 100), Vec::<String>::new());
    }

    #[test]
    fn names_the_object_and_the_attribute_that_differs() {
        let lines = values_differences(
            &schema("integer"),
            &schema("bigint"),
            ("the database", "schema/"),
            10,
        );
        assert_eq!(
            lines,
            ["table public.t: columns.age.data_type: \"integer\" in the database, \"bigint\" in schema/"]
        );
        let empty = json!({"tables": [], "views": []});
        assert_eq!(
            values_differences(&schema("integer"), &empty, ("x", "y"), 10),
            ["table public.t: only in x"]
        );
        assert_eq!(
            values_differences(&empty, &schema("integer"), ("x", "y"), 0),
            ["... and 1 more"]
        );
    }
}
