//! Zero downtime under application traffic, for every change kind of issue 17: the old code
//! until the deploy hook returns and the new code from the hook on never see a failed query
//! while `strata run` changes the schema (the harness: tests/common/traffic.rs). Here on a
//! small table; `bench_online` (ignored; `make bench-online`) runs every kind on 1M rows
//! against the naive statements and writes the table of docs/benchmarks.md.

mod common;
#[path = "common/traffic.rs"]
mod traffic;

use traffic::{find, kinds, measure, table};

const ROWS: u64 = 10_000;

/// The kind's run, with every query of both pools succeeding.
async fn zero_failed(name: &str) {
    let kind = find(name);
    let outcome = measure(&kind, ROWS, false).await;
    let m = match outcome.strata {
        Ok(m) => m,
        Err(e) => panic!("{name}: {e}"),
    };
    eprintln!(
        "{}",
        table(&[traffic::Outcome {
            kind: kind.name,
            strata: Ok(m.clone()),
            naive: None,
        }])
    );
    assert_eq!(
        m.failed(),
        0,
        "{name}: old code failed {:?}, new code failed {:?}",
        m.old.errors,
        m.new.errors
    );
    assert!(
        m.old.queries > 10,
        "{name}: old code ran {} queries",
        m.old.queries
    );
    assert!(
        m.new.queries > 2,
        "{name}: new code ran {} queries",
        m.new.queries
    );
}

macro_rules! kinds {
    ($($test:ident: $name:literal,)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                zero_failed($name).await;
            }
        )*

        #[test]
        fn every_kind_has_its_test() {
            let tested = [$($name),*];
            for kind in kinds() {
                assert!(tested.contains(&kind.name), "no test for {}", kind.name);
            }
            assert!(tested.len() >= 20);
        }
    };
}

kinds! {
    add_column_nullable: "add column (nullable)",
    add_column_with_default: "add column (with default)",
    add_column_not_null: "add column (NOT NULL with default)",
    drop_column_after_deploy: "drop column (after deploy)",
    rename_column: "rename column (renamed-from)",
    type_change: "type change int -> bigint",
    type_change_under_a_view: "type change under a view",
    add_index: "add index",
    add_unique_constraint: "add unique constraint",
    add_foreign_key: "add foreign key",
    add_check: "add CHECK",
    set_not_null: "SET NOT NULL",
    add_enum_value: "add enum value",
    rebuild_an_enum: "rebuild an enum (value removed)",
    change_a_view: "change a view's definition",
    change_a_function_body: "change a function's body",
    change_a_function_signature: "change a function's signature",
    add_a_trigger: "add a trigger",
    alter_a_trigger: "alter a trigger",
    add_a_policy: "add a policy",
    add_a_partition: "add a partition",
    change_a_default: "change a default",
    change_a_sequence: "change a sequence",
}

/// `make bench-online`: every kind (or those named in `TRAFFIC_KINDS`, comma separated) on
/// `TRAFFIC_ROWS` rows (default 1,000,000), strata and the naive statements; the table goes
/// to stderr and to `TRAFFIC_REPORT` when set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bench_online() {
    let rows = std::env::var("TRAFFIC_ROWS").map_or(1_000_000, |r| r.parse().unwrap());
    let only = std::env::var("TRAFFIC_KINDS").ok();
    let report = std::env::var("TRAFFIC_REPORT").ok();
    let started = std::time::Instant::now();
    let mut outcomes = Vec::new();
    for kind in kinds() {
        if only
            .as_ref()
            .is_some_and(|o| !o.split(',').any(|n| n.trim() == kind.name))
        {
            continue;
        }
        let at = std::time::Instant::now();
        outcomes.push(measure(&kind, rows, true).await);
        eprintln!(
            "{} measured in {:.0} s",
            kind.name,
            at.elapsed().as_secs_f64()
        );
        let text = format!(
            "{rows} rows, {:.0} s so far\n\n{}",
            started.elapsed().as_secs_f64(),
            table(&outcomes)
        );
        traffic::report(report.as_deref(), &text);
    }
    let text = table(&outcomes);
    eprintln!("{text}");
    for o in &outcomes {
        if let Ok(m) = &o.strata {
            eprintln!(
                "{}: slowest old {:.0} ms {}, new {:.0} ms {}",
                o.kind, m.old.worst_ms, m.old.worst_sql, m.new.worst_ms, m.new.worst_sql
            );
            if m.failed() > 0 {
                eprintln!("{}: old {:?} new {:?}", o.kind, m.old.errors, m.new.errors);
            }
        }
    }
}
