//! `naming-convention`: names of new tables, columns, constraints, indexes, views, sequences
//! and types (and the new name of a RENAME) follow `[lint] naming` (`"snake_case"`).
//! Unquoted identifiers are folded to lower case by PostgreSQL before this sees them.

use super::parse::string_value;
use super::{Check, Hit, Level, ParsedFile, Rule};
use crate::config::{LintConfig, Naming};
use crate::source::migration::is_snake_case;
use pg_query::NodeEnum;

pub const RULE: Rule = Rule {
    id: "naming-convention",
    level: Level::Error,
    summary: "A new object's name does not follow `[lint] naming` (configured rule).",
    help: "Rename it, e.g. `user_accounts` rather than \"UserAccounts\" (snake_case: lowercase letters, digits, single underscores).",
    check: Check::Strata(check),
};

fn check(files: &[ParsedFile], config: &LintConfig) -> Vec<Hit> {
    let Some(naming) = config.naming else {
        return Vec::new();
    };
    let mut hits = Vec::new();
    for (index, file) in files.iter().enumerate() {
        for statement in &file.statements {
            for (what, name, location) in names(statement) {
                if !name.is_empty() && !follows(naming, name) {
                    hits.push(Hit {
                        file: index,
                        offset: statement.at(location),
                        message: format!("{what} name `{name}` is not snake_case"),
                    });
                }
            }
        }
    }
    hits
}

fn follows(naming: Naming, name: &str) -> bool {
    match naming {
        Naming::SnakeCase => is_snake_case(name),
    }
}

/// (kind of object, name, location in the statement) of every name a statement introduces.
fn names(statement: &super::ParsedStatement) -> Vec<(&'static str, &str, i32)> {
    let mut out = Vec::new();
    match statement.root() {
        Some(NodeEnum::CreateStmt(create)) => {
            if let Some(table) = &create.relation {
                out.push(("table", table.relname.as_str(), table.location));
            }
        }
        Some(NodeEnum::CreateTableAsStmt(create)) => {
            if let Some(table) = create.into.as_ref().and_then(|i| i.rel.as_ref()) {
                out.push(("table", table.relname.as_str(), table.location));
            }
        }
        Some(NodeEnum::ViewStmt(view)) => {
            if let Some(v) = &view.view {
                out.push(("view", v.relname.as_str(), v.location));
            }
        }
        Some(NodeEnum::CreateSeqStmt(seq)) => {
            if let Some(s) = &seq.sequence {
                out.push(("sequence", s.relname.as_str(), s.location));
            }
        }
        Some(NodeEnum::IndexStmt(index)) if !index.idxname.is_empty() => {
            out.push(("index", index.idxname.as_str(), -1));
        }
        Some(NodeEnum::CompositeTypeStmt(ty)) => {
            if let Some(t) = &ty.typevar {
                out.push(("type", t.relname.as_str(), t.location));
            }
        }
        Some(NodeEnum::CreateEnumStmt(ty)) => {
            if let Some(name) = ty.type_name.last().and_then(string_value) {
                out.push(("type", name, -1));
            }
        }
        Some(NodeEnum::CreateDomainStmt(ty)) => {
            if let Some(name) = ty.domainname.last().and_then(string_value) {
                out.push(("domain", name, -1));
            }
        }
        Some(NodeEnum::RenameStmt(rename)) if !rename.newname.is_empty() => {
            out.push(("new", rename.newname.as_str(), -1));
        }
        _ => {}
    }
    for (_, def) in statement.column_defs() {
        out.push(("column", def.colname.as_str(), def.location));
    }
    for (_, _, constraint) in statement.constraints() {
        if !constraint.conname.is_empty() {
            out.push((
                "constraint",
                constraint.conname.as_str(),
                constraint.location,
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::config::{LintConfig, Naming};
    use crate::lint::lint_sql;

    fn config() -> LintConfig {
        LintConfig {
            naming: Some(Naming::SnakeCase),
            ..LintConfig::default()
        }
    }

    fn messages(sql: &str) -> Vec<String> {
        lint_sql(sql, &config())
            .into_iter()
            .filter(|f| f.rule == "naming-convention")
            .map(|f| f.message)
            .collect()
    }

    #[test]
    fn quoted_mixed_case_names_are_reported() {
        let found = messages(
            "CREATE TABLE \"UserAccounts\" (id bigint PRIMARY KEY, \"firstName\" text, \
             CONSTRAINT \"Bad\" CHECK (id > 0));",
        );
        assert_eq!(
            found,
            [
                "table name `UserAccounts` is not snake_case",
                "column name `firstName` is not snake_case",
                "constraint name `Bad` is not snake_case",
            ]
        );
    }

    #[test]
    fn snake_case_and_folded_names_pass() {
        assert!(messages("CREATE TABLE user_accounts (id bigint, FirstName text);").is_empty());
    }

    #[test]
    fn indexes_columns_added_and_renames_are_checked() {
        assert_eq!(
            messages("CREATE INDEX CONCURRENTLY \"Idx\" ON t (a);").len(),
            1
        );
        assert_eq!(messages("ALTER TABLE t ADD COLUMN \"Col\" text;").len(), 1);
        assert_eq!(messages("ALTER TABLE t RENAME TO \"T2\";").len(), 1);
    }

    #[test]
    fn off_unless_configured() {
        let found = lint_sql("CREATE TABLE \"T\" (id bigint);", &LintConfig::default());
        assert!(found.iter().all(|f| f.rule != "naming-convention"));
    }
}
