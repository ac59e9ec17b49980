//! A schema stage's statements: the diff from the simulated database to the desired schema,
//! the changes of the stage's phase, as planned statements. Also the description of drift.

use super::online;
use super::pending::PlannedStatement;
use crate::config::Phase;
use crate::diff::{self, hazard, Change, ChangeKind, Step};
use crate::model::{ObjectId, Schema};
use crate::source::annotations::Renames;
use crate::source::migration::Migration;
use crate::source::StatementKind;
use pg_query::NodeEnum;
use std::collections::BTreeSet;

/// The statements that bring `current` to `desired` for one phase; `Contract` and `All`
/// take every remaining change, so the last schema stage always converges. Changes are
/// rewritten into their online forms first (`plan::online`). `server_major`: the major of
/// the server `current` was read from (`diff::Options::server_major`).
pub fn schema_stage(
    current: &Schema,
    desired: &Schema,
    phase: Phase,
    left_to_migrations: &MigrationDdl,
    renames: &Renames,
    server_major: Option<u32>,
) -> Result<Vec<PlannedStatement>, diff::DiffError> {
    let options = diff::Options {
        conversions: renames.conversions(),
        server_major,
    };
    let changes = online::online(
        diff::diff_with(current, desired, options)?,
        current,
        desired,
        renames,
    );
    let changes = super::overload::replace_shadowed(changes, current, desired);
    let kept: Vec<Change> = changes
        .into_iter()
        .filter(|c| phase != Phase::Expand || c.phase == diff::Phase::Expand)
        .filter(|c| !left_to_migrations.creates(c))
        .collect();
    let kept = super::window::close_windows(kept, current, desired);
    let kept = if phase == Phase::Contract {
        kept
    } else {
        before_deploy(kept, current, desired)
    };
    Ok(kept.into_iter().map(planned).collect())
}

/// The plain renames a schema stage starts with (`plan::online::plain_renames`): executed
/// first, so the stage's diff sees the objects under their new names.
pub fn rename_stage(
    current: &Schema,
    desired: &Schema,
    renames: &Renames,
) -> Vec<PlannedStatement> {
    online::plain_renames(current, desired, renames)
        .into_iter()
        .map(planned)
        .collect()
}

/// In a stage that may run before the deploy (`expand`, `all`), dropping a column, table,
/// view or function the desired schema no longer has breaks the code still deployed.
fn before_deploy(mut changes: Vec<Change>, current: &Schema, desired: &Schema) -> Vec<Change> {
    let wanted = desired.object_ids();
    for c in &mut changes {
        let gone = matches!(
            (&c.object, c.kind),
            (ObjectId::Column(..), ChangeKind::DropColumn)
                | (
                    ObjectId::Table(_) | ObjectId::View(_) | ObjectId::Function(_),
                    ChangeKind::Drop
                )
        );
        if gone
            && !wanted.contains(&c.object)
            && !super::overload::is_replaced(c, current, desired)
            && !c
                .hazards
                .iter()
                .any(|h| h.kind == hazard::BACKWARD_INCOMPATIBLE)
        {
            c.hazards.push(diff::Hazard::new(
                hazard::BACKWARD_INCOMPATIBLE,
                format!("{} is dropped before the deploy", c.object),
            ));
        }
    }
    changes
}

fn planned(change: Change) -> PlannedStatement {
    let mut hazards: Vec<_> = change.hazards.iter().map(|h| h.kind).collect();
    hazards.dedup();
    PlannedStatement {
        sql: change.sql(),
        hazards,
        transactional: change.transactional,
        line: 0,
    }
}

/// Objects added, removed or changed between two schemas, one line each, for drift reports.
pub fn describe_differences(before: &Schema, after: &Schema) -> Vec<String> {
    let changes = match diff::diff(before, after) {
        Ok(changes) => changes,
        Err(_) => return describe_by_identity(before, after),
    };
    let mut lines = BTreeSet::new();
    for change in &changes {
        let word = match (change.step, change.kind) {
            (Step::Create, ChangeKind::Create) | (_, ChangeKind::AddColumn) => "added",
            (Step::Drop, ChangeKind::Drop) | (_, ChangeKind::DropColumn) => "removed",
            _ => "changed",
        };
        lines.insert(format!("{word}: {}", change.object));
    }
    lines.into_iter().collect()
}

fn describe_by_identity(before: &Schema, after: &Schema) -> Vec<String> {
    let (a, b) = (before.object_ids(), after.object_ids());
    let mut lines: Vec<String> = b.difference(&a).map(|o| format!("added: {o}")).collect();
    lines.extend(a.difference(&b).map(|o| format!("removed: {o}")));
    if lines.is_empty() {
        lines.push("changed: an object's definition (strata cannot name it)".into());
    }
    lines
}

/// Tables and columns that pending migrations create or rename into place. An earlier schema
/// stage leaves those to the migration: adding the column in `expand` would make the
/// migration's `RENAME COLUMN old TO new` fail.
#[derive(Debug, Default)]
pub struct MigrationDdl {
    tables: BTreeSet<String>,
    columns: BTreeSet<(String, String)>,
}

impl MigrationDdl {
    pub fn of(migrations: &[&Migration]) -> MigrationDdl {
        let mut ddl = MigrationDdl::default();
        for statement in migrations
            .iter()
            .flat_map(|m| &m.statements)
            .filter(|s| s.kind == StatementKind::Ddl)
        {
            if let Ok(parsed) = pg_query::parse(&statement.sql) {
                for raw in &parsed.protobuf.stmts {
                    if let Some(node) = raw.stmt.as_ref().and_then(|n| n.node.as_ref()) {
                        ddl.note(node);
                    }
                }
            }
        }
        ddl
    }

    fn note(&mut self, node: &NodeEnum) {
        match node {
            NodeEnum::RenameStmt(rename) => {
                let Some(relation) = &rename.relation else {
                    return;
                };
                match rename.rename_type() {
                    pg_query::protobuf::ObjectType::ObjectColumn => {
                        self.columns
                            .insert((relation.relname.clone(), rename.newname.clone()));
                    }
                    pg_query::protobuf::ObjectType::ObjectTable => {
                        self.tables.insert(rename.newname.clone());
                    }
                    _ => {}
                }
            }
            NodeEnum::CreateStmt(create) => {
                if let Some(relation) = &create.relation {
                    self.tables.insert(relation.relname.clone());
                }
            }
            NodeEnum::AlterTableStmt(alter) => {
                let Some(relation) = &alter.relation else {
                    return;
                };
                for cmd in &alter.cmds {
                    let Some(NodeEnum::AlterTableCmd(cmd)) = cmd.node.as_ref() else {
                        continue;
                    };
                    if cmd.subtype() == pg_query::protobuf::AlterTableType::AtAddColumn {
                        if let Some(NodeEnum::ColumnDef(column)) =
                            cmd.def.as_ref().and_then(|d| d.node.as_ref())
                        {
                            self.columns
                                .insert((relation.relname.clone(), column.colname.clone()));
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// Whether `change` creates something a migration will create.
    fn creates(&self, change: &Change) -> bool {
        match (&change.object, change.kind) {
            (ObjectId::Column(table, column), ChangeKind::AddColumn) => {
                self.columns
                    .contains(&(table.name.to_string(), column.to_string()))
                    || self.tables.contains(table.name.as_str())
            }
            (ObjectId::Table(table), ChangeKind::Create) => {
                self.tables.contains(table.name.as_str())
            }
            (ObjectId::Column(table, _), _) | (ObjectId::Constraint(table, _), _) => {
                self.tables.contains(table.name.as_str())
            }
            _ => false,
        }
    }
}
