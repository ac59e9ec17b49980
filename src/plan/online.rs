//! Online forms (DESIGN.md §5): a pure rewriting pass over the diff's changes, applied by
//! `plan::stage::schema_stage` before it keeps the changes of its phase.
//!
//! On tables that already exist in the current schema (tables the plan creates are empty and
//! keep the plain forms):
//! - `CREATE INDEX` → `CREATE INDEX CONCURRENTLY`, `DROP INDEX` → `DROP INDEX CONCURRENTLY`
//!   (no-transaction statements: the run builds them alone and drops an invalid leftover);
//! - a `FOREIGN KEY` or `CHECK` constraint is added `NOT VALID`, then validated by a
//!   `VALIDATE CONSTRAINT` that runs alone (its own transaction: it holds only SHARE UPDATE
//!   EXCLUSIVE while it scans, not the lock the `ADD` took);
//! - `SET NOT NULL` goes through `CHECK (col IS NOT NULL) NOT VALID`, `VALIDATE`, `SET NOT
//!   NULL` (PostgreSQL 12+ skips its scan when a valid check proves it), then the check is
//!   dropped;
//! - a `UNIQUE` or `PRIMARY KEY` constraint is built as a unique index `CONCURRENTLY` in
//!   expand, then attached with `ADD CONSTRAINT ... USING INDEX` in its own phase;
//! - a partition of a partitioned table that exists: `CREATE TABLE (LIKE parent ...)`, then
//!   `ATTACH PARTITION` (no ACCESS EXCLUSIVE lock on the parent);
//! - a column renamed with `-- strata:renamed-from` (see `source::annotations`) in
//!   `expand-contract` mode: the new column, a trigger keeping both in step, a batched
//!   backfill (expand); the trigger, its function and the old column dropped (contract).
//!
//! Temporary names are derived from the objects they serve (deterministic, at most 63 bytes).

use crate::config::{Backfill, RenameMode};
use crate::diff::hazard::{
    Hazard, BACKFILL, BACKWARD_INCOMPATIBLE, BLOCKS_WRITES, DESTRUCTIVE, FULL_TABLE_VALIDATION,
    INDEX_BUILD, MAY_FAIL, NON_CONCURRENT_INDEX,
};
use crate::diff::Phase;
use crate::diff::{Change, ChangeKind, Op, Step};
use crate::model::{
    quote_ident, Constraint, ConstraintKind, FunctionSig, ObjectId, QualifiedName, Schema, SubName,
};
use crate::source::annotations::Renames;
use sha2::{Digest, Sha256};

/// PostgreSQL's identifier limit (NAMEDATALEN - 1).
const MAX_IDENT: usize = 63;

/// The changes rewritten into their online forms.
pub fn online(
    changes: Vec<Change>,
    current: &Schema,
    desired: &Schema,
    renames: &Renames,
) -> Vec<Change> {
    // A table the diff rebuilds (`diff::rebuild`) is new: nothing on it is built online.
    let rebuilt = crate::diff::rebuilt_tables(current, desired);
    let trimmed;
    let current = if rebuilt.is_empty() {
        current
    } else {
        let mut t = current.clone();
        t.tables.retain(|name, _| !rebuilt.contains(name));
        trimmed = t;
        &trimmed
    };
    let retyped = if renames.mode == RenameMode::ExpandContract {
        retype::candidates(&changes, current, desired)
    } else {
        Default::default()
    };
    let mut out = Vec::with_capacity(changes.len());
    for change in changes {
        if retype::replaced(&change, &retyped) {
            continue;
        }
        if change.kind == ChangeKind::AlterColumnType && retyped.contains(&change.object) {
            retype::retype(&change, current, desired, &renames.backfill, &mut out);
            continue;
        }
        rewrite(change, current, desired, renames, &mut out);
    }
    out
}

/// Whether `table` exists in `schema` and can be changed online (a partitioned table cannot
/// be indexed concurrently).
fn existing(schema: &Schema, table: &QualifiedName) -> bool {
    schema
        .tables
        .get(table)
        .is_some_and(|t| t.partition_by.is_none())
}

