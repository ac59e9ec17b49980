//! Dependencies PostgreSQL records nowhere: what a quoted function body (`LANGUAGE sql AS
//! $$ ... $$` or PL/pgSQL) names. Created with `check_function_bodies = off`, such a function
//! can be created before anything its body uses; but a CHECK being validated, an index being
//! built, a volatile default filling existing rows, a generated column or a materialized
//! view *runs* the function during the migration, and then the tables, views and functions
//! its body reads (and, for a `GROUP BY` on a primary key, that key) must exist already.
//!
//! The references are found with pg_query (`parse_plpgsql` for PL/pgSQL, whose embedded
//! statements and expressions are parsed in turn) and resolved against the target schema
//! conservatively: an unqualified name matches that name in every schema, and a call
//! matches every overload. The edges only order creations; an edge that would close a cycle
//! with the recorded dependencies or the edges already taken (a default calling a function
//! that reads its own table, mutually recursive functions) is left out, so the order is never
//! more constrained than a valid one allows. Dynamic SQL (`EXECUTE`) is not followed.

use crate::model::{ConstraintKind, Function, FunctionSig, ObjectId, QualifiedName, Schema};
use crate::order::DepsOf;
use pg_query::NodeRef;
use std::collections::{BTreeMap, BTreeSet};

/// A possibly qualified name found in a body.
type Name = (Option<String>, String);

/// What one function body names.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Refs {
    pub relations: BTreeSet<Name>,
    pub functions: BTreeSet<Name>,
    /// The body groups rows (`GROUP BY`): it may rely on a primary key for functional
    /// dependency, which only a key that exists at execution allows.
    pub grouped: bool,
}

/// The names a function's quoted body uses; empty for a `BEGIN ATOMIC` body (PostgreSQL
/// records its dependencies), another language, or a body pg_query cannot parse.
pub(super) fn refs(f: &Function) -> Refs {
    let language = |l: &str| {
        f.definition
            .lines()
            .any(|line| line.trim() == format!("LANGUAGE {l}"))
    };
    let mut out = Refs::default();
    if language("plpgsql") {
        if let Ok(tree) = pg_query::parse_plpgsql(&f.definition) {
            let mut queries = Vec::new();
            plpgsql_queries(&tree, &mut queries);
            for q in queries {
                collect_expression(&q, &mut out);
            }
        }
    } else if language("sql") {
        if let Some(body) = quoted_body(&f.definition) {
            if let Ok(parsed) = pg_query::parse(&body) {
                collect(&parsed, &mut out);
            }
        }
    }
    out
}

/// The `AS '...'` text of a `CREATE FUNCTION` (none for a SQL-standard body).
fn quoted_body(definition: &str) -> Option<String> {
    let parsed = pg_query::parse(definition).ok()?;
    let stmt = parsed
        .protobuf
        .stmts
        .first()?
        .stmt
        .as_ref()?
        .node
        .as_ref()?;
    let pg_query::NodeEnum::CreateFunctionStmt(create) = stmt else {
        return None;
    };
    create.options.iter().find_map(|o| match o.node.as_ref()? {
        pg_query::NodeEnum::DefElem(d) if d.defname == "as" => {
            match d.arg.as_ref()?.node.as_ref()? {
                pg_query::NodeEnum::List(l) => match l.items.first()?.node.as_ref()? {
                    pg_query::NodeEnum::String(s) => Some(s.sval.clone()),
                    _ => None,
                },
                _ => None,
            }
        }
        _ => None,
    })
}

/// Every embedded statement or expression of a PL/pgSQL parse tree (`PLpgSQL_expr.query`).
fn plpgsql_queries(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Object(expr)) = map.get("PLpgSQL_expr") {
                if let Some(serde_json::Value::String(q)) = expr.get("query") {
                    out.push(q.clone());
                }
            }
            map.values().for_each(|v| plpgsql_queries(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| plpgsql_queries(v, out)),
        _ => {}
    }
}

