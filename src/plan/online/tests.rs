//! Pure tests of the online rewriting pass: hand-built models through `diff` and `online`.

use super::*;
use crate::diff::diff;
use crate::model::*;
use std::time::Duration;

fn q(name: &str) -> QualifiedName {
    QualifiedName::new("public", name)
}

fn column(name: &str, data_type: &str, not_null: bool) -> Column {
    Column {
        name: name.into(),
        data_type: data_type.into(),
        collation: None,
        default: None,
        not_null,
        identity: None,
        generated: None,
        generated_virtual: false,
        local: true,
        comment: None,
        grants: Grants::new(),
    }
}

fn constraint(name: &str, kind: ConstraintKind, definition: &str, columns: &[&str]) -> Constraint {
    Constraint {
        name: name.into(),
        kind,
        definition: definition.into(),
        columns: columns.iter().map(|c| (*c).into()).collect(),
        references: None,
        validated: true,
        deferrable: false,
        initially_deferred: false,
        local: true,
        comment: None,
        index_options: Vec::new(),
        index_parent: None,
    }
}

fn table(name: &str, columns: &[Column], constraints: &[Constraint]) -> Table {
    Table {
        name: q(name),
        columns: columns
            .iter()
            .map(|c| (c.name.clone(), c.clone()))
            .collect(),
        column_order: ColumnOrder(columns.iter().map(|c| c.name.clone()).collect()),
        constraints: constraints
            .iter()
            .map(|c| (c.name.clone(), c.clone()))
            .collect(),
        unlogged: false,
        partition_by: None,
        partition_of: None,
        inherits: vec![],
        options: vec![],
        rls_enabled: false,
        rls_forced: false,
        replica_identity: ReplicaIdentity::Default,
        owner: None,
        comment: None,
        grants: Grants::new(),
    }
}

fn schema(tables: &[Table], indexes: &[Index]) -> Schema {
    let mut s = Schema::default();
    for t in tables {
        s.tables.insert(t.name.clone(), t.clone());
    }
    for i in indexes {
        s.indexes.insert(i.name.clone(), i.clone());
    }
    s
}

fn index(name: &str, table: &str, cols: &str) -> Index {
    Index {
        name: q(name),
        table: q(table),
        definition: format!("CREATE INDEX {name} ON public.{table} USING btree ({cols})"),
        unique: false,
        parent: None,
        comment: None,
    }
}

fn users(extra: &[Column], constraints: &[Constraint]) -> Table {
    let mut columns = vec![column("id", "bigint", true), column("email", "text", false)];
    columns.extend(extra.iter().cloned());
    let mut all = vec![constraint(
        "users_pkey",
        ConstraintKind::PrimaryKey,
        "PRIMARY KEY (id)",
        &["id"],
    )];
    all.extend(constraints.iter().cloned());
    table("users", &columns, &all)
}

/// (sql, transactional, hazard ids) of the rewritten plan.
fn plan(from: &Schema, to: &Schema, renames: &Renames) -> Vec<(String, bool, Vec<&'static str>)> {
    online(diff(from, to).unwrap(), from, to, renames)
        .into_iter()
        .map(|c| {
            (
                c.sql(),
                c.transactional,
                c.hazards.iter().map(|h| h.kind.id()).collect(),
            )
        })
        .collect()
}

