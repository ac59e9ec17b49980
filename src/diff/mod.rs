//! The declarative diff: two schemas in, typed, ordered changes out, each with its SQL, its
//! hazards and its phase (expand or contract). Pure: no IO.
//!
//! Each object kind has its file; each emits changes on one of the object's graph nodes
//! (`Step::Drop` for what stops using other objects, `Step::Create` for what starts using
//! them, `Step::Alter` in between, see `order.rs`). Objects are altered in place wherever
//! PostgreSQL allows it; what cannot be altered is dropped and created again, and then so is
//! everything that depends on it (`recreate_dependents`). A change strata cannot express is
//! a [`DiffError::Unsupported`] naming the object, never SQL that does something else.

mod body_deps;
mod casts;
mod clones;
mod collations;
mod columns;
mod comments;
mod constraints;
mod detach;
mod extensions;
mod functions;
pub mod hazard;
mod indexes;
pub mod lossy;
mod names;
pub mod op;
mod policies;
mod privileges;
mod rebuild;
mod schemas;
mod sequences;
mod statistics;
mod tables;
mod triggers;
mod types;
mod views;

pub use crate::order::Step;
pub use hazard::{Hazard, HazardKind};
pub use op::Op;

use crate::ddl::{StatementKind, Statements};
use crate::model::{ObjectId, Schema};
use crate::order::{self, rank};
use miette::Diagnostic;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// What a change does, for people and machines (`--format json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Create,
    Drop,
    AddColumn,
    DropColumn,
    AlterColumnType,
    SetDefault,
    DropDefault,
    SetNotNull,
    DropNotNull,
    AddIdentity,
    DropIdentity,
    AlterIdentity,
    AlterColumn,
    AddEnumValue,
    ReplaceView,
    ReplaceFunction,
    AlterSequence,
    AlterTable,
    AlterType,
    AlterPolicy,
    AlterTrigger,
    AlterStatistics,
    AlterExtension,
    Owner,
    Grant,
    Revoke,
    Comment,
}

/// Which half of an expand/contract rollout a change belongs to. A stage of the pipeline
/// selects changes by it (`config::Phase`, which adds `all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Additive, backward compatible: runs before the deploy.
    Expand,
    /// Drops, SET NOT NULL, narrowing: runs after the deploy.
    Contract,
}

/// One statement of the migration, with what it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub object: ObjectId,
    pub step: Step,
    pub kind: ChangeKind,
    /// Expand: additive, backward compatible. Contract: drops, SET NOT NULL, narrowing.
    pub phase: Phase,
    /// One statement; its SQL (`sql()`) has no trailing semicolon.
    #[serde(rename = "sql", serialize_with = "display")]
    pub op: Op,
    pub hazards: Vec<Hazard>,
    /// False for statements PostgreSQL runs only outside a transaction block.
    pub transactional: bool,
}

fn display<S: serde::Serializer>(op: &Op, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(op)
}

impl Change {
    /// The statement's SQL, without the trailing semicolon.
    pub fn sql(&self) -> String {
        self.op.to_string()
    }

    pub fn is_destructive(&self) -> bool {
        self.hazards.iter().any(|h| h.kind == hazard::DESTRUCTIVE)
    }
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum DiffError {
    #[error("strata cannot express the change of {object}: {reason}")]
    #[diagnostic(
        code(strata::diff::unsupported),
        help("make this change with a numbered migration, then declare the result in the schema files")
    )]
    Unsupported { object: String, reason: String },
    #[error(
        "strata cannot change the type of column {column} from {from} to {to}: PostgreSQL has no cast between them"
    )]
    #[diagnostic(
        code(strata::diff::no_cast),
        help(
            "say how to compute the new value in the schema file, on the line above the column (or at the end of its line):\n    -- strata:using {example}\nthe expression may use the table's columns; remove the line once the change has run"
        )
    )]
    NoCast {
        column: String,
        from: String,
        to: String,
        example: String,
    },
    #[error("the changes of these objects depend on each other in a cycle: {objects}")]
    #[diagnostic(code(strata::diff::cycle))]
    Cycle { objects: String },
}

pub(crate) fn unsupported(object: &ObjectId, reason: impl Into<String>) -> DiffError {
    DiffError::Unsupported {
        object: object.to_string(),
        reason: reason.into(),
    }
}

