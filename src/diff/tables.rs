//! Tables: created (columns and non-foreign-key constraints inline, foreign keys added after
//! every table exists), dropped, and altered: columns (`columns.rs`), constraints
//! (`constraints.rs`), logged/unlogged, storage parameters, partition attachment,
//! inheritance, row level security, owner, comment, grants.

use super::comments::diff_comment;
use super::hazard::{Hazard, ACCESS_EXCLUSIVE, DESTRUCTIVE, TABLE_REWRITE};
use super::privileges::{diff_grants, diff_owner};
use super::Phase;
use super::{columns, constraints, rebuild, sequences, ChangeKind, Diff, DiffError, Step};
use crate::model::{Constraint, Index, ObjectId, QualifiedName, ReplicaIdentity, Table};

pub(super) fn diff(d: &mut Diff) -> Result<(), DiffError> {
    let (from, to) = (d.from, d.to);
    let dropped: Vec<&Table> = from
        .tables
        .values()
        .filter(|t| !to.tables.contains_key(&t.name))
        .collect();
    d.dropped_tables
        .extend(dropped.iter().map(|t| t.name.clone()));
    d.rebuilt_tables = rebuild::rebuilt(from, to);
    d.dropped_tables.extend(d.rebuilt_tables.iter().cloned());
    d.created_tables.extend(d.rebuilt_tables.iter().cloned());
    for t in dropped {
        // A partition of a rebuilt table: its rows are copied, it goes with the old table.
        let rebuilt_parent = t
            .partition_of
            .as_ref()
            .is_some_and(|p| d.rebuilt_tables.contains(&p.parent));
        if !rebuilt_parent {
            drop(d, t);
        }
    }
    alias_dropped_with_tables(d);
    for (name, t) in to
        .tables
        .iter()
        .filter(|(n, _)| !from.tables.contains_key(*n))
    {
        d.created_tables.insert(name.clone());
        create(d, t);
    }
    let phase = rebuild::phase(d);
    for (name, new) in &to.tables {
        match from.tables.get(name) {
            Some(old) if d.rebuilt_tables.contains(name) => {
                rebuild::rename_and_create(d, old, new, phase)
            }
            Some(old) => alter(d, old, new)?,
            None => {}
        }
    }
    rebuild::copy_and_drop(d, phase);
    sequences::ownership(d);
    Ok(())
}

fn drop(d: &mut Diff, t: &Table) {
    let id = ObjectId::Table(t.name.clone());
    // Foreign keys to other dropped tables go first, on their own: two tables that
    // reference each other could not be dropped in either order.
    let mut own = Vec::new();
    for c in t.constraints.values() {
        let cross = c.local
            && c.references
                .as_ref()
                .is_some_and(|r| r != &t.name && d.dropped_tables.contains(r));
        if cross {
            constraints::drop(d, &t.name, c, Phase::Contract);
            own.push(ObjectId::Constraint(t.name.clone(), c.name.clone()));
        }
    }
    for sub in sub_objects(t).into_iter().filter(|s| !own.contains(s)) {
        d.alias_from.insert(sub, id.clone());
    }
    if let Some(p) = t
        .partition_of
        .as_ref()
        .filter(|p| gains_partitions(d, &p.parent))
    {
        // Its bound may be taken by a partition made in the expand phase: it leaves the
        // partitioned table then, and goes with the contract phase.
        d.push(
            id.clone(),
            Step::Drop,
            ChangeKind::AlterTable,
            Phase::Expand,
            format!("ALTER TABLE {} DETACH PARTITION {}", p.parent, t.name),
            vec![Hazard::new(ACCESS_EXCLUSIVE, format!("locks {}", p.parent))],
        );
    }
    d.push(
        id,
        Step::Drop,
        ChangeKind::Drop,
        Phase::Contract,
        format!("DROP TABLE {}", t.name),
        vec![Hazard::new(
            DESTRUCTIVE,
            format!("drops table {} and its rows", t.name),
        )],
    );
}

