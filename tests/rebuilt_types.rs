//! Types built again through `strata plan` and `strata run` (issue 18, item 3): an enum
//! whose values are removed or reordered is rebuilt (renamed out of the way, created again,
//! its columns moved through their text form, the old one dropped); removing values needs
//! approval; the rows keep their values and the deployed code's queries never fail.

mod common;

use common::project::Project;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MANIFEST: &str = r#"
[shadow]
url = "env:STRATA_TEST_SHADOW_URL"

[deploy]
command = "true"

[targets.test]
url = "env:STRATA_TEST_TARGET_URL"
lock_timeout = "1s"
retries = 5
"#;

const V1: &str = "
CREATE TYPE visibility AS ENUM ('Public', 'LocalOnly', 'Private');
CREATE TABLE posts (id bigint PRIMARY KEY, visibility visibility NOT NULL DEFAULT 'Public');
CREATE VIEW public_posts AS SELECT id FROM posts WHERE visibility = 'Public';
";

const V2: &str = "
CREATE TYPE visibility AS ENUM ('Public', 'Private');
CREATE TABLE posts (id bigint PRIMARY KEY, visibility visibility NOT NULL DEFAULT 'Public');
CREATE VIEW public_posts AS SELECT id FROM posts WHERE visibility = 'Public';
";

/// The deployed code, over and over: through the view, on the column, and writing a row.
const OLD_CODE: [&str; 3] = [
    "SELECT count(*) FROM public_posts",
    "SELECT count(*) FROM posts WHERE visibility = 'Private'",
    "INSERT INTO posts SELECT coalesce(max(id), 0) + 1, 'Private' FROM posts",
];

async fn run_with_traffic(p: &Project, args: &'static [&'static str]) {
    let stop = Arc::new(AtomicBool::new(false));
    let client = p.db.client().await;
    let traffic = tokio::spawn({
        let stop = stop.clone();
        async move {
            let (mut ok, mut failed) = (0u32, Vec::new());
            let deadline = Instant::now() + Duration::from_secs(120);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                let query = OLD_CODE[(ok as usize + failed.len()) % OLD_CODE.len()];
                match client.simple_query(query).await {
                    Ok(_) => ok += 1,
                    Err(e) => failed.push(
                        e.as_db_error()
                            .map_or_else(|| e.to_string(), |d| d.message().to_string()),
                    ),
                }
            }
            (ok, failed)
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut run = p.strata();
    run.args(args);
    tokio::task::spawn_blocking(move || run.assert().success())
        .await
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    let (ok, failed) = traffic.await.unwrap();
    assert!(
        failed.is_empty(),
        "{} failed queries: {failed:?}",
        failed.len()
    );
    assert!(ok > 10, "only {ok} queries ran during the run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enum_value_removed_is_a_rebuild_that_needs_approval() {
    let p = Project::create("strata-enum-rebuild-", MANIFEST, V1);
    p.start();
    p.db.psql(
        "INSERT INTO posts SELECT g, CASE WHEN g % 2 = 0 THEN 'Public' ELSE 'Private' END::visibility FROM generate_series(1, 20000) g",
    );
    p.write("schema/app.sql", V2);
    p.commit_all("drop LocalOnly");
    p.plan_and_merge();
    let pending = p.pending();
    let contract = &pending[pending
        .find("-- ==== stage contract")
        .expect("a contract stage")..];
    for needle in [
        "ALTER TYPE public.visibility RENAME TO visibility__strata_old",
        "CREATE TYPE public.visibility AS ENUM ('Public', 'Private')",
        "visibility::text::public.visibility",
        "DROP TYPE public.visibility__strata_old",
    ] {
        assert!(
            contract.contains(needle),
            "{needle} not in contract:\n{pending}"
        );
    }
    // Removing a value needs approval.
    p.strata()
        .args(["run", "--git-commit"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("destructive"));
    run_with_traffic(&p, &["run", "--git-commit", "--allow-destructive"]).await;
    assert_eq!(
        p.db.psql("SELECT count(*) FILTER (WHERE visibility = 'Public') || '/' || count(*) FILTER (WHERE id <= 20000) FROM posts"),
        "10000/20000"
    );
    assert_eq!(
        p.db.psql("SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = 'visibility'::regtype"),
        "Public,Private"
    );
    p.strata()
        .arg("plan")
        .assert()
        .success()
        .stdout(predicates::str::contains("nothing to change"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enum_reordered_is_rebuilt_in_expand_without_approval() {
    let v1 = V1.replace(
        "('Public', 'LocalOnly', 'Private')",
        "('Private', 'Public', 'LocalOnly')",
    );
    let p = Project::create("strata-enum-reorder-", MANIFEST, &v1);
    p.start();
    p.db.psql("INSERT INTO posts SELECT g, 'Private' FROM generate_series(1, 5000) g");
    p.write("schema/app.sql", V1);
    p.commit_all("reorder");
    p.plan_and_merge();
    let pending = p.pending();
    let expand = &pending[..pending.find("-- ==== stage data").expect("a data stage")];
    assert!(
        expand.contains("ALTER TYPE public.visibility RENAME TO visibility__strata_old"),
        "{pending}"
    );
    run_with_traffic(&p, &["run", "--git-commit"]).await;
    assert_eq!(
        p.db.psql("SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = 'visibility'::regtype"),
        "Public,LocalOnly,Private"
    );
    assert_eq!(
        p.db.psql("SELECT count(*) FROM posts WHERE visibility = 'Private' AND id <= 5000"),
        "5000"
    );
}
