//! The dependency map, object → the objects it depends on, with each id stored once.
//!
//! A model at 10,000 tables (`wide` mix) holds about 470,000 edges between 270,000 objects.
//! As a `BTreeMap<ObjectId, set of ObjectId>` every edge cloned its target's 80-byte id: the
//! map took about 66 MB of a model's 200. Here every object that takes part in an edge is one
//! entry of a sorted list of ids, and the edges are indices into it, grouped by the object they
//! leave (compressed sparse rows): about 25 MB. It reads, iterates, prints and serialises like
//! the map it replaces (keys in order, each key's dependencies in order, no key without any),
//! so fingerprints are unchanged.

use super::ObjectId;
use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, Serializer};
use std::fmt;

/// Edges between objects, each object's dependencies sorted, each edge once.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Dependencies {
    /// Every object at either end of an edge, sorted, each once.
    ids: Vec<ObjectId>,
    /// `ids[i]`'s dependencies are `targets[starts[i]..starts[i + 1]]` (empty when `ids` is).
    starts: Vec<u32>,
    /// Indices into `ids`, sorted within each object's run.
    targets: Vec<u32>,
}

impl Dependencies {
    /// The map of these edges (in any order, repeats allowed); an edge from an object to
    /// itself is kept, as a map would keep it.
    pub fn from_edges(edges: impl IntoIterator<Item = (ObjectId, ObjectId)>) -> Dependencies {
        let mut edges: Vec<(ObjectId, ObjectId)> = edges.into_iter().collect();
        edges.sort();
        edges.dedup();
        let mut ids: Vec<ObjectId> = edges
            .iter()
            .flat_map(|(from, to)| [from.clone(), to.clone()])
            .collect();
        ids.sort();
        ids.dedup();
        let index = |id: &ObjectId| ids.binary_search(id).expect("every end is listed");
        let pairs: Vec<(usize, usize)> = edges.iter().map(|(f, t)| (index(f), index(t))).collect();
        drop(edges);
        Dependencies::from_sorted_pairs(ids, &pairs)
    }

    /// The map of `pairs` (indices into `ids`, sorted, each once) between the sorted,
    /// distinct `ids`. The catalog read builds it this way from ids it borrowed, cloning each
    /// id once.
    pub fn from_sorted_pairs(ids: Vec<ObjectId>, pairs: &[(usize, usize)]) -> Dependencies {
        debug_assert!(ids.windows(2).all(|w| w[0] < w[1]));
        debug_assert!(pairs.windows(2).all(|w| w[0] < w[1]));
        if ids.is_empty() {
            // The one empty form, so that equal maps compare equal.
            return Dependencies::default();
        }
        let index = |i: usize| u32::try_from(i).expect("fewer than 2^32 objects");
        let mut starts = Vec::with_capacity(ids.len() + 1);
        let mut next = pairs.iter().peekable();
        starts.push(0);
        for i in 0..ids.len() {
            while next.next_if(|(from, _)| *from == i).is_some() {}
            let consumed = pairs.len() - next.len();
            starts.push(index(consumed));
        }
        let targets = pairs.iter().map(|&(_, to)| index(to)).collect();
        Dependencies {
            ids,
            starts,
            targets,
        }
    }

    /// Adds the edge `from` → `to`; false when it was there already. Rebuilds the map, so it
    /// is for tests only: a model's map is built once (`from_sorted_pairs`, `from_edges`).
    #[cfg(test)]
    pub fn insert(&mut self, from: ObjectId, to: ObjectId) -> bool {
        if self.get(&from).is_some_and(|deps| deps.contains(&to)) {
            return false;
        }
        let edges = self.edges().chain([(&from, &to)]);
        let edges: Vec<(ObjectId, ObjectId)> = edges.map(|(f, t)| (f.clone(), t.clone())).collect();
        *self = Dependencies::from_edges(edges);
        true
    }

    /// What `id` depends on; `None` when nothing.
    pub fn get(&self, id: &ObjectId) -> Option<Deps<'_>> {
        self.get_key_value(id).map(|(_, deps)| deps)
    }

    /// `id` as the map holds it, with what it depends on; `None` when nothing.
    pub fn get_key_value(&self, id: &ObjectId) -> Option<(&ObjectId, Deps<'_>)> {
        let at = self.ids.binary_search(id).ok()?;
        self.entry_at(at)
    }

    /// Each object that depends on something, in order, with what it depends on.
    pub fn iter(&self) -> Iter<'_> {
        Iter { map: self, at: 0 }
    }

    /// Every edge, in order of the object it leaves and then of the one it reaches.
    #[cfg(test)]
    fn edges(&self) -> impl Iterator<Item = (&ObjectId, &ObjectId)> {
        self.iter()
            .flat_map(|(from, deps)| deps.iter().map(move |to| (from, to)))
    }

    fn entry_at(&self, at: usize) -> Option<(&ObjectId, Deps<'_>)> {
        let (start, end) = (self.starts[at] as usize, self.starts[at + 1] as usize);
        if start == end {
            return None;
        }
        let deps = Deps {
            ids: &self.ids,
            targets: &self.targets[start..end],
        };
        Some((&self.ids[at], deps))
    }
}

/// What one object depends on: a sorted set of ids, borrowed from the map.
#[derive(Clone, Copy)]
pub struct Deps<'a> {
    ids: &'a [ObjectId],
    targets: &'a [u32],
}

impl<'a> Deps<'a> {
    pub fn contains(&self, id: &ObjectId) -> bool {
        self.targets
            .binary_search_by(|&t| self.ids[t as usize].cmp(id))
            .is_ok()
    }

