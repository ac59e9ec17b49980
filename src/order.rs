//! The one ordering engine, for the diff's changes and for the dump's CREATE statements (a
//! dump is ordered as the creates of a diff from the empty schema): a petgraph graph with up
//! to three kinds of node per object (its drop, its alters, its create), edges from the
//! dependency maps of both schemas, and one deterministic topological order (Kahn's
//! algorithm with a priority queue), tie-broken by one kind ranking ([`rank`]).
//!
//! One cycle policy: foreign keys never make a cycle, because the callers give a table's
//! foreign keys their own items (`ALTER TABLE ... ADD CONSTRAINT` after both tables, in the
//! dump and in the diff); any other cycle is an error naming the objects ([`Cycle`]).
//!
//! With `A -> B` meaning "A depends on B":
//! - in the **from** schema (what exists before): `drop(A) < drop(B)`, `drop(A) < alter(B)`
//!   (a view over a column is dropped before the column's type changes) and
//!   `alter(A) < drop(B)` (a default stops using a function before the function goes);
//! - in the **to** schema (what exists after): `create(B) < create(A)`,
//!   `create(B) < alter(A)`, `alter(B) < create(A)` and `alter(B) < alter(A)`;
//! - for one object: `drop < create` (a recreate), and its alters in the order given.
//!
//! Dependencies through objects that have no change are followed transitively, so a view on
//! an unchanged view on a dropped column still orders correctly. Ties are broken by the
//! item's rank (step, then kind; the dump adds the schema first), then its object id, then
//! its position: same input, same order.

use crate::model::ObjectId;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;
use rustc_hash::{FxHashMap, FxHashSet};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::hash::Hash;

/// Which of an object's graph nodes a change belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Drop,
    Alter,
    Create,
}

/// What the orderer needs to know about one change.
#[derive(Debug, Clone)]
pub struct Item<K, R = u8> {
    pub object: K,
    pub step: Step,
    /// Tie-break among ready items (lower first): the object kind's [`rank`] (the dump's
    /// is its schema, then that rank).
    pub rank: R,
}

/// Tie-break among ready items: creates from schemas up to policies, drops the other way.
pub fn rank(id: &ObjectId, step: Step) -> u8 {
    let r = match id {
        ObjectId::Schema(_) => 0,
        ObjectId::Extension(_) => 1,
        ObjectId::Collation(_) | ObjectId::Type(_) => 2,
        ObjectId::Sequence(_) => 3,
        ObjectId::Table(_) => 4,
        ObjectId::Column(..) => 5,
        // After tables: a function body may name tables without PostgreSQL recording it.
        ObjectId::Function(_) => 6,
        ObjectId::Constraint(..) => 7,
        ObjectId::Index(_) | ObjectId::Statistics(_) => 8,
        ObjectId::View(_) => 9,
        ObjectId::Trigger(_) => 10,
        ObjectId::Policy(_) => 11,
    };
    if step == Step::Drop {
        20 - r
    } else {
        r
    }
}

/// Dependencies: object → the objects it depends on.
pub type Deps<K> = BTreeMap<K, BTreeSet<K>>;

/// What the orderer asks of a dependency map: the objects one object depends on. A
/// `Deps` map answers directly; `diff` answers through a view of the model's map (no copy of
/// a 10,000-table schema's edges for the few objects that changed).
pub trait DepsOf<K> {
    fn deps_of(&self, object: &K) -> Vec<K>;
}

impl<K: Ord + Clone> DepsOf<K> for Deps<K> {
    fn deps_of(&self, object: &K) -> Vec<K> {
        self.get(object).into_iter().flatten().cloned().collect()
    }
}

/// A hashed map of each object's dependencies (duplicates allowed: the walk skips them).
impl<K: Eq + Hash + Clone> DepsOf<K> for FxHashMap<K, Vec<K>> {
    fn deps_of(&self, object: &K) -> Vec<K> {
        self.get(object).cloned().unwrap_or_default()
    }
}

/// The items that could not be ordered (a dependency cycle), by object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle<K>(pub Vec<K>);

