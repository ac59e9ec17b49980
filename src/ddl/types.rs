use super::{comment_on, grants, owner_to, GrantTarget};
use crate::model::{quote_ident, quote_literal, TypeDef, TypeKind};

/// `CREATE TYPE` / `CREATE DOMAIN` (checks as `ALTER DOMAIN ... ADD CONSTRAINT`, which keeps
/// `NOT VALID`), comment and privileges.
pub fn create_type(t: &TypeDef) -> String {
    let name = t.name.to_string();
    let mut out = String::new();
    let mut kind = "TYPE";
    match &t.kind {
        TypeKind::Enum(labels) => {
            let labels: Vec<String> = labels.iter().map(|l| quote_literal(l)).collect();
            out.push_str(&format!(
                "CREATE TYPE {name} AS ENUM ({});\n",
                labels.join(", ")
            ));
        }
        TypeKind::Composite(attrs) => {
            let attrs: Vec<String> = attrs
                .iter()
                .map(|a| {
                    let mut s = format!("    {} {}", quote_ident(&a.name), a.data_type);
                    if let Some(c) = &a.collation {
                        s.push_str(&format!(" COLLATE {c}"));
                    }
                    s
                })
                .collect();
            out.push_str(&format!(
                "CREATE TYPE {name} AS (\n{}\n);\n",
                attrs.join(",\n")
            ));
        }
        TypeKind::Domain(d) => {
            kind = "DOMAIN";
            out.push_str(&format!("CREATE DOMAIN {name} AS {}", d.base_type));
            if let Some(c) = &d.collation {
                out.push_str(&format!(" COLLATE {c}"));
            }
            if let Some(e) = &d.default {
                out.push_str(&format!(" DEFAULT {e}"));
            }
            if d.not_null {
                out.push_str(" NOT NULL");
            }
            out.push_str(";\n");
            for (check, c) in &d.checks {
                let check = quote_ident(check);
                out.push_str(&format!(
                    "ALTER DOMAIN {name} ADD CONSTRAINT {check} {};\n",
                    c.definition
                ));
                out.push_str(&comment_on(
                    &format!("CONSTRAINT {check} ON DOMAIN {name}"),
                    &c.comment,
                ));
            }
        }
        TypeKind::Range(r) => {
            let mut parts = vec![format!("SUBTYPE = {}", r.subtype)];
            if let Some(v) = &r.subtype_opclass {
                parts.push(format!("SUBTYPE_OPCLASS = {v}"));
            }
            if let Some(v) = &r.collation {
                parts.push(format!("COLLATION = {v}"));
            }
            if let Some(v) = &r.canonical {
                parts.push(format!("CANONICAL = {v}"));
            }
            if let Some(v) = &r.subtype_diff {
                parts.push(format!("SUBTYPE_DIFF = {v}"));
            }
            if let Some(v) = &r.multirange {
                parts.push(format!("MULTIRANGE_TYPE_NAME = {v}"));
            }
            out.push_str(&format!(
                "CREATE TYPE {name} AS RANGE ({});\n",
                parts.join(", ")
            ));
        }
    }
    out.push_str(&owner_to(kind, &name, &t.owner));
    out.push_str(&comment_on(&format!("{kind} {name}"), &t.comment));
    out.push_str(&grants(GrantTarget::Type(&name), &t.grants));
    out
}
