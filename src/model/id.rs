//! Stable identities of modelled objects: kind plus qualified name (and signature or parent),
//! never an OID, so the same object in two databases has the same id.

use super::{quote_ident, Name, QualifiedName};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A function, procedure or aggregate: its name and its identity arguments as
/// `pg_get_function_identity_arguments` writes them (types schema-qualified), e.g. `a integer, b text`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FunctionSig {
    pub name: QualifiedName,
    pub args: Name,
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
    pub name: Name,
}

impl SubName {
    pub fn new(table: QualifiedName, name: impl Into<Name>) -> Self {
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
    Schema(Name),
    Extension(Name),
    /// Enum, composite, domain or range type.
    Type(QualifiedName),
    Sequence(QualifiedName),
    Table(QualifiedName),
    Column(QualifiedName, Name),
    /// A table's constraint, or a domain's check constraint (the name is the domain's).
    Constraint(QualifiedName, Name),
    Index(QualifiedName),
    /// A view or materialized view.
    View(QualifiedName),
    Function(FunctionSig),
    Trigger(SubName),
    Policy(SubName),
    Collation(QualifiedName),
    /// An extended statistics object (`CREATE STATISTICS`).
    Statistics(QualifiedName),
}

impl ObjectId {
    /// The object a sub-object is named under: a column's, trigger's or policy's table, a
    /// constraint's table or domain; `None` for a top-level object.
    pub fn parent(&self) -> Option<&QualifiedName> {
        match self {
            ObjectId::Column(t, _) | ObjectId::Constraint(t, _) => Some(t),
            ObjectId::Trigger(s) | ObjectId::Policy(s) => Some(&s.table),
            _ => None,
        }
    }

    /// The table a column, trigger or policy belongs to, as an object (a constraint's parent
    /// may be a domain: it has none here).
    pub fn owner(&self) -> Option<ObjectId> {
        match self {
            ObjectId::Constraint(..) => None,
            _ => self.parent().map(|t| ObjectId::Table(t.clone())),
        }
    }

    /// The schema the id names: a schema's own name, the schema of an object or of its
    /// parent. `None` for an extension, whose id is its name alone (its schema is in the
    /// model, `Extension::schema`).
    pub fn schema(&self) -> Option<&str> {
        match self {
            ObjectId::Schema(s) => Some(s),
            ObjectId::Extension(_) => None,
            ObjectId::Type(n)
            | ObjectId::Collation(n)
            | ObjectId::Sequence(n)
            | ObjectId::Table(n)
            | ObjectId::Index(n)
            | ObjectId::View(n)
            | ObjectId::Statistics(n)
            | ObjectId::Column(n, _)
            | ObjectId::Constraint(n, _) => Some(&n.schema),
            ObjectId::Function(f) => Some(&f.name.schema),
            ObjectId::Trigger(s) | ObjectId::Policy(s) => Some(&s.table.schema),
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
            ObjectId::Collation(_) => "collation",
            ObjectId::Statistics(_) => "statistics object",
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
            | ObjectId::View(n)
            | ObjectId::Collation(n)
            | ObjectId::Statistics(n) => write!(f, "{kind} {n}"),
            ObjectId::Column(t, c) => write!(f, "{kind} {t}.{}", quote_ident(c)),
            ObjectId::Constraint(t, c) => write!(f, "{kind} {} ON {t}", quote_ident(c)),
            ObjectId::Function(sig) => write!(f, "{kind} {sig}"),
            ObjectId::Trigger(s) | ObjectId::Policy(s) => write!(f, "{kind} {s}"),
        }
    }
}
