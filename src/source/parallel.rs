//! Parallel SDL loads (and clones of the target, `catalog::clone`), the way `pg_restore -j`
//! restores: statements that do not depend on each other are loaded over several connections
//! at once, committed a batch at a time (a statement at a time when a batch fails); whatever
//! could not be loaded that way is loaded afterwards by the single-stream loader
//! (`load::load_items`), which also reports errors at file:line.
//!
//! The dependency graph is conservative (see docs/architecture.md, "Parallel loads"):
//! - a statement *writes* the names its parse tree says it creates or alters ([`targets`]);
//!   a statement of any other kind is a barrier (it waits for everything before it, and
//!   everything after it waits for it);
//! - it *reads* every word of its text (and of its file's session settings) that some
//!   statement writes: over-approximating only costs parallelism;
//! - per name, in file order, a reader waits for the last writer before it, and a writer
//!   for the last writer and every reader since. Edges only point back in file order, so
//!   the graph has no cycle, and a statement that reads a name before its writer runs
//!   before that writer, fails as it would in the single stream, and is loaded (with every
//!   statement waiting on it) by the single-stream pass, in file order.

use super::load::{self, LoadError, LoadStats};
use super::sdl::Sdl;
use crate::pg::ConnInfo;
use pg_query::protobuf::{GrantTargetType, ObjectType, RangeVar};
use pg_query::{Node, NodeEnum};
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::sync::Arc;
use tokio_postgres::Client;

/// Statements per round trip (each still in its own transaction).
const BATCH: usize = 100;
/// The session setting a round trip records its committed statements in.
const COMMITTED: &str = "strata.load_committed";

/// The names a statement creates or alters, or `None` when strata does not know what it
/// touches (the statement is then a barrier).
pub fn targets(node: &NodeEnum) -> Option<Vec<String>> {
    use NodeEnum as N;
    let rel = |r: &Option<RangeVar>| r.iter().map(|r| r.relname.clone()).collect::<Vec<_>>();
    let mut names = match node {
        N::CreateStmt(s) => rel(&s.relation),
        N::ViewStmt(s) => rel(&s.view),
        N::IndexStmt(s) => with(rel(&s.relation), &s.idxname),
        N::AlterTableStmt(s) => rel(&s.relation),
        N::CreateSeqStmt(s) => rel(&s.sequence),
        N::AlterSeqStmt(s) => rel(&s.sequence),
        N::CreateTrigStmt(s) => with(rel(&s.relation), &s.trigname),
        N::CreatePolicyStmt(s) => with(rel(&s.table), &s.policy_name),
        N::CreateTableAsStmt(s) => s.into.iter().flat_map(|i| rel(&i.rel)).collect(),
        N::CompositeTypeStmt(s) => rel(&s.typevar),
        N::CreateFunctionStmt(s) => last(&s.funcname),
        N::CreateEnumStmt(s) => last(&s.type_name),
        N::CreateRangeStmt(s) => last(&s.type_name),
        N::AlterEnumStmt(s) => last(&s.type_name),
        N::CreateDomainStmt(s) => last(&s.domainname),
        N::CreateSchemaStmt(s) if s.schema_elts.is_empty() => vec![s.schemaname.clone()],
        N::CommentStmt(s) => {
            // COMMENT ON COLUMN t.c (or a constraint, trigger, policy, rule on t): the table.
            let on_table = [
                ObjectType::ObjectColumn,
                ObjectType::ObjectTabconstraint,
                ObjectType::ObjectTrigger,
                ObjectType::ObjectPolicy,
                ObjectType::ObjectRule,
            ]
            .iter()
            .any(|t| *t as i32 == s.objtype);
            vec![object_name(s.object.as_deref()?, on_table)?]
        }
        N::GrantStmt(s) if s.targtype == GrantTargetType::AclTargetObject as i32 => s
            .objects
            .iter()
            .map(|o| object_name(o, false))
            .collect::<Option<Vec<_>>>()?,
        N::AlterOwnerStmt(s) => match s.object.as_deref() {
            Some(object) => vec![object_name(object, false)?],
            None => rel(&s.relation),
        },
        _ => return None,
    };
    names.retain(|n| !n.is_empty());
    (!names.is_empty()).then_some(names)
}

