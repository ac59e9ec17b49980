//! Reading the user's SQL files: statements with their positions and kinds (`statements`).

pub mod annotations;
pub mod load;
pub mod migration;
pub mod parallel;
pub mod sdl;
pub mod statements;

pub use statements::{SourceError, Statement, StatementKind};
