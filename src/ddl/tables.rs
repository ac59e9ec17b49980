use super::{
    comment_on, grants, owner_to, sequence_options, GrantTarget, StatementKind, Statements,
};
use crate::model::{
    quote_ident, Column, Constraint, ConstraintKind, Index, Name, QualifiedName, ReplicaIdentity,
    Table,
};

/// One column inside `CREATE TABLE (...)` or `ADD COLUMN`.
pub fn column_definition(c: &Column) -> String {
    let mut out = format!("{} {}", quote_ident(&c.name), c.data_type);
    if let Some(coll) = &c.collation {
        out.push_str(&format!(" COLLATE {coll}"));
    }
    if let Some(expr) = &c.generated {
        let kind = if c.generated_virtual {
            "VIRTUAL"
        } else {
            "STORED"
        };
        out.push_str(&format!(" GENERATED ALWAYS AS ({expr}) {kind}"));
    }
    if let Some(id) = &c.identity {
        out.push_str(&format!(
            " GENERATED {} AS IDENTITY (SEQUENCE NAME {} {})",
            if id.always { "ALWAYS" } else { "BY DEFAULT" },
            id.sequence,
            sequence_options(&id.options)
        ));
    }
    if let Some(default) = &c.default {
        out.push_str(&format!(" DEFAULT {default}"));
    }
    if c.not_null {
        out.push_str(" NOT NULL");
    }
    out
}

/// `CREATE TABLE` with its columns (in attnum order), partitioning, inheritance, storage
/// parameters, row level security, comments and privileges. Constraints are separate
/// (`add_constraint`), so foreign keys never make a cycle between tables.
pub fn create_table(t: &Table) -> Statements {
    let name = t.name.to_string();
    let mut sql = format!(
        "CREATE {}TABLE {name}",
        if t.unlogged { "UNLOGGED " } else { "" }
    );
    let order = column_order(t);
    // A partition's columns are always its parent's (`ATTACH PARTITION` makes them so),
    // its own defaults and NOT NULL are set after.
    if let Some(p) = &t.partition_of {
        sql.push_str(&format!(" PARTITION OF {} {}", p.parent, p.bound));
    } else {
        let columns: Vec<String> = order
            .iter()
            .filter_map(|n| t.columns.get(*n))
            .filter(|c| c.local)
            .map(|c| format!("    {}", column_definition(c)))
            .collect();
        if columns.is_empty() {
            sql.push_str(" (\n)");
        } else {
            sql.push_str(&format!(" (\n{}\n)", columns.join(",\n")));
        }
        if !t.inherits.is_empty() {
            let parents: Vec<String> = t.inherits.iter().map(|p| p.to_string()).collect();
            sql.push_str(&format!(" INHERITS ({})", parents.join(", ")));
        }
    }
    if let Some(key) = &t.partition_by {
        sql.push_str(&format!(" PARTITION BY {key}"));
    }
    if !t.options.is_empty() {
        sql.push_str(&format!(" WITH ({})", t.options.join(", ")));
    }
    let mut out = Statements::one(StatementKind::Create, sql);
    // Columns only inherited (all of a partition's) come from the parent; a default or
    // NOT NULL of their own is set after (a no-op when the parent has the same).
    for n in &order {
        let c = &t.columns[*n];
        if c.local {
            continue;
        }
        let column = quote_ident(&c.name);
        if let Some(default) = &c.default {
            out.push(
                StatementKind::AlterTable,
                format!("ALTER TABLE ONLY {name} ALTER COLUMN {column} SET DEFAULT {default}"),
            );
        }
        if c.not_null && c.identity.is_none() {
            out.push(
                StatementKind::AlterTable,
                format!("ALTER TABLE ONLY {name} ALTER COLUMN {column} SET NOT NULL"),
            );
        }
    }
    out.append(attributes(t));
    out
}

/// `t`'s column names in attnum order (or by name when the order does not list them all).
fn column_order(t: &Table) -> Vec<&Name> {
    if t.column_order.0.len() == t.columns.len() {
        t.column_order.0.iter().collect()
    } else {
        t.columns.keys().collect()
    }
}

