//! Executing plans on a target: statements under lock timeouts with retries, the deploy
//! hook, history and resume.

pub mod history;
pub mod hook;
pub mod migrations;
pub mod pipeline;
pub mod reconcile;
pub mod refused;
pub mod statements;