/// A PL/pgSQL query text: a statement, an expression (`x > 0`) or an assignment
/// (`ok := f(x)`).
fn collect_expression(query: &str, out: &mut Refs) {
    let assigned = query.split_once(":=").map(|(_, e)| e);
    let attempts = [
        Some(query.to_string()),
        Some(format!("SELECT {query}")),
        assigned.map(|e| format!("SELECT {e}")),
    ];
    for text in attempts.into_iter().flatten() {
        if let Ok(parsed) = pg_query::parse(&text) {
            collect(&parsed, out);
            return;
        }
    }
}

fn collect(parsed: &pg_query::ParseResult, out: &mut Refs) {
    for (node, ..) in parsed.protobuf.nodes() {
        match node {
            NodeRef::RangeVar(r) => {
                let schema = Some(r.schemaname.clone()).filter(|s| !s.is_empty());
                out.relations.insert((schema, r.relname.clone()));
            }
            NodeRef::FuncCall(call) => {
                match crate::sqlparse::name_parts(&call.funcname).as_slice() {
                    [name] => out.functions.insert((None, name.to_string())),
                    [schema, name] => out
                        .functions
                        .insert((Some(schema.to_string()), name.to_string())),
                    _ => false,
                };
            }
            NodeRef::SelectStmt(s) if !s.group_clause.is_empty() => out.grouped = true,
            _ => {}
        }
    }
}

/// The objects of `to` a body's names resolve to.
fn resolve(to: &Schema, by_name: &BTreeMap<&str, Vec<&FunctionSig>>, refs: &Refs) -> Vec<ObjectId> {
    let matches = |schema: &Option<String>, q: &QualifiedName, name: &str| {
        q.name == name && schema.as_ref().is_none_or(|s| &q.schema == s)
    };
    let mut out = Vec::new();
    for (schema, name) in &refs.relations {
        for (q, table) in to
            .tables
            .range(..)
            .filter(|(q, _)| matches(schema, q, name))
        {
            out.push(ObjectId::Table(q.clone()));
            if refs.grouped {
                out.extend(
                    table
                        .constraints
                        .iter()
                        .filter(|(_, c)| c.kind == ConstraintKind::PrimaryKey)
                        .map(|(n, _)| ObjectId::Constraint(q.clone(), n.clone())),
                );
            }
        }
        out.extend(
            to.views
                .keys()
                .filter(|q| matches(schema, q, name))
                .map(|q| ObjectId::View(q.clone())),
        );
    }
    for (schema, name) in &refs.functions {
        for sig in by_name.get(name.as_str()).into_iter().flatten() {
            if schema.as_ref().is_none_or(|s| &sig.name.schema == s) {
                out.push(ObjectId::Function((*sig).clone()));
            }
        }
    }
    out
}

/// The body edges (function → what its body uses) for the functions the changes in `start`
/// may run during the migration, reached through `deps` (the target's recorded
/// dependencies) or through other bodies. Edges that would close a cycle are left out.
pub(super) fn edges<'a>(
    to: &Schema,
    start: impl IntoIterator<Item = &'a ObjectId>,
    deps: &impl Fn(&ObjectId) -> Vec<ObjectId>,
    alias: &BTreeMap<ObjectId, ObjectId>,
) -> BTreeMap<ObjectId, BTreeSet<ObjectId>> {
    let mut by_name: BTreeMap<&str, Vec<&FunctionSig>> = BTreeMap::new();
    for sig in to.functions.keys() {
        by_name.entry(sig.name.name.as_str()).or_default().push(sig);
    }
    // Functions, triggers and policies are not run by their own creation: what their
    // bodies use matters only when something else runs them.
    let mut stack: Vec<ObjectId> = start
        .into_iter()
        .filter(|o| {
            !matches!(
                o,
                ObjectId::Function(_) | ObjectId::Trigger(_) | ObjectId::Policy(_)
            )
        })
        .cloned()
        .collect();
    let mut seen: BTreeSet<ObjectId> = BTreeSet::new();
    let mut out: BTreeMap<ObjectId, BTreeSet<ObjectId>> = BTreeMap::new();
    while let Some(x) = stack.pop() {
        if seen.contains(&x) {
            continue;
        }
        stack.extend(deps(&x));
        if let Some(f) = match &x {
            ObjectId::Function(sig) => to.functions.get(sig),
            _ => None,
        } {
            for target in resolve(to, &by_name, &refs(f)) {
                // A key created inside its table's statement is that statement.
                let target = alias.get(&target).cloned().unwrap_or(target);
                if target != x && !reaches(&target, &x, deps, &out) {
                    out.entry(x.clone()).or_default().insert(target.clone());
                    stack.push(target);
                }
            }
        }
        seen.insert(x);
    }
    out
}