/// How to compute a column's new value when its type changes: (table, column) → the
/// expression of `ALTER COLUMN ... TYPE ... USING` (`-- strata:using`, `source::annotations`).
pub type Conversions = BTreeMap<(crate::model::QualifiedName, String), String>;

static NO_CONVERSIONS: Conversions = BTreeMap::new();

/// What a diff knows besides the two schemas. `Options::default()`: no conversions, and
/// statements every supported PostgreSQL major accepts.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// The conversions the schema files declare for type changes PostgreSQL has no cast for.
    pub conversions: &'a Conversions,
    /// The major version of the server the changes will run on (the one `from` was read
    /// from), when the caller has a connection to it: newer majors have better statements
    /// for some changes (`SET EXPRESSION` from 17). `None`: the forms every major accepts.
    pub server_major: Option<u32>,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            conversions: &NO_CONVERSIONS,
            server_major: None,
        }
    }
}

/// The changes that turn `from` into `to`, in execution order: every expand change first,
/// then every contract change, each part in dependency order.
pub fn diff(from: &Schema, to: &Schema) -> Result<Vec<Change>, DiffError> {
    diff_with(from, to, Options::default())
}

/// `diff`, with what the caller knows of the schema files and the server (`Options`).
pub fn diff_with(from: &Schema, to: &Schema, options: Options) -> Result<Vec<Change>, DiffError> {
    use crate::timings::time;
    let mut d = Diff::new(from, to, options);
    time("diff", "schemas", || schemas::diff(&mut d))?;
    time("diff", "extensions", || extensions::diff(&mut d))?;
    time("diff", "collations", || collations::diff(&mut d))?;
    time("diff", "types", || types::diff(&mut d))?;
    time("diff", "sequences", || sequences::diff(&mut d))?;
    time("diff", "functions", || functions::diff(&mut d))?;
    time("diff", "tables (columns, constraints)", || {
        tables::diff(&mut d)
    })?;
    time("diff", "indexes", || indexes::diff(&mut d))?;
    time("diff", "views", || views::diff(&mut d))?;
    time("diff", "triggers", || triggers::diff(&mut d))?;
    time("diff", "policies", || policies::diff(&mut d))?;
    time("diff", "statistics", || statistics::diff(&mut d))?;
    time("diff", "privileges", || {
        privileges::default_privileges(&mut d)
    });
    time("diff", "dependents", || {
        types::move_columns(&mut d)?;
        recreate_dependents(&mut d)?;
        types::order_moved_columns(&mut d);
        statistics::restore_targets(&mut d);
        tables::replica_identity(&mut d);
        clones::go_with_their_constraint(&mut d);
        Ok::<_, DiffError>(())
    })?;
    time("diff", "ordering", || d.finish())
}

/// The tables the diff from `from` to `to` rebuilds under their name (`rebuild.rs`).
pub fn rebuilt_tables(
    from: &Schema,
    to: &Schema,
) -> std::collections::BTreeSet<crate::model::QualifiedName> {
    rebuild::rebuilt(from, to)
}

/// The name a type rebuilt under its name (`types::rebuild`) has until it is dropped.
pub fn retired_type_name(name: &crate::model::QualifiedName) -> crate::model::QualifiedName {
    types::retired_name(name)
}

/// The migration as SQL text: each statement with its hazards in a comment above it.
pub fn render(changes: &[Change]) -> String {
    let mut out = String::new();
    for change in changes {
        if !out.is_empty() {
            out.push('\n');
        }
        for h in &change.hazards {
            out.push_str(&format!("-- hazard: {}: {}\n", h.kind.id(), h.detail));
        }
        if !change.transactional {
            out.push_str("-- strata:no-transaction\n");
        }
        out.push_str(&change.sql());
        out.push_str(";\n");
    }
    out
}

