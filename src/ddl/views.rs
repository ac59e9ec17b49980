use super::{comment_on, grants, owner_to, GrantTarget, StatementKind, Statements};
use crate::model::{quote_ident, View};

/// `CREATE [MATERIALIZED] VIEW` with options, comments (column comments too) and privileges.
pub fn create_view(v: &View) -> Statements {
    let name = v.name.to_string();
    let kind = keyword(v);
    let mut out = Statements::one(StatementKind::Create, view_statement(v, false));
    out.append(owner_to(kind, &name, &v.owner));
    out.append(comment_on(&format!("{kind} {name}"), &v.comment));
    for (column, comment) in &v.column_comments {
        out.append(comment_on(
            &format!("COLUMN {name}.{}", quote_ident(column)),
            &Some(comment.clone()),
        ));
    }
    out.append(grants(GrantTarget::Table(&name), &v.grants));
    out
}

fn keyword(v: &View) -> &'static str {
    if v.materialized {
        "MATERIALIZED VIEW"
    } else {
        "VIEW"
    }
}

/// The view's `CREATE [MATERIALIZED] VIEW` statement; `CREATE OR REPLACE VIEW` when
/// `replace` (a materialized view cannot be replaced: it stays `CREATE`).
pub fn view_statement(v: &View, replace: bool) -> String {
    let kind = keyword(v);
    let or_replace = if replace && !v.materialized {
        "OR REPLACE "
    } else {
        ""
    };
    let with = if v.options.is_empty() {
        String::new()
    } else {
        format!(" WITH ({})", v.options.join(", "))
    };
    let data = match (v.materialized, v.populated.0) {
        (false, _) => "",
        (true, true) => "\n  WITH DATA",
        (true, false) => "\n  WITH NO DATA",
    };
    // The catalog reads the query without its semicolon; a hand-built model may have one.
    let query = v.definition.trim_end().trim_end_matches(';');
    format!(
        "CREATE {or_replace}{kind} {}{with} AS\n{query}{data}",
        v.name
    )
}
