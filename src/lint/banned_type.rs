//! `banned-type`: columns (CREATE TABLE, ADD COLUMN, ALTER COLUMN TYPE, composite types) of a
//! type listed in `[lint] banned_types`. A type is written as in SQL; `varchar(n)` bans
//! only the form with a length, `varchar` both.

use super::{Check, Hit, Level, ParsedFile, Rule};
use crate::config::LintConfig;
use pg_query::protobuf::TypeName;
use pg_query::NodeEnum;

pub const RULE: Rule = Rule {
    id: "banned-type",
    level: Level::Error,
    summary: "A column uses a type listed in `[lint] banned_types` (configured rule).",
    help: "Use the type your team prefers instead (e.g. timestamptz for timestamp, text for varchar(n)).",
    check: Check::Strata(check),
};

/// One entry of `banned_types`, resolved to PostgreSQL's own type name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BannedType {
    /// As written in pipeline.toml.
    pub written: String,
    /// The type's internal name (`timestamp`, `varchar`, `int4`, ...).
    name: String,
    /// Written with a `(n)` modifier: only the form with one is banned.
    with_modifier: bool,
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
        let tree = pg_query::parse(&sql).map_err(|_| not_a_type())?;
        let Some(NodeEnum::CreateStmt(create)) = tree
            .protobuf
            .stmts
            .first()
            .and_then(|s| s.stmt.as_ref())
            .and_then(|s| s.node.as_ref())
        else {
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

    fn matches(&self, ty: &TypeName) -> bool {
        type_name(ty).as_deref() == Some(self.name.as_str())
            && (!self.with_modifier || !ty.typmods.is_empty())
    }
}

fn type_name(ty: &TypeName) -> Option<String> {
    ty.names
        .last()
        .and_then(super::parse::string_value)
        .map(str::to_string)
}

fn check(files: &[ParsedFile], config: &LintConfig) -> Vec<Hit> {
    // the manifest was checked when loaded; an entry that does not parse bans nothing
    let banned: Vec<BannedType> = config
        .banned_types
        .iter()
        .filter_map(|t| BannedType::parse(t).ok())
        .collect();
    if banned.is_empty() {
        return Vec::new();
    }
    let mut hits = Vec::new();
    for (index, file) in files.iter().enumerate() {
        for statement in &file.statements {
            for (table, def) in statement.column_defs() {
                let Some(ty) = &def.type_name else {
                    continue;
                };
                if let Some(ban) = banned.iter().find(|b| b.matches(ty)) {
                    let column = if def.colname.is_empty() {
                        table.relname.clone()
                    } else {
                        format!("{}.{}", table.relname, def.colname)
                    };
                    hits.push(Hit {
                        file: index,
                        offset: statement.at(ty.location),
                        message: format!("`{column}` uses banned type `{}`", ban.written),
                    });
                }
            }
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::BannedType;
    use crate::config::LintConfig;
    use crate::lint::lint_sql;

    fn found(banned: &[&str], sql: &str) -> Vec<String> {
        let config = LintConfig {
            banned_types: banned.iter().map(|s| s.to_string()).collect(),
            ..LintConfig::default()
        };
        lint_sql(sql, &config)
            .into_iter()
            .filter(|f| f.rule == "banned-type")
            .map(|f| f.message)
            .collect()
    }

    #[test]
    fn spellings_resolve_to_the_same_type() {
        let sql = "CREATE TABLE e (id bigint PRIMARY KEY, at timestamp without time zone);";
        assert_eq!(
            found(&["timestamp"], sql),
            ["`e.at` uses banned type `timestamp`"]
        );
        assert_eq!(found(&["timestamp without time zone"], sql).len(), 1);
        assert!(found(&["timestamptz"], sql).is_empty());
        assert_eq!(
            found(&["integer"], "ALTER TABLE t ADD COLUMN n int;").len(),
            1
        );
    }

    #[test]
    fn a_modifier_bans_only_the_sized_form() {
        let sql = "CREATE TABLE u (a varchar(20), b character varying);";
        assert_eq!(
            found(&["varchar(n)"], sql),
            ["`u.a` uses banned type `varchar(n)`"]
        );
        assert_eq!(found(&["varchar"], sql).len(), 2);
    }

    #[test]
    fn column_type_changes_are_checked() {
        assert_eq!(
            found(&["json"], "ALTER TABLE t ALTER COLUMN c TYPE json;").len(),
            1
        );
    }

    #[test]
    fn nonsense_is_rejected() {
        assert!(BannedType::parse("not a type at all").is_err());
        assert!(BannedType::parse("varchar(").is_err());
        assert!(BannedType::parse("serial").is_ok());
    }
}
