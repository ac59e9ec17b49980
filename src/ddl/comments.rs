use crate::model::quote_literal;

/// `COMMENT ON <target> IS '...';` (`target` is e.g. `TABLE app.users`), or nothing.
pub fn comment_on(target: &str, comment: &Option<String>) -> String {
    match comment {
        Some(text) => format!("COMMENT ON {target} IS {};\n", quote_literal(text)),
        None => String::new(),
    }
}
