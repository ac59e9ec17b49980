use super::comment_on;
use crate::model::{quote_ident, Constraint, QualifiedName};

/// `ALTER TABLE t ADD CONSTRAINT c <definition>` (the definition carries `NOT VALID`,
/// `DEFERRABLE`, FK actions, `NO INHERIT`).
pub fn add_constraint(table: &QualifiedName, c: &Constraint) -> String {
    let name = quote_ident(&c.name);
    let mut out = format!(
        "ALTER TABLE {table} ADD CONSTRAINT {name} {};\n",
        c.definition
    );
    out.push_str(&comment_on(
        &format!("CONSTRAINT {name} ON {table}"),
        &c.comment,
    ));
    out
}
