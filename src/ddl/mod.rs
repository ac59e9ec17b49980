//! SQL rendering of CREATE statements from the model: pure functions, no IO. `strata dump`
//! renders a whole schema with `create_statements` (dependency order); the diff engine uses
//! the per-kind functions for the objects it creates. Every identifier goes through
//! `quote_ident`/`QualifiedName`, every literal through `quote_literal`.
//!
//! Each function returns its statements as [`Statements`]: each statement's text (without
//! the `;`) and what it does, so the diff takes them as changes without parsing the text
//! again; `to_string()` writes them as a script, each ending in `;\n`.

mod comments;
mod constraints;
mod dump;
mod functions;
mod indexes;
mod order;
mod policies;
mod privileges;
mod schemas;
mod sequences;
mod statistics;
pub(crate) mod tables;
mod triggers;
mod types;
mod views;

pub use comments::comment_on;
pub use constraints::add_constraint;
pub use dump::{dump, is_dump_file_name, DumpFile, Split};
pub use functions::create_function;
pub use indexes::create_index;
pub use order::{create_statements, CycleError};
pub use policies::create_policy;
pub use privileges::{
    alter_default_privileges, default_privileges, grant, grants, revoke, role, GrantTarget,
};
pub use schemas::{create_collation, create_extension, create_schema};
pub use sequences::{create_sequence, sequence_options, sequence_owned_by};
pub use statistics::{create_statistics, set_target as set_statistics_target};
pub use tables::{column_definition, create_table};
pub use triggers::create_trigger;
pub use types::create_type;
pub use views::{create_view, view_statement};

/// What a rendered statement does (the diff's change kind for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    /// Creates the object (or attaches it, as `ALTER INDEX ... ATTACH PARTITION`).
    Create,
    /// `ALTER TABLE`: a column's default or NOT NULL, row level security, replica identity.
    AlterTable,
    /// `ALTER TABLE ... {ENABLE|DISABLE} TRIGGER`.
    AlterTrigger,
    /// `ALTER STATISTICS ... SET STATISTICS`.
    AlterStatistics,
    /// `ALTER DOMAIN ... ADD CONSTRAINT`.
    AlterType,
    /// `ALTER SEQUENCE ... OWNED BY`.
    AlterSequence,
    Owner,
    Comment,
    Grant,
    Revoke,
}

/// One rendered statement: its text without the closing `;`, and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub kind: StatementKind,
    pub sql: String,
}

/// Rendered statements, in the order they run. Displayed as a script: each statement
/// followed by `;\n`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Statements(Vec<Statement>);

impl Statements {
    pub fn new() -> Statements {
        Statements::default()
    }

    pub fn one(kind: StatementKind, sql: impl Into<String>) -> Statements {
        let mut out = Statements::new();
        out.push(kind, sql);
        out
    }

    pub fn push(&mut self, kind: StatementKind, sql: impl Into<String>) {
        self.0.push(Statement {
            kind,
            sql: sql.into(),
        });
    }

    pub fn append(&mut self, mut other: Statements) {
        self.0.append(&mut other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Statement> {
        self.0.iter()
    }

    /// The first statement (the one that creates the object).
    pub fn first(&self) -> Option<&Statement> {
        self.0.first()
    }
}

impl std::fmt::Display for Statements {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|s| writeln!(f, "{};", s.sql))
    }
}

/// `ALTER <kind> <target> OWNER TO <role>` when owners are modelled.
pub(crate) fn owner_to(kind: &str, target: &str, owner: &Option<String>) -> Statements {
    match owner {
        Some(role) => Statements::one(
            StatementKind::Owner,
            format!(
                "ALTER {kind} {target} OWNER TO {}",
                crate::model::quote_ident(role)
            ),
        ),
        None => Statements::new(),
    }
}
