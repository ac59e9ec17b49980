//! Pure unit tests of the diff: hand-built models, no database (the corpus in
//! tests/diff_cases covers the rest against PostgreSQL).

use super::*;
use crate::model::*;

fn q(name: &str) -> QualifiedName {
    QualifiedName::new("public", name)
}

fn column(name: &str, data_type: &str) -> Column {
    Column {
        name: name.into(),
        data_type: data_type.into(),
        collation: None,
        default: None,
        not_null: false,
        identity: None,
        generated: None,
        generated_virtual: false,
        local: true,
        comment: None,
        grants: Grants::new(),
    }
}

fn table(name: &str, columns: &[Column]) -> Table {
    Table {
        name: q(name),
        columns: columns
            .iter()
            .map(|c| (c.name.clone(), c.clone()))
            .collect(),
        column_order: ColumnOrder(columns.iter().map(|c| c.name.clone()).collect()),
        constraints: Default::default(),
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

fn view(name: &str, definition: &str) -> View {
    View {
        name: q(name),
        materialized: false,
        definition: definition.into(),
        options: vec![],
        populated: Default::default(),
        owner: None,
        comment: None,
        column_comments: Default::default(),
        grants: Grants::new(),
    }
}

fn with_view(column_type: &str) -> Schema {
    let mut s = Schema::default();
    s.tables
        .insert(q("t"), table("t", &[column("a", column_type)]));
    s.views
        .insert(q("v"), view("v", " SELECT t.a\n   FROM public.t;"));
    s.dependencies
        .insert(ObjectId::View(q("v")), ObjectId::Column(q("t"), "a".into()));
    s.dependencies.insert(
        ObjectId::Column(q("t"), "a".into()),
        ObjectId::Table(q("t")),
    );
    s
}

fn enum_schema(labels: &[&str]) -> Schema {
    let mut s = Schema::default();
    s.types.insert(
        q("mood"),
        TypeDef {
            name: q("mood"),
            kind: TypeKind::Enum(labels.iter().map(|l| l.to_string()).collect()),
            owner: None,
            comment: None,
            grants: Grants::from([Grant {
                grantee: "PUBLIC".into(),
                privilege: Privilege::Usage,
                grantable: false,
            }]),
        },
    );
    s
}

fn sql(changes: &[Change]) -> Vec<String> {
    changes.iter().map(|c| c.sql()).collect()
}

#[test]
fn equal_schemas_give_no_changes() {
    let s = with_view("integer");
    assert!(diff(&s, &s).unwrap().is_empty());
}

#[test]
fn a_view_over_a_retyped_column_is_dropped_before_and_created_after() {
    let changes = diff(&with_view("integer"), &with_view("text")).unwrap();
    assert_eq!(
        sql(&changes),
        [
            "DROP VIEW public.v",
            "ALTER TABLE public.t ALTER COLUMN a TYPE text USING a::text",
            "CREATE VIEW public.v AS\n SELECT t.a\n   FROM public.t"
        ]
    );
    // Narrowing is contract; the view follows the change it waits for.
    assert!(changes.iter().all(|c| c.phase == Phase::Contract));
    assert!(changes[1]
        .hazards
        .iter()
        .any(|h| h.kind == hazard::TABLE_REWRITE));
}

#[test]
fn widening_is_expand_without_using() {
    let changes = diff(&with_view("integer"), &with_view("bigint")).unwrap();
    assert_eq!(
        changes[1].sql(),
        "ALTER TABLE public.t ALTER COLUMN a TYPE bigint"
    );
    assert!(changes.iter().all(|c| c.phase == Phase::Expand));
}

#[test]
fn dropping_a_column_is_destructive_and_contract() {
    let mut from = Schema::default();
    from.tables.insert(
        q("t"),
        table("t", &[column("a", "integer"), column("Old Col", "text")]),
    );
    let mut to = Schema::default();
    to.tables
        .insert(q("t"), table("t", &[column("a", "integer")]));
    let changes = diff(&from, &to).unwrap();
    assert_eq!(
        sql(&changes),
        ["ALTER TABLE public.t DROP COLUMN \"Old Col\""]
    );
    assert!(changes[0].is_destructive());
    assert_eq!(changes[0].phase, Phase::Contract);
    let text = render(&changes);
    assert!(text.starts_with("-- hazard: destructive: "), "{text}");
}

#[test]
fn enum_values_are_added_in_place_outside_a_transaction() {
    let changes = diff(
        &enum_schema(&["sad", "ok"]),
        &enum_schema(&["new", "sad", "ok", "it's"]),
    )
    .unwrap();
    assert_eq!(
        sql(&changes),
        [
            "ALTER TYPE public.mood ADD VALUE 'new' BEFORE 'sad'",
            "ALTER TYPE public.mood ADD VALUE 'it''s' AFTER 'ok'"
        ]
    );
    assert!(changes
        .iter()
        .all(|c| !c.transactional && c.phase == Phase::Expand));
    assert!(render(&changes).contains("-- strata:no-transaction\n"));
}

#[test]
fn removing_an_enum_value_rebuilds_the_type_in_contract() {
    let changes = diff(&enum_schema(&["sad", "ok"]), &enum_schema(&["ok"])).unwrap();
    let sql: Vec<String> = changes.iter().map(|c| c.sql()).collect();
    assert_eq!(
        sql,
        [
            "ALTER TYPE public.mood RENAME TO mood__strata_old",
            "CREATE TYPE public.mood AS ENUM ('ok')",
            "DROP TYPE public.mood__strata_old",
        ],
        "{sql:?}"
    );
    assert!(changes.iter().all(|c| c.phase == Phase::Contract));
}

#[test]
fn the_same_inputs_give_the_same_changes() {
    let mut from = with_view("integer");
    let mut to = with_view("text");
    for i in 0..20 {
        let name = format!("x{i}");
        to.tables
            .insert(q(&name), table(&name, &[column("id", "integer")]));
        from.views
            .insert(q(&format!("w{i}")), view(&format!("w{i}"), "SELECT 1"));
    }
    let a = render(&diff(&from, &to).unwrap());
    let b = render(&diff(&from.clone(), &to.clone()).unwrap());
    assert_eq!(a, b);
    // Drops (contract) after creates (expand); creates in name order.
    let x0 = a.find("CREATE TABLE public.x0").unwrap();
    let x1 = a.find("CREATE TABLE public.x1 ").unwrap();
    assert!(x0 < x1);
}

#[test]
fn a_view_is_replaced_only_when_its_old_columns_are_certain_to_stay() {
    let mut from = with_view("integer");
    let mut to = from.clone();
    to.views.insert(
        q("v"),
        view(
            "v",
            " SELECT t.a,\n    1 AS b\n   FROM public.t\n  WHERE t.a > 0;",
        ),
    );
    let changes = diff(&from, &to).unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].kind, ChangeKind::ReplaceView);
    assert!(changes[0]
        .sql()
        .starts_with("CREATE OR REPLACE VIEW public.v AS"));
    // Same name, maybe another type: dropped and created again.
    from.views
        .insert(q("v"), view("v", " SELECT t.a\n   FROM public.t;"));
    to.views.insert(
        q("v"),
        view("v", " SELECT (t.a)::text AS a\n   FROM public.t;"),
    );
    let kinds: Vec<ChangeKind> = diff(&from, &to).unwrap().iter().map(|c| c.kind).collect();
    assert_eq!(kinds, [ChangeKind::Drop, ChangeKind::Create]);
}

