//! Grants and revokes on any object, owners, and default privileges.

use super::Phase;
use super::{ChangeKind, Diff, Step};
use crate::ddl::{alter_default_privileges, grant, revoke, role};
use crate::model::{Grant, Grants, ObjectId, Privilege};

/// The grants PostgreSQL gives a new object of some kinds: `EXECUTE` on functions and
/// `USAGE` on types, to PUBLIC.
pub(super) fn public_grant(privilege: Privilege) -> Grants {
    Grants::from([Grant {
        grantee: "PUBLIC".to_string(),
        privilege,
        grantable: false,
    }])
}

/// GRANT/REVOKE statements turning `from` into `to` on `target` (e.g. `TABLE public.t`).
/// `columns`: for column privileges, the column list (`(c)`) placed after the privilege.
/// Revokes are contract changes (they can break old code), grants expand.
pub(super) fn diff_grants(
    d: &mut Diff,
    object: &ObjectId,
    target: impl Fn() -> String,
    column: Option<&str>,
    from: Option<&Grants>,
    to: &Grants,
) {
    let empty = Grants::new();
    let from = from.unwrap_or(&empty);
    for g in from.difference(to) {
        // Only the grant option goes when the privilege itself stays.
        let keeps_privilege = to
            .iter()
            .any(|t| t.grantee == g.grantee && t.privilege == g.privilege);
        if keeps_privilege && !g.grantable {
            continue;
        }
        let sql = revoke(g, column, &target(), keeps_privilege);
        d.push(
            object.clone(),
            Step::Alter,
            ChangeKind::Revoke,
            Phase::Contract,
            sql,
            vec![],
        );
    }
    for g in to.difference(from) {
        let had_plain = !g.grantable
            && from
                .iter()
                .any(|f| f.grantee == g.grantee && f.privilege == g.privilege);
        if had_plain {
            continue; // handled by REVOKE GRANT OPTION FOR above
        }
        d.push(
            object.clone(),
            Step::Create,
            ChangeKind::Grant,
            Phase::Expand,
            grant(g, column, &target()),
            vec![],
        );
    }
}

/// `ALTER <target> OWNER TO role` when owners are modelled and differ.
pub(super) fn diff_owner(
    d: &mut Diff,
    object: &ObjectId,
    alter_target: &str,
    from: Option<&Option<String>>,
    to: &Option<String>,
) {
    let Some(owner) = to else { return };
    if from.is_some_and(|f| f.as_ref() == Some(owner)) {
        return;
    }
    d.push(
        object.clone(),
        Step::Create,
        ChangeKind::Owner,
        Phase::Expand,
        format!("ALTER {alter_target} OWNER TO {}", role(owner)),
        vec![],
    );
}

/// `ALTER DEFAULT PRIVILEGES` for what was added and removed.
pub(super) fn default_privileges(d: &mut Diff) {
    let from = &d.from.default_privileges;
    let to = &d.to.default_privileges;
    let mut out = Vec::new();
    for p in from.difference(to) {
        let object = ObjectId::Schema(p.schema.clone().unwrap_or_default().into());
        out.push((
            object,
            Step::Alter,
            ChangeKind::Revoke,
            Phase::Contract,
            alter_default_privileges(p, false),
        ));
    }
    for p in to.difference(from) {
        let object = ObjectId::Schema(p.schema.clone().unwrap_or_default().into());
        out.push((
            object,
            Step::Create,
            ChangeKind::Grant,
            Phase::Expand,
            alter_default_privileges(p, true),
        ));
    }
    for (object, step, kind, phase, sql) in out {
        d.push(object, step, kind, phase, sql, vec![]);
    }
}
