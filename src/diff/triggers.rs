//! Triggers: created, dropped, recreated when their definition changes, and enabled or
//! disabled in place.

use super::comments::diff_comment;
use super::Phase;
use super::{ChangeKind, Diff, DiffError, Step};
use crate::model::{quote_ident, ObjectId, SubName, Trigger, TriggerEnabled};

pub(super) fn diff(d: &mut Diff) -> Result<(), DiffError> {
    let (from, to) = (d.from, d.to);
    for (name, t) in &from.triggers {
        if d.dropped_tables.contains(&name.table) {
            continue;
        }
        match to.triggers.get(name) {
            None => drop(d, t, Phase::Contract),
            Some(n) if n.definition != t.definition => {
                let id = ObjectId::Trigger(name.clone());
                d.mark_recreated(&id, Phase::Expand);
                recreate(d, name, Phase::Expand)?;
            }
            Some(_) => {}
        }
    }
    for (name, t) in &to.triggers {
        let id = ObjectId::Trigger(name.clone());
        let old = from
            .triggers
            .get(name)
            .filter(|_| !d.dropped_tables.contains(&name.table));
        match old {
            None => create(d, t, Phase::Expand),
            Some(_) if d.recreated.contains_key(&id) => {}
            Some(o) => {
                if o.enabled != t.enabled {
                    enable(d, t, Phase::Expand);
                }
                diff_comment(d, &id, || target(t), Some(&o.comment), &t.comment);
            }
        }
    }
    Ok(())
}

fn target(t: &Trigger) -> String {
    format!("TRIGGER {} ON {}", quote_ident(&t.name), t.table)
}

fn enable(d: &mut Diff, t: &Trigger, phase: Phase) {
    let verb = match t.enabled {
        TriggerEnabled::Origin => "ENABLE",
        TriggerEnabled::Disabled => "DISABLE",
        TriggerEnabled::Replica => "ENABLE REPLICA",
        TriggerEnabled::Always => "ENABLE ALWAYS",
    };
    d.push(
        ObjectId::Trigger(SubName::new(t.table.clone(), t.name.clone())),
        Step::Create,
        ChangeKind::AlterTrigger,
        phase,
        format!(
            "ALTER TABLE {} {verb} TRIGGER {}",
            t.table,
            quote_ident(&t.name)
        ),
        vec![],
    );
}

fn drop(d: &mut Diff, t: &Trigger, phase: Phase) {
    d.push(
        ObjectId::Trigger(SubName::new(t.table.clone(), t.name.clone())),
        Step::Drop,
        ChangeKind::Drop,
        phase,
        format!("DROP {}", target(t)),
        vec![],
    );
}

fn create(d: &mut Diff, t: &Trigger, phase: Phase) {
    let id = ObjectId::Trigger(SubName::new(t.table.clone(), t.name.clone()));
    d.push_created(&id, phase, &crate::ddl::create_trigger(t), vec![]);
}

pub(super) fn recreate(d: &mut Diff, name: &SubName, phase: Phase) -> Result<(), DiffError> {
    let (from, to) = (d.from, d.to);
    if let Some(t) = from.triggers.get(name) {
        drop(d, t, phase);
    }
    if let Some(t) = to.triggers.get(name) {
        create(d, t, phase);
    }
    Ok(())
}
