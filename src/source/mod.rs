//! Reading the user's SQL files: statements with their positions and kinds (`statements`).

pub mod statements;

pub use statements::{SourceError, Statement, StatementKind};
