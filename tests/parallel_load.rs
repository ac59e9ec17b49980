//! Parallel SDL loads (`source::parallel`): the model and fingerprint read from a parallel
//! load equal those of the single-stream load, on every tests/diff_cases file and on the
//! benchmark generator's schemas; errors still point at file:line.

mod common;

use common::TestDb;
use std::path::{Path, PathBuf};
use strata::model::Schema;
use strata::source::sdl::Sdl;
use strata::source::{load, parallel};

const JOBS: usize = 4;

async fn read(db: &TestDb) -> Schema {
    let client = db.client().await;
    let config = strata::config::Config::parse(Path::new("."), "").unwrap();
    strata::catalog::catalog(&client, &config)
        .await
        .unwrap_or_else(|e| panic!("catalog of {}: {e:?}", db.name))
}

/// Loads `sdl` single-stream and over [`JOBS`] connections into two new databases; both
/// must succeed or fail alike, and read back as the same model. Returns the parallel stats.
async fn same_both_ways(name: &str, sdl: &Sdl) -> Result<Option<load::LoadStats>, String> {
    let (single, parallel) = (TestDb::new(), TestDb::new());
    let one = load::load(&single.client().await, sdl).await;
    let many = parallel::load(&parallel.conninfo, sdl, JOBS).await;
    let result = match (one, many) {
        (Ok(_), Ok(stats)) => {
            let (a, b) = (read(&single).await, read(&parallel).await);
            match common::model_difference(&a, &b, ("single stream", "parallel")) {
                Some(diff) => Err(format!("{name}: the models differ:\n{diff}")),
                None => Ok(Some(stats)),
            }
        }
        (Err(a), Err(b)) if a.to_string() == b.to_string() => Ok(None),
        (a, b) => Err(format!(
            "{name}: single stream {:?}, parallel {:?}",
            a.map(|_| ()).map_err(|e| e.to_string()),
            b.map(|_| ()).map_err(|e| e.to_string())
        )),
    };
    single.drop_now();
    parallel.drop_now();
    result
}

fn case_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diff_cases");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .flat_map(|dir| [dir.join("from.sql"), dir.join("to.sql")])
        .filter(|f| f.exists())
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_loads_read_back_as_the_single_stream_ones_on_every_diff_case() {
    let files = case_files();
    assert!(files.len() > 100, "the corpus is there");
    let mut failures = Vec::new();
    for chunk in files.chunks(4) {
        let handles: Vec<_> = chunk
            .iter()
            .cloned()
            .map(|file| {
                tokio::spawn(async move {
                    let text = std::fs::read_to_string(&file).unwrap();
                    let name = file.display().to_string();
                    match Sdl::from_text(&name, &text) {
                        Ok(sdl) => same_both_ways(&name, &sdl).await.map(|_| ()),
                        Err(_) => Ok(()),
                    }
                })
            })
            .collect();
        for h in handles {
            if let Err(e) = h.await.unwrap() {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn generate(tables: usize, variant: &str, mix: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strata-gen-schema"))
        .args([
            "--tables",
            &tables.to_string(),
            "--variant",
            variant,
            "--mix",
            mix,
        ])
        .output()
        .expect("run strata-gen-schema");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_loads_of_generated_schemas_read_back_as_the_single_stream_ones() {
    for (variant, mix) in [("base", "base"), ("changed", "base"), ("changed", "wide")] {
        let sdl = Sdl::from_text("schema.sql", &generate(300, variant, mix)).unwrap();
        let name = format!("{variant} {mix}");
        let stats = same_both_ways(&name, &sdl).await.unwrap().unwrap();
        // The generator writes in dependency order: nothing is left to the single stream.
        assert_eq!(stats.passes, 1, "{name}: {stats:?}");
    }
}

#[tokio::test]
async fn statements_in_reverse_order_load_in_parallel_like_in_one_stream() {
    let sdl = Sdl::from_text(
        "s.sql",
        "CREATE VIEW v AS SELECT * FROM t;\n\
         CREATE TABLE t (a int);\n\
         ALTER TABLE t ADD COLUMN b int;\n\
         CREATE TABLE u (id int PRIMARY KEY);\n\
         CREATE INDEX ON u (id);\n",
    )
    .unwrap();
    let stats = same_both_ways("reverse", &sdl).await.unwrap().unwrap();
    // The view and what waits on it went to the single stream, which needed two passes.
    assert_eq!((stats.statements, stats.passes, stats.deferred), (5, 3, 1));
}

#[tokio::test]
async fn an_error_in_a_parallel_load_points_at_its_file_and_line() {
    let sdl = Sdl::from_text(
        "bad.sql",
        "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n\nCREATE INDEX ON a (nope);\nCREATE TABLE c (id int);\n",
    )
    .unwrap();
    let db = TestDb::new();
    let error = parallel::load(&db.conninfo, &sdl, JOBS).await.unwrap_err();
    match error {
        strata::source::load::LoadError::Source(strata::source::SourceError::Sql {
            path,
            line,
            ..
        }) => {
            assert_eq!((path.as_str(), line), ("bad.sql", 4));
        }
        other => panic!("expected an error at file:line, got {other:?}"),
    }
    db.drop_now();
}

/// `STRATA_TIMINGS=1` (`strata::timings`) prints where a `diff` DB→SDL spent its time, per
/// phase and object kind, on stderr, and changes nothing on stdout.
#[test]
fn timings_split_a_diff_by_phase_and_object_kind_and_leave_stdout_alone() {
    const MANIFEST: &str = "[shadow]\nurl = \"env:STRATA_TEST_SHADOW_URL\"\n\n[targets.test]\nurl = \"env:STRATA_TEST_TARGET_URL\"\n";
    let p = common::project::Project::create(
        "strata-timings-",
        MANIFEST,
        "CREATE TABLE t (id int PRIMARY KEY, v text CHECK (v <> ''));\n\
         CREATE INDEX t_v ON t (v);\n\
         CREATE VIEW w AS SELECT id FROM t;\n",
    );
    let diff = |timed: bool| {
        let mut cmd = p.strata();
        cmd.args(["diff", "--from", &p.db.url, "--to"])
            .arg(p.root.join("schema"));
        if timed {
            cmd.env("STRATA_TIMINGS", "1");
        } else {
            cmd.env_remove("STRATA_TIMINGS");
        }
        cmd.output().expect("run strata diff")
    };
    let (plain, timed) = (diff(false), diff(true));
    assert_eq!(plain.status.code(), timed.status.code());
    assert_eq!(
        String::from_utf8_lossy(&plain.stdout),
        String::from_utf8_lossy(&timed.stdout)
    );
    assert!(String::from_utf8_lossy(&plain.stdout).contains("CREATE VIEW"));
    let plain_err = String::from_utf8_lossy(&plain.stderr);
    assert!(!plain_err.contains("strata timings"), "{plain_err}");
    let err = String::from_utf8_lossy(&timed.stderr);
    for line in [
        "strata timings",
        "\nload: ",
        "\n  table: ",
        "\n  index: ",
        "\n  view: ",
        "\nread: ",
        "\n  columns: ",
        "\n  constraints: ",
        "\nbuild: ",
        "\ndiff: ",
        "\n  views: ",
        "\n  ordering: ",
    ] {
        assert!(err.contains(line), "no {line:?} in:\n{err}");
    }
}