fn rewrite(
    change: Change,
    current: &Schema,
    desired: &Schema,
    renames: &Renames,
    out: &mut Vec<Change>,
) {
    let object = change.object.clone();
    match (&object, change.step, change.kind) {
        (ObjectId::Index(name), Step::Create, ChangeKind::Create) => {
            let table = desired.indexes.get(name).map(|i| &i.table);
            match (table, &change.op) {
                (
                    Some(table),
                    Op::CreateIndex {
                        definition,
                        concurrently: false,
                    },
                ) if existing(current, table) => out.push(Change {
                    op: Op::CreateIndex {
                        definition: definition.clone(),
                        concurrently: true,
                    },
                    transactional: false,
                    hazards: without(
                        change.hazards.clone(),
                        &[INDEX_BUILD, NON_CONCURRENT_INDEX, BLOCKS_WRITES],
                    ),
                    ..change
                }),
                _ => out.push(change),
            }
        }
        (ObjectId::Index(name), Step::Drop, ChangeKind::Drop)
            if becomes_constraint(name, current, desired) => {}
        (ObjectId::Index(name), Step::Drop, ChangeKind::Drop)
            if matches!(change.op, Op::DropIndex { .. })
                && current
                    .indexes
                    .get(name)
                    .is_some_and(|i| existing(current, &i.table)) =>
        {
            out.push(Change {
                op: Op::DropIndex {
                    name: name.clone(),
                    concurrently: true,
                    if_exists: true,
                },
                transactional: false,
                ..change
            })
        }
        (ObjectId::Constraint(table, name), Step::Create, ChangeKind::Create)
            if existing(current, table) && matches!(change.op, Op::AddConstraint { .. }) =>
        {
            let Some(c) = desired
                .tables
                .get(table)
                .and_then(|t| t.constraints.get(name))
            else {
                out.push(change);
                return;
            };
            match c.kind {
                ConstraintKind::ForeignKey if c.validated && references_partitioned(desired, c) => {
                    out.push(fk_to_partitioned(change, table, c))
                }
                ConstraintKind::ForeignKey | ConstraintKind::Check
                    if c.validated
                        && matches!(
                            change.op,
                            Op::AddConstraint {
                                not_valid: false,
                                ..
                            }
                        ) =>
                {
                    let validate = validate_change(&change, table, name);
                    let mut op = change.op.clone();
                    if let Op::AddConstraint { not_valid, .. } = &mut op {
                        *not_valid = true;
                    }
                    out.push(Change {
                        op,
                        hazards: vec![],
                        ..change
                    });
                    out.push(validate);
                }
                ConstraintKind::Unique | ConstraintKind::PrimaryKey if !c.deferrable => {
                    unique_via_index(change, current, table, name, &c.definition, out)
                }
                _ => out.push(change),
            }
        }
        (ObjectId::Table(name), Step::Create, ChangeKind::Create) => {
            match attach_partition(&change.sql(), name, current, desired) {
                Some([create, attach]) => {
                    out.push(Change {
                        op: Op::Sql(create),
                        ..change.clone()
                    });
                    out.push(Change {
                        op: Op::Sql(attach),
                        ..change
                    });
                }
                None => out.push(change),
            }
        }
        (ObjectId::Column(table, column), Step::Alter, ChangeKind::SetNotNull)
            if existing(current, table) =>
        {
            not_null_via_check(&change, table, column, out)
        }
        (ObjectId::Column(table, column), Step::Create, ChangeKind::AddColumn) => {
            let renamed = (renames.mode == RenameMode::ExpandContract)
                .then(|| renamed_column(current, desired, renames, table, column))
                .flatten();
            match renamed {
                Some(old) => {
                    let backfill = backfill_sql(current, table, &old, column, &renames.backfill);
                    let hazard =
                        backfill_hazard(format!("updates every row of {table}"), &renames.backfill);
                    expand_rename(
                        change,
                        desired,
                        table,
                        &old,
                        column,
                        (backfill, hazard),
                        out,
                    )
                }
                None if existing(current, table) => {
                    add_column_then_not_null(change, desired, table, column, out)
                }
                None => out.push(change),
            }
        }
        (ObjectId::Column(table, column), Step::Drop, ChangeKind::DropColumn) => {
            // The column a rename replaces: its data lives on in the new column.
            let renamed_to = renames.new_name_of(table, column).filter(|new| {
                desired
                    .tables
                    .get(table)
                    .is_some_and(|t| t.columns.contains_key(new.as_str()))
            });
            match renamed_to {
                Some(new) if renames.mode == RenameMode::ExpandContract => {
                    let same_plan = !current
                        .tables
                        .get(table)
                        .is_some_and(|t| t.columns.contains_key(new.as_str()));
                    if same_plan {
                        // The same diff adds the new column: the sync goes first.
                        out.extend(drop_sync(&change, table, &new));
                    }
                    let contract = Change {
                        hazards: without(change.hazards.clone(), &[DESTRUCTIVE]),
                        ..change
                    };
                    out.push(contract.clone());
                    if same_plan {
                        // The default and NOT NULL the expansion left out (a later diff
                        // would find them missing; in one `all` stage there is none).
                        finish_column(&contract, desired, table, &new, out);
                    }
                }
                _ => out.push(change),
            }
        }
        _ => out.push(change),
    }
}

