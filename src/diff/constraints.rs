//! Table constraints: added and dropped; a changed definition is a drop and an add (and
//! foreign keys that lean on a recreated key are recreated too); `NOT VALID` → valid is a
//! `VALIDATE CONSTRAINT`.

use super::comments::diff_comment;
use super::hazard::{
    Hazard, ACCESS_EXCLUSIVE, BLOCKS_WRITES, INDEX_BUILD, MAY_FAIL, VALIDATION_SCAN,
};
use super::{ChangeKind, Diff, DiffError, Step};
use super::{Op, Phase};
use crate::model::{
    quote_ident, storage_parameters, storage_parameters_clause, Constraint, ConstraintKind, Name,
    ObjectId, QualifiedName, Table,
};
use std::collections::BTreeMap;

/// Constraints of a table present on both sides.
pub(super) fn diff_table(d: &mut Diff, old: &Table, new: &Table) -> Result<(), DiffError> {
    let t = &new.name;
    // A detached partition keeps what it had from its partitioned table as its own.
    let detached = super::detach::detached(d, t);
    let renamed = if detached {
        renames(old, new)
    } else {
        BTreeMap::new()
    };
    for c in old.constraints.values() {
        if !c.local && !detached {
            continue;
        }
        if let Some(n) = renamed.get(c.name.as_str()) {
            rename(d, t, c, n);
            continue;
        }
        match new.constraints.get(&c.name) {
            Some(n) if same(c, n) => {}
            Some(n)
                if c.definition.replace(" NOT VALID", "") == n.definition
                    && !c.validated
                    && n.validated =>
            {
                d.push(
                    ObjectId::Constraint(t.clone(), c.name.clone()),
                    Step::Alter,
                    ChangeKind::AlterTable,
                    Phase::Contract,
                    Op::ValidateConstraint {
                        table: t.clone(),
                        name: c.name.to_string(),
                    },
                    vec![
                        Hazard::new(VALIDATION_SCAN, format!("scans {t}")),
                        Hazard::new(MAY_FAIL, format!("fails if rows of {t} violate it")),
                    ],
                );
            }
            Some(n) if only_index_options_differ(c, n) => alter_index_options(d, t, c, n),
            // Attached to a partitioned index now: attached in place.
            Some(n) if c.index_parent.is_none() && same_but_index_parent(c, n) => {
                if let Some(parent) = &n.index_parent {
                    attach(d, t, &c.name, parent);
                }
            }
            Some(_) => {
                let id = ObjectId::Constraint(t.clone(), c.name.clone());
                d.mark_recreated(&id, Phase::Expand);
                recreate(d, t, &c.name, Phase::Expand)?;
            }
            None => drop(d, t, c, Phase::Expand),
        }
    }
    for c in new.constraints.values() {
        if !c.local {
            continue;
        }
        let id = ObjectId::Constraint(t.clone(), c.name.clone());
        match old.constraints.get(&c.name) {
            None if renamed.values().any(|n| n.name == c.name) => {}
            None => {
                // On columns that already exist, a new constraint may reject what old code
                // writes: contract. On new columns it is part of the expansion.
                let existing = c.columns.iter().all(|col| old.columns.contains_key(col));
                let phase = if existing {
                    Phase::Contract
                } else {
                    Phase::Expand
                };
                add(d, t, c, phase);
            }
            // A partition's constraint that was its parent's (dropped with it) and is
            // now its own.
            Some(o) if !o.local && !still_inherited(d, new, c) && !detached => {
                add(d, t, c, Phase::Expand)
            }
            Some(o) if !d.recreated.contains_key(&id) => {
                diff_comment(d, &id, || target(t, &c.name), Some(&o.comment), &c.comment);
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The constraints of a detached partition (what it had from its partitioned table under
/// PostgreSQL's names, or its own) that `to` declares the same under another name: old
/// name → `to`'s constraint.
fn renames<'a>(old: &Table, new: &'a Table) -> BTreeMap<Name, &'a Constraint> {
    let mut out: BTreeMap<Name, &Constraint> = BTreeMap::new();
    for c in old.constraints.values() {
        if new.constraints.contains_key(&c.name) {
            continue;
        }
        let to = new.constraints.values().find(|n| {
            n.local
                && !old.constraints.contains_key(&n.name)
                && same_but_index_parent(c, n)
                && !out.values().any(|taken| taken.name == n.name)
        });
        if let Some(n) = to {
            out.insert(c.name.clone(), n);
        }
    }
    out
}

/// `ALTER TABLE ... RENAME CONSTRAINT` (a key's index is renamed with it), and its comment.
fn rename(d: &mut Diff, t: &QualifiedName, old: &Constraint, new: &Constraint) {
    let sql = format!(
        "ALTER TABLE {t} RENAME CONSTRAINT {} TO {}",
        quote_ident(&old.name),
        quote_ident(&new.name)
    );
    let id = ObjectId::Constraint(t.clone(), new.name.clone());
    let comments = (&old.comment, &new.comment);
    super::comments::rename_with_comment(d, id, sql, || target(t, &new.name), comments);
}

/// A check constraint a child holds both of its own and from its parent (same name) stays.
fn still_inherited(d: &Diff, child: &Table, c: &Constraint) -> bool {
    c.kind == ConstraintKind::Check
        && super::tables::parent_of(child)
            .and_then(|p| d.to.tables.get(p))
            .is_some_and(|p| p.constraints.contains_key(&c.name))
}

/// A key constraint whose index's storage parameters alone changed: `ALTER INDEX ... SET`
/// takes them in place (SHARE UPDATE EXCLUSIVE, no rebuild; new pages follow them), where a
/// drop and add would rebuild the index and recreate the foreign keys that lean on it.
fn only_index_options_differ(a: &Constraint, b: &Constraint) -> bool {
    let without = |c: &Constraint| {
        c.definition
            .replacen(&storage_parameters_clause(&c.index_options), "", 1)
    };
    a.index_options != b.index_options
        && a.kind == b.kind
        && a.validated == b.validated
        && without(a) == without(b)
}

fn alter_index_options(d: &mut Diff, t: &QualifiedName, old: &Constraint, new: &Constraint) {
    let index = format!("{}.{}", quote_ident(&t.schema), quote_ident(&new.name));
    let name = |option: &String| option.split('=').next().unwrap_or_default().to_string();
    let kept: Vec<String> = new.index_options.iter().map(name).collect();
    let reset: Vec<String> = old
        .index_options
        .iter()
        .map(name)
        .filter(|n| !kept.contains(n))
        .map(|n| quote_ident(&n))
        .collect();
    let set: Vec<String> = new
        .index_options
        .iter()
        .filter(|o| !old.index_options.contains(o))
        .cloned()
        .collect();
    let id = ObjectId::Constraint(t.clone(), new.name.clone());
    let mut sql = Vec::new();
    if !reset.is_empty() {
        sql.push(format!("ALTER INDEX {index} RESET ({})", reset.join(", ")));
    }
    if !set.is_empty() {
        sql.push(format!(
            "ALTER INDEX {index} SET ({})",
            storage_parameters(&set)
        ));
    }
    for statement in sql {
        d.push(
            id.clone(),
            Step::Alter,
            ChangeKind::AlterTable,
            Phase::Expand,
            Op::Sql(statement),
            vec![],
        );
    }
}

fn same(a: &Constraint, b: &Constraint) -> bool {
    same_but_index_parent(a, b) && a.index_parent == b.index_parent
}

fn same_but_index_parent(a: &Constraint, b: &Constraint) -> bool {
    a.definition == b.definition && a.validated == b.validated && a.kind == b.kind
}

/// `ALTER INDEX parent ATTACH PARTITION` of the index of constraint `name` of partition `t`.
fn attach(d: &mut Diff, t: &QualifiedName, name: &str, parent: &QualifiedName) {
    let id = ObjectId::Constraint(t.clone(), name.into());
    d.push(
        id.clone(),
        Step::Create,
        ChangeKind::AlterTable,
        Phase::Expand,
        format!(
            "ALTER INDEX {parent} ATTACH PARTITION {}",
            QualifiedName::new(t.schema.clone(), name)
        ),
        vec![],
    );
    d.before_creation
        .push((ObjectId::Index(parent.clone()), id));
}

/// A partition's key constraint that `to` holds as its partitioned table's (not `local`)
/// while that constraint of the partitioned table stays as it is: PostgreSQL only makes a
/// partition's share when the parent's constraint is added, so it is added to the partition
/// (unless it has it already, unattached) and its index attached to the parent's
/// (`ALTER TABLE ... ADD CONSTRAINT ... USING INDEX` is refused on a partitioned table, and
/// `ATTACH PARTITION` of an index needs a constraint on both sides). Called after the
/// indexes' diff: `gone` are the indexes of `from` that do not survive.
pub(super) fn attach_to_parent_constraints(
    d: &mut Diff,
    gone: &std::collections::BTreeSet<QualifiedName>,
) {
    let (from, to) = (d.from, d.to);
    for new in to.tables.values() {
        let Some(partition_of) = &new.partition_of else {
            continue;
        };
        let Some(old) = from.tables.get(&new.name) else {
            continue;
        };
        if d.created_tables.contains(&new.name) || old.partition_of != new.partition_of {
            continue;
        }
        for c in new.constraints.values().filter(|c| !c.local && is_key(c)) {
            let Some(parent) = surviving_parent_constraint(d, &partition_of.parent, c) else {
                continue;
            };
            let id = ObjectId::Constraint(new.name.clone(), c.name.clone());
            let (readd, attaches) = match old.constraints.get(&c.name) {
                Some(o) if !o.local => (false, false),
                Some(o) if d.recreated.contains_key(&id) => (false, o.local),
                Some(o) if same_but_index_parent(o, c) => {
                    let dropped = o.index_parent.as_ref().is_some_and(|p| gone.contains(p));
                    (dropped, o.index_parent.is_none() || dropped)
                }
                Some(_) => {
                    d.mark_recreated(&id, Phase::Expand);
                    drop(d, &new.name, &old.constraints[&c.name], Phase::Expand);
                    (true, true)
                }
                None => (true, true),
            };
            if readd {
                add(d, &new.name, c, Phase::Expand);
            }
            if attaches {
                attach(
                    d,
                    &new.name,
                    &c.name,
                    &QualifiedName::new(partition_of.parent.schema.clone(), parent),
                );
            }
        }
    }
}

fn is_key(c: &Constraint) -> bool {
    matches!(
        c.kind,
        ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion
    )
}

/// The name of the constraint of partitioned table `parent` that `c` (of a partition) is
/// the share of, when it is on both sides as it is and not made again.
fn surviving_parent_constraint(d: &Diff, parent: &QualifiedName, c: &Constraint) -> Option<Name> {
    let of = |s: &crate::model::Schema| {
        s.tables.get(parent).and_then(|p| {
            p.constraints
                .values()
                .find(|pc| pc.kind == c.kind && pc.columns == c.columns)
                .cloned()
        })
    };
    let (old, new) = (of(d.from)?, of(d.to)?);
    let id = ObjectId::Constraint(parent.clone(), new.name.clone());
    (old.name == new.name && same(&old, &new) && !d.recreated.contains_key(&id)).then_some(new.name)
}

fn target(t: &QualifiedName, name: &str) -> String {
    format!("CONSTRAINT {} ON {t}", quote_ident(name))
}

pub(super) fn drop(d: &mut Diff, t: &QualifiedName, c: &Constraint, phase: Phase) {
    d.push(
        ObjectId::Constraint(t.clone(), c.name.clone()),
        Step::Drop,
        ChangeKind::Drop,
        phase,
        Op::DropConstraint {
            table: t.clone(),
            name: c.name.to_string(),
        },
        vec![],
    );
}

pub(super) fn add(d: &mut Diff, t: &QualifiedName, c: &Constraint, phase: Phase) {
    let id = ObjectId::Constraint(t.clone(), c.name.clone());
    let mut hazards = Vec::new();
    match c.kind {
        ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion => {
            hazards.push(Hazard::new(INDEX_BUILD, format!("builds an index on {t}")));
            hazards.push(Hazard::new(
                ACCESS_EXCLUSIVE,
                format!("locks {t} while the index builds"),
            ));
            hazards.push(Hazard::new(
                MAY_FAIL,
                format!("fails if rows of {t} violate it"),
            ));
        }
        ConstraintKind::Check | ConstraintKind::ForeignKey if c.validated => {
            hazards.push(Hazard::new(
                VALIDATION_SCAN,
                format!("scans {t} to validate"),
            ));
            hazards.push(if c.kind == ConstraintKind::Check {
                Hazard::new(ACCESS_EXCLUSIVE, format!("locks {t} during the scan"))
            } else {
                Hazard::new(
                    BLOCKS_WRITES,
                    format!("locks {t} against writes during the scan"),
                )
            });
            hazards.push(Hazard::new(
                MAY_FAIL,
                format!("fails if rows of {t} violate it"),
            ));
        }
        _ => {}
    }
    let hazards = d.on_live_table(t, hazards);
    let op = Op::AddConstraint {
        table: t.clone(),
        name: c.name.to_string(),
        definition: c.definition.clone(),
        not_valid: false,
    };
    d.push_created_as(&id, phase, op, &crate::ddl::add_constraint(t, c), hazards);
}

pub(super) fn recreate(
    d: &mut Diff,
    t: &QualifiedName,
    name: &str,
    phase: Phase,
) -> Result<(), DiffError> {
    let (from, to) = (d.from, d.to);
    if !from.tables.contains_key(t) {
        // A domain's check constraint.
        return Err(super::unsupported(
            &ObjectId::Constraint(t.clone(), name.into()),
            "a domain check constraint cannot be dropped and created again around its dependencies",
        ));
    }
    if let Some(c) = from.tables.get(t).and_then(|x| x.constraints.get(name)) {
        drop(d, t, c, phase);
    }
    if let Some(c) = to.tables.get(t).and_then(|x| x.constraints.get(name)) {
        add(d, t, c, phase);
    }
    Ok(())
}
