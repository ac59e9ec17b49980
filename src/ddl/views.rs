use super::{comment_on, grants, owner_to, GrantTarget};
use crate::model::{quote_ident, View};

/// `CREATE [MATERIALIZED] VIEW` with options, comments (column comments too) and privileges.
pub fn create_view(v: &View) -> String {
    let name = v.name.to_string();
    let kind = if v.materialized {
        "MATERIALIZED VIEW"
    } else {
        "VIEW"
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
    let mut out = format!("CREATE {kind} {name}{with} AS\n{}{data};\n", v.definition);
    out.push_str(&owner_to(
        if v.materialized { kind } else { "VIEW" },
        &name,
        &v.owner,
    ));
    out.push_str(&comment_on(&format!("{kind} {name}"), &v.comment));
    for (column, comment) in &v.column_comments {
        out.push_str(&comment_on(
            &format!("COLUMN {name}.{}", quote_ident(column)),
            &Some(comment.clone()),
        ));
    }
    out.push_str(&grants(GrantTarget::Table(&name), &v.grants));
    out
}
