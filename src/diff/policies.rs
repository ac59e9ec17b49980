//! Row level security policies: created, dropped, altered in place (roles, USING, WITH
//! CHECK), recreated when their command or permissiveness changes or an expression goes.

use super::comments::diff_comment;
use super::Phase;
use super::{ChangeKind, Diff, DiffError, Step};
use crate::ddl::role;
use crate::model::{quote_ident, ObjectId, Policy, SubName};

pub(super) fn diff(d: &mut Diff) -> Result<(), DiffError> {
    let (from, to) = (d.from, d.to);
    for (name, p) in &from.policies {
        if d.dropped_tables.contains(&name.table) {
            continue;
        }
        if !to.policies.contains_key(name) {
            drop(d, p, Phase::Contract);
        }
    }
    for (name, p) in &to.policies {
        let id = ObjectId::Policy(name.clone());
        let old = from
            .policies
            .get(name)
            .filter(|_| !d.dropped_tables.contains(&name.table));
        let Some(o) = old else {
            create(d, p, Phase::Expand);
            continue;
        };
        if d.recreated.contains_key(&id) || o == p {
            continue;
        }
        let in_place = o.command == p.command
            && o.permissive == p.permissive
            && (p.using.is_some() || o.using.is_none())
            && (p.with_check.is_some() || o.with_check.is_none());
        if !in_place {
            d.mark_recreated(&id, Phase::Expand);
            recreate(d, name, Phase::Expand)?;
            continue;
        }
        let mut sql = format!("ALTER POLICY {} ON {}", quote_ident(&p.name), p.table);
        let mut changed = false;
        if o.roles != p.roles {
            sql.push_str(&format!(" TO {}", roles(p)));
            changed = true;
        }
        if o.using != p.using {
            if let Some(u) = &p.using {
                sql.push_str(&format!(" USING ({u})"));
                changed = true;
            }
        }
        if o.with_check != p.with_check {
            if let Some(c) = &p.with_check {
                sql.push_str(&format!(" WITH CHECK ({c})"));
                changed = true;
            }
        }
        if changed {
            d.push(
                id.clone(),
                Step::Alter,
                ChangeKind::AlterPolicy,
                Phase::Expand,
                sql,
                vec![],
            );
        }
        diff_comment(d, &id, || target(p), Some(&o.comment), &p.comment);
    }
    Ok(())
}

fn roles(p: &Policy) -> String {
    if p.roles.is_empty() {
        "PUBLIC".to_string()
    } else {
        p.roles
            .iter()
            .map(|r| role(r))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn target(p: &Policy) -> String {
    format!("POLICY {} ON {}", quote_ident(&p.name), p.table)
}

fn drop(d: &mut Diff, p: &Policy, phase: Phase) {
    d.push(
        ObjectId::Policy(SubName::new(p.table.clone(), p.name.clone())),
        Step::Drop,
        ChangeKind::Drop,
        phase,
        format!("DROP {}", target(p)),
        vec![],
    );
}

fn create(d: &mut Diff, p: &Policy, phase: Phase) {
    let id = ObjectId::Policy(SubName::new(p.table.clone(), p.name.clone()));
    d.push_created(&id, phase, &crate::ddl::create_policy(p), vec![]);
}

pub(super) fn recreate(d: &mut Diff, name: &SubName, phase: Phase) -> Result<(), DiffError> {
    let (from, to) = (d.from, d.to);
    if let Some(p) = from.policies.get(name) {
        drop(d, p, phase);
    }
    if let Some(p) = to.policies.get(name) {
        create(d, p, phase);
    }
    Ok(())
}
