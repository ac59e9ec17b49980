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
//! - a `UNIQUE` or `PRIMARY KEY` constraint is built as a unique index `CONCURRENTLY`, then
//!   attached with `ADD CONSTRAINT ... USING INDEX`;
//! - a column renamed with `-- strata:renamed-from` (see `source::annotations`) in
//!   `expand-contract` mode: the new column, a trigger keeping both in step, a batched
//!   backfill (expand); the trigger, its function and the old column dropped (contract).
//!
//! Temporary names are derived from the objects they serve (deterministic, at most 63 bytes).

use crate::config::{Backfill, Phase, RenameMode};
use crate::diff::hazard::{
    Hazard, BACKFILL, BACKWARD_INCOMPATIBLE, BLOCKS_WRITES, DESTRUCTIVE, FULL_TABLE_VALIDATION,
    INDEX_BUILD, MAY_FAIL, NON_CONCURRENT_INDEX,
};
use crate::diff::{Change, ChangeKind, Step};
use crate::model::{
    quote_ident, ConstraintKind, FunctionSig, ObjectId, QualifiedName, Schema, SubName,
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
            match (table, concurrent_create(&change.sql)) {
                (Some(table), Some(sql)) if existing(current, table) => out.push(Change {
                    sql,
                    transactional: false,
                    hazards: without(
                        change.hazards.clone(),
                        &[INDEX_BUILD.id, NON_CONCURRENT_INDEX.id, BLOCKS_WRITES.id],
                    ),
                    ..change
                }),
                _ => out.push(change),
            }
        }
        (ObjectId::Index(name), Step::Drop, ChangeKind::Drop)
            if change.sql.starts_with("DROP INDEX ")
                && current
                    .indexes
                    .get(name)
                    .is_some_and(|i| existing(current, &i.table)) =>
        {
            out.push(Change {
                sql: format!("DROP INDEX CONCURRENTLY IF EXISTS {name}"),
                transactional: false,
                ..change
            })
        }
        (ObjectId::Constraint(table, name), Step::Create, ChangeKind::Create)
            if existing(current, table) && change.sql.starts_with("ALTER TABLE ") =>
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
                ConstraintKind::ForeignKey | ConstraintKind::Check
                    if c.validated && !change.sql.ends_with(" NOT VALID") =>
                {
                    let validate = validate_change(&change, table, name);
                    out.push(Change {
                        sql: format!("{} NOT VALID", change.sql),
                        hazards: vec![],
                        ..change
                    });
                    out.push(validate);
                }
                ConstraintKind::Unique | ConstraintKind::PrimaryKey if !c.deferrable => {
                    match index_columns(&c.definition) {
                        Some((word, columns)) => {
                            let index = quote_ident(name);
                            out.push(Change {
                                sql: format!(
                                    "CREATE UNIQUE INDEX CONCURRENTLY {index} ON {table} {columns}"
                                ),
                                transactional: false,
                                hazards: vec![Hazard::new(
                                    MAY_FAIL,
                                    format!("fails if {table} holds duplicates"),
                                )],
                                ..change.clone()
                            });
                            out.push(Change {
                                sql: format!(
                                    "ALTER TABLE {table} ADD CONSTRAINT {index} {word} USING INDEX {index}"
                                ),
                                hazards: vec![],
                                ..change
                            });
                        }
                        None => out.push(change),
                    }
                }
                _ => out.push(change),
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
                    .is_some_and(|t| t.columns.contains_key(new))
            });
            match renamed_to {
                Some(new) if renames.mode == RenameMode::ExpandContract => {
                    let same_plan = !current
                        .tables
                        .get(table)
                        .is_some_and(|t| t.columns.contains_key(&new));
                    if same_plan {
                        // The same diff adds the new column: the sync goes first.
                        out.extend(drop_sync(&change, table, &new));
                    }
                    let contract = Change {
                        hazards: without(change.hazards.clone(), &[DESTRUCTIVE.id]),
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

fn without(hazards: Vec<Hazard>, ids: &[&str]) -> Vec<Hazard> {
    hazards
        .into_iter()
        .filter(|h| !ids.contains(&h.kind.id))
        .collect()
}

/// `CREATE [UNIQUE] INDEX name ...` with `CONCURRENTLY`.
fn concurrent_create(sql: &str) -> Option<String> {
    for prefix in ["CREATE INDEX ", "CREATE UNIQUE INDEX "] {
        if let Some(rest) = sql.strip_prefix(prefix) {
            if rest.starts_with("CONCURRENTLY ") {
                return None;
            }
            return Some(format!("{prefix}CONCURRENTLY {rest}"));
        }
    }
    None
}

/// `UNIQUE (a, b)` / `PRIMARY KEY (a) INCLUDE (b)` → the constraint word and what follows,
/// when an index can be written from it (no storage options, no NULLS NOT DISTINCT).
fn index_columns(definition: &str) -> Option<(&'static str, &str)> {
    let (word, rest) = if let Some(rest) = definition.strip_prefix("UNIQUE ") {
        ("UNIQUE", rest)
    } else {
        ("PRIMARY KEY", definition.strip_prefix("PRIMARY KEY ")?)
    };
    let plain = rest.starts_with('(')
        && rest.ends_with(')')
        && !rest.contains(" WITH (")
        && !rest.contains(" USING INDEX TABLESPACE ");
    plain.then_some((word, rest))
}

fn validate_change(change: &Change, table: &QualifiedName, name: &str) -> Change {
    Change {
        object: change.object.clone(),
        step: change.step,
        kind: ChangeKind::AlterTable,
        phase: change.phase,
        sql: format!(
            "ALTER TABLE {table} VALIDATE CONSTRAINT {}",
            quote_ident(name)
        ),
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
        sql: format!("ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL"),
        hazards: vec![],
        ..change.clone()
    };
    out.push(Change {
        sql: format!(
            "ALTER TABLE {table} ADD COLUMN {}",
            crate::ddl::column_definition(&nullable)
        ),
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
    let col = quote_ident(column);
    let qcheck = quote_ident(&check);
    let constraint = ObjectId::Constraint(table.clone(), check.clone());
    let step = |object: &ObjectId, kind, sql: String, hazards, transactional| Change {
        object: object.clone(),
        step: change.step,
        kind,
        phase: change.phase,
        sql,
        hazards,
        transactional,
    };
    out.push(step(
        &constraint,
        ChangeKind::AlterTable,
        format!("ALTER TABLE {table} ADD CONSTRAINT {qcheck} CHECK ({col} IS NOT NULL) NOT VALID"),
        vec![],
        true,
    ));
    out.push(validate_change(
        &step(
            &constraint,
            ChangeKind::AlterTable,
            String::new(),
            vec![],
            true,
        ),
        table,
        &check,
    ));
    out.push(step(
        &change.object,
        ChangeKind::SetNotNull,
        change.sql.clone(),
        vec![],
        true,
    ));
    out.push(step(
        &constraint,
        ChangeKind::AlterTable,
        format!("ALTER TABLE {table} DROP CONSTRAINT {qcheck}"),
        vec![],
        true,
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
    (now.columns.contains_key(&old)
        && !now.columns.contains_key(column)
        && desired.tables.get(table)?.columns.contains_key(column))
    .then_some(old)
}

fn sync_names(table: &QualifiedName, new: &str) -> (FunctionSig, SubName) {
    let name = temp_name(&[&table.name, new], "strata_sync");
    (
        FunctionSig {
            name: QualifiedName::new(table.schema.clone(), name.clone()),
            args: String::new(),
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
        sql: format!(
            "ALTER TABLE {table} ADD COLUMN {}",
            crate::ddl::column_definition(&relaxed)
        ),
        hazards: vec![],
        ..change
    };
    let item = |object: ObjectId, sql: String, transactional: bool| Change {
        object,
        step: Step::Create,
        kind: ChangeKind::Create,
        phase: base.phase,
        sql,
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
            ObjectId::Column(table.clone(), new.to_string()),
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
    let at = format!("ALTER TABLE {table} ALTER COLUMN {}", quote_ident(new));
    let base = Change {
        object: ObjectId::Column(table.clone(), new.to_string()),
        step: Step::Alter,
        kind: ChangeKind::SetDefault,
        phase: change.phase,
        sql: String::new(),
        hazards: vec![],
        transactional: true,
    };
    if let Some(default) = &column.default {
        out.push(Change {
            sql: format!("{at} SET DEFAULT {default}"),
            ..base.clone()
        });
    }
    if column.not_null {
        let set = Change {
            kind: ChangeKind::SetNotNull,
            sql: format!("{at} SET NOT NULL"),
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
        sql,
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

/// A `DO` block running `UPDATE table SET <set> WHERE <pending>` in batches of `pace.batch`
/// rows, committing after each and then sleeping `pace.pause`: keyset on a one-column primary
/// key when there is one, else by `ctid`. A batch holds its rows' locks until it commits, so
/// the batch size bounds how long the application's update of one of them waits.
fn backfill_loop(
    current: &Schema,
    pace: &Backfill,
    table: &QualifiedName,
    set: &str,
    pending: &str,
) -> String {
    let batch = pace.batch.max(1);
    // pg_sleep takes seconds; milliseconds written exactly, never in exponent form.
    let pause = if pace.pause.is_zero() {
        String::new()
    } else {
        let ms = pace.pause.as_millis();
        format!("\n    PERFORM pg_sleep({}.{:03});", ms / 1000, ms % 1000)
    };
    let key = current.tables.get(table).and_then(|t| {
        let pk = t
            .constraints
            .values()
            .find(|c| c.kind == ConstraintKind::PrimaryKey && c.columns.len() == 1)?;
        let column = t.columns.get(&pk.columns[0])?;
        Some((quote_ident(&column.name), column.data_type.clone()))
    });
    let (table, batch) = (table.to_string(), batch.to_string());
    let mut vars = vec![
        ("table", table.as_str()),
        ("set", set),
        ("pending", pending),
        ("batch", batch.as_str()),
        ("pause", pause.as_str()),
    ];
    match &key {
        Some((k, ty)) => {
            vars.extend([("k", k.as_str()), ("ty", ty.as_str())]);
            fill(KEYSET_LOOP, &vars)
        }
        None => fill(CTID_LOOP, &vars),
    }
}

/// The backfill loops, with `{name}` where `backfill_loop` fills in a value and
/// `backfill_update` reads one back.
const KEYSET_LOOP: &str = "DO $strata$\nDECLARE\n  strata_from {ty};\n  strata_upto {ty};\nBEGIN\n  SELECT min({k}) INTO strata_from FROM {table};\n  WHILE strata_from IS NOT NULL LOOP\n    SELECT max(b.{k}) INTO strata_upto FROM (SELECT {k} FROM {table} WHERE {k} >= strata_from ORDER BY {k} LIMIT {batch}) b;\n    UPDATE {table} SET {set} WHERE {k} >= strata_from AND {k} <= strata_upto AND {pending};\n    COMMIT;{pause}\n    SELECT min({k}) INTO strata_from FROM {table} WHERE {k} > strata_upto;\n  END LOOP;\nEND\n$strata$";
const CTID_LOOP: &str = "DO $strata$\nDECLARE\n  strata_rows bigint;\nBEGIN\n  LOOP\n    UPDATE {table} SET {set} WHERE ctid = ANY (ARRAY(SELECT ctid FROM {table} WHERE {pending} LIMIT {batch}));\n    GET DIAGNOSTICS strata_rows = ROW_COUNT;\n    EXIT WHEN strata_rows = 0;\n    COMMIT;{pause}\n  END LOOP;\nEND\n$strata$";

enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

fn pieces(template: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = open + rest[open..].find('}').expect("a closed placeholder");
        out.push(Piece::Text(&rest[..open]));
        out.push(Piece::Var(&rest[open + 1..close]));
        rest = &rest[close + 1..];
    }
    out.push(Piece::Text(rest));
    out
}

fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    pieces(template)
        .into_iter()
        .map(|p| match p {
            Piece::Text(t) => t,
            Piece::Var(name) => vars
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| *v)
                .expect("every placeholder has a value"),
        })
        .collect()
}

/// The values that make `text` out of `template`, each the shortest that fits; a name
/// used twice must have the same value both times.
fn unfill<'t>(template: &str, text: &'t str) -> Option<Vec<(String, &'t str)>> {
    let pieces = pieces(template);
    let mut vars: Vec<(String, &'t str)> = Vec::new();
    let mut pos = 0;
    for (i, piece) in pieces.iter().enumerate() {
        match piece {
            Piece::Text(t) => {
                if !text[pos..].starts_with(t) {
                    return None;
                }
                pos += t.len();
            }
            Piece::Var(name) => {
                let end = match pieces.get(i + 1) {
                    Some(Piece::Text(next)) if !next.is_empty() => pos + text[pos..].find(next)?,
                    _ => text.len(),
                };
                let value = &text[pos..end];
                match vars.iter().find(|(n, _)| n == name) {
                    Some((_, v)) if *v != value => return None,
                    Some(_) => {}
                    None => vars.push((name.to_string(), value)),
                }
                pos = end;
            }
        }
    }
    (pos == text.len()).then_some(vars)
}

/// What a `DO` block of exactly the shape `backfill_loop` writes updates, or `None` for any
/// other statement: the run accepts no other `DO` block in a schema stage.
pub fn backfill_update(sql: &str) -> Option<super::classify::BackfillUpdate> {
    let vars = unfill(KEYSET_LOOP, sql).or_else(|| unfill(CTID_LOOP, sql))?;
    let var = |name: &str| vars.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
    if vars
        .iter()
        .any(|(n, v)| n != "pause" && (v.contains(';') || v.contains('\n') || v.is_empty()))
    {
        return None;
    }
    let pause = var("pause")?;
    let pause_ok = pause.is_empty()
        || pause
            .strip_prefix("\n    PERFORM pg_sleep(")
            .and_then(|p| p.strip_suffix(");"))
            .and_then(|p| p.split_once('.'))
            .is_some_and(|(s, ms)| {
                s.bytes().all(|b| b.is_ascii_digit())
                    && ms.len() == 3
                    && ms.bytes().all(|b| b.is_ascii_digit())
            });
    let batch_ok = var("batch")?.bytes().all(|b| b.is_ascii_digit());
    let key_ok = match (var("k"), var("ty")) {
        (Some(k), Some(ty)) => is_identifier(k) && is_type(ty),
        (None, None) => true,
        _ => false,
    };
    if !(pause_ok && batch_ok && key_ok) {
        return None;
    }
    let (table, set) = (var("table")?, var("set")?);
    let (to_text, from_text) = set.split_once(" = ")?;
    if var("pending")? != format!("{to_text} IS DISTINCT FROM {from_text}") {
        return None;
    }
    single_assignment(&format!("UPDATE {table} SET {set}"))
}

/// `UPDATE table SET to = from[::type]`, nothing more, read with pg_query.
fn single_assignment(sql: &str) -> Option<super::classify::BackfillUpdate> {
    use pg_query::NodeEnum;
    let parsed = pg_query::parse(sql).ok()?;
    let [raw] = parsed.protobuf.stmts.as_slice() else {
        return None;
    };
    let Some(NodeEnum::UpdateStmt(update)) = raw.stmt.as_ref()?.node.as_ref() else {
        return None;
    };
    let table = update.relation.clone()?;
    if table.alias.is_some() || !update.from_clause.is_empty() || update.with_clause.is_some() {
        return None;
    }
    let [target] = update.target_list.as_slice() else {
        return None;
    };
    let Some(NodeEnum::ResTarget(target)) = target.node.as_ref() else {
        return None;
    };
    if !target.indirection.is_empty() {
        return None;
    }
    let column = |node: &pg_query::protobuf::Node| match node.node.as_ref() {
        Some(NodeEnum::ColumnRef(c)) => match c.fields.as_slice() {
            [f] => match f.node.as_ref() {
                Some(NodeEnum::String(s)) => Some(s.sval.clone()),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    };
    let value = target.val.as_deref()?;
    let (from, cast) = match value.node.as_ref() {
        Some(NodeEnum::TypeCast(c)) => (
            column(c.arg.as_deref()?)?,
            Some(super::classify::shape(c.type_name.as_ref()?)),
        ),
        _ => (column(value)?, None),
    };
    Some(super::classify::BackfillUpdate {
        table,
        to: target.name.clone(),
        from,
        cast,
    })
}

fn is_identifier(text: &str) -> bool {
    let quoted = text.len() >= 2
        && text.starts_with('"')
        && text.ends_with('"')
        && !text[1..text.len() - 1].replace("\"\"", "").contains('"');
    quoted
        || (!text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'$'))
}

/// A type name and nothing else (in a `DECLARE`, text after it could be a default that runs).
fn is_type(text: &str) -> bool {
    use pg_query::NodeEnum;
    let Ok(parsed) = pg_query::parse(&format!("SELECT NULL::{text}")) else {
        return false;
    };
    let Some(NodeEnum::SelectStmt(select)) = parsed
        .protobuf
        .stmts
        .first()
        .and_then(|s| s.stmt.as_ref())
        .and_then(|n| n.node.as_ref())
    else {
        return false;
    };
    let [target] = select.target_list.as_slice() else {
        return false;
    };
    matches!(target.node.as_ref(), Some(NodeEnum::ResTarget(t))
        if matches!(t.val.as_deref().and_then(|v| v.node.as_ref()), Some(NodeEnum::TypeCast(_))))
        && parsed.protobuf.stmts.len() == 1
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
                ObjectId::Column(table.clone(), new.clone()),
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
        sql,
        transactional: true,
    }
}

mod retype;

#[cfg(test)]
mod tests;
