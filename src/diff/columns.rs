//! Columns: added, dropped, and altered in place (type with USING where needed, default,
//! NOT NULL, identity, generated expression dropped, collation).

use super::comments::diff_comment;
use super::hazard::{
    Hazard, ACCESS_EXCLUSIVE, DESTRUCTIVE, MAY_FAIL, TABLE_REWRITE, TYPE_NARROWING,
    VALIDATION_SCAN, VOLATILE_DEFAULT,
};
use super::privileges::diff_grants;
use super::sequences::{changed_options, moved_bound, options_sql};
use super::{unsupported, ChangeKind, Diff, DiffError, Step};
use super::{Op, Phase};
use crate::model::{quote_ident, quote_literal, Column, ObjectId, QualifiedName, Table};

/// ` GENERATED ... AS IDENTITY (SEQUENCE NAME s ...)`; the sequence's type is the column's.
fn identity_sql(i: &crate::model::Identity) -> String {
    let options = options_sql(&i.options);
    let options = options
        .strip_prefix(&format!("AS {} ", i.options.data_type))
        .unwrap_or(&options);
    format!(
        " GENERATED {} AS IDENTITY (SEQUENCE NAME {} {options})",
        if i.always { "ALWAYS" } else { "BY DEFAULT" },
        i.sequence,
    )
}

/// Whether `table` has inheritance children (not partitions) whose column `column`, only
/// inherited in `from`, is their own in `to`: `ALTER TABLE ONLY` drops the parent's column
/// and leaves theirs, rows included, as their own (a plain drop would take theirs too).
fn children_keep(d: &Diff, table: &QualifiedName, column: &str) -> bool {
    let mut children = d
        .from
        .tables
        .values()
        .filter(|c| c.inherits.contains(table))
        .filter(|c| c.columns.get(column).is_some_and(|col| !col.local))
        .peekable();
    children.peek().is_some()
        && children.all(|c| {
            d.to.tables
                .get(&c.name)
                .and_then(|t| t.columns.get(column))
                .is_some_and(|col| col.local)
        })
}

/// Columns of a table present on both sides.
pub(super) fn diff_table(d: &mut Diff, old: &Table, new: &Table) -> Result<(), DiffError> {
    let t = &new.name;
    for c in old.columns.values() {
        if new.columns.contains_key(&c.name) || !c.local {
            continue;
        }
        let keep = children_keep(d, t, &c.name);
        let column = quote_ident(&c.name);
        let (only, whose) = if keep {
            ("ONLY ", " (the inheriting tables keep theirs)")
        } else {
            ("", "")
        };
        d.push(
            ObjectId::Column(t.clone(), c.name.clone()),
            Step::Drop,
            ChangeKind::DropColumn,
            Phase::Contract,
            format!("ALTER TABLE {only}{t} DROP COLUMN {column}"),
            vec![Hazard::new(
                DESTRUCTIVE,
                format!("drops column {t}.{column} and its data{whose}"),
            )],
        );
    }
    for c in in_column_order(new) {
        let before = old.columns.get(&c.name);
        // The same on both sides: nothing to compare field by field (unless a parent's
        // change reaches it).
        if before == Some(c) && super::tables::parent_of(new).is_none() {
            continue;
        }
        let adjusted = before.map(|o| after_parent(d, new, o));
        if adjusted.as_ref() == Some(c) {
            continue;
        }
        let id = ObjectId::Column(t.clone(), c.name.clone());
        let target = || format!("COLUMN {t}.{}", quote_ident(&c.name));
        match before {
            None if c.local => add(d, t, c),
            Some(o) if c.local || o.local => alter(d, t, adjusted.as_ref().unwrap_or(o), c)?,
            // Inherited columns follow their parent's type; a default or NOT NULL of
            // their own (a partition's) is theirs to change.
            Some(o) => {
                let o = adjusted.clone().unwrap_or_else(|| o.clone());
                let own = Column {
                    default: o.default,
                    not_null: o.not_null,
                    ..c.clone()
                };
                if &own != c {
                    alter(d, t, &own, c)?;
                }
            }
            _ => {}
        }
        // A column dropped and added again (its generation expression changed) comes back
        // without its comment and column grants.
        let before = before.filter(|_| !d.recreated.contains_key(&id));
        diff_comment(d, &id, target, before.map(|o| &o.comment), &c.comment);
        diff_grants(
            d,
            &id,
            || format!("TABLE {t}"),
            Some(&c.name),
            before.map(|o| &o.grants),
            &c.grants,
        );
    }
    Ok(())
}