fn without(hazards: Vec<Hazard>, ids: &[crate::diff::HazardKind]) -> Vec<Hazard> {
    hazards
        .into_iter()
        .filter(|h| !ids.contains(&h.kind))
        .collect()
}

/// A `UNIQUE` / `PRIMARY KEY` constraint on an existing table: its unique index is built
/// `CONCURRENTLY` in expand (under the constraint's name, so the new code's lookups by the
/// key use it from the deploy hook on), and attached with `ADD CONSTRAINT ... USING INDEX`
/// in the constraint's own phase. When an earlier stage already built that index (the
/// contract stage after expand), only the attach is left.
fn unique_via_index(
    change: Change,
    current: &Schema,
    table: &QualifiedName,
    name: &str,
    definition: &str,
    out: &mut Vec<Change>,
) {
    let Some((primary_key, columns)) = index_columns(definition) else {
        out.push(change);
        return;
    };
    let index = quote_ident(name);
    let index_name = QualifiedName::new(table.schema.clone(), name);
    if !current
        .indexes
        .get(&index_name)
        .is_some_and(|i| is_key_index(i, table, columns))
    {
        out.push(Change {
            op: Op::CreateIndex {
                definition: format!("CREATE UNIQUE INDEX {index} ON {table} {columns}"),
                concurrently: true,
            },
            transactional: false,
            phase: Phase::Expand,
            hazards: vec![Hazard::new(
                MAY_FAIL,
                format!(
                    "fails if {table} holds duplicates; from then on the deployed code's writes of duplicates fail"
                ),
            )],
            ..change.clone()
        });
    }
    out.push(Change {
        op: Op::AddConstraintUsingIndex {
            table: table.clone(),
            name: name.to_string(),
            primary_key,
        },
        hazards: vec![],
        ..change
    });
}

/// `index` is the plain unique index `unique_via_index` builds for `columns` of `table`.
fn is_key_index(index: &crate::model::Index, table: &QualifiedName, columns: &str) -> bool {
    index.unique
        && &index.table == table
        && index.parent.is_none()
        && index
            .definition
            .ends_with(&format!(" USING btree {columns}"))
}

