use super::{comment_on, grants, owner_to, GrantTarget, StatementKind, Statements};
use crate::model::{Function, FunctionKind};

/// The function's definition (`CREATE OR REPLACE ...` / `CREATE AGGREGATE`), comment and
/// privileges.
pub fn create_function(f: &Function) -> Statements {
    let kind = match f.kind {
        FunctionKind::Procedure => "PROCEDURE",
        FunctionKind::Aggregate => "AGGREGATE",
        FunctionKind::Function | FunctionKind::Window => "FUNCTION",
    };
    let target = if f.kind == FunctionKind::Aggregate && f.sig.args.is_empty() {
        format!("{}(*)", f.sig.name)
    } else {
        f.sig.to_string()
    };
    let mut out = Statements::one(
        StatementKind::Create,
        f.definition.trim_end().trim_end_matches(';'),
    );
    out.append(owner_to(kind, &target, &f.owner));
    out.append(comment_on(&format!("{kind} {target}"), &f.comment));
    let grant_kind = if f.kind == FunctionKind::Procedure {
        "PROCEDURE"
    } else {
        "FUNCTION"
    };
    out.append(grants(GrantTarget::Routine(grant_kind, &target), &f.grants));
    out
}
