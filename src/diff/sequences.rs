//! Sequences: created, dropped, altered in place (type, increment, bounds, start, cache,
//! cycle, logged), and their `OWNED BY`.

use super::comments::diff_comment;
use super::hazard::{Hazard, DESTRUCTIVE};
use super::privileges::{diff_grants, diff_owner};
use super::Phase;
use super::{ChangeKind, Diff, DiffError, Step};
use crate::model::{
    quote_ident, quote_literal, ObjectId, QualifiedName, Sequence, SequenceOptions,
};

pub(super) fn diff(d: &mut Diff) -> Result<(), DiffError> {
    let (from, to) = (d.from, d.to);
    for (name, s) in from
        .sequences
        .iter()
        .filter(|(n, _)| !to.sequences.contains_key(*n))
    {
        // A sequence owned by a column goes with the column (or its table).
        if let Some((table, column)) = &s.owned_by {
            let column_gone = !to
                .tables
                .get(table)
                .is_some_and(|t| t.columns.contains_key(column));
            if column_gone {
                continue;
            }
        }
        if let Some((table, column)) = serial_made_identity(d, s) {
            retire(d, name, table, column);
            continue;
        }
        d.push(
            ObjectId::Sequence(name.clone()),
            Step::Drop,
            ChangeKind::Drop,
            Phase::Contract,
            format!("DROP SEQUENCE {name}"),
            vec![Hazard::new(
                DESTRUCTIVE,
                format!("drops sequence {name} and its current value"),
            )],
        );
    }
    for (name, s) in &to.sequences {
        let id = ObjectId::Sequence(name.clone());
        let old = from.sequences.get(name);
        match old {
            None => {
                d.push_created(&id, Phase::Expand, &crate::ddl::create_sequence(s), vec![]);
                continue;
            }
            Some(old) => {
                if old.options != s.options {
                    let mut parts = alter_options(&old.options, &s.options);
                    let bound = moved_bound(name, &old.options, &s.options);
                    if let Some((clause, _)) = &bound {
                        parts.retain(|p| p != clause);
                    }
                    let mut statements = Vec::new();
                    if !parts.is_empty() {
                        statements.push(format!("ALTER SEQUENCE {name} {}", parts.join(" ")));
                    }
                    if let Some((clause, setval)) = bound {
                        statements.push(setval);
                        statements.push(format!("ALTER SEQUENCE {name} {clause}"));
                    }
                    for sql in statements {
                        d.push(
                            id.clone(),
                            Step::Alter,
                            ChangeKind::AlterSequence,
                            Phase::Expand,
                            sql,
                            vec![],
                        );
                    }
                }
                if old.unlogged != s.unlogged {
                    d.push(
                        id.clone(),
                        Step::Alter,
                        ChangeKind::AlterSequence,
                        Phase::Expand,
                        format!(
                            "ALTER SEQUENCE {name} SET {}",
                            if s.unlogged { "UNLOGGED" } else { "LOGGED" }
                        ),
                        vec![],
                    );
                }
            }
        }
        let target = format!("SEQUENCE {name}");
        diff_owner(d, &id, &target, old.map(|o| &o.owner), &s.owner);
        diff_comment(
            d,
            &id,
            || target.clone(),
            old.map(|o| &o.comment),
            &s.comment,
        );
        diff_grants(
            d,
            &id,
            || target.clone(),
            None,
            old.map(|o| &o.grants),
            &s.grants,
        );
    }
    Ok(())
}

/// A serial's sequence whose name the column's new identity takes: the column, if so.
pub(super) fn serial_made_identity<'a>(
    d: &Diff,
    s: &'a Sequence,
) -> Option<&'a (crate::model::QualifiedName, crate::model::Name)> {
    let owner = s.owned_by.as_ref()?;
    let before = d.from.tables.get(&owner.0)?.columns.get(&owner.1)?;
    let after = d.to.tables.get(&owner.0)?.columns.get(&owner.1)?;
    let takes_name = after.identity.as_ref()?.sequence == s.name;
    (takes_name && before.identity.is_none()).then_some(owner)
}

/// The serial's sequence is renamed out of the way rather than dropped, so the identity's
/// `setval` can continue after its last value (`columns::continue_after_rows`); it is
/// dropped once the column has its identity.
fn retire(
    d: &mut Diff,
    name: &crate::model::QualifiedName,
    table: &crate::model::QualifiedName,
    column: &str,
) {
    let retired = super::types::retired_name(name);
    d.push(
        ObjectId::Sequence(name.clone()),
        Step::Drop,
        ChangeKind::AlterSequence,
        Phase::Contract,
        format!(
            "ALTER SEQUENCE {name} RENAME TO {}",
            quote_ident(&retired.name)
        ),
        vec![],
    );
    d.push(
        ObjectId::Sequence(retired.clone()),
        Step::Drop,
        ChangeKind::Drop,
        Phase::Contract,
        format!("DROP SEQUENCE {retired}"),
        vec![Hazard::new(
            DESTRUCTIVE,
            format!("drops sequence {name} (renamed {retired}) once identity {table}.{} continues after it", quote_ident(column)),
        )],
    );
    let retired_id = ObjectId::Sequence(retired);
    d.after
        .push((ObjectId::Sequence(name.clone()), None, retired_id.clone()));
    d.after.push((
        ObjectId::Column(table.clone(), column.into()),
        None,
        retired_id,
    ));
}