impl<K: std::fmt::Display> Cycle<K> {
    /// The objects, comma-separated, for an error message.
    pub fn objects(&self) -> String {
        self.0
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Edges between items: `(a, b)` means item `a` runs before item `b`.
pub type Edges = Vec<(usize, usize)>;

/// Returns the indices of `items` in execution order, and the edges that constrained it.
/// `extra` holds edges the caller knows of besides dependencies (a create that takes a name
/// a drop frees runs after the drop).
pub fn order<K: Ord + Clone + Hash, R: Ord>(
    items: &[Item<K, R>],
    from: &impl DepsOf<K>,
    to: &impl DepsOf<K>,
    extra: &[(usize, usize)],
) -> Result<(Vec<usize>, Edges), Cycle<K>> {
    let changed = Changed::of(items);
    let mut edges: Edges = Vec::with_capacity(items.len() * 2 + extra.len());
    // One object: drop < alter < create, and alters in the given order.
    for steps in &changed.steps {
        let all: Vec<usize> = steps.iter().flatten().copied().collect();
        edges.extend(all.windows(2).map(|pair| (pair[0], pair[1])));
    }
    edges.extend(extra.iter().copied().filter(|(a, b)| a != b));
    for (key, &a) in &changed.index {
        for b in reachable_changed(from, key, &changed.index) {
            // A depends on B before the change.
            changed.edges(&mut edges, (a, Step::Drop), (b, Step::Drop));
            changed.edges(&mut edges, (a, Step::Drop), (b, Step::Alter));
            changed.edges(&mut edges, (a, Step::Alter), (b, Step::Drop));
        }
        for b in reachable_changed(to, key, &changed.index) {
            // A depends on B after the change.
            changed.edges(&mut edges, (b, Step::Create), (a, Step::Create));
            changed.edges(&mut edges, (b, Step::Create), (a, Step::Alter));
            changed.edges(&mut edges, (b, Step::Alter), (a, Step::Create));
            changed.edges(&mut edges, (b, Step::Alter), (a, Step::Alter));
        }
    }
    edges.sort_unstable();
    edges.dedup();
    let mut graph: DiGraph<usize, ()> = DiGraph::with_capacity(items.len(), edges.len());
    let nodes: Vec<NodeIndex> = (0..items.len()).map(|i| graph.add_node(i)).collect();
    for &(x, y) in &edges {
        graph.add_edge(nodes[x], nodes[y], ());
    }
    // Kahn with a priority queue.
    let mut indegree: Vec<usize> = nodes
        .iter()
        .map(|&n| graph.neighbors_directed(n, Direction::Incoming).count())
        .collect();
    // Ready items: drops first, then by rank, object and position.
    let key = |i: usize| {
        Reverse((
            items[i].step != Step::Drop,
            &items[i].rank,
            &items[i].object,
            i,
        ))
    };
    let mut ready: BinaryHeap<_> = (0..items.len())
        .filter(|&i| indegree[i] == 0)
        .map(key)
        .collect();
    let mut out = Vec::with_capacity(items.len());
    while let Some(Reverse((_, _, _, i))) = ready.pop() {
        out.push(i);
        for next in graph.neighbors_directed(nodes[i], Direction::Outgoing) {
            let j = graph[next];
            indegree[j] -= 1;
            if indegree[j] == 0 {
                ready.push(key(j));
            }
        }
    }
    if out.len() < items.len() {
        return Err(cycle(&graph, items));
    }
    Ok((out, edges))
}

/// The changed objects, each numbered once (the dependency walk compares numbers, not
/// object ids), with its items by step.
struct Changed<'a, K> {
    index: FxHashMap<&'a K, usize>,
    /// Per object number: its items' indices for drop, alter and create.
    steps: Vec<[Vec<usize>; 3]>,
}

impl<'a, K: Eq + Hash> Changed<'a, K> {
    fn of<R>(items: &'a [Item<K, R>]) -> Self {
        let mut index = FxHashMap::with_capacity_and_hasher(items.len(), Default::default());
        let mut steps: Vec<[Vec<usize>; 3]> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let next = steps.len();
            let object = *index.entry(&item.object).or_insert(next);
            if object == next {
                steps.push(Default::default());
            }
            steps[object][item.step as usize].push(i);
        }
        Changed { index, steps }
    }

    /// Every item of `first`'s step runs before every item of `then`'s.
    fn edges(&self, edges: &mut Edges, first: (usize, Step), then: (usize, Step)) {
        for &x in &self.steps[first.0][first.1 as usize] {
            for &y in &self.steps[then.0][then.1 as usize] {
                if x != y {
                    edges.push((x, y));
                }
            }
        }
    }
}

/// The objects on a cycle (a strongly connected component of more than one item), not
/// those only waiting behind one.
fn cycle<K: Ord + Clone, R>(graph: &DiGraph<usize, ()>, items: &[Item<K, R>]) -> Cycle<K> {
    let on_cycle: BTreeSet<K> = petgraph::algo::tarjan_scc(graph)
        .into_iter()
        .filter(|component| component.len() > 1)
        .flatten()
        .map(|n| items[graph[n]].object.clone())
        .collect();
    Cycle(on_cycle.into_iter().collect())
}

