//! `pending.sql`: the reviewed plan. Rendered by `plan`, read back by `run` and `check`.
//!
//! The file is SQL a reviewer can read top to bottom. A header binds it to the world it was
//! made in; each stage starts with a `-- ==== stage NAME (KIND...)` line; each schema
//! statement carries its hazards (`-- hazards: ...`) and, when it cannot run inside a
//! transaction, `-- strata:no-transaction`; pending migrations are inlined between
//! `-- begin migration` and `-- end migration` with their checksums.

use crate::config::{Phase, StageKind};
use crate::diff::hazard::{self, HazardKind};
use crate::source::statements::{self, SourceError};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub const FILE_NAME: &str = "pending.sql";
const STAGE_MARK: &str = "-- ==== stage ";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub source_fingerprint: String,
    pub desired_fingerprint: String,
    pub target: String,
    pub planned_at: String,
    pub summary: String,
    /// Objects changed outside strata since the last run, one line each (empty: no drift).
    pub drift: Vec<String>,
    pub stages: Vec<PlannedStage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedStage {
    pub name: String,
    pub kind: StageKind,
    pub phase: Option<Phase>,
    pub body: StageBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum StageBody {
    Statements { statements: Vec<PlannedStatement> },
    Migrations { migrations: Vec<PlannedMigration> },
    Hook { command: Option<String> },
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedStatement {
    pub sql: String,
    /// Its hazards (docs/hazards.md); pending.sql writes their ids.
    pub hazards: Vec<HazardKind>,
    pub transactional: bool,
    /// 1-based line of the statement in pending.sql, 0 for a plan not read from a file.
    /// Where a statement is says nothing about what it is: left out of comparisons.
    #[serde(skip)]
    pub line: usize,
}

impl PartialEq for PlannedStatement {
    fn eq(&self, other: &PlannedStatement) -> bool {
        (&self.sql, &self.hazards, self.transactional)
            == (&other.sql, &other.hazards, other.transactional)
    }
}

impl Eq for PlannedStatement {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedMigration {
    pub file: String,
    pub checksum: String,
    pub directives: Vec<String>,
    pub text: String,
}

impl Plan {
    pub fn statement_count(&self) -> usize {
        self.stages
            .iter()
            .map(|s| match &s.body {
                StageBody::Statements { statements } => statements.len(),
                _ => 0,
            })
            .sum()
    }

    pub fn migrations(&self) -> impl Iterator<Item = &PlannedMigration> {
        self.stages.iter().flat_map(|s| match &s.body {
            StageBody::Migrations { migrations } => migrations.as_slice(),
            _ => &[],
        })
    }

    pub fn hazards(&self) -> impl Iterator<Item = HazardKind> + '_ {
        self.stages.iter().flat_map(|s| match &s.body {
            StageBody::Statements { statements } => statements
                .iter()
                .flat_map(|st| st.hazards.iter().copied())
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        })
    }

    /// Whether executing the plan changes anything at all.
    pub fn is_empty(&self) -> bool {
        self.statement_count() == 0 && self.migrations().next().is_none()
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("-- strata pending plan. Review it; after merge, `strata run` executes it as written.\n");
        push_header(&mut out, "source-fingerprint", &self.source_fingerprint);
        push_header(&mut out, "desired-fingerprint", &self.desired_fingerprint);
        push_header(&mut out, "target", &self.target);
        push_header(&mut out, "planned-at", &self.planned_at);
        push_header(&mut out, "summary", &self.summary);
        push_header(&mut out, DIGEST, &self.digest());
        if self.drift.is_empty() {
            push_header(&mut out, "drift", "none");
        } else {
            for line in &self.drift {
                push_header(&mut out, "drift", line);
            }
        }
        for stage in &self.stages {
            out.push('\n');
            render_stage(&mut out, stage);
        }
        out
    }

    /// Parses pending.sql and checks it before anything trusts it: the digest must match
    /// (else the file was edited after planning), and every statement of a schema stage must
    /// be a schema change whose `destructive` hazard, when it is one, is written
    /// (`plan::classify`, without the target's schema; `run` checks again with it).
    pub fn parse(path: &str, text: &str) -> Result<Plan, SourceError> {
        let parser = Parser { path, text };
        let plan = parser.plan()?;
        let review = super::classify::review(&plan, None);
        if let Some(refused) = review.refused.first() {
            return Err(parser.at_line(refused.line, refused.message.clone()));
        }
        parser.check_digest(&plan)?;
        Ok(plan)
    }

    /// The checks of `parse`, for `strata lint`, on a file that may be a fragment: one
    /// without the plan's header (`-- source-fingerprint:`) is checked statement by
    /// statement only (its schema stages hold schema changes, destructive ones say so).
    pub fn check_text(path: &str, text: &str) -> Result<(), SourceError> {
        let parser = Parser { path, text };
        if parser.header_line("source-fingerprint").is_some() {
            return Plan::parse(path, text).map(drop);
        }
        let plan = parser.stages(Plan::empty())?;
        match super::classify::review(&plan, None).refused.first() {
            Some(refused) => Err(parser.at_line(refused.line, refused.message.clone())),
            None => Ok(()),
        }
    }

    fn empty() -> Plan {
        Plan {
            source_fingerprint: String::new(),
            desired_fingerprint: String::new(),
            target: String::new(),
            planned_at: String::new(),
            summary: String::new(),
            drift: Vec::new(),
            stages: Vec::new(),
        }
    }

    /// `sha256:<hex>` over what the plan executes and binds to: both fingerprints, and each
    /// stage's name, kind, phase and body (statements with their transaction mode,
    /// migrations with checksum, directives and text, the hook command). Hazards, drift,
    /// summary and dates are left out: they describe, they do not run (`run` classifies the
    /// statements itself).
    pub fn digest(&self) -> String {
        let mut hash = Sha256::new();
        let mut field = |text: &str| {
            hash.update((text.len() as u64).to_le_bytes());
            hash.update(text.as_bytes());
        };
        field(&self.source_fingerprint);
        field(&self.desired_fingerprint);
        for stage in &self.stages {
            field(&stage.name);
            field(stage_kind_word(stage.kind));
            field(stage.phase.map_or("", phase_word));
            match &stage.body {
                StageBody::Statements { statements } => {
                    for s in statements {
                        field(if s.transactional { "tx" } else { "no-tx" });
                        field(s.sql.trim_end());
                    }
                }
                StageBody::Migrations { migrations } => {
                    for m in migrations {
                        field(&m.file);
                        field(&m.checksum);
                        field(&m.directives.join(", "));
                        field(m.text.trim_end());
                    }
                }
                StageBody::Hook { command } => field(&one_line(command.as_deref().unwrap_or(""))),
            }
        }
        format!("sha256:{}", hex::encode(hash.finalize()))
    }
}

const DIGEST: &str = "digest";
const HAZARDS: &str = "-- hazards: ";

/// The hazard ids of one `-- hazards: a, b` value (`none`: no hazard).
fn hazard_ids(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty() && *h != "none")
}

/// A `-- hazards:` line of pending.sql and the statement it stands above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HazardNote {
    /// Byte offset of the statement (of the line itself when no statement follows).
    pub statement: usize,
    pub hazards: Vec<String>,
}

