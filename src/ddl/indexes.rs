use super::comment_on;
use crate::model::Index;

/// `pg_get_indexdef`'s statement; an index on a partition is attached to its parent's index.
pub fn create_index(index: &Index) -> String {
    let mut out = format!("{};\n", index.definition);
    if let Some(parent) = &index.parent {
        out.push_str(&format!(
            "ALTER INDEX {parent} ATTACH PARTITION {};\n",
            index.name
        ));
    }
    out.push_str(&comment_on(
        &format!("INDEX {}", index.name),
        &index.comment,
    ));
    out
}
