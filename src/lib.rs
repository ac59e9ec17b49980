//! strata: declarative PostgreSQL schema plus numbered data migrations, planned by
//! simulation on a shadow database and run as expand/contract. See docs/architecture.md.

// Diagnostics carry their source text and spans for miette; they are large, and only ever on
// the cold path, so boxing every one would buy nothing.
#![allow(clippy::result_large_err)]

pub mod app;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod ddl;
pub mod diff;
pub mod failpoint;
pub mod fleet;
pub mod git;
pub mod lint;
pub mod model;
pub mod order;
pub mod pg;
pub mod plan;
pub mod report;
pub mod run;
pub mod source;
pub mod sqlparse;
pub mod timings;

pub use app::error::{Error, Result};
