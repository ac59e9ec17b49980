//! Views and materialized views. A view whose output columns keep their names (new ones
//! only appended) is replaced in place (`CREATE OR REPLACE VIEW`); otherwise, and for
//! materialized views, it is dropped and created again, with its dependents.

use super::comments::diff_comment;
use super::privileges::{diff_grants, diff_owner};
use super::Phase;
use super::{ChangeKind, Diff, DiffError, Step};
use crate::model::{quote_ident, ObjectId, QualifiedName, View};

pub(super) fn diff(d: &mut Diff) -> Result<(), DiffError> {
    let (from, to) = (d.from, d.to);
    for (_, v) in from
        .views
        .iter()
        .filter(|(n, _)| !to.views.contains_key(*n))
    {
        drop(d, v, Phase::Contract);
    }
    for (name, v) in &to.views {
        let id = ObjectId::View(name.clone());
        let Some(old) = from.views.get(name) else {
            create(d, v, Phase::Expand);
            continue;
        };
        if d.recreated.contains_key(&id) {
            continue;
        }
        if old.materialized != v.materialized
            || (v.materialized && (old.definition != v.definition || old.options != v.options))
        {
            d.mark_recreated(&id, Phase::Expand);
            recreate(d, name, Phase::Expand)?;
            continue;
        }
        if old.definition != v.definition {
            if replaceable(old, v) {
                d.push(
                    id.clone(),
                    Step::Alter,
                    ChangeKind::ReplaceView,
                    Phase::Expand,
                    replace_sql(v),
                    vec![],
                );
            } else {
                d.mark_recreated(&id, Phase::Expand);
                recreate(d, name, Phase::Expand)?;
                continue;
            }
        } else if old.options != v.options {
            let keys = |o: &[String]| -> Vec<String> {
                o.iter()
                    .map(|x| x.split('=').next().unwrap_or(x).to_string())
                    .collect()
            };
            let removed: Vec<String> = keys(&old.options)
                .into_iter()
                .filter(|k| !keys(&v.options).contains(k))
                .collect();
            if !removed.is_empty() {
                d.push(
                    id.clone(),
                    Step::Alter,
                    ChangeKind::ReplaceView,
                    Phase::Expand,
                    format!("ALTER VIEW {name} RESET ({})", removed.join(", ")),
                    vec![],
                );
            }
            if !v.options.is_empty() {
                d.push(
                    id.clone(),
                    Step::Alter,
                    ChangeKind::ReplaceView,
                    Phase::Expand,
                    format!("ALTER VIEW {name} SET ({})", v.options.join(", ")),
                    vec![],
                );
            }
        }
        attributes(d, Some(old), v);
    }
    Ok(())
}

fn keyword(v: &View) -> &'static str {
    if v.materialized {
        "MATERIALIZED VIEW"
    } else {
        "VIEW"
    }
}

/// `CREATE OR REPLACE VIEW`, as the view's rendering creates it.
fn replace_sql(v: &View) -> String {
    crate::ddl::view_statement(v, true)
}

fn drop(d: &mut Diff, v: &View, phase: Phase) {
    d.push(
        ObjectId::View(v.name.clone()),
        Step::Drop,
        ChangeKind::Drop,
        phase,
        format!("DROP {} {}", keyword(v), v.name),
        vec![],
    );
}

fn create(d: &mut Diff, v: &View, phase: Phase) {
    let id = ObjectId::View(v.name.clone());
    d.push_created(&id, phase, &crate::ddl::create_view(v), vec![]);
}

fn attributes(d: &mut Diff, old: Option<&View>, v: &View) {
    let id = ObjectId::View(v.name.clone());
    let target = format!("{} {}", keyword(v), v.name);
    diff_owner(d, &id, &target, old.map(|o| &o.owner), &v.owner);
    diff_comment(
        d,
        &id,
        || target.clone(),
        old.map(|o| &o.comment),
        &v.comment,
    );
    let none = Default::default();
    let before = old.map(|o| &o.column_comments).unwrap_or(&none);
    for (col, comment) in &v.column_comments {
        diff_comment(
            d,
            &id,
            || format!("COLUMN {}.{}", v.name, quote_ident(col)),
            Some(&before.get(col).cloned()),
            &Some(comment.clone()),
        );
    }
    for col in before
        .keys()
        .filter(|c| !v.column_comments.contains_key(*c))
    {
        diff_comment(
            d,
            &id,
            || format!("COLUMN {}.{}", v.name, quote_ident(col)),
            Some(&before.get(col).cloned()),
            &None,
        );
    }
    diff_grants(
        d,
        &id,
        || format!("TABLE {}", v.name),
        None,
        old.map(|o| &o.grants),
        &v.grants,
    );
}

pub(super) fn recreate(d: &mut Diff, name: &QualifiedName, phase: Phase) -> Result<(), DiffError> {
    let (from, to) = (d.from, d.to);
    if let Some(v) = from.views.get(name) {
        drop(d, v, phase);
    }
    if let Some(v) = to.views.get(name) {
        create(d, v, phase);
    }
    Ok(())
}

/// `CREATE OR REPLACE VIEW` keeps the existing output columns (names and types, in order) and
/// may only append new ones. The model has no view column types, so strata replaces only when
/// that is certain from the queries: the old output expressions are the new query's first ones,
/// word for word, over the same FROM clause (a changed WHERE, new columns at the end). Anything
/// else is dropped and created again.
fn replaceable(old: &View, new: &View) -> bool {
    if old.options != new.options {
        return false;
    }
    let (Some(a), Some(b)) = (select_of(&old.definition), select_of(&new.definition)) else {
        return false;
    };
    let n = a.target_list.len();
    b.target_list.len() >= n && shape(&a, n).is_some() && shape(&a, n) == shape(&b, n)
}

fn select_of(query: &str) -> Option<pg_query::protobuf::SelectStmt> {
    use pg_query::NodeEnum;
    match crate::sqlparse::first_statement(query)? {
        NodeEnum::SelectStmt(select)
            if select.op == pg_query::protobuf::SetOperation::SetopNone as i32 =>
        {
            Some(*select)
        }
        _ => None,
    }
}

/// The first `n` output expressions and the FROM clause, deparsed (no source positions).
fn shape(select: &pg_query::protobuf::SelectStmt, n: usize) -> Option<String> {
    // A clone keeps every enum field valid; only what cannot change output types is cleared.
    let mut only = select.clone();
    only.target_list.truncate(n);
    only.where_clause = None;
    only.having_clause = None;
    only.group_clause.clear();
    only.sort_clause.clear();
    only.limit_count = None;
    only.limit_offset = None;
    pg_query::NodeEnum::SelectStmt(Box::new(only))
        .deparse()
        .ok()
}