fn with(mut names: Vec<String>, name: &str) -> Vec<String> {
    names.push(name.to_string());
    names
}

fn last(names: &[Node]) -> Vec<String> {
    match names.last().and_then(|n| n.node.as_ref()) {
        Some(NodeEnum::String(s)) => vec![s.sval.clone()],
        _ => Vec::new(),
    }
}

/// The name of the object a COMMENT, GRANT or ALTER ... OWNER names: its own name, never
/// its schema's or its argument types' (those would make it a writer of every statement
/// that mentions them); with `on_table`, the table a column or constraint belongs to.
fn object_name(object: &Node, on_table: bool) -> Option<String> {
    let name = |n: &Node| match &n.node {
        Some(NodeEnum::String(s)) => Some(s.sval.clone()),
        _ => None,
    };
    match object.node.as_ref()? {
        NodeEnum::RangeVar(r) => Some(r.relname.clone()),
        NodeEnum::String(s) => Some(s.sval.clone()),
        NodeEnum::ObjectWithArgs(o) => name(o.objname.last()?),
        NodeEnum::TypeName(t) => name(t.names.last()?),
        NodeEnum::List(l) if on_table => name(l.items.iter().rev().nth(1)?),
        NodeEnum::List(l) => name(l.items.last()?),
        _ => None,
    }
}

/// The words of a text, lowercased: identifiers, quoted or not, and anything in literals
/// (function bodies). A name made of several words counts as each of them.
fn words(text: &str, out: &mut BTreeSet<String>) {
    for word in text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')) {
        if !word.is_empty() && !word.bytes().all(|b| b.is_ascii_digit()) {
            out.insert(word.to_lowercase());
        }
    }
}

/// For each statement (`items`, in file order), the earlier statements it waits for.
pub fn dependencies(sdl: &Sdl, items: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let parents = parents(sdl, items);
    let written: Vec<Option<BTreeSet<String>>> = items
        .iter()
        .map(|&(f, s)| {
            sdl.files[f].statements[s]
                .statement
                .targets
                .as_ref()
                .map(|names| {
                    let mut keys = BTreeSet::new();
                    names.iter().for_each(|n| words(n, &mut keys));
                    with_ancestors(keys, &parents)
                })
        })
        .collect();
    let keys: BTreeSet<&str> = written
        .iter()
        .flatten()
        .flatten()
        .map(|k| k.as_str())
        .collect();
    #[derive(Default)]
    struct Key {
        writer: Option<usize>,
        readers: Vec<usize>,
    }
    let mut state: HashMap<&str, Key> = HashMap::new();
    let mut barrier: Option<usize> = None;
    let mut since_barrier: Vec<usize> = Vec::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, &(f, s)) in items.iter().enumerate() {
        let mut deps: BTreeSet<usize> = barrier.into_iter().collect();
        match &written[i] {
            None => {
                deps.extend(since_barrier.drain(..));
                barrier = Some(i);
                // Everything later waits for the barrier, which waits for everything earlier.
                state.clear();
            }
            Some(targets) => {
                let statement = &sdl.files[f].statements[s];
                let mut mentioned = BTreeSet::new();
                words(&statement.statement.sql, &mut mentioned);
                for setting in &sdl.settings[f][..statement.settings] {
                    words(setting, &mut mentioned);
                }
                mentioned.extend(targets.iter().cloned());
                for word in &mentioned {
                    let Some(&key) = keys.get(word.as_str()) else {
                        continue;
                    };
                    let key = state.entry(key).or_default();
                    deps.extend(key.writer);
                    if targets.contains(word) {
                        deps.extend(key.readers.drain(..));
                        key.writer = Some(i);
                    } else {
                        key.readers.push(i);
                    }
                }
                since_barrier.push(i);
            }
        }
        deps.remove(&i);
        out.push(deps.into_iter().collect());
    }
    out
}

