//! COMMENT ON any object.

use super::Phase;
use super::{ChangeKind, Diff, Step};
use crate::model::{quote_literal, ObjectId};

/// `COMMENT ON <target> IS ...` when the comment differs (`from` is `None` for a new object).
/// A rename in expand (`RENAME CONSTRAINT`, `ALTER INDEX ... RENAME TO`), then the comment
/// the renamed object is to have.
pub(super) fn rename_with_comment(
    d: &mut Diff,
    object: ObjectId,
    sql: String,
    target: impl Fn() -> String,
    (from, to): (&Option<String>, &Option<String>),
) {
    d.push(
        object.clone(),
        Step::Create,
        ChangeKind::AlterTable,
        Phase::Expand,
        sql,
        vec![],
    );
    diff_comment(d, &object, target, Some(from), to);
}

pub(super) fn diff_comment(
    d: &mut Diff,
    object: &ObjectId,
    target: impl Fn() -> String,
    from: Option<&Option<String>>,
    to: &Option<String>,
) {
    let before = from.cloned().flatten();
    if &before == to {
        return;
    }
    let value = match to {
        Some(text) => quote_literal(text),
        None => "NULL".to_string(),
    };
    d.push(
        object.clone(),
        Step::Create,
        ChangeKind::Comment,
        Phase::Expand,
        format!("COMMENT ON {} IS {value}", target()),
        vec![],
    );
}
