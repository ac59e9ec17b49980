//! `strata dump`'s files: the ordered statements, split into one file or one per schema run
//! (file names sort in load order), or one per object in a tree named after the objects
//! (`app/tables/users.sql`), which strata's loader takes in any order.

use super::{create_statements, CycleError};
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
    /// A relative path (`/`-separated). `single` and `per-schema`: sorting the names gives the
    /// load order; `per-object`: the files are in load order as returned.
    pub name: String,
    pub content: String,
}

const HEADER: &str =
    "-- Written by `strata dump`: plain PostgreSQL DDL, load the files in name order.\n\
SET check_function_bodies = false;\n";

/// Letters, digits, `_`, `-` and `.` stay; anything else becomes `_`; at most 80 characters;
/// never `.`-first (no `..`, no hidden files).
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
    if cleaned.is_empty() || cleaned.starts_with('.') {
        format!("_{cleaned}")
    } else {
        cleaned
    }
}

/// The directories of one schema's objects in a `per-object` dump.
const KIND_DIRS: [&str; 7] = [
    "tables",
    "indexes",
    "views",
    "functions",
    "types",
    "sequences",
    "collations",
];

/// The file of an object in a `per-object` dump, from the object alone (so adding another
/// object never renames it): `extensions/<name>.sql`, `<schema>/schema.sql`,
/// `<schema>/<kind>s/<name>.sql` (`tables`, `indexes`, `views`, ...), `default_privileges.sql`.
/// A table's columns, constraints, triggers, policies and statistics objects are in its file; a domain's
/// constraints in its type's; every overload of a function in one file.
fn object_path(schema: &Schema, id: &ObjectId) -> String {
    use crate::model::QualifiedName;
    let relation_dir = |n: &QualifiedName| {
        if schema.tables.contains_key(n) {
            "tables"
        } else if schema.views.contains_key(n) {
            "views"
        } else {
            "types"
        }
    };
    let (name, dir) = match id {
        ObjectId::Schema(s) if s.is_empty() => return "default_privileges.sql".into(),
        ObjectId::Schema(s) => return format!("{}/schema.sql", file_part(s)),
        ObjectId::Extension(e) => return format!("extensions/{}.sql", file_part(e)),
        ObjectId::Table(n) => (n, "tables"),
        ObjectId::View(n) => (n, "views"),
        ObjectId::Type(n) => (n, "types"),
        ObjectId::Sequence(n) => (n, "sequences"),
        ObjectId::Collation(n) => (n, "collations"),
        ObjectId::Function(f) => (&f.name, "functions"),
        ObjectId::Column(n, _) | ObjectId::Constraint(n, _) => (n, relation_dir(n)),
        ObjectId::Trigger(s) | ObjectId::Policy(s) => (&s.table, relation_dir(&s.table)),
        // Files of their own: a partition's file must not hold its parent's index, which
        // would make creating the partition create that index again.
        ObjectId::Index(n) => (n, "indexes"),
        // In its table's file, after the table.
        ObjectId::Statistics(n) => match schema.statistics.get(n) {
            Some(s) => (&s.table, relation_dir(&s.table)),
            None => (n, "tables"),
        },
    };
    format!(
        "{}/{dir}/{}.sql",
        file_part(&name.schema),
        file_part(&name.name)
    )
}

/// Whether a path relative to a dump's directory is one `--split per-object` writes.
fn is_object_path(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["default_privileges.sql"] => true,
        ["extensions", file] | [_, file @ "schema.sql"] => file.ends_with(".sql"),
        [_, dir, file] => KIND_DIRS.contains(dir) && file.ends_with(".sql"),
        _ => false,
    }
}

/// Whether a path relative to the dump's directory is one `dump` writes (`schema.sql`,
/// `NNNN_....sql`, or a `per-object` file such as `app/tables/users.sql`).
pub fn is_dump_file_name(name: &str) -> bool {
    if name == "schema.sql" || is_object_path(name) {
        return true;
    }
    let digits = name.chars().take_while(|c| c.is_ascii_digit()).count();
    digits >= 4 && name[digits..].starts_with('_') && name.ends_with(".sql")
}

/// The dump of a schema as files. `Single` gives one file, `schema.sql`.
pub fn dump(schema: &Schema, split: Split) -> Result<Vec<DumpFile>, CycleError> {
    if split == Split::PerObject {
        return dump_per_object(schema);
    }
    let fingerprint = format!("-- fingerprint: {}\n", schema.fingerprint());
    let statements = create_statements(schema)?;
    let mut files: Vec<(String, String)> = Vec::new();
    for (id, sql) in statements {
        let group = match split {
            Split::Single => "schema".to_string(),
            Split::PerSchema => match &id {
                ObjectId::Schema(s) if s.is_empty() => "default_privileges".to_string(),
                // A file of its own, as dumps have always been split (it sorts under the
                // schema it is installed in).
                ObjectId::Extension(e) => format!("schema_{}", file_part(e)),
                _ => format!("schema_{}", file_part(id.schema().unwrap_or_default())),
            },
            Split::PerObject => unreachable!("dump_per_object"),
        };
        match files.last_mut() {
            Some((g, content)) if *g == group => {
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
    Ok(files
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
        .collect())
}

/// One file per object (`object_path`), in the order of each file's first statement, its
/// statements in dependency order. No fingerprint line: a file changes only when its object
/// does.
fn dump_per_object(schema: &Schema) -> Result<Vec<DumpFile>, CycleError> {
    let mut order: Vec<String> = Vec::new();
    let mut bodies: std::collections::HashMap<String, String> = Default::default();
    for (id, sql) in create_statements(schema)? {
        let path = object_path(schema, &id);
        match bodies.get_mut(&path) {
            Some(body) => {
                body.push('\n');
                body.push_str(&sql);
            }
            None => {
                order.push(path.clone());
                bodies.insert(path, sql);
            }
        }
    }
    Ok(order
        .into_iter()
        .map(|path| {
            let body = bodies.remove(&path).unwrap_or_default();
            DumpFile {
                name: path,
                content: format!("{HEADER}\n{body}"),
            }
        })
        .collect())
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
        assert!(is_dump_file_name("app/tables/users.sql"));
        assert!(is_dump_file_name("app/schema.sql"));
        assert!(is_dump_file_name("extensions/btree_gist.sql"));
        assert!(is_dump_file_name("default_privileges.sql"));
        assert!(!is_dump_file_name("app/notes/users.sql"));
        assert!(!is_dump_file_name("app/tables/users.txt"));
        assert!(!is_dump_file_name("README.md"));
    }

    #[test]
    fn an_empty_schema_dumps_to_one_file_with_the_header() {
        let files = dump(&Schema::default(), Split::PerSchema).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].name, "0001_schema.sql");
        assert!(dump(&Schema::default(), Split::PerObject)
            .unwrap()
            .is_empty());
        let files = dump(&Schema::default(), Split::Single).unwrap();
        assert_eq!(files[0].name, "schema.sql");
        assert!(files[0].content.contains("-- fingerprint: sha256:"));
        assert!(files[0]
            .content
            .contains("SET check_function_bodies = false;"));
    }
}
