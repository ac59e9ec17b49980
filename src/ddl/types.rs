use super::{comment_on, grants, owner_to, GrantTarget, StatementKind, Statements};
use crate::model::{quote_ident, quote_literal, TypeDef, TypeKind};

/// `CREATE TYPE` / `CREATE DOMAIN` (checks as `ALTER DOMAIN ... ADD CONSTRAINT`, which keeps
/// `NOT VALID`), comment and privileges.
pub fn create_type(t: &TypeDef) -> Statements {
    let name = t.name.to_string();
    let mut out = Statements::new();
    let mut kind = "TYPE";
    match &t.kind {
        TypeKind::Enum(labels) => {
            let labels: Vec<String> = labels.iter().map(|l| quote_literal(l)).collect();
            out.push(
                StatementKind::Create,
                format!("CREATE TYPE {name} AS ENUM ({})", labels.join(", ")),
            );
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
            out.push(
                StatementKind::Create,
                format!("CREATE TYPE {name} AS (\n{}\n)", attrs.join(",\n")),
            );
        }
        TypeKind::Domain(d) => {
            kind = "DOMAIN";
            let mut sql = format!("CREATE DOMAIN {name} AS {}", d.base_type);
            if let Some(c) = &d.collation {
                sql.push_str(&format!(" COLLATE {c}"));
            }
            if let Some(e) = &d.default {
                sql.push_str(&format!(" DEFAULT {e}"));
            }
            if d.not_null {
                sql.push_str(" NOT NULL");
            }
            out.push(StatementKind::Create, sql);
            for (check, c) in &d.checks {
                let check = quote_ident(check);
                out.push(
                    StatementKind::AlterType,
                    format!(
                        "ALTER DOMAIN {name} ADD CONSTRAINT {check} {}",
                        c.definition
                    ),
                );
                out.append(comment_on(
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
            out.push(
                StatementKind::Create,
                format!("CREATE TYPE {name} AS RANGE ({})", parts.join(", ")),
            );
        }
    }
    out.append(owner_to(kind, &name, &t.owner));
    out.append(comment_on(&format!("{kind} {name}"), &t.comment));
    out.append(grants(GrantTarget::Type(&name), &t.grants));
    out
}
