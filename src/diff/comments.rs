//! COMMENT ON any object.

use super::Phase;
use super::{ChangeKind, Diff, Step};
use crate::model::{quote_literal, ObjectId};

/// `COMMENT ON <target> IS ...` when the comment differs (`from` is `None` for a new object).
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
