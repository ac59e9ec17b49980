//! `banned-type`: columns (CREATE TABLE, ADD COLUMN, ALTER COLUMN TYPE, composite types) of a
//! type listed in `[lint] banned_types`. A type is written as in SQL; `varchar(n)` bans
//! only the form with a length, `varchar` both.

use super::{Check, Hit, Level, ParsedFile, Rule};
use crate::config::banned_type::{type_name, BannedType};
use crate::config::LintConfig;
use pg_query::protobuf::TypeName;

pub const RULE: Rule = Rule {
    id: "banned-type",
    level: Level::Error,
    summary: "A column uses a type listed in `[lint] banned_types` (configured rule).",
    help: "Use the type your team prefers instead (e.g. timestamptz for timestamp, text for varchar(n)).",
    check: Check::Strata(check),
};

/// Whether a column's type is the banned one.
fn matches(ban: &BannedType, ty: &TypeName) -> bool {
    type_name(ty).as_deref() == Some(ban.name.as_str())
        && (!ban.with_modifier || !ty.typmods.is_empty())
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
                if let Some(ban) = banned.iter().find(|b| matches(b, ty)) {
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
}
