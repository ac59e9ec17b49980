//! Expression text as it reads back. PostgreSQL prints an array cast of an `ARRAY[...]`
//! constructor (what `varchar_col IN ('a', 'b')` parses into: the varchar array is cast to
//! `text[]` for `text = ANY`) as `(ARRAY['a'::character varying, ...])::text[]`; parsing that
//! text pushes the cast into the elements, and the server then prints
//! `ARRAY[('a'::character varying)::text, ...]`, which reads back as itself. A schema loaded
//! from what a user wrote and one made from strata's DDL would hold the two forms and never
//! compare equal (a check constraint dropped and added on every plan, a plan refused as not
//! converging), so every expression the server prints is read in its settled form.

use pg_query::protobuf::{KeywordKind, ScanToken, Token};

/// How the server printed the text: `Plain` (`pg_get_constraintdef`, `pg_get_indexdef`,
/// `pg_get_expr`, `pg_get_triggerdef`: a cast's operand always in parentheses) or `Pretty`
/// (`pg_get_viewdef(oid, true)`: parentheses only where precedence needs them).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Style {
    Plain,
    Pretty,
}

/// `text` with every cast of an `ARRAY[...]` constructor to an array type written as the
/// server prints it once read back: the cast moved into each element. An occurrence this
/// cannot rewrite exactly (nested arrays, a type modifier, an element already of the target
/// type, in `Pretty` an element that is not a literal or a column) is left as it is.
pub fn settled(text: String, style: Style) -> String {
    if !text.contains("ARRAY[") {
        return text;
    }
    match settle(&text, style) {
        Some(settled) => settled,
        None => text,
    }
}

/// [`settled`] for text that may be absent.
pub fn settled_opt(text: Option<String>, style: Style) -> Option<String> {
    text.map(|t| settled(t, style))
}

fn settle(text: &str, style: Style) -> Option<String> {
    let tokens = pg_query::scan(text).ok()?.tokens;
    let mut out = String::with_capacity(text.len() + 32);
    let mut copied = 0;
    let mut changed = false;
    let mut i = 0;
    while i < tokens.len() {
        if let Some(cast) = array_cast_at(text, &tokens, i, style) {
            out.push_str(&text[copied..cast.start]);
            out.push_str(&cast.settled);
            copied = cast.end;
            changed = true;
            i = cast.next_token;
        } else {
            i += 1;
        }
    }
    changed.then(|| {
        out.push_str(&text[copied..]);
        out
    })
}

/// One array cast found at a token: the byte span it covers, its settled text, and the
/// token after it.
struct ArrayCast {
    start: usize,
    end: usize,
    settled: String,
    next_token: usize,
}

/// The array cast whose `ARRAY` keyword is token `at`: `(ARRAY[e, ...])::t[]` (`Plain`) or
/// `ARRAY[e, ...]::t[]` (`Pretty`).
fn array_cast_at(text: &str, tokens: &[ScanToken], at: usize, style: Style) -> Option<ArrayCast> {
    let is = |i: usize, t: Token| tokens.get(i).is_some_and(|k| k.token == t as i32);
    if !is(at, Token::Array) || !is(at + 1, Token::Ascii91) {
        return None;
    }
    let plain = style == Style::Plain;
    if plain && (at == 0 || !is(at - 1, Token::Ascii40)) {
        return None;
    }
    let close = matching(tokens, at + 1)?;
    let after = if plain {
        is(close + 1, Token::Ascii41).then_some(close + 2)?
    } else {
        close + 1
    };
    if !is(after, Token::Typecast) {
        return None;
    }
    let (element_type, type_end) = array_type(text, tokens, after + 1)?;
    let elements = elements(tokens, at + 2, close)?;
    let settled = elements
        .iter()
        .map(|e| cast_element(text, e, element_type, style))
        .collect::<Option<Vec<_>>>()?
        .join(", ");
    let start = if plain { at - 1 } else { at };
    Some(ArrayCast {
        start: tokens[start].start as usize,
        end: tokens[type_end].end as usize,
        settled: format!("ARRAY[{settled}]"),
        next_token: type_end + 1,
    })
}

