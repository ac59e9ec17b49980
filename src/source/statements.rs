//! Splitting a SQL file into statements with pg_query, each with its byte span, line and kind.

use miette::{Diagnostic, NamedSource, SourceSpan};
use pg_query::NodeEnum;
use std::path::Path;

/// What a statement does, as far as strata's rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    /// Reads or changes rows: INSERT, UPDATE, DELETE, MERGE, SELECT, COPY.
    Dml,
    /// Defines or changes objects.
    Ddl,
    /// BEGIN, COMMIT, ROLLBACK, SAVEPOINT, ...
    TransactionControl,
    /// Anything else: SET, DO, CALL, VACUUM, ...
    Other,
}

#[derive(Debug, Clone)]
pub struct Statement {
    /// The statement's text, without the trailing semicolon.
    pub sql: String,
    /// Byte offset of the statement in the file.
    pub offset: usize,
    pub len: usize,
    /// 1-based line of the statement's first token.
    pub line: usize,
    pub kind: StatementKind,
    /// The parse tree's root node name, e.g. `CreateStmt`.
    pub node: String,
    /// The names the statement creates or alters, when known (`parallel::targets`).
    pub targets: Option<Vec<String>>,
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum SourceError {
    #[error("cannot read {path}: {message}")]
    #[diagnostic(code(strata::source::io))]
    Io { path: String, message: String },
    #[error("{message}")]
    #[diagnostic(
        code(strata::source::empty_schema),
        help("fix `[schema] files` in pipeline.toml or the schema files; if the desired schema is meant to be empty, pass --allow-empty-schema")
    )]
    EmptySchema { message: String },
    #[error("{path}:{line}: {message}")]
    #[diagnostic(code(strata::source::sql))]
    Sql {
        path: String,
        line: usize,
        message: String,
        #[source_code]
        src: NamedSource<String>,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        #[help]
        help: Option<String>,
    },
}

impl SourceError {
    /// An error that points at a statement (or any byte range) of a file.
    pub fn at(
        path: &str,
        text: &str,
        offset: usize,
        len: usize,
        message: impl Into<String>,
        label: impl Into<String>,
        help: Option<String>,
    ) -> SourceError {
        SourceError::Sql {
            path: path.to_string(),
            line: line_of(text, offset),
            message: message.into(),
            src: NamedSource::new(path, text.to_string()),
            span: (offset, len).into(),
            label: label.into(),
            help,
        }
    }
}

pub fn read_file(path: &Path) -> Result<String, SourceError> {
    let bytes = std::fs::read(path).map_err(|e| SourceError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|e| SourceError::Io {
        path: path.display().to_string(),
        message: format!(
            "not UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ),
    })
}

/// 1-based line number of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Line numbers of byte offsets, from one pass over the text (binary search per lookup).
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { starts }
    }

    /// 1-based line of `offset`.
    fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset)
    }
}

/// Parses a whole file. A syntax error names the statement it is in (file:line).
///
/// The file is parsed in chunks of about [`CHUNK_BYTES`], cut where the scanner ends a
/// statement: pg_query's parse tree of a whole 10,000-table file takes over a gigabyte, one
/// chunk's a few megabytes. A cut inside a construct that holds semicolons (a `BEGIN ATOMIC`
/// body, a rule's action list) leaves a chunk that does not parse; that chunk is then parsed
/// together with the rest of the file, as one piece.
pub fn parse(path: &str, text: &str) -> Result<Vec<Statement>, SourceError> {
    parse_in_chunks(path, text, CHUNK_BYTES)
}

fn parse_in_chunks(
    path: &str,
    text: &str,
    chunk_bytes: usize,
) -> Result<Vec<Statement>, SourceError> {
    let lines = LineIndex::new(text);
    let mut statements = Vec::new();
    let (mut start, mut failures) = (0, 0);
    for end in chunk_ends(text, chunk_bytes) {
        // A chunk that still fails when extended to the next end holds a real syntax error
        // (or a very long body): the rest is parsed as one piece, as without chunks.
        let end = if failures >= 2 { text.len() } else { end };
        if end <= start {
            continue;
        }
        match parse_chunk(text, start, end, &lines, &mut statements) {
            Ok(()) => (start, failures) = (end, 0),
            Err(_) if end < text.len() => failures += 1,
            Err(error) => return Err(locate_syntax_error(path, text, error)),
        }
    }
    Ok(statements)
}

/// About how much text one pg_query call parses (see [`parse`]).
const CHUNK_BYTES: usize = 128 * 1024;

/// Candidate chunk ends, ascending, the last one the end of the text: after the statement
/// (by the scanner) that takes a chunk past [`CHUNK_BYTES`]. A chunk that fails to parse is
/// retried up to the next end, and so on until the end of the text.
fn chunk_ends(text: &str, chunk_bytes: usize) -> Vec<usize> {
    let mut ends = Vec::new();
    if text.len() > chunk_bytes {
        if let Ok(pieces) = pg_query::split_with_scanner(text) {
            let mut last = 0;
            for piece in pieces {
                let end = piece.as_ptr() as usize - text.as_ptr() as usize + piece.len();
                if end - last >= chunk_bytes {
                    ends.push(end);
                    last = end;
                }
            }
        }
    }
    ends.push(text.len());
    ends
}

