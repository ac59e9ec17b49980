//! Findings for people (text) and machines (JSON, GitHub annotations, SARIF 2.1.0).
//! The JSON and SARIF shapes are documented in docs/lint.md and stay stable.

use super::{Check, Finding, Level, RULES};
use serde_json::{json, Value};

/// `path:line:column: level[rule]: message` and a help line per finding, then a summary.
pub fn text(findings: &[Finding], files: usize) -> String {
    let mut out = String::new();
    for f in findings {
        out.push_str(&format!(
            "{}:{}:{}: {}[{}]: {}\n  help: {}\n",
            f.file,
            f.line,
            f.column,
            level_word(f.level),
            f.rule,
            f.message,
            f.help
        ));
    }
    out.push_str(&summary(findings, files));
    out.push('\n');
    out
}

/// `3 files checked: 1 error, 2 warnings`.
pub fn summary(findings: &[Finding], files: usize) -> String {
    let (errors, warnings) = counts(findings);
    format!(
        "{} checked: {errors} {}, {warnings} {}",
        plural(files, "file", "files"),
        plural_word(errors, "error", "errors"),
        plural_word(warnings, "warning", "warnings"),
    )
}

/// `{"version": 1, "files": N, "errors": N, "warnings": N, "findings": [...]}`.
pub fn json(findings: &[Finding], files: usize) -> Value {
    let (errors, warnings) = counts(findings);
    json!({
        "version": 1,
        "files": files,
        "errors": errors,
        "warnings": warnings,
        "findings": findings,
    })
}

/// GitHub Actions workflow commands: one `::error`/`::warning` line per finding.
pub fn github(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| {
            format!(
                "::{} file={},line={},col={},title={}::{}\n",
                level_word(f.level),
                escape_property(&f.file),
                f.line,
                f.column,
                escape_property(f.rule),
                escape_data(&format!("{} ({})", f.message, f.help)),
            )
        })
        .collect()
}

/// SARIF 2.1.0: one run; the driver's rules are the registry, results point into it.
pub fn sarif(findings: &[Finding]) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|rule| {
            let mut value = json!({
                "id": rule.id,
                "shortDescription": { "text": rule.summary },
                "help": { "text": rule.help },
                "defaultConfiguration": { "level": sarif_level(rule.level) },
            });
            if let Check::Squawk(_) = rule.check {
                value["helpUri"] = json!(format!("https://squawkhq.com/docs/{}", rule.id));
            }
            value
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.rule,
                "ruleIndex": RULES.iter().position(|r| r.id == f.rule),
                "level": sarif_level(f.level),
                "message": { "text": format!("{} ({})", f.message, f.help) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": f.file },
                        "region": { "startLine": f.line, "startColumn": f.column },
                    }
                }],
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "strata",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/strata/strata/blob/main/docs/lint.md",
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

fn counts(findings: &[Finding]) -> (usize, usize) {
    let errors = findings.iter().filter(|f| f.level == Level::Error).count();
    let warnings = findings
        .iter()
        .filter(|f| f.level == Level::Warning)
        .count();
    (errors, warnings)
}

fn level_word(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Off => "off",
    }
}

fn sarif_level(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Off => "none",
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", plural_word(n, one, many))
}

fn plural_word<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding() -> Finding {
        Finding {
            rule: "ban-drop-column",
            level: Level::Error,
            file: "migrations/0001_a,b.sql".into(),
            line: 3,
            column: 1,
            message: "Dropping a column: 100% sure?".into(),
            help: "Drop it later.".into(),
        }
    }

    #[test]
    fn text_lists_findings_and_counts() {
        let out = text(&[finding()], 2);
        assert_eq!(
            out,
            "migrations/0001_a,b.sql:3:1: error[ban-drop-column]: Dropping a column: 100% sure?\n  \
             help: Drop it later.\n2 files checked: 1 error, 0 warnings\n"
        );
    }

    #[test]
    fn github_escapes_properties_and_data() {
        assert_eq!(
            github(&[finding()]),
            "::error file=migrations/0001_a%2Cb.sql,line=3,col=1,title=ban-drop-column::\
             Dropping a column: 100%25 sure? (Drop it later.)\n"
        );
    }

    #[test]
    fn sarif_points_results_at_registry_rules() {
        let value = sarif(&[finding()]);
        let run = &value["runs"][0];
        let index = run["results"][0]["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            run["tool"]["driver"]["rules"][index]["id"],
            "ban-drop-column"
        );
        assert_eq!(value["version"], "2.1.0");
    }

    #[test]
    fn json_is_versioned() {
        let value = json(&[finding()], 1);
        assert_eq!(value["version"], 1);
        assert_eq!(value["errors"], 1);
        assert_eq!(value["findings"][0]["rule"], "ban-drop-column");
        assert_eq!(value["findings"][0]["level"], "error");
    }
}

#[cfg(test)]
mod snapshots {
    use crate::config::{LintConfig, Naming};
    use crate::lint::{lint, FileKind, Input};

    /// A migration and a plan that between them trip squawk rules, configured rules, a hazard
    /// and a suppression: the text and JSON a reviewer and a machine see.
    fn findings() -> Vec<crate::lint::Finding> {
        let config = LintConfig {
            naming: Some(Naming::SnakeCase),
            require_primary_key: true,
            banned_types: vec!["json".into()],
            ..LintConfig::default()
        };
        lint(
            &[
                Input {
                    path: "migrations/0003_events.sql".into(),
                    text: "CREATE TABLE \"Events\" (payload json);\n\
                           -- strata:ignore ban-drop-column\n\
                           ALTER TABLE users DROP COLUMN legacy;\n\
                           CREATE INDEX users_email ON users (email);\n"
                        .into(),
                    kind: FileKind::Migration,
                },
                Input {
                    path: "pending.sql".into(),
                    text: "-- ==== stage contract (schema, phase contract)\n\n\
                           -- hazards: destructive\nDROP TABLE old_things;\n"
                        .into(),
                    kind: FileKind::Pending,
                },
            ],
            &config,
        )
    }

    #[test]
    fn text() {
        insta::assert_snapshot!(super::text(&findings(), 2));
    }

    #[test]
    fn json() {
        insta::assert_json_snapshot!(super::json(&findings(), 2));
    }
}
