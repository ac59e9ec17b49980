//! One pending.sql rolled out across two targets, `test` then `prod` (two databases of the
//! test cluster), in a real git repository with a bare origin: `plan` refuses to replace it
//! half way (unless `--supersede`), `check` passes where it already ran, `status` shows the
//! rollout, and only the run on the last target removes the file.

mod common;

use common::project::{git, Project};
use common::TestDb;
use predicates::str::contains;

const MANIFEST: &str = r#"
default_target = "test"

[shadow]
url = "env:STRATA_TEST_SHADOW_URL"

[targets.test]
url = "env:STRATA_TEST_TARGET_URL"

[targets.prod]
url = "env:STRATA_TEST_PROD_URL"

[rollout]
targets = ["test", "prod"]
"#;

const V1: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n";
const V2: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text);\n";

struct Rollout {
    p: Project,
    prod: TestDb,
}

impl Rollout {
    fn new() -> Rollout {
        Rollout {
            p: Project::create("strata-rollout-", MANIFEST, V1),
            prod: TestDb::new(),
        }
    }

    fn strata(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = self.p.strata();
        cmd.env("STRATA_TEST_PROD_URL", &self.prod.url).args(args);
        cmd
    }

    fn plan_branches(&self) -> usize {
        git(&self.p.root, &["branch", "--list", "change-schema-*"])
            .lines()
            .count()
    }

    fn has_pending(&self) -> bool {
        self.p.root.join("pending.sql").exists()
    }
}

fn stdout(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&out.get_output().stdout).to_string()
}

fn stderr(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&out.get_output().stderr).to_string()
}