/// Parses `text[start..end]` and appends its statements, their offsets in the whole text.
fn parse_chunk(
    text: &str,
    start: usize,
    end: usize,
    lines: &LineIndex,
    statements: &mut Vec<Statement>,
) -> Result<(), pg_query::Error> {
    let chunk = &text[start..end];
    let result = pg_query::parse(chunk)?;
    statements.extend(result.protobuf.stmts.iter().map(|raw| {
        let (offset, len) = statement_span(chunk, raw.stmt_location, raw.stmt_len);
        let offset = start + offset;
        let node = raw.stmt.as_ref().and_then(|n| n.node.as_ref());
        Statement {
            sql: text[offset..offset + len].to_string(),
            offset,
            len,
            line: lines.line(offset),
            kind: node.map(classify).unwrap_or(StatementKind::Other),
            node: node.map(node_name).unwrap_or_else(|| "Empty".into()),
            targets: node.and_then(super::parallel::targets),
        }
    }));
    Ok(())
}

/// pg_query reports no position for a syntax error: split with the scanner (which needs no
/// valid grammar) and parse statement by statement to find the one at fault.
fn locate_syntax_error(path: &str, text: &str, error: pg_query::Error) -> SourceError {
    let message = match &error {
        pg_query::Error::Parse(m) => m.clone(),
        other => other.to_string(),
    };
    if let Ok(pieces) = pg_query::split_with_scanner(text) {
        let mut covered = 0;
        for piece in pieces {
            let offset = piece.as_ptr() as usize - text.as_ptr() as usize;
            // The scanner leaves out what it cannot read as a statement at all (`SELEC 1`):
            // text between two pieces that is more than semicolons and comments is at fault.
            if let Some(error) = unsplit_statement(path, text, covered, offset, &message) {
                return error;
            }
            covered = offset + piece.len();
            if pg_query::parse(piece).is_err() {
                let trimmed = piece.trim_start();
                let offset = offset + (piece.len() - trimmed.len());
                return at_statement(path, text, offset, trimmed.trim_end().len(), &message);
            }
        }
        if let Some(error) = unsplit_statement(path, text, covered, text.len(), &message) {
            return error;
        }
    }
    SourceError::at(
        path,
        text,
        0,
        0,
        format!("syntax error: {message}"),
        "in this file",
        None,
    )
}

/// A statement in `text[from..to]` (which should hold only semicolons, blanks and comments).
fn unsplit_statement(
    path: &str,
    text: &str,
    from: usize,
    to: usize,
    message: &str,
) -> Option<SourceError> {
    let mut i = from;
    while i < to {
        i += leading_trivia_len(&text[i..to]);
        match text[i..to].chars().next() {
            Some(';') => i += 1,
            Some(_) => {
                let len = text[i..to].find(';').unwrap_or(to - i);
                return Some(at_statement(path, text, i, len, message));
            }
            None => break,
        }
    }
    None
}

fn at_statement(path: &str, text: &str, offset: usize, len: usize, message: &str) -> SourceError {
    SourceError::at(
        path,
        text,
        offset,
        len,
        format!("syntax error: {message}"),
        "in this statement",
        None,
    )
}

/// pg_query's statement location starts after the previous semicolon (so it includes leading
/// comments and blank lines) and a length of 0 means "to the end".
pub(crate) fn statement_span(text: &str, location: i32, len: i32) -> (usize, usize) {
    let start = usize::try_from(location).unwrap_or(0).min(text.len());
    let end = match usize::try_from(len) {
        Ok(0) | Err(_) => text.len(),
        Ok(len) => (start + len).min(text.len()),
    };
    let piece = &text[start..end];
    let skip = leading_trivia_len(piece);
    let body = piece[skip..].trim_end();
    let body = body.strip_suffix(';').unwrap_or(body).trim_end();
    (start + skip, body.len())
}

/// Length of the whitespace and comments before a statement's first token.
fn leading_trivia_len(piece: &str) -> usize {
    let mut i = 0;
    let bytes = piece.as_bytes();
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if piece[i..].starts_with("--") {
            i += piece[i..]
                .find('\n')
                .map(|n| n + 1)
                .unwrap_or(piece.len() - i);
        } else if piece[i..].starts_with("/*") {
            i += piece[i..]
                .find("*/")
                .map(|n| n + 2)
                .unwrap_or(piece.len() - i);
        } else {
            return i;
        }
    }
}

