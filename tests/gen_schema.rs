//! The benchmark schema generator (`src/bin/strata-gen-schema.rs`): deterministic output that
//! loads with psql into an empty database, in both variants.

mod common;

use common::TestDb;
use std::process::Command;

fn generate(tables: usize, variant: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_strata-gen-schema"))
        .args(["--tables", &tables.to_string(), "--variant", variant])
        .output()
        .expect("run strata-gen-schema");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn load(db: &TestDb, sql: &str) {
    let dir = common::reachable_tempdir("strata-gen-schema-");
    let file = dir.path().join("schema.sql");
    std::fs::write(&file, sql).unwrap();
    let out = Command::new("psql")
        .args([db.url.as_str(), "-Xq", "-v", "ON_ERROR_STOP=1", "-f"])
        .arg(&file)
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "psql complained: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn same_arguments_give_the_same_bytes() {
    assert_eq!(generate(100, "base"), generate(100, "base"));
    assert_eq!(generate(100, "changed"), generate(100, "changed"));
    assert_ne!(generate(100, "base"), generate(100, "changed"));
}

#[test]
fn base_variant_of_100_tables_loads_into_an_empty_database() {
    let db = TestDb::new();
    load(&db, &generate(100, "base"));
    let tables = db.psql("SELECT count(*) FROM pg_tables WHERE schemaname IN ('app', 'billing')");
    assert_eq!(tables, "100");
    let kinds = db.psql(
        "SELECT (SELECT count(*) FROM pg_views WHERE schemaname = 'app') > 0, \
                (SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal) > 0, \
                (SELECT count(*) FROM pg_type WHERE typtype = 'e') > 0, \
                (SELECT count(*) FROM pg_index WHERE indpred IS NOT NULL) > 0, \
                (SELECT count(*) FROM pg_index WHERE indexprs IS NOT NULL) > 0, \
                (SELECT count(*) FROM pg_constraint WHERE contype = 'f') > 0",
    );
    assert_eq!(kinds, "t|t|t|t|t|t");
}

#[test]
fn changed_variant_of_100_tables_loads_and_differs_by_about_five_percent() {
    let db = TestDb::new();
    let base = generate(100, "base");
    let changed = generate(100, "changed");
    load(&db, &changed);
    let differing = similar::TextDiff::from_lines(&base, &changed)
        .iter_all_changes()
        .filter(|c| c.tag() != similar::ChangeTag::Equal)
        .count();
    let lines = base.lines().count();
    assert!(
        differing * 100 > lines * 2 && differing * 100 < lines * 10,
        "{differing} of {lines} lines differ"
    );
}

#[test]
fn wide_mix_loads_in_both_variants_and_carries_more_per_table() {
    let mixed = |variant: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_strata-gen-schema"))
            .args(["--tables", "100", "--variant", variant, "--mix", "wide"])
            .output()
            .expect("run strata-gen-schema");
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let count = |db: &TestDb| {
        db.psql(
            "SELECT (SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname IN ('app', 'billing') AND c.relkind = 'r' AND a.attnum > 0) \
                  || '|' || (SELECT count(*) FROM pg_views WHERE schemaname IN ('app', 'billing'))",
        )
    };
    let (base, wide) = (TestDb::new(), TestDb::new());
    load(&base, &generate(100, "base"));
    load(&wide, &mixed("base"));
    let parse = |s: String| -> Vec<i64> { s.split('|').map(|v| v.parse().unwrap()).collect() };
    let (b, w) = (parse(count(&base)), parse(count(&wide)));
    assert!(
        w[0] >= b[0] + 600 && w[1] > b[1] * 2,
        "base {b:?}, wide {w:?}"
    );
    let changed = TestDb::new();
    load(&changed, &mixed("changed"));
    assert_ne!(mixed("base"), mixed("changed"));
}