/// An index of `current` that the desired schema has as a `UNIQUE` / `PRIMARY KEY`
/// constraint of the same name (built in expand by `unique_via_index`): the contract stage
/// attaches it instead of dropping it.
fn becomes_constraint(name: &QualifiedName, current: &Schema, desired: &Schema) -> bool {
    let Some(index) = current.indexes.get(name) else {
        return false;
    };
    let Some(c) = desired
        .tables
        .get(&index.table)
        .and_then(|t| t.constraints.get(&name.name))
    else {
        return false;
    };
    let attachable = matches!(c.kind, ConstraintKind::Unique | ConstraintKind::PrimaryKey)
        && !c.deferrable
        && existing(current, &index.table);
    attachable
        && index_columns(&c.definition)
            .is_some_and(|(_, cols)| is_key_index(index, &index.table, cols))
}

/// A new partition of a partitioned table that already exists: `CREATE TABLE ... PARTITION
/// OF` takes ACCESS EXCLUSIVE on the parent (every query of the application on it waits);
/// a standalone table like the parent, then `ATTACH PARTITION`, takes only SHARE UPDATE
/// EXCLUSIVE on it (PostgreSQL 12+). The new table is empty, so the attach scans nothing;
/// the parent's indexes, constraints and defaults end up on it as with `PARTITION OF`.
/// Only the plain form (no options, no sub-partitioning) of a parent without identity or
/// generated columns (which `LIKE` would not reproduce as `PARTITION OF` does).
fn attach_partition(
    sql: &str,
    name: &QualifiedName,
    current: &Schema,
    desired: &Schema,
) -> Option<[String; 2]> {
    let p = desired.tables.get(name)?.partition_of.as_ref()?;
    let parent = current.tables.get(&p.parent)?;
    let plain_parent = parent.partition_by.is_some()
        && parent.partition_of.is_none()
        && parent
            .columns
            .values()
            .all(|c| c.identity.is_none() && c.generated.is_none());
    let plain = sql == format!("CREATE TABLE {name} PARTITION OF {} {}", p.parent, p.bound);
    (plain_parent && plain).then(|| {
        [
            format!(
                "CREATE TABLE {name} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)",
                p.parent
            ),
            format!(
                "ALTER TABLE {} ATTACH PARTITION {name} {}",
                p.parent, p.bound
            ),
        ]
    })
}

/// `UNIQUE (a, b)` / `PRIMARY KEY (a) INCLUDE (b)` (as `pg_get_constraintdef` writes
/// them) → whether it is a primary key, and what follows, when an index can be written from
/// it (no storage options, no NULLS NOT DISTINCT).
fn index_columns(definition: &str) -> Option<(bool, &str)> {
    let (primary_key, rest) = if let Some(rest) = definition.strip_prefix("UNIQUE ") {
        (false, rest)
    } else {
        (true, definition.strip_prefix("PRIMARY KEY ")?)
    };
    let plain = rest.starts_with('(')
        && rest.ends_with(')')
        && !rest.contains(" WITH (")
        && !rest.contains(" USING INDEX TABLESPACE ");
    plain.then_some((primary_key, rest))
}

/// Whether the foreign key `fk` references a partitioned table.
fn references_partitioned(desired: &Schema, fk: &Constraint) -> bool {
    fk.references
        .as_ref()
        .and_then(|r| desired.tables.get(r))
        .is_some_and(|t| t.partition_by.is_some())
}

/// A foreign key to a partitioned table is added validated, not `NOT VALID` then
/// `VALIDATE`: PostgreSQL makes one constraint per referenced partition, and validating the
/// foreign key leaves those `NOT VALID` (seen on PostgreSQL 15), while validating one of them
/// checks every row against that one partition.
fn fk_to_partitioned(mut change: Change, table: &QualifiedName, fk: &Constraint) -> Change {
    if let Some(referenced) = &fk.references {
        change.hazards.push(Hazard::new(
            BLOCKS_WRITES,
            format!(
                "writes to {table} and {referenced} wait while every row of {table} is checked \
                 (a foreign key to a partitioned table cannot be added NOT VALID and validated)"
            ),
        ));
    }
    change
}

