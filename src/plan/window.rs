//! No window without an object the deployed code uses (issue 17): when a change forces
//! dependents (views, functions, triggers, policies) to be dropped and created again, the
//! drop, the change that needed it and the recreation are made consecutive transactional
//! statements of the stage, so the run executes them as one transaction (one group, under
//! `lock_timeout`, retried whole). Statements that cannot share that transaction are moved out
//! of the window: an enum's `ADD VALUE` before the drop, a backfill, a `VALIDATE` or a
//! concurrent build after the recreation. What cannot be moved leaves a window, which the drop
//! says with the hazard `breaks_deployed_code`.

use crate::diff::hazard::{Hazard, BREAKS_DEPLOYED_CODE};
use crate::diff::{Change, ChangeKind, Op, Step};
use crate::model::{FunctionSig, ObjectId, Schema};
use std::collections::{BTreeMap, BTreeSet};

/// The changes of one stage, reordered so that every dependent dropped and created again is
/// missing only inside one transaction.
pub fn close_windows(changes: Vec<Change>, current: &Schema, desired: &Schema) -> Vec<Change> {
    let recreated = recreated(&changes, current);
    let mut changes = mark_unrecreated_drops(changes, desired, &recreated);
    if recreated.is_empty() {
        return changes;
    }
    let (drops, mut creates, rest) = split(std::mem::take(&mut changes), &recreated);
    let drops = views_first(drops, current);
    let from_deps = dependencies(current, &recreated);
    let to_deps = dependencies(desired, &recreated);
    let rebuilt = rebuilt_types(&rest);
    let is_kept = |c: &Change| {
        !rebuilt.contains(&c.object) && (is_cause(c, &from_deps) || is_needed(c, &to_deps))
    };
    let (stop_using, rest) = users(rest, Step::Drop, current, &recreated, &is_kept);
    let (start_using, rest) = users(rest, Step::Create, desired, &recreated, &is_kept);
    let (stop_alone, stop_in): (Vec<Change>, Vec<Change>) =
        stop_using.into_iter().partition(|c| !c.transactional);
    let (start_alone, mut start_in): (Vec<Change>, Vec<Change>) =
        start_using.into_iter().partition(|c| !c.transactional);
    let stop_alone = mark_missing_unique_indexes(stop_alone, current);
    let mut drops: Vec<Change> = stop_in.into_iter().chain(drops).collect();
    let kept: Vec<usize> = rest
        .iter()
        .enumerate()
        .filter(|(_, c)| is_kept(c))
        .map(|(i, _)| i)
        .collect();
    let (lo, hi) = match (kept.first(), kept.last()) {
        (Some(lo), Some(hi)) => (*lo, *hi),
        _ => {
            // Nothing in the stage needs them gone: the drop and the creation, side by side,
            // with what stops and starts using them around them.
            let mut out = rest;
            out.extend(stop_alone);
            out.append(&mut drops);
            out.append(&mut creates);
            out.append(&mut start_in);
            out.extend(start_alone);
            return retired_signatures(out);
        }
    };
    // An online type change's column, trigger and backfill precede its swap.
    let mut last_kept: BTreeMap<&ObjectId, usize> = BTreeMap::new();
    for &i in &kept {
        last_kept.insert(&rest[i].object, i);
    }
    let prepares: BTreeSet<usize> = (lo..=hi)
        .filter(|i| !kept.contains(i))
        .filter(|&i| last_kept.get(&rest[i].object).is_some_and(|&k| k > i))
        .collect();
    let mut rest = rest.into_iter().enumerate();
    let mut out: Vec<Change> = rest.by_ref().take(lo).map(|(_, c)| c).collect();
    out.extend(stop_alone);
    let (mut inside, mut after) = (Vec::new(), Vec::new());
    for (i, c) in rest.by_ref().take(hi + 1 - lo) {
        if kept.contains(&i) {
            inside.push(c);
        } else if prepares.contains(&i) || (!c.transactional && c.kind == ChangeKind::AddEnumValue)
        {
            out.push(c);
        } else {
            after.push(c);
        }
    }
    if let Some(blocker) = inside.iter().find(|c| !c.transactional) {
        let detail = format!(
            "missing from its drop until its creation: `{}` cannot run in their transaction",
            first_line(&blocker.sql())
        );
        for d in &mut drops {
            d.hazards.push(Hazard::new(
                BREAKS_DEPLOYED_CODE,
                format!("{} is {detail}", d.object),
            ));
        }
    }
    out.append(&mut drops);
    out.append(&mut inside);
    out.append(&mut creates);
    out.append(&mut start_in);
    out.append(&mut after);
    out.extend(start_alone);
    out.extend(rest.map(|(_, c)| c));
    retired_signatures(out)
}

