//! Introspection round trips against real PostgreSQL: load SQL into database A, dump A with
//! strata, load the dump into an empty database B; A and B must have the same fingerprint and
//! the same `pg_dump --schema-only` (column lines sorted, volatile lines removed; only where an
//! installed pg_dump can dump the server's major, see `common::pg_dump`).

mod common;

use common::TestDb;
use std::collections::BTreeSet;
use strata::catalog::{self, CatalogError, Introspection};
use strata::config::Config;
use strata::ddl::{self, Split};
use strata::model::{FunctionSig, ObjectId, QualifiedName, Schema};

fn config(toml: &str) -> Config {
    Config::parse(std::path::Path::new("."), toml).expect("manifest")
}

/// Roles are cluster-wide: made once, whichever test comes first.
fn roles(db: &TestDb) {
    db.psql(
        "DO $$ BEGIN CREATE ROLE strata_reader NOLOGIN; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$; \
         DO $$ BEGIN CREATE ROLE \"Strata Writer\" NOLOGIN; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;",
    );
}

async fn introspect(db: &TestDb, cfg: &Config) -> Introspection {
    let client = db.client().await;
    catalog::introspect(&client, cfg).await.expect("introspect")
}

/// `pg_dump --schema-only`, with the lines that differ between two databases of the same
/// schema removed (version banner, restrict keys), the column lines of each `CREATE TABLE`
/// sorted, and each run of GRANT lines sorted (pg_dump follows the ACL's internal order).
/// `None` when no installed pg_dump can dump the test cluster's major (see `common::pg_dump`).
fn pg_dump(db: &TestDb) -> Option<String> {
    let out = std::process::Command::new(common::pg_dump()?)
        .args(["--schema-only", "--dbname", &db.url])
        .output()
        .expect("pg_dump");
    assert!(
        out.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut result = Vec::new();
    let mut block: Option<Vec<String>> = None;
    for line in text.lines() {
        if line.starts_with("-- Dumped ")
            || line.starts_with("\\restrict")
            || line.starts_with("\\unrestrict")
        {
            continue;
        }
        let line = line.replace(&db.name, "<db>");
        match &mut block {
            Some(columns) if line.starts_with(')') => {
                columns.sort();
                result.append(columns);
                result.push(line);
                block = None;
            }
            Some(columns) => columns.push(line.trim_end_matches(',').to_string()),
            None => {
                let opens = (line.starts_with("CREATE TABLE")
                    || line.starts_with("CREATE UNLOGGED TABLE"))
                    && line.ends_with('(');
                result.push(line);
                if opens {
                    block = Some(Vec::new());
                }
            }
        }
    }
    let mut sorted: Vec<String> = Vec::new();
    let mut grants: Vec<String> = Vec::new();
    for line in result {
        if line.starts_with("GRANT ") || line.starts_with("REVOKE ") {
            grants.push(line);
            continue;
        }
        grants.sort();
        sorted.append(&mut grants);
        sorted.push(line);
    }
    grants.sort();
    sorted.append(&mut grants);
    Some(sorted.join("\n"))
}

async fn load_files(db: &TestDb, files: &[ddl::DumpFile]) {
    if files.iter().any(|f| f.name.contains('/')) {
        // per-object: a tree that strata's loader takes in any order, as schema/ files.
        let dir = tempfile::tempdir().unwrap();
        for f in files {
            let path = dir.path().join(&f.name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, &f.content).unwrap();
        }
        let sdl = strata::source::sdl::load_path(dir.path()).unwrap();
        let client = db.client().await;
        strata::source::load::load(&client, &sdl).await.unwrap();
        return;
    }
    let mut names: Vec<&ddl::DumpFile> = files.iter().collect();
    names.sort_by(|a, b| a.name.cmp(&b.name));
    for f in names {
        db.psql(&f.content);
    }
}

/// Shows where two models differ (first differing lines of their JSON).
fn explain(a: &Schema, b: &Schema) -> String {
    let a = serde_json::to_string_pretty(a).unwrap();
    let b = serde_json::to_string_pretty(b).unwrap();
    let diff = similar::TextDiff::from_lines(&a, &b);
    diff.unified_diff().context_radius(6).to_string()
}

/// Load `sql` into A, dump A, load the dump into B: same fingerprint, same pg_dump.
async fn round_trip(sql: &str, split: Split) -> (Introspection, Vec<ddl::DumpFile>) {
    round_trip_with(sql, split, &config("")).await
}

async fn round_trip_with(
    sql: &str,
    split: Split,
    cfg: &Config,
) -> (Introspection, Vec<ddl::DumpFile>) {
    let a = TestDb::new();
    roles(&a);
    a.psql(sql);
    let ia = introspect(&a, cfg).await;
    let files = ddl::dump(&ia.schema, split).unwrap();
    let b = TestDb::new();
    load_files(&b, &files).await;
    let ib = introspect(&b, cfg).await;
    assert!(
        ia.schema == ib.schema,
        "the models differ after a round trip:\n{}",
        explain(&ia.schema, &ib.schema)
    );
    assert_eq!(ia.schema.fingerprint(), ib.schema.fingerprint());
    if let (Some(da), Some(db)) = (pg_dump(&a), pg_dump(&b)) {
        assert!(da == db, "pg_dump differs after a round trip:\n{}", {
            similar::TextDiff::from_lines(&da, &db)
                .unified_diff()
                .context_radius(3)
                .to_string()
        });
    }
    // Deterministic: the same database dumps to the same bytes, and B dumps as A did.
    assert_eq!(ddl::dump(&ia.schema, split).unwrap(), files);
    assert_eq!(ddl::dump(&ib.schema, split).unwrap(), files);
    (ia, files)
}

const VARIED: &str = include_str!("introspection/varied.sql");

#[tokio::test]
async fn varied_schema_round_trips() {
    let (i, files) = round_trip(VARIED, Split::Single).await;
    assert_eq!(files.len(), 1);
    let s = &i.schema;
    assert_eq!(s.tables.len(), 12, "{:?}", s.tables.keys());
    let table = |name: &str| &s.tables[&strata::model::QualifiedName::new("app", name)];
    use strata::model::ReplicaIdentity;
    assert_eq!(table("events").replica_identity, ReplicaIdentity::Full);
    assert_eq!(
        table("events_rest").replica_identity,
        ReplicaIdentity::Nothing
    );
    assert_eq!(
        table("events_list_c").replica_identity,
        ReplicaIdentity::Index("events_list_c_kind".into())
    );
    assert_eq!(table("events_list_ab").columns["n"].default, None);
    assert_eq!(
        table("events_list_c").columns["n"].default.as_deref(),
        Some("3")
    );
    assert_eq!(s.views.len(), 4);
    assert_eq!(s.types.len(), 5);
    assert_eq!(s.functions.len(), 7, "{:?}", s.functions.keys());
    assert_eq!(s.triggers.len(), 2);
    assert_eq!(s.policies.len(), 2);
    assert_eq!(s.statistics.len(), 1, "{:?}", s.statistics.keys());
    assert!(i.warnings.is_empty(), "{:?}", i.warnings);
    // Extension members are not in the model; the extension is.
    assert!(s.extensions.contains_key("citext"));
    assert!(!s
        .functions
        .keys()
        .any(|f| f.name.name.starts_with("citext")));
    let orders = QualifiedName::new("app", "orders");
    assert_eq!(
        s.tables[&orders].constraints["own_table"].columns,
        ["tableoid", "id"]
    );
    // The exclusion constraint uses btree_gist's operator class: a dependency on the extension.
    let no_overlap = ObjectId::Constraint(orders.clone(), "no_overlap".into());
    assert!(s
        .dependencies
        .get(&no_overlap)
        .unwrap()
        .contains(&ObjectId::Extension("btree_gist".into())));
    // A view depends on the columns it reads (through its rewrite rule), a default on its
    // sequence (through pg_attrdef).
    let order_id = ObjectId::Column(orders, "id".into());
    let sequence = ObjectId::Sequence(QualifiedName::new("app", "order_no"));
    assert!(s.dependencies.get(&order_id).unwrap().contains(&sequence));
    assert!(s
        .dependencies
        .iter()
        .any(|(from, to)| matches!(from, ObjectId::View(_))
            && to.iter().any(|t| matches!(t, ObjectId::Column(..)))));
}

#[tokio::test]
async fn more_kinds_round_trip_with_owners() {
    // One fixture, each major's syntax (`-- pg >= 15` blocks, common::for_server).
    let more = common::for_server(include_str!("introspection/more.sql"));
    let cfg = config("[schema]\nowners = true\n");
    let (i, _) = round_trip_with(&more, Split::Single, &cfg).await;
    let s = &i.schema;
    let things = &s.tables[&QualifiedName::new("Ops", "things")];
    assert_eq!(things.owner.as_deref(), Some("strata_reader"));
    assert_eq!(s.schemas["Ops"].owner.as_deref(), Some("strata_reader"));
    assert!(!things.constraints["things_parent"].validated);
    assert!(things.constraints["things_code"].initially_deferred);
    assert_eq!(s.triggers.len(), 3, "{:?}", s.triggers.keys());
    // Statistics objects: definition, target, owner and comment read back (issue 18).
    let stats = &s.statistics[&QualifiedName::new("Ops", "Things Stats")];
    assert_eq!(stats.table, QualifiedName::new("Ops", "things"));
    assert!(
        stats.definition.starts_with(
            "CREATE STATISTICS \"Ops\".\"Things Stats\" (ndistinct, mcv) ON code, parent"
        ),
        "{}",
        stats.definition
    );
    assert_eq!(stats.target, Some(250));
    assert_eq!(stats.owner.as_deref(), Some("strata_reader"));
    assert_eq!(stats.comment.as_deref(), Some("code and parent"));
    let plain_stats = &s.statistics[&QualifiedName::new("Ops", "things_plain")];
    assert_eq!((plain_stats.target, &plain_stats.comment), (None, &None));
    let on_table = ObjectId::Table(QualifiedName::new("Ops", "things"));
    let stats_id = ObjectId::Statistics(QualifiedName::new("Ops", "Things Stats"));
    assert!(s.dependencies.get(&stats_id).unwrap().contains(&on_table));
    // Without the option, owners are not in the model.
    let db = TestDb::new();
    roles(&db);
    db.psql(&more);
    let plain = introspect(&db, &config("")).await.schema;
    assert!(plain.tables.values().all(|t| t.owner.is_none()));
    assert!(plain.statistics.values().all(|t| t.owner.is_none()));
}

#[tokio::test]
async fn split_dumps_load_in_file_name_order() {
    let (_, files) = round_trip(VARIED, Split::PerSchema).await;
    assert!(files.len() > 1);
    // per-object: named after the objects, extensions and schemas in files of their own.
    let (_, files) = round_trip(VARIED, Split::PerObject).await;
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    for expected in [
        "extensions/citext.sql",
        "app/schema.sql",
        "app/tables/events.sql",
        "app/tables/orders.sql",
    ] {
        assert!(names.contains(&expected), "{names:?}");
    }
    assert!(files.len() > 20, "{names:?}");
    // A statistics object is in its table's file, after the table.
    let orders = &files
        .iter()
        .find(|f| f.name == "app/tables/orders.sql")
        .unwrap()
        .content;
    let stats = orders.find("CREATE STATISTICS app.orders_user_note");
    assert!(stats > orders.find("CREATE TABLE app.orders"), "{orders}");
}

#[tokio::test]
async fn small_schema_outside_public_round_trips() {
    round_trip(
        "CREATE SCHEMA \"Sales \"\"EU\"\"\";
         CREATE TABLE \"Sales \"\"EU\"\"\".\"Order\" (\"ID\" int PRIMARY KEY, \"Straße\" text NOT NULL);
         CREATE TABLE \"Sales \"\"EU\"\"\".line (order_id int REFERENCES \"Sales \"\"EU\"\"\".\"Order\", n int);
         CREATE INDEX ON \"Sales \"\"EU\"\"\".line (order_id);",
        Split::Single,
    )
    .await;
}

/// A larger generated schema: many tables with foreign keys in both directions (cycles),
/// indexes, views over views, functions, triggers.
fn large_schema(tables: usize) -> String {
    let mut sql = String::from(
        "CREATE SCHEMA big; CREATE SCHEMA \"Big Two\";
         CREATE TYPE big.state AS ENUM ('new', 'done');
         CREATE FUNCTION big.stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n",
    );
    for i in 0..tables {
        let schema = if i % 3 == 0 { "\"Big Two\"" } else { "big" };
        sql.push_str(&format!(
            "CREATE TABLE {schema}.t{i} (id bigserial PRIMARY KEY, ref bigint, state big.state DEFAULT 'new', \
             name text CHECK (name <> ''), n numeric(10,2) DEFAULT {i}, at timestamptz DEFAULT now());\n\
             CREATE INDEX t{i}_name ON {schema}.t{i} (lower(name)) WHERE n > 0;\n\
             COMMENT ON TABLE {schema}.t{i} IS 'table {i}';\n"
        ));
        if i % 10 == 0 {
            sql.push_str(&format!(
                "CREATE VIEW big.v{i} AS SELECT id, name FROM {schema}.t{i} WHERE state = 'done';\n\
                 CREATE TRIGGER t{i}_stamp BEFORE INSERT ON {schema}.t{i} FOR EACH ROW EXECUTE FUNCTION big.stamp();\n"
            ));
        }
    }
    for i in 0..tables {
        let schema = if i % 3 == 0 { "\"Big Two\"" } else { "big" };
        let j = (i * 7 + 3) % tables;
        let sj = if j % 3 == 0 { "\"Big Two\"" } else { "big" };
        sql.push_str(&format!(
            "ALTER TABLE {schema}.t{i} ADD CONSTRAINT t{i}_ref FOREIGN KEY (ref) REFERENCES {sj}.t{j};\n"
        ));
    }
    sql.push_str("CREATE VIEW big.vv AS SELECT * FROM big.v0 UNION ALL SELECT * FROM big.v0;\n");
    sql
}

#[tokio::test]
async fn large_schema_round_trips() {
    let (i, _) = round_trip(&large_schema(150), Split::PerSchema).await;
    assert_eq!(i.schema.tables.len(), 150);
}

#[tokio::test]
async fn query_count_does_not_grow_with_the_schema() {
    let cfg = config("");
    let small = TestDb::new();
    small.psql(&large_schema(10));
    let big = TestDb::new();
    big.psql(&large_schema(200));
    let a = introspect(&small, &cfg).await;
    let b = introspect(&big, &cfg).await;
    assert_eq!(a.schema.tables.len(), 10);
    assert_eq!(b.schema.tables.len(), 200);
    assert_eq!(a.queries, b.queries);
    assert!(a.queries <= 20, "{}", a.queries);
}

/// Index and key constraint definitions are written in the client for plain shapes
/// (`catalog::deparse`): each must read exactly as the server's own deparser writes it.
#[tokio::test]
async fn index_and_constraint_definitions_are_the_servers() {
    let db = TestDb::new();
    roles(&db);
    for corpus in [
        &common::for_server(include_str!("introspection/definitions.sql")),
        VARIED,
        &large_schema(12),
    ] {
        db.psql(corpus);
    }
    let client = db.client().await;
    let schema = catalog::catalog(&client, &config(""))
        .await
        .expect("introspect");
    // As strata reads: every name the server prints schema-qualified.
    client.batch_execute("SET search_path = ''").await.unwrap();
    let indexes = name_and_text(
        &client,
        "SELECT format('%s.%s', quote_ident(n.nspname), quote_ident(c.relname)), \
           pg_get_indexdef(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('i', 'I')",
    )
    .await;
    let constraints = name_and_text(
        &client,
        "SELECT format('%s.%s %s', quote_ident(n.nspname), quote_ident(t.relname), con.conname), \
           pg_get_constraintdef(con.oid) FROM pg_constraint con \
           JOIN pg_class t ON t.oid = con.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace",
    )
    .await;
    let mut checked = 0;
    for (name, index) in &schema.indexes {
        assert_eq!(
            Some(&index.definition),
            indexes.get(&name.to_string()),
            "{name}"
        );
        checked += 1;
    }
    for (name, table) in &schema.tables {
        for (cname, c) in &table.constraints {
            let key = format!("{name} {cname}");
            assert_eq!(Some(&c.definition), constraints.get(&key), "{key}");
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");
}

async fn name_and_text(
    client: &tokio_postgres::Client,
    sql: &str,
) -> std::collections::BTreeMap<String, String> {
    let rows = client.query(sql, &[]).await.expect(sql);
    rows.iter().map(|r| (r.get(0), r.get(1))).collect()
}

/// Plain indexes and keys cost no query of their own; one that the client cannot write
/// (here an operator class that is not the default) costs one more, whatever their number.
#[tokio::test]
async fn definitions_left_to_the_server_cost_one_query() {
    let cfg = config("");
    let plain = TestDb::new();
    plain.psql(
        "CREATE TABLE t (a int PRIMARY KEY, b text UNIQUE, c int REFERENCES t);
         CREATE INDEX ON t (b DESC, c);",
    );
    let other = TestDb::new();
    other.psql(
        "CREATE TABLE t (a int PRIMARY KEY, b text UNIQUE, c int REFERENCES t);
         CREATE INDEX ON t (b text_pattern_ops, c);
         CREATE INDEX ON t (b COLLATE \"C\");",
    );
    let (plain, other) = (
        introspect(&plain, &cfg).await,
        introspect(&other, &cfg).await,
    );
    assert_eq!(plain.queries + 1, other.queries);
    let definitions: BTreeSet<&str> = other
        .schema
        .indexes
        .values()
        .map(|i| i.definition.as_str())
        .collect();
    assert!(definitions
        .contains("CREATE INDEX t_b_c_idx ON public.t USING btree (b text_pattern_ops, c)"));
    assert!(definitions.contains("CREATE INDEX t_b_idx ON public.t USING btree (b COLLATE \"C\")"));
}

#[tokio::test]
async fn dependencies_are_recorded_by_identity() {
    let db = TestDb::new();
    roles(&db);
    db.psql(VARIED);
    let s = introspect(&db, &config("")).await.schema;
    let t = |s: &str, n: &str| QualifiedName::new(s, n);
    let has = |from: ObjectId, to: ObjectId| {
        let d = s.dependencies.get(&from);
        assert!(
            d.is_some_and(|d| d.contains(&to)),
            "{from} should depend on {to}; it has {d:?}"
        );
    };
    let users = t("app", "users");
    // view → column and function
    has(
        ObjectId::View(t("app", "user_orders")),
        ObjectId::Column(users.clone(), "Email".into()),
    );
    has(
        ObjectId::View(t("app", "user_orders")),
        ObjectId::Function(FunctionSig {
            name: t("app", "slugify"),
            args: "t text".into(),
        }),
    );
    // GROUP BY a primary key: the view depends on the constraint
    has(
        ObjectId::View(t("app", "user_orders")),
        ObjectId::Constraint(users.clone(), "users_pkey".into()),
    );
    // column type → enum, domain
    has(
        ObjectId::Column(users.clone(), "mood".into()),
        ObjectId::Type(t("app", "mood")),
    );
    has(
        ObjectId::Column(users.clone(), "Email".into()),
        ObjectId::Type(t("app", "email")),
    );
    // default → sequence, default → function
    has(
        ObjectId::Column(t("app", "orders"), "id".into()),
        ObjectId::Sequence(t("app", "order_no")),
    );
    has(
        ObjectId::Column(t("café", "Ünïcode Täble"), "value with spaces".into()),
        ObjectId::Function(FunctionSig {
            name: t("app", "slugify"),
            args: "t text".into(),
        }),
    );
    // FK → referenced table's key; trigger → function; index → table
    has(
        ObjectId::Constraint(t("app", "orders"), "orders_user_fk".into()),
        ObjectId::Constraint(users.clone(), "users_pkey".into()),
    );
    has(
        ObjectId::Trigger(strata::model::SubName::new(users.clone(), "users_touch")),
        ObjectId::Function(FunctionSig {
            name: t("app", "touch"),
            args: "".into(),
        }),
    );
    has(
        ObjectId::Index(t("app", "orders_user_note")),
        ObjectId::Table(t("app", "orders")),
    );
    // domain → extension type
    has(
        ObjectId::Type(t("app", "email")),
        ObjectId::Extension("citext".into()),
    );
    // Every edge is between objects the model holds.
    let known = s.object_ids();
    for (from, tos) in &s.dependencies {
        assert!(known.contains(from), "{from}");
        for to in tos {
            assert!(known.contains(to), "{to}");
        }
    }
}

#[tokio::test]
async fn a_listed_schema_that_does_not_exist_is_an_error() {
    let db = TestDb::new();
    db.psql("CREATE SCHEMA app;");
    let client = db.client().await;
    let err = catalog::introspect(
        &client,
        &config("[schema]\ninclude_schemas = [\"app\", \"nope\"]\n"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, CatalogError::MissingSchema { name } if name == "nope"),
        "{err:?}"
    );
    assert_eq!(strata::Error::from(err).exit_code(), 1);
}

#[tokio::test]
async fn unmanaged_and_system_schemas_are_left_out() {
    let db = TestDb::new();
    db.psql(
        "CREATE SCHEMA app; CREATE SCHEMA other; CREATE SCHEMA strata;
         CREATE TABLE app.a (id int); CREATE TABLE other.b (id int); CREATE TABLE strata.c (id int);",
    );
    let all = introspect(&db, &config("")).await.schema;
    let names: BTreeSet<String> = all.tables.keys().map(|t| t.to_string()).collect();
    assert_eq!(
        names,
        BTreeSet::from(["app.a".to_string(), "other.b".to_string()])
    );
    let only = introspect(&db, &config("[schema]\ninclude_schemas = [\"app\"]\n"))
        .await
        .schema;
    assert_eq!(only.schemas.keys().collect::<Vec<_>>(), ["app"]);
    assert_eq!(only.tables.len(), 1);
    let excl = introspect(&db, &config("[schema]\nexclude_schemas = [\"app\"]\n"))
        .await
        .schema;
    assert!(!excl.schemas.contains_key("app"));
    assert!(excl.tables.keys().all(|t| t.schema != "app"));
}

#[tokio::test]
async fn unmodelled_objects_are_warnings() {
    let db = TestDb::new();
    db.psql(&common::for_server(
        "CREATE SCHEMA app;
         CREATE TABLE app.t (id int, v int);
         CREATE TEXT SEARCH CONFIGURATION app.my_search (COPY = pg_catalog.english);
         CREATE FUNCTION app.eq3(a int, b text) RETURNS boolean LANGUAGE sql AS 'SELECT a::text = b';
         CREATE OPERATOR app.=== (LEFTARG = int, RIGHTARG = text, FUNCTION = app.eq3);
         CREATE RULE no_delete AS ON DELETE TO app.t DO INSTEAD NOTHING;
         CREATE COLLATION app.german (provider = icu, locale = 'de');
-- pg >= 14
         CREATE STATISTICS app.t_stats ON id, (id + 1) FROM app.t;
-- pg < 14
         CREATE STATISTICS app.t_stats ON id, v FROM app.t;
-- end
",
    ));
    let i = introspect(&db, &config("")).await;
    let kinds: BTreeSet<&str> = i.warnings.iter().map(|w| w.kind.as_str()).collect();
    for kind in ["text search configuration", "operator", "rule"] {
        assert!(kinds.contains(kind), "{kind} missing from {:?}", i.warnings);
    }
    let rule = i.warnings.iter().find(|w| w.kind == "rule").unwrap();
    assert_eq!(rule.name, "no_delete ON app.t");
    // The modelled objects are still there.
    assert!(i
        .schema
        .tables
        .contains_key(&QualifiedName::new("app", "t")));
    // Collations and statistics objects are modelled (issue 18).
    assert!(!kinds.contains("collation"), "{:?}", i.warnings);
    assert!(!kinds.contains("statistics object"), "{:?}", i.warnings);
    let stats = &i.schema.statistics[&QualifiedName::new("app", "t_stats")];
    assert_eq!(stats.table, QualifiedName::new("app", "t"));
    assert!(stats
        .definition
        .starts_with("CREATE STATISTICS app.t_stats ON id, "));
    let german = &i.schema.collations[&QualifiedName::new("app", "german")];
    assert_eq!(
        (german.provider.as_str(), german.locale.as_deref()),
        ("icu", Some("de"))
    );
}

#[tokio::test]
async fn fingerprint_changes_with_behaviour_not_with_column_order() {
    let cfg = config("");
    let a = TestDb::new();
    a.psql("CREATE TABLE t (a int, b text DEFAULT 'x');");
    let b = TestDb::new();
    b.psql("CREATE TABLE t (b text DEFAULT 'x', a int);");
    let c = TestDb::new();
    c.psql("CREATE TABLE t (a int, b text DEFAULT 'y');");
    let fa = introspect(&a, &cfg).await.schema.fingerprint();
    let fb = introspect(&b, &cfg).await.schema.fingerprint();
    let fc = introspect(&c, &cfg).await.schema.fingerprint();
    assert_eq!(fa, fb);
    assert_ne!(fa, fc);
    assert!(fa.to_string().starts_with("sha256:"));
}

/// A foreign key to a partitioned table has a copy for every partition at any depth, which
/// PostgreSQL numbers in the order the partitions were attached: two databases of one schema,
/// their partitions attached in opposite orders, read the same, each copy named after its key
/// and partition; the declared keys, and the referencing partition's clone, keep their names.
#[tokio::test]
async fn foreign_key_copies_per_referenced_partition_are_named_after_key_and_partition() {
    const P: &str = "CREATE TABLE p (id int, k int, PRIMARY KEY (id, k)) PARTITION BY RANGE (k);";
    const R: &str = "CREATE TABLE r (id int, k int, FOREIGN KEY (id, k) REFERENCES p) \
         PARTITION BY LIST (id); CREATE TABLE r1 PARTITION OF r FOR VALUES IN (1);";
    const LO: &str =
        "CREATE TABLE p_lo PARTITION OF p FOR VALUES FROM (0) TO (10) PARTITION BY RANGE (k);";
    const LO_A: &str = "CREATE TABLE p_lo_a PARTITION OF p_lo FOR VALUES FROM (0) TO (5);";
    const LO_B: &str = "CREATE TABLE p_lo_b PARTITION OF p_lo FOR VALUES FROM (5) TO (10);";
    const HI: &str = "CREATE TABLE p_hi PARTITION OF p FOR VALUES FROM (10) TO (20);";
    let cfg = config("");
    let a = TestDb::new();
    a.psql(&[P, R, LO, LO_A, LO_B, HI].join(" "));
    let b = TestDb::new();
    b.psql(&[P, HI, R, LO, LO_B, LO_A].join(" "));
    let names = |db: &TestDb| {
        db.psql(
            "SELECT string_agg(conname || '>' || confrelid::regclass, ' ' ORDER BY confrelid::regclass::text) \
             FROM pg_constraint WHERE contype = 'f' AND conrelid = 'r'::regclass",
        )
    };
    assert_ne!(names(&a), names(&b), "the copies are numbered otherwise");
    let sa = introspect(&a, &cfg).await.schema;
    let sb = introspect(&b, &cfg).await.schema;
    assert_eq!(sa.fingerprint(), sb.fingerprint(), "{}", explain(&sa, &sb));
    let r = &sa.tables[&QualifiedName::new("public", "r")];
    let keys: Vec<(&str, bool)> = r
        .constraints
        .values()
        .map(|c| (c.name.as_str(), c.local))
        .collect();
    assert_eq!(
        keys,
        [
            ("r_id_k_fkey", true),
            ("r_id_k_fkey@public.p_hi", false),
            ("r_id_k_fkey@public.p_lo", false),
            ("r_id_k_fkey@public.p_lo_a", false),
            ("r_id_k_fkey@public.p_lo_b", false),
        ]
    );
    let r1 = &sa.tables[&QualifiedName::new("public", "r1")];
    assert_eq!(
        r1.constraints
            .keys()
            .map(|n| n.as_str())
            .collect::<Vec<_>>(),
        ["r_id_k_fkey"]
    );
}

/// `dump --format json` writes the model piece by piece (a 10,000-table model as one
/// `serde_json::Value` took gigabytes); the bytes are those of the whole value pretty-printed,
/// with the kinds left out when empty (collations, statistics) present when there are some.
#[test]
fn the_json_dump_is_the_pretty_printed_model() {
    let db = TestDb::new();
    db.psql(
        "CREATE SCHEMA app; COMMENT ON SCHEMA app IS 'two\nlines';
         CREATE TYPE app.mood AS ENUM ('ok', 'meh');
         CREATE TABLE app.t (id int PRIMARY KEY, m app.mood, note text DEFAULT 'x');
         CREATE INDEX t_note ON app.t (note);
         CREATE VIEW app.v AS SELECT id, m FROM app.t;
         CREATE FUNCTION app.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
         CREATE COLLATION app.german (provider = icu, locale = 'de');
         CREATE STATISTICS app.t_stats ON id, note FROM app.t;",
    );
    let project = common::reachable_tempdir("strata-dump-json-");
    let out = assert_cmd::Command::cargo_bin("strata")
        .unwrap()
        .arg("-C")
        .arg(project.path())
        .args(["--format", "json", "dump", "--database-url", &db.url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    let value: serde_json::Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(
        printed,
        serde_json::to_string_pretty(&value).unwrap() + "\n"
    );
    for kind in [
        "collations",
        "statistics",
        "dependencies",
        "views",
        "functions",
    ] {
        assert!(
            value["schema"][kind]
                .as_array()
                .is_some_and(|a| !a.is_empty()),
            "{kind}: {printed}"
        );
    }
    assert_eq!(value["command"], "dump");
    assert_eq!(value["strata_output"], 1);
}

#[tokio::test]
async fn cli_dump_and_fingerprint() {
    let db = TestDb::new();
    db.psql(
        "CREATE SCHEMA app; CREATE TABLE app.\"T\" (id int PRIMARY KEY, note text);
         CREATE FUNCTION app.evt() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
         CREATE EVENT TRIGGER strata_test_evt ON ddl_command_start EXECUTE FUNCTION app.evt();",
    );
    let project = common::reachable_tempdir("strata-dump-");
    let out_dir = project.path().join("dumped");
    let run = |args: &[&str]| {
        let out = assert_cmd::Command::cargo_bin("strata")
            .unwrap()
            .arg("-C")
            .arg(project.path())
            .args(args)
            .args(["--database-url", &db.url])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (stdout, stderr) = run(&["dump"]);
    assert!(
        stdout.contains("CREATE TABLE app.\"T\" (\n    id integer NOT NULL,\n    note text\n);"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ALTER TABLE app.\"T\" ADD CONSTRAINT \"T_pkey\" PRIMARY KEY (id);"),
        "{stdout}"
    );
    assert!(
        stderr.contains("warning: event trigger strata_test_evt is not modelled"),
        "{stderr}"
    );
    let (fp, _) = run(&["fingerprint"]);
    let fp = fp.trim().to_string();
    assert!(fp.starts_with("sha256:") && fp.len() == 71, "{fp}");
    assert!(
        stdout.contains(&format!("-- fingerprint: {fp}")),
        "{stdout}"
    );
    let (json, _) = run(&["fingerprint", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["fingerprint"], fp.as_str());
    assert_eq!(json["warnings"][0]["kind"], "event trigger");
    let (printed, _) = run(&["dump", "--format", "json"]);
    let model: serde_json::Value = serde_json::from_str(&printed).unwrap();
    // Written piece by piece, it is byte for byte the pretty print of the whole value.
    assert_eq!(
        printed,
        serde_json::to_string_pretty(&model).unwrap() + "\n"
    );
    let model: strata::model::Schema = serde_json::from_value(model["schema"].clone()).unwrap();
    assert_eq!(model.fingerprint().to_string(), fp);
    // A stale file of an earlier dump goes; other files stay.
    std::fs::create_dir_all(&out_dir).unwrap();
    std::fs::write(
        out_dir.join("0009_table_app.gone.sql"),
        "CREATE TABLE gone ();",
    )
    .unwrap();
    std::fs::write(out_dir.join("README"), "mine").unwrap();
    run(&[
        "dump",
        "--split",
        "per-object",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out_dir.join("README").exists());
    std::fs::remove_file(out_dir.join("README")).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["app", "public"]);
    let mut files = Vec::new();
    for entry in walk(&out_dir) {
        files.push(entry);
    }
    assert_eq!(
        files,
        [
            "app/functions/evt.sql",
            "app/schema.sql",
            "app/tables/T.sql",
            "public/schema.sql",
        ]
    );
    let table = std::fs::read_to_string(out_dir.join("app/tables/T.sql")).unwrap();
    assert!(table.contains("ADD CONSTRAINT \"T_pkey\""), "{table}");

    // Adding a table adds exactly one file and changes no other (not even its mtime).
    let before: Vec<(String, String, std::time::SystemTime)> = walk(&out_dir)
        .into_iter()
        .map(|f| {
            let path = out_dir.join(&f);
            let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
            (f, std::fs::read_to_string(path).unwrap(), modified)
        })
        .collect();
    db.psql("CREATE TABLE app.added (id int PRIMARY KEY REFERENCES app.\"T\");");
    run(&[
        "dump",
        "--split",
        "per-object",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let after = walk(&out_dir);
    let new: Vec<&String> = after
        .iter()
        .filter(|f| !before.iter().any(|(b, ..)| b == *f))
        .collect();
    assert_eq!(new, ["app/tables/added.sql"], "{after:?}");
    for (file, content, modified) in &before {
        let path = out_dir.join(file);
        assert_eq!(&std::fs::read_to_string(&path).unwrap(), content, "{file}");
        assert_eq!(
            &std::fs::metadata(&path).unwrap().modified().unwrap(),
            modified,
            "{file}"
        );
    }
}

/// The files under `dir`, as sorted `/`-separated relative paths.
fn walk(dir: &std::path::Path) -> Vec<String> {
    fn visit(dir: &std::path::Path, prefix: &str, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            if entry.file_type().unwrap().is_dir() {
                visit(&entry.path(), &format!("{name}/"), out);
            } else {
                out.push(name);
            }
        }
    }
    let mut out = Vec::new();
    visit(dir, "", &mut out);
    out.sort();
    out
}

/// DDL committed while a read is under way is not half-seen: every catalog query of one read
/// shares one snapshot. The read is held mid-way while a function and a table are created;
/// later queries (functions, dependencies) ran after them but must not see them.
#[tokio::test]
async fn a_read_sees_one_snapshot_while_ddl_commits() {
    let cfg = config("");
    let db = TestDb::new();
    db.psql(
        "CREATE TABLE t (a int CHECK (a > 0));
         CREATE VIEW v AS SELECT a FROM t;
         CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';",
    );
    let before = introspect(&db, &cfg).await.schema;
    let during = read_while(
        &db,
        &cfg,
        "CREATE FUNCTION public.added() RETURNS int LANGUAGE sql AS 'SELECT 2';
         CREATE TABLE public.added_table (b int);",
    )
    .await
    .expect("introspect")
    .schema;
    assert_eq!(explain(&before, &during), "");
    assert_eq!(before.fingerprint(), during.fingerprint());
    let after = introspect(&db, &cfg).await.schema;
    assert_eq!(after.functions.len(), 2, "{:?}", after.functions.keys());
    assert!(after
        .tables
        .contains_key(&QualifiedName::new("public", "added_table")));
}

/// Objects of the read's snapshot dropped before the server deparsed them (its deparse
/// functions read the latest catalog and answer NULL): the read starts over with a new
/// snapshot and returns the schema without them, never a model with holes or a panic.
#[tokio::test]
async fn objects_dropped_during_a_read_make_it_start_over() {
    let cfg = config("");
    let db = TestDb::new();
    db.psql(
        "CREATE TABLE t (a int CHECK (a > 0));
         CREATE VIEW v AS SELECT a FROM t;
         CREATE FUNCTION gone() RETURNS int LANGUAGE sql AS 'SELECT 1';
         CREATE TABLE guarded (x int);
         CREATE POLICY only_positive ON guarded USING (x > 0) WITH CHECK (x < 100);
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
         CREATE TABLE touched (x int);
         CREATE TRIGGER touch BEFORE INSERT ON touched FOR EACH ROW EXECUTE FUNCTION touch();",
    );
    let during = read_while(
        &db,
        &cfg,
        "DROP FUNCTION public.gone(); DROP TABLE public.guarded; DROP TABLE public.touched;",
    )
    .await
    .expect("introspect")
    .schema;
    let after = introspect(&db, &cfg).await.schema;
    assert_eq!(explain(&after, &during), "");
    assert!(during.policies.is_empty() && during.triggers.is_empty());
    assert_eq!(during.functions.len(), 1, "{:?}", during.functions.keys());
}

/// A read that cannot get a lock within its lock_timeout (3 s) starts over, and after three
/// tries says so, without leaving its transaction open: waiting on would make DDL on the
/// tables it has read wait for it, and the application behind that DDL.
#[tokio::test]
async fn a_read_gives_up_on_a_lock_held_too_long() {
    let cfg = config("");
    let db = TestDb::new();
    db.psql("CREATE TABLE t (a int); CREATE VIEW v AS SELECT a FROM t;");
    let (reader, locker) = (db.client().await, db.client().await);
    locker
        .batch_execute("BEGIN; LOCK TABLE public.v IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let error = catalog::introspect(&reader, &cfg).await.unwrap_err();
    assert!(matches!(error, CatalogError::LockWait), "{error:?}");
    assert!(started.elapsed() >= std::time::Duration::from_secs(9));
    let search_path: String = reader
        .query_one("SELECT current_setting('search_path')", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(search_path, "\"$user\", public");
    let reader_pid: i32 = reader
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    let reader_state: String = locker
        .query_one(
            "SELECT state FROM pg_stat_activity WHERE pid = $1",
            &[&reader_pid],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(reader_state, "idle");
    locker.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(introspect(&db, &cfg).await.schema.views.len(), 1);
}

/// Introspects `db` with the read held at its views query (deparsing `public.v` waits for a
/// lock another session holds) while `ddl` commits, then lets it go on.
async fn read_while(db: &TestDb, cfg: &Config, ddl: &str) -> Result<Introspection, CatalogError> {
    let (reader, watcher, writer, locker) = (
        db.client().await,
        db.client().await,
        db.client().await,
        db.client().await,
    );
    locker
        .batch_execute("BEGIN; LOCK TABLE public.v IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let reader_pid: i32 = reader
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    let meanwhile = async {
        wait_for_lock(&watcher, reader_pid).await;
        writer.batch_execute(ddl).await.unwrap();
        locker.batch_execute("ROLLBACK").await.unwrap();
    };
    let (read, ()) = tokio::join!(catalog::introspect(&reader, cfg), meanwhile);
    read
}

/// Waits until backend `pid` waits for a lock (fails after 20 s: the test would prove nothing).
async fn wait_for_lock(watcher: &tokio_postgres::Client, pid: i32) {
    for _ in 0..400 {
        let waiting: bool = watcher
            .query_one(
                "SELECT coalesce(wait_event_type = 'Lock', false) FROM pg_stat_activity WHERE pid = $1",
                &[&pid],
            )
            .await
            .unwrap()
            .get(0);
        if waiting {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the read never waited for the lock on the view");
}

#[test]
fn fixtures_keep_the_blocks_of_each_major() {
    let more = include_str!("introspection/more.sql");
    let on13 = common::for_major(more, 13);
    assert!(!on13.contains("UNLOGGED SEQUENCE") && !on13.contains("BEGIN ATOMIC"));
    assert!(on13.contains("CREATE SEQUENCE \"Ops\".u_seq;"));
    let on15 = common::for_major(more, 15);
    assert!(on15.contains("UNLOGGED SEQUENCE") && on15.contains("BEGIN ATOMIC"));
    assert!(!on15.contains("CREATE SEQUENCE \"Ops\".u_seq;"));
    assert!(!on15.contains("-- pg "), "markers are not SQL");
    // After `-- end` every major has the lines.
    assert!(
        on13.contains("CREATE TABLE \"Ops\".parent_a")
            && on15.contains("CREATE TABLE \"Ops\".parent_a")
    );
}

/// A read spread over several connections (`catalog::introspect_on`) gives the same model
/// and query count as one connection, and its queries share the first connection's
/// snapshot: DDL committed while one of them waits for a lock is not seen by any of them.
#[tokio::test]
async fn a_read_spread_over_connections_sees_one_snapshot() {
    let cfg = config("");
    let db = TestDb::new();
    db.psql(&large_schema(20));
    db.psql("CREATE TABLE t (a int CHECK (a > 0)); CREATE VIEW v AS SELECT a FROM t;");
    let one = introspect(&db, &cfg).await;
    let clients = [db.client().await, db.client().await, db.client().await];
    let refs: Vec<&tokio_postgres::Client> = clients.iter().collect();
    let spread = catalog::introspect_on(&refs, &cfg).await.unwrap();
    assert_eq!(explain(&one.schema, &spread.schema), "");
    assert_eq!(one.schema.fingerprint(), spread.schema.fingerprint());
    assert_eq!(one.queries, spread.queries);

    let (watcher, writer, locker) = (db.client().await, db.client().await, db.client().await);
    locker
        .batch_execute("BEGIN; LOCK TABLE public.v IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let mut pids = Vec::new();
    for c in &clients {
        pids.push(
            c.query_one("SELECT pg_backend_pid()", &[])
                .await
                .unwrap()
                .get::<_, i32>(0),
        );
    }
    let meanwhile = async {
        'found: for _ in 0..400 {
            for pid in &pids {
                let waiting: bool = watcher
                    .query_one(
                        "SELECT coalesce(wait_event_type = 'Lock', false) FROM pg_stat_activity WHERE pid = $1",
                        &[pid],
                    )
                    .await
                    .unwrap()
                    .get(0);
                if waiting {
                    break 'found;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        writer
            .batch_execute("CREATE FUNCTION public.added() RETURNS int LANGUAGE sql AS 'SELECT 2'; CREATE TABLE public.added_table (b int);")
            .await
            .unwrap();
        locker.batch_execute("ROLLBACK").await.unwrap();
    };
    let (during, ()) = tokio::join!(catalog::introspect_on(&refs, &cfg), meanwhile);
    let during = during.unwrap().schema;
    assert_eq!(explain(&one.schema, &during), "");
    let after = introspect(&db, &cfg).await.schema;
    assert!(after
        .tables
        .contains_key(&QualifiedName::new("public", "added_table")));
}