/// Whether `from` depends on `goal`, through recorded dependencies or body edges.
fn reaches(
    from: &ObjectId,
    goal: &ObjectId,
    deps: &impl Fn(&ObjectId) -> Vec<ObjectId>,
    bodies: &BTreeMap<ObjectId, BTreeSet<ObjectId>>,
) -> bool {
    let mut stack = vec![from.clone()];
    let mut seen = BTreeSet::new();
    while let Some(x) = stack.pop() {
        if &x == goal {
            return true;
        }
        if !seen.insert(x.clone()) {
            continue;
        }
        stack.extend(deps(&x));
        stack.extend(bodies.get(&x).into_iter().flatten().cloned());
    }
    false
}

/// The recorded dependencies plus the body edges, with the body's targets mapped to what
/// stands for them (a primary key created inside its table's CREATE TABLE is the table).
pub(super) struct WithBodies<'a, D> {
    pub deps: D,
    pub bodies: &'a BTreeMap<ObjectId, BTreeSet<ObjectId>>,
    pub alias: &'a BTreeMap<ObjectId, ObjectId>,
}

impl<'a, D: DepsOf<&'a ObjectId>> DepsOf<&'a ObjectId> for WithBodies<'a, D> {
    fn deps_of(&self, object: &&'a ObjectId) -> Vec<&'a ObjectId> {
        let mut out = self.deps.deps_of(object);
        for b in self.bodies.get(*object).into_iter().flatten() {
            let b = self.alias.get(b).unwrap_or(b);
            if b != *object && !out.contains(&b) {
                out.push(b);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function(definition: &str) -> Function {
        Function {
            sig: FunctionSig {
                name: QualifiedName::new("public", "f"),
                args: Default::default(),
            },
            kind: crate::model::FunctionKind::Function,
            definition: definition.to_string(),
            returns: "integer".to_string(),
            owner: None,
            comment: None,
            grants: Default::default(),
        }
    }

    fn names(set: &BTreeSet<Name>) -> Vec<String> {
        let mut out: Vec<String> = set
            .iter()
            .map(|(s, n)| match s {
                Some(s) => format!("{s}.{n}"),
                None => n.clone(),
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn plpgsql_statements_expressions_and_assignments() {
        let f = function(
            "CREATE OR REPLACE FUNCTION public.f(x integer)\n RETURNS boolean\n LANGUAGE plpgsql\nAS $function$\nDECLARE\n    ok boolean;\nBEGIN\n    ok := app.allowed(x);\n    IF helper(x) > 0 THEN\n        PERFORM 1 FROM audit.log l JOIN seen USING (id);\n    END IF;\n    RETURN ok AND (SELECT count(*) FROM totals GROUP BY k LIMIT 1) > 0;\nEND\n$function$\n",
        );
        let r = refs(&f);
        assert_eq!(names(&r.functions), ["app.allowed", "count", "helper"]);
        assert_eq!(names(&r.relations), ["audit.log", "seen", "totals"]);
        assert!(r.grouped);
    }

    #[test]
    fn sql_quoted_body_but_not_an_atomic_one() {
        let quoted = function(
            "CREATE OR REPLACE FUNCTION public.f()\n RETURNS integer\n LANGUAGE sql\nAS $function$ SELECT g() + (SELECT n FROM v) $function$\n",
        );
        let r = refs(&quoted);
        assert_eq!(names(&r.functions), ["g"]);
        assert_eq!(names(&r.relations), ["v"]);
        assert!(!r.grouped);
        let atomic = function(
            "CREATE OR REPLACE FUNCTION public.f()\n RETURNS integer\n LANGUAGE sql\nBEGIN ATOMIC\n SELECT g();\nEND\n",
        );
        assert_eq!(refs(&atomic), Refs::default());
    }
}
