use super::{comment_on, grants, owner_to, GrantTarget, StatementKind, Statements};
use crate::model::{quote_ident, quote_literal, Collation, Extension, Namespace};

/// `CREATE SCHEMA IF NOT EXISTS` (`public` exists in every new database).
pub fn create_schema(schema: &Namespace) -> Statements {
    let name = quote_ident(&schema.name);
    let mut out = Statements::one(
        StatementKind::Create,
        format!("CREATE SCHEMA IF NOT EXISTS {name}"),
    );
    out.append(owner_to("SCHEMA", &name, &schema.owner));
    out.append(comment_on(&format!("SCHEMA {name}"), &schema.comment));
    out.append(grants(GrantTarget::Schema(&name), &schema.grants));
    out
}

pub fn create_extension(ext: &Extension) -> Statements {
    let name = quote_ident(&ext.name);
    let mut out = Statements::one(
        StatementKind::Create,
        format!(
            "CREATE EXTENSION IF NOT EXISTS {name} WITH SCHEMA {} VERSION {}",
            quote_ident(&ext.schema),
            quote_literal(&ext.version)
        ),
    );
    out.append(comment_on(&format!("EXTENSION {name}"), &ext.comment));
    out
}

/// `CREATE COLLATION` with every option that tells collations apart, owner and comment.
pub fn create_collation(c: &Collation) -> Statements {
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
    let mut out = Statements::one(
        StatementKind::Create,
        format!("CREATE COLLATION {} ({})", c.name, options.join(", ")),
    );
    let target = c.name.to_string();
    out.append(owner_to("COLLATION", &target, &c.owner));
    out.append(comment_on(&format!("COLLATION {target}"), &c.comment));
    out
}