/// `table`'s columns in attnum order (then any the order does not name): columns added in
/// that order end up in the same order as in the schema they come from.
fn in_column_order(table: &Table) -> impl Iterator<Item = &Column> {
    let ordered = table.column_order.0.iter();
    let rest = table
        .columns
        .keys()
        .filter(|name| !table.column_order.0.contains(name));
    ordered
        .chain(rest)
        .filter_map(|name| table.columns.get(name))
}

/// A child's column `o` as its parent's own changes leave it: NOT NULL set or dropped on
/// the parent is set or dropped on every partition and child; so is a default the parent
/// sets again around a type change (a plain default change on a parent is `ONLY`).
fn after_parent(d: &Diff, child: &Table, o: &Column) -> Column {
    let mut out = o.clone();
    let Some(parent) = super::tables::parent_of(child) else {
        return out;
    };
    let column = |s: &crate::model::Schema| {
        s.tables
            .get(parent)
            .and_then(|p| p.columns.get(&o.name))
            .cloned()
    };
    let (Some(po), Some(pn)) = (column(d.from), column(d.to)) else {
        return out;
    };
    if po.not_null != pn.not_null {
        out.not_null = pn.not_null;
    }
    let type_changes = po.data_type != pn.data_type || po.collation != pn.collation;
    if type_changes && (po.default.is_some() || pn.default.is_some()) {
        out.default = pn.default;
    }
    out
}

fn add(d: &mut Diff, t: &QualifiedName, c: &Column) {
    let mut hazards = Vec::new();
    if c.generated.is_some() {
        hazards.push(Hazard::new(
            TABLE_REWRITE,
            format!("computes {t}.{} for every row", quote_ident(&c.name)),
        ));
    } else if c.identity.is_some() {
        hazards.push(Hazard::new(
            TABLE_REWRITE,
            format!(
                "fills identity column {t}.{} for every row",
                quote_ident(&c.name)
            ),
        ));
    } else if c.default.as_deref().is_some_and(is_volatile_default) {
        hazards.push(Hazard::new(
            TABLE_REWRITE,
            format!(
                "a volatile default fills {t}.{} row by row",
                quote_ident(&c.name)
            ),
        ));
        hazards.push(Hazard::new(
            VOLATILE_DEFAULT,
            format!(
                "{} is evaluated for every row of {t}",
                c.default.as_deref().unwrap_or("")
            ),
        ));
    }
    if c.not_null && c.default.is_none() && c.identity.is_none() && c.generated.is_none() {
        hazards.push(Hazard::new(
            MAY_FAIL,
            format!("NOT NULL without a default fails when {t} has rows"),
        ));
    }
    d.push(
        ObjectId::Column(t.clone(), c.name.clone()),
        Step::Create,
        ChangeKind::AddColumn,
        Phase::Expand,
        Op::AddColumn {
            table: t.clone(),
            column: Box::new(c.clone()),
        },
        hazards,
    );
}

/// Defaults PostgreSQL cannot store once for all rows (they are evaluated per row).
fn is_volatile_default(expr: &str) -> bool {
    let e = expr.to_ascii_lowercase();
    [
        "nextval(",
        "random(",
        "gen_random_uuid(",
        "clock_timestamp(",
        "uuid_generate",
    ]
    .iter()
    .any(|f| e.contains(f))
}

