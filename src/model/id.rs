//! Stable identities of modelled objects: kind plus qualified name (and signature or parent),
//! never an OID, so the same object in two databases has the same id.

use super::{quote_ident, QualifiedName};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A function, procedure or aggregate: its name and its identity arguments as
/// `pg_get_function_identity_arguments` writes them (types schema-qualified), e.g. `a integer, b text`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FunctionSig {
    pub name: QualifiedName,
    pub args: String,
}

impl fmt::Display for FunctionSig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name, self.args)
    }
}

/// An object that lives on a table (trigger, policy): the table and its own name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SubName {
    pub table: QualifiedName,
    pub name: String,
}

impl SubName {
    pub fn new(table: QualifiedName, name: impl Into<String>) -> Self {
        SubName {
            table,
            name: name.into(),
        }
    }
}

impl fmt::Display for SubName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ON {}", quote_ident(&self.name), self.table)
    }
}

/// Kind + identity of every modelled object; the key of the dependency map.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum ObjectId {
    Schema(String),
    Extension(String),
    /// Enum, composite, domain or range type.
    Type(QualifiedName),
    Sequence(QualifiedName),
    Table(QualifiedName),
    Column(QualifiedName, String),
    /// A table's constraint, or a domain's check constraint (the name is the domain's).
    Constraint(QualifiedName, String),
    Index(QualifiedName),
    /// A view or materialized view.
    View(QualifiedName),
    Function(FunctionSig),
    Trigger(SubName),
    Policy(SubName),
}

impl ObjectId {
    /// The object's own top-level object: a column's or constraint's table, a trigger's table.
    pub fn owner(&self) -> Option<ObjectId> {
        match self {
            ObjectId::Column(t, _) => Some(ObjectId::Table(t.clone())),
            ObjectId::Trigger(s) | ObjectId::Policy(s) => Some(ObjectId::Table(s.table.clone())),
            _ => None,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            ObjectId::Schema(_) => "schema",
            ObjectId::Extension(_) => "extension",
            ObjectId::Type(_) => "type",
            ObjectId::Sequence(_) => "sequence",
            ObjectId::Table(_) => "table",
            ObjectId::Column(..) => "column",
            ObjectId::Constraint(..) => "constraint",
            ObjectId::Index(_) => "index",
            ObjectId::View(_) => "view",
            ObjectId::Function(_) => "function",
            ObjectId::Trigger(_) => "trigger",
            ObjectId::Policy(_) => "policy",
        }
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.kind();
        match self {
            ObjectId::Schema(n) | ObjectId::Extension(n) => write!(f, "{kind} {}", quote_ident(n)),
            ObjectId::Type(n)
            | ObjectId::Sequence(n)
            | ObjectId::Table(n)
            | ObjectId::Index(n)
            | ObjectId::View(n) => write!(f, "{kind} {n}"),
            ObjectId::Column(t, c) => write!(f, "{kind} {t}.{}", quote_ident(c)),
            ObjectId::Constraint(t, c) => write!(f, "{kind} {} ON {t}", quote_ident(c)),
            ObjectId::Function(sig) => write!(f, "{kind} {sig}"),
            ObjectId::Trigger(s) | ObjectId::Policy(s) => write!(f, "{kind} {s}"),
        }
    }
}
