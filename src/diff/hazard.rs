//! Hazards: what a statement may do beyond its plain meaning. One registry, here: each kind
//! once, with its stable id (pending.sql, `strata lint`, docs/hazards.md) and summary.

use serde::Serialize;

/// One kind of hazard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HazardKind {
    /// Can lose data (drops a table, a column, an enum's type, ...).
    Destructive,
    /// Rewrites the whole table under an ACCESS EXCLUSIVE lock.
    TableRewrite,
    /// Holds an ACCESS EXCLUSIVE lock (blocks reads and writes) for longer than a catalog change:
    /// during a scan of the table. Nearly every `ALTER TABLE` takes that lock for an instant; that
    /// alone is not this hazard (`tests/hazard_locks.rs` measures which statements take what).
    AccessExclusiveLock,
    /// Scans the table to validate (NOT NULL, CHECK, FOREIGN KEY) while holding its lock.
    ValidationScan,
    /// Builds an index while blocking writes to the table.
    IndexBuild,
    /// Can fail on existing data (narrowing a type, a new unique or check constraint).
    MayFailOnData,
    /// Blocks writes to a table while it runs (a SHARE or SHARE ROW EXCLUSIVE lock held during
    /// an index build or a validation).
    BlocksWrites,
    /// Scans the whole table to validate a constraint, without blocking reads or writes
    /// (`VALIDATE CONSTRAINT`, SHARE UPDATE EXCLUSIVE): long on a large table, never an outage.
    FullTableValidation,
    /// Breaks the code still deployed: a column, table or function it uses is dropped or renamed
    /// before the deploy stage.
    BackwardIncompatible,
    /// `CREATE INDEX` without `CONCURRENTLY` on a table that already exists.
    NonConcurrentIndex,
    /// A new column's default is volatile: every existing row is written.
    VolatileDefault,
    /// A column's type changes to one that cannot hold every value of the old one.
    TypeNarrowing,
    /// Updates every row of a table, in batches of their own transactions (a rename's or a
    /// retype's backfill): no long lock, but WAL and dead rows in proportion to the table.
    Backfill,
    /// Leaves a window in which an object the code still deployed uses (a view, function,
    /// trigger or policy dropped to be created again) is missing, committed: its drop and its
    /// creation cannot run in one transaction.
    BreaksDeployedCode,
}

impl HazardKind {
    /// The registry: the id and summary of each kind.
    const fn entry(self) -> (&'static str, &'static str) {
        match self {
            HazardKind::Destructive => ("destructive", "can lose data"),
            HazardKind::TableRewrite => ("table_rewrite", "rewrites the table under an ACCESS EXCLUSIVE lock"),
            HazardKind::AccessExclusiveLock => ("access_exclusive_lock", "holds an ACCESS EXCLUSIVE lock on the table while it scans it"),
            HazardKind::ValidationScan => ("validation_scan", "scans the table to validate while holding a lock"),
            HazardKind::IndexBuild => ("index_build", "builds an index, blocking writes to the table"),
            HazardKind::MayFailOnData => ("may_fail_on_data", "can fail on existing rows"),
            HazardKind::BlocksWrites => ("blocks_writes", "blocks writes to the table while it runs"),
            HazardKind::FullTableValidation => ("full_table_validation", "scans the whole table to validate, without blocking reads or writes"),
            HazardKind::BackwardIncompatible => ("backward_incompatible", "drops or renames something the code still deployed may use"),
            HazardKind::NonConcurrentIndex => ("non_concurrent_index", "builds an index on an existing table without CONCURRENTLY"),
            HazardKind::VolatileDefault => ("volatile_default", "a volatile default is evaluated for every existing row (table rewrite)"),
            HazardKind::TypeNarrowing => ("type_narrowing", "changes a column to a type that may not hold every existing value"),
            HazardKind::Backfill => ("backfill", "updates every row of the table, in batches"),
            HazardKind::BreaksDeployedCode => ("breaks_deployed_code", "an object the code still deployed uses is missing between its drop and its creation"),
        }
    }

    /// The stable id, as pending.sql and the docs write it.
    pub const fn id(self) -> &'static str {
        self.entry().0
    }

    pub const fn summary(self) -> &'static str {
        self.entry().1
    }
}

/// Ordered by id, as pending.sql lists them.
impl Ord for HazardKind {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.id().cmp(other.id())
    }
}

impl PartialOrd for HazardKind {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for HazardKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

pub const DESTRUCTIVE: HazardKind = HazardKind::Destructive;
pub const TABLE_REWRITE: HazardKind = HazardKind::TableRewrite;
pub const ACCESS_EXCLUSIVE: HazardKind = HazardKind::AccessExclusiveLock;
pub const VALIDATION_SCAN: HazardKind = HazardKind::ValidationScan;
pub const INDEX_BUILD: HazardKind = HazardKind::IndexBuild;
pub const MAY_FAIL: HazardKind = HazardKind::MayFailOnData;
pub const BLOCKS_WRITES: HazardKind = HazardKind::BlocksWrites;
pub const FULL_TABLE_VALIDATION: HazardKind = HazardKind::FullTableValidation;
pub const BACKWARD_INCOMPATIBLE: HazardKind = HazardKind::BackwardIncompatible;
pub const NON_CONCURRENT_INDEX: HazardKind = HazardKind::NonConcurrentIndex;
pub const VOLATILE_DEFAULT: HazardKind = HazardKind::VolatileDefault;
pub const TYPE_NARROWING: HazardKind = HazardKind::TypeNarrowing;
pub const BACKFILL: HazardKind = HazardKind::Backfill;
pub const BREAKS_DEPLOYED_CODE: HazardKind = HazardKind::BreaksDeployedCode;

/// Every hazard kind, for documentation and lookup.
pub const ALL: &[HazardKind] = &[
    DESTRUCTIVE,
    TABLE_REWRITE,
    ACCESS_EXCLUSIVE,
    VALIDATION_SCAN,
    INDEX_BUILD,
    MAY_FAIL,
    BLOCKS_WRITES,
    FULL_TABLE_VALIDATION,
    BACKWARD_INCOMPATIBLE,
    NON_CONCURRENT_INDEX,
    VOLATILE_DEFAULT,
    TYPE_NARROWING,
    BACKFILL,
    BREAKS_DEPLOYED_CODE,
];

/// The kind with this id.
pub fn by_id(id: &str) -> Option<&'static HazardKind> {
    ALL.iter().find(|k| k.id() == id)
}

/// A hazard of one statement, with what it concerns.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Hazard {
    pub kind: HazardKind,
    pub detail: String,
}

impl Hazard {
    pub fn new(kind: HazardKind, detail: impl Into<String>) -> Hazard {
        Hazard {
            kind,
            detail: detail.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<_> = super::ALL.iter().map(|k| k.id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), super::ALL.len());
    }
}
