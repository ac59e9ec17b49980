//! A column type change that would rewrite the table, carried out online: a new column of
//! the new type, a trigger copying every write of the old column into it, a batched backfill,
//! then a swap (one transaction: drop the trigger, its function and the old column, rename
//! the new one, set its default and NOT NULL — the latter proven by a check validated
//! beforehand). The swap holds ACCESS EXCLUSIVE for an instant instead of for the rewrite.
//!
//! Only for columns nothing else depends on but views, functions, triggers and policies (the
//! diff drops and creates those again; `plan::window` does so in the swap's transaction) — no
//! index, constraint, identity, generation, comment or grant: they would go with the old
//! column — and whose NOT NULL does
//! not change in the same plan; otherwise the plain `ALTER COLUMN ... TYPE` stays, with its
//! `table_rewrite` hazard.

use super::{backfill_hazard, backfill_loop, temp_name};
use crate::config::Backfill;
use crate::diff::hazard::{Hazard, DESTRUCTIVE, FULL_TABLE_VALIDATION, MAY_FAIL, TABLE_REWRITE};
use crate::diff::{Change, ChangeKind, Op, Step};
use crate::model::{quote_ident, ObjectId, QualifiedName, Schema};
use std::collections::BTreeSet;

/// The columns of `changes` whose type change is carried out online.
pub(super) fn candidates(
    changes: &[Change],
    current: &Schema,
    desired: &Schema,
) -> BTreeSet<ObjectId> {
    let mut out = BTreeSet::new();
    for c in changes {
        let ObjectId::Column(table, column) = &c.object else {
            continue;
        };
        if c.kind != ChangeKind::AlterColumnType
            || !c.hazards.iter().any(|h| h.kind == TABLE_REWRITE)
            || !super::existing(current, table)
        {
            continue;
        }
        let (Some(old), Some(new)) = (
            current
                .tables
                .get(table)
                .and_then(|t| t.columns.get(column)),
            desired
                .tables
                .get(table)
                .and_then(|t| t.columns.get(column)),
        ) else {
            continue;
        };
        let plain = |col: &crate::model::Column| {
            col.identity.is_none()
                && col.generated.is_none()
                && col.comment.is_none()
                && col.grants.is_empty()
                && col.local
        };
        // Views, functions, triggers and policies are dropped and created again by the diff;
        // `plan::window` puts them around the swap, in its transaction.
        let used = current.dependencies.iter().any(|(user, on)| {
            on.contains(&c.object)
                && *user != ObjectId::Table(table.clone())
                && *user != c.object
                && !matches!(
                    user,
                    ObjectId::View(_)
                        | ObjectId::Function(_)
                        | ObjectId::Trigger(_)
                        | ObjectId::Policy(_)
                )
        });
        let not_null_changes = changes.iter().any(|o| {
            o.object == c.object
                && matches!(o.kind, ChangeKind::SetNotNull | ChangeKind::DropNotNull)
        });
        if plain(old)
            && plain(new)
            && !used
            && !not_null_changes
            && old.not_null == new.not_null
            && casts_only(&c.op, column)
        {
            out.insert(c.object.clone());
        }
    }
    out
}

/// Whether the type change's `USING` (if any) is casts of the column and nothing else: what
/// the batched backfill may hold (`backfill_update`). A `-- strata:using` expression is
/// carried out by the plain `ALTER COLUMN ... TYPE ... USING`.
fn casts_only(op: &Op, column: &str) -> bool {
    use pg_query::NodeEnum;
    let Op::AlterColumnType { using, .. } = op else {
        return false;
    };
    let Some(expr) = using else {
        return true;
    };
    let Some(expr) = crate::sqlparse::expression(expr) else {
        return false;
    };
    let mut node = Some(&expr);
    while let Some(NodeEnum::TypeCast(cast)) = node.and_then(|n| n.node.as_ref()) {
        node = cast.arg.as_deref();
    }
    match node.and_then(|n| n.node.as_ref()) {
        Some(NodeEnum::ColumnRef(c)) => matches!(
            c.fields.as_slice(),
            [f] if matches!(f.node.as_ref(), Some(NodeEnum::String(s)) if s.sval == column)
        ),
        _ => false,
    }
}

/// Whether `change` is one the retype replaces (the default dropped and set around the type
/// change).
pub(super) fn replaced(change: &Change, retyped: &BTreeSet<ObjectId>) -> bool {
    retyped.contains(&change.object)
        && matches!(
            change.kind,
            ChangeKind::SetDefault | ChangeKind::DropDefault
        )
}

