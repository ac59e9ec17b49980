//! Plans: phases, ordering, simulation, and `pending.sql` in and out.

pub mod classify;
pub mod compare;
pub mod markdown;
pub mod online;
pub mod overload;
pub mod pending;
pub mod simulate;
pub mod stage;
pub mod window;

pub use pending::{Plan, PlannedMigration, PlannedStage, PlannedStatement, StageBody};
