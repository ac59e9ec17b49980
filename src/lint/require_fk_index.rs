//! `require-fk-index`: every foreign key has an index whose leading columns are the key's
//! columns (any order), among the indexes, primary keys and unique constraints of the files
//! linted (`[lint] require_fk_index`). Without one, deleting a referenced row or updating its key
//! scans the referencing table.

use super::parse::{relation_name, string_value};
use super::{Check, Hit, Level, ParsedFile, Rule};
use crate::config::LintConfig;
use pg_query::protobuf::ConstrType;
use pg_query::NodeEnum;
use std::collections::BTreeSet;

pub const RULE: Rule = Rule {
    id: "require-fk-index",
    level: Level::Error,
    summary: "A foreign key has no index on its columns (configured rule).",
    help: "Create an index on the referencing columns: `CREATE INDEX CONCURRENTLY ... ON table (columns)`.",
    check: Check::Strata(check),
};

fn check(files: &[ParsedFile], config: &LintConfig) -> Vec<Hit> {
    if !config.require_fk_index {
        return Vec::new();
    }
    // (table, leading columns in order) of every index the files create
    let mut indexes: Vec<(String, Vec<String>)> = Vec::new();
    for statement in files.iter().flat_map(|f| &f.statements) {
        if let Some(NodeEnum::IndexStmt(index)) = statement.root() {
            if let Some(table) = &index.relation {
                let columns = index
                    .index_params
                    .iter()
                    .map_while(|p| match &p.node {
                        Some(NodeEnum::IndexElem(e)) if !e.name.is_empty() => Some(e.name.clone()),
                        _ => None,
                    })
                    .collect();
                indexes.push((relation_name(table), columns));
            }
        }
        for (table, column, constraint) in statement.constraints() {
            let kind = constraint.contype;
            if kind == ConstrType::ConstrPrimary as i32 || kind == ConstrType::ConstrUnique as i32 {
                indexes.push((relation_name(table), key_columns(column, &constraint.keys)));
            }
        }
    }
    let mut hits = Vec::new();
    for (index, file) in files.iter().enumerate() {
        for statement in &file.statements {
            for (table, column, constraint) in statement.constraints() {
                if constraint.contype != ConstrType::ConstrForeign as i32 {
                    continue;
                }
                let table = relation_name(table);
                let columns = key_columns(column, &constraint.fk_attrs);
                let wanted: BTreeSet<&String> = columns.iter().collect();
                let covered = indexes.iter().any(|(t, cols)| {
                    *t == table
                        && cols.len() >= columns.len()
                        && cols[..columns.len()].iter().collect::<BTreeSet<_>>() == wanted
                });
                if !covered {
                    hits.push(Hit {
                        file: index,
                        offset: statement.at(constraint.location),
                        message: format!(
                            "foreign key on `{table}` ({}) has no index",
                            columns.join(", ")
                        ),
                    });
                }
            }
        }
    }
    hits
}

/// A column constraint's column, or a table constraint's key list.
fn key_columns(column: Option<&str>, keys: &[pg_query::protobuf::Node]) -> Vec<String> {
    match column {
        Some(column) if keys.is_empty() => vec![column.to_string()],
        _ => keys
            .iter()
            .filter_map(string_value)
            .map(str::to_string)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::LintConfig;
    use crate::lint::lint_sql;

    fn found(sql: &str) -> Vec<String> {
        let config = LintConfig {
            require_fk_index: true,
            ..LintConfig::default()
        };
        lint_sql(sql, &config)
            .into_iter()
            .filter(|f| f.rule == "require-fk-index")
            .map(|f| f.message)
            .collect()
    }

    #[test]
    fn unindexed_foreign_keys_are_reported() {
        assert_eq!(
            found("CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users);"),
            ["foreign key on `orders` (user_id) has no index"]
        );
        assert_eq!(
            found("ALTER TABLE o ADD CONSTRAINT o_fk FOREIGN KEY (a, b) REFERENCES p NOT VALID;"),
            ["foreign key on `o` (a, b) has no index"]
        );
    }

    #[test]
    fn leading_index_columns_in_any_order_cover_the_key() {
        assert!(found(
            "CREATE TABLE o (a bigint, b bigint, c bigint, FOREIGN KEY (a, b) REFERENCES p);\n\
             CREATE INDEX CONCURRENTLY o_b_a ON o (b, a, c);"
        )
        .is_empty());
        assert_eq!(
            found(
                "CREATE TABLE o (a bigint, b bigint REFERENCES p);\n\
                 CREATE INDEX CONCURRENTLY o_a_b ON o (a, b);"
            )
            .len(),
            1
        );
    }

    #[test]
    fn indexes_of_the_desired_schema_count_but_it_is_not_reported_on() {
        use crate::lint::{lint, FileKind, Input};
        let config = LintConfig {
            require_fk_index: true,
            ..LintConfig::default()
        };
        let input = |path: &str, text: &str, kind| Input {
            path: path.into(),
            text: text.into(),
            kind,
        };
        let schema =
            "CREATE TABLE o (id bigint PRIMARY KEY, p_id bigint REFERENCES p, q_id bigint);\n\
                      CREATE INDEX o_p_id ON o (p_id);\n";
        let pending = "ALTER TABLE o ADD CONSTRAINT o_p_fk FOREIGN KEY (p_id) REFERENCES p NOT VALID;\n\
                       ALTER TABLE o ADD CONSTRAINT o_q_fk FOREIGN KEY (q_id) REFERENCES q NOT VALID;\n";
        let found = lint(
            &[
                input("schema/app.sql", schema, FileKind::Schema),
                input("pending.sql", pending, FileKind::Pending),
            ],
            &config,
        );
        let found: Vec<_> = found.iter().map(|f| (f.file.as_str(), f.line)).collect();
        assert_eq!(found, [("pending.sql", 2)]);
    }

    #[test]
    fn primary_keys_and_unique_constraints_count() {
        assert!(found("CREATE TABLE o (p_id bigint PRIMARY KEY REFERENCES p);").is_empty());
        assert!(found("CREATE TABLE o (a bigint REFERENCES p, UNIQUE (a));").is_empty());
    }
}