fn sqls<'a>(steps: &'a [(String, bool, Vec<&'static str>)]) -> Vec<&'a str> {
    steps.iter().map(|s| s.0.as_str()).collect()
}

#[test]
fn an_index_on_an_existing_table_is_built_concurrently() {
    let from = schema(&[users(&[], &[])], &[]);
    let to = schema(
        &[users(&[], &[])],
        &[index("users_email_idx", "users", "email")],
    );
    let steps = plan(&from, &to, &Renames::default());
    assert_eq!(
        steps,
        vec![(
            "CREATE INDEX CONCURRENTLY users_email_idx ON public.users USING btree (email)".into(),
            false,
            vec![]
        )]
    );
    // And dropped concurrently.
    let steps = plan(&to, &from, &Renames::default());
    assert_eq!(
        steps,
        vec![(
            "DROP INDEX CONCURRENTLY IF EXISTS public.users_email_idx".into(),
            false,
            vec![]
        )]
    );
}

#[test]
fn an_index_on_a_new_table_is_not_concurrent() {
    let to = schema(
        &[users(&[], &[])],
        &[index("users_email_idx", "users", "email")],
    );
    let steps = plan(&Schema::default(), &to, &Renames::default());
    let create = steps
        .iter()
        .find(|s| s.0.contains("users_email_idx"))
        .unwrap();
    assert!(
        create.0.starts_with("CREATE INDEX users_email_idx"),
        "{create:?}"
    );
    assert!(create.1);
    assert!(steps.iter().all(|s| s.1), "{steps:?}");
}

#[test]
fn a_foreign_key_is_added_not_valid_then_validated_alone() {
    let orgs = table("orgs", &[column("id", "bigint", true)], &[]);
    let mut fk = constraint(
        "users_org_fkey",
        ConstraintKind::ForeignKey,
        "FOREIGN KEY (org_id) REFERENCES orgs(id)",
        &["org_id"],
    );
    fk.references = Some(q("orgs"));
    let from = schema(
        &[
            orgs.clone(),
            users(&[column("org_id", "bigint", false)], &[]),
        ],
        &[],
    );
    let to = schema(
        &[orgs, users(&[column("org_id", "bigint", false)], &[fk])],
        &[],
    );
    let steps = plan(&from, &to, &Renames::default());
    assert_eq!(
        steps,
        vec![
            (
                "ALTER TABLE public.users ADD CONSTRAINT users_org_fkey FOREIGN KEY (org_id) REFERENCES orgs(id) NOT VALID".into(),
                true,
                vec![]
            ),
            (
                "ALTER TABLE public.users VALIDATE CONSTRAINT users_org_fkey".into(),
                false,
                vec!["full_table_validation", "may_fail_on_data"]
            ),
        ]
    );
}

#[test]
fn a_check_on_a_new_table_stays_plain() {
    let check = constraint(
        "users_email_check",
        ConstraintKind::Check,
        "CHECK ((email <> ''::text))",
        &["email"],
    );
    let to = schema(&[users(&[], &[check])], &[]);
    let steps = plan(&Schema::default(), &to, &Renames::default());
    assert!(
        steps.iter().all(|s| !s.0.contains("NOT VALID") && s.1),
        "{steps:?}"
    );
}

#[test]
fn set_not_null_goes_through_a_validated_check() {
    let from = schema(&[users(&[], &[])], &[]);
    let mut t = users(&[], &[]);
    t.columns.get_mut("email").unwrap().not_null = true;
    let to = schema(&[t], &[]);
    let steps = plan(&from, &to, &Renames::default());
    assert_eq!(
        sqls(&steps),
        vec![
            "ALTER TABLE public.users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID",
            "ALTER TABLE public.users VALIDATE CONSTRAINT users_email_not_null",
            "ALTER TABLE public.users ALTER COLUMN email SET NOT NULL",
            "ALTER TABLE public.users DROP CONSTRAINT users_email_not_null",
        ]
    );
    assert_eq!(
        steps.iter().map(|s| s.1).collect::<Vec<_>>(),
        vec![true, false, true, true]
    );
}

#[test]
fn a_unique_constraint_is_attached_to_a_concurrent_index() {
    let from = schema(&[users(&[], &[])], &[]);
    let unique = constraint(
        "users_email_key",
        ConstraintKind::Unique,
        "UNIQUE (email)",
        &["email"],
    );
    let to = schema(&[users(&[], &[unique])], &[]);
    let steps = plan(&from, &to, &Renames::default());
    assert_eq!(
        steps,
        vec![
            (
                "CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON public.users (email)".into(),
                false,
                vec!["may_fail_on_data"]
            ),
            (
                "ALTER TABLE public.users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key".into(),
                true,
                vec![]
            ),
        ]
    );
}

#[test]
fn temporary_names_fit_in_63_bytes_and_are_stable() {
    let long = "a".repeat(60);
    let name = temp_name(&[&long, "column_with_a_long_name"], "not_null");
    assert!(name.len() <= 63, "{name}");
    assert!(name.ends_with("_not_null"), "{name}");
    assert_eq!(
        name,
        temp_name(&[&long, "column_with_a_long_name"], "not_null")
    );
    assert_ne!(
        name,
        temp_name(&[&long, "column_with_a_long_nam2"], "not_null")
    );
    assert_eq!(temp_name(&["t", "c"], "not_null"), "t_c_not_null");
    let multibyte = "é".repeat(40);
    assert!(temp_name(&[&multibyte], "x").len() <= 63);
}

fn renamed(mode: RenameMode) -> Renames {
    let mut r = Renames::new(mode);
    r.add_column(q("users"), "mail", "email");
    r
}

#[test]
fn a_rename_expands_with_a_sync_trigger_and_a_backfill() {
    let from = schema(&[users(&[], &[])], &[]);
    let mut t = users(&[], &[]);
    let mut mail = t.columns.remove("email").unwrap();
    mail.name = "mail".into();
    mail.not_null = true;
    t.columns.insert("mail".into(), mail);
    let to = schema(&[t], &[]);
    let changes = online(
        diff(&from, &to).unwrap(),
        &from,
        &to,
        &renamed(RenameMode::ExpandContract),
    );
    let expand: Vec<&Change> = changes
        .iter()
        .filter(|c| c.phase == crate::diff::Phase::Expand)
        .collect();
    assert_eq!(
        expand[0].sql(),
        "ALTER TABLE public.users ADD COLUMN mail text"
    );
    assert!(expand[1]
        .sql()
        .starts_with("CREATE FUNCTION public.users_mail_strata_sync() RETURNS trigger"));
    assert!(expand[1].sql().contains("NEW.email := NEW.mail;"));
    assert!(expand[2].sql().starts_with(
        "CREATE TRIGGER users_mail_strata_sync BEFORE INSERT OR UPDATE ON public.users"
    ));
    assert!(
        expand[3].sql().starts_with("DO $strata$"),
        "{}",
        expand[3].sql()
    );
    assert!(
        expand[3].sql().contains("ORDER BY id LIMIT 1000) b;"),
        "{}",
        expand[3].sql()
    );
    assert!(
        expand[3]
            .sql()
            .contains("COMMIT;\n    PERFORM pg_sleep(0.010);"),
        "{}",
        expand[3].sql()
    );
    assert_eq!(
        expand[3].hazards[0].detail,
        "updates every row of public.users, 1000 rows per transaction, 10 ms pause after each"
    );
    assert!(!expand[3].transactional);
    let contract: Vec<String> = changes
        .iter()
        .filter(|c| c.phase == crate::diff::Phase::Contract)
        .map(|c| c.sql())
        .collect();
    assert_eq!(
        contract[..3],
        [
            "DROP TRIGGER users_mail_strata_sync ON public.users",
            "DROP FUNCTION public.users_mail_strata_sync()",
            "ALTER TABLE public.users DROP COLUMN email",
        ]
    );
    // The old column's data lives on: not destructive.
    assert!(changes.iter().all(|c| !c.is_destructive()));
}

#[test]
fn plain_rename_mode_renames_in_place() {
    let from = schema(&[users(&[], &[])], &[]);
    let mut t = users(&[], &[]);
    let mut mail = t.columns.remove("email").unwrap();
    mail.name = "mail".into();
    t.columns.insert("mail".into(), mail);
    let to = schema(&[t], &[]);
    let r = renamed(RenameMode::Rename);
    let renames = plain_renames(&from, &to, &r);
    assert_eq!(renames.len(), 1);
    assert_eq!(
        renames[0].sql(),
        "ALTER TABLE public.users RENAME COLUMN email TO mail"
    );
    assert_eq!(renames[0].hazards[0].kind, BACKWARD_INCOMPATIBLE);
    // No rename is left once done, and expand-contract mode leaves columns alone.
    assert!(plain_renames(&to, &to, &r).is_empty());
    assert!(plain_renames(&from, &to, &renamed(RenameMode::ExpandContract)).is_empty());
}

#[test]
fn every_hazard_is_documented() {
    let doc = include_str!("../../../docs/hazards.md");
    for kind in crate::diff::hazard::ALL {
        assert!(
            doc.contains(&format!("| `{}` |", kind.id())),
            "docs/hazards.md has no row for {}",
            kind.id()
        );
    }
}

#[test]
fn a_drop_before_the_deploy_is_backward_incompatible() {
    use crate::plan::stage::{schema_stage, MigrationDdl};
    let from = schema(&[users(&[column("nickname", "text", false)], &[])], &[]);
    let to = schema(&[users(&[], &[])], &[]);
    let none = MigrationDdl::default();
    let all = schema_stage(
        &from,
        &to,
        crate::config::Phase::All,
        &none,
        &Renames::default(),
        None,
    )
    .unwrap();
    assert_eq!(all.len(), 1);
    assert!(all[0].hazards.contains(&BACKWARD_INCOMPATIBLE), "{all:?}");
    let contract = schema_stage(
        &from,
        &to,
        crate::config::Phase::Contract,
        &none,
        &Renames::default(),
        None,
    )
    .unwrap();
    assert_eq!(contract[0].hazards, vec![DESTRUCTIVE]);
}

#[test]
fn a_rewriting_type_change_goes_through_a_new_column_and_a_swap() {
    let mut score = column("score", "integer", true);
    score.default = Some("0".into());
    let from = schema(&[users(&[score.clone()], &[])], &[]);
    score.data_type = "bigint".into();
    let to = schema(&[users(&[score], &[])], &[]);
    let steps = plan(&from, &to, &Renames::default());
    let sql = sqls(&steps);
    assert_eq!(
        sql[0],
        "ALTER TABLE public.users ADD COLUMN users_score_strata_new bigint"
    );
    assert!(
        sql[1].contains("NEW.users_score_strata_new := NEW.score::bigint;"),
        "{}",
        sql[1]
    );
    assert!(sql[2].starts_with("CREATE TRIGGER users_score_strata_retype BEFORE INSERT OR UPDATE"));
    assert!(
        sql[3].contains("SET users_score_strata_new = score::bigint WHERE id >= strata_from"),
        "{}",
        sql[3]
    );
    assert_eq!(
        sql[4..],
        [
            "ALTER TABLE public.users ADD CONSTRAINT users_score_strata_not_null CHECK (users_score_strata_new IS NOT NULL) NOT VALID",
            "ALTER TABLE public.users VALIDATE CONSTRAINT users_score_strata_not_null",
            "DROP TRIGGER users_score_strata_retype ON public.users",
            "DROP FUNCTION public.users_score_strata_retype()",
            "ALTER TABLE public.users DROP COLUMN score",
            "ALTER TABLE public.users RENAME COLUMN users_score_strata_new TO score",
            "ALTER TABLE public.users ALTER COLUMN score SET DEFAULT 0",
            "ALTER TABLE public.users ALTER COLUMN score SET NOT NULL",
            "ALTER TABLE public.users DROP CONSTRAINT users_score_strata_not_null",
        ]
    );
    assert!(
        steps.iter().all(|s| !s.2.contains(&"table_rewrite")),
        "{steps:?}"
    );
    assert!(
        steps.iter().all(|s| !s.2.contains(&"destructive")),
        "{steps:?}"
    );
    // The plain switch keeps the plain form.
    let plain = plan(&from, &to, &Renames::new(RenameMode::Rename));
    assert!(
        plain
            .iter()
            .any(|s| s.0.contains("TYPE bigint") && s.2.contains(&"table_rewrite")),
        "{plain:?}"
    );
}

#[test]
fn the_backfill_takes_its_batch_size_and_pause_from_the_plan_settings() {
    let from = schema(&[users(&[], &[])], &[]);
    let mut t = users(&[], &[]);
    let mail = t.columns.remove("email").unwrap();
    t.columns.insert(
        "mail".into(),
        Column {
            name: "mail".into(),
            ..mail
        },
    );
    let to = schema(&[t], &[]);
    let backfill = |pace: Backfill| {
        let mut r = renamed(RenameMode::ExpandContract);
        r.backfill = pace;
        online(diff(&from, &to).unwrap(), &from, &to, &r)
            .into_iter()
            .find(|c| c.sql().starts_with("DO $strata$"))
            .unwrap()
    };
    let paced = backfill(Backfill {
        batch: 250,
        pause: Duration::from_millis(1500),
    });
    assert!(paced.sql().contains("LIMIT 250) b;"), "{}", paced.sql());
    assert!(
        paced.sql().contains("PERFORM pg_sleep(1.500);"),
        "{}",
        paced.sql()
    );
    let unpaced = backfill(Backfill {
        batch: 50_000,
        pause: Duration::ZERO,
    });
    assert!(
        unpaced.sql().contains("LIMIT 50000) b;"),
        "{}",
        unpaced.sql()
    );
    assert!(!unpaced.sql().contains("pg_sleep"), "{}", unpaced.sql());
    assert_eq!(
        unpaced.hazards[0].detail,
        "updates every row of public.users, 50000 rows per transaction"
    );
}

#[test]
fn a_column_added_nullable_cannot_fail_only_its_validation_can() {
    let from = schema(&[users(&[], &[])], &[]);
    for not_null in [false, true] {
        let to = schema(&[users(&[column("nick", "text", not_null)], &[])], &[]);
        let steps = plan(&from, &to, &Renames::default());
        assert_eq!(
            steps[0],
            (
                "ALTER TABLE public.users ADD COLUMN nick text".into(),
                true,
                vec![]
            )
        );
        let may_fail: Vec<&str> = steps
            .iter()
            .filter(|s| s.2.contains(&"may_fail_on_data"))
            .map(|s| s.0.as_str())
            .collect();
        let expected: &[&str] = if not_null {
            &["ALTER TABLE public.users VALIDATE CONSTRAINT users_nick_not_null"]
        } else {
            &[]
        };
        assert_eq!(may_fail, expected);
    }
}

#[test]
fn the_run_recognises_every_backfill_loop_and_nothing_else() {
    let keyed = schema(&[users(&[], &[])], &[]);
    let keyless = schema(
        &[table("users", &[column("email", "text", false)], &[])],
        &[],
    );
    for (current, pause) in [
        (&keyed, Duration::ZERO),
        (&keyed, Duration::from_millis(1500)),
        (&keyless, Duration::from_millis(10)),
        (&keyless, Duration::ZERO),
    ] {
        let pace = Backfill { batch: 100, pause };
        let sql = backfill_loop(
            current,
            &pace,
            &q("users"),
            "users_email_strata_new = email::character varying(20)",
            "users_email_strata_new IS DISTINCT FROM email::character varying(20)",
        );
        let update = backfill_update(&sql).unwrap_or_else(|| panic!("not recognised:\n{sql}"));
        assert_eq!(
            (update.to.as_str(), update.from.as_str()),
            ("users_email_strata_new", "email")
        );
        assert_eq!(update.cast.unwrap().mods, vec![20]);
        for tampered in [
            sql.replace("COMMIT;", "COMMIT; DELETE FROM public.users;"),
            sql.replace("email::character varying(20)", "NULL"),
            sql.replace(
                "users_email_strata_new IS DISTINCT FROM email::character varying(20)",
                "true",
            ),
            sql.replace(
                "LIMIT 100",
                "LIMIT 100 OFFSET (SELECT count(*) FROM pg_sleep(1))",
            ),
            format!("{sql} "),
        ] {
            assert!(backfill_update(&tampered).is_none(), "{tampered}");
        }
    }
    let mut declared = backfill_loop(
        &keyed,
        &Backfill::default(),
        &q("users"),
        "a = b",
        "a IS DISTINCT FROM b",
    );
    assert!(backfill_update(&declared).is_some());
    declared = declared.replace("strata_from bigint;", "strata_from bigint := pg_sleep(1);");
    assert!(backfill_update(&declared).is_none());
}
