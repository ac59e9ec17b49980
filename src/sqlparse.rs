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