/// `OWNED BY` changes, after tables and columns exist (called after `tables::diff`). The
/// change is on the owning column, so it orders after the column's creation.
pub(super) fn ownership(d: &mut Diff) {
    let (from, to) = (d.from, d.to);
    for (name, s) in &to.sequences {
        let old: Option<&Sequence> = from.sequences.get(name);
        let before = old.and_then(|o| o.owned_by.clone());
        if before == s.owned_by {
            continue;
        }
        let detached = before
            .as_ref()
            .filter(|o| owner_goes(d, o))
            .and_then(|owner| detach(d, name, owner));
        if detached.is_some() && s.owned_by.is_none() {
            continue;
        }
        let (object, target) = match &s.owned_by {
            Some((table, column)) => (
                ObjectId::Column(table.clone(), column.clone()),
                format!("{table}.{}", quote_ident(column)),
            ),
            None => (ObjectId::Sequence(name.clone()), "NONE".to_string()),
        };
        // After the detach and the drop it goes with, in the drop's phase.
        let phase = match &detached {
            Some((dropped, phase)) => {
                d.after
                    .push((dropped.clone(), Some(Step::Drop), object.clone()));
                *phase
            }
            None => Phase::Expand,
        };
        d.push(
            object,
            Step::Create,
            ChangeKind::AlterSequence,
            phase,
            format!("ALTER SEQUENCE {name} OWNED BY {target}"),
            vec![],
        );
    }
}

/// Whether the column owning a sequence is dropped (or dropped and created again), alone or
/// with its table: the drop would take the sequence with it.
fn owner_goes(d: &Diff, (table, column): &(QualifiedName, crate::model::Name)) -> bool {
    d.dropped_tables.contains(table)
        || d.recreated.contains_key(&ObjectId::Table(table.clone()))
        || d.recreated
            .contains_key(&ObjectId::Column(table.clone(), column.clone()))
        || !d
            .to
            .tables
            .get(table)
            .is_some_and(|t| t.columns.contains_key(column))
}

/// `OWNED BY NONE` before the owning column or its table is dropped, so the sequence
/// survives for its new owner (a table renamed as a drop and a create keeps its sequence).
/// It goes right before that drop, as a change of the dropped object: ordered as the drop
/// is, with nothing between them.
/// Returns the dropped object and the drop's phase.
fn detach(
    d: &mut Diff,
    name: &QualifiedName,
    (table, column): &(QualifiedName, crate::model::Name),
) -> Option<(ObjectId, Phase)> {
    let owners = [
        ObjectId::Table(table.clone()),
        ObjectId::Column(table.clone(), column.clone()),
    ];
    let at = d
        .changes
        .iter()
        .position(|c| c.step == Step::Drop && owners.contains(&c.object))?;
    let drop = &d.changes[at];
    let dropped = (drop.object.clone(), drop.phase);
    let detach = super::Change {
        object: drop.object.clone(),
        step: Step::Drop,
        kind: ChangeKind::AlterSequence,
        phase: drop.phase,
        op: format!("ALTER SEQUENCE {name} OWNED BY NONE").into(),
        hazards: vec![],
        transactional: true,
    };
    d.changes.insert(at, detach);
    Some(dropped)
}

pub(super) fn options_sql(o: &SequenceOptions) -> String {
    format!(
        "AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {} {}",
        o.data_type,
        o.increment,
        o.min_value,
        o.max_value,
        o.start,
        o.cache,
        if o.cycle { "CYCLE" } else { "NO CYCLE" }
    )
}

/// The clauses that differ (shared with identity columns: `SET ...` there).
pub(super) fn changed_options(a: &SequenceOptions, b: &SequenceOptions) -> Vec<String> {
    let mut out = Vec::new();
    if a.increment != b.increment {
        out.push(format!("INCREMENT BY {}", b.increment));
    }
    if a.min_value != b.min_value {
        out.push(format!("MINVALUE {}", b.min_value));
    }
    if a.max_value != b.max_value {
        out.push(format!("MAXVALUE {}", b.max_value));
    }
    if a.start != b.start {
        out.push(format!("START WITH {}", b.start));
    }
    if a.cache != b.cache {
        out.push(format!("CACHE {}", b.cache));
    }
    if a.cycle != b.cycle {
        out.push(if b.cycle {
            "CYCLE".into()
        } else {
            "NO CYCLE".into()
        });
    }
    out
}

fn alter_options(a: &SequenceOptions, b: &SequenceOptions) -> Vec<String> {
    let mut parts = Vec::new();
    if a.data_type != b.data_type {
        parts.push(format!("AS {}", b.data_type));
    }
    parts.extend(changed_options(a, b));
    parts
}

/// A bound moved past where the sequence may stand: an ascending sequence's MINVALUE
/// raised, a descending one's MAXVALUE lowered. PostgreSQL refuses the ALTER when the
/// current value is outside the new range ("RESTART value (1) cannot be less than
/// MINVALUE (100)"), and the diff cannot know the value. So the bound's clause (returned
/// first, as `changed_options` writes it) moves last, after a `setval` that puts a value
/// outside the new range at the new START (the first value `nextval` then returns) and
/// leaves one inside it as it is: never a value handed out twice, never a `RESTART` that
/// would go back below values already used.
pub(super) fn moved_bound(
    seq: &crate::model::QualifiedName,
    a: &SequenceOptions,
    b: &SequenceOptions,
) -> Option<(String, String)> {
    let (clause, outside) = if b.increment > 0 && b.min_value > a.min_value {
        (
            format!("MINVALUE {}", b.min_value),
            format!("last_value < {}", b.min_value),
        )
    } else if b.increment < 0 && b.max_value < a.max_value {
        (
            format!("MAXVALUE {}", b.max_value),
            format!("last_value > {}", b.max_value),
        )
    } else {
        return None;
    };
    let setval = format!(
        "SELECT pg_catalog.setval({}::regclass, CASE WHEN {outside} THEN {} ELSE last_value END, is_called AND NOT ({outside})) FROM {seq}",
        quote_literal(&seq.to_string()),
        b.start,
    );
    Some((clause, setval))
}
