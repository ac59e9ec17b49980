//! Extended statistics objects (`CREATE STATISTICS`): created, dropped, made again when
//! their definition changes (kinds, columns, expressions, table), their target set in place
//! (`ALTER STATISTICS ... SET STATISTICS`). Those of a dropped table go with its `DROP
//! TABLE`; one that names a dropped column is dropped before the column (the dependency
//! edge orders it), since PostgreSQL drops it with the column and a later drop would fail.
//! A column type change needs no drop and create: PostgreSQL rebuilds the object itself,
//! but with the default target (its comment survives), so a target is set again after it.

use super::comments::diff_comment;
use super::privileges::diff_owner;
use super::{ChangeKind, Diff, DiffError, Phase, Step};
use crate::model::{ObjectId, QualifiedName, Statistics};

pub(super) fn diff(d: &mut Diff) -> Result<(), DiffError> {
    let (from, to) = (d.from, d.to);
    for (name, s) in &from.statistics {
        if d.dropped_tables.contains(&s.table) {
            continue;
        }
        match to.statistics.get(name) {
            None => drop(d, s, Phase::Contract),
            Some(n) if n.definition != s.definition => {
                let id = ObjectId::Statistics(name.clone());
                d.mark_recreated(&id, Phase::Expand);
                recreate(d, name, Phase::Expand)?;
            }
            Some(_) => {}
        }
    }
    for (name, s) in &to.statistics {
        let id = ObjectId::Statistics(name.clone());
        let old = from
            .statistics
            .get(name)
            .filter(|o| !d.dropped_tables.contains(&o.table));
        match old {
            None => create(d, s, Phase::Expand),
            Some(_) if d.recreated.contains_key(&id) => {}
            Some(o) => {
                if o.target != s.target {
                    let sql = crate::ddl::set_statistics_target(s, s.target.unwrap_or(-1));
                    d.push(
                        id.clone(),
                        Step::Create,
                        ChangeKind::AlterStatistics,
                        Phase::Expand,
                        sql,
                        vec![],
                    );
                }
                let target = format!("STATISTICS {name}");
                diff_owner(d, &id, &target, Some(&o.owner), &s.owner);
                diff_comment(d, &id, || target.clone(), Some(&o.comment), &s.comment);
            }
        }
    }
    Ok(())
}

/// `ALTER STATISTICS ... SET STATISTICS n` again after a type change of a column the
/// object uses: PostgreSQL's rebuild of it leaves the default target.
pub(super) fn restore_targets(d: &mut Diff) {
    let (from, to) = (d.from, d.to);
    for (name, s) in &to.statistics {
        let id = ObjectId::Statistics(name.clone());
        let (Some(target), Some(old)) = (s.target, from.statistics.get(name)) else {
            continue;
        };
        if d.recreated.contains_key(&id)
            || d.dropped_tables.contains(&old.table)
            || d.changes
                .iter()
                .any(|c| c.object == id && c.kind == ChangeKind::AlterStatistics)
        {
            continue;
        }
        let columns = from.dependencies.get(&id).into_iter().flatten();
        let retyped = columns
            .filter(|dep| matches!(dep, ObjectId::Column(..)))
            .find_map(|dep| {
                let phase = d.rebuild_dependents.get(dep).copied();
                phase.or_else(|| d.retyped_columns.contains(dep).then_some(Phase::Expand))
            });
        let Some(phase) = retyped else {
            continue;
        };
        let sql = crate::ddl::set_statistics_target(s, target);
        d.push(
            id,
            Step::Create,
            ChangeKind::AlterStatistics,
            phase,
            sql,
            vec![],
        );
    }
}

fn drop(d: &mut Diff, s: &Statistics, phase: Phase) {
    d.push(
        ObjectId::Statistics(s.name.clone()),
        Step::Drop,
        ChangeKind::Drop,
        phase,
        format!("DROP STATISTICS {}", s.name),
        vec![],
    );
}

fn create(d: &mut Diff, s: &Statistics, phase: Phase) {
    let id = ObjectId::Statistics(s.name.clone());
    d.push_created(&id, phase, &crate::ddl::create_statistics(s), vec![]);
}

pub(super) fn recreate(d: &mut Diff, name: &QualifiedName, phase: Phase) -> Result<(), DiffError> {
    let (from, to) = (d.from, d.to);
    if let Some(s) = from
        .statistics
        .get(name)
        .filter(|s| !d.dropped_tables.contains(&s.table))
    {
        drop(d, s, phase);
    }
    if let Some(s) = to.statistics.get(name) {
        create(d, s, phase);
    }
    Ok(())
}
