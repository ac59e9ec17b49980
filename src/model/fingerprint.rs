//! The fingerprint: sha256 over the canonical serialisation of a `Schema`.
//!
//! Canonical: serde_json of the model, whose maps are all `BTreeMap`s (sorted keys) and whose
//! sets are `BTreeSet`s, with the column order (`Table::column_order`) written as an empty
//! list: [`Canonical`] is that view of the model, byte for byte the model's own serialisation
//! otherwise (fingerprints stored in databases depend on it). OIDs are not
//! in the model at all. Everything else counts: types, defaults, constraints and their
//! validity, index definitions, view queries, function bodies, trigger state, comments,
//! privileges, owners (when modelled) and the dependency edges.

use super::{Schema, Table};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// `sha256:<64 hex digits>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    pub fn of(schema: &Schema) -> Fingerprint {
        // Streamed into the hash: a 10,000-table model is neither copied nor held as one
        // JSON string.
        let mut hasher = std::io::BufWriter::with_capacity(1 << 16, HashWriter(Sha256::new()));
        serde_json::to_writer(&mut hasher, &Canonical(schema)).expect("the model serialises");
        let hasher = hasher.into_inner().expect("hashing cannot fail");
        Fingerprint(hasher.0.finalize().into())
    }

    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// The model as the fingerprint sees it: `Schema`'s own serialisation with each table's
/// column order written as an empty list. A view, so the model is not copied. The
/// destructurings list every field, so a new field of `Schema` or `Table` fails to compile
/// until it is placed here too (in the order of the struct, with the struct's serde
/// attributes).
struct Canonical<'a>(&'a Schema);

impl Serialize for Canonical<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Schema {
            schemas,
            extensions,
            collations,
            types,
            sequences,
            tables,
            indexes,
            views,
            functions,
            triggers,
            policies,
            default_privileges,
            statistics,
            dependencies,
        } = self.0;
        let mut s = serializer.serialize_struct("Schema", 13)?;
        s.serialize_field("schemas", schemas)?;
        s.serialize_field("extensions", extensions)?;
        if !collations.is_empty() {
            s.serialize_field("collations", &Pairs(collations.iter()))?;
        }
        s.serialize_field("types", &Pairs(types.iter()))?;
        s.serialize_field("sequences", &Pairs(sequences.iter()))?;
        let tables = tables.iter().map(|(name, t)| (name, CanonicalTable(t)));
        s.serialize_field("tables", &Pairs(tables))?;
        s.serialize_field("indexes", &Pairs(indexes.iter()))?;
        s.serialize_field("views", &Pairs(views.iter()))?;
        s.serialize_field("functions", &Pairs(functions.iter()))?;
        s.serialize_field("triggers", &Pairs(triggers.iter()))?;
        s.serialize_field("policies", &Pairs(policies.iter()))?;
        s.serialize_field("default_privileges", default_privileges)?;
        if !statistics.is_empty() {
            s.serialize_field("statistics", &Pairs(statistics.iter()))?;
        }
        s.serialize_field("dependencies", &Pairs(dependencies.iter()))?;
        s.end()
    }
}

/// A map's entries written as `[key, value]` pairs, as `model::pairs` writes a map.
struct Pairs<I>(I);

impl<I, K, V> Serialize for Pairs<I>
where
    I: Iterator<Item = (K, V)> + Clone,
    K: Serialize,
    V: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.clone())
    }
}

struct CanonicalTable<'a>(&'a Table);

