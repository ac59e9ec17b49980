//! What a statement of a schema stage does, judged from the statement itself: plan marks its
//! statements with it, `pending.sql`'s parser and `run` check every statement against it, so
//! a hand edit of the file cannot turn a drop into "hazards: none" or slip rows' changes into
//! a schema stage.
//!
//! A schema stage holds DDL only (an allowlist of statement kinds) plus the planner's own
//! batched backfill (`DO` blocks of exactly the shape `plan::online` writes). A statement is
//! destructive when it drops a table, schema, type, domain, sequence or extension, drops
//! anything with CASCADE, drops a column whose data the plan did not copy (unchanged) into a
//! column it added, overwrites a column the plan did not add, or changes a column's type
//! lossily (`diff::lossy`; that needs the column's type before the plan, so only with a
//! schema).

use super::online::backfill_update;
use super::pending::{Plan, PlannedStatement, StageBody};
use crate::config::StageKind;
use crate::diff::lossy::{lossy, TypeShape};
use crate::model::Schema;
use crate::source::statements::{self as parse, StatementKind};
use pg_query::protobuf::{AlterTableType, DropBehavior, ObjectType};
use pg_query::NodeEnum;
use std::collections::BTreeMap;

/// Why a statement may not run, or why it is destructive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// 1-based line of the statement in pending.sql (0 for a plan not read from a file).
    pub line: usize,
    pub sql: String,
    pub message: String,
}

/// The verdict over a whole plan.
#[derive(Debug, Default)]
pub struct Review {
    /// Statements that may not run at all: not DDL, or destructive without saying so.
    pub refused: Vec<Finding>,
    /// Statements that can lose data (by the classification or by their own hazards line).
    pub destructive: Vec<Finding>,
}

/// Classifies every statement of `plan`'s schema stages in order. `schema`: the target's
/// schema the plan starts from, when known (it is needed to judge type changes).
pub fn review(plan: &Plan, schema: Option<&Schema>) -> Review {
    let mut walker = Walker::new(schema);
    let mut review = Review::default();
    for stage in &plan.stages {
        walker.follow_migrations(&stage.body);
        let StageBody::Statements { statements } = &stage.body else {
            continue;
        };
        if stage.kind != StageKind::Schema {
            continue;
        }
        for statement in statements {
            let finding = |message: String| Finding {
                line: statement.line,
                sql: statement.sql.clone(),
                message,
            };
            let verdict = walker.classify(&statement.sql);
            if let Err(why) = verdict.allowed {
                review.refused.push(finding(format!(
                    "{why}: a schema stage of pending.sql holds schema changes only"
                )));
                continue;
            }
            let says = says_destructive(statement);
            match verdict.destructive {
                Some(why) if !says => review.refused.push(finding(format!(
                    "this statement {why}, but its `-- hazards:` line does not say `destructive`"
                ))),
                Some(why) => review.destructive.push(finding(why)),
                None if says => review
                    .destructive
                    .push(finding("marked destructive by the plan".into())),
                None => {}
            }
        }
    }
    review
}

fn says_destructive(statement: &PlannedStatement) -> bool {
    statement
        .hazards
        .contains(&crate::diff::hazard::DESTRUCTIVE)
}

/// Adds the `destructive` hazard to every statement the classification finds destructive
/// (the diff's hazards are the plan's own view; this makes them agree with what `run` will
/// check), walking from the plan's source (`Walker::new` of its schema). Returns the
/// statements that are not schema changes at all.
pub fn mark(plan: &mut Plan, mut walker: Walker) -> Vec<Finding> {
    let mut refused = Vec::new();
    for stage in &mut plan.stages {
        walker.follow_migrations(&stage.body);
        if stage.kind != StageKind::Schema {
            continue;
        }
        let StageBody::Statements { statements } = &mut stage.body else {
            continue;
        };
        for statement in statements {
            let verdict = walker.classify(&statement.sql);
            if let Err(why) = verdict.allowed {
                refused.push(Finding {
                    line: statement.line,
                    sql: statement.sql.clone(),
                    message: why,
                });
            } else if verdict.destructive.is_some() && !says_destructive(statement) {
                statement
                    .hazards
                    .insert(0, crate::diff::hazard::DESTRUCTIVE);
            }
        }
    }
    refused
}

