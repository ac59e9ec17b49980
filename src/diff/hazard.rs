//! Hazards: what a statement may do beyond its plain meaning. Declared once, here (id,
//! summary); `pending.sql` and the run's destructive check use the ids.

use serde::Serialize;

/// One kind of hazard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HazardKind {
    pub id: &'static str,
    pub summary: &'static str,
}

/// Can lose data (drops a table, a column, an enum's type, ...). Same id as
/// `run::pipeline::DESTRUCTIVE`.
pub const DESTRUCTIVE: HazardKind = HazardKind {
    id: "destructive",
    summary: "can lose data",
};
/// Rewrites the whole table under an ACCESS EXCLUSIVE lock.
pub const TABLE_REWRITE: HazardKind = HazardKind {
    id: "table_rewrite",
    summary: "rewrites the table under an ACCESS EXCLUSIVE lock",
};
/// Holds an ACCESS EXCLUSIVE lock (blocks reads and writes) for longer than a catalog change:
/// during a scan of the table. Nearly every `ALTER TABLE` takes that lock for an instant; that
/// alone is not this hazard (`tests/hazard_locks.rs` measures which statements take what).
pub const ACCESS_EXCLUSIVE: HazardKind = HazardKind {
    id: "access_exclusive_lock",
    summary: "holds an ACCESS EXCLUSIVE lock on the table while it scans it",
};
/// Scans the table to validate (NOT NULL, CHECK, FOREIGN KEY) while holding its lock.
pub const VALIDATION_SCAN: HazardKind = HazardKind {
    id: "validation_scan",
    summary: "scans the table to validate while holding a lock",
};
/// Builds an index while blocking writes to the table.
pub const INDEX_BUILD: HazardKind = HazardKind {
    id: "index_build",
    summary: "builds an index, blocking writes to the table",
};
/// Can fail on existing data (narrowing a type, a new unique or check constraint).
pub const MAY_FAIL: HazardKind = HazardKind {
    id: "may_fail_on_data",
    summary: "can fail on existing rows",
};

/// Blocks writes to a table while it runs (a SHARE or SHARE ROW EXCLUSIVE lock held during
/// an index build or a validation).
pub const BLOCKS_WRITES: HazardKind = HazardKind {
    id: "blocks_writes",
    summary: "blocks writes to the table while it runs",
};
/// Scans the whole table to validate a constraint, without blocking reads or writes
/// (`VALIDATE CONSTRAINT`, SHARE UPDATE EXCLUSIVE): long on a large table, never an outage.
pub const FULL_TABLE_VALIDATION: HazardKind = HazardKind {
    id: "full_table_validation",
    summary: "scans the whole table to validate, without blocking reads or writes",
};
/// Breaks the code still deployed: a column, table or function it uses is dropped or renamed
/// before the deploy stage.
pub const BACKWARD_INCOMPATIBLE: HazardKind = HazardKind {
    id: "backward_incompatible",
    summary: "drops or renames something the code still deployed may use",
};
/// `CREATE INDEX` without `CONCURRENTLY` on a table that already exists.
pub const NON_CONCURRENT_INDEX: HazardKind = HazardKind {
    id: "non_concurrent_index",
    summary: "builds an index on an existing table without CONCURRENTLY",
};
/// A new column's default is volatile: every existing row is written.
pub const VOLATILE_DEFAULT: HazardKind = HazardKind {
    id: "volatile_default",
    summary: "a volatile default is evaluated for every existing row (table rewrite)",
};
/// A column's type changes to one that cannot hold every value of the old one.
pub const TYPE_NARROWING: HazardKind = HazardKind {
    id: "type_narrowing",
    summary: "changes a column to a type that may not hold every existing value",
};

/// Updates every row of a table, in batches of their own transactions (a rename's or a
/// retype's backfill): no long lock, but WAL and dead rows in proportion to the table.
pub const BACKFILL: HazardKind = HazardKind {
    id: "backfill",
    summary: "updates every row of the table, in batches",
};

/// Leaves a window in which an object the code still deployed uses (a view, function,
/// trigger or policy dropped to be created again) is missing, committed: its drop and its
/// creation cannot run in one transaction.
pub const BREAKS_DEPLOYED_CODE: HazardKind = HazardKind {
    id: "breaks_deployed_code",
    summary: "an object the code still deployed uses is missing between its drop and its creation",
};

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
    ALL.iter().find(|k| k.id == id)
}

/// A hazard of one statement, with what it concerns.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Hazard {
    #[serde(serialize_with = "kind_id")]
    pub kind: HazardKind,
    pub detail: String,
}

fn kind_id<S: serde::Serializer>(kind: &HazardKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.id)
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
        let mut ids: Vec<_> = super::ALL.iter().map(|k| k.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), super::ALL.len());
    }
}