impl Serialize for CanonicalTable<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Table {
            name,
            columns,
            column_order: _,
            constraints,
            unlogged,
            partition_by,
            partition_of,
            inherits,
            options,
            rls_enabled,
            rls_forced,
            replica_identity,
            owner,
            comment,
            grants,
        } = self.0;
        let mut s = serializer.serialize_struct("Table", 15)?;
        s.serialize_field("name", name)?;
        s.serialize_field("columns", columns)?;
        s.serialize_field("column_order", &[] as &[String])?;
        s.serialize_field("constraints", constraints)?;
        s.serialize_field("unlogged", unlogged)?;
        s.serialize_field("partition_by", partition_by)?;
        s.serialize_field("partition_of", partition_of)?;
        s.serialize_field("inherits", inherits)?;
        s.serialize_field("options", options)?;
        s.serialize_field("rls_enabled", rls_enabled)?;
        s.serialize_field("rls_forced", rls_forced)?;
        s.serialize_field("replica_identity", replica_identity)?;
        s.serialize_field("owner", owner)?;
        s.serialize_field("comment", comment)?;
        s.serialize_field("grants", grants)?;
        s.end()
    }
}

#[derive(Debug)]
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

impl FromStr for Fingerprint {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex_part = s
            .strip_prefix("sha256:")
            .ok_or_else(|| format!("a fingerprint starts with `sha256:`, got `{s}`"))?;
        let bytes = hex::decode(hex_part).map_err(|e| format!("bad fingerprint `{s}`: {e}"))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| format!("a fingerprint has 64 hex digits, got `{s}`"))?;
        Ok(Fingerprint(bytes))
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn column(name: &str) -> Column {
        Column {
            name: name.into(),
            data_type: "integer".into(),
            collation: None,
            default: None,
            not_null: false,
            identity: None,
            generated: None,
            generated_virtual: false,
            local: true,
            comment: None,
            grants: Grants::new(),
        }
    }

    fn schema_with_order(order: &[&str]) -> Schema {
        let name = QualifiedName::new("public", "t");
        let columns: SortedMap<Name, Column> =
            order.iter().map(|c| ((*c).into(), column(c))).collect();
        let table = Table {
            name: name.clone(),
            columns,
            column_order: ColumnOrder(order.iter().map(|c| (*c).into()).collect()),
            constraints: SortedMap::new(),
            unlogged: false,
            partition_by: None,
            partition_of: None,
            inherits: vec![],
            options: vec![],
            rls_enabled: false,
            rls_forced: false,
            replica_identity: ReplicaIdentity::Default,
            owner: None,
            comment: None,
            grants: Grants::new(),
        };
        let mut schema = Schema::default();
        schema.tables.insert(name, table);
        schema
    }

    #[test]
    fn column_order_is_not_part_of_the_definition() {
        let a = schema_with_order(&["a", "b"]);
        let b = schema_with_order(&["b", "a"]);
        assert_ne!(a, b, "equality compares every field");
        assert_eq!(a.fingerprint(), b.fingerprint());
        let mut c = a.clone();
        c.tables.values_mut().next().unwrap().unlogged = true;
        assert_ne!(a.fingerprint(), c.fingerprint());
    }

    /// The canonical view writes what the model's own serialisation writes, column order
    /// aside, for a model with every kind of object (so a field missed in the view shows).
    #[test]
    fn the_canonical_view_is_the_serialisation_without_column_order() {
        let mut a = schema_with_order(&["b", "a"]);
        let name = QualifiedName::new("public", "c");
        a.collations.insert(
            name.clone(),
            Collation {
                name,
                provider: "icu".into(),
                lc_collate: None,
                lc_ctype: None,
                locale: Some("de".into()),
                rules: None,
                deterministic: true,
                owner: None,
                comment: None,
            },
        );
        a.statistics
            .insert(QualifiedName::new("public", "s"), statistics());
        for schema in [a.clone(), Schema::default()] {
            let mut emptied = schema.clone();
            for t in emptied.tables.values_mut() {
                t.column_order = ColumnOrder::default();
            }
            assert_eq!(
                serde_json::to_string(&Canonical(&schema)).unwrap(),
                serde_json::to_string(&emptied).unwrap()
            );
        }
    }

    fn statistics() -> Statistics {
        Statistics {
            name: QualifiedName::new("public", "s"),
            table: QualifiedName::new("public", "t"),
            definition: "CREATE STATISTICS public.s ON a, b FROM public.t".into(),
            target: None,
            owner: None,
            comment: None,
        }
    }

    /// Statistics objects count in the fingerprint; a schema without any serialises without
    /// the key (its fingerprint is unchanged), and a snapshot written before they were
    /// modelled loads.
    #[test]
    fn statistics_objects_count_and_older_snapshots_load() {
        let a = schema_with_order(&["a", "b"]);
        let json = serde_json::to_string(&a).unwrap();
        assert!(!json.contains("statistics"), "{json}");
        let loaded: Schema = serde_json::from_str(&json).unwrap();
        assert_eq!(loaded, a);
        let mut b = a.clone();
        b.statistics
            .insert(QualifiedName::new("public", "s"), statistics());
        assert_ne!(a.fingerprint(), b.fingerprint());
        let mut c = b.clone();
        c.statistics.values_mut().next().unwrap().target = Some(500);
        assert_ne!(b.fingerprint(), c.fingerprint());
        let back: Schema = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn a_default_counts() {
        let a = schema_with_order(&["a", "b"]);
        let mut b = a.clone();
        let t = b.tables.values_mut().next().unwrap();
        t.columns.get_mut("a").unwrap().default = Some("1".into());
        assert_ne!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn streamed_hash_is_sha256_of_the_json() {
        let a = schema_with_order(&["a"]);
        let mut canonical = a.clone();
        canonical.tables.values_mut().next().unwrap().column_order = ColumnOrder::default();
        let expected = hex::encode(Sha256::digest(serde_json::to_vec(&canonical).unwrap()));
        assert_eq!(a.fingerprint().hex(), expected);
    }

    #[test]
    fn the_snapshot_keeps_the_column_order() {
        let a = schema_with_order(&["b", "a"]);
        let json = serde_json::to_string(&a).unwrap();
        assert!(json.contains(r#""column_order":["b","a"]"#), "{json}");
        let _ = a.fingerprint();
        assert_eq!(serde_json::to_string(&a).unwrap(), json);
    }

    /// A fixed schema's fingerprint, pinned: a change to the model's serialisation would
    /// show every deployed database as drifted.
    #[test]
    fn a_fixed_schema_keeps_its_fingerprint() {
        let mut schema = schema_with_order(&["a", "b"]);
        let table = QualifiedName::new("public", "t");
        schema.policies.insert(
            SubName::new(table.clone(), "p"),
            Policy {
                table,
                name: "p".into(),
                permissive: true,
                command: PolicyCommand::Select,
                roles: vec!["PUBLIC".into()],
                using: Some("(a > 0)".into()),
                with_check: None,
                comment: None,
            },
        );
        assert_eq!(
            schema.fingerprint().hex(),
            "02946512d1778a29f89217404163b0b9f31c48c7afca84b2c2389d3a401df20b"
        );
    }

    #[test]
    fn display_and_parse() {
        let f = Schema::default().fingerprint();
        let text = f.to_string();
        assert!(
            text.starts_with("sha256:") && text.len() == 7 + 64,
            "{text}"
        );
        assert_eq!(text.parse::<Fingerprint>().unwrap(), f);
        assert!("md5:00".parse::<Fingerprint>().is_err());
    }

    #[test]
    fn the_model_round_trips_through_json() {
        let mut a = schema_with_order(&["a", "b"]);
        a.dependencies.insert(
            ObjectId::Column(QualifiedName::new("public", "t"), "a".into()),
            ObjectId::Table(QualifiedName::new("public", "t")),
        );
        let json = serde_json::to_string(&a).unwrap();
        let back: Schema = serde_json::from_str(&json).unwrap();
        assert_eq!(a, back);
        assert_eq!(a.fingerprint(), back.fingerprint());
    }
}
