use super::{comment_on, StatementKind, Statements};
use crate::model::{quote_ident, Constraint, QualifiedName};

/// `ALTER TABLE t ADD CONSTRAINT c <definition>` (the definition carries `NOT VALID`,
/// `DEFERRABLE`, FK actions, `NO INHERIT`).
pub fn add_constraint(table: &QualifiedName, c: &Constraint) -> Statements {
    let name = quote_ident(&c.name);
    let mut out = Statements::one(
        StatementKind::Create,
        format!("ALTER TABLE {table} ADD CONSTRAINT {name} {}", c.definition),
    );
    if let Some(parent) = &c.index_parent {
        out.push(
            StatementKind::Create,
            format!(
                "ALTER INDEX {parent} ATTACH PARTITION {}",
                QualifiedName::new(table.schema.clone(), c.name.clone())
            ),
        );
    }
    out.append(comment_on(
        &format!("CONSTRAINT {name} ON {table}"),
        &c.comment,
    ));
    out
}