/// A new partition built as a table of its own and attached after: every column (with its
/// default and NOT NULL) and the partitioned table's checks in `CREATE TABLE` (`ATTACH
/// PARTITION` requires them), then `keys`, its own constraints, and `indexes`, then the
/// attach, which takes each key and index as its share of the partitioned table's index it
/// matches (where `PARTITION
/// OF` would build a share of its own, leaving the key apart). The columns, checks and keys
/// end up as with `PARTITION OF`: the attach marks them inherited.
pub fn create_partition_then_attach(
    t: &Table,
    keys: &[&Constraint],
    indexes: &[&Index],
) -> Statements {
    let Some(p) = &t.partition_of else {
        return create_table(t);
    };
    let name = &t.name;
    let mut items: Vec<String> = column_order(t)
        .iter()
        .filter_map(|n| t.columns.get(*n))
        .map(|c| format!("    {}", column_definition(c)))
        .collect();
    items.extend(
        t.constraints
            .values()
            .filter(|c| !c.local && c.kind == ConstraintKind::Check)
            .map(|c| format!("    CONSTRAINT {} {}", quote_ident(&c.name), c.definition)),
    );
    let mut sql = format!(
        "CREATE {}TABLE {name} (\n{}\n)",
        if t.unlogged { "UNLOGGED " } else { "" },
        items.join(",\n")
    );
    if !t.options.is_empty() {
        sql.push_str(&format!(" WITH ({})", t.options.join(", ")));
    }
    let mut out = Statements::one(StatementKind::Create, sql);
    for c in keys {
        // The attach below takes the key's index as its share: no `ALTER INDEX` of its own.
        let own = Constraint {
            index_parent: None,
            ..(*c).clone()
        };
        out.append(super::constraints::add_constraint(name, &own));
    }
    for i in indexes {
        // Likewise: the attach takes the index as its share.
        let own = Index {
            parent: None,
            ..(*i).clone()
        };
        out.append(super::indexes::create_index(&own));
    }
    out.push(
        StatementKind::Create,
        format!(
            "ALTER TABLE {} ATTACH PARTITION {name} {}",
            p.parent, p.bound
        ),
    );
    out.append(attributes(t));
    out
}

/// What follows a table's `CREATE TABLE`: row level security, replica identity (but `USING
/// INDEX`), owner, comments, grants.
fn attributes(t: &Table) -> Statements {
    let name = t.name.to_string();
    let order = column_order(t);
    let mut out = Statements::new();
    if t.rls_enabled {
        out.push(
            StatementKind::AlterTable,
            format!("ALTER TABLE {name} ENABLE ROW LEVEL SECURITY"),
        );
    }
    if t.rls_forced {
        out.push(
            StatementKind::AlterTable,
            format!("ALTER TABLE {name} FORCE ROW LEVEL SECURITY"),
        );
    }
    if !matches!(t.replica_identity, ReplicaIdentity::Index(_)) {
        out.append(replica_identity(&t.name, &t.replica_identity));
    }
    out.append(owner_to("TABLE", &name, &t.owner));
    out.append(comment_on(&format!("TABLE {name}"), &t.comment));
    for n in &order {
        let c = &t.columns[*n];
        let col = format!("{name}.{}", quote_ident(&c.name));
        out.append(comment_on(&format!("COLUMN {col}"), &c.comment));
    }
    out.append(grants(GrantTarget::Table(&name), &t.grants));
    for n in &order {
        let c = &t.columns[*n];
        out.append(grants(GrantTarget::Column(&name, &c.name), &c.grants));
    }
    out
}

/// `ALTER TABLE t REPLICA IDENTITY ...` (nothing for the default, which a new table has).
/// `USING INDEX` is rendered with the index, which must exist first.
pub fn replica_identity(table: &QualifiedName, ri: &ReplicaIdentity) -> Statements {
    let what = match ri {
        ReplicaIdentity::Default => return Statements::new(),
        ReplicaIdentity::Full => "FULL".to_string(),
        ReplicaIdentity::Nothing => "NOTHING".to_string(),
        ReplicaIdentity::Index(index) => format!("USING INDEX {}", quote_ident(index)),
    };
    Statements::one(
        StatementKind::AlterTable,
        format!("ALTER TABLE {table} REPLICA IDENTITY {what}"),
    )
}

