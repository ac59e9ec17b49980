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

/// A role in GRANT, REVOKE, OWNER TO and policies: `PUBLIC` (as the catalog reads it) stays
/// a keyword; every other role is an identifier.
pub fn role(name: &str) -> String {
    if name == "PUBLIC" {
        "PUBLIC".into()
    } else {
        quote_ident(name)
    }
}

/// `GRANT privilege[ (column)] ON on TO role[ WITH GRANT OPTION]`.
pub fn grant(g: &Grant, column: Option<&str>, on: &str) -> String {
    format!(
        "GRANT {}{} ON {on} TO {}{}",
        g.privilege,
        column_list(column),
        role(&g.grantee),
        if g.grantable {
            " WITH GRANT OPTION"
        } else {
            ""
        }
    )
}

/// `REVOKE [GRANT OPTION FOR ]privilege[ (column)] ON on FROM role`: the privilege, or only
/// its grant option.
pub fn revoke(g: &Grant, column: Option<&str>, on: &str, grant_option_only: bool) -> String {
    format!(
        "REVOKE {}{}{} ON {on} FROM {}",
        if grant_option_only {
            "GRANT OPTION FOR "
        } else {
            ""
        },
        g.privilege,
        column_list(column),
        role(&g.grantee)
    )
}

fn column_list(column: Option<&str>) -> String {
    column
        .map(|c| format!(" ({})", quote_ident(c)))
        .unwrap_or_default()
}

/// `ALTER DEFAULT PRIVILEGES FOR ROLE r[ IN SCHEMA s] {GRANT|REVOKE} ...` of one default
/// privilege.
pub fn alter_default_privileges(p: &DefaultPrivilege, grant_it: bool) -> String {
    default_privilege(&p.role, &p.schema, p.object_kind, &p.grant, grant_it)
}

fn default_privilege(
    owner: &str,
    schema: &Option<String>,
    kind: DefaultObjectKind,
    g: &Grant,
    grant_it: bool,
) -> String {
    let on = kind.to_string();
    format!(
        "ALTER DEFAULT PRIVILEGES FOR ROLE {}{} {}",
        role(owner),
        match schema {
            Some(s) => format!(" IN SCHEMA {}", quote_ident(s)),
            None => String::new(),
        },
        if grant_it {
            grant(g, None, &on)
        } else {
            revoke(g, None, &on, false)
        }
    )
}

fn public(privilege: Privilege) -> Grant {
    Grant {
        grantee: "PUBLIC".to_string(),
        privilege,
        grantable: false,
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
                revoke(&public(privilege), None, &on, false),
            );
        }
    }
    let column = match &target {
        GrantTarget::Column(_, c) => Some(*c),
        _ => None,
    };
    for g in grants {
        if Some(g.privilege) == default_public && g.grantee == "PUBLIC" && !g.grantable {
            continue;
        }
        out.push(StatementKind::Grant, grant(g, column, &on));
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
    for ((owner, schema, kind), grants) in groups {
        if schema.is_none() {
            if let Some(p) = kind.public_default() {
                if !grants
                    .iter()
                    .any(|g| g.grantee == "PUBLIC" && g.privilege == p)
                {
                    out.push(
                        StatementKind::Revoke,
                        default_privilege(owner, schema, kind, &public(p), false),
                    );
                }
            }
        }
        for g in grants {
            if g.grantee == *owner {
                continue;
            }
            out.push(
                StatementKind::Grant,
                default_privilege(owner, schema, kind, g, true),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(grantee: &str, grantable: bool) -> Grant {
        Grant {
            grantee: grantee.into(),
            privilege: Privilege::Select,
            grantable,
        }
    }

    #[test]
    fn grant_and_revoke_forms() {
        let on = "TABLE public.t";
        assert_eq!(
            grant(&g("Read Only", true), Some("Email"), on),
            "GRANT SELECT (\"Email\") ON TABLE public.t TO \"Read Only\" WITH GRANT OPTION"
        );
        assert_eq!(
            revoke(&g("PUBLIC", false), None, on, false),
            "REVOKE SELECT ON TABLE public.t FROM PUBLIC"
        );
        assert_eq!(
            revoke(&g("app", true), None, on, true),
            "REVOKE GRANT OPTION FOR SELECT ON TABLE public.t FROM app"
        );
    }

    #[test]
    fn only_the_catalogs_public_is_the_keyword() {
        // The catalog reads PUBLIC as "PUBLIC"; a role named "Public" is an identifier (the
        // diff's own renderer used to turn it into the keyword).
        assert_eq!(role("PUBLIC"), "PUBLIC");
        assert_eq!(role("Public"), "\"Public\"");
    }

    #[test]
    fn a_default_privilege_in_a_schema() {
        let p = DefaultPrivilege {
            role: "owner".into(),
            schema: Some("app".into()),
            object_kind: DefaultObjectKind::Tables,
            grant: g("reader", false),
        };
        assert_eq!(
            alter_default_privileges(&p, true),
            "ALTER DEFAULT PRIVILEGES FOR ROLE owner IN SCHEMA app GRANT SELECT ON TABLES TO reader"
        );
        assert_eq!(
            alter_default_privileges(&p, false),
            "ALTER DEFAULT PRIVILEGES FOR ROLE owner IN SCHEMA app REVOKE SELECT ON TABLES FROM reader"
        );
    }
}