fn alter(d: &mut Diff, t: &QualifiedName, o: &Column, c: &Column) -> Result<(), DiffError> {
    let id = ObjectId::Column(t.clone(), c.name.clone());
    let col = quote_ident(&c.name);
    let at = format!("ALTER TABLE {t} ALTER COLUMN {col}");
    let generation_changes = o.generated != c.generated
        || (o.generated.is_some() && o.generated_virtual != c.generated_virtual);
    if generation_changes {
        if o.generated.is_some() && c.generated.is_none() && !o.generated_virtual {
            d.push(
                id.clone(),
                Step::Alter,
                ChangeKind::AlterColumn,
                Phase::Expand,
                format!("{at} DROP EXPRESSION"),
                vec![],
            );
        } else if set_expression_applies(d, o, c) {
            set_expression(d, t, c);
        } else {
            readd(d, t, o, c);
            return Ok(());
        }
    }
    let type_changes = o.data_type != c.data_type || o.collation != c.collation;
    let default_changes = o.default != c.default && c.generated.is_none();
    // A default that cannot be cast with the column goes first and comes back after.
    if type_changes && o.default.is_some() && o.generated.is_none() {
        d.push(
            id.clone(),
            Step::Alter,
            ChangeKind::DropDefault,
            Phase::Expand,
            format!("{at} DROP DEFAULT"),
            vec![],
        );
    }
    if o.identity.is_some() && (c.identity.is_none() || type_changes) {
        if let (Some(a), Some(b)) = (&o.identity, &c.identity) {
            if a.sequence != b.sequence {
                return Err(unsupported(&id, "the identity's sequence is renamed"));
            }
        }
        if c.identity.is_none() {
            d.push(
                id.clone(),
                Step::Alter,
                ChangeKind::DropIdentity,
                Phase::Expand,
                format!("{at} DROP IDENTITY"),
                vec![],
            );
        }
    }
    if o.not_null && !c.not_null {
        d.push(
            id.clone(),
            Step::Alter,
            ChangeKind::DropNotNull,
            Phase::Expand,
            format!("{at} DROP NOT NULL"),
            vec![],
        );
    }
    if type_changes {
        let widening = is_widening(&o.data_type, &c.data_type) && o.collation == c.collation;
        let using =
            match d.conversions.get(&(t.clone(), c.name.to_string())) {
                Some(expr) => Some(expr.clone()),
                None if !widening && o.data_type != c.data_type => {
                    let expr = super::casts::using(d, &col, &o.data_type, &c.data_type)
                        .ok_or_else(|| DiffError::NoCast {
                            column: format!("{t}.{col}"),
                            from: o.data_type.clone(),
                            to: c.data_type.clone(),
                            example: super::casts::example(&col, &o.data_type, &c.data_type),
                        })?;
                    Some(expr)
                }
                None => None,
            };
        let op = Op::AlterColumnType {
            table: t.clone(),
            column: c.name.to_string(),
            data_type: c.data_type.clone(),
            collation: c.collation.clone(),
            using,
        };
        let mut hazards = Vec::new();
        if !is_binary_compatible(&o.data_type, &c.data_type) || o.collation != c.collation {
            hazards.push(Hazard::new(
                TABLE_REWRITE,
                format!("rewrites {t} and rebuilds its indexes on {col}"),
            ));
        }
        let phase = if widening {
            Phase::Expand
        } else {
            hazards.push(Hazard::new(
                MAY_FAIL,
                format!("values of {t}.{col} may not convert to {}", c.data_type),
            ));
            hazards.push(Hazard::new(
                TYPE_NARROWING,
                format!("{t}.{col} changes from {} to {}", o.data_type, c.data_type),
            ));
            if let Some(why) = super::lossy::lossy_change(&o.data_type, &c.data_type) {
                hazards.insert(
                    0,
                    Hazard::new(
                        DESTRUCTIVE,
                        format!(
                            "{t}.{col} changes from {} to {}: {why}",
                            o.data_type, c.data_type
                        ),
                    ),
                );
            }
            Phase::Contract
        };
        d.push(
            id.clone(),
            Step::Alter,
            ChangeKind::AlterColumnType,
            phase,
            op,
            hazards,
        );
        d.rebuild_dependents.insert(id.clone(), phase);
    }
    if (type_changes && c.default.is_some() && c.generated.is_none())
        || (!type_changes && default_changes)
    {
        // A default changed alone leaves partitions and children their own (`ONLY`).
        let at = if !type_changes && super::tables::has_children(d, t) {
            format!("ALTER TABLE ONLY {t} ALTER COLUMN {col}")
        } else {
            at.clone()
        };
        let sql = match &c.default {
            Some(def) => format!("{at} SET DEFAULT {def}"),
            None => format!("{at} DROP DEFAULT"),
        };
        let kind = if c.default.is_some() {
            ChangeKind::SetDefault
        } else {
            ChangeKind::DropDefault
        };
        d.push(id.clone(), Step::Alter, kind, Phase::Expand, sql, vec![]);
    }
    if !o.not_null && c.not_null {
        d.push(
            id.clone(),
            Step::Alter,
            ChangeKind::SetNotNull,
            Phase::Contract,
            Op::SetNotNull {
                table: t.clone(),
                column: c.name.to_string(),
            },
            vec![
                Hazard::new(
                    VALIDATION_SCAN,
                    format!("scans {t} under an ACCESS EXCLUSIVE lock"),
                ),
                Hazard::new(ACCESS_EXCLUSIVE, format!("locks {t} during the scan")),
                Hazard::new(MAY_FAIL, format!("fails if {t}.{col} holds NULLs")),
            ],
        );
    }
    match (&o.identity, &c.identity) {
        // On the create step: its sequence may take the name of one dropped before it
        // (a serial's, `names`), whose users' alters go first.
        (None, Some(i)) => {
            d.push(
                id.clone(),
                Step::Create,
                ChangeKind::AddIdentity,
                Phase::Expand,
                format!("{at} ADD{}", identity_sql(i)),
                vec![],
            );
            if i.options.increment > 0 {
                let serial = d
                    .from
                    .sequences
                    .get(&i.sequence)
                    .filter(|s| super::sequences::serial_made_identity(d, s).is_some())
                    .map(|_| super::types::retired_name(&i.sequence));
                d.push(
                    id.clone(),
                    Step::Create,
                    ChangeKind::AlterSequence,
                    Phase::Expand,
                    continue_after_rows(t, &col, i, serial.as_ref()),
                    vec![],
                );
            }
        }
        (Some(a), Some(b)) => {
            let mut parts = Vec::new();
            if a.always != b.always {
                parts.push(format!(
                    "SET GENERATED {}",
                    if b.always { "ALWAYS" } else { "BY DEFAULT" }
                ));
            }
            parts.extend(
                changed_options(&a.options, &b.options)
                    .into_iter()
                    .map(|p| format!("SET {p}")),
            );
            if a.options.data_type != b.options.data_type && !type_changes {
                return Err(unsupported(
                    &id,
                    "the identity sequence's type changes without the column's",
                ));
            }
            let bound = moved_bound(&b.sequence, &a.options, &b.options);
            if let Some((clause, _)) = &bound {
                parts.retain(|p| p != &format!("SET {clause}"));
            }
            if !parts.is_empty() {
                d.push(
                    id.clone(),
                    Step::Alter,
                    ChangeKind::AlterIdentity,
                    Phase::Expand,
                    format!("{at} {}", parts.join(" ")),
                    vec![],
                );
            }
            if let Some((clause, setval)) = bound {
                for (kind, sql) in [
                    (ChangeKind::AlterSequence, setval),
                    (ChangeKind::AlterIdentity, format!("{at} SET {clause}")),
                ] {
                    d.push(id.clone(), Step::Alter, kind, Phase::Expand, sql, vec![]);
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// An identity added to a column that has values (a serial's, or plain integers) starts
/// after the largest, and after the last value the serial's sequence (renamed out of the
/// way, `serial`) handed out, so the next generated value is never one used before: `setval`
/// to that value when it is at or past the identity's start (an empty table and an unused
/// sequence leave the new sequence as it is: `setval` ignores a NULL). In the statement's
/// transaction, so a row written meanwhile is counted or waits. A descending identity is
/// left to its START.
pub(super) fn continue_after_rows(
    t: &QualifiedName,
    col: &str,
    i: &crate::model::Identity,
    serial: Option<&QualifiedName>,
) -> String {
    let start = i.options.start;
    let used = match serial {
        Some(old) => format!(
            "greatest(max({col}), (SELECT CASE WHEN is_called THEN last_value END FROM {old}))"
        ),
        None => format!("max({col})"),
    };
    format!(
        "SELECT pg_catalog.setval({}::regclass, greatest({used}, {start}), {used} >= {start}) FROM {t}",
        quote_literal(&i.sequence.to_string()),
    )
}

/// `ALTER COLUMN ... SET EXPRESSION` (PostgreSQL 17) replaces the expression of a column
/// generated before and after, of the same kind (stored or virtual) and type: the column
/// keeps its place, comment, grants, and the indexes, views and statistics on it.
fn set_expression_applies(d: &Diff, o: &Column, c: &Column) -> bool {
    d.server_major.is_some_and(|m| m >= 17)
        && o.generated.is_some()
        && c.generated.is_some()
        && o.generated_virtual == c.generated_virtual
        && o.data_type == c.data_type
        && o.collation == c.collation
}

/// The new expression computed for every row of a stored column (a rewrite under an ACCESS
/// EXCLUSIVE lock that rebuilds the indexes on the column); a virtual column computes it
/// when read. Values change, nothing is removed: expand.
fn set_expression(d: &mut Diff, t: &QualifiedName, c: &Column) {
    let col = quote_ident(&c.name);
    let hazards = if c.generated_virtual {
        vec![]
    } else {
        d.on_live_table(
            t,
            vec![Hazard::new(
                TABLE_REWRITE,
                format!("rewrites {t} to compute {col} with the new expression, and rebuilds its indexes on {col}"),
            )],
        )
    };
    d.push(
        ObjectId::Column(t.clone(), c.name.clone()),
        Step::Alter,
        ChangeKind::AlterColumn,
        Phase::Expand,
        format!(
            "ALTER TABLE {t} ALTER COLUMN {col} SET EXPRESSION AS ({})",
            c.generated.as_deref().unwrap_or_default()
        ),
        hazards,
    );
}

/// A generation expression added, changed (below PostgreSQL 17, or with the column's type or
/// kind), or dropped from a virtual column: the column is dropped and added again, and what
/// uses it is dropped before and created after.
fn readd(d: &mut Diff, t: &QualifiedName, o: &Column, c: &Column) {
    let id = ObjectId::Column(t.clone(), c.name.clone());
    let col = quote_ident(&c.name);
    let why = match (&o.generated, &c.generated) {
        (None, Some(_)) => "its stored values are replaced by computed ones",
        (Some(_), None) => "it becomes a plain column, empty until written",
        _ => "its values are computed again with the new expression",
    };
    d.push(
        id.clone(),
        Step::Drop,
        ChangeKind::DropColumn,
        Phase::Contract,
        format!("ALTER TABLE {t} DROP COLUMN {col}"),
        vec![Hazard::new(
            DESTRUCTIVE,
            format!("drops and adds again column {t}.{col}: {why}"),
        )],
    );
    add(d, t, c);
    d.recreated.insert(id, Phase::Contract);
}

/// Type changes that keep every value (old code keeps working).
pub(super) fn is_widening(from: &str, to: &str) -> bool {
    let rank = |t: &str| match t {
        "smallint" => Some(1),
        "integer" => Some(2),
        "bigint" => Some(3),
        _ => None,
    };
    if let (Some(a), Some(b)) = (rank(from), rank(to)) {
        return b > a;
    }
    if let (Some(a), Some(b)) = (varchar_len(from), varchar_len(to)) {
        return b >= a;
    }
    if varchar_len(from).is_some() && to == "text" {
        return true;
    }
    from == "real" && to == "double precision"
}

/// Changes PostgreSQL makes without rewriting the table.
fn is_binary_compatible(from: &str, to: &str) -> bool {
    if let (Some(a), Some(b)) = (varchar_len(from), varchar_len(to)) {
        return b >= a;
    }
    (varchar_len(from).is_some() || from == "character varying")
        && (to == "text" || to == "character varying")
        || (from == "text" && to == "character varying")
}

fn varchar_len(t: &str) -> Option<u32> {
    t.strip_prefix("character varying(")?
        .strip_suffix(')')?
        .parse()
        .ok()
}

/// A column whose default uses an object that is dropped and created again: the default
/// goes before the drop and comes back after the create.
pub(super) fn rebuild_default(
    d: &mut Diff,
    cause: &ObjectId,
    table: &QualifiedName,
    column: &str,
    phase: Phase,
) -> Result<(), DiffError> {
    let id = ObjectId::Column(table.clone(), column.into());
    let old = d.from.tables.get(table).and_then(|t| t.columns.get(column));
    let new = d.to.tables.get(table).and_then(|t| t.columns.get(column));
    let (Some(old), Some(new)) = (old, new) else {
        return Ok(());
    };
    // A partition's column changes with its partitioned table's (`ALTER COLUMN ... TYPE`
    // recurses); its own default, if any, is diffed as the partition's. So does that of a
    // partition detached for good, whose columns are diffed from that state
    // (`tables::as_detached`).
    if let ObjectId::Column(parent, name) = cause {
        let partition_of = |s: &crate::model::Schema| {
            s.tables
                .get(table)
                .and_then(|t| t.partition_of.as_ref())
                .map(|p| p.parent.clone())
        };
        if name == column
            && partition_of(d.from).as_ref() == Some(parent)
            && partition_of(d.to).as_ref().is_none_or(|p| p == parent)
        {
            return Ok(());
        }
    }
    if old.generated.is_some()
        || old.default.is_none()
        || !matches!(cause, ObjectId::Function(_) | ObjectId::Sequence(_))
    {
        return Err(unsupported(
            &id,
            format!("it depends on {cause}, which has to be dropped and created again"),
        ));
    }
    d.changes.retain(|c| {
        !(c.object == id && matches!(c.kind, ChangeKind::SetDefault | ChangeKind::DropDefault))
    });
    let at = format!("ALTER TABLE {table} ALTER COLUMN {}", quote_ident(column));
    d.push(
        id.clone(),
        Step::Drop,
        ChangeKind::DropDefault,
        phase,
        format!("{at} DROP DEFAULT"),
        vec![],
    );
    if let Some(def) = &new.default {
        d.push(
            id,
            Step::Create,
            ChangeKind::SetDefault,
            phase,
            format!("{at} SET DEFAULT {def}"),
            vec![],
        );
    }
    Ok(())
}