/// One statement's verdict.
#[derive(Debug)]
pub struct Verdict {
    /// `Err(why)` when the statement is not a schema change strata writes.
    pub allowed: Result<(), String>,
    /// Why it can lose data.
    pub destructive: Option<String>,
}

type Table = (String, String);

#[derive(Debug, Clone)]
struct Col {
    shape: Option<TypeShape>,
    /// Added by an earlier statement of the plan.
    added: bool,
}

/// A backfill copying `from` into `to` (cast to `cast`, if written) in `table`.
#[derive(Debug, Clone)]
struct Copy {
    table: Table,
    from: String,
    to: String,
    cast: Option<TypeShape>,
}

/// Walks a plan's statements in order, keeping the columns' types and the copies made.
pub struct Walker {
    tables: BTreeMap<Table, BTreeMap<String, Col>>,
    copies: Vec<Copy>,
    /// Types the plan renamed out of the way (a rebuilt type's old version, `diff::types`):
    /// dropping one loses nothing, its columns have moved (DROP without CASCADE fails else).
    retired_types: std::collections::BTreeSet<Table>,
}

impl Walker {
    pub fn new(schema: Option<&Schema>) -> Walker {
        let mut tables = BTreeMap::new();
        for (name, table) in schema.map(|s| &s.tables).into_iter().flatten() {
            let columns = table
                .columns
                .values()
                .map(|c| {
                    let col = Col {
                        shape: Some(TypeShape::from_format_type(&c.data_type)),
                        added: false,
                    };
                    (c.name.to_string(), col)
                })
                .collect();
            tables.insert((name.schema.to_string(), name.name.to_string()), columns);
        }
        Walker {
            tables,
            copies: Vec::new(),
            retired_types: Default::default(),
        }
    }

    /// Classifies one statement (its text without the semicolon) and follows its effect.
    pub fn classify(&mut self, sql: &str) -> Verdict {
        let allowed = |destructive| Verdict {
            allowed: Ok(()),
            destructive,
        };
        let refused = |why: String| Verdict {
            allowed: Err(why),
            destructive: None,
        };
        let statements = match parse::parse("statement", sql) {
            Ok(s) => s,
            Err(e) => return refused(format!("it does not parse ({e})")),
        };
        let [statement] = statements.as_slice() else {
            return refused(format!(
                "{} statements where one was planned",
                statements.len()
            ));
        };
        match statement.kind {
            StatementKind::Dml if sequence_continuation(sql) || table_copy(sql) => {
                return allowed(None)
            }
            StatementKind::Dml => {
                return refused(format!("{} changes or reads rows", statement.node));
            }
            StatementKind::TransactionControl => {
                return refused(format!(
                    "{} is transaction control, which `run` owns",
                    statement.node
                ));
            }
            _ => {}
        }
        let parsed = match pg_query::parse(sql) {
            Ok(p) => p,
            Err(e) => return refused(format!("it does not parse ({e})")),
        };
        let Some(node) = parsed
            .protobuf
            .stmts
            .first()
            .and_then(|s| s.stmt.as_ref())
            .and_then(|n| n.node.as_ref())
        else {
            return refused("an empty statement".into());
        };
        match node {
            NodeEnum::DoStmt(_) => match backfill_update(sql) {
                Some(update) => allowed(self.backfill(update)),
                None => refused("a DO block that is not strata's batched backfill".into()),
            },
            NodeEnum::TruncateStmt(_) => refused("TRUNCATE removes rows".into()),
            NodeEnum::DropStmt(drop) => allowed(self.drop(drop)),
            NodeEnum::AlterTableStmt(alter) => allowed(self.alter_table(alter)),
            NodeEnum::CreateStmt(create) => {
                self.create(create);
                allowed(None)
            }
            NodeEnum::RenameStmt(rename) => {
                self.rename(rename);
                allowed(None)
            }
            NodeEnum::CreateTableAsStmt(c) if c.objtype() == ObjectType::ObjectMatview => {
                allowed(None)
            }
            // The planner's own: function bodies are checked when they are called, not when
            // created before what they use (diff::functions).
            NodeEnum::VariableSetStmt(set) if set.name == "check_function_bodies" => allowed(None),
            _ if SCHEMA_CHANGES.contains(&statement.node.as_str()) => allowed(None),
            _ => refused(format!(
                "{} is not a statement strata plans",
                statement.node
            )),
        }
    }

