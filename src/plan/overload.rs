//! A function whose signature changes by gaining parameters with defaults (`f(p bigint)` →
//! `f(p bigint, plus integer DEFAULT 0)`) is a new overload that also accepts every call of
//! the old one. Kept side by side from expand until contract, the two make each such call
//! ambiguous (`function f(integer) is not unique`): the deployed code's calls fail from the
//! expand stage on (found by the traffic harness, tests/traffic.rs). So the old function is
//! dropped right before the new one is created, in expand, in the same transaction: the
//! deployed code's calls go to the new function from that commit on.

use crate::diff::{Change, ChangeKind, Step};
use crate::model::{Function, FunctionKind, FunctionSig, ObjectId, Schema};

/// `changes` with the drop of every function that a new overload shadows moved to right before
/// that overload's first statement, in its phase.
pub fn replace_shadowed(
    mut changes: Vec<Change>,
    current: &Schema,
    desired: &Schema,
) -> Vec<Change> {
    let pairs: Vec<(FunctionSig, FunctionSig)> = current
        .functions
        .values()
        .filter(|old| !desired.functions.contains_key(&old.sig))
        .filter_map(|old| shadowing(old, current, desired).map(|new| (old.sig.clone(), new)))
        .collect();
    for (old, new) in pairs {
        let is_drop = |c: &Change| {
            c.object == ObjectId::Function(old.clone())
                && c.step == Step::Drop
                && c.kind == ChangeKind::Drop
        };
        let new_id = ObjectId::Function(new);
        let (Some(drop_at), Some(_)) = (
            changes.iter().position(is_drop),
            changes.iter().position(|c| c.object == new_id),
        ) else {
            continue;
        };
        let mut drop = changes.remove(drop_at);
        let create_at = changes.iter().position(|c| c.object == new_id).unwrap();
        drop.phase = changes[create_at].phase;
        changes.insert(create_at, drop);
    }
    changes
}

/// Whether `drop` is the drop of a function that a new overload replaces (it is dropped before
/// the deploy on purpose: the deployed code's calls go to the overload).
pub fn is_replaced(drop: &Change, current: &Schema, desired: &Schema) -> bool {
    match &drop.object {
        ObjectId::Function(sig) => current
            .functions
            .get(sig)
            .is_some_and(|old| shadowing(old, current, desired).is_some()),
        _ => false,
    }
}

/// The new function (absent from `current`) of the same name that accepts every call of `old`.
fn shadowing(old: &Function, current: &Schema, desired: &Schema) -> Option<FunctionSig> {
    if !matches!(old.kind, FunctionKind::Function | FunctionKind::Procedure)
        || desired.functions.contains_key(&old.sig)
    {
        return None;
    }
    let old_args = items(&old.sig.args);
    desired
        .functions
        .values()
        .filter(|f| {
            f.sig.name == old.sig.name
                && f.kind == old.kind
                && !current.functions.contains_key(&f.sig)
        })
        .find(|f| accepts_calls_of(f, &old_args))
        .map(|f| f.sig.clone())
}

/// Whether every call with `old_args` (identity arguments) resolves to `new` as well: its
/// leading arguments have the same types and the rest have defaults.
fn accepts_calls_of(new: &Function, old_args: &[&str]) -> bool {
    let new_args = items(&new.sig.args);
    let Some(declared) = declared_args(&new.definition) else {
        return false;
    };
    let defaults = items(declared)
        .iter()
        .filter(|a| a.contains(" DEFAULT "))
        .count();
    let required = new_args.len().saturating_sub(defaults);
    let plain = |a: &&str| !a.starts_with("VARIADIC ") && !a.starts_with("OUT ");
    new_args.len() > old_args.len()
        && required <= old_args.len()
        && new_args.iter().all(plain)
        && old_args.iter().all(plain)
        && old_args.iter().zip(&new_args).all(|(a, b)| same_type(a, b))
}