/// Triggers, policies, indexes and statistics objects of dropped tables go with the table's DROP: their
/// dependencies (a trigger's function, an expression index's function) are the table's, so
/// a function they use is dropped after the table.
fn alias_dropped_with_tables(d: &mut Diff) {
    let from = d.from;
    let on_dropped = |t: &crate::model::QualifiedName| d.dropped_tables.contains(t);
    let mut subs: Vec<(ObjectId, ObjectId)> = Vec::new();
    for key in from.triggers.keys().filter(|k| on_dropped(&k.table)) {
        subs.push((
            ObjectId::Trigger(key.clone()),
            ObjectId::Table(key.table.clone()),
        ));
    }
    for key in from.policies.keys().filter(|k| on_dropped(&k.table)) {
        subs.push((
            ObjectId::Policy(key.clone()),
            ObjectId::Table(key.table.clone()),
        ));
    }
    for index in from.indexes.values().filter(|i| on_dropped(&i.table)) {
        subs.push((
            ObjectId::Index(index.name.clone()),
            ObjectId::Table(index.table.clone()),
        ));
    }
    for s in from.statistics.values().filter(|s| on_dropped(&s.table)) {
        subs.push((
            ObjectId::Statistics(s.name.clone()),
            ObjectId::Table(s.table.clone()),
        ));
    }
    d.alias_from.extend(subs);
}

/// Whether `parent` (on both sides) gets a partition it did not have, or one with a new bound.
fn gains_partitions(d: &Diff, parent: &QualifiedName) -> bool {
    d.from.tables.contains_key(parent)
        && d.to.tables.values().any(|t| {
            let Some(p) = t.partition_of.as_ref().filter(|p| &p.parent == parent) else {
                return false;
            };
            d.from.tables.get(&t.name).map(|o| o.partition_of.as_ref()) != Some(Some(p))
        })
}

/// Columns and constraints: they live and die with the table.
fn sub_objects(t: &Table) -> Vec<ObjectId> {
    let mut out: Vec<ObjectId> = t
        .columns
        .keys()
        .map(|c| ObjectId::Column(t.name.clone(), c.clone()))
        .collect();
    out.extend(
        t.constraints
            .keys()
            .map(|c| ObjectId::Constraint(t.name.clone(), c.clone())),
    );
    out
}

/// `CREATE TABLE` (with its columns, rendered by `crate::ddl`), then every constraint of
/// its own as `ALTER TABLE ... ADD CONSTRAINT` (after every table exists, so foreign keys
/// never form a cycle).
pub(super) fn create(d: &mut Diff, t: &Table) {
    let id = ObjectId::Table(t.name.clone());
    for c in t.columns.keys() {
        d.alias_to
            .insert(ObjectId::Column(t.name.clone(), c.clone()), id.clone());
    }
    if let Some((keys, indexes)) = taken_by_attach(d, t) {
        for c in &keys {
            d.alias_to.insert(
                ObjectId::Constraint(t.name.clone(), c.name.clone()),
                id.clone(),
            );
        }
        for i in &indexes {
            d.alias_to
                .insert(ObjectId::Index(i.name.clone()), id.clone());
        }
        let rendered = crate::ddl::tables::create_partition_then_attach(t, &keys, &indexes);
        d.push_created(&id, Phase::Expand, &rendered, vec![]);
        for c in t.constraints.values().filter(|c| c.local) {
            if !keys.iter().any(|k| k.name == c.name) {
                constraints::add(d, &t.name, c, Phase::Expand);
            }
        }
        return;
    }
    let mut rendered = crate::ddl::create_table(t);
    if let Some(parent) = parent_of(t).and_then(|p| d.to.tables.get(p)) {
        rendered.append(crate::ddl::tables::dropped_inherited_defaults(t, parent));
    }
    d.push_created(&id, Phase::Expand, &rendered, vec![]);
    for c in t.constraints.values().filter(|c| c.local) {
        constraints::add(d, &t.name, c, Phase::Expand);
    }
}

