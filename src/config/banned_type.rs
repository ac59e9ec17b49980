//! `[lint] banned_types`: each entry, as written in the manifest, resolved to PostgreSQL's own
//! type name when the manifest is loaded (so a type that is not one is an error with its span);
//! `lint::banned_type` matches columns against them.

use pg_query::protobuf::TypeName;
use pg_query::NodeEnum;

/// One entry of `banned_types`, resolved to PostgreSQL's own type name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BannedType {
    /// As written in pipeline.toml.
    pub written: String,
    /// The type's internal name (`timestamp`, `varchar`, `int4`, ...).
    pub name: String,
    /// Written with a `(n)` modifier: only the form with one is banned.
    pub with_modifier: bool,
}

impl BannedType {
    pub fn parse(written: &str) -> Result<BannedType, String> {
        let trimmed = written.trim();
        let (base, with_modifier) = match trimmed.split_once('(') {
            Some((base, rest)) if rest.trim_end().ends_with(')') => (base.trim(), true),
            Some(_) => return Err(format!("`{written}` is not a type")),
            None => (trimmed, false),
        };
        let sql = format!("CREATE TABLE t (c {base})");
        let not_a_type = || format!("`{written}` is not a type");
        let Some(NodeEnum::CreateStmt(create)) = crate::sqlparse::first_statement(&sql) else {
            return Err(not_a_type());
        };
        let name = match create.table_elts.as_slice() {
            [elt] => match &elt.node {
                Some(NodeEnum::ColumnDef(def)) => def.type_name.as_ref().and_then(type_name),
                _ => None,
            },
            _ => None,
        };
        Ok(BannedType {
            written: written.to_string(),
            name: name.ok_or_else(not_a_type)?,
            with_modifier,
        })
    }
}

/// The type's own name: the last part of a possibly qualified name (`pg_catalog.int4`).
pub fn type_name(ty: &TypeName) -> Option<String> {
    match ty.names.last()?.node.as_ref()? {
        NodeEnum::String(s) => Some(s.sval.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::BannedType;

    #[test]
    fn nonsense_is_rejected() {
        assert!(BannedType::parse("not a type at all").is_err());
        assert!(BannedType::parse("varchar(").is_err());
        assert!(BannedType::parse("serial").is_ok());
    }
}
