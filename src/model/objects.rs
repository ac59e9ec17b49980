//! One struct per object kind. Text that PostgreSQL normalises (types, expressions, index and
//! constraint definitions, view queries, function definitions) is kept as PostgreSQL writes
//! it with an empty `search_path`, so every name in it is schema-qualified.

use super::{quote_ident, quote_literal, FunctionSig, Name, QualifiedName, SortedMap};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One privilege granted to one role (`PUBLIC` for everyone). Privileges held by the object's
/// owner are not listed: they follow ownership.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Grant {
    pub grantee: String,
    pub privilege: Privilege,
    pub grantable: bool,
}

/// A privilege on a modelled object, as `aclexplode` names it. Serialised as that keyword
/// (as when it was a string, so fingerprints do not change); the variants are declared in
/// the keywords' alphabetical order so sets of grants keep their order too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Privilege {
    #[serde(rename = "CONNECT")]
    Connect,
    #[serde(rename = "CREATE")]
    Create,
    #[serde(rename = "DELETE")]
    Delete,
    #[serde(rename = "EXECUTE")]
    Execute,
    #[serde(rename = "INSERT")]
    Insert,
    /// PostgreSQL 17+.
    #[serde(rename = "MAINTAIN")]
    Maintain,
    #[serde(rename = "REFERENCES")]
    References,
    #[serde(rename = "SELECT")]
    Select,
    #[serde(rename = "TEMPORARY")]
    Temporary,
    #[serde(rename = "TRIGGER")]
    Trigger,
    #[serde(rename = "TRUNCATE")]
    Truncate,
    #[serde(rename = "UPDATE")]
    Update,
    #[serde(rename = "USAGE")]
    Usage,
}

impl Privilege {
    pub const ALL: [Privilege; 13] = [
        Privilege::Connect,
        Privilege::Create,
        Privilege::Delete,
        Privilege::Execute,
        Privilege::Insert,
        Privilege::Maintain,
        Privilege::References,
        Privilege::Select,
        Privilege::Temporary,
        Privilege::Trigger,
        Privilege::Truncate,
        Privilege::Update,
        Privilege::Usage,
    ];

    /// The SQL keyword, as GRANT and REVOKE take it.
    pub fn keyword(self) -> &'static str {
        match self {
            Privilege::Connect => "CONNECT",
            Privilege::Create => "CREATE",
            Privilege::Delete => "DELETE",
            Privilege::Execute => "EXECUTE",
            Privilege::Insert => "INSERT",
            Privilege::Maintain => "MAINTAIN",
            Privilege::References => "REFERENCES",
            Privilege::Select => "SELECT",
            Privilege::Temporary => "TEMPORARY",
            Privilege::Trigger => "TRIGGER",
            Privilege::Truncate => "TRUNCATE",
            Privilege::Update => "UPDATE",
            Privilege::Usage => "USAGE",
        }
    }
}

impl std::fmt::Display for Privilege {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.keyword())
    }
}

pub type Grants = BTreeSet<Grant>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespace {
    pub name: Name,
    /// Only filled when the manifest says `schema.owners = true`.
    pub owner: Option<String>,
    pub comment: Option<String>,
    pub grants: Grants,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub name: Name,
    pub schema: Name,
    pub version: String,
    pub comment: Option<String>,
}

