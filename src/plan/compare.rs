//! Naming what differs between two schemas that should be equal: the object (kind and name)
//! and the attribute, for the errors of a plan or run that does not converge. Walks the
//! models' serialisation, so every attribute the fingerprint counts can be named.

use crate::model::Schema;
use serde_json::Value;
use std::collections::BTreeMap;

/// At most `limit` lines `view public.mv: definition: "..." in <left>, "..." in <right>`.
pub fn differences(
    left: &Schema,
    right: &Schema,
    (left_name, right_name): (&str, &str),
    limit: usize,
) -> Vec<String> {
    values_differences(
        &to_value(left),
        &to_value(right),
        (left_name, right_name),
        limit,
    )
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

fn to_value(schema: &Schema) -> Value {
    serde_json::to_value(schema).expect("the model serialises")
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
