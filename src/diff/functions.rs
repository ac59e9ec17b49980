//! Functions, procedures and aggregates: `CREATE OR REPLACE` where PostgreSQL allows it
//! (same kind, same result type); otherwise dropped and created again with their dependents.

use super::comments::diff_comment;
use super::hazard::Hazard;
use super::privileges::{diff_grants, diff_owner, public_grant};
use super::Phase;
use super::{ChangeKind, Diff, DiffError, Step};
use crate::model::{Function, FunctionKind, FunctionSig, ObjectId, Privilege};

pub(super) fn diff(d: &mut Diff) -> Result<(), DiffError> {
    let (from, to) = (d.from, d.to);
    for (_, f) in from
        .functions
        .iter()
        .filter(|(s, _)| !to.functions.contains_key(*s))
    {
        drop(d, f, Phase::Contract);
    }
    for (sig, f) in &to.functions {
        let id = ObjectId::Function(sig.clone());
        match from.functions.get(sig) {
            None => create(d, f, Phase::Expand, None),
            Some(old)
                if old.definition != f.definition
                    || old.returns != f.returns
                    || old.kind != f.kind =>
            {
                if old.kind == f.kind
                    && old.returns == f.returns
                    && matches!(
                        f.kind,
                        FunctionKind::Function | FunctionKind::Procedure | FunctionKind::Window
                    )
                {
                    unchecked_body(
                        d,
                        (&id, Step::Alter, ChangeKind::ReplaceFunction, Phase::Expand),
                        f,
                    );
                    d.push(
                        id.clone(),
                        Step::Alter,
                        ChangeKind::ReplaceFunction,
                        Phase::Expand,
                        f.definition.trim_end().trim_end_matches(';').to_string(),
                        vec![],
                    );
                    attributes(d, Some(old), f);
                } else {
                    d.mark_recreated(&id, Phase::Expand);
                    recreate(d, sig, Phase::Expand)?;
                }
            }
            Some(old) => attributes(d, Some(old), f),
        }
    }
    Ok(())
}

fn keyword(f: &Function) -> &'static str {
    match f.kind {
        FunctionKind::Procedure => "PROCEDURE",
        FunctionKind::Aggregate => "AGGREGATE",
        FunctionKind::Function | FunctionKind::Window => "FUNCTION",
    }
}

pub(super) fn target(f: &Function) -> String {
    format!("{} {}", keyword(f), f.sig)
}

fn drop(d: &mut Diff, f: &Function, phase: Phase) {
    d.push(
        ObjectId::Function(f.sig.clone()),
        Step::Drop,
        ChangeKind::Drop,
        phase,
        format!("DROP {}", target(f)),
        Vec::<Hazard>::new(),
    );
}

fn create(d: &mut Diff, f: &Function, phase: Phase, _old: Option<&Function>) {
    let id = ObjectId::Function(f.sig.clone());
    unchecked_body(d, (&id, Step::Create, ChangeKind::Create, phase), f);
    d.push_created(&id, phase, &crate::ddl::create_function(f), vec![]);
}

/// `SET check_function_bodies = off` before a SQL function's CREATE: its body is
/// otherwise planned at creation, so it could only be created after every table, constraint
/// (a `GROUP BY` on a primary key) and function it names, which PostgreSQL records nowhere
/// for a quoted body, and which a default or CHECK using the function may make impossible.
/// The bodies come from a database where they work. A `BEGIN ATOMIC` body is always parsed,
/// and its dependencies are recorded, so it is ordered by them instead. Session-level (not
/// `SET LOCAL`): the simulation and `run` execute statements outside and inside a
/// transaction; the setting only ever affects the creation of functions.
fn unchecked_body(
    d: &mut Diff,
    (id, step, kind, phase): (&ObjectId, Step, ChangeKind, Phase),
    f: &Function,
) {
    let sql_body = f.definition.lines().any(|l| l.trim() == "LANGUAGE sql");
    if sql_body && !atomic_body(&f.definition) {
        d.push(
            id.clone(),
            step,
            kind,
            phase,
            "SET check_function_bodies = off".to_string(),
            vec![],
        );
    }
}

/// Whether a `pg_get_functiondef` text has a SQL-standard body (`BEGIN ATOMIC` or `RETURN`)
/// rather than a quoted one (`AS $function$`).
fn atomic_body(definition: &str) -> bool {
    !definition.lines().any(|l| l.starts_with("AS "))
}

/// Owner, comment and grants.
fn attributes(d: &mut Diff, old: Option<&Function>, f: &Function) {
    let id = ObjectId::Function(f.sig.clone());
    let t = target(f);
    diff_owner(d, &id, &t, old.map(|o| &o.owner), &f.owner);
    diff_comment(d, &id, || t.clone(), old.map(|o| &o.comment), &f.comment);
    let grant_target = match f.kind {
        FunctionKind::Procedure => format!("PROCEDURE {}", f.sig),
        _ => format!("FUNCTION {}", f.sig),
    };
    // A new function starts with PostgreSQL's default: EXECUTE for PUBLIC.
    let defaults = public_grant(Privilege::Execute);
    let before = old.map(|o| &o.grants).unwrap_or(&defaults);
    diff_grants(
        d,
        &id,
        || grant_target.clone(),
        None,
        Some(before),
        &f.grants,
    );
}

pub(super) fn recreate(d: &mut Diff, sig: &FunctionSig, phase: Phase) -> Result<(), DiffError> {
    let (from, to) = (d.from, d.to);
    if let Some(old) = from.functions.get(sig) {
        drop(d, old, phase);
    }
    if let Some(new) = to.functions.get(sig) {
        create(d, new, phase, None);
    }
    Ok(())
}
