//! SQL text read with pg_query: the questions the modules ask of a statement's parse tree
//! (its first statement, its only statement, one expression), written once. A leaf: it uses
//! no other module of the crate.

use pg_query::protobuf::Node;
use pg_query::NodeEnum;

/// The parse tree of the first statement of `sql`; `None` when it does not parse or holds
/// no statement.
pub fn first_statement(sql: &str) -> Option<NodeEnum> {
    let parsed = pg_query::parse(sql).ok()?;
    parsed.protobuf.stmts.into_iter().next()?.stmt?.node
}

/// The parse tree of `sql` when it is exactly one statement.
pub fn only_statement(sql: &str) -> Option<NodeEnum> {
    let parsed = pg_query::parse(sql).ok()?;
    let mut stmts = parsed.protobuf.stmts.into_iter();
    match (stmts.next(), stmts.next()) {
        (Some(one), None) => one.stmt?.node,
        _ => None,
    }
}

/// `text` read as one scalar expression (`SELECT <text>` is one statement with one target
/// and no `FROM`): its tree; `None` for anything else.
pub fn expression(text: &str) -> Option<Node> {
    let Some(NodeEnum::SelectStmt(select)) = only_statement(&format!("SELECT {text}")) else {
        return None;
    };
    if !select.from_clause.is_empty() {
        return None;
    }
    let [target] = <[Node; 1]>::try_from(select.target_list).ok()?;
    match target.node? {
        NodeEnum::ResTarget(t) => t.val.map(|v| *v),
        _ => None,
    }
}

/// The strings of a name list (`funcname`, `names`): `["pg_catalog", "setval"]`.
pub fn name_parts(list: &[Node]) -> Vec<&str> {
    list.iter()
        .filter_map(|n| match n.node.as_ref() {
            Some(NodeEnum::String(s)) => Some(s.sval.as_str()),
            _ => None,
        })
        .collect()
}

/// The name of the function a `SELECT` target calls (`SELECT f(...)`), as written.
pub fn called_function(target: &Node) -> Option<Vec<&str>> {
    let Some(NodeEnum::ResTarget(res)) = target.node.as_ref() else {
        return None;
    };
    match res.val.as_ref()?.node.as_ref()? {
        NodeEnum::FuncCall(call) => Some(name_parts(&call.funcname)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_and_only_statements() {
        assert!(matches!(
            first_statement("UPDATE t SET a = 1; SELECT 1"),
            Some(NodeEnum::UpdateStmt(_))
        ));
        assert!(only_statement("UPDATE t SET a = 1; SELECT 1").is_none());
        assert!(matches!(
            only_statement("DELETE FROM t"),
            Some(NodeEnum::DeleteStmt(_))
        ));
        assert!(first_statement("not sql").is_none());
        assert!(first_statement("").is_none());
    }

    #[test]
    fn the_function_a_target_calls() {
        let Some(NodeEnum::SelectStmt(select)) =
            first_statement("SELECT pg_catalog.setval('s', 1), 2")
        else {
            panic!("a select");
        };
        let names: Vec<_> = select.target_list.iter().map(called_function).collect();
        assert_eq!(names, vec![Some(vec!["pg_catalog", "setval"]), None]);
    }

    #[test]
    fn an_expression_is_one_target_without_from() {
        assert!(matches!(
            expression("a::bigint").and_then(|n| n.node),
            Some(NodeEnum::TypeCast(_))
        ));
        assert!(expression("a, b").is_none());
        assert!(expression("a FROM t").is_none());
        assert!(expression("1; DROP TABLE t").is_none());
    }
}