/// The changed objects `start` depends on, directly or through unchanged objects, by number.
fn reachable_changed<K: Clone + Eq + Hash>(
    deps: &impl DepsOf<K>,
    start: &K,
    changed: &FxHashMap<&K, usize>,
) -> Vec<usize> {
    let mut out = Vec::new();
    let mut seen: FxHashSet<K> = FxHashSet::default();
    let mut stack: Vec<K> = deps.deps_of(start);
    while let Some(k) = stack.pop() {
        if seen.contains(&k) {
            continue;
        }
        match changed.get(&k) {
            Some(&n) => out.push(n),
            None => stack.extend(deps.deps_of(&k)),
        }
        seen.insert(k);
    }
    let own = changed.get(start);
    out.retain(|n| Some(n) != own);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps(pairs: &[(&'static str, &'static str)]) -> Deps<&'static str> {
        let mut d = Deps::new();
        for (a, b) in pairs {
            d.entry(*a).or_default().insert(*b);
        }
        d
    }

    fn item(object: &'static str, step: Step) -> Item<&'static str> {
        Item {
            object,
            step,
            rank: 0,
        }
    }

    fn ordered(
        items: &[Item<&'static str>],
        from: &Deps<&'static str>,
        to: &Deps<&'static str>,
    ) -> Vec<String> {
        order(items, from, to, &[])
            .unwrap()
            .0
            .into_iter()
            .map(|i| format!("{:?} {}", items[i].step, items[i].object))
            .collect()
    }

    #[test]
    fn creates_follow_dependencies_drops_precede_them() {
        let items = [
            item("view", Step::Create),
            item("table", Step::Create),
            item("old_table", Step::Drop),
            item("old_view", Step::Drop),
        ];
        let from = deps(&[("old_view", "old_table")]);
        let to = deps(&[("view", "table")]);
        assert_eq!(
            ordered(&items, &from, &to),
            [
                "Drop old_view",
                "Drop old_table",
                "Create table",
                "Create view"
            ]
        );
    }

    #[test]
    fn a_view_over_an_altered_column_is_dropped_before_and_created_after() {
        let items = [
            item("t.c", Step::Alter),
            item("v2", Step::Create),
            item("v2", Step::Drop),
            item("v", Step::Create),
            item("v", Step::Drop),
        ];
        // v2 -> v -> t.c, on both sides.
        let d = deps(&[("v2", "v"), ("v", "t.c")]);
        assert_eq!(
            ordered(&items, &d, &d),
            ["Drop v2", "Drop v", "Alter t.c", "Create v", "Create v2"]
        );
    }

    #[test]
    fn transitive_through_unchanged_objects() {
        let items = [
            item("v2", Step::Drop),
            item("t.c", Step::Alter),
            item("v2", Step::Create),
        ];
        // v2 -> v (unchanged: impossible in practice, but ordering must still hold) -> t.c
        let d = deps(&[("v2", "v"), ("v", "t.c")]);
        assert_eq!(
            ordered(&items, &d, &d),
            ["Drop v2", "Alter t.c", "Create v2"]
        );
    }

    #[test]
    fn extra_edges_hold_a_create_until_the_drop_that_frees_its_name() {
        // The drop of c waits for the alter of b (b used c); the create of a takes c's name.
        let items = [
            item("a", Step::Create),
            item("b", Step::Alter),
            item("c", Step::Drop),
        ];
        let from = deps(&[("b", "c")]);
        let none = Deps::new();
        assert_eq!(
            ordered(&items, &from, &none),
            ["Create a", "Alter b", "Drop c"]
        );
        let (sequence, edges) = order(&items, &from, &none, &[(2, 0)]).unwrap();
        assert_eq!(sequence, [1, 2, 0]);
        assert!(edges.contains(&(2, 0)), "the edge is reported for phases");
    }

    #[test]
    fn ties_are_deterministic() {
        let items = [
            item("b", Step::Create),
            item("a", Step::Create),
            item("c", Step::Drop),
        ];
        let none = Deps::new();
        assert_eq!(
            ordered(&items, &none, &none),
            ["Drop c", "Create a", "Create b"]
        );
    }

    #[test]
    fn a_cycle_names_its_objects_not_those_waiting_behind_it() {
        let items = [
            item("a", Step::Create),
            item("b", Step::Create),
            item("c", Step::Create),
        ];
        let to = deps(&[("a", "b"), ("b", "a"), ("c", "a")]);
        assert_eq!(
            order(&items, &Deps::new(), &to, &[]).unwrap_err(),
            Cycle(vec!["a", "b"])
        );
    }

    #[test]
    fn cycles_are_reported() {
        let items = [item("a", Step::Create), item("b", Step::Create)];
        let to = deps(&[("a", "b"), ("b", "a")]);
        assert_eq!(
            order(&items, &Deps::new(), &to, &[]).unwrap_err(),
            Cycle(vec!["a", "b"])
        );
    }
}