#[test]
fn a_pending_sql_rolls_out_to_test_then_prod_and_a_second_change_waits_or_supersedes() {
    let r = Rollout::new();
    let log_before = git(&r.p.root, &["log", "--oneline"]).lines().count();
    r.p.plan_and_merge();
    let first = r.p.pending();

    // test runs it: pending.sql stays for prod, no removal commit.
    let out = r
        .strata(&["run", "--target", "test", "--git-commit"])
        .assert()
        .success();
    assert!(
        stderr(&out)
            .contains("pending.sql stays for the rest of its rollout (nothing to commit): prod"),
        "{}",
        stderr(&out)
    );
    assert!(r.has_pending());
    assert_eq!(r.p.pending(), first);
    let log = git(&r.p.root, &["log", "--oneline"]);
    assert_eq!(log.lines().count(), log_before + 1, "{log}");
    assert!(!log.contains("strata: ran"), "{log}");

    // check on test: it ran there, prod is still to run it: passes.
    let out = r.strata(&["check", "--target", "test"]).assert().success();
    assert!(
        stdout(&out).contains("already ran on this target (test)"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("prod (not run)"), "{}", stdout(&out));

    // status on test lists the rollout; with prod's URL unset, prod is unreachable, not a failure.
    let out = r.strata(&["status", "--target", "test"]).assert().success();
    assert!(
        stdout(&out).contains("rollout:            test: ran, prod: not run"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("already applied on this target; still to run it: prod"),
        "{}",
        stdout(&out)
    );
    let out = r
        .strata(&["status", "--target", "test"])
        .env_remove("STRATA_TEST_PROD_URL")
        .assert()
        .success();
    assert!(
        stdout(&out).contains("prod: unreachable: environment variable STRATA_TEST_PROD_URL"),
        "{}",
        stdout(&out)
    );

    // A second change, planned before prod ran the first: refused, naming prod; nothing made.
    r.p.write("schema/app.sql", V2);
    r.p.commit_all("users get a name");
    let branches = r.plan_branches();
    let out = r.strata(&["plan"]).assert().code(1);
    assert!(
        stderr(&out).contains("targets still to run it: prod (not run)"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("--supersede"), "{}", stderr(&out));
    assert_eq!(r.plan_branches(), branches);
    assert_eq!(r.p.pending(), first);
    let out = r.strata(&["plan", "--format", "json"]).assert().code(1);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["changes"], false, "{json}");
    assert_eq!(json["rollout"][1]["target"], "prod", "{json}");
    assert_eq!(json["rollout"][1]["state"], "not_run", "{json}");
    assert_eq!(json["rollout"][0]["state"], "ran", "{json}");
    // Unreachable prod: may have run it or not, so refused too.
    r.strata(&["plan", "--no-git"])
        .env_remove("STRATA_TEST_PROD_URL")
        .assert()
        .code(1)
        .stderr(contains("prod (unreachable"));
    assert_eq!(r.p.pending(), first);

    // --supersede: the new plan starts from test's schema (the first change already there).
    let out = r.strata(&["plan", "--supersede"]).assert().success();
    assert!(
        stderr(&out).contains(
            "superseding pending.sql part way through its rollout (test: ran, prod: not run)"
        ),
        "{}",
        stderr(&out)
    );
    let branch = stderr(&out)
        .lines()
        .find_map(|l| l.strip_prefix("committed pending.sql on branch "))
        .unwrap()
        .to_string();
    git(&r.p.root, &["merge", "-q", "--ff-only", &branch]);
    let second = r.p.pending();
    assert_ne!(second, first);
    assert!(second.contains("ADD COLUMN name"), "{second}");
    assert!(!second.contains("CREATE TABLE"), "{second}");

    // prod never ran the first plan: it is not at the second's source and refuses it.
    r.strata(&["run", "--target", "prod", "--git-commit"])
        .assert()
        .failure();
    assert!(r.has_pending());

    // Caught up with the first plan from git history, prod runs the second, and removes it.
    r.strata(&["run", "--target", "test", "--git-commit"])
        .assert()
        .success();
    assert!(r.has_pending());
    r.strata(&["check", "--target", "test"]).assert().success();
    std::fs::write(r.p.root.join("pending.sql"), &first).unwrap();
    r.strata(&["run", "--target", "prod"])
        .assert()
        .success()
        .stderr(contains(
            "prod is the last target of the rollout: remove pending.sql",
        ));
    git(&r.p.root, &["checkout", "pending.sql"]);
    assert_eq!(r.p.pending(), second);
    let out = r
        .strata(&["run", "--target", "prod", "--git-commit"])
        .assert()
        .success();
    assert!(
        stderr(&out).contains("removed pending.sql in a commit"),
        "{}",
        stderr(&out)
    );
    assert!(!r.has_pending());
    let last = git(&r.p.root, &["log", "-1", "--format=%s"]);
    assert_eq!(last, "strata: ran pending.sql on prod");
    assert!(r.prod.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'name'").contains('1'));

    // With the file gone and both targets at schema/, a new plan has nothing to change.
    r.strata(&["plan", "--no-git", "--target", "prod"])
        .assert()
        .success()
        .stdout(contains("nothing to change"));
}

/// When every target ran it, check says to remove it (exit 1); a plan no target ran yet is
/// replaced without --supersede (the new one starts where every target still is).
#[test]
fn a_finished_rollout_asks_for_removal_and_an_unstarted_plan_is_replaced_freely() {
    let r = Rollout::new();
    r.p.plan_and_merge();
    let first = r.p.pending();
    r.p.write("schema/app.sql", V2);
    r.p.commit_all("users get a name");
    r.strata(&["plan", "--no-git"]).assert().success();
    assert_ne!(r.p.pending(), first);
    assert!(r.p.pending().contains("CREATE TABLE"), "{}", r.p.pending());
    git(&r.p.root, &["checkout", "pending.sql"]);
    r.p.write("schema/app.sql", V1);
    r.p.commit_all("back to v1");

    r.strata(&["run", "--target", "test"]).assert().success();
    r.strata(&["run", "--target", "prod"]).assert().success();
    let out = r.strata(&["check", "--target", "prod"]).assert().code(1);
    assert!(
        stdout(&out).contains("already ran on this target (prod) and on every target of its rollout (test: ran, prod: ran): remove it"),
        "{}",
        stdout(&out)
    );
    // `--git-commit` on test, not the rollout's last target, removes nothing.
    r.strata(&["run", "--target", "test", "--git-commit"])
        .assert()
        .success()
        .stderr(contains("stays for the rest of its rollout"));
    assert!(r.has_pending());

    // A target outside the rollout: --git-commit is refused before anything runs.
    let manifest = MANIFEST.replace(
        "[targets.prod]",
        "[targets.staging]\nurl = \"env:STRATA_TEST_TARGET_URL\"\n\n[targets.prod]",
    );
    r.p.write("pipeline.toml", &manifest);
    r.p.commit_all("a staging target");
    r.strata(&["run", "--target", "staging", "--git-commit"])
        .assert()
        .code(1)
        .stderr(contains("strata::run::not_in_rollout"))
        .stderr(contains("not in the rollout"));
    assert!(r.has_pending());
}

/// Targets whose URLs come from one variable set per CI job (`env:DATABASE_URL`, as in the
/// GitHub template): from test's job, prod's URL names test's database, so prod's history
/// cannot be read there: unreachable, and check on test still passes after test ran it.
#[test]
fn targets_sharing_one_url_variable_are_not_read_as_each_other() {
    let r = Rollout::new();
    let shared = MANIFEST.replace("env:STRATA_TEST_PROD_URL", "env:STRATA_TEST_TARGET_URL");
    r.p.write("pipeline.toml", &shared);
    r.p.commit_all("one URL variable");
    r.p.plan_and_merge();
    r.strata(&["run", "--target", "test", "--git-commit"])
        .assert()
        .success();
    assert!(r.has_pending());
    let out = r.strata(&["check", "--target", "test"]).assert().success();
    assert!(
        stdout(&out).contains("prod (unreachable: its URL names the same database as test's here"),
        "{}",
        stdout(&out)
    );
    r.strata(&["plan", "--no-git"])
        .assert()
        .code(1)
        .stderr(contains("targets still to run it: prod (unreachable"));
}