/// The working state of one diff.
pub(crate) struct Diff<'a> {
    pub from: &'a Schema,
    pub to: &'a Schema,
    pub conversions: &'a Conversions,
    /// `Options::server_major`.
    pub server_major: Option<u32>,
    pub changes: Vec<Change>,
    /// Objects dropped and created again.
    pub recreated: BTreeMap<ObjectId, Phase>,
    /// Objects changed in place in a way their dependents do not survive (a column's type):
    /// the dependents are dropped before and created after.
    pub rebuild_dependents: BTreeMap<ObjectId, Phase>,
    /// Tables dropped or created whole: their columns, constraints, triggers, ... go with them.
    pub dropped_tables: BTreeSet<crate::model::QualifiedName>,
    pub created_tables: BTreeSet<crate::model::QualifiedName>,
    /// Tables rebuilt under their name (`rebuild.rs`); also in both sets above.
    pub rebuilt_tables: BTreeSet<crate::model::QualifiedName>,
    /// Sub-objects rendered as part of another object's statement (columns and inline
    /// constraints in CREATE TABLE), for ordering: object → the object whose item stands for it.
    pub alias_to: BTreeMap<ObjectId, ObjectId>,
    pub alias_from: BTreeMap<ObjectId, ObjectId>,
    /// Types rebuilt under their name (`types::rebuild`): name → (the name the old type is
    /// retired under until its columns moved, phase).
    pub rebuilt_types: BTreeMap<crate::model::QualifiedName, (crate::model::QualifiedName, Phase)>,
    /// Columns moved to a rebuilt type by the rebuild itself.
    pub retyped_columns: BTreeSet<ObjectId>,
    /// Orderings no dependency map knows of: every change of the given step (or every
    /// change) on the first object, or on what stands for it, runs before every change on
    /// the second.
    pub after: Vec<(ObjectId, Option<Step>, ObjectId)>,
    /// Like `after`, but before the creation of the second object only (its drop, when it
    /// is recreated, keeps its place).
    pub before_creation: Vec<(ObjectId, ObjectId)>,
    /// Dependencies of `from` that a statement cuts before either object changes (a
    /// partition's, its columns' and its indexes' on its partitioned table's, cut by the
    /// detach): left out of the ordering.
    pub cut: BTreeSet<(ObjectId, ObjectId)>,
}

impl<'a> Diff<'a> {
    fn new(from: &'a Schema, to: &'a Schema, options: Options<'a>) -> Self {
        Diff {
            from,
            to,
            conversions: options.conversions,
            server_major: options.server_major,
            changes: Vec::new(),
            recreated: BTreeMap::new(),
            rebuild_dependents: BTreeMap::new(),
            dropped_tables: BTreeSet::new(),
            created_tables: BTreeSet::new(),
            rebuilt_tables: BTreeSet::new(),
            alias_to: BTreeMap::new(),
            alias_from: BTreeMap::new(),
            rebuilt_types: BTreeMap::new(),
            retyped_columns: BTreeSet::new(),
            after: Vec::new(),
            before_creation: Vec::new(),
            cut: BTreeSet::new(),
        }
    }

    pub fn push(
        &mut self,
        object: ObjectId,
        step: Step,
        kind: ChangeKind,
        phase: Phase,
        op: impl Into<Op>,
        hazards: Vec<Hazard>,
    ) {
        self.changes.push(Change {
            object,
            step,
            kind,
            phase,
            op: op.into(),
            hazards,
            transactional: true,
        });
    }

    /// The hazards of a statement that locks, scans or builds on `table`: none when this diff
    /// creates the table, which is empty and unused until the change has run.
    pub fn on_live_table(
        &self,
        table: &crate::model::QualifiedName,
        hazards: Vec<Hazard>,
    ) -> Vec<Hazard> {
        if self.created_tables.contains(table) {
            Vec::new()
        } else {
            hazards
        }
    }

    /// Pushes a `ddl` rendering as changes on `object`, each of the kind the rendering
    /// gives it: the first creates it (with `hazards`), the rest set its owner, comments,
    /// grants and state. The CREATE text is written once, in `crate::ddl`.
    pub fn push_created(
        &mut self,
        object: &ObjectId,
        phase: Phase,
        rendered: &Statements,
        hazards: Vec<Hazard>,
    ) {
        for (i, statement) in rendered.iter().enumerate() {
            let hazards = if i == 0 { hazards.clone() } else { vec![] };
            self.push(
                object.clone(),
                Step::Create,
                change_kind(statement.kind),
                phase,
                statement.sql.clone(),
                hazards,
            );
        }
    }

    /// `push_created`, with the first statement as the typed `op` the rendering starts with.
    pub fn push_created_as(
        &mut self,
        object: &ObjectId,
        phase: Phase,
        op: Op,
        rendered: &Statements,
        hazards: Vec<Hazard>,
    ) {
        let first = self.changes.len();
        self.push_created(object, phase, rendered, hazards);
        debug_assert_eq!(self.changes[first].sql(), op.to_string());
        self.changes[first].op = op;
    }

