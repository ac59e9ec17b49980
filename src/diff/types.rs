//! Types: enums (values added in place, renamed when only a label changed), composites
//! (attributes added, dropped, retyped), domains (default, NOT NULL, checks) and ranges.

use super::comments::diff_comment;
use super::hazard::{Hazard, DESTRUCTIVE, MAY_FAIL, VALIDATION_SCAN};
use super::privileges::{diff_grants, diff_owner, public_grant};
use super::Phase;
use super::{unsupported, ChangeKind, Diff, DiffError, Step};
use crate::model::{quote_ident, quote_literal, ObjectId, QualifiedName, TypeDef, TypeKind};

pub(super) fn diff(d: &mut Diff) -> Result<(), DiffError> {
    let (from, to) = (d.from, d.to);
    for (name, t) in from
        .types
        .iter()
        .filter(|(n, _)| !to.types.contains_key(*n))
    {
        d.push(
            ObjectId::Type(name.clone()),
            Step::Drop,
            ChangeKind::Drop,
            Phase::Contract,
            format!("DROP {} {name}", keyword(t)),
            vec![Hazard::new(DESTRUCTIVE, format!("drops type {name}"))],
        );
    }
    for (name, t) in &to.types {
        let id = ObjectId::Type(name.clone());
        let old = from.types.get(name);
        match old {
            None => {
                create(d, t);
                continue;
            }
            Some(old) if old.kind != t.kind => alter(d, old, t)?,
            Some(_) => {}
        }
        let target = format!("{} {name}", keyword(t));
        diff_owner(d, &id, &target, old.map(|o| &o.owner), &t.owner);
        diff_comment(d, &id, &target, old.map(|o| &o.comment), &t.comment);
        // A new type starts with PostgreSQL's default: USAGE for PUBLIC.
        let defaults = public_grant("USAGE");
        let before = old.map(|o| &o.grants).unwrap_or(&defaults);
        diff_grants(
            d,
            &id,
            &format!("TYPE {name}"),
            None,
            Some(before),
            &t.grants,
        );
    }
    Ok(())
}

fn keyword(t: &TypeDef) -> &'static str {
    match t.kind {
        TypeKind::Domain(_) => "DOMAIN",
        _ => "TYPE",
    }
}

fn create(d: &mut Diff, t: &TypeDef) {
    let id = ObjectId::Type(t.name.clone());
    d.push_created(&id, Phase::Expand, &crate::ddl::create_type(t), vec![]);
}

fn alter(d: &mut Diff, old: &TypeDef, new: &TypeDef) -> Result<(), DiffError> {
    let id = ObjectId::Type(new.name.clone());
    let name = &new.name;
    match (&old.kind, &new.kind) {
        (TypeKind::Enum(a), TypeKind::Enum(b)) => enum_values(d, &id, name, a, b),
        (TypeKind::Composite(a), TypeKind::Composite(b)) => {
            for attr in a.iter().filter(|x| !b.iter().any(|y| y.name == x.name)) {
                d.push(
                    id.clone(),
                    Step::Alter,
                    ChangeKind::AlterType,
                    Phase::Contract,
                    format!(
                        "ALTER TYPE {name} DROP ATTRIBUTE {}",
                        quote_ident(&attr.name)
                    ),
                    vec![Hazard::new(
                        DESTRUCTIVE,
                        format!("drops attribute {} of {name}", attr.name),
                    )],
                );
            }
            for attr in b {
                let mut ty = attr.data_type.clone();
                if let Some(c) = &attr.collation {
                    ty.push_str(&format!(" COLLATE {c}"));
                }
                match a.iter().find(|x| x.name == attr.name) {
                    None => d.push(
                        id.clone(),
                        Step::Alter,
                        ChangeKind::AlterType,
                        Phase::Expand,
                        format!(
                            "ALTER TYPE {name} ADD ATTRIBUTE {} {ty}",
                            quote_ident(&attr.name)
                        ),
                        vec![],
                    ),
                    Some(x) if x != attr => d.push(
                        id.clone(),
                        Step::Alter,
                        ChangeKind::AlterType,
                        Phase::Contract,
                        format!(
                            "ALTER TYPE {name} ALTER ATTRIBUTE {} TYPE {ty}",
                            quote_ident(&attr.name)
                        ),
                        vec![],
                    ),
                    Some(_) => {}
                }
            }
            let kept: Vec<&str> = a
                .iter()
                .filter(|x| b.iter().any(|y| y.name == x.name))
                .map(|x| x.name.as_str())
                .collect();
            let order: Vec<&str> = b
                .iter()
                .filter(|y| a.iter().any(|x| x.name == y.name))
                .map(|y| y.name.as_str())
                .collect();
            let appended_last = b
                .iter()
                .skip_while(|y| a.iter().any(|x| x.name == y.name))
                .all(|y| !a.iter().any(|x| x.name == y.name));
            if kept != order || !appended_last {
                return Err(unsupported(&id, "its attributes are reordered"));
            }
            Ok(())
        }
        (TypeKind::Domain(a), TypeKind::Domain(b)) => {
            if a.base_type != b.base_type || a.collation != b.collation {
                return Err(unsupported(
                    &id,
                    "the domain's base type or collation changes",
                ));
            }
            if a.default != b.default {
                let sql = match &b.default {
                    Some(def) => format!("ALTER DOMAIN {name} SET DEFAULT {def}"),
                    None => format!("ALTER DOMAIN {name} DROP DEFAULT"),
                };
                d.push(
                    id.clone(),
                    Step::Alter,
                    ChangeKind::AlterType,
                    Phase::Expand,
                    sql,
                    vec![],
                );
            }
            if a.not_null != b.not_null {
                let (sql, phase, hazards) = if b.not_null {
                    (
                        format!("ALTER DOMAIN {name} SET NOT NULL"),
                        Phase::Contract,
                        vec![Hazard::new(
                            VALIDATION_SCAN,
                            format!("checks every column of domain {name}"),
                        )],
                    )
                } else {
                    (
                        format!("ALTER DOMAIN {name} DROP NOT NULL"),
                        Phase::Expand,
                        vec![],
                    )
                };
                d.push(
                    id.clone(),
                    Step::Alter,
                    ChangeKind::AlterType,
                    phase,
                    sql,
                    hazards,
                );
            }
            for (cname, check) in &a.checks {
                let cid = ObjectId::Constraint(name.clone(), cname.clone());
                match b.checks.get(cname) {
                    Some(new) if new.definition == check.definition => {
                        if !check.validated && new.validated {
                            d.push(
                                cid.clone(),
                                Step::Alter,
                                ChangeKind::AlterType,
                                Phase::Contract,
                                format!(
                                    "ALTER DOMAIN {name} VALIDATE CONSTRAINT {}",
                                    quote_ident(cname)
                                ),
                                vec![Hazard::new(
                                    VALIDATION_SCAN,
                                    format!("checks every column of domain {name}"),
                                )],
                            );
                        } else if check.validated != new.validated {
                            return Err(unsupported(
                                &cid,
                                "a validated constraint cannot become NOT VALID",
                            ));
                        }
                    }
                    _ => d.push(
                        cid.clone(),
                        Step::Drop,
                        ChangeKind::Drop,
                        Phase::Expand,
                        format!("ALTER DOMAIN {name} DROP CONSTRAINT {}", quote_ident(cname)),
                        vec![],
                    ),
                }
            }
            for (cname, check) in &b.checks {
                let cid = ObjectId::Constraint(name.clone(), cname.clone());
                if a.checks
                    .get(cname)
                    .is_some_and(|c| c.definition == check.definition)
                {
                    diff_comment(
                        d,
                        &cid,
                        &format!("CONSTRAINT {} ON DOMAIN {name}", quote_ident(cname)),
                        a.checks.get(cname).map(|c| &c.comment),
                        &check.comment,
                    );
                    continue;
                }
                d.push(
                    cid.clone(),
                    Step::Create,
                    ChangeKind::AlterType,
                    Phase::Contract,
                    format!(
                        "ALTER DOMAIN {name} ADD CONSTRAINT {} {}",
                        quote_ident(cname),
                        check.definition
                    ),
                    vec![Hazard::new(
                        MAY_FAIL,
                        format!("checks every column of domain {name}"),
                    )],
                );
                diff_comment(
                    d,
                    &cid,
                    &format!("CONSTRAINT {} ON DOMAIN {name}", quote_ident(cname)),
                    None,
                    &check.comment,
                );
            }
            Ok(())
        }
        _ => Err(unsupported(
            &id,
            "the type's kind or definition changes in a way ALTER TYPE cannot express",
        )),
    }
}