    /// Follows the DDL of a migrations stage's migrations (a rename, a type change), so
    /// that later statements are judged against the columns as the migrations leave them.
    /// Their verdicts do not matter: migrations are not schema stages.
    pub fn follow_migrations(&mut self, body: &StageBody) {
        let StageBody::Migrations { migrations } = body else {
            return;
        };
        for migration in migrations {
            for statement in parse::parse(&migration.file, &migration.text).unwrap_or_default() {
                if statement.kind == StatementKind::Ddl {
                    self.classify(&statement.sql);
                }
            }
        }
    }

    fn table(&self, relation: Option<&pg_query::protobuf::RangeVar>) -> Option<Table> {
        let r = relation?;
        if !r.schemaname.is_empty() {
            return Some((r.schemaname.clone(), r.relname.clone()));
        }
        let mut found = self.tables.keys().filter(|(_, n)| *n == r.relname);
        match (found.next(), found.next()) {
            (Some(only), None) => Some(only.clone()),
            _ => Some(("public".into(), r.relname.clone())),
        }
    }

    fn column(&self, table: &Table, column: &str) -> Option<&Col> {
        self.tables.get(table)?.get(column)
    }

    fn drop(&mut self, drop: &pg_query::protobuf::DropStmt) -> Option<String> {
        let kind = drop.remove_type();
        let word = match kind {
            ObjectType::ObjectTable => "table",
            ObjectType::ObjectSchema => "schema",
            ObjectType::ObjectType => "type",
            ObjectType::ObjectDomain => "domain",
            ObjectType::ObjectSequence => "sequence",
            ObjectType::ObjectExtension => "extension",
            ObjectType::ObjectForeignTable => "foreign table",
            _ if drop.behavior() == DropBehavior::DropCascade => {
                return Some("drops with CASCADE, taking whatever depends on it".into())
            }
            _ => return None,
        };
        let retired = |node: &pg_query::protobuf::Node| match node.node.as_ref() {
            Some(NodeEnum::TypeName(t)) => {
                let parts: Vec<String> = t.names.iter().filter_map(string).collect();
                self.retired_types.contains(&qualified(&parts))
            }
            _ => false,
        };
        if matches!(kind, ObjectType::ObjectType | ObjectType::ObjectDomain)
            && drop.behavior() != DropBehavior::DropCascade
            && !drop.objects.is_empty()
            && drop.objects.iter().all(retired)
        {
            return None;
        }
        if kind == ObjectType::ObjectTable {
            for name in drop.objects.iter().filter_map(names) {
                let table = match name.as_slice() {
                    [s, n] => (s.clone(), n.clone()),
                    [n] => ("public".into(), n.clone()),
                    _ => continue,
                };
                self.tables.remove(&table);
            }
        }
        Some(format!("drops a {word} and what it holds"))
    }

    fn create(&mut self, create: &pg_query::protobuf::CreateStmt) {
        let Some(table) = self.table(create.relation.as_ref()) else {
            return;
        };
        let columns = create
            .table_elts
            .iter()
            .filter_map(|e| match e.node.as_ref() {
                Some(NodeEnum::ColumnDef(c)) => Some((
                    c.colname.clone(),
                    Col {
                        shape: c.type_name.as_ref().map(shape),
                        added: true,
                    },
                )),
                _ => None,
            })
            .collect();
        self.tables.insert(table, columns);
    }