/// Every `-- hazards:` line of pending.sql, in order. Lenient, for `strata lint`: reads a
/// fragment or a file that does not parse, as far as its lines go.
pub fn hazard_notes(text: &str) -> Vec<HazardNote> {
    let mut notes = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let Some(list) = line.trim().strip_prefix(HAZARDS.trim_end()) else {
            continue;
        };
        notes.push(HazardNote {
            statement: statement_after(text, offset).unwrap_or(start),
            hazards: hazard_ids(list).map(str::to_string).collect(),
        });
    }
    notes
}

/// Offset of the first line after `from` that is not blank and not a comment.
fn statement_after(text: &str, from: usize) -> Option<usize> {
    let mut offset = from;
    for line in text[from..].split_inclusive('\n') {
        let trimmed = line.trim_start();
        if !trimmed.trim_end().is_empty() && !trimmed.starts_with("--") {
            return Some(offset + line.len() - trimmed.len());
        }
        offset += line.len();
    }
    None
}

/// The 1-based line ranges of pending.sql's schema stages (a stage line to the line before
/// the next stage). Lenient, like [`hazard_notes`].
pub fn schema_stage_lines(text: &str) -> Vec<std::ops::RangeInclusive<usize>> {
    let mut ranges = Vec::new();
    let mut open: Option<usize> = None;
    let mut last = 0;
    for (index, text) in text.lines().enumerate() {
        let line = index + 1;
        last = line;
        if let Some(rest) = text.strip_prefix(STAGE_MARK) {
            if let Some(start) = open.take() {
                ranges.push(start..=line - 1);
            }
            if rest.contains("(schema") {
                open = Some(line);
            }
        }
    }
    if let Some(start) = open {
        ranges.push(start..=last);
    }
    ranges
}

