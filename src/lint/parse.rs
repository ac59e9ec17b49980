//! The files under lint, parsed once with pg_query for strata's own rules.

use super::Input;
use crate::source::statements::{self, statement_span, SourceError};
use pg_query::protobuf::{AlterTableCmd, ColumnDef, Constraint, RangeVar};
use pg_query::NodeEnum;

/// What a file is: its kind decides which rules apply (hazards only in pending.sql).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Migration,
    Pending,
    /// The desired schema (SDL files): read so that cross-statement rules see the indexes and
    /// primary keys that already exist, never reported on.
    Schema,
}

pub struct ParsedFile {
    pub path: String,
    pub text: String,
    pub kind: FileKind,
    pub statements: Vec<ParsedStatement>,
    pub error: Option<ParseError>,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
}

pub struct ParsedStatement {
    /// Byte offset of the statement's first token in the file.
    pub offset: usize,
    pub len: usize,
    node: pg_query::protobuf::Node,
}

pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

impl ParsedFile {
    pub fn parse(input: &Input) -> ParsedFile {
        // One pg_query parse of the whole file; node locations are then offsets in the file.
        let (statements, error) = match pg_query::parse(&input.text) {
            Ok(result) => (
                result
                    .protobuf
                    .stmts
                    .into_iter()
                    .filter_map(|raw| {
                        let (offset, len) =
                            statement_span(&input.text, raw.stmt_location, raw.stmt_len);
                        Some(ParsedStatement {
                            offset,
                            len,
                            node: *raw.stmt?,
                        })
                    })
                    .collect(),
                None,
            ),
            Err(_) => (Vec::new(), Some(locate_error(input))),
        };
        ParsedFile {
            path: input.path.clone(),
            text: input.text.clone(),
            kind: input.kind,
            statements,
            error,
            line_starts: std::iter::once(0)
                .chain(input.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset);
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let line_start = self.line_starts[line - 1];
        (line, self.text[line_start..offset].chars().count() + 1)
    }
}

impl ParsedFile {
    /// Whether the statement at `offset` alters or indexes a table that a `CREATE TABLE`
    /// earlier in this file made: such a table is empty and unseen by the application, so
    /// rules about locks and scans on live tables do not apply to it.
    pub fn targets_table_created_earlier(&self, offset: usize) -> bool {
        let Some(at) = self
            .statements
            .iter()
            .position(|s| (s.offset..s.offset + s.len.max(1)).contains(&offset))
        else {
            return false;
        };
        let Some(target) = self.statements[at].target_table() else {
            return false;
        };
        self.statements[..at].iter().any(|s| match s.root() {
            Some(NodeEnum::CreateStmt(create)) => create
                .relation
                .as_ref()
                .is_some_and(|made| same_table(made, target)),
            _ => false,
        })
    }
}

/// Two references to a table; a reference without a schema matches any schema.
fn same_table(a: &RangeVar, b: &RangeVar) -> bool {
    a.relname == b.relname
        && (a.schemaname.is_empty() || b.schemaname.is_empty() || a.schemaname == b.schemaname)
}

impl ParsedStatement {
    /// The table an `ALTER TABLE` or `CREATE INDEX` acts on.
    fn target_table(&self) -> Option<&RangeVar> {
        match self.root()? {
            NodeEnum::AlterTableStmt(alter) => alter.relation.as_ref(),
            NodeEnum::IndexStmt(index) => index.relation.as_ref(),
            _ => None,
        }
    }

    /// The statement's parse tree root.
    pub fn root(&self) -> Option<&NodeEnum> {
        self.node.node.as_ref()
    }

    /// The file offset of a node's location (-1, unknown: the statement start).
    pub fn at(&self, location: i32) -> usize {
        usize::try_from(location).unwrap_or(self.offset)
    }

