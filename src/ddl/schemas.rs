use super::{comment_on, grants, owner_to, GrantTarget};
use crate::model::{quote_ident, quote_literal, Extension, Namespace};

/// `CREATE SCHEMA IF NOT EXISTS` (`public` exists in every new database).
pub fn create_schema(schema: &Namespace) -> String {
    let name = quote_ident(&schema.name);
    let mut out = format!("CREATE SCHEMA IF NOT EXISTS {name};\n");
    out.push_str(&owner_to("SCHEMA", &name, &schema.owner));
    out.push_str(&comment_on(&format!("SCHEMA {name}"), &schema.comment));
    out.push_str(&grants(GrantTarget::Schema(&name), &schema.grants));
    out
}

pub fn create_extension(ext: &Extension) -> String {
    let name = quote_ident(&ext.name);
    let mut out = format!(
        "CREATE EXTENSION IF NOT EXISTS {name} WITH SCHEMA {} VERSION {};\n",
        quote_ident(&ext.schema),
        quote_literal(&ext.version)
    );
    out.push_str(&comment_on(&format!("EXTENSION {name}"), &ext.comment));
    out
}