fn push_header(out: &mut String, key: &str, value: &str) {
    out.push_str(&format!("-- {key}: {}\n", one_line(value)));
}

fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

fn stage_kind_word(kind: StageKind) -> &'static str {
    match kind {
        StageKind::Schema => "schema",
        StageKind::Migrations => "migrations",
        StageKind::Hook => "hook",
    }
}

fn phase_word(phase: Phase) -> &'static str {
    match phase {
        Phase::Expand => "expand",
        Phase::Contract => "contract",
        Phase::All => "all",
    }
}

fn render_stage(out: &mut String, stage: &PlannedStage) {
    out.push_str(STAGE_MARK);
    out.push_str(&stage.name);
    out.push_str(" (");
    out.push_str(stage_kind_word(stage.kind));
    if let Some(phase) = stage.phase {
        out.push_str(", phase ");
        out.push_str(phase_word(phase));
    }
    out.push_str(")\n");
    match &stage.body {
        StageBody::Statements { statements } => {
            if statements.is_empty() {
                out.push_str("-- (no statements)\n");
            }
            for statement in statements {
                out.push('\n');
                let hazards = if statement.hazards.is_empty() {
                    "none".to_string()
                } else {
                    let ids: Vec<&str> = statement.hazards.iter().map(|h| h.id()).collect();
                    ids.join(", ")
                };
                out.push_str(&format!("{HAZARDS}{hazards}\n"));
                if !statement.transactional {
                    out.push_str("-- strata:no-transaction\n");
                }
                out.push_str(statement.sql.trim_end());
                out.push_str(";\n");
            }
        }
        StageBody::Migrations { migrations } => {
            if migrations.is_empty() {
                out.push_str("-- (no pending migrations)\n");
            }
            for migration in migrations {
                out.push('\n');
                out.push_str(&format!("-- migration: {}\n", migration.file));
                out.push_str(&format!("-- checksum: {}\n", migration.checksum));
                if !migration.directives.is_empty() {
                    out.push_str(&format!(
                        "-- directives: {}\n",
                        migration.directives.join(", ")
                    ));
                }
                out.push_str("-- begin migration\n");
                out.push_str(migration.text.trim_end());
                out.push_str("\n-- end migration\n");
            }
        }
        StageBody::Hook { command } => match command {
            Some(command) => out.push_str(&format!("-- hook: {}\n", one_line(command))),
            None => out.push_str("-- hook: (none configured)\n"),
        },
    }
}

struct Parser<'a> {
    path: &'a str,
    text: &'a str,
}