    /// Column definitions and the table they belong to: CREATE TABLE columns, ALTER TABLE
    /// ADD COLUMN, and composite types.
    pub fn column_defs(&self) -> Vec<(&RangeVar, &ColumnDef)> {
        let mut out = Vec::new();
        match self.root() {
            Some(NodeEnum::CreateStmt(create)) => {
                if let Some(table) = &create.relation {
                    for elt in &create.table_elts {
                        if let Some(NodeEnum::ColumnDef(def)) = &elt.node {
                            out.push((table, def.as_ref()));
                        }
                    }
                }
            }
            Some(NodeEnum::AlterTableStmt(alter)) => {
                if let Some(table) = &alter.relation {
                    for cmd in alter_cmds(alter) {
                        if let Some(NodeEnum::ColumnDef(def)) =
                            cmd.def.as_ref().and_then(|d| d.node.as_ref())
                        {
                            out.push((table, def.as_ref()));
                        }
                    }
                }
            }
            Some(NodeEnum::CompositeTypeStmt(create)) => {
                if let Some(ty) = &create.typevar {
                    for elt in &create.coldeflist {
                        if let Some(NodeEnum::ColumnDef(def)) = &elt.node {
                            out.push((ty, def.as_ref()));
                        }
                    }
                }
            }
            _ => {}
        }
        out
    }

    /// Constraints a statement defines, with their table: table and column constraints of
    /// CREATE TABLE, ALTER TABLE ADD CONSTRAINT, and constraints on added columns. The column
    /// name is set for column constraints.
    pub fn constraints(&self) -> Vec<(&RangeVar, Option<&str>, &Constraint)> {
        let mut out = Vec::new();
        match self.root() {
            Some(NodeEnum::CreateStmt(create)) => {
                if let Some(table) = &create.relation {
                    for elt in &create.table_elts {
                        match &elt.node {
                            Some(NodeEnum::ColumnDef(def)) => {
                                for c in &def.constraints {
                                    if let Some(NodeEnum::Constraint(c)) = &c.node {
                                        out.push((table, Some(def.colname.as_str()), c.as_ref()));
                                    }
                                }
                            }
                            Some(NodeEnum::Constraint(c)) => out.push((table, None, c.as_ref())),
                            _ => {}
                        }
                    }
                }
            }
            Some(NodeEnum::AlterTableStmt(alter)) => {
                if let Some(table) = &alter.relation {
                    for cmd in alter_cmds(alter) {
                        match cmd.def.as_ref().and_then(|d| d.node.as_ref()) {
                            Some(NodeEnum::ColumnDef(def)) => {
                                for c in &def.constraints {
                                    if let Some(NodeEnum::Constraint(c)) = &c.node {
                                        out.push((table, Some(def.colname.as_str()), c.as_ref()));
                                    }
                                }
                            }
                            Some(NodeEnum::Constraint(c)) => out.push((table, None, c.as_ref())),
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
        out
    }
}

fn alter_cmds(alter: &pg_query::protobuf::AlterTableStmt) -> impl Iterator<Item = &AlterTableCmd> {
    alter.cmds.iter().filter_map(|c| match &c.node {
        Some(NodeEnum::AlterTableCmd(cmd)) => Some(cmd.as_ref()),
        _ => None,
    })
}

/// The syntax error of a file pg_query refused, at the statement the source module names.
fn locate_error(input: &Input) -> ParseError {
    match statements::parse(&input.path, &input.text) {
        Err(SourceError::Sql { span, message, .. }) => ParseError {
            offset: if span.offset() == 0 && span.is_empty() {
                squawk_error_offset(&input.text)
            } else {
                span.offset()
            },
            message,
        },
        Err(other) => ParseError {
            offset: 0,
            message: other.to_string(),
        },
        Ok(_) => ParseError {
            offset: squawk_error_offset(&input.text),
            message: "syntax error".into(),
        },
    }
}

/// Where squawk's parser sees the first error, for when pg_query could not say which
/// statement is at fault.
fn squawk_error_offset(text: &str) -> usize {
    squawk_syntax::SourceFile::parse(text)
        .errors()
        .first()
        .map_or(0, |e| u32::from(e.range().start()) as usize)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// `schema.name` or `name`, as written.
pub fn relation_name(range: &pg_query::protobuf::RangeVar) -> String {
    if range.schemaname.is_empty() {
        range.relname.clone()
    } else {
        format!("{}.{}", range.schemaname, range.relname)
    }
}

/// The string of a `String` node (column names in key lists, type name parts).
pub fn string_value(node: &pg_query::protobuf::Node) -> Option<&str> {
    match node.node.as_ref()? {
        pg_query::NodeEnum::String(s) => Some(&s.sval),
        _ => None,
    }
}
