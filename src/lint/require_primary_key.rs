//! `require-primary-key`: every table created has a primary key, declared in CREATE TABLE
//! or added by an ALTER TABLE in any of the files linted (`[lint] require_primary_key`).

use super::parse::relation_name;
use super::{Check, Hit, Level, ParsedFile, Rule};
use crate::config::LintConfig;
use pg_query::protobuf::ConstrType;
use pg_query::NodeEnum;

pub const RULE: Rule = Rule {
    id: "require-primary-key",
    level: Level::Error,
    summary: "A table is created without a primary key (configured rule).",
    help: "Add a primary key, e.g. `id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY`; logical replication and many tools need one.",
    check: Check::Strata(check),
};

fn check(files: &[ParsedFile], config: &LintConfig) -> Vec<Hit> {
    if !config.require_primary_key {
        return Vec::new();
    }
    let with_key: Vec<String> = files
        .iter()
        .flat_map(|f| &f.statements)
        .flat_map(|s| s.constraints())
        .filter(|(_, _, c)| c.contype == ConstrType::ConstrPrimary as i32)
        .map(|(table, _, _)| relation_name(table))
        .collect();
    let mut hits = Vec::new();
    for (index, file) in files.iter().enumerate() {
        for statement in &file.statements {
            let Some(NodeEnum::CreateStmt(create)) = statement.root() else {
                continue;
            };
            let Some(table) = &create.relation else {
                continue;
            };
            // partitions get their key from the parent; temporary tables are not the schema
            if create.partbound.is_some() || table.relpersistence == "t" {
                continue;
            }
            let name = relation_name(table);
            if !with_key.contains(&name) {
                hits.push(Hit {
                    file: index,
                    offset: statement.at(table.location),
                    message: format!("table `{name}` has no primary key"),
                });
            }
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use crate::config::LintConfig;
    use crate::lint::lint_sql;

    fn found(sql: &str) -> Vec<String> {
        let config = LintConfig {
            require_primary_key: true,
            ..LintConfig::default()
        };
        lint_sql(sql, &config)
            .into_iter()
            .filter(|f| f.rule == "require-primary-key")
            .map(|f| f.message)
            .collect()
    }

    #[test]
    fn table_without_key_is_reported() {
        assert_eq!(
            found("CREATE TABLE app.notes (body text);"),
            ["table `app.notes` has no primary key"]
        );
    }

    #[test]
    fn column_table_and_later_keys_count() {
        assert!(found("CREATE TABLE a (id bigint PRIMARY KEY);").is_empty());
        assert!(found("CREATE TABLE b (id bigint, PRIMARY KEY (id));").is_empty());
        assert!(found(
            "CREATE TABLE c (id bigint NOT NULL);\n\
             ALTER TABLE c ADD CONSTRAINT c_pkey PRIMARY KEY (id);"
        )
        .is_empty());
    }

    #[test]
    fn partitions_and_temporary_tables_are_exempt() {
        assert!(found("CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1);").is_empty());
        assert!(found("CREATE TEMPORARY TABLE scratch (a int);").is_empty());
    }
}