    fn rename(&mut self, rename: &pg_query::protobuf::RenameStmt) {
        if matches!(
            rename.rename_type(),
            ObjectType::ObjectType | ObjectType::ObjectDomain
        ) {
            if let Some(parts) = rename.object.as_deref().and_then(names) {
                let (schema, _) = qualified(&parts);
                self.retired_types.insert((schema, rename.newname.clone()));
            }
            return;
        }
        let Some(table) = self.table(rename.relation.as_ref()) else {
            return;
        };
        match rename.rename_type() {
            ObjectType::ObjectColumn => {
                if let Some(columns) = self.tables.get_mut(&table) {
                    if let Some(col) = columns.remove(&rename.subname) {
                        columns.insert(rename.newname.clone(), col);
                    }
                }
            }
            ObjectType::ObjectTable => {
                if let Some(columns) = self.tables.remove(&table) {
                    self.tables
                        .insert((table.0.clone(), rename.newname.clone()), columns);
                }
            }
            _ => {}
        }
    }

    fn alter_table(&mut self, alter: &pg_query::protobuf::AlterTableStmt) -> Option<String> {
        let table = self.table(alter.relation.as_ref())?;
        let on_table = matches!(
            alter.objtype(),
            ObjectType::ObjectTable | ObjectType::ObjectType | ObjectType::ObjectForeignTable
        );
        let mut destructive = None;
        for cmd in &alter.cmds {
            let Some(NodeEnum::AlterTableCmd(cmd)) = cmd.node.as_ref() else {
                continue;
            };
            let def = cmd.def.as_ref().and_then(|d| d.node.as_ref());
            let why = match cmd.subtype() {
                AlterTableType::AtAddColumn => {
                    if let Some(NodeEnum::ColumnDef(c)) = def {
                        let col = Col {
                            shape: c.type_name.as_ref().map(shape),
                            added: true,
                        };
                        self.tables
                            .entry(table.clone())
                            .or_default()
                            .insert(c.colname.clone(), col);
                    }
                    None
                }
                AlterTableType::AtDropColumn if on_table => self.drop_column(&table, &cmd.name),
                AlterTableType::AtAlterColumnType => {
                    let new = match def {
                        Some(NodeEnum::ColumnDef(c)) => c.type_name.as_ref().map(shape),
                        _ => None,
                    };
                    self.retype(&table, &cmd.name, new)
                }
                _ if cmd.behavior() == DropBehavior::DropCascade => {
                    Some("drops with CASCADE, taking whatever depends on it".into())
                }
                _ => None,
            };
            destructive = destructive.or(why);
        }
        destructive
    }

    fn drop_column(&mut self, table: &Table, column: &str) -> Option<String> {
        let old = self.column(table, column).and_then(|c| c.shape.clone());
        let kept = self.copies.iter().find(|copy| {
            copy.table == *table
                && copy.from == column
                && self.column(table, &copy.to).is_some_and(|c| c.added)
        });
        let why = match kept {
            None => Some(format!("drops column {}.{column} and its data", table.1)),
            Some(copy) => {
                let to = copy
                    .cast
                    .clone()
                    .or_else(|| self.column(table, &copy.to).and_then(|c| c.shape.clone()));
                match (&old, &to) {
                    (Some(old), Some(to)) => lossy(old, to).map(|why| {
                        format!(
                            "drops column {}.{column}, whose data lives on only as {}: {why}",
                            table.1, copy.to
                        )
                    }),
                    _ => None,
                }
            }
        };
        if let Some(columns) = self.tables.get_mut(table) {
            columns.remove(column);
        }
        why
    }

    fn retype(&mut self, table: &Table, column: &str, new: Option<TypeShape>) -> Option<String> {
        let col = self.tables.get_mut(table)?.get_mut(column)?;
        let why = match (&col.shape, &new) {
            (Some(old), Some(new)) => lossy(old, new)
                .map(|why| format!("changes the type of {}.{column} lossily: {why}", table.1)),
            _ => None,
        };
        col.shape = new;
        why
    }