/// The parent tables of partitions and inheritance children (`PARTITION OF`, `INHERITS`,
/// `ATTACH PARTITION`), by the words of their names. PostgreSQL acts on a whole family at
/// once (an index or constraint created on a parent is created on, or attached to, every
/// child's matching one), so a statement that changes a child also changes its parents.
fn parents(sdl: &Sdl, items: &[(usize, usize)]) -> HashMap<String, BTreeSet<String>> {
    let mut parents: HashMap<String, BTreeSet<String>> = HashMap::new();
    for &(f, s) in items {
        let sql = &sdl.files[f].statements[s].statement.sql;
        let lower = sql.to_lowercase();
        if !(lower.contains("partition") || lower.contains("inherits")) {
            continue;
        }
        let Ok(parsed) = pg_query::parse(sql) else {
            continue;
        };
        for raw in &parsed.protobuf.stmts {
            for (child, parent) in raw
                .stmt
                .as_ref()
                .and_then(|n| n.node.as_ref())
                .map(family_links)
                .unwrap_or_default()
            {
                let mut child_words = BTreeSet::new();
                words(&child, &mut child_words);
                let mut parent_words = BTreeSet::new();
                words(&parent, &mut parent_words);
                for word in child_words {
                    parents
                        .entry(word)
                        .or_default()
                        .extend(parent_words.iter().cloned());
                }
            }
        }
    }
    parents
}

/// (child, parent) table names a statement links.
fn family_links(node: &NodeEnum) -> Vec<(String, String)> {
    let relname = |n: &Node| match &n.node {
        Some(NodeEnum::RangeVar(r)) => Some(r.relname.clone()),
        _ => None,
    };
    match node {
        NodeEnum::CreateStmt(s) => {
            let Some(child) = s.relation.as_ref().map(|r| r.relname.clone()) else {
                return Vec::new();
            };
            s.inh_relations
                .iter()
                .filter_map(relname)
                .map(|parent| (child.clone(), parent))
                .collect()
        }
        NodeEnum::AlterTableStmt(s) => {
            let Some(parent) = s.relation.as_ref().map(|r| r.relname.clone()) else {
                return Vec::new();
            };
            s.cmds
                .iter()
                .filter_map(|c| match &c.node {
                    Some(NodeEnum::AlterTableCmd(cmd)) => cmd.def.as_deref(),
                    _ => None,
                })
                .filter_map(|def| match &def.node {
                    Some(NodeEnum::PartitionCmd(p)) => p.name.as_ref().map(|r| r.relname.clone()),
                    _ => None,
                })
                .map(|child| (child, parent.clone()))
                .collect()
        }
        _ => Vec::new(),
    }
}

/// The words written, with every ancestor table's.
fn with_ancestors(
    mut keys: BTreeSet<String>,
    parents: &HashMap<String, BTreeSet<String>>,
) -> BTreeSet<String> {
    let mut todo: Vec<String> = keys.iter().cloned().collect();
    while let Some(key) = todo.pop() {
        for parent in parents.get(&key).into_iter().flatten() {
            if keys.insert(parent.clone()) {
                todo.push(parent.clone());
            }
        }
    }
    keys
}

/// Loads the SDL into the database at `conninfo` over `jobs` connections (one connection
/// and one transaction, `load::load`, when `jobs` is 1).
pub async fn load(conninfo: &ConnInfo, sdl: &Sdl, jobs: usize) -> Result<LoadStats, LoadError> {
    let items = load::all_items(sdl);
    let client = conninfo.connect().await?;
    load::refuse_newer_syntax(&client, sdl, &items).await?;
    if jobs <= 1 || items.len() < 2 {
        return load::load_items(&client, sdl, &items).await;
    }
    let deps = dependencies(sdl, &items);
    let done = run_graph(conninfo, sdl, &items, &deps, jobs).await?;
    let rest: Vec<(usize, usize)> = items
        .iter()
        .zip(&done)
        .filter(|(_, done)| !**done)
        .map(|(item, _)| *item)
        .collect();
    if rest.is_empty() {
        return Ok(LoadStats {
            statements: items.len(),
            passes: 1,
            deferred: 0,
        });
    }
    let stats = load::load_items(&client, sdl, &rest).await?;
    Ok(LoadStats {
        statements: items.len(),
        passes: 1 + stats.passes,
        deferred: stats.deferred,
    })
}

