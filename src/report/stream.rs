//! JSON written piece by piece, byte for byte as `serde_json::to_string_pretty` writes the
//! `Value` of the same data (members sorted by name, two-space indent), for output too big to
//! hold as one `Value`: `strata --format json dump` of 10,000 tables took 3.5 GB as a tree.

use serde_json::Value;
use std::io::{self, Write};

/// Part of a JSON document.
pub enum Piece<'a> {
    /// Small enough to hold as one value.
    Whole(Value),
    /// A list, each element made and written in turn.
    List(Box<dyn Iterator<Item = Value> + 'a>),
    /// An object; its members are written in the order of their names.
    Object(Vec<(String, Piece<'a>)>),
}

/// Writes `piece` as the value at nesting `level` of a pretty-printed document.
pub fn write(out: &mut dyn Write, piece: Piece<'_>, level: usize) -> io::Result<()> {
    match piece {
        Piece::Whole(value) => write_value(out, &value, level),
        Piece::List(items) => {
            let mut items = items.peekable();
            if items.peek().is_none() {
                return out.write_all(b"[]");
            }
            out.write_all(b"[")?;
            for (i, item) in items.enumerate() {
                next_line(out, i, level + 1)?;
                write_value(out, &item, level + 1)?;
            }
            close(out, b"]", level)
        }
        Piece::Object(mut members) => {
            if members.is_empty() {
                return out.write_all(b"{}");
            }
            // `serde_json::Map` orders its keys as `String`s do.
            members.sort_by(|a, b| a.0.cmp(&b.0));
            out.write_all(b"{")?;
            for (i, (name, piece)) in members.into_iter().enumerate() {
                next_line(out, i, level + 1)?;
                serde_json::to_writer(&mut *out, &name)?;
                out.write_all(b": ")?;
                write(out, piece, level + 1)?;
            }
            close(out, b"}", level)
        }
    }
}

fn write_value(out: &mut dyn Write, value: &Value, level: usize) -> io::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    // A line break in the text is always the printer's (strings escape theirs).
    let mut lines = text.split('\n');
    out.write_all(lines.next().unwrap_or_default().as_bytes())?;
    for line in lines {
        out.write_all(b"\n")?;
        indent(out, level)?;
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

fn next_line(out: &mut dyn Write, index: usize, level: usize) -> io::Result<()> {
    out.write_all(if index == 0 { b"\n" } else { b",\n" })?;
    indent(out, level)
}

fn close(out: &mut dyn Write, bracket: &[u8], level: usize) -> io::Result<()> {
    out.write_all(b"\n")?;
    indent(out, level)?;
    out.write_all(bracket)
}

fn indent(out: &mut dyn Write, level: usize) -> io::Result<()> {
    for _ in 0..level {
        out.write_all(b"  ")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn written(piece: Piece<'_>) -> String {
        let mut out = Vec::new();
        write(&mut out, piece, 0).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Every shape, nested and empty, as `to_string_pretty` of the whole value prints it.
    #[test]
    fn pieces_print_as_the_whole_value_would() {
        let list = || {
            vec![
                json!([{"schema": "public", "name": "t"}, {"b": [], "a": {"x\ny": "multi\nline"}}]),
                json!([]),
                json!({}),
                json!(null),
            ]
        };
        let piece = Piece::Object(vec![
            ("zeta".into(), Piece::Whole(json!(1))),
            ("list".into(), Piece::List(Box::new(list().into_iter()))),
            ("empty".into(), Piece::List(Box::new(std::iter::empty()))),
            (
                "inner".into(),
                Piece::Object(vec![
                    ("b".into(), Piece::Whole(json!({"k": [1, 2]}))),
                    ("a".into(), Piece::Object(vec![])),
                ]),
            ),
        ]);
        let whole = json!({
            "zeta": 1,
            "list": list(),
            "empty": [],
            "inner": {"b": {"k": [1, 2]}, "a": {}},
        });
        assert_eq!(
            written(piece),
            serde_json::to_string_pretty(&whole).unwrap()
        );
    }
}