fn validate_change(change: &Change, table: &QualifiedName, name: &str) -> Change {
    Change {
        object: change.object.clone(),
        step: change.step,
        kind: ChangeKind::AlterTable,
        phase: change.phase,
        op: Op::ValidateConstraint {
            table: table.clone(),
            name: name.to_string(),
        },
        hazards: vec![
            Hazard::new(FULL_TABLE_VALIDATION, format!("scans {table}")),
            Hazard::new(MAY_FAIL, format!("fails if rows of {table} violate it")),
        ],
        // Alone, in its own transaction: the ADD's stronger lock is not held during the scan.
        transactional: false,
    }
}

/// A `NOT NULL` column without a default cannot be added to a table with rows: it is added
/// nullable (expand), so the data stage can fill it, and made `NOT NULL` through a validated
/// check in the contract phase.
fn add_column_then_not_null(
    change: Change,
    desired: &Schema,
    table: &QualifiedName,
    column: &str,
    out: &mut Vec<Change>,
) {
    let Some(c) = desired
        .tables
        .get(table)
        .and_then(|t| t.columns.get(column))
        .filter(|c| c.not_null && c.default.is_none())
        .filter(|c| c.identity.is_none() && c.generated.is_none())
    else {
        out.push(change);
        return;
    };
    let nullable = crate::model::Column {
        not_null: false,
        ..c.clone()
    };
    let col = quote_ident(column);
    let set_not_null = Change {
        step: Step::Alter,
        kind: ChangeKind::SetNotNull,
        phase: Phase::Contract,
        op: Op::SetNotNull {
            table: table.clone(),
            column: column.to_string(),
        },
        hazards: vec![],
        ..change.clone()
    };
    out.push(Change {
        op: Op::AddColumn {
            table: table.clone(),
            column: Box::new(nullable),
        },
        // Added nullable, it cannot fail; the validation before SET NOT NULL can.
        hazards: vec![],
        ..change
    });
    let validation = out.len() + 1;
    not_null_via_check(&set_not_null, table, column, out);
    if let Some(h) = out[validation]
        .hazards
        .iter_mut()
        .find(|h| h.kind == MAY_FAIL)
    {
        h.detail = format!(
            "fails if {table}.{col} holds NULLs: it has no default, a migration must fill it first"
        );
    }
}

/// `SET NOT NULL` through a validated check constraint.
fn not_null_via_check(change: &Change, table: &QualifiedName, column: &str, out: &mut Vec<Change>) {
    let check = temp_name(&[&table.name, column], "not_null");
    let constraint = ObjectId::Constraint(table.clone(), check.as_str().into());
    let step = |object: &ObjectId, kind, op: Op| Change {
        object: object.clone(),
        step: change.step,
        kind,
        phase: change.phase,
        op,
        hazards: vec![],
        transactional: true,
    };
    let add = step(
        &constraint,
        ChangeKind::AlterTable,
        Op::AddConstraint {
            table: table.clone(),
            name: check.clone(),
            definition: format!("CHECK ({} IS NOT NULL)", quote_ident(column)),
            not_valid: true,
        },
    );
    let validate = validate_change(&add, table, &check);
    out.push(add);
    out.push(validate);
    out.push(step(
        &change.object,
        ChangeKind::SetNotNull,
        change.op.clone(),
    ));
    out.push(step(
        &constraint,
        ChangeKind::AlterTable,
        Op::DropConstraint {
            table: table.clone(),
            name: check,
        },
    ));
}

/// A name `<parts>_<suffix>`, shortened with a hash of the whole when it exceeds 63 bytes.
pub fn temp_name(parts: &[&str], suffix: &str) -> String {
    let full = format!("{}_{suffix}", parts.join("_"));
    if full.len() <= MAX_IDENT {
        return full;
    }
    let hash = hex::encode(&Sha256::digest(full.as_bytes())[..4]);
    let tail = format!("_{hash}_{suffix}");
    let mut cut = MAX_IDENT.saturating_sub(tail.len());
    let head = parts.join("_");
    while !head.is_char_boundary(cut.min(head.len())) {
        cut -= 1;
    }
    format!("{}{tail}", &head[..cut.min(head.len())])
}

