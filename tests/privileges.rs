//! Least privilege: a deploy role that is no superuser, owns the application schema, and
//! has no CREATE on the database, with `[history] schema` naming a schema an administrator
//! created for it (docs/privileges.md).

mod common;

use common::project::Project;

const MANIFEST: &str = r#"
[shadow]
url = "env:STRATA_TEST_SHADOW_URL"

[targets.test]
url = "env:STRATA_TEST_TARGET_URL"

[history]
schema = "deploy_history"
"#;

const SCHEMA: &str =
    "CREATE SCHEMA app;\nCREATE TABLE app.items (id bigint PRIMARY KEY, name text NOT NULL);\n";

/// The target's URL with `role` instead of the superuser.
fn as_role(url: &str, role: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (_, host) = rest.split_once('@').unwrap();
    format!("{scheme}://{role}@{host}")
}

#[test]
fn a_deploy_role_without_create_on_the_database() {
    let p = Project::create("strata-privileges-", MANIFEST, SCHEMA);
    let role = format!("deployer_{}", p.db.name);
    p.db.psql(&format!(
        "CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE; \
         REVOKE ALL ON DATABASE {db} FROM PUBLIC; \
         GRANT CONNECT ON DATABASE {db} TO {role}; \
         CREATE SCHEMA app AUTHORIZATION {role}",
        db = p.db.name
    ));
    let target = as_role(&p.db.url, &role);
    let strata = || {
        let mut cmd = p.strata();
        cmd.env("STRATA_TEST_TARGET_URL", &target);
        cmd
    };
    let out = strata().arg("plan").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    let branch = stderr
        .lines()
        .find_map(|l| l.strip_prefix("committed pending.sql on branch "))
        .unwrap_or_else(|| panic!("plan made no branch: {stderr}"))
        .to_string();
    common::project::git(&p.root, &["merge", "-q", "--ff-only", &branch]);

    // No history schema yet, and the role may not create one: strata says what it needs.
    let out = strata().arg("run").output().unwrap();
    assert!(!out.status.success());
    // miette wraps lines; compare the words.
    let stderr = String::from_utf8_lossy(&out.stderr)
        .split_whitespace()
        .filter(|w| *w != "│")
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        stderr.contains("history schema `deploy_history` does not exist"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "CREATE SCHEMA deploy_history AUTHORIZATION {role}"
        )),
        "{stderr}"
    );
    assert_eq!(p.db.psql("SELECT to_regclass('app.items') IS NULL"), "t");

    // An administrator creates it once; the role then deploys, and nothing lands in `strata`.
    p.db.psql(&format!(
        "CREATE SCHEMA deploy_history AUTHORIZATION {role}"
    ));
    let out = strata().arg("run").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        p.db.psql(
            "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'app.items'::regclass"
        ),
        role
    );
    assert_eq!(
        p.db.psql(
            "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class \
             WHERE relnamespace = 'deploy_history'::regnamespace AND relkind = 'r'"
        ),
        "runs,snapshots,steps"
    );
    assert_eq!(
        p.db.psql("SELECT count(*) FROM pg_namespace WHERE nspname = 'strata'"),
        "0"
    );

    // The history schema is strata's, not the application's: no drift, nothing to plan.
    let out = strata().arg("status").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains("deploy_history"), "{stdout}");
}

#[test]
fn an_unusable_history_schema_name_is_refused() {
    let p = Project::create(
        "strata-privileges-",
        &MANIFEST.replace("deploy_history", "Pg Stuff"),
        SCHEMA,
    );
    let out = p.strata().arg("config").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot be the history schema"), "{stderr}");
}