/// One batch of statements that may run at once, as sent to one connection.
struct Batch {
    id: u64,
    /// Indices into the items.
    items: Vec<usize>,
    /// Per statement: its session settings and its text.
    texts: Vec<(String, String)>,
}

/// What a batch did: the statements committed, and the first error that is not "does not
/// exist (yet)" (which stops the parallel phase).
struct Outcome {
    connection: usize,
    committed: Vec<usize>,
    fatal: bool,
}

/// Runs the graph over `jobs` connections. Returns, per item, whether it was committed;
/// the rest (failed statements, everything waiting on them, everything not started after
/// a statement failed for another reason than a missing object) is left to the caller.
async fn run_graph(
    conninfo: &ConnInfo,
    sdl: &Sdl,
    items: &[(usize, usize)],
    deps: &[Vec<usize>],
    jobs: usize,
) -> Result<Vec<bool>, LoadError> {
    let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut dependents = vec![Vec::new(); items.len()];
    for (i, d) in deps.iter().enumerate() {
        for &j in d {
            dependents[j].push(i);
        }
    }
    let mut ready: BinaryHeap<std::cmp::Reverse<usize>> = (0..items.len())
        .filter(|&i| waiting[i] == 0)
        .map(std::cmp::Reverse)
        .collect();
    let mut clients = Vec::with_capacity(jobs);
    for _ in 0..jobs {
        clients.push(Arc::new(conninfo.connect().await?));
    }
    let mut idle: Vec<usize> = (0..jobs).rev().collect();
    let mut running = tokio::task::JoinSet::new();
    let mut done = vec![false; items.len()];
    let mut stop = false;
    let mut next_id = 0u64;
    let mut any_committed = false;
    loop {
        while !stop && !ready.is_empty() && !idle.is_empty() {
            // Timed (`STRATA_TIMINGS`), one statement per round trip: each has its own time.
            let most = if crate::timings::enabled() { 1 } else { BATCH };
            let size = ready.len().div_ceil(jobs).clamp(1, most);
            let chosen: Vec<usize> = (0..size).filter_map(|_| ready.pop()).map(|r| r.0).collect();
            let batch = Batch {
                id: next_id,
                texts: chosen
                    .iter()
                    .map(|&i| statement_text(sdl, items[i]))
                    .collect(),
                items: chosen,
            };
            next_id += 1;
            let connection = idle.pop().expect("an idle connection");
            let client = clients[connection].clone();
            let node = match batch.items.as_slice() {
                [i] if crate::timings::enabled() => Some(node_of(sdl, items[*i])),
                _ => None,
            };
            running.spawn(async move {
                let start = std::time::Instant::now();
                let outcome = run_batch(&client, connection, batch).await;
                if let Some(node) = node {
                    let kind = crate::timings::statement_kind(&node);
                    crate::timings::record("load", kind, start.elapsed());
                }
                outcome
            });
        }
        let Some(finished) = running.join_next().await else {
            break;
        };
        let outcome = finished.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;
        if !any_committed && !outcome.committed.is_empty() {
            any_committed = true;
            // Statements committed on one connection, others in flight on the rest.
            crate::failpoint::pause("shadow-loading").await;
        }
        idle.push(outcome.connection);
        stop |= outcome.fatal;
        for i in outcome.committed {
            done[i] = true;
            for &d in &dependents[i] {
                waiting[d] -= 1;
                if waiting[d] == 0 {
                    ready.push(std::cmp::Reverse(d));
                }
            }
        }
    }
    Ok(done)
}

/// A statement's parse tree root node name, e.g. `CreateStmt`.
fn node_of(sdl: &Sdl, (f, s): (usize, usize)) -> String {
    sdl.files[f].statements[s].statement.node.clone()
}