/// Two identity arguments of the same type, whatever their names.
fn same_type(a: &str, b: &str) -> bool {
    let unnamed = |s: &str| {
        s.split_once(' ')
            .map_or(s.to_string(), |(_, t)| t.to_string())
    };
    a == b || unnamed(a) == unnamed(b) || unnamed(a) == b || a == unnamed(b)
}

/// The argument list of a `pg_get_functiondef` text (`CREATE OR REPLACE FUNCTION s.f(...)`).
fn declared_args(definition: &str) -> Option<&str> {
    let first = definition.lines().next()?;
    let open = first.find('(')?;
    let close = first.rfind(')')?;
    (close > open).then(|| &first[open + 1..close])
}

/// Top-level comma-separated items of an argument list.
fn items(args: &str) -> Vec<&str> {
    let (mut out, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, ch) in args.char_indices() {
        match ch {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(args[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if !args[start..].trim().is_empty() {
        out.push(args[start..].trim());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::Phase;
    use crate::model::QualifiedName;

    fn function(args: &str, declared: &str) -> Function {
        Function {
            sig: FunctionSig {
                name: QualifiedName::new("public", "f"),
                args: args.into(),
            },
            kind: FunctionKind::Function,
            definition: format!(
                "CREATE OR REPLACE FUNCTION public.f({declared})\n RETURNS integer\n LANGUAGE sql\nAS $function$ SELECT 1 $function$\n"
            ),
            returns: "integer".into(),
            owner: None,
            comment: None,
            grants: Default::default(),
        }
    }

    fn schemas(old: Function, new: Function) -> (Schema, Schema) {
        let (mut current, mut desired) = (Schema::default(), Schema::default());
        current.functions.insert(old.sig.clone(), old);
        desired.functions.insert(new.sig.clone(), new);
        (current, desired)
    }

    #[test]
    fn a_new_parameter_with_a_default_shadows_the_old_signature() {
        let old = function("p bigint", "p bigint");
        let (current, desired) = schemas(
            old.clone(),
            function("p bigint, plus integer", "p bigint, plus integer DEFAULT 0"),
        );
        assert!(shadowing(&old, &current, &desired).is_some());
    }

    #[test]
    fn an_overload_without_defaults_or_of_other_types_does_not() {
        let old = function("p bigint", "p bigint");
        for (args, declared) in [
            ("p bigint, plus integer", "p bigint, plus integer"),
            ("p text, plus integer", "p text, plus integer DEFAULT 0"),
            ("p text", "p text"),
        ] {
            let (current, desired) = schemas(old.clone(), function(args, declared));
            assert!(shadowing(&old, &current, &desired).is_none(), "{args}");
        }
    }

    #[test]
    fn the_drop_moves_right_before_the_creation_in_its_phase() {
        let old = function("p bigint", "p bigint");
        let new = function("p bigint, plus integer", "p bigint, plus integer DEFAULT 0");
        let (current, desired) = schemas(old.clone(), new.clone());
        let change = |sig: &FunctionSig, step, kind, phase, sql: &str| Change {
            object: ObjectId::Function(sig.clone()),
            step,
            kind,
            phase,
            op: crate::diff::Op::Sql(sql.into()),
            hazards: vec![],
            transactional: true,
        };
        let changes = vec![
            change(
                &new.sig,
                Step::Create,
                ChangeKind::Create,
                Phase::Expand,
                "SET",
            ),
            change(
                &new.sig,
                Step::Create,
                ChangeKind::Create,
                Phase::Expand,
                "CREATE",
            ),
            change(
                &old.sig,
                Step::Drop,
                ChangeKind::Drop,
                Phase::Contract,
                "DROP",
            ),
        ];
        let out = replace_shadowed(changes, &current, &desired);
        let sqls: Vec<(String, Phase)> = out.iter().map(|c| (c.sql(), c.phase)).collect();
        let sqls: Vec<(&str, Phase)> = sqls.iter().map(|(s, p)| (s.as_str(), *p)).collect();
        assert_eq!(
            sqls,
            [
                ("DROP", Phase::Expand),
                ("SET", Phase::Expand),
                ("CREATE", Phase::Expand)
            ]
        );
    }
}