impl Parser<'_> {
    fn error(&self, offset: usize, message: impl Into<String>) -> SourceError {
        let len = self.text[offset..]
            .find('\n')
            .unwrap_or(self.text.len() - offset);
        SourceError::at(
            self.path,
            self.text,
            offset,
            len,
            message,
            "here",
            Some(
                "pending.sql is written by `strata plan`; run it again rather than editing by hand"
                    .into(),
            ),
        )
    }

    /// An error at the start of a 1-based line.
    fn at_line(&self, line: usize, message: String) -> SourceError {
        let offset = self
            .text
            .split_inclusive('\n')
            .take(line.saturating_sub(1))
            .map(str::len)
            .sum();
        self.error(offset, message)
    }

    fn check_digest(&self, plan: &Plan) -> Result<(), SourceError> {
        let Some(at) = self.header_line(DIGEST) else {
            return Err(self.error(
                0,
                "the header has no `-- digest:` line: pending.sql was written by an older strata or edited; run `strata plan` again",
            ));
        };
        let written = self.text[at..]
            .lines()
            .next()
            .and_then(|l| l.split_once(": "))
            .map_or("", |(_, v)| v.trim());
        if written != plan.digest() {
            return Err(self.error(
                at,
                "pending.sql was edited after planning: its statements, stages or fingerprints no longer match its digest; run `strata plan` again",
            ));
        }
        Ok(())
    }

    fn plan(&self) -> Result<Plan, SourceError> {
        let first_stage = self.text.find(&format!("\n{STAGE_MARK}")).map(|i| i + 1);
        let header_end = first_stage.unwrap_or(self.text.len());
        let mut plan = Plan::empty();
        for line in self.text[..header_end].lines() {
            let Some((key, value)) = line.strip_prefix("-- ").and_then(|l| l.split_once(": "))
            else {
                continue;
            };
            let value = value.to_string();
            match key {
                "source-fingerprint" => plan.source_fingerprint = value,
                "desired-fingerprint" => plan.desired_fingerprint = value,
                "target" => plan.target = value,
                "planned-at" => plan.planned_at = value,
                "summary" => plan.summary = value,
                "drift" if value != "none" => plan.drift.push(value),
                _ => {}
            }
        }
        for (key, value) in [
            ("source-fingerprint", &plan.source_fingerprint),
            ("desired-fingerprint", &plan.desired_fingerprint),
        ] {
            if !value.starts_with("sha256:") {
                return Err(self.error(0, format!("the header has no `-- {key}: sha256:...` line")));
            }
        }
        self.stages(plan)
    }

    /// Byte offset of the header line `-- key: ...`.
    fn header_line(&self, key: &str) -> Option<usize> {
        self.text
            .match_indices(&format!("-- {key}: "))
            .map(|(i, _)| i)
            .find(|&i| i == 0 || self.text.as_bytes()[i - 1] == b'\n')
    }

    /// `plan` with its stages read from the file.
    fn stages(&self, mut plan: Plan) -> Result<Plan, SourceError> {
        let mut starts: Vec<usize> = self
            .text
            .match_indices(STAGE_MARK)
            .map(|(i, _)| i)
            .filter(|&i| i == 0 || self.text.as_bytes()[i - 1] == b'\n')
            .collect();
        starts.push(self.text.len());
        for pair in starts.windows(2) {
            plan.stages.push(self.stage(pair[0], pair[1])?);
        }
        Ok(plan)
    }

    fn stage(&self, start: usize, end: usize) -> Result<PlannedStage, SourceError> {
        let header_end = self.text[start..end]
            .find('\n')
            .map(|i| start + i)
            .unwrap_or(end);
        let header = &self.text[start + STAGE_MARK.len()..header_end];
        let (name, rest) = header
            .split_once(" (")
            .ok_or_else(|| self.error(start, "a stage line reads `-- ==== stage NAME (KIND)`"))?;
        let rest = rest.trim_end().trim_end_matches(')');
        let (kind_word, phase_word) = match rest.split_once(", phase ") {
            Some((k, p)) => (k, Some(p)),
            None => (rest, None),
        };
        let kind = match kind_word {
            "schema" => StageKind::Schema,
            "migrations" => StageKind::Migrations,
            "hook" => StageKind::Hook,
            other => return Err(self.error(start, format!("unknown stage kind `{other}`"))),
        };
        let phase = match phase_word {
            None => None,
            Some("expand") => Some(Phase::Expand),
            Some("contract") => Some(Phase::Contract),
            Some("all") => Some(Phase::All),
            Some(other) => return Err(self.error(start, format!("unknown phase `{other}`"))),
        };
        let body_start = (header_end + 1).min(end);
        let body = match kind {
            StageKind::Schema => StageBody::Statements {
                statements: self.statements(body_start, end)?,
            },
            StageKind::Migrations => StageBody::Migrations {
                migrations: self.migrations(body_start, end)?,
            },
            StageKind::Hook => StageBody::Hook {
                command: self.text[body_start..end]
                    .lines()
                    .find_map(|l| l.strip_prefix("-- hook: "))
                    .filter(|c| *c != "(none configured)")
                    .map(str::to_string),
            },
        };
        Ok(PlannedStage {
            name: name.to_string(),
            kind,
            phase,
            body,
        })
    }

    fn statements(&self, start: usize, end: usize) -> Result<Vec<PlannedStatement>, SourceError> {
        let body = &self.text[start..end];
        let parsed = statements::parse(self.path, body).map_err(|e| self.shift(e, start))?;
        let mut previous_end = 0;
        let mut out = Vec::with_capacity(parsed.len());
        for statement in parsed {
            let annotations = &body[previous_end..statement.offset];
            previous_end = statement.offset + statement.len;
            let line = crate::source::statements::line_of(self.text, start + statement.offset);
            let hazards = annotations
                .lines()
                .filter_map(|l| l.strip_prefix(HAZARDS))
                .flat_map(hazard_ids)
                .map(|id| {
                    hazard::by_id(id).copied().ok_or_else(|| {
                        self.at_line(
                            line,
                            format!("unknown hazard `{id}` (docs/hazards.md lists the ids)"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?;
            let transactional = !annotations
                .lines()
                .any(|l| l.trim() == "-- strata:no-transaction");
            out.push(PlannedStatement {
                sql: statement.sql,
                hazards,
                transactional,
                line,
            });
        }
        Ok(out)
    }

    fn migrations(&self, start: usize, end: usize) -> Result<Vec<PlannedMigration>, SourceError> {
        let mut out = Vec::new();
        let mut current: Option<PlannedMigration> = None;
        let mut in_body = false;
        let mut offset = start;
        for line in self.text[start..end].split_inclusive('\n') {
            let trimmed = line.trim_end_matches(['\n', '\r']);
            if in_body {
                if trimmed == "-- end migration" {
                    in_body = false;
                    let m = current.take().expect("in a migration");
                    out.push(PlannedMigration {
                        text: m.text.trim_end().to_string(),
                        ..m
                    });
                } else if let Some(m) = current.as_mut() {
                    m.text.push_str(line);
                }
            } else if let Some(file) = trimmed.strip_prefix("-- migration: ") {
                current = Some(PlannedMigration {
                    file: file.to_string(),
                    checksum: String::new(),
                    directives: Vec::new(),
                    text: String::new(),
                });
            } else if let Some(checksum) = trimmed.strip_prefix("-- checksum: ") {
                if let Some(m) = current.as_mut() {
                    m.checksum = checksum.to_string();
                }
            } else if let Some(directives) = trimmed.strip_prefix("-- directives: ") {
                if let Some(m) = current.as_mut() {
                    m.directives = directives.split(", ").map(str::to_string).collect();
                }
            } else if trimmed == "-- begin migration" {
                if current.is_none() {
                    return Err(self.error(
                        offset,
                        "`-- begin migration` without a `-- migration:` line",
                    ));
                }
                in_body = true;
            }
            offset += line.len();
        }
        if in_body {
            return Err(self.error(start, "a migration has no `-- end migration` line"));
        }
        Ok(out)
    }

    /// Moves an error found in a slice of the file to its place in the whole file.
    fn shift(&self, error: SourceError, by: usize) -> SourceError {
        match error {
            SourceError::Sql { message, span, .. } => self.error(span.offset() + by, message),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Plan {
        Plan {
            source_fingerprint: "sha256:aa".into(),
            desired_fingerprint: "sha256:bb".into(),
            target: "prod".into(),
            planned_at: "2026-11-22T06:00:00Z".into(),
            summary: "3 statements, 1 migration".into(),
            drift: vec![],
            stages: vec![
                PlannedStage {
                    name: "expand".into(),
                    kind: StageKind::Schema,
                    phase: Some(Phase::Expand),
                    body: StageBody::Statements {
                        statements: vec![
                            PlannedStatement {
                                sql: "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$".into(),
                                hazards: vec![],
                                transactional: true,
                                line: 0,
                            },
                            PlannedStatement {
                                sql: "CREATE INDEX CONCURRENTLY i ON t (a)".into(),
                                hazards: vec![hazard::BLOCKS_WRITES, hazard::FULL_TABLE_VALIDATION],
                                transactional: false,
                                line: 0,
                            },
                        ],
                    },
                },
                PlannedStage {
                    name: "data".into(),
                    kind: StageKind::Migrations,
                    phase: None,
                    body: StageBody::Migrations {
                        migrations: vec![PlannedMigration {
                            file: "0001_seed.sql".into(),
                            checksum: "sha256:cc".into(),
                            directives: vec!["batch".into()],
                            text: "-- strata:batch\nUPDATE t SET a = 1 WHERE a IS NULL;".into(),
                        }],
                    },
                },
                PlannedStage {
                    name: "deploy".into(),
                    kind: StageKind::Hook,
                    phase: None,
                    body: StageBody::Hook {
                        command: Some("./deploy.sh".into()),
                    },
                },
                PlannedStage {
                    name: "contract".into(),
                    kind: StageKind::Schema,
                    phase: Some(Phase::Contract),
                    body: StageBody::Statements {
                        statements: vec![PlannedStatement {
                            sql: "ALTER TABLE t DROP COLUMN old".into(),
                            hazards: vec![hazard::DESTRUCTIVE],
                            transactional: true,
                            line: 0,
                        }],
                    },
                },
            ],
        }
    }

    #[test]
    fn render_then_parse_is_identity() {
        let plan = sample();
        let text = plan.render();
        assert!(text.contains("-- source-fingerprint: sha256:aa\n"));
        assert!(text.contains("-- desired-fingerprint: sha256:bb\n"));
        let back = Plan::parse("pending.sql", &text).unwrap();
        assert_eq!(back, plan);
        assert_eq!(back.statement_count(), 3);
        assert_eq!(
            back.hazards().map(|h| h.id()).collect::<Vec<_>>(),
            ["blocks_writes", "full_table_validation", "destructive"]
        );
    }

    /// Hazards are typed: an id the registry does not know (the fixtures once used
    /// `blocks-writes`) is an error at its statement's line, not a string carried along.
    #[test]
    fn an_unregistered_hazard_id_is_an_error_at_its_statement() {
        let text = sample()
            .render()
            .replace("-- hazards: blocks_writes,", "-- hazards: blocks-writes,");
        let err = Plan::parse("pending.sql", &text).unwrap_err();
        assert!(
            err.to_string().contains("unknown hazard `blocks-writes`"),
            "{err}"
        );
        let SourceError::Sql { line, .. } = err else {
            panic!("{err:?}");
        };
        // The line the codec reads the statement carrying that hazard at.
        let good = Plan::parse("pending.sql", &sample().render()).unwrap();
        let at = good
            .stages
            .iter()
            .find_map(|stage| match &stage.body {
                StageBody::Statements { statements } => statements
                    .iter()
                    .find(|s| s.hazards.contains(&crate::diff::hazard::BLOCKS_WRITES)),
                _ => None,
            })
            .unwrap()
            .line;
        assert_eq!(line, at);
    }

    #[test]
    fn missing_fingerprint_is_an_error() {
        let text = sample()
            .render()
            .replace("-- source-fingerprint: sha256:aa\n", "");
        let err = Plan::parse("pending.sql", &text).unwrap_err();
        assert!(err.to_string().contains("source-fingerprint"), "{err}");
    }

    #[test]
    fn the_digest_covers_what_runs_and_not_what_describes() {
        let text = sample().render();
        assert!(text.contains(&format!("-- digest: {}\n", sample().digest())));
        for edited in [
            text.replace(
                "CREATE INDEX CONCURRENTLY i ON t (a)",
                "CREATE INDEX CONCURRENTLY i ON t (b)",
            ),
            text.replace("-- strata:no-transaction\n", ""),
            text.replace("UPDATE t SET a = 1", "UPDATE t SET a = 2"),
            text.replace("-- hook: ./deploy.sh", "-- hook: ./other.sh"),
            text.replace(
                "-- desired-fingerprint: sha256:bb",
                "-- desired-fingerprint: sha256:bc",
            ),
        ] {
            let err = Plan::parse("pending.sql", &edited).unwrap_err();
            assert!(err.to_string().contains("edited after planning"), "{err}");
        }
        let described = text
            .replace("-- summary: 3 statements", "-- summary: three statements")
            .replace(
                "-- hazards: blocks_writes, full_table_validation",
                "-- hazards: none",
            );
        assert!(Plan::parse("pending.sql", &described).is_ok());
        let undigested: String = text
            .lines()
            .filter(|l| !l.starts_with("-- digest:"))
            .map(|l| format!("{l}\n"))
            .collect();
        let err = Plan::parse("pending.sql", &undigested).unwrap_err();
        assert!(err.to_string().contains("no `-- digest:` line"), "{err}");
    }

    #[test]
    fn a_drop_whose_hazards_line_is_edited_is_refused_at_its_line() {
        let text = sample()
            .render()
            .replace("-- hazards: destructive\n", "-- hazards: none\n");
        match Plan::parse("pending.sql", &text).unwrap_err() {
            SourceError::Sql { line, message, .. } => {
                let expected = text
                    .lines()
                    .position(|l| l.contains("DROP COLUMN old"))
                    .unwrap()
                    + 1;
                assert_eq!(line, expected);
                assert!(message.contains("destructive"), "{message}");
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn unterminated_migration_is_an_error() {
        let text = sample().render().replace("-- end migration\n", "");
        assert!(Plan::parse("pending.sql", &text).is_err());
    }
}