/// The changes of `rest` on `step` (`Drop`: what stops using the recreated objects, as
/// `schema` is before the stage; `Create`: what starts using them, as `schema` is after it),
/// transitively, that the window does not hold otherwise: a column's default, a CHECK or an
/// index over a recreated function. PostgreSQL refuses the function's drop while they use it,
/// and they cannot use the new function before it exists, so they go right before the drops
/// and right after the creations, in the window's transaction where they can (the deployed
/// code never sees a column without its default), around it where they cannot (a concurrent
/// index build). Returns them and the rest, each in its order.
fn users(
    rest: Vec<Change>,
    step: Step,
    schema: &Schema,
    recreated: &BTreeSet<ObjectId>,
    kept: &dyn Fn(&Change) -> bool,
) -> (Vec<Change>, Vec<Change>) {
    let mut used: BTreeSet<ObjectId> = recreated.clone();
    let mut taken = vec![false; rest.len()];
    loop {
        let mut grew = false;
        for (i, c) in rest.iter().enumerate() {
            if taken[i] || c.step != step || kept(c) {
                continue;
            }
            if uses(schema, &c.object).iter().any(|o| used.contains(o)) {
                taken[i] = true;
                grew = true;
                // What uses an object dropped or created whole goes with it in turn.
                if matches!(
                    c.kind,
                    ChangeKind::Drop
                        | ChangeKind::DropColumn
                        | ChangeKind::Create
                        | ChangeKind::AddColumn
                ) {
                    used.extend(parts(schema, &c.object));
                }
            }
        }
        // Every change on an object taken goes with it (a constraint's validation).
        for (i, c) in rest.iter().enumerate() {
            if !taken[i] && c.step == step && used.contains(&c.object) && !kept(c) {
                taken[i] = true;
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    let (mut users, mut others) = (Vec::new(), Vec::new());
    for (c, t) in rest.into_iter().zip(taken) {
        if t {
            users.push(c);
        } else {
            others.push(c);
        }
    }
    (users, others)
}

/// What `object` uses in `schema`; a table, what its columns and constraints use (they are
/// created and dropped with it).
fn uses(schema: &Schema, object: &ObjectId) -> BTreeSet<ObjectId> {
    parts(schema, object)
        .iter()
        .flat_map(|part| schema.dependencies.get(part).into_iter().flatten())
        .cloned()
        .collect()
}

/// `object`, and for a table its columns and constraints.
fn parts(schema: &Schema, object: &ObjectId) -> Vec<ObjectId> {
    let mut out = vec![object.clone()];
    if let Some(table) = match object {
        ObjectId::Table(name) => schema.tables.get(name),
        _ => None,
    } {
        let name = &table.name;
        out.extend(
            table
                .columns
                .keys()
                .map(|c| ObjectId::Column(name.clone(), c.clone())),
        );
        out.extend(
            table
                .constraints
                .keys()
                .map(|c| ObjectId::Constraint(name.clone(), c.clone())),
        );
    }
    out
}

/// A unique index dropped concurrently before the window (it uses a recreated function) is
/// missing until it is built again after it: writes that rely on it (`ON CONFLICT`) fail.
fn mark_missing_unique_indexes(mut drops: Vec<Change>, current: &Schema) -> Vec<Change> {
    for d in &mut drops {
        let unique = match &d.object {
            ObjectId::Index(name) => current.indexes.get(name).is_some_and(|i| i.unique),
            _ => false,
        };
        if unique && d.step == Step::Drop && d.kind == ChangeKind::Drop {
            d.hazards.push(Hazard::new(
                BREAKS_DEPLOYED_CODE,
                format!(
                    "{} is missing from its drop until it is built again, after the function it uses is created: writes relying on its uniqueness (ON CONFLICT) fail meanwhile",
                    d.object
                ),
            ));
        }
    }
    drops
}

/// A function dropped after a type of its signature was renamed out of the way
/// (`diff::types` rebuilds it) is named with the type's retired name: the type's own name
/// means the new type by then.
fn retired_signatures(mut changes: Vec<Change>) -> Vec<Change> {
    let mut renamed: Vec<(String, String)> = Vec::new();
    for c in &mut changes {
        match (&c.object, c.step, c.kind) {
            (ObjectId::Type(name), Step::Drop, ChangeKind::AlterType) => {
                let retired = crate::diff::retired_type_name(name);
                renamed.push((name.to_string(), retired.to_string()));
            }
            (ObjectId::Function(sig), Step::Drop, ChangeKind::Drop) if !renamed.is_empty() => {
                let args = renamed
                    .iter()
                    .fold(sig.args.to_string(), |args, (old, new)| {
                        replace_type(&args, old, new)
                    });
                if sig.args != args {
                    let retired = FunctionSig {
                        name: sig.name.clone(),
                        args: args.into(),
                    };
                    c.op = Op::Sql(c.sql().replace(&sig.to_string(), &retired.to_string()));
                }
            }
            _ => {}
        }
    }
    changes
}

/// `args` with every occurrence of the type name `old` (a whole name, not a prefix of a
/// longer one) replaced by `new`.
fn replace_type(args: &str, old: &str, new: &str) -> String {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$' || c == '"' || c == '.';
    let mut out = String::with_capacity(args.len());
    let mut rest = args;
    while let Some(at) = rest.find(old) {
        let before = rest[..at].chars().next_back().or(out.chars().next_back());
        let after = rest[at + old.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(is_ident) || after.is_some_and(is_ident) {
            out.push_str(old);
        } else {
            out.push_str(new);
        }
        rest = &rest[at + old.len()..];
    }
    out.push_str(rest);
    out
}

/// Objects the deployed code may use (they exist in `current`) that the stage drops and then
/// creates again. A temporary object the stage creates and then drops (an `all` stage's
/// rename trigger) is not one.
fn recreated(changes: &[Change], current: &Schema) -> BTreeSet<ObjectId> {
    let mut dropped: BTreeSet<&ObjectId> = BTreeSet::new();
    let mut out = BTreeSet::new();
    for c in changes {
        if !is_dependent(&c.object) || !current.contains(&c.object) {
            continue;
        }
        if c.step == Step::Drop && c.kind == ChangeKind::Drop {
            dropped.insert(&c.object);
        } else if c.step == Step::Create
            && c.kind == ChangeKind::Create
            && dropped.contains(&c.object)
        {
            out.insert(c.object.clone());
        }
    }
    out
}

fn is_dependent(id: &ObjectId) -> bool {
    matches!(
        id,
        ObjectId::View(_) | ObjectId::Function(_) | ObjectId::Trigger(_) | ObjectId::Policy(_)
    )
}

/// A dependent dropped in this stage, still wanted, whose creation is in another stage: the
/// deployed code goes without it between the stages.
fn mark_unrecreated_drops(
    mut changes: Vec<Change>,
    desired: &Schema,
    recreated: &BTreeSet<ObjectId>,
) -> Vec<Change> {
    let wanted = desired.object_ids();
    for c in &mut changes {
        if is_dependent(&c.object)
            && c.step == Step::Drop
            && c.kind == ChangeKind::Drop
            && wanted.contains(&c.object)
            && !recreated.contains(&c.object)
        {
            c.hazards.push(Hazard::new(
                BREAKS_DEPLOYED_CODE,
                format!(
                    "{} is missing from this stage until a later stage creates it again",
                    c.object
                ),
            ));
        }
    }
    changes
}

/// The drops of the recreated objects, their creations (with their grants and comments), and
/// the rest, each in its order.
fn split(
    changes: Vec<Change>,
    recreated: &BTreeSet<ObjectId>,
) -> (Vec<Change>, Vec<Change>, Vec<Change>) {
    let (mut drops, mut creates, mut rest) = (Vec::new(), Vec::new(), Vec::new());
    for c in changes {
        if !recreated.contains(&c.object) {
            rest.push(c);
        } else if c.step == Step::Drop && c.kind == ChangeKind::Drop {
            drops.push(c);
        } else {
            creates.push(c);
        }
    }
    (drops, creates, rest)
}

/// The views dropped first (unless another dropped object depends on one): a query through a
/// view locks the view, then its tables; the transaction takes its locks in the same order,
/// so that it does not deadlock with the deployed code's queries.
fn views_first(drops: Vec<Change>, current: &Schema) -> Vec<Change> {
    let used_by_others = |view: &ObjectId| {
        drops.iter().any(|d| {
            !matches!(d.object, ObjectId::View(_))
                && current
                    .dependencies
                    .get(&d.object)
                    .is_some_and(|on| on.contains(view))
        })
    };
    let (views, others): (Vec<Change>, Vec<Change>) = drops
        .iter()
        .cloned()
        .partition(|d| matches!(d.object, ObjectId::View(_)) && !used_by_others(&d.object));
    views.into_iter().chain(others).collect()
}

fn dependencies(schema: &Schema, objects: &BTreeSet<ObjectId>) -> BTreeSet<ObjectId> {
    objects
        .iter()
        .filter_map(|o| schema.dependencies.get(o))
        .flatten()
        .cloned()
        .collect()
}

/// Types built again (`diff::types`): renamed out of the way (a drop-step ALTER), then
/// created. Their users survive the rename and the creation, so neither is a cause, and the
/// creation can precede the window; the columns' moves are the causes.
fn rebuilt_types(changes: &[Change]) -> BTreeSet<ObjectId> {
    changes
        .iter()
        .filter(|c| {
            matches!(c.object, ObjectId::Type(_))
                && c.step == Step::Drop
                && c.kind == ChangeKind::AlterType
        })
        .map(|c| c.object.clone())
        .collect()
}

/// A change the dependents had to be dropped for: a column's type change, a drop, a rebuild
/// of something they use. An online type change's column, trigger and backfill are not; its
/// swap is.
fn is_cause(c: &Change, used: &BTreeSet<ObjectId>) -> bool {
    // An enum's new value never needs its users gone.
    if c.kind == ChangeKind::AddEnumValue {
        return false;
    }
    // A view records its use of a table's columns, not of the table; the table's drop
    // needs it gone all the same.
    if let (ObjectId::Table(t), ChangeKind::Drop) = (&c.object, c.kind) {
        // A rebuilt table's old version (`diff::rebuild`) is dropped under its name aside.
        return used.contains(&c.object)
            || used.iter().any(|u| {
                matches!(u, ObjectId::Column(owner, _)
                    if owner == t || &crate::diff::retired_type_name(owner) == t)
            });
    }
    if !used.contains(&c.object) {
        return false;
    }
    match &c.object {
        ObjectId::Column(..) => matches!(
            c.kind,
            ChangeKind::AlterColumnType | ChangeKind::DropColumn | ChangeKind::Drop
        ),
        _ => matches!(c.step, Step::Drop | Step::Alter),
    }
}

/// A creation the recreated objects need (a column or function their new definition uses).
fn is_needed(c: &Change, used: &BTreeSet<ObjectId>) -> bool {
    c.step == Step::Create && used.contains(&c.object)
}

fn first_line(sql: &str) -> &str {
    sql.lines().next().unwrap_or(sql)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::Phase;
    use crate::model::{QualifiedName, View};

    fn q(name: &str) -> QualifiedName {
        QualifiedName::new("public".to_string(), name.to_string())
    }

    fn change(object: ObjectId, step: Step, kind: ChangeKind, sql: &str, tx: bool) -> Change {
        Change {
            object,
            step,
            kind,
            phase: Phase::Expand,
            op: crate::diff::Op::Sql(sql.into()),
            hazards: vec![],
            transactional: tx,
        }
    }

    /// A view `v` over column `t.c`, in both schemas.
    fn schemas() -> (Schema, Schema) {
        let mut s = Schema::default();
        s.views.insert(
            q("v"),
            View {
                name: q("v"),
                materialized: false,
                definition: "SELECT c FROM t".into(),
                options: vec![],
                populated: Default::default(),
                owner: None,
                comment: None,
                column_comments: Default::default(),
                grants: Default::default(),
            },
        );
        s.dependencies
            .insert(ObjectId::View(q("v")), ObjectId::Column(q("t"), "c".into()));
        (s.clone(), s)
    }

    fn plan(cause_tx: bool) -> Vec<Change> {
        let (current, desired) = schemas();
        let v = ObjectId::View(q("v"));
        let col = ObjectId::Column(q("t"), "c".into());
        let changes = vec![
            change(v.clone(), Step::Drop, ChangeKind::Drop, "DROP VIEW v", true),
            change(
                ObjectId::Type(q("e")),
                Step::Alter,
                ChangeKind::AddEnumValue,
                "ALTER TYPE e ADD VALUE 'x'",
                false,
            ),
            change(
                col.clone(),
                Step::Alter,
                ChangeKind::AlterColumnType,
                "ALTER c",
                cause_tx,
            ),
            change(
                col,
                Step::Alter,
                ChangeKind::AlterTable,
                "DO backfill",
                false,
            ),
            change(v, Step::Create, ChangeKind::Create, "CREATE VIEW v", true),
        ];
        close_windows(changes, &current, &desired)
    }

    #[test]
    fn the_drop_the_change_and_the_creation_are_consecutive_and_transactional() {
        let sqls: Vec<String> = plan(true).into_iter().map(|c| c.sql()).collect();
        assert_eq!(
            sqls,
            [
                "ALTER TYPE e ADD VALUE 'x'",
                "DROP VIEW v",
                "ALTER c",
                "CREATE VIEW v",
                "DO backfill"
            ]
        );
    }

    #[test]
    fn a_cause_that_cannot_run_in_a_transaction_leaves_a_named_window() {
        let out = plan(false);
        let drop = out.iter().find(|c| c.sql() == "DROP VIEW v").unwrap();
        assert_eq!(drop.hazards.len(), 1, "{:?}", drop.hazards);
        assert_eq!(drop.hazards[0].kind, BREAKS_DEPLOYED_CODE);
        assert!(
            drop.hazards[0].detail.contains("public.v"),
            "{:?}",
            drop.hazards
        );
        assert!(
            drop.hazards[0].detail.contains("`ALTER c`"),
            "{:?}",
            drop.hazards
        );
    }

    #[test]
    fn a_default_using_a_recreated_function_is_dropped_before_and_set_after_in_the_window() {
        let col = ObjectId::Column(q("t"), "n".into());
        let d = ObjectId::Function(FunctionSig {
            name: q("d"),
            args: Default::default(),
        });
        let sig = FunctionSig {
            name: q("d"),
            args: Default::default(),
        };
        let mut current = Schema::default();
        current.functions.insert(
            sig.clone(),
            crate::model::Function {
                sig,
                kind: crate::model::FunctionKind::Function,
                definition: "CREATE FUNCTION d()".into(),
                returns: "integer".into(),
                owner: None,
                comment: None,
                grants: Default::default(),
            },
        );
        current.dependencies.insert(col.clone(), d.clone());
        let desired = current.clone();
        let changes = vec![
            change(
                col.clone(),
                Step::Drop,
                ChangeKind::DropDefault,
                "DROP DEFAULT",
                true,
            ),
            change(
                col.clone(),
                Step::Create,
                ChangeKind::SetDefault,
                "SET DEFAULT d()",
                true,
            ),
            change(
                d.clone(),
                Step::Drop,
                ChangeKind::Drop,
                "DROP FUNCTION d()",
                true,
            ),
            change(
                d,
                Step::Create,
                ChangeKind::Create,
                "CREATE FUNCTION d()",
                true,
            ),
        ];
        let sqls: Vec<String> = close_windows(changes, &current, &desired)
            .into_iter()
            .map(|c| c.sql())
            .collect();
        assert_eq!(
            sqls,
            [
                "DROP DEFAULT",
                "DROP FUNCTION d()",
                "CREATE FUNCTION d()",
                "SET DEFAULT d()"
            ]
        );
    }

    #[test]
    fn a_retired_type_replaces_whole_type_names_only() {
        assert_eq!(
            replace_type(
                "x public.state, xs public.state[], y public.states, z my.public.state",
                "public.state",
                "public.state__strata_old"
            ),
            "x public.state__strata_old, xs public.state__strata_old[], y public.states, z my.public.state"
        );
    }
}
