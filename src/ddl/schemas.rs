use super::{comment_on, grants, owner_to, GrantTarget};
use crate::model::{quote_ident, quote_literal, Collation, Extension, Namespace};

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

/// `CREATE COLLATION` with every option that tells collations apart, owner and comment.
pub fn create_collation(c: &Collation) -> String {
    let mut options = vec![format!("provider = {}", quote_ident(&c.provider))];
    let literal = |key: &str, value: &Option<String>| {
        value
            .as_ref()
            .map(|v| format!("{key} = {}", quote_literal(v)))
    };
    options.extend(literal("lc_collate", &c.lc_collate));
    options.extend(literal("lc_ctype", &c.lc_ctype));
    options.extend(literal("locale", &c.locale));
    options.extend(literal("rules", &c.rules));
    if !c.deterministic {
        options.push("deterministic = false".into());
    }
    let mut out = format!("CREATE COLLATION {} ({});\n", c.name, options.join(", "));
    let target = c.name.to_string();
    out.push_str(&owner_to("COLLATION", &target, &c.owner));
    out.push_str(&comment_on(&format!("COLLATION {target}"), &c.comment));
    out
}
