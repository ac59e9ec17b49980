//! The batched backfill: a `DO` block that runs `UPDATE ... SET new = old` in batches, each
//! committed on its own. Written from a template (`backfill_loop`) and read back from the same
//! template (`backfill_update`), so `run` accepts exactly the blocks the planner writes.

use crate::config::Backfill;
use crate::model::{quote_ident, ConstraintKind, QualifiedName, Schema};

/// A `DO` block running `UPDATE table SET <set> WHERE <pending>` in batches of `pace.batch`
/// rows, committing after each and then sleeping `pace.pause`: keyset on a one-column primary
/// key when there is one, else by `ctid`. A batch holds its rows' locks until it commits, so
/// the batch size bounds how long the application's update of one of them waits.
pub(super) fn backfill_loop(
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
///
/// The keyset loop stops at the largest key there was when it started: a row written later
/// already has its value (the trigger or default that comes before every backfill gave it),
/// and walking to a moving end never ends while the application inserts a few rows in every
/// pause (seen under traffic: 690 s of batches of the newest rows).
const KEYSET_LOOP: &str = "DO $strata$\nDECLARE\n  strata_from {ty};\n  strata_upto {ty};\n  strata_last {ty};\nBEGIN\n  SELECT min({k}), max({k}) INTO strata_from, strata_last FROM {table};\n  WHILE strata_from IS NOT NULL LOOP\n    SELECT max(b.{k}) INTO strata_upto FROM (SELECT {k} FROM {table} WHERE {k} >= strata_from AND {k} <= strata_last ORDER BY {k} LIMIT {batch}) b;\n    UPDATE {table} SET {set} WHERE {k} >= strata_from AND {k} <= strata_upto AND {pending};\n    COMMIT;{pause}\n    SELECT min({k}) INTO strata_from FROM {table} WHERE {k} > strata_upto AND {k} <= strata_last;\n  END LOOP;\nEND\n$strata$";
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
pub fn backfill_update(sql: &str) -> Option<crate::plan::classify::BackfillUpdate> {
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
fn single_assignment(sql: &str) -> Option<crate::plan::classify::BackfillUpdate> {
    use pg_query::NodeEnum;
    let Some(NodeEnum::UpdateStmt(update)) = crate::sqlparse::only_statement(sql) else {
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
        // A cast, possibly through others (`c::text::e`, an enum moved to its rebuilt type).
        Some(NodeEnum::TypeCast(c)) => {
            let mut arg = c.arg.as_deref()?;
            while let Some(NodeEnum::TypeCast(inner)) = arg.node.as_ref() {
                arg = inner.arg.as_deref()?;
            }
            (
                column(arg)?,
                Some(crate::plan::classify::shape(c.type_name.as_ref()?)),
            )
        }
        _ => (column(value)?, None),
    };
    Some(crate::plan::classify::BackfillUpdate {
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
    matches!(
        crate::sqlparse::expression(&format!("NULL::{text}")).and_then(|e| e.node),
        Some(NodeEnum::TypeCast(_))
    )
}