    /// Marks an object as dropped and created again, removing the alters emitted for it.
    pub fn mark_recreated(&mut self, object: &ObjectId, phase: Phase) {
        self.changes.retain(|c| &c.object != object);
        let entry = self.recreated.entry(object.clone()).or_insert(phase);
        *entry = (*entry).max(phase);
    }

    fn finish(self) -> Result<Vec<Change>, DiffError> {
        let Diff {
            from,
            to,
            mut changes,
            alias_to,
            alias_from,
            after,
            before_creation,
            cut,
            ..
        } = self;
        let (sequence, edges) = {
            let items: Vec<order::Item<&ObjectId>> = changes
                .iter()
                .map(|c| {
                    // A change on a sub-object rendered inside its table's statement orders
                    // with that statement.
                    let alias = if c.step == Step::Drop {
                        &alias_from
                    } else {
                        &alias_to
                    };
                    let object = alias.get(&c.object).unwrap_or(&c.object);
                    order::Item {
                        rank: rank(object, c.step),
                        object,
                        step: c.step,
                    }
                })
                .collect();
            let from_deps = fold(&from.dependencies, &alias_from, &cut);
            let no_cut = BTreeSet::new();
            let folded_to = fold(&to.dependencies, &alias_to, &no_cut);
            let bodies = body_deps::edges(
                to,
                items.iter().map(|i| i.object),
                &|o| folded_to.of(o).into_iter().cloned().collect(),
                &alias_to,
            );
            let to_deps = body_deps::WithBodies {
                deps: folded_to,
                bodies: &bodies,
                alias: &alias_to,
            };
            let mut extra = names::edges(from, to, &changes);
            extra.extend(after_edges(&changes, &items, &after));
            extra.extend(column_order_edges(&changes));
            let creations: Vec<(ObjectId, Option<Step>, ObjectId)> = before_creation
                .iter()
                .map(|(x, y)| (x.clone(), None, y.clone()))
                .collect();
            extra.extend(
                after_edges(&changes, &items, &creations)
                    .into_iter()
                    .filter(|&(_, j)| changes[j].step != Step::Drop),
            );
            order::order(&items, &from_deps, &to_deps, &extra).map_err(|cycle| {
                DiffError::Cycle {
                    objects: cycle.objects(),
                }
            })?
        };
        propagate_contract(&mut changes, &sequence, &edges);
        let mut ordered: Vec<(usize, Change)> = sequence
            .iter()
            .enumerate()
            .map(|(pos, &i)| (pos, changes[i].clone()))
            .collect();
        ordered.sort_by_key(|(pos, c)| (c.phase == Phase::Contract, *pos));
        Ok(ordered.into_iter().map(|(_, c)| c).collect())
    }
}

/// The edges of `Diff::after`: from each change on the first object (as itself or through
/// what stands for it) to each change on the second.
fn after_edges(
    changes: &[Change],
    items: &[order::Item<&ObjectId>],
    after: &[(ObjectId, Option<Step>, ObjectId)],
) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (x, step, y) in after {
        let firsts: Vec<usize> = (0..changes.len())
            .filter(|&i| &changes[i].object == x || items[i].object == x)
            .filter(|&i| step.is_none_or(|s| changes[i].step == s))
            .collect();
        for j in (0..changes.len()).filter(|&j| &changes[j].object == y) {
            out.extend(firsts.iter().filter(|&&i| i != j).map(|&i| (i, j)));
        }
    }
    out
}

/// Columns added to one table, each after the one emitted before it (`columns::diff_table`
/// emits them in the schema's column order): the table ends with its columns in the order
/// the schema has them, as `pg_dump` and `SELECT *` show them.
fn column_order_edges(changes: &[Change]) -> Vec<(usize, usize)> {
    let mut last: BTreeMap<&crate::model::QualifiedName, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        if let (ObjectId::Column(table, _), ChangeKind::AddColumn, Step::Create) =
            (&c.object, c.kind, c.step)
        {
            if let Some(before) = last.insert(table, i) {
                out.push((before, i));
            }
        }
    }
    out
}

