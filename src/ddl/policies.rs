use super::{comment_on, StatementKind, Statements};
use crate::model::{quote_ident, Policy};

pub fn create_policy(p: &Policy) -> Statements {
    let name = quote_ident(&p.name);
    let roles: Vec<String> = p
        .roles
        .iter()
        .map(|r| {
            if r == "PUBLIC" {
                "PUBLIC".to_string()
            } else {
                quote_ident(r)
            }
        })
        .collect();
    let mut sql = format!(
        "CREATE POLICY {name} ON {} AS {} FOR {} TO {}",
        p.table,
        if p.permissive {
            "PERMISSIVE"
        } else {
            "RESTRICTIVE"
        },
        p.command,
        if roles.is_empty() {
            "PUBLIC".to_string()
        } else {
            roles.join(", ")
        }
    );
    if let Some(e) = &p.using {
        sql.push_str(&format!(" USING ({e})"));
    }
    if let Some(e) = &p.with_check {
        sql.push_str(&format!(" WITH CHECK ({e})"));
    }
    let mut out = Statements::one(StatementKind::Create, sql);
    out.append(comment_on(
        &format!("POLICY {name} ON {}", p.table),
        &p.comment,
    ));
    out
}
