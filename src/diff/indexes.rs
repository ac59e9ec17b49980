//! Indexes (those not backing a constraint): created, dropped; a changed definition is a
//! drop and a create. Indexes of partitions attached to a partitioned index follow it.

use super::comments::diff_comment;
use super::hazard::{Hazard, BLOCKS_WRITES, INDEX_BUILD, MAY_FAIL, NON_CONCURRENT_INDEX};
use super::{ChangeKind, Diff, DiffError, Step};
use crate::config::Phase;
use crate::model::{Index, ObjectId, QualifiedName};

pub(super) fn diff(d: &mut Diff) -> Result<(), DiffError> {
    let (from, to) = (d.from, d.to);
    for (name, i) in &from.indexes {
        if i.parent.is_some() || d.dropped_tables.contains(&i.table) {
            continue;
        }
        match to.indexes.get(name) {
            None => drop(d, i, Phase::Contract),
            Some(n) if n.definition != i.definition => {
                let id = ObjectId::Index(name.clone());
                d.mark_recreated(&id, Phase::Expand);
                recreate(d, name, Phase::Expand)?;
            }
            Some(_) => {}
        }
    }
    for (name, i) in &to.indexes {
        if i.parent.is_some() {
            continue;
        }
        let id = ObjectId::Index(name.clone());
        // An index of a dropped table went with it, even when a new table's takes its name.
        let old = from
            .indexes
            .get(name)
            .filter(|o| !d.dropped_tables.contains(&o.table));
        match old {
            None => create(d, i, Phase::Expand),
            Some(o) if !d.recreated.contains_key(&id) => diff_comment(
                d,
                &id,
                &format!("INDEX {name}"),
                Some(&o.comment),
                &i.comment,
            ),
            Some(_) => {}
        }
    }
    Ok(())
}

fn drop(d: &mut Diff, i: &Index, phase: Phase) {
    d.push(
        ObjectId::Index(i.name.clone()),
        Step::Drop,
        ChangeKind::Drop,
        phase,
        format!("DROP INDEX {}", i.name),
        vec![],
    );
}

fn create(d: &mut Diff, i: &Index, phase: Phase) {
    let id = ObjectId::Index(i.name.clone());
    let mut hazards = vec![
        Hazard::new(
            INDEX_BUILD,
            format!("blocks writes to {} while it builds", i.table),
        ),
        Hazard::new(
            NON_CONCURRENT_INDEX,
            format!("{} already exists: built without CONCURRENTLY", i.table),
        ),
        Hazard::new(BLOCKS_WRITES, format!("SHARE lock on {}", i.table)),
    ];
    if i.unique {
        hazards.push(Hazard::new(
            MAY_FAIL,
            format!("fails if {} holds duplicates", i.table),
        ));
    }
    let hazards = d.on_live_table(&i.table, hazards);
    // pg_get_indexdef writes `ON ONLY` for a partitioned table's index; created without
    // ONLY it is built on every partition too, as the partitions' attached indexes are.
    let rendered = crate::ddl::create_index(i).replacen(" ON ONLY ", " ON ", 1);
    d.push_created(&id, phase, &rendered, hazards);
}

pub(super) fn recreate(d: &mut Diff, name: &QualifiedName, phase: Phase) -> Result<(), DiffError> {
    let (from, to) = (d.from, d.to);
    if let Some(i) = from.indexes.get(name) {
        drop(d, i, phase);
    }
    if let Some(i) = to.indexes.get(name) {
        create(d, i, phase);
    }
    Ok(())
}