/// The change kind of a statement `ddl` rendered.
fn change_kind(kind: StatementKind) -> ChangeKind {
    match kind {
        StatementKind::Create => ChangeKind::Create,
        StatementKind::AlterTable => ChangeKind::AlterTable,
        StatementKind::AlterTrigger => ChangeKind::AlterTrigger,
        StatementKind::AlterStatistics => ChangeKind::AlterStatistics,
        StatementKind::AlterType => ChangeKind::AlterType,
        StatementKind::AlterSequence => ChangeKind::AlterSequence,
        StatementKind::Owner => ChangeKind::Owner,
        StatementKind::Comment => ChangeKind::Comment,
        StatementKind::Grant => ChangeKind::Grant,
        StatementKind::Revoke => ChangeKind::Revoke,
    }
}

/// A contract change never runs before an expand change that depends on it: such expand
/// changes move to the contract phase, and so does the other half of a drop-and-create.
fn propagate_contract(changes: &mut [Change], sequence: &[usize], edges: &[(usize, usize)]) {
    let mut successors: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &(a, b) in edges {
        successors.entry(a).or_default().push(b);
    }
    loop {
        let mut moved = false;
        for &i in sequence {
            if changes[i].phase != Phase::Contract {
                continue;
            }
            for &j in successors.get(&i).into_iter().flatten() {
                if changes[j].phase != Phase::Contract {
                    changes[j].phase = Phase::Contract;
                    moved = true;
                }
            }
        }
        let contract_recreates: BTreeSet<ObjectId> = changes
            .iter()
            .filter(|c| c.phase == Phase::Contract && c.step == Step::Create)
            .map(|c| c.object.clone())
            .collect();
        for c in changes.iter_mut() {
            if c.step == Step::Drop
                && c.phase != Phase::Contract
                && contract_recreates.contains(&c.object)
                && c.kind == ChangeKind::Drop
            {
                c.phase = Phase::Contract;
                moved = true;
            }
        }
        if !moved {
            return;
        }
    }
}

/// The dependency map with sub-objects replaced by the object whose statement creates or
/// drops them, answered per object (the orderer asks only about changed objects and what
/// they reach): `deps_of(x)` is what `x` and every sub-object standing for `x` depend on,
/// each mapped the same way, `x` itself left out.
///
/// A sequence's edge to the column that owns it (`OWNED BY`) is left out: the ownership is
/// set by its own statement after both exist, while the column's default needs the sequence
/// first.
struct Folded<'a> {
    deps: &'a crate::model::Dependencies,
    alias: &'a BTreeMap<ObjectId, ObjectId>,
    /// object → the sub-objects that stand for it (from `alias`).
    members: BTreeMap<&'a ObjectId, Vec<&'a ObjectId>>,
    /// Edges left out (`Diff::cut`).
    cut: &'a BTreeSet<(ObjectId, ObjectId)>,
}

fn fold<'a>(
    deps: &'a crate::model::Dependencies,
    alias: &'a BTreeMap<ObjectId, ObjectId>,
    cut: &'a BTreeSet<(ObjectId, ObjectId)>,
) -> Folded<'a> {
    let mut members: BTreeMap<&ObjectId, Vec<&ObjectId>> = BTreeMap::new();
    for (sub, owner) in alias {
        members.entry(owner).or_default().push(sub);
    }
    Folded {
        deps,
        alias,
        members,
        cut,
    }
}

impl<'a> order::DepsOf<&'a ObjectId> for Folded<'a> {
    fn deps_of(&self, object: &&'a ObjectId) -> Vec<&'a ObjectId> {
        self.of(object)
    }
}

impl<'a> Folded<'a> {
    fn of(&self, object: &ObjectId) -> Vec<&'a ObjectId> {
        // An object that stands for another has no edges of its own: they are its owner's.
        if self.alias.contains_key(object) {
            return Vec::new();
        }
        let mut out: BTreeSet<&'a ObjectId> = BTreeSet::new();
        let own = self.deps.get_key_value(object);
        let members = self.members.get(object).into_iter().flatten();
        for (a, bs) in own
            .into_iter()
            .chain(members.filter_map(|m| self.deps.get_key_value(m)))
        {
            let owned_sequence = matches!(a, ObjectId::Sequence(_));
            for b in bs {
                if owned_sequence && matches!(b, ObjectId::Column(..) | ObjectId::Table(_)) {
                    continue;
                }
                if !self.cut.is_empty() && self.cut.contains(&(a.clone(), b.clone())) {
                    continue;
                }
                let b = self.alias.get(b).unwrap_or(b);
                if b != object {
                    out.insert(b);
                }
            }
        }
        out.into_iter().collect()
    }
}

