use super::{comment_on, StatementKind, Statements};
use crate::model::Index;

/// `pg_get_indexdef`'s statement; an index on a partition is attached to its parent's index.
pub fn create_index(index: &Index) -> Statements {
    let mut out = Statements::one(StatementKind::Create, index.definition.as_str());
    if let Some(parent) = &index.parent {
        out.push(
            StatementKind::Create,
            format!("ALTER INDEX {parent} ATTACH PARTITION {}", index.name),
        );
    }
    out.append(comment_on(&format!("INDEX {}", index.name), &index.comment));
    out
}
