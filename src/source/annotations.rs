//! SDL annotations: comments that tell the planner what the declarative text cannot say.
//!
//! `-- strata:renamed-from OLD` on the line above a column definition (or at the end of its
//! line) says the column was called `OLD`; above `CREATE TABLE` (or at the end of its first
//! line) it says the table was. `OLD` is an identifier as written in SQL (unquoted: folded to
//! lower case; `"Quoted"`: kept), for a table optionally schema-qualified. The planner uses
//! it instead of a drop and an add (`plan::online`, docs/hazards.md).
//!
//! `-- strata:using EXPRESSION`, placed the same way on a column, says how to compute the
//! column's new value when its type changes to one PostgreSQL has no cast to
//! (`ALTER COLUMN ... TYPE ... USING EXPRESSION`, `diff::casts`).

use super::sdl::Sdl;
use crate::config::{Backfill, PlanConfig, RenameMode};
use crate::model::QualifiedName;
use pg_query::NodeEnum;
use std::collections::BTreeMap;

const MARK: &str = "strata:renamed-from";
const USING: &str = "strata:using";

/// Renames declared in the SDL, with the manifest's choice of how to carry them out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Renames {
    pub mode: RenameMode,
    /// How the backfill of a new column (a rename's, a type change's) paces itself.
    pub backfill: Backfill,
    /// (table, new column) → old column.
    columns: BTreeMap<(QualifiedName, String), String>,
    /// New table → old table.
    tables: BTreeMap<QualifiedName, QualifiedName>,
    /// (table, column) → the expression its new value is computed with.
    conversions: crate::diff::Conversions,
}

impl Renames {
    pub fn new(mode: RenameMode) -> Renames {
        Renames {
            mode,
            ..Renames::default()
        }
    }

    pub fn add_column(&mut self, table: QualifiedName, new: &str, old: &str) {
        self.columns
            .insert((table, new.to_string()), old.to_string());
    }

    pub fn add_table(&mut self, new: QualifiedName, old: QualifiedName) {
        self.tables.insert(new, old);
    }

    pub fn old_name_of(&self, table: &QualifiedName, column: &str) -> Option<String> {
        self.columns
            .get(&(table.clone(), column.to_string()))
            .cloned()
    }

    pub fn new_name_of(&self, table: &QualifiedName, old: &str) -> Option<String> {
        self.columns
            .iter()
            .find(|((t, _), o)| t == table && o.as_str() == old)
            .map(|((_, new), _)| new.clone())
    }

    pub fn columns(&self) -> impl Iterator<Item = (&(QualifiedName, String), &String)> {
        self.columns.iter()
    }

    pub fn tables(&self) -> impl Iterator<Item = (&QualifiedName, &QualifiedName)> {
        self.tables.iter()
    }

    /// The `-- strata:using` conversions, for `diff::diff_with`.
    pub fn conversions(&self) -> &crate::diff::Conversions {
        &self.conversions
    }

    pub fn is_empty(&self) -> bool {
        self.columns.is_empty() && self.tables.is_empty()
    }
}

/// The renames annotated in `sdl`, carried out as `[plan]` says.
pub fn renames(sdl: &Sdl, plan: &PlanConfig) -> Renames {
    let mut out = Renames {
        backfill: plan.backfill,
        ..Renames::new(plan.renames)
    };
    for file in &sdl.files {
        let mut previous_end = 0;
        for s in &file.statements {
            let st = &s.statement;
            let start = previous_end.min(st.offset);
            previous_end = st.offset + st.len;
            if st.node != "CreateStmt" {
                continue;
            }
            let end = (st.offset + st.len).min(file.text.len());
            let Some(region) = file.text.get(start..end) else {
                continue;
            };
            if region.contains(MARK) || region.contains(USING) {
                collect(&st.sql, region, &mut out);
            }
        }
    }
    out
}