/// Why the users of an object are recreated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    /// It is dropped and created again.
    Recreated,
    /// It changes in place in a way its users do not survive (a column's type).
    ChangedInPlace,
    /// It is dropped for good (its name may be taken by another object).
    Gone,
}

/// Drops and recreates whatever depends (in `from`) on a recreated object or on an object
/// changed in a way its dependents do not survive, transitively.
fn recreate_dependents(d: &mut Diff) -> Result<(), DiffError> {
    // A lookup index only (never iterated): each object's users in the order of `from`'s
    // dependency map, which holds every edge once.
    let mut dependents: FxHashMap<&ObjectId, Vec<&ObjectId>> = FxHashMap::default();
    for (a, bs) in &d.from.dependencies {
        for b in bs {
            dependents.entry(b).or_default().push(a);
        }
    }
    // Objects gone in `to` whose users stay: a user whose text is unchanged now names
    // another object (a table replaced by a view of the same name), and cannot outlive the
    // drop of the old one. Drops run in the contract phase.
    let gone: BTreeSet<&ObjectId> = dependents
        .keys()
        .copied()
        .filter(|b| !d.to.contains(b))
        .collect();
    let mut work: Vec<(ObjectId, Phase, Cause)> = d
        .recreated
        .iter()
        .map(|(id, p)| (id.clone(), *p, Cause::Recreated))
        .chain(
            d.rebuild_dependents
                .iter()
                .map(|(id, p)| (id.clone(), *p, Cause::ChangedInPlace)),
        )
        .chain(
            d.rebuilt_types
                .iter()
                .map(|(name, (_, p))| (ObjectId::Type(name.clone()), *p, Cause::Recreated)),
        )
        .chain(
            gone.into_iter()
                .map(|id| (id.clone(), Phase::Contract, Cause::Gone)),
        )
        .chain(rebuild::columns(d).map(|(id, p)| (id, p, Cause::Recreated)))
        .collect();
    let mut done: BTreeSet<ObjectId> = BTreeSet::new();
    while let Some((cause, phase, why)) = work.pop() {
        let Some(users) = dependents.get(&cause) else {
            continue;
        };
        let users: Vec<ObjectId> = users.iter().map(|u| (*u).clone()).collect();
        for user in users {
            if user == cause || cause.owner().as_ref() == Some(&user) {
                continue;
            }
            // A rebuilt domain's own checks: created again with it.
            if matches!((&cause, &user), (ObjectId::Type(t), ObjectId::Constraint(c, _)) if t == c)
            {
                continue;
            }
            // Gone in `to`, or going with its table: dropped anyway.
            if !d.to.contains(&user) || !d.from.contains(&user) {
                continue;
            }
            // A constraint PostgreSQL made from another (a partition's share of its parent's,
            // a foreign key's clone per referenced partition) comes and goes with that one.
            if let ObjectId::Constraint(t, n) = &user {
                let made = |s: &Schema| {
                    s.tables
                        .get(t)
                        .and_then(|t| t.constraints.get(n))
                        .is_some_and(|c| !c.local)
                };
                if made(d.from) && made(d.to) {
                    continue;
                }
            }
            // An index is named on its own, so `to` may hold another of the same name.
            let own_table = user.parent().cloned().or_else(|| match &user {
                ObjectId::Index(name) => d.from.indexes.get(name).map(|i| i.table.clone()),
                _ => None,
            });
            if let Some(table) = own_table {
                if d.dropped_tables.contains(&table) || d.created_tables.contains(&table) {
                    continue;
                }
            }
            // Already dropped and created again (its own dependents are in the work list),
            // or a column that moves to a rebuilt type or changes its type itself.
            // A partition (and its columns) or an owned sequence of a rebuilt table: the
            // rebuild detaches or re-owns it (`rebuild.rs`).
            if matches!(&cause, ObjectId::Table(t) | ObjectId::Column(t, _) if d.rebuilt_tables.contains(t))
                && matches!(
                    user,
                    ObjectId::Table(_) | ObjectId::Column(..) | ObjectId::Sequence(_)
                )
            {
                continue;
            }
            if d.recreated.contains_key(&user)
                || d.retyped_columns.contains(&user)
                || (matches!(cause, ObjectId::Type(_)) && d.rebuild_dependents.contains_key(&user))
            {
                continue;
            }
            // An in-place column type change rebuilds the table's own indexes and
            // constraints (and foreign keys pointing at them) itself.
            if why == Cause::ChangedInPlace
                && matches!(
                    user,
                    ObjectId::Index(_) | ObjectId::Constraint(..) | ObjectId::Statistics(_)
                )
                && !joins_retyped_columns(d, &user)
            {
                continue;
            }
            // Of what used a gone object, only what names it in its text and is made whole
            // by one statement is made again; the rest (a column's default, a partition
            // moving to another parent, an index attached elsewhere) has changes of its own.
            if why == Cause::Gone
                && !matches!(
                    user,
                    ObjectId::View(_)
                        | ObjectId::Trigger(_)
                        | ObjectId::Policy(_)
                        | ObjectId::Constraint(..)
                        | ObjectId::Function(_)
                )
            {
                continue;
            }
            match &user {
                ObjectId::View(_)
                | ObjectId::Trigger(_)
                | ObjectId::Policy(_)
                | ObjectId::Index(_)
                | ObjectId::Statistics(_)
                | ObjectId::Constraint(..)
                | ObjectId::Function(_) => {
                    if done.insert(user.clone()) {
                        recreate(d, &user, phase)?;
                        work.push((user.clone(), phase, Cause::Recreated));
                    }
                }
                ObjectId::Column(table, column) => {
                    if done.insert(user.clone()) {
                        columns::rebuild_default(d, &cause, table, column, phase)?;
                    }
                }
                ObjectId::Type(_) if matches!(cause, ObjectId::Type(_)) => {
                    return Err(unsupported(
                        &user,
                        format!("it is built on {cause}, which is built again under its name (renamed, created anew, its columns moved), and strata does not build again the domains, composites and ranges over it; change {user} and the columns that use it with a numbered migration first"),
                    ))
                }
                _ => {
                    return Err(unsupported(
                        &user,
                        format!("it depends on {cause}, which has to be dropped and created again"),
                    ))
                }
            }
        }
    }
    Ok(())
}

