//! Parallel clones (`catalog::clone`, `[shadow] jobs` above 1): a dump of the target restored
//! over several connections reads back (model JSON and fingerprint) as the single-stream
//! restore of the same dump, on every tests/diff_cases from.sql loaded as a source database
//! and on the benchmark generator's schemas with owners and grants. A parallel restore that
//! fails is made again in one stream on a new database; a clone that fails outright leaves
//! no shadow database behind.

mod common;

use common::TestDb;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use strata::catalog::clone::{dump_source, restore, Dump, Dumper, Restore, Restored};
use strata::config::Config;
use strata::model::{quote_ident, quote_literal, Schema};
use strata::pg::shadow::ShadowDb;
use strata::pg::ConnInfo;
use strata::source::load;
use strata::source::sdl::Sdl;

const JOBS: usize = 4;
const OWNER: &str = "strata_pclone_owner";
const READER: &str = "strata_pclone_reader";

/// Owners are part of the dump and of the model, as with `[schema] owners = true`.
fn config(jobs: usize) -> Config {
    let manifest = format!("[schema]\nowners = true\n\n[shadow]\njobs = {jobs}\n");
    Config::parse(Path::new("."), &manifest).unwrap()
}

async fn read(db: &ConnInfo) -> Schema {
    let client = db.connect().await.unwrap();
    strata::catalog::catalog(&client, &config(1))
        .await
        .unwrap_or_else(|e| panic!("catalog of {db}: {e:?}"))
}

/// The dump restored over `jobs` connections into a new shadow database named for `purpose`.
async fn restored(
    source: &ConnInfo,
    (text, dumper): (&str, Dumper),
    jobs: usize,
    purpose: &str,
) -> Result<(ShadowDb, Restored), String> {
    let admin = common::admin_conninfo();
    let dump = Dump::parse(source, text.to_string(), dumper, jobs).await;
    assert_eq!(dump.is_parsed(), jobs > 1, "the dump of {source} parses");
    let shadow = ShadowDb::create(&admin, purpose)
        .await
        .map_err(|e| e.to_string())?;
    let to = Restore {
        source,
        admin: &admin,
        purpose,
        jobs,
    };
    restore(&to, dump, shadow).await.map_err(|e| e.to_string())
}

/// Dumps `source` once and restores the dump in one stream and over [`JOBS`] connections;
/// both must read back as the same model. Returns how the parallel one was restored.
async fn same_both_ways(name: &str, source: &ConnInfo) -> Result<Restored, String> {
    let major = strata::pg::clone::server_major(source).await.unwrap();
    let dumped = dump_source(source, major, &config(1), &quiet)
        .await
        .map_err(|e| format!("{name}: dump: {e}"))?;
    let dumped = (dumped.0.as_str(), dumped.1);
    let (single, _) = restored(source, dumped, 1, "pclone")
        .await
        .map_err(|e| format!("{name}: single stream: {e}"))?;
    let (parallel, how) = restored(source, dumped, JOBS, "pclone")
        .await
        .map_err(|e| format!("{name}: parallel: {e}"))?;
    let (a, b) = (read(&single.conninfo).await, read(&parallel.conninfo).await);
    let _ = single.drop_now().await;
    let _ = parallel.drop_now().await;
    match common::model_difference(&a, &b, ("single stream", "parallel")) {
        Some(diff) => Err(format!("{name}: the clones differ:\n{diff}")),
        None => Ok(how),
    }
}

fn quiet(_: &str) {}

/// Creates roles (cluster-wide) that other tests may be creating at the same time.
async fn create_roles(db: &TestDb, names: impl IntoIterator<Item = String>) {
    let client = db.client().await;
    for name in names {
        let create = format!("CREATE ROLE {}", quote_ident(&name));
        client
            .batch_execute(&format!(
                "DO $do$ BEGIN EXECUTE {}; EXCEPTION WHEN duplicate_object OR unique_violation \
                 THEN NULL; END $do$",
                quote_literal(&create)
            ))
            .await
            .unwrap_or_else(|e| panic!("creating role {name}: {e}"));
    }
}

