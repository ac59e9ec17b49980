//! `strata dump`'s files: the ordered statements, split into one file, one per schema run, or
//! one per object; file names sort in load order.

use super::create_statements;
use crate::model::{ObjectId, Schema};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Split {
    #[default]
    Single,
    PerSchema,
    PerObject,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpFile {
    /// A relative file name; sorting the names gives the load order.
    pub name: String,
    pub content: String,
}

const HEADER: &str =
    "-- Written by `strata dump`: plain PostgreSQL DDL, load the files in name order.\n\
SET check_function_bodies = false;\n";

fn schema_name(id: &ObjectId) -> String {
    match id {
        ObjectId::Schema(s) | ObjectId::Extension(s) => s.clone(),
        ObjectId::Type(n)
        | ObjectId::Sequence(n)
        | ObjectId::Table(n)
        | ObjectId::Index(n)
        | ObjectId::View(n)
        | ObjectId::Column(n, _)
        | ObjectId::Constraint(n, _) => n.schema.clone(),
        ObjectId::Function(f) => f.name.schema.clone(),
        ObjectId::Trigger(s) | ObjectId::Policy(s) => s.table.schema.clone(),
    }
}

/// Letters, digits, `_`, `-` and `.` stay; anything else becomes `_`; at most 80 characters.
fn file_part(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    if cleaned.is_empty() {
        "_".into()
    } else {
        cleaned
    }
}

fn object_file_part(id: &ObjectId) -> String {
    let name = match id {
        ObjectId::Schema(s) if s.is_empty() => "default_privileges".to_string(),
        ObjectId::Schema(s) | ObjectId::Extension(s) => s.clone(),
        ObjectId::Type(n)
        | ObjectId::Sequence(n)
        | ObjectId::Table(n)
        | ObjectId::Index(n)
        | ObjectId::View(n) => format!("{}.{}", n.schema, n.name),
        ObjectId::Column(n, c) | ObjectId::Constraint(n, c) => {
            format!("{}.{}.{c}", n.schema, n.name)
        }
        ObjectId::Function(f) => format!("{}.{}", f.name.schema, f.name.name),
        ObjectId::Trigger(s) | ObjectId::Policy(s) => {
            format!("{}.{}.{}", s.table.schema, s.table.name, s.name)
        }
    };
    format!("{}_{}", id.kind(), file_part(&name))
}

/// The dump of a schema as files. `Single` gives one file, `schema.sql`.
pub fn dump(schema: &Schema, split: Split) -> Vec<DumpFile> {
    let fingerprint = format!("-- fingerprint: {}\n", schema.fingerprint());
    let statements = create_statements(schema);
    let mut files: Vec<(String, String)> = Vec::new();
    for (id, sql) in statements {
        let group = match split {
            Split::Single => "schema".to_string(),
            Split::PerSchema => match &id {
                ObjectId::Schema(s) if s.is_empty() => "default_privileges".to_string(),
                _ => format!("schema_{}", file_part(&schema_name(&id))),
            },
            Split::PerObject => object_file_part(&id),
        };
        match files.last_mut() {
            Some((g, content)) if *g == group && split != Split::PerObject => {
                content.push('\n');
                content.push_str(&sql);
            }
            _ => files.push((group, sql)),
        }
    }
    let width = files.len().to_string().len().max(4);
    let count = files.len();
    files
        .into_iter()
        .enumerate()
        .map(|(n, (group, body))| DumpFile {
            name: if split == Split::Single {
                "schema.sql".to_string()
            } else {
                format!("{:0width$}_{group}.sql", n + 1)
            },
            content: format!(
                "{HEADER}{}\n{body}",
                if n == 0 || count == 1 {
                    fingerprint.clone()
                } else {
                    String::new()
                }
            ),
        })
        .collect()
}