    fn backfill(&mut self, update: BackfillUpdate) -> Option<String> {
        let table = self.table(Some(&update.table))?;
        let added = self.column(&table, &update.to).is_some_and(|c| c.added);
        self.copies.push(Copy {
            table: table.clone(),
            from: update.from,
            to: update.to.clone(),
            cast: update.cast,
        });
        (!added).then(|| {
            format!(
                "overwrites column {}.{}, which the plan did not add",
                table.1, update.to
            )
        })
    }
}

/// What a backfill `DO` block updates: `UPDATE table SET to = from[::cast]`.
#[derive(Debug)]
pub struct BackfillUpdate {
    pub table: pg_query::protobuf::RangeVar,
    pub to: String,
    pub from: String,
    pub cast: Option<TypeShape>,
}

/// The type a parsed type name stands for.
pub fn shape(t: &pg_query::protobuf::TypeName) -> TypeShape {
    let names: Vec<String> = t.names.iter().filter_map(string).collect();
    let mods = t
        .typmods
        .iter()
        .filter_map(|m| match m.node.as_ref() {
            Some(NodeEnum::AConst(c)) => match &c.val {
                Some(pg_query::protobuf::a_const::Val::Ival(i)) => Some(i64::from(i.ival)),
                _ => None,
            },
            _ => None,
        })
        .collect();
    TypeShape::from_parts(&names, mods, !t.array_bounds.is_empty())
}

fn string(node: &pg_query::protobuf::Node) -> Option<String> {
    match node.node.as_ref() {
        Some(NodeEnum::String(s)) => Some(s.sval.clone()),
        _ => None,
    }
}

/// A one- or two-part name as (schema, name), `public` when unqualified.
fn qualified(parts: &[String]) -> Table {
    match parts {
        [s, n] => (s.clone(), n.clone()),
        [n] => ("public".into(), n.clone()),
        _ => (String::new(), String::new()),
    }
}

fn names(node: &pg_query::protobuf::Node) -> Option<Vec<String>> {
    match node.node.as_ref() {
        Some(NodeEnum::List(list)) => Some(list.items.iter().filter_map(string).collect()),
        _ => None,
    }
}

/// Statement kinds (pg_query node names) that define or change objects and that a schema
/// stage may hold besides those handled above.
const SCHEMA_CHANGES: &[&str] = &[
    "IndexStmt",
    "ViewStmt",
    "RefreshMatViewStmt",
    "CreateFunctionStmt",
    "AlterFunctionStmt",
    "CreateTrigStmt",
    "CreatePolicyStmt",
    "AlterPolicyStmt",
    "CreateStatsStmt",
    "AlterStatsStmt",
    "CreateSchemaStmt",
    "CreateExtensionStmt",
    "AlterExtensionStmt",
    "CreateEnumStmt",
    "AlterEnumStmt",
    "CompositeTypeStmt",
    "CreateDomainStmt",
    "AlterDomainStmt",
    "CreateRangeStmt",
    "CreateSeqStmt",
    "AlterSeqStmt",
    "CommentStmt",
    "GrantStmt",
    "AlterDefaultPrivilegesStmt",
    "AlterOwnerStmt",
    "AlterObjectSchemaStmt",
    "DefineStmt",
];

/// strata's own `SELECT pg_catalog.setval(...) FROM <table>` after an identity is added to a
/// column with values (`diff::columns::continue_after_rows`): it reads the table, changes
/// no row.
fn sequence_continuation(sql: &str) -> bool {
    let Some(NodeEnum::SelectStmt(select)) = crate::sqlparse::first_statement(sql) else {
        return false;
    };
    let [target] = select.target_list.as_slice() else {
        return false;
    };
    crate::sqlparse::called_function(target).as_deref() == Some(&["pg_catalog", "setval"][..])
        && select.from_clause.len() == 1
        && select.where_clause.is_none()
        && select.with_clause.is_none()
}

