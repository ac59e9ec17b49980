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
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

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
        ObjectId::Index(_) => 8,
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
pub fn order<K: Ord + Clone, R: Ord>(
    items: &[Item<K, R>],
    from: &impl DepsOf<K>,
    to: &impl DepsOf<K>,
    extra: &[(usize, usize)],
) -> Result<(Vec<usize>, Edges), Cycle<K>> {
    let mut graph: DiGraph<usize, ()> = DiGraph::with_capacity(items.len(), items.len() * 2);
    let nodes: Vec<NodeIndex> = (0..items.len()).map(|i| graph.add_node(i)).collect();
    // object → step → item indices.
    let mut by_object: BTreeMap<&K, BTreeMap<Step, Vec<usize>>> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        by_object
            .entry(&item.object)
            .or_default()
            .entry(item.step)
            .or_default()
            .push(i);
    }
    let mut edges: BTreeSet<(usize, usize)> = BTreeSet::new();
    // One object: drop < alter < create, and alters in the given order.
    for steps in by_object.values() {
        let all: Vec<usize> = steps.values().flatten().copied().collect();
        for pair in all.windows(2) {
            edges.insert((pair[0], pair[1]));
        }
    }
    edges.extend(extra.iter().copied().filter(|(a, b)| a != b));
    let changed: BTreeSet<&K> = by_object.keys().copied().collect();
    let add = |edges: &mut BTreeSet<(usize, usize)>,
               a: &K,
               a_step: Step,
               b: &K,
               b_step: Step,
               a_first: bool| {
        let (Some(a_items), Some(b_items)) = (
            by_object.get(a).and_then(|s| s.get(&a_step)),
            by_object.get(b).and_then(|s| s.get(&b_step)),
        ) else {
            return;
        };
        for &x in a_items {
            for &y in b_items {
                if x != y {
                    edges.insert(if a_first { (x, y) } else { (y, x) });
                }
            }
        }
    };
    for a in &changed {
        for b in reachable_changed(from, a, &changed) {
            // A depends on B before the change.
            add(&mut edges, a, Step::Drop, &b, Step::Drop, true);
            add(&mut edges, a, Step::Drop, &b, Step::Alter, true);
            add(&mut edges, a, Step::Alter, &b, Step::Drop, true);
        }
        for b in reachable_changed(to, a, &changed) {
            // A depends on B after the change.
            add(&mut edges, a, Step::Create, &b, Step::Create, false);
            add(&mut edges, a, Step::Alter, &b, Step::Create, false);
            add(&mut edges, a, Step::Create, &b, Step::Alter, false);
            if a != &&b {
                add(&mut edges, a, Step::Alter, &b, Step::Alter, false);
            }
        }
    }
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
    Ok((out, edges.into_iter().collect()))
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

/// The changed objects `start` depends on, directly or through unchanged objects.
fn reachable_changed<K: Ord + Clone>(
    deps: &impl DepsOf<K>,
    start: &K,
    changed: &BTreeSet<&K>,
) -> Vec<K> {
    let mut out = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut stack: Vec<K> = deps.deps_of(start);
    while let Some(k) = stack.pop() {
        if seen.contains(&k) {
            continue;
        }
        if changed.contains(&k) {
            out.insert(k.clone());
        } else {
            stack.extend(deps.deps_of(&k));
        }
        seen.insert(k);
    }
    out.remove(start);
    out.into_iter().collect()
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
