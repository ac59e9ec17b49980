//! Every case of tests/diff_cases through the planner, as `strata plan` carries it out: the
//! rename stage, then an `expand` and a `contract` schema stage (`plan::stage::schema_stage`:
//! online forms, windows, overloads), each executed on database A (loaded from from.sql, with
//! the case's rows.sql) before the next is planned from what A then holds. A must end up
//! with to.sql's schema (a second diff is empty), the case's check.sql must hold (the rows kept
//! their values), and no column that exists on both sides is dropped and added again unless
//! the case is listed in `READDS` with the reason. One test per case (`cargo test --test
//! diff_through_plan CASE`); a case expecting a diff error is skipped (tests/diff_snapshots.rs
//! pins the error).

mod common;
#[macro_use]
#[path = "common/diff_cases.rs"]
mod diff_cases;

use common::TestDb;
use std::path::{Path, PathBuf};
use strata::config::Phase;
use strata::diff::ChangeKind;
use strata::model::ObjectId;
use strata::plan::stage::{rename_stage, schema_stage, MigrationDdl};
use strata::source::load::load;
use strata::source::sdl::Sdl;

/// Cases whose plan drops a column of both schemas and adds it again, on purpose.
const READDS: &[(&str, &str)] = &[
    (
        "column_generated",
        "a plain column becomes a stored generated one: PostgreSQL cannot do it in place",
    ),
    (
        "column_generated_with_dependents",
        "a plain column becomes a stored generated one, under an index and a view",
    ),
];

fn case_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/diff_cases")
        .join(name)
}

fn config() -> strata::config::Config {
    strata::config::Config::parse(Path::new("."), "").unwrap()
}

async fn read(db: &TestDb) -> strata::model::Schema {
    strata::catalog::catalog(&db.client().await, &config())
        .await
        .unwrap_or_else(|e| panic!("catalog of {}: {e:?}", db.name))
}

async fn load_file(db: &TestDb, path: &Path) -> Sdl {
    let text = std::fs::read_to_string(path).unwrap();
    let sdl = Sdl::from_text(&path.display().to_string(), &text)
        .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
    load(&db.client().await, &sdl)
        .await
        .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
    sdl
}

/// Executes a stage as `strata run` does: consecutive transactional statements in one
/// transaction, the others alone.
async fn execute(db: &TestDb, statements: &[strata::plan::pending::PlannedStatement]) {
    let client = db.client().await;
    let mut batch = String::new();
    for s in statements {
        if s.transactional {
            batch.push_str(&s.sql);
            batch.push_str(";\n");
            continue;
        }
        flush(&client, &mut batch).await;
        client
            .batch_execute(&s.sql)
            .await
            .unwrap_or_else(|e| panic!("{}\n{}", s.sql, strata::pg::describe(&e)));
    }
    flush(&client, &mut batch).await;
}

async fn flush(client: &tokio_postgres::Client, batch: &mut String) {
    if batch.is_empty() {
        return;
    }
    let sql = format!("BEGIN;\n{batch}COMMIT;");
    batch.clear();
    client
        .batch_execute(&sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}\n{}", strata::pg::describe(&e)));
}

/// Columns holding data of their own (not generated) in `from` that the changes drop and
/// add again.
fn readded(changes: &[strata::diff::Change], from: &strata::model::Schema) -> Vec<String> {
    let of = |kind: ChangeKind| {
        changes
            .iter()
            .filter(move |c| c.kind == kind)
            .filter_map(|c| match &c.object {
                ObjectId::Column(t, col) => Some((t.clone(), col.clone())),
                _ => None,
            })
    };
    let dropped: Vec<_> = of(ChangeKind::DropColumn).collect();
    of(ChangeKind::AddColumn)
        .filter(|k| dropped.contains(k))
        .filter(|(t, c)| {
            from.tables
                .get(t)
                .and_then(|t| t.columns.get(c))
                .is_some_and(|c| c.generated.is_none())
        })
        .map(|(t, c)| format!("{t}.{c}"))
        .collect()
}

async fn through_plan(name: &str) {
    let dir = case_dir(name);
    if dir.join("expect_error").exists() {
        return;
    }
    let (a, b) = (TestDb::new(), TestDb::new());
    load_file(&a, &dir.join("from.sql")).await;
    let sdl = load_file(&b, &dir.join("to.sql")).await;
    if dir.join("rows.sql").exists() {
        a.psql(&std::fs::read_to_string(dir.join("rows.sql")).unwrap());
    }
    let desired = read(&b).await;
    let renames = strata::source::annotations::renames(&sdl, &config().plan);
    let from = read(&a).await;
    let changes = strata::plan::online::online(
        strata::diff::diff_with(
            &from,
            &desired,
            strata::diff::Options {
                conversions: renames.conversions(),
                server_major: Some(common::server_major()),
            },
        )
        .unwrap(),
        &from,
        &desired,
        &renames,
    );
    let readds = readded(&changes, &from);
    let allowed = READDS.iter().any(|(case, _)| *case == name);
    assert!(
        readds.is_empty() || allowed,
        "[{name}] drops and adds again {readds:?}"
    );
    assert!(
        !allowed || !readds.is_empty(),
        "[{name}] is in READDS but re-adds nothing"
    );
    execute(&a, &rename_stage(&from, &desired, &renames)).await;
    let none = MigrationDdl::of(&[]);
    for phase in [Phase::Expand, Phase::Contract] {
        let current = read(&a).await;
        let major = Some(common::server_major());
        let stage = schema_stage(&current, &desired, phase, &none, &renames, major)
            .unwrap_or_else(|e| panic!("[{name}] {phase:?}: {e}"));
        execute(&a, &stage).await;
    }
    let after = read(&a).await;
    let left = strata::diff::diff(&after, &desired).unwrap();
    assert!(
        left.is_empty(),
        "[{name}] not converged through plan:\n{}",
        strata::diff::render(&left)
    );
    // What the diff cannot change (a constraint PostgreSQL made per partition left NOT
    // VALID, say) shows in the fingerprint, as `strata plan`'s convergence check sees it.
    assert_eq!(
        after.fingerprint(),
        desired.fingerprint(),
        "[{name}] the plan's result differs from to.sql in what no statement changes"
    );
    if dir.join("check.sql").exists() {
        let check = std::fs::read_to_string(dir.join("check.sql")).unwrap();
        let ok: bool = a
            .client()
            .await
            .query_one(check.trim().trim_end_matches(';'), &[])
            .await
            .unwrap()
            .get(0);
        assert!(ok, "[{name}] check.sql is false after the plan ran");
    }
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                through_plan(stringify!($name)).await;
            }
        )*
    };
}

for_each_diff_case!(cases);