/// A collation (`CREATE COLLATION`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collation {
    pub name: QualifiedName,
    /// `libc`, `icu` or `builtin`.
    pub provider: String,
    /// libc: `LC_COLLATE` and `LC_CTYPE`.
    pub lc_collate: Option<String>,
    pub lc_ctype: Option<String>,
    /// icu and builtin: the locale.
    pub locale: Option<String>,
    /// ICU tailoring rules (PostgreSQL 16+).
    pub rules: Option<String>,
    pub deterministic: bool,
    pub owner: Option<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeDef {
    pub name: QualifiedName,
    pub kind: TypeKind,
    pub owner: Option<String>,
    pub comment: Option<String>,
    pub grants: Grants,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeKind {
    /// Labels in their sort order.
    Enum(Vec<String>),
    /// Attributes in their declared order.
    Composite(Vec<CompositeAttribute>),
    Domain(Domain),
    Range(Range),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompositeAttribute {
    pub name: String,
    /// `format_type` output.
    pub data_type: String,
    /// Only when it differs from the type's default collation.
    pub collation: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    pub base_type: String,
    pub collation: Option<String>,
    pub default: Option<String>,
    pub not_null: bool,
    /// Check constraints by name: definition as `pg_get_constraintdef` writes it.
    pub checks: BTreeMap<Name, DomainCheck>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainCheck {
    pub definition: String,
    pub validated: bool,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub subtype: String,
    /// Operator class, when not the subtype's default.
    pub subtype_opclass: Option<String>,
    pub collation: Option<String>,
    pub canonical: Option<String>,
    pub subtype_diff: Option<String>,
    pub multirange: Option<String>,
}

/// The options a sequence or an identity column's sequence has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceOptions {
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min_value: i64,
    pub max_value: i64,
    pub cache: i64,
    pub cycle: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sequence {
    pub name: QualifiedName,
    pub options: SequenceOptions,
    /// `OWNED BY table.column`.
    pub owned_by: Option<(QualifiedName, Name)>,
    pub unlogged: bool,
    pub owner: Option<String>,
    pub comment: Option<String>,
    pub grants: Grants,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// `GENERATED ALWAYS` (true) or `BY DEFAULT` (false).
    pub always: bool,
    /// The implicit sequence's name (it can be chosen with `SEQUENCE NAME`).
    pub sequence: QualifiedName,
    pub options: SequenceOptions,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: Name,
    /// `format_type(atttypid, atttypmod)`.
    pub data_type: String,
    /// Only when it differs from the type's default collation.
    pub collation: Option<String>,
    /// `pg_get_expr` of the default (not for generated columns).
    pub default: Option<String>,
    pub not_null: bool,
    /// Boxed: most columns have none, and inline it doubled a column's size (about 16 MB of
    /// a model at 10,000 tables).
    pub identity: Option<Box<Identity>>,
    /// `GENERATED ALWAYS AS (expr) STORED`, or `VIRTUAL` (PostgreSQL 18+) when
    /// `generated_virtual`.
    pub generated: Option<String>,
    /// Left out of the serialised model when false, so fingerprints of schemas without
    /// virtual columns are what they were before PostgreSQL 18 support.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub generated_virtual: bool,
    /// Declared on this table (`attislocal`); false for columns only inherited from a parent.
    pub local: bool,
    pub comment: Option<String>,
    /// Column-level privileges.
    pub grants: Grants,
}

/// Column order (attnum order), kept for rendering `CREATE TABLE`. It is not part of a
/// table's definition: the fingerprint leaves it out (`model::fingerprint`), but equality
/// compares it like any other field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnOrder(pub Vec<Name>);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub name: QualifiedName,
    pub columns: SortedMap<Name, Column>,
    /// Column names in attnum order (not part of the definition: see `ColumnOrder`).
    pub column_order: ColumnOrder,
    pub constraints: SortedMap<Name, Constraint>,
    pub unlogged: bool,
    /// `pg_get_partkeydef`, e.g. `RANGE (created_at)`, for a partitioned table.
    pub partition_by: Option<String>,
    /// For a partition: its parent and bound (`FOR VALUES ...` / `DEFAULT`).
    pub partition_of: Option<PartitionOf>,
    /// Inheritance parents, in order (not for partitions).
    pub inherits: Vec<QualifiedName>,
    /// Storage parameters (`reloptions`), e.g. `fillfactor=70`.
    pub options: Vec<String>,
    pub rls_enabled: bool,
    pub rls_forced: bool,
    /// `REPLICA IDENTITY` (`pg_class.relreplident`): its own on each partition, never inherited.
    #[serde(default)]
    pub replica_identity: ReplicaIdentity,
    pub owner: Option<String>,
    pub comment: Option<String>,
    pub grants: Grants,
}

/// What logical decoding writes of a row's old values on UPDATE and DELETE.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaIdentity {
    /// The primary key's columns (`d`).
    #[default]
    Default,
    /// Every column (`f`).
    Full,
    /// Nothing (`n`); also a table whose replica identity index was dropped, which
    /// PostgreSQL treats the same way.
    Nothing,
    /// `USING INDEX name` (`i`, the index with `pg_index.indisreplident`), in the table's
    /// schema: a plain unique index or the index of a primary key or unique constraint.
    Index(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionOf {
    pub parent: QualifiedName,
    /// `pg_get_expr(relpartbound)`: `FOR VALUES FROM (...) TO (...)`, `DEFAULT`, ...
    pub bound: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintKind {
    Check,
    PrimaryKey,
    Unique,
    ForeignKey,
    Exclusion,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    pub name: Name,
    pub kind: ConstraintKind,
    /// `pg_get_constraintdef`: the whole definition, including `NOT VALID`, `DEFERRABLE ...`,
    /// FK actions, `USING INDEX TABLESPACE` is never there.
    pub definition: String,
    /// Constrained columns, in key order.
    pub columns: Vec<Name>,
    /// For a foreign key: the referenced table.
    pub references: Option<QualifiedName>,
    pub validated: bool,
    pub deferrable: bool,
    pub initially_deferred: bool,
    /// Declared on this table; false when only inherited from a parent or partitioned table
    /// (then it is created by the parent's constraint, not rendered on its own).
    pub local: bool,
    pub comment: Option<String>,
    /// A primary key's or unique constraint's index storage parameters (`fillfactor=70`),
    /// also written in `definition` (` WITH (...)`, see [`storage_parameters_clause`]).
    /// Left out of the serialisation when empty, so fingerprints of schemas without them
    /// are those of earlier versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub index_options: Vec<String>,
    /// A partition's own primary key or unique constraint whose index is attached to an
    /// index of the partitioned table that backs no constraint (`ALTER INDEX parent ATTACH
    /// PARTITION`): that index. (Attached to a constraint's index, a constraint is not
    /// `local`.) Left out of the serialisation when absent, like `index_options`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_parent: Option<QualifiedName>,
}

/// ` WITH (name='value', ...)` as `pg_dump` writes a key constraint's index parameters
/// (`pg_get_constraintdef` alone leaves them out); empty without parameters.
pub fn storage_parameters_clause(options: &[String]) -> String {
    if options.is_empty() {
        return String::new();
    }
    format!(" WITH ({})", storage_parameters(options))
}

/// `name='value', ...` of `name=value` storage parameters, as PostgreSQL writes them.
pub fn storage_parameters(options: &[String]) -> String {
    options
        .iter()
        .map(|option| match option.split_once('=') {
            Some((name, value)) => format!("{}={}", quote_ident(name), quote_literal(value)),
            None => quote_ident(option),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub name: QualifiedName,
    pub table: QualifiedName,
    /// `pg_get_indexdef`: the complete `CREATE [UNIQUE] INDEX ... USING ...` statement.
    pub definition: String,
    pub unique: bool,
    /// For an index on a partition: the partitioned table's index it is attached to.
    pub parent: Option<QualifiedName>,
    pub comment: Option<String>,
}

/// An extended statistics object (`CREATE STATISTICS`), keyed by its own schema and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statistics {
    pub name: QualifiedName,
    pub table: QualifiedName,
    /// `pg_get_statisticsobjdef`: the complete `CREATE STATISTICS` statement (kinds, columns
    /// and expressions, the table).
    pub definition: String,
    /// `stxstattarget` when set (`ALTER STATISTICS ... SET STATISTICS n`); `None` for the
    /// default (-1 or NULL).
    pub target: Option<i32>,
    pub owner: Option<String>,
    pub comment: Option<String>,
}

/// Whether a materialized view holds data (`WITH DATA`): read, rendered and compared by
/// equality like any other field, but data, not schema, so the fingerprint and snapshots leave
/// it out (see `View::populated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Populated(pub bool);

impl Default for Populated {
    /// PostgreSQL's default, `WITH DATA`.
    fn default() -> Populated {
        Populated(true)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    pub name: QualifiedName,
    pub materialized: bool,
    /// `pg_get_viewdef(oid, true)`: the query, without a trailing semicolon.
    pub definition: String,
    /// `reloptions`: `security_barrier=true`, `check_option=local`, ...
    pub options: Vec<String>,
    /// Materialized views only: whether it was populated (`WITH DATA`). Data, not schema:
    /// not serialised (fingerprint, snapshots), so a populated view and its schema-only clone
    /// have the same fingerprint, and the diff never looks at it; a new view is created as
    /// schema/ declares it. `==` compares it (the dump writes it back: introspection's round
    /// trip checks that).
    #[serde(skip)]
    pub populated: Populated,
    pub owner: Option<String>,
    pub comment: Option<String>,
    /// Comments on the view's columns, by column name.
    pub column_comments: BTreeMap<String, String>,
    pub grants: Grants,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FunctionKind {
    Function,
    Procedure,
    Aggregate,
    Window,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Function {
    pub sig: FunctionSig,
    pub kind: FunctionKind,
    /// Function and procedure: `pg_get_functiondef` (a complete `CREATE OR REPLACE ...`);
    /// aggregate: the `CREATE AGGREGATE` statement strata builds from `pg_aggregate`.
    pub definition: String,
    /// `pg_get_function_result`, empty for a procedure.
    pub returns: String,
    pub owner: Option<String>,
    pub comment: Option<String>,
    pub grants: Grants,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerEnabled {
    /// `O`: fires in origin and local replication roles (the default).
    Origin,
    /// `D`
    Disabled,
    /// `R`
    Replica,
    /// `A`
    Always,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    pub table: QualifiedName,
    pub name: Name,
    /// `pg_get_triggerdef`: the complete `CREATE [CONSTRAINT] TRIGGER` statement.
    pub definition: String,
    pub function: FunctionSig,
    pub enabled: TriggerEnabled,
    pub comment: Option<String>,
}

/// What a policy applies to; serialised as the SQL keyword (as when it was a string, so
/// fingerprints do not change).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PolicyCommand {
    All,
    Select,
    Insert,
    Update,
    Delete,
}

impl PolicyCommand {
    pub fn keyword(self) -> &'static str {
        match self {
            PolicyCommand::All => "ALL",
            PolicyCommand::Select => "SELECT",
            PolicyCommand::Insert => "INSERT",
            PolicyCommand::Update => "UPDATE",
            PolicyCommand::Delete => "DELETE",
        }
    }
}

impl std::fmt::Display for PolicyCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.keyword())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub table: QualifiedName,
    pub name: Name,
    pub permissive: bool,
    pub command: PolicyCommand,
    /// Role names, `PUBLIC` for everyone; sorted.
    pub roles: Vec<String>,
    pub using: Option<String>,
    pub with_check: Option<String>,
    pub comment: Option<String>,
}

/// One `ALTER DEFAULT PRIVILEGES [FOR ROLE r] [IN SCHEMA s] GRANT p ON kind TO grantee`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DefaultPrivilege {
    pub role: String,
    pub schema: Option<String>,
    pub object_kind: DefaultObjectKind,
    pub grant: Grant,
}

/// The objects a default privilege applies to (`pg_default_acl.defaclobjtype`). Serialised
/// as the SQL keyword (as when it was a string); declared in the keywords' alphabetical order
/// so sets of default privileges keep their order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum DefaultObjectKind {
    Functions,
    Schemas,
    Sequences,
    Tables,
    Types,
}

impl DefaultObjectKind {
    pub const ALL: [DefaultObjectKind; 5] = [
        DefaultObjectKind::Functions,
        DefaultObjectKind::Schemas,
        DefaultObjectKind::Sequences,
        DefaultObjectKind::Tables,
        DefaultObjectKind::Types,
    ];

    /// From `pg_default_acl.defaclobjtype`; `None` for kinds strata does not model.
    pub fn from_catalog(objtype: &str) -> Option<DefaultObjectKind> {
        match objtype {
            "r" => Some(DefaultObjectKind::Tables),
            "S" => Some(DefaultObjectKind::Sequences),
            "f" => Some(DefaultObjectKind::Functions),
            "T" => Some(DefaultObjectKind::Types),
            "n" => Some(DefaultObjectKind::Schemas),
            _ => None,
        }
    }

    /// The SQL keyword, as `ALTER DEFAULT PRIVILEGES ... ON <kind>` takes it.
    pub fn keyword(self) -> &'static str {
        match self {
            DefaultObjectKind::Functions => "FUNCTIONS",
            DefaultObjectKind::Schemas => "SCHEMAS",
            DefaultObjectKind::Sequences => "SEQUENCES",
            DefaultObjectKind::Tables => "TABLES",
            DefaultObjectKind::Types => "TYPES",
        }
    }

    /// The privilege PostgreSQL grants PUBLIC on new objects of this kind unless a default
    /// privilege revokes it.
    pub fn public_default(self) -> Option<Privilege> {
        match self {
            DefaultObjectKind::Functions => Some(Privilege::Execute),
            DefaultObjectKind::Types => Some(Privilege::Usage),
            _ => None,
        }
    }
}

impl std::fmt::Display for DefaultObjectKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.keyword())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Grants and default privileges sort (and so serialise, and so fingerprint) in the
    /// order of their keywords, as when they were strings.
    #[test]
    fn keywords_sort_as_the_enums_do() {
        assert!(Privilege::ALL
            .windows(2)
            .all(|w| w[0] < w[1] && w[0].keyword() < w[1].keyword()));
        assert!(DefaultObjectKind::ALL
            .windows(2)
            .all(|w| w[0] < w[1] && w[0].keyword() < w[1].keyword()));
    }

    /// The serialised form is the keyword the enum renders.
    #[test]
    fn keywords_are_the_serialised_form() {
        for p in Privilege::ALL {
            assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{p}\""));
        }
        for k in DefaultObjectKind::ALL {
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{k}\""));
        }
    }
}