/// A new partition's own key constraints that back indexes its existing partitioned table
/// already has (`Constraint::index_parent`), and its indexes attached to such indexes under
/// another name than PostgreSQL would give them: `CREATE TABLE ... PARTITION OF` would
/// build the partition's share of those indexes itself (under PostgreSQL's name, and the
/// keys could then not be attached), so the partition is created as a table of its own
/// with these keys and indexes and attached after, which takes them as its shares
/// (`ddl::tables::create_partition_then_attach`). None when there are none, or when the
/// partition cannot be written as a plain table like it (identity or generated columns,
/// which `PARTITION OF` takes from the parent, or partitions of its own).
fn taken_by_attach<'a>(
    d: &Diff<'a>,
    t: &'a Table,
) -> Option<(Vec<&'a Constraint>, Vec<&'a Index>)> {
    let parent = &t.partition_of.as_ref()?.parent;
    let parent_is_new = !d.from.tables.contains_key(parent) || d.rebuilt_tables.contains(parent);
    if parent_is_new || t.partition_by.is_some() {
        return None;
    }
    let plain = |t: &Table| {
        t.columns
            .values()
            .all(|c| c.identity.is_none() && c.generated.is_none())
    };
    if !plain(t) || !d.to.tables.get(parent).is_some_and(plain) {
        return None;
    }
    let kept = |i: &QualifiedName| {
        let (old, new) = (d.from.indexes.get(i), d.to.indexes.get(i));
        old.is_some_and(|o| new.is_some_and(|n| o.definition == n.definition))
    };
    let keys: Vec<&Constraint> = t
        .constraints
        .values()
        .filter(|c| c.local)
        .filter(|c| c.index_parent.as_ref().is_some_and(kept))
        .collect();
    let to = d.to;
    let indexes: Vec<&Index> = to
        .indexes
        .values()
        .filter(|i| i.table == t.name && i.parent.as_ref().is_some_and(kept))
        .filter(|i| generated_index_name(i).as_deref() != Some(i.name.name.as_str()))
        .collect();
    (!keys.is_empty() || !indexes.is_empty()).then_some((keys, indexes))
}

