//! Suppression comments: `-- strata:ignore rule-id[, rule-id]` (or squawk's
//! `-- squawk-ignore rule-id`) silences those rules for the next statement; with no ids, every
//! rule. Aliases (`prefer-timestamptz`) name their rule.

use super::ParsedFile;

const MARKERS: [&str; 2] = ["strata:ignore", "squawk-ignore"];

struct Ignore {
    /// `None`: every rule.
    rules: Option<Vec<&'static str>>,
    first_line: usize,
    last_line: usize,
}

/// The suppression comments of one file.
pub struct Ignores(Vec<Ignore>);

impl Ignores {
    pub fn of(file: &ParsedFile) -> Ignores {
        Ignores(ignores(file))
    }

    /// Whether a finding of `rule` at `line` is silenced by a comment.
    pub fn silence(&self, rule: &str, line: usize) -> bool {
        self.0.iter().any(|ignore| {
            (ignore.first_line..=ignore.last_line).contains(&line)
                && ignore
                    .rules
                    .as_ref()
                    .is_none_or(|rules| rules.contains(&rule))
        })
    }
}

fn ignores(file: &ParsedFile) -> Vec<Ignore> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in file.text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let Some(rules) = marker(line) else {
            continue;
        };
        let (first_line, last_line) = match file.statements.iter().find(|s| s.offset >= offset) {
            Some(statement) => (
                file.position(statement.offset).0,
                file.position(statement.offset + statement.len).0,
            ),
            None => {
                let next = next_code_line(&file.text[offset..]).map_or(0, |skip| offset + skip);
                let line = file.position(next.max(start)).0;
                (line, line)
            }
        };
        out.push(Ignore {
            rules,
            first_line,
            last_line,
        });
    }
    out
}

/// The rules a suppression comment names (`Some(None)`: all), or `None` for other lines.
fn marker(line: &str) -> Option<Option<Vec<&'static str>>> {
    let ids = marker_ids(line)?;
    if ids.is_empty() {
        return Some(None);
    }
    Some(Some(
        ids.into_iter()
            .filter_map(|(_, id)| super::rule(id).map(|r| r.id))
            .collect(),
    ))
}

/// The ids a suppression comment names as written, each with its byte offset in the line
/// (empty: every rule), or `None` when the line is no suppression comment.
pub fn marker_ids(line: &str) -> Option<Vec<(usize, &str)>> {
    let body = line.trim_start().strip_prefix("--")?.trim_start();
    let rest = MARKERS.iter().find_map(|m| body.strip_prefix(m))?;
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return None; // `squawk-ignore-file`, `strata:ignored`, ...
    }
    // a trailing `-- reason` is not part of the list
    let list = rest.split("--").next().unwrap_or_default();
    let base = line.len() - rest.len();
    let mut ids = Vec::new();
    let mut at = 0;
    for piece in list.split_inclusive([',', ' ', '\t', '\n', '\r']) {
        let id = piece.trim_end_matches([',', ' ', '\t', '\n', '\r']);
        if !id.is_empty() {
            ids.push((base + at, id));
        }
        at += piece.len();
    }
    Some(ids)
}

/// Byte offset of the next line that is neither blank nor a comment.
fn next_code_line(text: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if !trimmed.is_empty() && !trimmed.starts_with("--") {
            return Some(offset + (line.len() - line.trim_start().len()));
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::config::LintConfig;
    use crate::lint::lint_sql;

    const BAD: &str = "CREATE INDEX i ON t (a);\n";

    #[test]
    fn strata_ignore_silences_the_next_statement_only() {
        let sql = format!("-- strata:ignore require-concurrent-index-creation\n{BAD}{BAD}");
        let found = lint_sql(&sql, &LintConfig::default());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, 3);
    }

    #[test]
    fn squawk_ignore_and_lists_work() {
        let sql =
            format!("-- squawk-ignore ban-drop-column, require-concurrent-index-creation\n{BAD}");
        assert!(lint_sql(&sql, &LintConfig::default()).is_empty());
    }

    #[test]
    fn other_rules_still_fire() {
        let sql = format!("-- strata:ignore ban-drop-column -- reviewed\n{BAD}");
        assert_eq!(lint_sql(&sql, &LintConfig::default()).len(), 1);
    }

    #[test]
    fn bare_marker_silences_everything_and_multiline_statements_are_covered() {
        let sql = "-- strata:ignore\nCREATE INDEX i\n  ON t (a);\n";
        assert!(lint_sql(sql, &LintConfig::default()).is_empty());
    }
}
