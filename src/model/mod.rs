//! The schema model: plain values with a canonical order, and their fingerprint.

mod name;

pub use name::{quote_ident, quote_literal, QualifiedName};
