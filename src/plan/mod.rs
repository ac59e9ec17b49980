//! Plans: phases, ordering, simulation, and `pending.sql` in and out.

pub mod pending;

pub use pending::{Plan, PlannedMigration, PlannedStage, PlannedStatement, StageBody};