fn case_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diff_cases");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("from.sql").exists())
        .filter(|p| {
            std::fs::read_to_string(p.join("min_major")).map_or(true, |m| {
                m.trim().parse::<u32>().unwrap() <= common::server_major()
            })
        })
        .collect();
    dirs.sort();
    dirs
}

/// from.sql of the case loaded into a new database (with the roles it grants to), cloned
/// both ways.
async fn clone_case(dir: PathBuf) -> Result<Option<Restored>, String> {
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let text = std::fs::read_to_string(dir.join("from.sql")).unwrap();
    let Ok(sdl) = Sdl::from_text("from.sql", &text) else {
        return Ok(None);
    };
    let source = TestDb::new();
    let roles: Vec<String> = std::fs::read_to_string(dir.join("roles"))
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect();
    create_roles(&source, roles).await;
    let result = match load::load(&source.client().await, &sdl).await {
        Ok(_) => same_both_ways(&name, &source.conninfo).await.map(Some),
        Err(_) => Ok(None),
    };
    source.drop_now();
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_clones_read_back_as_the_single_stream_ones_on_every_diff_case() {
    let started = Instant::now();
    let dirs = case_dirs();
    assert!(dirs.len() > 100, "the corpus is there");
    let (mut failures, mut parallel, mut loaded) = (Vec::new(), 0, 0);
    for chunk in dirs.chunks(4) {
        let handles: Vec<_> = chunk
            .iter()
            .cloned()
            .map(|dir| tokio::spawn(clone_case(dir)))
            .collect();
        for h in handles {
            match h.await.unwrap() {
                Ok(Some(how)) => {
                    loaded += 1;
                    parallel += usize::from(how == Restored::InParallel);
                }
                Ok(None) => {}
                Err(e) => failures.push(e),
            }
        }
    }
    eprintln!(
        "{loaded} of {} cases cloned both ways ({parallel} restored in parallel) in {:.1?}",
        dirs.len(),
        started.elapsed()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // A pg_dump restores in the order it was written: nothing falls back.
    assert_eq!(parallel, loaded);
}

fn generate(tables: usize, mix: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strata-gen-schema"))
        .args(["--tables", &tables.to_string(), "--mix", mix])
        .output()
        .expect("run strata-gen-schema");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// Owners other than the loading user on the billing schema and everything in it, and
/// grants to another role, so the dump holds `ALTER ... OWNER TO`, `GRANT` and
/// `ALTER DEFAULT PRIVILEGES`.
const OWNERS_AND_GRANTS: &str = "
GRANT USAGE ON SCHEMA app, billing TO strata_pclone_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA app TO strata_pclone_reader;
GRANT SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA app TO strata_pclone_reader;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA billing TO strata_pclone_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO strata_pclone_reader;
ALTER SCHEMA billing OWNER TO strata_pclone_owner;
DO $do$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.oid::regclass AS name FROM pg_class c
           WHERE c.relnamespace = 'billing'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
  LOOP
    EXECUTE format('ALTER TABLE %s OWNER TO strata_pclone_owner', r.name);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p
           WHERE p.pronamespace = 'billing'::regnamespace
  LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO strata_pclone_owner', r.name);
  END LOOP;
END
$do$;
";

/// A generated schema of `tables` tables with owners and grants, in a new database.
async fn generated_source(tables: usize, mix: &str) -> TestDb {
    let source = TestDb::new();
    create_roles(&source, [OWNER.to_string(), READER.to_string()]).await;
    let client = source.client().await;
    client
        .batch_execute(&generate(tables, mix))
        .await
        .unwrap_or_else(|e| panic!("loading the generated schema: {e}"));
    client.batch_execute(OWNERS_AND_GRANTS).await.unwrap();
    source
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_clones_of_generated_schemas_with_owners_and_grants_read_back_as_single_stream_ones(
) {
    for mix in ["base", "wide"] {
        let source = generated_source(150, mix).await;
        let how = same_both_ways(mix, &source.conninfo).await.unwrap();
        assert_eq!(how, Restored::InParallel, "{mix}");
        source.drop_now();
    }
}

/// Shadow databases on the test cluster made for `purpose`.
fn shadows_for(purpose: &str) -> Vec<String> {
    let names = common::psql(
        &common::admin_url(),
        &format!(
            "SELECT datname FROM pg_database WHERE datname LIKE 'strata\\_shadow\\_%\\_{purpose}' ORDER BY 1"
        ),
    );
    names.lines().map(String::from).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parallel_restore_that_fails_is_made_again_in_one_stream_on_a_new_database() {
    // The identity column's sequence takes the name `t_id_seq` when it is free: the graph
    // does not know that name (it is not written in the statement), so over two connections
    // the table, sent with `u` on the second one, is made while the first one still waits
    // on `slow`, before the explicit `t_id_seq` of the line before it, which then fails.
    let source = TestDb::new();
    let text = "CREATE TABLE public.slow AS SELECT 1 AS x FROM pg_sleep(1);\n\
                CREATE SEQUENCE public.t_id_seq;\n\
                CREATE TABLE public.t (id int GENERATED ALWAYS AS IDENTITY);\n\
                CREATE TABLE public.u (id int);\n";
    let dumped = (text, Dumper::PgDump);
    let (single, how) = restored(&source.conninfo, dumped, 1, "pcsingle")
        .await
        .unwrap();
    assert_eq!(how, Restored::InOneStream);
    let (parallel, how) = restored(&source.conninfo, dumped, 2, "pcagain")
        .await
        .unwrap();
    assert_eq!(how, Restored::AgainInOneStream);
    // The half-made database is gone; the one returned is the only one left.
    assert_eq!(shadows_for("pcagain"), vec![parallel.name.clone()]);
    let (a, b) = (read(&single.conninfo).await, read(&parallel.conninfo).await);
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    let owned: String = parallel
        .conninfo
        .connect()
        .await
        .unwrap()
        .query_one("SELECT pg_get_serial_sequence('public.t', 'id')", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(owned, "public.t_id_seq1");
    single.drop_now().await.unwrap();
    parallel.drop_now().await.unwrap();
    source.drop_now();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clone_that_fails_outright_leaves_no_shadow_database() {
    // pg_dump leaves out strata's own schema: a view on it cannot be restored, in parallel
    // or in one stream; psql's error names it.
    let source = TestDb::new();
    source.psql(
        "CREATE SCHEMA strata; CREATE TABLE strata.h (id int);\n\
         CREATE VIEW public.on_history AS SELECT id FROM strata.h;",
    );
    let major = strata::pg::clone::server_major(&source.conninfo)
        .await
        .unwrap();
    let (text, dumper) = dump_source(&source.conninfo, major, &config(JOBS), &quiet)
        .await
        .unwrap();
    let error = restored(&source.conninfo, (&text, dumper), JOBS, "pcfails")
        .await
        .unwrap_err();
    assert!(error.contains("strata.h"), "{error}");
    assert_eq!(shadows_for("pcfails"), Vec::<String>::new());
    // The same through clone_schema (a dump this small goes straight to the single stream).
    let error = strata::catalog::clone::clone_schema(
        &source.conninfo,
        &common::admin_conninfo(),
        "pcfails",
        &config(JOBS),
        &|_| {},
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(error.contains("strata.h"), "{error}");
    assert_eq!(shadows_for("pcfails"), Vec::<String>::new());
    source.drop_now();
}

/// How much of the dump's dependency graph can run at once: statements, barriers, the
/// longest chain, and which statements end it (to see what serialises the load).
fn graph_shape(text: &str) {
    let sdl = Sdl::from_dump("dump", strata::pg::clone::without_meta_commands(text)).unwrap();
    let items = load::all_items(&sdl);
    let start = Instant::now();
    let deps = strata::source::parallel::dependencies(&sdl, &items);
    let graph = start.elapsed();
    let mut depth = vec![0usize; items.len()];
    for i in 0..items.len() {
        depth[i] = 1 + deps[i].iter().map(|&d| depth[d]).max().unwrap_or(0);
    }
    let statement = |i: usize| &sdl.files[0].statements[items[i].1].statement;
    let barriers = (0..items.len())
        .filter(|&i| statement(i).targets.is_none())
        .count();
    let longest = depth.iter().copied().max().unwrap_or(0);
    eprintln!(
        "graph: {} statements, {barriers} barriers, longest chain {longest}, built in {:.2}s",
        items.len(),
        graph.as_secs_f64()
    );
    let mut at = depth.iter().position(|&d| d == longest).unwrap();
    for _ in 0..12 {
        let sql = &statement(at).sql;
        eprintln!("  {}", &sql[..sql.len().min(110)].replace('\n', " "));
        match deps[at].iter().max_by_key(|&&d| depth[d]) {
            Some(&d) => at = d,
            None => break,
        }
    }
}

/// Resident memory of this process, in MB (`/proc/self/status`).
fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// CPU seconds the test cluster's server has used, its exited backends included (the
/// postmaster's own and its reaped children's times, `/proc/<pid>/stat` fields 14-17).
fn server_cpu_seconds() -> f64 {
    let dir = common::psql(&common::admin_url(), "SHOW data_directory");
    let pid = std::fs::read_to_string(Path::new(&dir).join("postmaster.pid")).unwrap();
    let pid = pid.lines().next().unwrap().trim();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split(' ').collect();
    // Fields 14-17 of stat (utime, stime, cutime, cstime) are 12-15 after the name.
    let ticks: f64 = fields[11..15]
        .iter()
        .map(|f| f.parse::<f64>().unwrap())
        .sum();
    ticks / 100.0
}

/// Times a clone's parts at `STRATA_CLONE_BENCH_TABLES` tables (default 1000), mixes
/// `STRATA_CLONE_BENCH_MIXES` (default `base,wide`): pg_dump, the parse of its dump (and
/// the memory the parsed dump holds), and restores in one stream and over
/// `STRATA_CLONE_BENCH_JOBS` connections (default 2, the parse included), interleaved,
/// `STRATA_CLONE_BENCH_ROUNDS` rounds (default 3).
/// `cargo test --release --test parallel_clone clone_timings -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread")]
#[ignore]
async fn clone_timings() {
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or(default.to_string());
    let number = |name: &str, default: &str| env(name, default).parse::<usize>().unwrap();
    let tables = number("STRATA_CLONE_BENCH_TABLES", "1000");
    let jobs = number("STRATA_CLONE_BENCH_JOBS", "2");
    let rounds = number("STRATA_CLONE_BENCH_ROUNDS", "3");
    for mix in env("STRATA_CLONE_BENCH_MIXES", "base,wide").split(',') {
        let source = generated_source(tables, mix).await;
        let major = strata::pg::clone::server_major(&source.conninfo)
            .await
            .unwrap();
        let start = Instant::now();
        let (text, dumper) = dump_source(&source.conninfo, major, &config(1), &quiet)
            .await
            .unwrap();
        let dumped = start.elapsed();
        let (start, before) = (Instant::now(), rss_mb());
        let parsed = Dump::parse(&source.conninfo, text.clone(), dumper, jobs).await;
        let (parse, held) = (start.elapsed(), rss_mb() - before);
        assert!(parsed.is_parsed());
        drop(parsed);
        graph_shape(&text);
        let (mut one, mut many) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            for (jobs, times) in [(1, &mut one), (jobs, &mut many)] {
                let (start, cpu) = (Instant::now(), server_cpu_seconds());
                let (shadow, how) = restored(&source.conninfo, (&text, dumper), jobs, "pcbench")
                    .await
                    .unwrap();
                let took = start.elapsed();
                assert_ne!(how, Restored::AgainInOneStream);
                shadow.drop_now().await.unwrap();
                // The backends' CPU counts once they have exited and been reaped.
                tokio::time::sleep(Duration::from_millis(300)).await;
                times.push((took, server_cpu_seconds() - cpu));
            }
        }
        let show = |t: &[(Duration, f64)]| {
            t.iter()
                .map(|(d, cpu)| format!("{:.2}s (server CPU {cpu:.2}s)", d.as_secs_f64()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        eprintln!(
            "{tables} tables, mix {mix}: dump {:.1} MB, pg_dump {:.2}s, parse {:.2}s holding {held:.0} MB; \
             restore jobs=1: {}; jobs={jobs} (parse included): {}",
            text.len() as f64 / 1e6,
            dumped.as_secs_f64(),
            parse.as_secs_f64(),
            show(&one),
            show(&many)
        );
        source.drop_now();
    }
}
