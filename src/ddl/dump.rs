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
        | ObjectId::Collation(n)
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
        | ObjectId::Collation(n)
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

/// Whether a file name is one `dump` writes (`schema.sql`, `NNNN_....sql`).
pub fn is_dump_file_name(name: &str) -> bool {
    if name == "schema.sql" {
        return true;
    }
    let digits = name.chars().take_while(|c| c.is_ascii_digit()).count();
    digits >= 4 && name[digits..].starts_with('_') && name.ends_with(".sql")
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
    if files.is_empty() {
        // Still one file: the header and the fingerprint of the empty schema.
        files.push(("schema".to_string(), String::new()));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dump_file_names() {
        assert!(is_dump_file_name("schema.sql"));
        assert!(is_dump_file_name("0001_schema_app.sql"));
        assert!(is_dump_file_name("12345_table_app.t.sql"));
        assert!(!is_dump_file_name("001_x.sql"));
        assert!(!is_dump_file_name("0001_x.txt"));
        assert!(!is_dump_file_name("tables.sql"));
    }

    #[test]
    fn an_empty_schema_dumps_to_one_file_with_the_header() {
        let files = dump(&Schema::default(), Split::PerObject);
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].name, "0001_schema.sql");
        let files = dump(&Schema::default(), Split::Single);
        assert_eq!(files[0].name, "schema.sql");
        assert!(files[0].content.contains("-- fingerprint: sha256:"));
        assert!(files[0]
            .content
            .contains("SET check_function_bodies = false;"));
    }
}