/// The statements that replace the `ALTER COLUMN ... TYPE` of `change`.
pub(super) fn retype(
    change: &Change,
    current: &Schema,
    desired: &Schema,
    pace: &Backfill,
    out: &mut Vec<Change>,
) {
    let ObjectId::Column(table, column) = &change.object else {
        return;
    };
    let Some(new) = desired
        .tables
        .get(table)
        .and_then(|t| t.columns.get(column))
    else {
        return;
    };
    let tmp = temp_name(&[&table.name, column], "strata_new");
    let sync = temp_name(&[&table.name, column], "strata_retype");
    // Not `<table>_<column>_not_null`: on PostgreSQL 18 that is the name of the old
    // column's NOT NULL constraint while the copy is made.
    let check = temp_name(&[&table.name, column], "strata_not_null");
    let (c, t) = (quote_ident(column), quote_ident(&tmp));
    let function = QualifiedName::new(table.schema.clone(), sync.clone());
    let ty = &new.data_type;
    let mut relaxed = new.clone();
    relaxed.name = tmp.as_str().into();
    relaxed.not_null = false;
    relaxed.default = None;
    let fails: Vec<Hazard> = change
        .hazards
        .iter()
        .filter(|h| h.kind != TABLE_REWRITE && h.kind != DESTRUCTIVE)
        .cloned()
        .collect();
    // A lossy change loses the old values when the old column goes, in the swap.
    let loses: Vec<Hazard> = change
        .hazards
        .iter()
        .filter(|h| h.kind == DESTRUCTIVE)
        .cloned()
        .collect();
    let item = |kind, op: Op, hazards: Vec<Hazard>, transactional| Change {
        object: change.object.clone(),
        step: Step::Alter,
        kind,
        phase: change.phase,
        op,
        hazards,
        transactional,
    };
    // The diff's conversion (`USING`), where it is more than a cast to the new type: over
    // the row's columns, in the trigger as in the backfill.
    let plain_cast = format!("{c}::{ty}");
    let using = match &change.op {
        Op::AlterColumnType { using, .. } => using.clone(),
        _ => None,
    };
    let conversion = using.filter(|e| *e != plain_cast);
    let copy = match &conversion {
        Some(e) => format!("SELECT {e} INTO NEW.{t} FROM (SELECT NEW.*) AS strata_row;"),
        None => format!("NEW.{t} := NEW.{c}::{ty};"),
    };
    let conversion = conversion.unwrap_or(plain_cast);
    use ChangeKind::{AlterColumn, AlterColumnType, AlterTable, Create, Drop};
    out.push(item(
        AlterColumn,
        Op::AddColumn {
            table: table.clone(),
            column: Box::new(relaxed),
        },
        vec![],
        true,
    ));
    out.push(item(
        Create,
        format!(
            "CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $strata$\nBEGIN\n  {copy}\n  RETURN NEW;\nEND\n$strata$"
        )
        .into(),
        vec![],
        true,
    ));
    out.push(item(
        Create,
        format!(
            "CREATE TRIGGER {} BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()",
            quote_ident(&sync)
        )
        .into(),
        fails.clone(),
        true,
    ));
    let mut backfill_hazards = vec![backfill_hazard(
        format!("copies {table}.{c} into {t}"),
        pace,
    )];
    backfill_hazards.extend(fails);
    out.push(item(
        AlterTable,
        backfill_loop(
            current,
            pace,
            table,
            &format!("{t} = {conversion}"),
            &format!("{t} IS DISTINCT FROM {conversion}"),
        )
        .into(),
        backfill_hazards,
        false,
    ));
    if new.not_null {
        out.push(item(
            AlterTable,
            Op::AddConstraint {
                table: table.clone(),
                name: check.clone(),
                definition: format!("CHECK ({t} IS NOT NULL)"),
                not_valid: true,
            },
            vec![],
            true,
        ));
        out.push(item(
            AlterTable,
            Op::ValidateConstraint {
                table: table.clone(),
                name: check.clone(),
            },
            vec![
                Hazard::new(FULL_TABLE_VALIDATION, format!("scans {table}")),
                Hazard::new(MAY_FAIL, format!("fails if {t} holds NULLs")),
            ],
            false,
        ));
    }
    // The swap: consecutive transactional statements, one transaction at run time.
    out.push(item(
        Drop,
        format!("DROP TRIGGER {} ON {table}", quote_ident(&sync)).into(),
        vec![],
        true,
    ));
    out.push(item(
        Drop,
        format!("DROP FUNCTION {function}()").into(),
        vec![],
        true,
    ));
    out.push(item(
        Drop,
        format!("ALTER TABLE {table} DROP COLUMN {c}").into(),
        loses,
        true,
    ));
    out.push(item(
        AlterColumnType,
        format!("ALTER TABLE {table} RENAME COLUMN {t} TO {c}").into(),
        vec![],
        true,
    ));
    if let Some(default) = &new.default {
        out.push(item(
            ChangeKind::SetDefault,
            format!("ALTER TABLE {table} ALTER COLUMN {c} SET DEFAULT {default}").into(),
            vec![],
            true,
        ));
    }
    if new.not_null {
        out.push(item(
            ChangeKind::SetNotNull,
            Op::SetNotNull {
                table: table.clone(),
                column: column.to_string(),
            },
            vec![],
            true,
        ));
        out.push(item(
            AlterTable,
            Op::DropConstraint {
                table: table.clone(),
                name: check,
            },
            vec![],
            true,
        ));
    }
}