/// The token closing the bracket or parenthesis opened at `open`.
fn matching(tokens: &[ScanToken], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        if t.token == Token::Ascii40 as i32 || t.token == Token::Ascii91 as i32 {
            depth += 1;
        } else if t.token == Token::Ascii41 as i32 || t.token == Token::Ascii93 as i32 {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// The element type of the array type starting at token `from` (`text[]`, `character
/// varying[]`, `public."My Type"[]`) and the index of its closing `]`; `None` for a type
/// with a modifier (its elements may be printed without their own cast).
fn array_type<'t>(text: &'t str, tokens: &[ScanToken], from: usize) -> Option<(&'t str, usize)> {
    for (i, t) in tokens.iter().enumerate().skip(from) {
        let name_part = t.token == Token::Ident as i32
            || t.token == Token::Ascii46 as i32
            || t.keyword_kind != KeywordKind::NoKeyword as i32;
        if t.token == Token::Ascii91 as i32 {
            let closed = tokens.get(i + 1)?.token == Token::Ascii93 as i32;
            let name = &text[tokens[from].start as usize..t.start as usize];
            return (closed && i > from).then_some((name.trim_end(), i + 1));
        }
        if !name_part {
            return None;
        }
    }
    None
}

/// The elements' tokens between `from` and the closing bracket `close`; `None` for an empty
/// or nested array.
fn elements(tokens: &[ScanToken], from: usize, close: usize) -> Option<Vec<&[ScanToken]>> {
    let mut out = Vec::new();
    let mut first = from;
    let mut i = from;
    while i < close {
        let t = &tokens[i];
        if t.token == Token::Array as i32 {
            return None;
        }
        if t.token == Token::Ascii40 as i32 || t.token == Token::Ascii91 as i32 {
            i = matching(tokens, i)? + 1;
            continue;
        }
        if t.token == Token::Ascii44 as i32 {
            out.push(non_empty(&tokens[first..i])?);
            first = i + 1;
        }
        i += 1;
    }
    out.push(non_empty(&tokens[first..close])?);
    Some(out)
}

fn non_empty(tokens: &[ScanToken]) -> Option<&[ScanToken]> {
    (!tokens.is_empty()).then_some(tokens)
}

/// An element (its tokens in `text`) with the cast as the server prints it: `(e)::t` in
/// `Plain`; `e::t` in `Pretty`, for a literal or a column (with casts of their own) only.
fn cast_element(
    text: &str,
    tokens: &[ScanToken],
    element_type: &str,
    style: Style,
) -> Option<String> {
    let element = &text[tokens[0].start as usize..tokens[tokens.len() - 1].end as usize];
    if element.ends_with(&format!("::{element_type}")) {
        return None;
    }
    match style {
        Style::Plain => Some(format!("({element})::{element_type}")),
        Style::Pretty if simple(tokens) => Some(format!("{element}::{element_type}")),
        Style::Pretty => None,
    }
}

/// A literal, `NULL` or a (qualified) column, with casts of its own: what the pretty printer
/// casts without parentheses.
fn simple(tokens: &[ScanToken]) -> bool {
    let Some(first) = tokens.first() else {
        return false;
    };
    let literal = [
        Token::Sconst,
        Token::Iconst,
        Token::Fconst,
        Token::NullP,
        Token::Ident,
    ]
    .iter()
    .any(|t| first.token == *t as i32);
    let mut in_type = false;
    let mut depth = 0usize;
    literal
        && tokens.iter().skip(1).all(|t| {
            let token = t.token;
            if token == Token::Typecast as i32 {
                in_type = true;
                return depth == 0;
            }
            if token == Token::Ascii40 as i32 {
                depth += 1;
                return in_type;
            }
            if token == Token::Ascii41 as i32 {
                depth = depth.saturating_sub(1);
                return in_type;
            }
            let name_part = token == Token::Ident as i32
                || token == Token::Ascii46 as i32
                || t.keyword_kind != KeywordKind::NoKeyword as i32;
            let in_modifier = depth > 0 && token == Token::Iconst as i32;
            let brackets =
                in_type && (token == Token::Ascii91 as i32 || token == Token::Ascii93 as i32);
            name_part || in_modifier || brackets || (depth > 0 && token == Token::Ascii44 as i32)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> String {
        settled(text.to_string(), Style::Plain)
    }

    fn pretty(text: &str) -> String {
        settled(text.to_string(), Style::Pretty)
    }

    #[test]
    fn an_in_list_over_varchar_is_read_as_it_reads_back() {
        assert_eq!(
            plain("CHECK (((role)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[])))"),
            "CHECK (((role)::text = ANY (ARRAY[('a'::character varying)::text, ('b'::character varying)::text])))"
        );
        assert_eq!(
            pretty("WHERE (t.role::text = ANY (ARRAY['a'::character varying, 'b'::character varying]::text[])) AND t.n > 0"),
            "WHERE (t.role::text = ANY (ARRAY['a'::character varying::text, 'b'::character varying::text])) AND t.n > 0"
        );
    }

    #[test]
    fn every_occurrence_is_settled_and_elements_keep_their_commas() {
        assert_eq!(
            plain("((a)::text <> ALL ((ARRAY['x, y'::character varying, b, NULL::character varying])::text[])) AND ((c)::text = ANY ((ARRAY['z'::character varying])::text[]))"),
            "((a)::text <> ALL (ARRAY[('x, y'::character varying)::text, (b)::text, (NULL::character varying)::text])) AND ((c)::text = ANY (ARRAY[('z'::character varying)::text]))"
        );
        assert_eq!(
            plain("(ARRAY[f(a, b), 'q'::public.\"My Dom\"])::public.\"My Text\"[]"),
            "ARRAY[(f(a, b))::public.\"My Text\", ('q'::public.\"My Dom\")::public.\"My Text\"]"
        );
    }

    #[test]
    fn what_already_reads_back_as_itself_is_left_alone() {
        for text in [
            "CHECK (((role)::text = ANY (ARRAY[('a'::character varying)::text, ('b'::character varying)::text])))",
            "(n = ANY (ARRAY[1, 2]))",
            "(tags = ARRAY[]::text[])",
            "(x = ANY ('{a,b}'::text[]))",
            "(x = ANY ((ARRAY[ARRAY['a'::character varying]])::text[]))",
            "(x = ANY ((ARRAY['a'::character varying])::character varying(3)[]))",
            "(x = ANY ((ARRAY['a'::character varying])::character varying[]))",
            "no arrays here",
        ] {
            assert_eq!(plain(text), text);
        }
        // Pretty: an element that is an expression keeps the whole cast as it is.
        let text = "(x::text = ANY (ARRAY[(a || b), 'q'::character varying]::text[]))";
        assert_eq!(pretty(text), text);
    }
}
