use super::{StatementKind, Statements};
use crate::model::quote_literal;

/// `COMMENT ON <target> IS '...'` (`target` is e.g. `TABLE app.users`), or nothing.
pub fn comment_on(target: &str, comment: &Option<String>) -> Statements {
    match comment {
        Some(text) => Statements::one(
            StatementKind::Comment,
            format!("COMMENT ON {target} IS {}", quote_literal(text)),
        ),
        None => Statements::new(),
    }
}