/// A foreign key whose own columns and referenced columns both change type: PostgreSQL
/// would rebuild it after the first `ALTER COLUMN ... TYPE`, between columns of different
/// types (`text` and `uuid` cannot be compared), so it is dropped before and added after.
fn joins_retyped_columns(d: &Diff, user: &ObjectId) -> bool {
    let ObjectId::Constraint(table, name) = user else {
        return false;
    };
    let Some(fk) = d
        .from
        .tables
        .get(table)
        .and_then(|t| t.constraints.get(name))
    else {
        return false;
    };
    let Some(referenced) = fk
        .references
        .as_ref()
        .filter(|_| fk.kind == crate::model::ConstraintKind::ForeignKey)
    else {
        return false;
    };
    let retyped = |t: &crate::model::QualifiedName, c: &str| {
        d.rebuild_dependents
            .contains_key(&ObjectId::Column(t.clone(), c.into()))
    };
    let own = fk.columns.iter().any(|c| retyped(table, c));
    let other = d
        .from
        .dependencies
        .get(user)
        .into_iter()
        .flat_map(|deps| deps.iter())
        .any(|dep| matches!(dep, ObjectId::Column(t, c) if t == referenced && retyped(t, c)))
        || d.rebuild_dependents
            .keys()
            .any(|k| matches!(k, ObjectId::Column(t, _) if t == referenced && t != table));
    own && other
}

/// Drops an object (as in `from`) and creates it (as in `to`).
fn recreate(d: &mut Diff, id: &ObjectId, phase: Phase) -> Result<(), DiffError> {
    d.mark_recreated(id, phase);
    match id {
        ObjectId::View(name) => views::recreate(d, name, phase),
        ObjectId::Trigger(name) => triggers::recreate(d, name, phase),
        ObjectId::Policy(name) => policies::recreate(d, name, phase),
        ObjectId::Index(name) => indexes::recreate(d, name, phase),
        ObjectId::Statistics(name) => statistics::recreate(d, name, phase),
        ObjectId::Constraint(table, name) => constraints::recreate(d, table, name, phase),
        ObjectId::Function(sig) => functions::recreate(d, sig, phase),
        other => Err(unsupported(other, "it cannot be dropped and created again")),
    }
}

#[cfg(test)]
mod tests;
