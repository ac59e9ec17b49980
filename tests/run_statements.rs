//! Executing planned statements on real PostgreSQL: lock timeouts and retries, concurrent
//! index builds and their invalid leftovers, progress recorded in the same transaction.

mod common;

use common::TestDb;
use std::time::Duration;
use strata::config::{LockTimeout, StatementTimeout};
use strata::model::{Name, Namespace, Schema};
use strata::plan::PlannedStatement;
use strata::run::history::{self, Step};
use strata::run::statements::{run_alone, run_in_transaction, ExecError, ExecPolicy};

fn statement(sql: &str, transactional: bool) -> PlannedStatement {
    PlannedStatement {
        sql: sql.into(),
        hazards: vec![],
        transactional,
        line: 0,
    }
}

fn policy(retries: u32) -> ExecPolicy {
    ExecPolicy {
        lock_timeout: LockTimeout(Duration::from_millis(150)),
        statement_timeout: StatementTimeout(Duration::ZERO),
        retries,
        backoff: Duration::from_millis(100),
    }
}

/// Holds an ACCESS EXCLUSIVE lock on `table` for `hold` in another session.
async fn hold_lock(db: &TestDb, table: &str, hold: Duration) -> tokio::task::JoinHandle<()> {
    let mut client = db.client().await;
    let table = table.to_string();
    let (locked_tx, locked_rx) = tokio::sync::oneshot::channel();
    let handle = tokio::spawn(async move {
        let tx = client.transaction().await.unwrap();
        tx.batch_execute(&format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
            .await
            .unwrap();
        locked_tx.send(()).unwrap();
        tokio::time::sleep(hold).await;
        tx.commit().await.unwrap();
    });
    locked_rx.await.unwrap();
    handle
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_not_granted_is_retried_until_it_is() {
    let db = TestDb::new();
    db.psql("CREATE TABLE t (id int)");
    let holder = hold_lock(&db, "t", Duration::from_millis(700)).await;
    let mut client = db.client().await;
    history::ensure_tables(&client).await.unwrap();
    let step = Step {
        plan_id: "p1".into(),
        name: "expand#0".into(),
        failpoints: false,
    };
    let add = statement("ALTER TABLE t ADD COLUMN a int", true);
    run_in_transaction(&mut client, &[&add], &policy(10), Some(&step))
        .await
        .unwrap();
    holder.await.unwrap();
    assert_eq!(db.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 't' AND column_name = 'a'"), "1");
    let done = history::steps(&client, "p1").await.unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].name, "expand#0");
    assert_eq!(done[0].state, history::StepState::Done);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn giving_up_on_a_lock_applies_and_records_nothing() {
    let db = TestDb::new();
    db.psql("CREATE TABLE t (id int)");
    let holder = hold_lock(&db, "t", Duration::from_millis(1500)).await;
    let mut client = db.client().await;
    history::ensure_tables(&client).await.unwrap();
    let step = Step {
        plan_id: "p2".into(),
        name: "expand#0".into(),
        failpoints: false,
    };
    let first = statement("CREATE TABLE other (id int)", true);
    let add = statement("ALTER TABLE t ADD COLUMN a int", true);
    let err = run_in_transaction(&mut client, &[&first, &add], &policy(1), Some(&step))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ExecError::LockNotGranted { attempts: 2, .. }),
        "{err:?}"
    );
    holder.await.unwrap();
    assert_eq!(
        db.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'other'"),
        "0"
    );
    assert!(history::steps(&client, "p2").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_failed_concurrent_build_leaves_no_invalid_index() {
    let db = TestDb::new();
    db.psql("CREATE TABLE u (email text); INSERT INTO u VALUES ('a'), ('a')");
    let client = db.client().await;
    let build = statement(
        "CREATE UNIQUE INDEX CONCURRENTLY u_email_key ON u (email)",
        false,
    );
    let err = run_alone(
        &client,
        &build,
        &policy(2),
        StatementTimeout(Duration::ZERO),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("could not create unique index"),
        "{err}"
    );
    assert_eq!(
        db.psql("SELECT count(*) FROM pg_class WHERE relname = 'u_email_key'"),
        "0"
    );

    // A leftover from a build killed elsewhere is dropped before building again.
    let leftover = std::process::Command::new("psql")
        .args([
            db.url.as_str(),
            "-XAtqc",
            "CREATE UNIQUE INDEX CONCURRENTLY u_email_key ON u (email)",
        ])
        .output()
        .unwrap();
    assert!(!leftover.status.success());
    assert_eq!(
        db.psql("SELECT indisvalid FROM pg_index WHERE indexrelid = 'u_email_key'::regclass"),
        "f"
    );
    db.psql("DELETE FROM u WHERE ctid = (SELECT max(ctid) FROM u)");
    assert!(run_alone(
        &client,
        &build,
        &policy(2),
        StatementTimeout(Duration::ZERO)
    )
    .await
    .unwrap());
    assert_eq!(
        db.psql("SELECT indisvalid FROM pg_index WHERE indexrelid = 'u_email_key'::regclass"),
        "t"
    );
    // Built already (an interrupted run that is resumed): nothing to do.
    assert!(!run_alone(
        &client,
        &build,
        &policy(2),
        StatementTimeout(Duration::ZERO)
    )
    .await
    .unwrap());
}

#[tokio::test]
async fn snapshots_are_stored_and_read_back() {
    let db = TestDb::new();
    let client = db.client().await;
    assert!(history::last_snapshot(&client).await.unwrap().is_none());
    history::ensure_tables(&client).await.unwrap();
    let empty = Schema::default();
    let mut one_schema = Schema::default();
    let name = Name::from("app");
    one_schema.schemas.insert(
        name.clone(),
        Namespace {
            name,
            owner: None,
            comment: Some("it's the app's".into()),
            grants: Default::default(),
        },
    );
    history::store_snapshot(&client, "sha256:1", &empty, None)
        .await
        .unwrap();
    history::store_snapshot(&client, "sha256:2", &one_schema, Some("p"))
        .await
        .unwrap();
    let last = history::last_snapshot(&client).await.unwrap().unwrap();
    assert_eq!(last.fingerprint, "sha256:2");
    let read_back = history::snapshot_model(&client, &last).await.unwrap();
    assert_eq!(read_back, Some(one_schema));
    // A snapshot that is not this version's model (another strata version stored it).
    client
        .batch_execute(r#"UPDATE strata.snapshots SET snapshot = '{"a": 2}'"#)
        .await
        .unwrap();
    assert_eq!(history::snapshot_model(&client, &last).await.unwrap(), None);
    assert!(history::last_snapshot(&client).await.unwrap().is_some());
}
