//! Reconciling a step that a run recorded as started and never as done: a statement that
//! runs outside a transaction, whose effect may or may not have happened (strata was killed,
//! the server crashed, the connection dropped). Each kind the planner writes has a rule read
//! from the catalog, instead of running the statement again blindly:
//!
//! | statement                          | done when                  | otherwise                     |
//! |------------------------------------|----------------------------|-------------------------------|
//! | `CREATE [UNIQUE] INDEX CONCURRENTLY` | the index exists and is valid | an invalid leftover is dropped (`DROP INDEX CONCURRENTLY`), then built again |
//! | `DROP INDEX CONCURRENTLY IF EXISTS` | the index is gone          | run again                      |
//! | `ALTER TYPE ... ADD VALUE`         | the label exists           | run again                      |
//! | `ALTER TABLE ... VALIDATE CONSTRAINT` | the constraint is validated | run again (validating is idempotent) |
//!
//! Any other statement is run again (the planner writes no other kind outside a transaction).

use super::statements::concurrent_index_name;
use crate::model::quote_ident;
use crate::pg::PgError;
use pg_query::NodeEnum;
use tokio_postgres::Client;

/// What a started step turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reconciled {
    /// Its effect is there: record it done without running it.
    Done(String),
    /// Its effect is not there (any leftover was cleaned up): run it.
    Redo(String),
}

/// What the catalog says about a statement's effect, and the cleanup it needs.
enum Check {
    Index(String),
    IndexGone(Vec<String>),
    EnumLabel { type_name: String, label: String },
    Validated { table: String, constraint: String },
    Unknown,
}

fn check_of(sql: &str) -> Check {
    if let Some(index) = concurrent_index_name(sql) {
        return Check::Index(index);
    }
    let Some(node) = crate::sqlparse::first_statement(sql) else {
        return Check::Unknown;
    };
    match &node {
        NodeEnum::DropStmt(drop)
            if drop.remove_type == pg_query::protobuf::ObjectType::ObjectIndex as i32 =>
        {
            let names: Option<Vec<String>> = drop
                .objects
                .iter()
                .map(|o| match o.node.as_ref() {
                    Some(NodeEnum::List(list)) => qualified(&list.items),
                    _ => None,
                })
                .collect();
            names.map_or(Check::Unknown, Check::IndexGone)
        }
        NodeEnum::AlterEnumStmt(alter) if !alter.new_val.is_empty() && alter.old_val.is_empty() => {
            match qualified(&alter.type_name) {
                Some(type_name) => Check::EnumLabel {
                    type_name,
                    label: alter.new_val.clone(),
                },
                None => Check::Unknown,
            }
        }
        NodeEnum::AlterTableStmt(alter) if alter.cmds.len() == 1 => {
            let cmd = match alter.cmds[0].node.as_ref() {
                Some(NodeEnum::AlterTableCmd(cmd)) => cmd,
                _ => return Check::Unknown,
            };
            let validate = pg_query::protobuf::AlterTableType::AtValidateConstraint as i32;
            match (&alter.relation, cmd.subtype == validate) {
                (Some(rel), true) => Check::Validated {
                    table: if rel.schemaname.is_empty() {
                        quote_ident(&rel.relname)
                    } else {
                        format!(
                            "{}.{}",
                            quote_ident(&rel.schemaname),
                            quote_ident(&rel.relname)
                        )
                    },
                    constraint: cmd.name.clone(),
                },
                _ => Check::Unknown,
            }
        }
        _ => Check::Unknown,
    }
}

/// `a.b` (each part quoted) from a list of String nodes.
fn qualified(items: &[pg_query::protobuf::Node]) -> Option<String> {
    let parts: Option<Vec<String>> = items
        .iter()
        .map(|n| match n.node.as_ref() {
            Some(NodeEnum::String(s)) => Some(quote_ident(&s.sval)),
            _ => None,
        })
        .collect();
    parts.filter(|p| !p.is_empty()).map(|p| p.join("."))
}