/// The old name of `table.column` when it is annotated as renamed and the rename has not
/// happened yet: the old column exists, the new one does not.
fn renamed_column(
    current: &Schema,
    desired: &Schema,
    renames: &Renames,
    table: &QualifiedName,
    column: &str,
) -> Option<String> {
    let old = renames.old_name_of(table, column)?;
    let now = current.tables.get(table)?;
    (now.columns.contains_key(old.as_str())
        && !now.columns.contains_key(column)
        && desired.tables.get(table)?.columns.contains_key(column))
    .then_some(old)
}

fn sync_names(table: &QualifiedName, new: &str) -> (FunctionSig, SubName) {
    let name = temp_name(&[&table.name, new], "strata_sync");
    (
        FunctionSig {
            name: QualifiedName::new(table.schema.clone(), name.clone()),
            args: Default::default(),
        },
        SubName::new(table.clone(), name),
    )
}

/// Expand half of a rename: the new column (nullable, no default, until the contract), the
/// trigger keeping both columns in step, the batched backfill.
fn expand_rename(
    change: Change,
    desired: &Schema,
    table: &QualifiedName,
    old: &str,
    new: &str,
    (backfill_sql, backfill_hazard): (String, Hazard),
    out: &mut Vec<Change>,
) {
    let Some(column) = desired.tables.get(table).and_then(|t| t.columns.get(new)) else {
        out.push(change);
        return;
    };
    let mut relaxed = column.clone();
    relaxed.not_null = false;
    relaxed.default = None;
    let (function, trigger) = sync_names(table, new);
    let (o, n) = (quote_ident(old), quote_ident(new));
    let base = Change {
        op: Op::AddColumn {
            table: table.clone(),
            column: Box::new(relaxed),
        },
        hazards: vec![],
        ..change
    };
    let item = |object: ObjectId, sql: String, transactional: bool| Change {
        object,
        step: Step::Create,
        kind: ChangeKind::Create,
        phase: base.phase,
        op: Op::Sql(sql),
        hazards: vec![],
        transactional,
    };
    let body = format!(
        "BEGIN\n  IF TG_OP = 'INSERT' THEN\n    IF NEW.{n} IS NULL THEN\n      NEW.{n} := NEW.{o};\n    ELSE\n      NEW.{o} := NEW.{n};\n    END IF;\n  ELSIF NEW.{n} IS DISTINCT FROM OLD.{n} THEN\n    NEW.{o} := NEW.{n};\n  ELSIF NEW.{o} IS DISTINCT FROM OLD.{o} THEN\n    NEW.{n} := NEW.{o};\n  END IF;\n  RETURN NEW;\nEND"
    );
    let create_function = item(
        ObjectId::Function(function.clone()),
        format!(
            "CREATE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS $strata$\n{body}\n$strata$",
            function.name
        ),
        true,
    );
    let create_trigger = item(
        ObjectId::Trigger(trigger.clone()),
        format!(
            "CREATE TRIGGER {} BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {}()",
            quote_ident(&trigger.name),
            function.name
        ),
        true,
    );
    let backfill = Change {
        kind: ChangeKind::AlterTable,
        hazards: vec![backfill_hazard],
        ..item(
            ObjectId::Column(table.clone(), new.into()),
            backfill_sql,
            false,
        )
    };
    out.push(base);
    out.push(create_function);
    out.push(create_trigger);
    out.push(backfill);
}

/// The renamed column's default and NOT NULL, after the old column is gone.
fn finish_column(
    change: &Change,
    desired: &Schema,
    table: &QualifiedName,
    new: &str,
    out: &mut Vec<Change>,
) {
    let Some(column) = desired.tables.get(table).and_then(|t| t.columns.get(new)) else {
        return;
    };
    let base = Change {
        object: ObjectId::Column(table.clone(), new.into()),
        step: Step::Alter,
        kind: ChangeKind::SetDefault,
        phase: change.phase,
        op: Op::SetNotNull {
            table: table.clone(),
            column: new.to_string(),
        },
        hazards: vec![],
        transactional: true,
    };
    if let Some(default) = &column.default {
        out.push(Change {
            op: Op::Sql(format!(
                "ALTER TABLE {table} ALTER COLUMN {} SET DEFAULT {default}",
                quote_ident(new)
            )),
            ..base.clone()
        });
    }
    if column.not_null {
        let set = Change {
            kind: ChangeKind::SetNotNull,
            ..base
        };
        not_null_via_check(&set, table, new, out);
    }
}

