//! Snapshots of what the diff says for every case of tests/diff_cases: the rendered SQL with
//! each statement's hazards (`diff::render`), or the error of a case that expects one. One
//! test per case, so `cargo test --test diff_snapshots CASE` runs one; tests/diff.rs checks
//! that the SQL converges, this file pins what it is. A new case needs its line in `cases!`
//! (`every_case_has_a_snapshot_test` fails until it has one) and its reviewed snapshot in
//! tests/snapshots/ (`cargo insta review`, or INSTA_UPDATE=always then read the .snap).

mod common;
#[macro_use]
#[path = "common/diff_cases.rs"]
mod diff_cases;

use common::TestDb;
use std::path::{Path, PathBuf};
use strata::source::load::load;
use strata::source::sdl::Sdl;

fn case_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/diff_cases")
        .join(name)
}

async fn read(path: &Path) -> strata::model::Schema {
    let db = TestDb::new();
    let text = std::fs::read_to_string(path).unwrap();
    let sdl = Sdl::from_text(&path.display().to_string(), &text)
        .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
    let client = db.client().await;
    load(&client, &sdl)
        .await
        .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
    let config = strata::config::Config::parse(Path::new("."), "").unwrap();
    strata::catalog::catalog(&client, &config)
        .await
        .unwrap_or_else(|e| panic!("catalog of {}: {e:?}", path.display()))
}

/// What the diff of one case says: its SQL with hazards, or its error.
async fn said(name: &str) -> String {
    let dir = case_dir(name);
    let from = read(&dir.join("from.sql")).await;
    let to = read(&dir.join("to.sql")).await;
    match strata::diff::diff(&from, &to) {
        Ok(changes) if changes.is_empty() => "-- (no changes)\n".to_string(),
        Ok(changes) => strata::diff::render(&changes),
        Err(e) => format!("error: {e}\n"),
    }
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                insta::assert_snapshot!(stringify!($name), said(stringify!($name)).await);
            }
        )*
    };
}

for_each_diff_case!(cases);