/// The constraint that creates constraint `name` of `table`: itself when it is the table's
/// own, else (a partition's key or unique constraint) its partitioned table's constraint of
/// the same kind on the same columns, up the hierarchy.
pub fn creating_constraint(
    schema: &crate::model::Schema,
    table: &QualifiedName,
    name: &str,
) -> Option<(QualifiedName, Name)> {
    let t = schema.tables.get(table)?;
    let c = t.constraints.get(name)?;
    if c.local {
        return Some((table.clone(), c.name.clone()));
    }
    let parent = t.partition_of.as_ref()?.parent.clone();
    let p = schema.tables.get(&parent)?;
    let same = p
        .constraints
        .values()
        .find(|pc| pc.kind == c.kind && pc.columns == c.columns)?;
    creating_constraint(schema, &parent, &same.name)
}

/// The defaults an inherited column of a new partition or child table takes from `parent`
/// but does not have: `DROP DEFAULT`s to run after `create_table`.
pub fn dropped_inherited_defaults(t: &Table, parent: &Table) -> Statements {
    let mut out = Statements::new();
    for n in t.column_order.0.iter() {
        let Some(c) = t.columns.get(n) else { continue };
        let inherited = parent.columns.get(n).and_then(|p| p.default.as_ref());
        if !c.local && c.default.is_none() && c.generated.is_none() && inherited.is_some() {
            out.push(
                StatementKind::AlterTable,
                format!(
                    "ALTER TABLE ONLY {} ALTER COLUMN {} DROP DEFAULT",
                    t.name,
                    quote_ident(&c.name)
                ),
            );
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::*;

    pub(crate) fn column(name: &str, data_type: &str) -> Column {
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

    pub(crate) fn table(schema: &str, name: &str, columns: Vec<Column>) -> Table {
        Table {
            name: QualifiedName::new(schema, name),
            column_order: ColumnOrder(columns.iter().map(|c| c.name.clone()).collect()),
            columns: columns.into_iter().map(|c| (c.name.clone(), c)).collect(),
            constraints: SortedMap::new(),
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

    #[test]
    fn identifiers_and_literals_are_quoted() {
        let mut id = column("ID", "bigint");
        id.not_null = true;
        id.identity = Some(Box::new(Identity {
            always: true,
            sequence: QualifiedName::new("My Schema", "t_ID_seq"),
            options: SequenceOptions {
                data_type: "bigint".into(),
                start: 1,
                increment: 1,
                min_value: 1,
                max_value: i64::MAX,
                cache: 1,
                cycle: false,
            },
        }));
        let mut note = column("say \"hi\"", "text");
        note.default = Some("'it''s'::text".into());
        note.comment = Some("it's".into());
        let mut t = table("My Schema", "täble", vec![id, note]);
        t.comment = Some("a \\ b".into());
        t.grants.insert(Grant {
            grantee: "Read Only".into(),
            privilege: Privilege::Select,
            grantable: false,
        });
        assert_eq!(
            create_table(&t).to_string(),
            "CREATE TABLE \"My Schema\".\"täble\" (\n    \"ID\" bigint GENERATED ALWAYS AS IDENTITY \
             (SEQUENCE NAME \"My Schema\".\"t_ID_seq\" START WITH 1 INCREMENT BY 1 MINVALUE 1 \
             MAXVALUE 9223372036854775807 CACHE 1 NO CYCLE) NOT NULL,\n    \"say \"\"hi\"\"\" text \
             DEFAULT 'it''s'::text\n);\n\
             COMMENT ON TABLE \"My Schema\".\"täble\" IS E'a \\\\ b';\n\
             COMMENT ON COLUMN \"My Schema\".\"täble\".\"say \"\"hi\"\"\" IS 'it''s';\n\
             GRANT SELECT ON TABLE \"My Schema\".\"täble\" TO \"Read Only\";\n"
        );
    }

    #[test]
    fn columns_come_in_attnum_order_and_inherited_ones_are_left_to_the_parent() {
        let mut t = table("s", "t", vec![column("b", "int"), column("a", "int")]);
        t.columns.get_mut("a").unwrap().local = false;
        t.inherits = vec![QualifiedName::new("s", "p")];
        assert_eq!(
            create_table(&t).to_string(),
            "CREATE TABLE s.t (\n    b integer\n) INHERITS (s.p);\n".replace("integer", "int")
        );
    }

    /// A new partition whose key must back its parent's index: a table of its own with every
    /// column and the parent's check, its key, then the attach (which takes the key).
    #[test]
    fn a_partition_attached_after_has_every_column_its_checks_and_keys_first() {
        let mut at = column("at", "date");
        at.local = false;
        at.not_null = true;
        let mut v = column("v", "int");
        v.local = false;
        v.default = Some("1".into());
        let mut t = table("s", "p_1", vec![at, v]);
        t.partition_of = Some(PartitionOf {
            parent: QualifiedName::new("s", "p"),
            bound: "FOR VALUES IN ('2024-01-01')".into(),
        });
        let constraint = |name: &str, kind, definition: &str, local| Constraint {
            name: name.into(),
            kind,
            definition: definition.into(),
            columns: vec!["at".into()],
            references: None,
            validated: true,
            deferrable: false,
            initially_deferred: false,
            local,
            comment: None,
            index_options: Vec::new(),
            index_parent: None,
        };
        let check = constraint("p_v_check", ConstraintKind::Check, "CHECK ((v > 0))", false);
        let mut key = constraint(
            "p_1_pkey",
            ConstraintKind::PrimaryKey,
            "PRIMARY KEY (at)",
            true,
        );
        key.index_parent = Some(QualifiedName::new("s", "p_at"));
        t.constraints.insert(check.name.clone(), check);
        t.constraints.insert(key.name.clone(), key.clone());
        assert_eq!(
            create_partition_then_attach(&t, &[&key], &[]).to_string(),
            "CREATE TABLE s.p_1 (\n    at date NOT NULL,\n    v int DEFAULT 1,\n    \
             CONSTRAINT p_v_check CHECK ((v > 0))\n);\n\
             ALTER TABLE s.p_1 ADD CONSTRAINT p_1_pkey PRIMARY KEY (at);\n\
             ALTER TABLE s.p ATTACH PARTITION s.p_1 FOR VALUES IN ('2024-01-01');\n"
        );
    }

    /// Each statement says what it does; the diff used to guess from the text, and took an
    /// inherited column's default mentioning ` TRIGGER ` for a trigger change.
    #[test]
    fn statements_carry_their_kind_whatever_their_text() {
        let mut t = table("s", "t", vec![column("a", "text")]);
        let a = t.columns.get_mut("a").unwrap();
        a.local = false;
        a.default = Some("'x TRIGGER y'::text".into());
        t.inherits = vec![QualifiedName::new("s", "p")];
        t.rls_enabled = true;
        t.owner = Some("o".into());
        t.comment = Some("ALTER TABLE x".into());
        let rendered = create_table(&t);
        let kinds: Vec<(StatementKind, &str)> = rendered
            .iter()
            .map(|s| (s.kind, &s.sql[..s.sql.find(' ').unwrap()]))
            .collect();
        assert_eq!(
            kinds,
            [
                (StatementKind::Create, "CREATE"),
                (StatementKind::AlterTable, "ALTER"),
                (StatementKind::AlterTable, "ALTER"),
                (StatementKind::Owner, "ALTER"),
                (StatementKind::Comment, "COMMENT"),
            ]
        );
        assert!(rendered
            .to_string()
            .contains("SET DEFAULT 'x TRIGGER y'::text;\nALTER TABLE s.t ENABLE"));
    }
}