/// New labels are added in place (`ADD VALUE ... BEFORE/AFTER`); a label whose position
/// keeps but whose text changes is renamed. Removing or reordering labels cannot be done in
/// place: that is an error.
fn enum_values(
    d: &mut Diff,
    id: &ObjectId,
    name: &QualifiedName,
    old: &[String],
    new: &[String],
) -> Result<(), DiffError> {
    let removed: Vec<&String> = old.iter().filter(|l| !new.contains(l)).collect();
    let added: Vec<&String> = new.iter().filter(|l| !old.contains(l)).collect();
    if removed.is_empty() {
        // Old labels must keep their relative order.
        let kept: Vec<&String> = new.iter().filter(|l| old.contains(l)).collect();
        if kept.iter().copied().ne(old.iter()) {
            return Err(unsupported(id, "its values are reordered"));
        }
        for label in added {
            let pos = new.iter().position(|l| l == label).unwrap();
            // Labels are added left to right: the previous label exists by now; the first
            // goes before the first old label.
            let clause = match pos.checked_sub(1) {
                Some(p) => format!(" AFTER {}", quote_literal(&new[p])),
                None => match old.first() {
                    Some(first) => format!(" BEFORE {}", quote_literal(first)),
                    None => String::new(),
                },
            };
            let mut change = super::Change {
                object: id.clone(),
                step: Step::Alter,
                kind: ChangeKind::AddEnumValue,
                phase: Phase::Expand,
                sql: format!(
                    "ALTER TYPE {name} ADD VALUE {}{clause}",
                    quote_literal(label)
                ),
                hazards: vec![],
                transactional: true,
            };
            // A new label cannot be used in the transaction that adds it.
            change.transactional = false;
            d.changes.push(change);
        }
        return Ok(());
    }
    if old.len() == new.len() {
        let renames: Vec<(&String, &String)> =
            old.iter().zip(new).filter(|(a, b)| a != b).collect();
        if renames
            .iter()
            .all(|(a, b)| !new.contains(a) && !old.contains(b))
        {
            for (a, b) in renames {
                d.push(
                    id.clone(),
                    Step::Alter,
                    ChangeKind::AlterType,
                    Phase::Expand,
                    format!(
                        "ALTER TYPE {name} RENAME VALUE {} TO {}",
                        quote_literal(a),
                        quote_literal(b)
                    ),
                    vec![],
                );
            }
            return Ok(());
        }
    }
    Err(unsupported(
        id,
        format!(
            "enum value(s) {} would be removed; PostgreSQL cannot drop an enum value",
            removed
                .iter()
                .map(|l| quote_literal(l))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}
