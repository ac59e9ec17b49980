use super::{comment_on, grants, owner_to, sequence_options, GrantTarget};
use crate::model::{quote_ident, Column, Table};

/// One column inside `CREATE TABLE (...)` or `ADD COLUMN`.
pub fn column_definition(c: &Column) -> String {
    let mut out = format!("{} {}", quote_ident(&c.name), c.data_type);
    if let Some(coll) = &c.collation {
        out.push_str(&format!(" COLLATE {coll}"));
    }
    if let Some(expr) = &c.generated {
        out.push_str(&format!(" GENERATED ALWAYS AS ({expr}) STORED"));
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
pub fn create_table(t: &Table) -> String {
    let name = t.name.to_string();
    let mut out = format!(
        "CREATE {}TABLE {name}",
        if t.unlogged { "UNLOGGED " } else { "" }
    );
    let order: Vec<&String> = if t.column_order.0.len() == t.columns.len() {
        t.column_order.0.iter().collect()
    } else {
        t.columns.keys().collect()
    };
    if let Some(p) = &t.partition_of {
        out.push_str(&format!(" PARTITION OF {} {}", p.parent, p.bound));
    } else {
        let columns: Vec<String> = order
            .iter()
            .filter_map(|n| t.columns.get(*n))
            .filter(|c| c.local)
            .map(|c| format!("    {}", column_definition(c)))
            .collect();
        if columns.is_empty() {
            out.push_str(" (\n)");
        } else {
            out.push_str(&format!(" (\n{}\n)", columns.join(",\n")));
        }
        if !t.inherits.is_empty() {
            let parents: Vec<String> = t.inherits.iter().map(|p| p.to_string()).collect();
            out.push_str(&format!(" INHERITS ({})", parents.join(", ")));
        }
    }
    if let Some(key) = &t.partition_by {
        out.push_str(&format!(" PARTITION BY {key}"));
    }
    if !t.options.is_empty() {
        out.push_str(&format!(" WITH ({})", t.options.join(", ")));
    }
    out.push_str(";\n");
    if t.partition_of.is_some() {
        // Partitions take their columns from the parent; what is their own is set after.
        for n in &order {
            let c = &t.columns[*n];
            if let Some(default) = &c.default {
                out.push_str(&format!(
                    "ALTER TABLE ONLY {name} ALTER COLUMN {} SET DEFAULT {default};\n",
                    quote_ident(&c.name)
                ));
            }
        }
    }
    if t.rls_enabled {
        out.push_str(&format!("ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;\n"));
    }
    if t.rls_forced {
        out.push_str(&format!("ALTER TABLE {name} FORCE ROW LEVEL SECURITY;\n"));
    }
    out.push_str(&owner_to("TABLE", &name, &t.owner));
    out.push_str(&comment_on(&format!("TABLE {name}"), &t.comment));
    for n in &order {
        let c = &t.columns[*n];
        let col = format!("{name}.{}", quote_ident(&c.name));
        out.push_str(&comment_on(&format!("COLUMN {col}"), &c.comment));
    }
    out.push_str(&grants(GrantTarget::Table(&name), &t.grants));
    for n in &order {
        let c = &t.columns[*n];
        out.push_str(&grants(GrantTarget::Column(&name, &c.name), &c.grants));
    }
    out
}