/// A statement's session settings and text.
fn statement_text(sdl: &Sdl, (f, s): (usize, usize)) -> (String, String) {
    let statement = &sdl.files[f].statements[s];
    (
        load::context(sdl, f, statement.settings),
        statement.statement.sql.clone(),
    )
}

/// Sends a batch: first as one transaction; when that fails, rolled back and sent again
/// each statement in its own transaction, in as few round trips as its failures allow (a
/// failed statement is skipped and the rest sent again).
///
/// A batch's statements were all ready at once, so none waits on another: committing them
/// together is committing them one by one, without a commit (and the other connections'
/// catalog invalidations) per statement, which cost about a third more server time.
async fn run_batch(client: &Client, connection: usize, batch: Batch) -> Result<Outcome, LoadError> {
    let mut outcome = Outcome {
        connection,
        committed: Vec::new(),
        fatal: false,
    };
    if batch.items.len() > 1 {
        match client.batch_execute(&one_transaction_text(&batch)).await {
            Ok(()) => {
                outcome.committed = batch.items;
                return Ok(outcome);
            }
            Err(e) if e.as_db_error().is_some() => client
                .batch_execute("ROLLBACK")
                .await
                .map_err(load::pg_error)?,
            Err(e) => return Err(load::pg_error(e)),
        }
    }
    let mut start = 0;
    while start < batch.items.len() {
        let sql = batch_text(&batch, start);
        match client.batch_execute(&sql).await {
            Ok(()) => {
                outcome.committed.extend(&batch.items[start..]);
                break;
            }
            Err(e) if e.as_db_error().is_some() => {
                client
                    .batch_execute("ROLLBACK")
                    .await
                    .map_err(load::pg_error)?;
                let failed = committed_up_to(client, batch.id).await?.max(start);
                outcome.committed.extend(&batch.items[start..failed]);
                if !e.code().is_some_and(load::is_deferrable) {
                    outcome.fatal = true;
                    break;
                }
                start = failed + 1;
            }
            Err(e) => return Err(load::pg_error(e)),
        }
    }
    Ok(outcome)
}

/// The batch from `start` on as one query string: per statement `BEGIN`, its settings when
/// they differ from the previous one's, the statement, a progress mark, `COMMIT`.
fn batch_text(batch: &Batch, start: usize) -> String {
    let mut sql = String::new();
    let mut current: Option<&str> = None;
    for k in start..batch.items.len() {
        let (context, text) = &batch.texts[k];
        sql.push_str("BEGIN;\n");
        if current != Some(context.as_str()) {
            sql.push_str(context);
            current = Some(context);
        }
        // A shadow database needs no durability (the settings may have reset it).
        sql.push_str("SET LOCAL synchronous_commit = off;\n");
        sql.push_str(text);
        sql.push_str(&format!(
            "\n;\nSELECT set_config('{COMMITTED}', '{}:{}', false);\nCOMMIT;\n",
            batch.id,
            k + 1
        ));
    }
    sql
}

/// The whole batch as one transaction, settings switched where they differ.
fn one_transaction_text(batch: &Batch) -> String {
    let mut sql = String::from("BEGIN;\n");
    let mut current: Option<&str> = None;
    for (context, text) in &batch.texts {
        if current != Some(context.as_str()) {
            sql.push_str(context);
            // After the context's RESET ALL. A shadow database needs no durability.
            sql.push_str("SET LOCAL synchronous_commit = off;\n");
            current = Some(context);
        }
        sql.push_str(text);
        sql.push_str("\n;\n");
    }
    sql.push_str("COMMIT;\n");
    sql
}