/// The name `CREATE TABLE ... PARTITION OF` gives a partition's share of an index on plain
/// columns (`<table>_<columns>_idx`, PostgreSQL's `ChooseIndexName`); None where strata
/// does not tell it (expressions, `INCLUDE`, a name that would be truncated), and the
/// partition is then built before it is attached.
fn generated_index_name(i: &Index) -> Option<String> {
    let (_, rest) = i.definition.split_once(" USING ")?;
    let keys = rest.split_once('(')?.1;
    let (keys, after) = keys.split_once(')')?;
    if after.contains(" INCLUDE ") || keys.contains('(') {
        return None;
    }
    let plain = |w: &str| {
        w.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && w.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    let mut columns = Vec::new();
    for key in keys.split(", ") {
        let column = key.split(' ').next()?;
        if !plain(column) {
            return None;
        }
        columns.push(column);
    }
    let name = format!("{}_{}_idx", i.table.name, columns.join("_"));
    (name.len() < 64).then_some(name)
}

/// The partitioned table of a partition, or the first parent a child inherits from.
pub(super) fn parent_of(t: &Table) -> Option<&QualifiedName> {
    t.partition_of
        .as_ref()
        .map(|p| &p.parent)
        .or(t.inherits.first())
}

/// Whether `table` has partitions or inheritance children on either side.
pub(super) fn has_children(d: &Diff, table: &QualifiedName) -> bool {
    [d.from, d.to].iter().any(|s| {
        s.tables.values().any(|t| {
            t.partition_of.as_ref().is_some_and(|p| &p.parent == table)
                || t.inherits.contains(table)
        })
    })
}

/// `REPLICA IDENTITY`, once every other change is known: `USING INDEX` is set again after
/// its index is created or created again (as a change of the index or its constraint, so
/// it runs after it); the other forms are a change of the table.
pub(super) fn replica_identity(d: &mut Diff) {
    let (from, to) = (d.from, d.to);
    for (name, t) in &to.tables {
        let old = from.tables.get(name).map(|o| &o.replica_identity);
        let new = &t.replica_identity;
        let sql = crate::ddl::tables::replica_identity(name, new);
        match new {
            ReplicaIdentity::Index(index) => {
                let created = |d: &Diff, object: &ObjectId| {
                    d.changes
                        .iter()
                        .any(|c| &c.object == object && c.step == Step::Create)
                };
                let mut object =
                    ObjectId::Index(QualifiedName::new(name.schema.clone(), index.clone()));
                if let Some((table, constraint)) =
                    crate::ddl::tables::creating_constraint(to, name, index)
                {
                    // A partition's constraint comes with its parent's, or with the
                    // partition when that is created.
                    object = ObjectId::Constraint(table, constraint);
                    let own = ObjectId::Table(name.clone());
                    if !created(d, &object) && created(d, &own) {
                        object = own;
                    }
                }
                let rebuilt = created(d, &object);
                if old != Some(new) || rebuilt {
                    let phase = d
                        .changes
                        .iter()
                        .filter(|c| c.object == object)
                        .map(|c| c.phase)
                        .max()
                        .unwrap_or(Phase::Expand);
                    d.push_created(&object, phase, &sql, vec![]);
                }
            }
            _ if old.is_none() => {} // rendered with CREATE TABLE
            _ if old != Some(new) => {
                let sql = match sql.first() {
                    Some(statement) => statement.sql.clone(),
                    None => format!("ALTER TABLE {name} REPLICA IDENTITY DEFAULT"),
                };
                d.push(
                    ObjectId::Table(name.clone()),
                    Step::Alter,
                    ChangeKind::AlterTable,
                    Phase::Expand,
                    sql,
                    vec![],
                );
            }
            _ => {}
        }
    }
}

/// Row level security, owner, comment, grants.
fn attributes(d: &mut Diff, old: Option<&Table>, t: &Table) {
    let id = ObjectId::Table(t.name.clone());
    let name = &t.name;
    let (was_enabled, was_forced) = old
        .map(|o| (o.rls_enabled, o.rls_forced))
        .unwrap_or_default();
    if was_enabled != t.rls_enabled {
        let (verb, phase) = if t.rls_enabled {
            ("ENABLE", Phase::Contract)
        } else {
            ("DISABLE", Phase::Expand)
        };
        let phase = if old.is_none() { Phase::Expand } else { phase };
        d.push(
            id.clone(),
            Step::Create,
            ChangeKind::AlterTable,
            phase,
            format!("ALTER TABLE {name} {verb} ROW LEVEL SECURITY"),
            vec![],
        );
    }
    if was_forced != t.rls_forced {
        let verb = if t.rls_forced { "FORCE" } else { "NO FORCE" };
        d.push(
            id.clone(),
            Step::Create,
            ChangeKind::AlterTable,
            Phase::Expand,
            format!("ALTER TABLE {name} {verb} ROW LEVEL SECURITY"),
            vec![],
        );
    }
    let target = format!("TABLE {name}");
    diff_owner(d, &id, &target, old.map(|o| &o.owner), &t.owner);
    diff_comment(
        d,
        &id,
        || target.clone(),
        old.map(|o| &o.comment),
        &t.comment,
    );
    diff_grants(
        d,
        &id,
        || target.clone(),
        None,
        old.map(|o| &o.grants),
        &t.grants,
    );
}

fn alter(d: &mut Diff, old: &Table, new: &Table) -> Result<(), DiffError> {
    let id = ObjectId::Table(new.name.clone());
    let name = &new.name;
    match (&old.partition_of, &new.partition_of) {
        (a, b) if a == b => {}
        (a, b) => {
            if let Some(p) = a.as_ref().filter(|p| !d.rebuilt_tables.contains(&p.parent)) {
                // A partition re-attached (another bound or parent) is detached in the same
                // phase, before a partition that takes over part of its old bound is made.
                let phase = if b.is_some() {
                    Phase::Expand
                } else {
                    Phase::Contract
                };
                d.push(
                    id.clone(),
                    Step::Drop,
                    ChangeKind::AlterTable,
                    phase,
                    format!("ALTER TABLE {} DETACH PARTITION {name}", p.parent),
                    vec![Hazard::new(ACCESS_EXCLUSIVE, format!("locks {}", p.parent))],
                );
                if b.is_none() {
                    super::detach::follow(d, id.clone(), Some(Step::Drop), name, &p.parent);
                }
            }
            if let Some(p) = b {
                d.push(
                    id.clone(),
                    Step::Create,
                    ChangeKind::AlterTable,
                    Phase::Expand,
                    format!(
                        "ALTER TABLE {} ATTACH PARTITION {name} {}",
                        p.parent, p.bound
                    ),
                    vec![
                        Hazard::new(
                            super::hazard::VALIDATION_SCAN,
                            format!("scans {name} to check the bound"),
                        ),
                        Hazard::new(
                            super::hazard::MAY_FAIL,
                            format!("fails if rows of {name} are outside the bound"),
                        ),
                    ],
                );
            }
        }
    }
    if old.inherits != new.inherits {
        for p in old.inherits.iter().filter(|p| !new.inherits.contains(p)) {
            d.push(
                id.clone(),
                Step::Drop,
                ChangeKind::AlterTable,
                Phase::Contract,
                format!("ALTER TABLE {name} NO INHERIT {p}"),
                vec![],
            );
        }
        for p in new.inherits.iter().filter(|p| !old.inherits.contains(p)) {
            d.push(
                id.clone(),
                Step::Create,
                ChangeKind::AlterTable,
                Phase::Expand,
                format!("ALTER TABLE {name} INHERIT {p}"),
                vec![],
            );
        }
    }
    if old.unlogged != new.unlogged {
        let verb = if new.unlogged { "UNLOGGED" } else { "LOGGED" };
        d.push(
            id.clone(),
            Step::Alter,
            ChangeKind::AlterTable,
            Phase::Expand,
            format!("ALTER TABLE {name} SET {verb}"),
            vec![Hazard::new(TABLE_REWRITE, format!("rewrites {name}"))],
        );
    }
    if old.options != new.options {
        let removed: Vec<String> = old
            .options
            .iter()
            .map(|o| o.split('=').next().unwrap_or(o).to_string())
            .filter(|k| {
                !new.options
                    .iter()
                    .any(|n| n.split('=').next() == Some(k.as_str()))
            })
            .collect();
        if !removed.is_empty() {
            d.push(
                id.clone(),
                Step::Alter,
                ChangeKind::AlterTable,
                Phase::Expand,
                format!("ALTER TABLE {name} RESET ({})", removed.join(", ")),
                vec![],
            );
        }
        let set: Vec<&String> = new
            .options
            .iter()
            .filter(|o| !old.options.contains(o))
            .collect();
        if !set.is_empty() {
            d.push(
                id.clone(),
                Step::Alter,
                ChangeKind::AlterTable,
                Phase::Expand,
                format!(
                    "ALTER TABLE {name} SET ({})",
                    set.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                vec![],
            );
        }
    }
    // A detached partition's column changes run after the detach (`detach::follow`).
    let detached = as_detached(d, old, new);
    columns::diff_table(d, detached.as_ref().unwrap_or(old), new)?;
    constraints::diff_table(d, old, new)?;
    attributes(d, Some(old), new);
    Ok(())
}

/// A partition detached for good (in the contract phase: it stays as a table of its own) as
/// its partitioned table's changes leave it by then: with the columns added to that table
/// (`ADD COLUMN` recurses to partitions) and their new types (so does `ALTER COLUMN ...
/// TYPE`). Its columns' changes from that state to `to`'s (a column dropped again, a type
/// set back) run after the detach. A column the partitioned table drops while the detached
/// table keeps it is dropped after the detach.
fn as_detached(d: &mut Diff, old: &Table, new: &Table) -> Option<Table> {
    let p = old.partition_of.as_ref()?;
    if new.partition_of.is_some() || d.rebuilt_tables.contains(&p.parent) {
        return None;
    }
    // The detach makes every column its own.
    let mut out = old.clone();
    for c in out.columns.values_mut() {
        c.local = true;
    }
    let (from, to) = (d.from, d.to);
    let (Some(before), Some(after)) = (from.tables.get(&p.parent), to.tables.get(&p.parent)) else {
        return Some(out);
    };
    let detach = ObjectId::Table(old.name.clone());
    for name in &after.column_order.0 {
        let Some(c) = after.columns.get(name) else {
            continue;
        };
        let changed = match (before.columns.get(name), out.columns.get_mut(name)) {
            (None, None) => {
                let added = crate::model::Column {
                    local: true,
                    ..c.clone()
                };
                out.columns.insert(name.clone(), added);
                out.column_order.0.push(name.clone());
                true
            }
            (Some(b), Some(o)) if (&b.data_type, &b.collation) != (&c.data_type, &c.collation) => {
                o.data_type = c.data_type.clone();
                o.collation = c.collation.clone();
                true
            }
            _ => false,
        };
        if changed {
            let parents = ObjectId::Column(p.parent.clone(), name.clone());
            d.after.push((parents, None, detach.clone()));
        }
    }
    for name in before.columns.keys() {
        if !after.columns.contains_key(name) && new.columns.contains_key(name) {
            let parents = ObjectId::Column(p.parent.clone(), name.clone());
            d.after.push((detach.clone(), Some(Step::Drop), parents));
        }
    }
    Some(out)
}