/// The contract half when the same stage also expands: the trigger and its function go
/// before the old column.
fn drop_sync(change: &Change, table: &QualifiedName, new: &str) -> Vec<Change> {
    let (function, trigger) = sync_names(table, new);
    let item = |object: ObjectId, sql: String| Change {
        object,
        step: Step::Drop,
        kind: ChangeKind::Drop,
        phase: change.phase,
        op: Op::Sql(sql),
        hazards: vec![],
        transactional: true,
    };
    vec![
        item(
            ObjectId::Trigger(trigger.clone()),
            format!("DROP TRIGGER {} ON {table}", quote_ident(&trigger.name)),
        ),
        item(
            ObjectId::Function(function.clone()),
            format!("DROP FUNCTION {}()", function.name),
        ),
    ]
}

/// A `DO` block that copies `old` into `new` in batches, committing after each (it runs
/// alone, outside a transaction block). Keyset on a one-column primary key when there is
/// one, else batches by `ctid` of the rows still different.
fn backfill_sql(
    current: &Schema,
    table: &QualifiedName,
    old: &str,
    new: &str,
    pace: &Backfill,
) -> String {
    let (o, n) = (quote_ident(old), quote_ident(new));
    backfill_loop(
        current,
        pace,
        table,
        &format!("{n} = {o}"),
        &format!("{n} IS DISTINCT FROM {o}"),
    )
}

/// The `backfill` hazard: what is updated, and how it is paced.
fn backfill_hazard(what: String, pace: &Backfill) -> Hazard {
    let pause = if pace.pause.is_zero() {
        String::new()
    } else {
        format!(", {} ms pause after each", pace.pause.as_millis())
    };
    Hazard::new(
        BACKFILL,
        format!("{what}, {} rows per transaction{pause}", pace.batch),
    )
}

/// Plain renames (`[plan] renames = "rename"`, and every table rename): the statements that
/// rename what is still under its old name in `current`.
pub fn plain_renames(current: &Schema, desired: &Schema, renames: &Renames) -> Vec<Change> {
    let mut out = Vec::new();
    for (new, old) in renames.tables() {
        if current.tables.contains_key(old)
            && !current.tables.contains_key(new)
            && desired.tables.contains_key(new)
        {
            let sql = if old.schema == new.schema {
                format!("ALTER TABLE {old} RENAME TO {}", quote_ident(&new.name))
            } else {
                continue;
            };
            out.push(rename_change(ObjectId::Table(new.clone()), sql, old));
        }
    }
    if renames.mode != RenameMode::Rename {
        return out;
    }
    for ((table, new), old) in renames.columns() {
        if renamed_column(current, desired, renames, table, new).is_some() {
            out.push(rename_change(
                ObjectId::Column(table.clone(), new.into()),
                format!(
                    "ALTER TABLE {table} RENAME COLUMN {} TO {}",
                    quote_ident(old),
                    quote_ident(new)
                ),
                old,
            ));
        }
    }
    out
}

fn rename_change(object: ObjectId, sql: String, old: &impl std::fmt::Display) -> Change {
    Change {
        hazards: vec![Hazard::new(
            BACKWARD_INCOMPATIBLE,
            format!("code still deployed that uses {old} fails until the new code is deployed"),
        )],
        object,
        step: Step::Alter,
        kind: ChangeKind::AlterTable,
        phase: Phase::Expand,
        op: Op::Sql(sql),
        transactional: true,
    }
}

mod backfill;
mod retype;

use backfill::backfill_loop;
pub use backfill::backfill_update;

#[cfg(test)]
mod tests;
