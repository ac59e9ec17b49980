//! `unknown-ignore-rule`: a suppression comment (`-- strata:ignore`, `-- squawk-ignore`) names
//! a rule id that neither strata nor squawk knows, so it silences nothing (often a typo).

use super::suppress::marker_ids;
use super::{Check, Hit, Level, ParsedFile, Rule};
use crate::config::LintConfig;

pub const RULE: Rule = Rule {
    id: "unknown-ignore-rule",
    level: Level::Warning,
    summary: "A suppression comment names a rule id that does not exist, so it silences nothing.",
    help: "Correct the id (docs/lint.md lists them) or remove it from the comment.",
    check: Check::Strata(check),
};

fn check(files: &[ParsedFile], _: &LintConfig) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (index, file) in files.iter().enumerate() {
        let mut offset = 0;
        for line in file.text.split_inclusive('\n') {
            for (at, id) in marker_ids(line).unwrap_or_default() {
                // squawk's opt-in rules are real ids even though strata does not run them
                if super::rule(id).is_none() && squawk_linter::Rule::try_from(id).is_err() {
                    hits.push(Hit {
                        file: index,
                        offset: offset + at,
                        message: format!("no rule `{id}`: this comment silences nothing"),
                    });
                }
            }
            offset += line.len();
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use crate::config::LintConfig;
    use crate::lint::lint_sql;

    #[test]
    fn a_misspelt_id_is_reported_where_it_is_written() {
        let found = lint_sql(
            "-- strata:ignore ban-drop-colum, ban-drop-table\nDROP TABLE t;\n",
            &LintConfig::default(),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, "unknown-ignore-rule");
        assert_eq!((found[0].line, found[0].column), (1, 18));
        assert!(found[0].message.contains("`ban-drop-colum`"));
    }

    #[test]
    fn known_ids_aliases_and_squawk_opt_in_ids_are_fine() {
        let found = lint_sql(
            "-- squawk-ignore prefer-timestamptz, ban-drop-index -- reason\nSELECT 1;\n",
            &LintConfig::default(),
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
