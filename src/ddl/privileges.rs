use super::{StatementKind, Statements};
use crate::model::{quote_ident, DefaultObjectKind, DefaultPrivilege, Grant, Grants, Privilege};
use std::collections::BTreeMap;

/// What a GRANT is on, and which privileges PostgreSQL gives PUBLIC by default for it.
pub enum GrantTarget<'a> {
    Schema(&'a str),
    /// Tables, views, materialized views.
    Table(&'a str),
    Sequence(&'a str),
    /// `FUNCTION`/`PROCEDURE` and its `name(args)`.
    Routine(&'a str, &'a str),
    Type(&'a str),
    /// Column privileges: the table and the column.
    Column(&'a str, &'a str),
}

fn grantee(name: &str) -> String {
    if name == "PUBLIC" {
        "PUBLIC".into()
    } else {
        quote_ident(name)
    }
}

/// GRANTs (and the REVOKE of PUBLIC's default privilege when the model lacks it).
pub fn grants(target: GrantTarget, grants: &Grants) -> Statements {
    let (on, default_public) = match &target {
        GrantTarget::Schema(n) => (format!("SCHEMA {n}"), None),
        GrantTarget::Table(n) => (format!("TABLE {n}"), None),
        GrantTarget::Sequence(n) => (format!("SEQUENCE {n}"), None),
        GrantTarget::Routine(kind, n) => (format!("{kind} {n}"), Some(Privilege::Execute)),
        GrantTarget::Type(n) => (format!("TYPE {n}"), Some(Privilege::Usage)),
        GrantTarget::Column(t, _) => (format!("TABLE {t}"), None),
    };
    let mut out = Statements::new();
    if let Some(privilege) = default_public {
        if !grants
            .iter()
            .any(|g| g.grantee == "PUBLIC" && g.privilege == privilege)
        {
            out.push(
                StatementKind::Revoke,
                format!("REVOKE {privilege} ON {on} FROM PUBLIC"),
            );
        }
    }
    for g in grants {
        if Some(g.privilege) == default_public && g.grantee == "PUBLIC" && !g.grantable {
            continue;
        }
        let privilege = match &target {
            GrantTarget::Column(_, c) => format!("{} ({})", g.privilege, quote_ident(c)),
            _ => g.privilege.to_string(),
        };
        out.push(
            StatementKind::Grant,
            format!(
                "GRANT {privilege} ON {on} TO {}{}",
                grantee(&g.grantee),
                if g.grantable {
                    " WITH GRANT OPTION"
                } else {
                    ""
                }
            ),
        );
    }
    out
}

/// `ALTER DEFAULT PRIVILEGES` for the model's default privileges.
pub fn default_privileges(list: &std::collections::BTreeSet<DefaultPrivilege>) -> Statements {
    let mut groups: BTreeMap<(&str, &Option<String>, DefaultObjectKind), Vec<&Grant>> =
        BTreeMap::new();
    for d in list {
        groups
            .entry((&d.role, &d.schema, d.object_kind))
            .or_default()
            .push(&d.grant);
    }
    let mut out = Statements::new();
    for ((role, schema, kind), grants) in groups {
        let prefix = format!(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {}{}",
            quote_ident(role),
            match schema {
                Some(s) => format!(" IN SCHEMA {}", quote_ident(s)),
                None => String::new(),
            }
        );
        if schema.is_none() {
            if let Some(p) = kind.public_default() {
                if !grants
                    .iter()
                    .any(|g| g.grantee == "PUBLIC" && g.privilege == p)
                {
                    out.push(
                        StatementKind::Revoke,
                        format!("{prefix} REVOKE {p} ON {kind} FROM PUBLIC"),
                    );
                }
            }
        }
        for g in grants {
            if g.grantee == *role {
                continue;
            }
            out.push(
                StatementKind::Grant,
                format!(
                    "{prefix} GRANT {} ON {kind} TO {}{}",
                    g.privilege,
                    grantee(&g.grantee),
                    if g.grantable {
                        " WITH GRANT OPTION"
                    } else {
                        ""
                    }
                ),
            );
        }
    }
    out
}