/// Decides, from the catalog, whether the started statement `sql` took effect; cleans up
/// what a half-done one left (an invalid index).
pub async fn reconcile(client: &Client, sql: &str) -> Result<Reconciled, PgError> {
    let query = |what: String| PgError::query(format!("reconciling an interrupted step: {what}"));
    Ok(match check_of(sql) {
        Check::Index(index) => {
            let row = client
                .query_opt(
                    "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)",
                    &[&index],
                )
                .await
                .map_err(query(format!("index {index}")))?;
            match row.map(|r| r.get::<_, bool>(0)) {
                Some(true) => Reconciled::Done(format!("index {index} exists and is valid")),
                Some(false) => {
                    client
                        .batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {index}"))
                        .await
                        .map_err(query(format!("dropping the invalid index {index}")))?;
                    Reconciled::Redo(format!(
                        "index {index} was left invalid: dropped it, building it again"
                    ))
                }
                None => Reconciled::Redo(format!("index {index} does not exist: building it")),
            }
        }
        Check::IndexGone(indexes) => {
            let mut present = Vec::new();
            for index in &indexes {
                let row = client
                    .query_one("SELECT to_regclass($1) IS NOT NULL", &[index])
                    .await
                    .map_err(query(format!("index {index}")))?;
                if row.get::<_, bool>(0) {
                    present.push(index.clone());
                }
            }
            if present.is_empty() {
                Reconciled::Done(format!("index {} is gone", indexes.join(", ")))
            } else {
                Reconciled::Redo(format!(
                    "index {} still exists: dropping it",
                    present.join(", ")
                ))
            }
        }
        Check::EnumLabel { type_name, label } => {
            let row = client
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM pg_enum WHERE enumtypid = to_regtype($1) AND enumlabel = $2)",
                    &[&type_name, &label],
                )
                .await
                .map_err(query(format!("type {type_name}")))?;
            if row.get::<_, bool>(0) {
                Reconciled::Done(format!("type {type_name} has the label '{label}'"))
            } else {
                Reconciled::Redo(format!(
                    "type {type_name} lacks the label '{label}': adding it"
                ))
            }
        }
        Check::Validated { table, constraint } => {
            let row = client
                .query_opt(
                    "SELECT convalidated FROM pg_constraint WHERE conrelid = to_regclass($1) AND conname = $2",
                    &[&table, &constraint],
                )
                .await
                .map_err(query(format!("constraint {constraint} on {table}")))?;
            if row.is_some_and(|r| r.get::<_, bool>(0)) {
                Reconciled::Done(format!("constraint {constraint} on {table} is validated"))
            } else {
                Reconciled::Redo(format!(
                    "constraint {constraint} on {table} is not validated: validating it"
                ))
            }
        }
        Check::Unknown => {
            Reconciled::Redo("the catalog cannot tell whether it ran: running it again".to_string())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_statement_kind_has_its_catalog_check() {
        assert!(matches!(
            check_of("CREATE INDEX CONCURRENTLY i ON app.t (a)"),
            Check::Index(i) if i == "app.i"
        ));
        assert!(matches!(
            check_of("DROP INDEX CONCURRENTLY IF EXISTS app.\"Old\""),
            Check::IndexGone(i) if i == ["app.\"Old\""]
        ));
        assert!(matches!(
            check_of("ALTER TYPE public.mood ADD VALUE 'it''s' AFTER 'ok'"),
            Check::EnumLabel { type_name, label } if type_name == "public.mood" && label == "it's"
        ));
        assert!(matches!(
            check_of("ALTER TABLE public.users VALIDATE CONSTRAINT users_org_fkey"),
            Check::Validated { table, constraint } if table == "public.users" && constraint == "users_org_fkey"
        ));
        assert!(matches!(
            check_of("ALTER TYPE public.mood RENAME VALUE 'a' TO 'b'"),
            Check::Unknown
        ));
        assert!(matches!(check_of("VACUUM t"), Check::Unknown));
    }
}