/// Renames in one `CREATE TABLE` (`region`: its text with the comments before it).
fn collect(sql: &str, region: &str, out: &mut Renames) {
    let Some(NodeEnum::CreateStmt(create)) = crate::sqlparse::first_statement(sql) else {
        return;
    };
    let Some(relation) = &create.relation else {
        return;
    };
    let schema = if relation.schemaname.is_empty() {
        "public".to_string()
    } else {
        relation.schemaname.clone()
    };
    let table = QualifiedName::new(schema.clone(), relation.relname.clone());
    let columns: Vec<String> = create
        .table_elts
        .iter()
        .filter_map(|e| match e.node.as_ref() {
            Some(NodeEnum::ColumnDef(c)) => Some(c.colname.clone()),
            _ => None,
        })
        .collect();
    let lines: Vec<&str> = region.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let Some(at) = line.find("--") else {
            continue;
        };
        let comment = line[at + 2..].trim();
        let (old, conversion) = match comment.strip_prefix(MARK) {
            Some(old) => (old.trim(), false),
            None => match comment.strip_prefix(USING) {
                Some(expr) if is_expression(expr) => (expr.trim(), true),
                _ => continue,
            },
        };
        if old.is_empty() {
            continue;
        }
        // The annotated line: this one when code precedes the comment, else the next line
        // holding code.
        let code = if line[..at].trim().is_empty() {
            lines[i + 1..]
                .iter()
                .map(|l| l.split("--").next().unwrap_or("").trim())
                .find(|l| !l.is_empty())
        } else {
            Some(line[..at].trim())
        };
        let Some(code) = code else {
            continue;
        };
        if conversion {
            if let Some(column) = first_identifier(code).filter(|c| columns.contains(c)) {
                out.conversions
                    .insert((table.clone(), column), old.to_string());
            }
        } else if code.to_ascii_uppercase().starts_with("CREATE ") {
            let old = match split_qualified(old) {
                (Some(s), n) => QualifiedName::new(s, n),
                (None, n) => QualifiedName::new(schema.clone(), n),
            };
            out.add_table(table.clone(), old);
        } else if let Some(column) = first_identifier(code).filter(|c| columns.contains(c)) {
            out.add_column(table.clone(), &column, &identifier(old));
        }
    }
}

/// One scalar expression and nothing else (what `USING` takes): `SELECT <it>` parses to one
/// statement with one target.
fn is_expression(text: &str) -> bool {
    let text = text.trim();
    if text.is_empty() || text.contains(';') {
        return false;
    }
    crate::sqlparse::expression(text).is_some()
}

/// An identifier as PostgreSQL reads it: unquoted folds to lower case.
fn identifier(text: &str) -> String {
    let text = text.trim();
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\"\"", "\""),
        None => text.to_lowercase(),
    }
}

fn split_qualified(text: &str) -> (Option<String>, String) {
    let text = text.trim();
    if !text.contains('"') {
        if let Some((s, n)) = text.split_once('.') {
            return (Some(identifier(s)), identifier(n));
        }
    }
    (None, identifier(text))
}

fn first_identifier(code: &str) -> Option<String> {
    let code = code.trim_start_matches([',', '(', ' ']);
    if let Some(rest) = code.strip_prefix('"') {
        let end = rest.find('"')?;
        return Some(rest[..end].to_string());
    }
    let word: String = code
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
        .collect();
    (!word.is_empty()).then(|| word.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Renames {
        renames(
            &Sdl::from_text("schema.sql", text).unwrap(),
            &PlanConfig::default(),
        )
    }

    #[test]
    fn a_column_annotated_above_or_at_the_end() {
        let r = parse(
            "CREATE TABLE app.users (\n  id bigint PRIMARY KEY,\n  -- strata:renamed-from fullname\n  full_name text,\n  mail text -- strata:renamed-from \"E-mail\"\n);\n",
        );
        let t = QualifiedName::new("app", "users");
        assert_eq!(r.old_name_of(&t, "full_name").as_deref(), Some("fullname"));
        assert_eq!(r.old_name_of(&t, "mail").as_deref(), Some("E-mail"));
        assert_eq!(r.old_name_of(&t, "id"), None);
        assert_eq!(r.new_name_of(&t, "fullname").as_deref(), Some("full_name"));
    }

    #[test]
    fn a_table_annotated_above_its_create() {
        let r = parse(
            "CREATE TABLE a (id int);\n-- strata:renamed-from people\nCREATE TABLE persons (id int);\n",
        );
        let tables: Vec<_> = r.tables().collect();
        assert_eq!(
            tables,
            vec![(
                &QualifiedName::new("public", "persons"),
                &QualifiedName::new("public", "people")
            )]
        );
        assert!(r.columns().next().is_none());
    }

    #[test]
    fn a_conversion_annotated_on_a_column() {
        let r = parse(
            "CREATE TABLE t (\n  id int,\n  -- strata:using to_timestamp(created)\n  created timestamptz,\n  flag text -- strata:using CASE WHEN flag THEN 'y' END\n,  bad int -- strata:using 1; DROP TABLE t\n);\n",
        );
        let t = QualifiedName::new("public", "t");
        let get = |c: &str| r.conversions().get(&(t.clone(), c.to_string())).cloned();
        assert_eq!(get("created").as_deref(), Some("to_timestamp(created)"));
        assert_eq!(get("flag").as_deref(), Some("CASE WHEN flag THEN 'y' END"));
        assert_eq!(get("bad"), None);
        assert_eq!(r.old_name_of(&t, "created"), None);
    }

    #[test]
    fn an_unknown_column_is_ignored() {
        let r = parse(
            "CREATE TABLE t (\n  -- strata:renamed-from x\n  PRIMARY KEY (id),\n  id int\n);\n",
        );
        assert!(r.is_empty());
    }
}
