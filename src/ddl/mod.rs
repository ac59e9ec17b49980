//! SQL rendering of CREATE statements from the model: pure functions, no IO. `strata dump`
//! renders a whole schema with `create_statements` (dependency order); the diff engine uses
//! the per-kind functions for the objects it creates. Every identifier goes through
//! `quote_ident`/`QualifiedName`, every literal through `quote_literal`.
//!
//! Each function returns one or more complete statements, each ending in `;\n`.

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
pub(crate) mod tables;
mod triggers;
mod types;
mod views;

pub use comments::comment_on;
pub use constraints::add_constraint;
pub use dump::{dump, is_dump_file_name, DumpFile, Split};
pub use functions::create_function;
pub use indexes::create_index;
pub use order::create_statements;
pub use policies::create_policy;
pub use privileges::{default_privileges, grants, GrantTarget};
pub use schemas::{create_collation, create_extension, create_schema};
pub use sequences::{create_sequence, sequence_options, sequence_owned_by};
pub use tables::{column_definition, create_table};
pub use triggers::create_trigger;
pub use types::create_type;
pub use views::create_view;

/// `ALTER <kind> <target> OWNER TO <role>;` when owners are modelled.
pub(crate) fn owner_to(kind: &str, target: &str, owner: &Option<String>) -> String {
    match owner {
        Some(role) => format!(
            "ALTER {kind} {target} OWNER TO {};\n",
            crate::model::quote_ident(role)
        ),
        None => String::new(),
    }
}