fn classify(node: &NodeEnum) -> StatementKind {
    use NodeEnum::*;
    match node {
        InsertStmt(_) | UpdateStmt(_) | DeleteStmt(_) | MergeStmt(_) | CopyStmt(_) => {
            StatementKind::Dml
        }
        SelectStmt(s) if s.into_clause.is_none() => StatementKind::Dml,
        TransactionStmt(_) => StatementKind::TransactionControl,
        VariableSetStmt(_)
        | VariableShowStmt(_)
        | DoStmt(_)
        | CallStmt(_)
        | VacuumStmt(_)
        | ExplainStmt(_)
        | NotifyStmt(_)
        | ListenStmt(_)
        | UnlistenStmt(_)
        | LockStmt(_)
        | CheckPointStmt(_)
        | DiscardStmt(_)
        | LoadStmt(_)
        | ClusterStmt(_)
        | ReindexStmt(_)
        | PrepareStmt(_)
        | ExecuteStmt(_)
        | DeallocateStmt(_)
        | FetchStmt(_)
        | ClosePortalStmt(_)
        | DeclareCursorStmt(_)
        | ConstraintsSetStmt(_) => StatementKind::Other,
        _ => StatementKind::Ddl,
    }
}

fn node_name(node: &NodeEnum) -> String {
    // The Debug form starts with the variant name, e.g. `CreateStmt(CreateStmt { .. })`.
    let name = format!("{node:?}");
    name.split('(').next().unwrap_or("Unknown").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_have_lines_and_kinds() {
        let text = "-- header\nCREATE TABLE t (id int);\n\n/* c */ INSERT INTO t VALUES (1);\nBEGIN;\nSET lock_timeout = '1s';\nSELECT 1";
        let stmts = parse("x.sql", text).unwrap();
        let summary: Vec<_> = stmts
            .iter()
            .map(|s| (s.line, s.kind, s.sql.as_str()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (2, StatementKind::Ddl, "CREATE TABLE t (id int)"),
                (4, StatementKind::Dml, "INSERT INTO t VALUES (1)"),
                (5, StatementKind::TransactionControl, "BEGIN"),
                (6, StatementKind::Other, "SET lock_timeout = '1s'"),
                (7, StatementKind::Dml, "SELECT 1"),
            ]
        );
        assert_eq!(stmts[0].node, "CreateStmt");
    }

    #[test]
    fn syntax_error_names_the_statement_line() {
        let text = "CREATE TABLE a (id int);\n\nCREATE TABLE b (id int,);\n";
        match parse("s.sql", text).unwrap_err() {
            SourceError::Sql { line, message, .. } => {
                assert_eq!(line, 3);
                assert!(message.contains("syntax error"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    /// Every chunk size gives the statements of one whole-file parse: cuts land inside
    /// `BEGIN ATOMIC` bodies, a rule's action list and dollar quotes, and between statements.
    #[test]
    fn chunked_parse_equals_whole_file_parse() {
        let text = "-- head\nCREATE TABLE t (id int PRIMARY KEY, v text);\n\
            CREATE FUNCTION a() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND;\n\
            CREATE RULE r AS ON INSERT TO t DO ALSO (NOTIFY t; NOTIFY t2;);\n\
            CREATE FUNCTION b() RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM 1; RETURN 2; END $$;\n\
            /* c */ ;; COMMENT ON TABLE t IS 'a;b';\nSELECT 1";
        let whole = parse_in_chunks("x.sql", text, usize::MAX).unwrap();
        let key = |s: &Statement| (s.sql.clone(), s.offset, s.line, s.kind, s.node.clone());
        let expected: Vec<_> = whole.iter().map(key).collect();
        assert_eq!(expected.len(), 6);
        for chunk_bytes in 1..text.len() {
            let chunked = parse_in_chunks("x.sql", text, chunk_bytes).unwrap();
            let got: Vec<_> = chunked.iter().map(key).collect();
            assert_eq!(got, expected, "chunks of {chunk_bytes} bytes");
        }
    }

    #[test]
    fn chunked_syntax_error_names_the_statement_line() {
        let text = "CREATE TABLE a (id int);\nCREATE TABLE c (id int);\nCREATE TABLE b (id int,);\nCREATE TABLE d (id int);\n";
        for chunk_bytes in 1..text.len() {
            match parse_in_chunks("s.sql", text, chunk_bytes).unwrap_err() {
                SourceError::Sql { line, .. } => assert_eq!(line, 3, "chunks of {chunk_bytes}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn function_bodies_do_not_split() {
        let text = "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\nSELECT f();";
        let stmts = parse("f.sql", text).unwrap();
        assert_eq!(stmts.len(), 2);
        assert_eq!(stmts[0].kind, StatementKind::Ddl);
    }
}

#[cfg(test)]
mod more_tests {
    use super::*;

    #[test]
    fn line_index_matches_counting() {
        let text = "a\nbb\n\nccc\n";
        let index = LineIndex::new(text);
        for offset in 0..text.len() {
            assert_eq!(index.line(offset), line_of(text, offset), "offset {offset}");
        }
    }

    #[test]
    fn syntax_error_in_a_statement_the_scanner_cannot_split() {
        for (text, expected) in [
            ("SELECT 1;\nSELEC 2;\n", 2),
            ("\n\nSELEC 1;\nSELECT 2;", 3),
            ("SELECT 1;\n-- note\nSELECT 2;\n\n  SELEC 3", 5),
        ] {
            match parse("s.sql", text).unwrap_err() {
                SourceError::Sql { line, .. } => assert_eq!(line, expected, "{text:?}"),
                other => panic!("{other:?}"),
            }
        }
    }
}