#[test]
fn a_lossy_type_change_is_destructive_and_a_narrowing_that_fails_is_not() {
    let one = |ty: &str| {
        let mut s = Schema::default();
        s.tables.insert(q("t"), table("t", &[column("a", ty)]));
        s
    };
    let hazards = |from: &str, to: &str| -> Vec<&'static str> {
        let changes = diff(&one(from), &one(to)).unwrap();
        changes[0].hazards.iter().map(|h| h.kind.id()).collect()
    };
    assert_eq!(
        hazards("numeric(10,2)", "numeric(10,0)"),
        [
            "destructive",
            "table_rewrite",
            "may_fail_on_data",
            "type_narrowing"
        ]
    );
    assert!(hazards("timestamp with time zone", "date").contains(&"destructive"));
    // bigint -> integer fails on a value that does not fit; it never changes one.
    assert!(!hazards("bigint", "integer").contains(&"destructive"));
}

#[test]
fn a_table_taking_a_dropped_tables_constraint_name_is_created_after_the_drop_in_contract() {
    let with_pkey = |name: &str| {
        let mut t = table(name, &[column("id", "integer")]);
        t.columns.get_mut("id").unwrap().not_null = true;
        t.constraints.insert(
            "packages_pkey".into(),
            Constraint {
                name: "packages_pkey".into(),
                kind: ConstraintKind::PrimaryKey,
                definition: "PRIMARY KEY (id)".into(),
                columns: vec!["id".into()],
                references: None,
                validated: true,
                deferrable: false,
                initially_deferred: false,
                local: true,
                comment: None,
                index_options: Vec::new(),
                index_parent: None,
            },
        );
        let mut s = Schema::default();
        s.tables.insert(q(name), t);
        s
    };
    let changes = diff(&with_pkey("packages"), &with_pkey("crates")).unwrap();
    let statements = sql(&changes);
    let drop = changes
        .iter()
        .position(|c| c.kind == ChangeKind::Drop && matches!(c.object, ObjectId::Table(_)))
        .unwrap();
    let add = statements
        .iter()
        .position(|s| s.contains("ADD CONSTRAINT packages_pkey"))
        .unwrap();
    assert!(drop < add, "{statements:#?}");
    let phase_of = |i: usize| changes[i].phase;
    assert_eq!(phase_of(drop), Phase::Contract);
    assert_eq!(phase_of(add), Phase::Contract, "{changes:#?}");
}