/// strata's own copy of a rebuilt table's rows (`diff::rebuild`): `INSERT INTO t (cols)
/// [OVERRIDING SYSTEM VALUE] SELECT cols FROM x__strata_old`, plain columns of the old
/// version renamed aside, no condition; it adds rows to the new table and changes no other.
fn table_copy(sql: &str) -> bool {
    let Some(NodeEnum::InsertStmt(insert)) = crate::sqlparse::only_statement(sql) else {
        return false;
    };
    let Some(NodeEnum::SelectStmt(select)) =
        insert.select_stmt.as_ref().and_then(|s| s.node.as_ref())
    else {
        return false;
    };
    let from_old = match select.from_clause.as_slice() {
        [from] => {
            matches!(from.node.as_ref(), Some(NodeEnum::RangeVar(r)) if r.relname.ends_with("__strata_old"))
        }
        _ => false,
    };
    let plain_columns = select.target_list.iter().all(|t| {
        matches!(t.node.as_ref(), Some(NodeEnum::ResTarget(r))
            if matches!(r.val.as_ref().and_then(|v| v.node.as_ref()), Some(NodeEnum::ColumnRef(_))))
    });
    from_old
        && plain_columns
        && insert.on_conflict_clause.is_none()
        && insert.returning_list.is_empty()
        && insert.with_clause.is_none()
        && select.where_clause.is_none()
        && select.with_clause.is_none()
        && select.values_lists.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_rebuild_copy_inserts_rows() {
        assert!(verdict(
            "INSERT INTO t (a, b) OVERRIDING SYSTEM VALUE SELECT a, b FROM t__strata_old"
        )
        .allowed
        .is_ok());
        for sql in [
            "INSERT INTO t (a) SELECT a FROM other",
            "INSERT INTO t (a) SELECT a FROM t__strata_old WHERE a > 1",
            "INSERT INTO t (a) SELECT a + 1 FROM t__strata_old",
            "INSERT INTO t (a) SELECT a FROM t__strata_old RETURNING a",
        ] {
            assert!(verdict(sql).allowed.is_err(), "{sql}");
        }
    }

    fn verdict(sql: &str) -> Verdict {
        Walker::new(None).classify(sql)
    }

    #[test]
    fn rows_and_transactions_are_refused() {
        for sql in [
            "DELETE FROM t",
            "UPDATE t SET a = 1",
            "INSERT INTO t VALUES (1)",
            "TRUNCATE t",
            "COMMIT",
            "SET session_replication_role = replica",
            "DO $$ BEGIN DELETE FROM t; END $$",
            "CREATE TABLE t2 AS SELECT * FROM t",
            "SELECT 1; SELECT 2",
            "DROP ROLE r",
        ] {
            assert!(verdict(sql).allowed.is_err(), "{sql}");
        }
    }

    #[test]
    fn only_the_identity_continuation_reads_rows() {
        let ours = "SELECT pg_catalog.setval('public.x_id_seq'::regclass, greatest(max(id), 1), max(id) >= 1) FROM public.x";
        assert!(verdict(ours).allowed.is_ok());
        for sql in [
            "SELECT pg_catalog.setval('public.x_id_seq', 5)",
            "SELECT setval('public.x_id_seq', max(id)) FROM public.x",
            "SELECT pg_catalog.setval('s', 1), 2 FROM public.x",
            "SELECT pg_catalog.setval('s', max(id)) FROM public.x WHERE id > 5",
        ] {
            assert!(verdict(sql).allowed.is_err(), "{sql}");
        }
    }

    #[test]
    fn dropping_a_type_the_plan_renamed_out_of_the_way_loses_nothing() {
        let mut walker = Walker::new(None);
        let rename = walker.classify("ALTER TYPE public.mood RENAME TO mood__strata_old");
        assert!(rename.allowed.is_ok() && rename.destructive.is_none());
        assert!(walker
            .classify("DROP TYPE public.mood__strata_old")
            .destructive
            .is_none());
        assert!(walker
            .classify("DROP TYPE public.mood")
            .destructive
            .is_some());
        assert!(walker
            .classify("DROP TYPE public.mood__strata_old CASCADE")
            .destructive
            .is_some());
    }

    #[test]
    fn the_planners_own_setting_for_function_bodies_is_allowed() {
        assert!(verdict("SET check_function_bodies = off").allowed.is_ok());
        assert!(verdict("SET search_path = ''").allowed.is_err());
    }

    #[test]
    fn drops_are_destructive() {
        for sql in [
            "DROP TABLE public.t",
            "ALTER TABLE public.t DROP COLUMN legacy",
            "DROP SCHEMA old",
            "DROP TYPE public.mood",
            "DROP VIEW v CASCADE",
            "ALTER TYPE public.pair DROP ATTRIBUTE b",
        ] {
            let v = verdict(sql);
            assert!(v.allowed.is_ok(), "{sql}");
            assert!(v.destructive.is_some(), "{sql}");
        }
        for sql in [
            "DROP VIEW public.v",
            "DROP INDEX CONCURRENTLY IF EXISTS public.i",
            "DROP FUNCTION public.f()",
            "ALTER TABLE public.t ADD COLUMN a text",
            "ALTER TABLE public.t DROP CONSTRAINT c",
            "CREATE MATERIALIZED VIEW public.mv AS SELECT 1 WITH NO DATA",
        ] {
            let v = verdict(sql);
            assert!(v.allowed.is_ok(), "{sql}");
            assert_eq!(v.destructive, None, "{sql}");
        }
    }

    fn numeric_schema() -> Schema {
        let text = r#"{"schemas":{},"extensions":{},"types":[],"sequences":[],"tables":[[{"schema":"public","name":"t"},
            {"name":{"schema":"public","name":"t"},"columns":{"price":{"name":"price","data_type":"numeric(10,2)","collation":null,"default":null,"not_null":false,"identity":null,"generated":null,"local":true,"comment":null,"grants":[]}},
            "column_order":["price"],"constraints":{},"unlogged":false,"partition_by":null,"partition_of":null,"inherits":[],"options":[],"rls_enabled":false,"rls_forced":false,"owner":null,"comment":null,"grants":[]}]],
            "indexes":[],"views":[],"functions":[],"triggers":[],"policies":[],"default_privileges":[],"dependencies":[]}"#;
        serde_json::from_str(text).expect("a schema")
    }

    #[test]
    fn a_migration_that_changes_a_column_is_followed() {
        let schema = numeric_schema();
        let mut walker = Walker::new(Some(&schema));
        walker.follow_migrations(&StageBody::Migrations {
            migrations: vec![crate::plan::PlannedMigration {
                file: "0001_widen.sql".into(),
                checksum: "sha256:00".into(),
                directives: vec![],
                text: "ALTER TABLE public.t ALTER COLUMN price TYPE numeric(12,4);\nUPDATE public.t SET price = 1;".into(),
            }],
        });
        let sql = "ALTER TABLE public.t ALTER COLUMN price TYPE numeric(12,2)";
        assert!(walker.classify(sql).destructive.unwrap().contains("scale"));
    }

    #[test]
    fn a_lossy_type_change_is_destructive_when_the_old_type_is_known() {
        let sql =
            "ALTER TABLE public.t ALTER COLUMN price TYPE numeric(10,0) USING price::numeric(10,0)";
        assert_eq!(verdict(sql).destructive, None);
        let schema = numeric_schema();
        let v = Walker::new(Some(&schema)).classify(sql);
        assert!(v.destructive.unwrap().contains("scale"));
        let wider = "ALTER TABLE public.t ALTER COLUMN price TYPE numeric(12,2)";
        assert_eq!(Walker::new(Some(&schema)).classify(wider).destructive, None);
    }
}