    pub fn iter(&self) -> DepsIter<'a> {
        DepsIter {
            ids: self.ids,
            targets: self.targets.iter(),
        }
    }
}

impl<'a> IntoIterator for Deps<'a> {
    type Item = &'a ObjectId;
    type IntoIter = DepsIter<'a>;

    fn into_iter(self) -> DepsIter<'a> {
        self.iter()
    }
}

/// The ids of a [`Deps`], in order.
#[derive(Clone)]
pub struct DepsIter<'a> {
    ids: &'a [ObjectId],
    targets: std::slice::Iter<'a, u32>,
}

impl<'a> Iterator for DepsIter<'a> {
    type Item = &'a ObjectId;

    fn next(&mut self) -> Option<&'a ObjectId> {
        self.targets.next().map(|&t| &self.ids[t as usize])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.targets.size_hint()
    }
}

/// The entries of a [`Dependencies`], in key order.
#[derive(Clone)]
pub struct Iter<'a> {
    map: &'a Dependencies,
    at: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a ObjectId, Deps<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        while self.at < self.map.ids.len() {
            self.at += 1;
            if let Some(entry) = self.map.entry_at(self.at - 1) {
                return Some(entry);
            }
        }
        None
    }
}

impl<'a> IntoIterator for &'a Dependencies {
    type Item = (&'a ObjectId, Deps<'a>);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl fmt::Debug for Deps<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl fmt::Debug for Dependencies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Deps<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// A list of `[object, [dependency, ...]]` pairs, as the map of sets it replaces was written.
impl Serialize for Dependencies {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// Sorted and deduplicated on the way in, whatever the lists hold; a key listed twice has
/// the union of its lists.
impl<'de> Deserialize<'de> for Dependencies {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pairs = Vec::<(ObjectId, Vec<ObjectId>)>::deserialize(deserializer)?;
        let edges = pairs
            .into_iter()
            .flat_map(|(from, tos)| tos.into_iter().map(move |to| (from.clone(), to)));
        Ok(Dependencies::from_edges(edges))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::QualifiedName;
    use std::collections::{BTreeMap, BTreeSet};

    fn t(name: &str) -> ObjectId {
        ObjectId::Table(QualifiedName::new("public", name))
    }

    fn c(table: &str, column: &str) -> ObjectId {
        ObjectId::Column(QualifiedName::new("public", table), column.into())
    }

    fn edges() -> Vec<(ObjectId, ObjectId)> {
        vec![
            (c("b", "x"), t("b")),
            (t("b"), ObjectId::Schema("public".into())),
            (c("a", "y"), t("a")),
            (c("a", "y"), c("b", "x")),
            (c("b", "x"), t("b")),
            (t("a"), ObjectId::Schema("public".into())),
            (
                c("a", "y"),
                ObjectId::Type(QualifiedName::new("public", "e")),
            ),
        ]
    }

    /// The map of sets it replaces: reads, iterates, prints and serialises the same.
    #[test]
    fn behaves_as_a_map_of_sorted_sets() {
        let map = Dependencies::from_edges(edges());
        let mut reference: BTreeMap<ObjectId, BTreeSet<ObjectId>> = BTreeMap::new();
        for (from, to) in edges() {
            reference.entry(from).or_default().insert(to);
        }
        assert_eq!(map.iter().count(), reference.len());
        assert!(map
            .iter()
            .map(|(k, v)| (k, v.iter().collect::<Vec<_>>()))
            .eq(reference.iter().map(|(k, v)| (k, v.iter().collect()))));
        for (key, set) in &reference {
            let deps = map.get(key).expect("a key");
            assert!(deps.iter().eq(set.iter()));
            assert!(set.iter().all(|id| deps.contains(id)));
            assert!(!deps.contains(&t("zz")));
        }
        assert!(map.get(&ObjectId::Schema("public".into())).is_none());
        assert!(map.get(&t("zz")).is_none());
        let written = serde_json::to_string(&map).unwrap();
        let pairs: Vec<_> = reference.iter().collect();
        assert_eq!(written, serde_json::to_string(&pairs).unwrap());
        assert_eq!(format!("{map:?}"), format!("{reference:?}"));
        let read: Dependencies = serde_json::from_str(&written).unwrap();
        assert_eq!(read, map);
    }

    #[test]
    fn insert_adds_an_edge_once() {
        let mut map = Dependencies::default();
        assert_eq!(map, Dependencies::from_edges([]));
        assert_eq!(map, serde_json::from_str("[]").unwrap());
        for (from, to) in edges().into_iter().rev() {
            map.insert(from, to);
        }
        assert_eq!(map, Dependencies::from_edges(edges()));
        assert!(!map.insert(c("b", "x"), t("b")));
        assert!(map.insert(t("b"), t("a")));
        assert!(map.get(&t("b")).unwrap().contains(&t("a")));
    }

    #[test]
    fn lists_out_of_order_are_read_sorted_and_merged() {
        let shuffled = r#"[
            [{"kind":"table","id":{"schema":"public","name":"b"}},
             [{"kind":"table","id":{"schema":"public","name":"b"}},{"kind":"table","id":{"schema":"public","name":"a"}}]],
            [{"kind":"table","id":{"schema":"public","name":"a"}},[]],
            [{"kind":"table","id":{"schema":"public","name":"b"}},
             [{"kind":"table","id":{"schema":"public","name":"c"}}]]
        ]"#;
        let read: Dependencies = serde_json::from_str(shuffled).unwrap();
        let deps: Vec<_> = read.get(&t("b")).unwrap().iter().cloned().collect();
        assert_eq!(deps, [t("a"), t("b"), t("c")]);
        assert!(read.get(&t("a")).is_none());
        assert_eq!(read.iter().count(), 1);
    }
}
