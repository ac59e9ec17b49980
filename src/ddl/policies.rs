use super::comment_on;
use crate::model::{quote_ident, Policy};

pub fn create_policy(p: &Policy) -> String {
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
    let mut out = format!(
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
        out.push_str(&format!(" USING ({e})"));
    }
    if let Some(e) = &p.with_check {
        out.push_str(&format!(" WITH CHECK ({e})"));
    }
    out.push_str(";\n");
    out.push_str(&comment_on(
        &format!("POLICY {name} ON {}", p.table),
        &p.comment,
    ));
    out
}