/// How many statements of batch `id` are committed (0 when none has been yet).
async fn committed_up_to(client: &Client, id: u64) -> Result<usize, LoadError> {
    let row = client
        .query_one(&format!("SELECT current_setting('{COMMITTED}', true)"), &[])
        .await
        .map_err(load::pg_error)?;
    let value: Option<String> = row.get(0);
    Ok(value
        .as_deref()
        .and_then(|v| v.split_once(':'))
        .filter(|(batch, _)| *batch == id.to_string())
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps(text: &str) -> Vec<Vec<usize>> {
        let sdl = Sdl::from_text("schema.sql", text).unwrap();
        let items = load::all_items(&sdl);
        dependencies(&sdl, &items)
    }

    #[test]
    fn independent_tables_wait_for_nothing_and_their_indexes_for_them() {
        let d = deps(
            "CREATE TABLE a (id int PRIMARY KEY);\n\
             CREATE TABLE b (id int);\n\
             CREATE INDEX ON a (id);\n\
             CREATE INDEX ON a (id) WHERE id > 0;\n\
             CREATE TABLE c (a_id int REFERENCES a);\n",
        );
        // The foreign key waits for the last statement that changed `a`.
        assert_eq!(d, vec![vec![], vec![], vec![0], vec![2], vec![3]]);
    }

    #[test]
    fn a_writer_waits_for_the_readers_before_it() {
        // The view reads t as it is before the column is added, as in the single stream.
        let d = deps(
            "CREATE TABLE t (a int);\n\
             CREATE VIEW v AS SELECT * FROM t;\n\
             ALTER TABLE t ADD COLUMN b int;\n",
        );
        assert_eq!(d, vec![vec![], vec![0], vec![0, 1]]);
    }

    #[test]
    fn comments_and_grants_write_their_object_not_its_schema_or_argument_types() {
        let d = deps(
            "CREATE SCHEMA app;\n\
             CREATE TABLE app.a (id numeric);\n\
             COMMENT ON TABLE app.a IS 'x';\n\
             CREATE FUNCTION app.f(numeric) RETURNS int LANGUAGE sql AS 'SELECT 1';\n\
             COMMENT ON FUNCTION app.f(numeric) IS 'y';\n\
             GRANT EXECUTE ON FUNCTION app.f(numeric) TO PUBLIC;\n\
             CREATE TABLE app.b (id numeric);\n",
        );
        assert_eq!(
            d,
            vec![
                vec![],
                vec![0],
                vec![0, 1],
                vec![0],
                vec![0, 3],
                vec![0, 4],
                vec![0]
            ]
        );
    }

    #[test]
    fn a_change_to_a_partition_changes_its_parent() {
        // The parent's index attaches the child's matching one when that exists first.
        let d = deps(
            "CREATE TABLE p (id int, x int) PARTITION BY RANGE (id);\n\
             CREATE TABLE p_1 PARTITION OF p FOR VALUES FROM (0) TO (10);\n\
             CREATE INDEX p_1_by_x ON p_1 (x);\n\
             CREATE INDEX p_x ON p (x);\n\
             CREATE TABLE q (id int, x int);\n\
             CREATE INDEX q_x ON q (x);\n\
             ALTER TABLE p ATTACH PARTITION q FOR VALUES FROM (10) TO (20);\n",
        );
        assert_eq!(d[2], vec![1]);
        assert_eq!(d[3], vec![2]);
        // q is attached later: what changes q changes p too, so it waits for p's index.
        assert_eq!(d[4], vec![3]);
        assert_eq!(d[5], vec![4]);
        assert_eq!(d[6], vec![5]);
    }

    #[test]
    fn an_unknown_statement_is_a_barrier() {
        let d = deps(
            "CREATE TABLE a (id int);\n\
             CREATE EXTENSION IF NOT EXISTS pgcrypto;\n\
             CREATE TABLE b (id int);\n",
        );
        assert_eq!(d, vec![vec![], vec![0], vec![1]]);
    }

    #[test]
    fn session_settings_are_read_and_quoted_names_match_any_case() {
        let d = deps(
            "CREATE SCHEMA app;\n\
             SET search_path = app;\n\
             CREATE TABLE \"Users\" (id int);\n\
             COMMENT ON COLUMN \"Users\".id IS 'x';\n",
        );
        assert_eq!(d, vec![vec![], vec![0], vec![0, 1]]);
    }
}
