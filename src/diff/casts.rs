//! How a column's values reach a new type in `ALTER COLUMN ... TYPE ... USING`: a cast
//! PostgreSQL has (`pg_cast`, or the conversion through text every type has to and from the
//! string types), through text where one side is an enum (a label is its text), or nothing:
//! then the schema file must say how (`-- strata:using`), and the diff refuses until it does.

use super::Diff;
use crate::model::{Schema, TypeKind};

/// The casts between built-in types that `pg_cast` holds (any context: `USING` casts
/// explicitly), by `format_type` name without type modifiers. A type to itself always casts.
const CASTS: &[(&str, &str)] = &[
    ("bigint", "bit"),
    ("bigint", "double precision"),
    ("bigint", "integer"),
    ("bigint", "money"),
    ("bigint", "numeric"),
    ("bigint", "oid"),
    ("bigint", "real"),
    ("bigint", "smallint"),
    ("bit", "bigint"),
    ("bit", "bit varying"),
    ("bit", "integer"),
    ("bit varying", "bit"),
    ("boolean", "integer"),
    ("cidr", "inet"),
    ("date", "timestamp with time zone"),
    ("date", "timestamp without time zone"),
    ("double precision", "bigint"),
    ("double precision", "integer"),
    ("double precision", "numeric"),
    ("double precision", "real"),
    ("double precision", "smallint"),
    ("inet", "cidr"),
    ("integer", "bigint"),
    ("integer", "bit"),
    ("integer", "boolean"),
    ("integer", "double precision"),
    ("integer", "money"),
    ("integer", "numeric"),
    ("integer", "oid"),
    ("integer", "real"),
    ("integer", "smallint"),
    ("interval", "time without time zone"),
    ("json", "jsonb"),
    ("jsonb", "bigint"),
    ("jsonb", "boolean"),
    ("jsonb", "double precision"),
    ("jsonb", "integer"),
    ("jsonb", "json"),
    ("jsonb", "numeric"),
    ("jsonb", "real"),
    ("jsonb", "smallint"),
    ("money", "numeric"),
    ("numeric", "bigint"),
    ("numeric", "double precision"),
    ("numeric", "integer"),
    ("numeric", "money"),
    ("numeric", "real"),
    ("numeric", "smallint"),
    ("oid", "bigint"),
    ("oid", "integer"),
    ("real", "bigint"),
    ("real", "double precision"),
    ("real", "integer"),
    ("real", "numeric"),
    ("real", "smallint"),
    ("smallint", "bigint"),
    ("smallint", "double precision"),
    ("smallint", "integer"),
    ("smallint", "numeric"),
    ("smallint", "oid"),
    ("smallint", "real"),
    ("time with time zone", "time without time zone"),
    ("time without time zone", "interval"),
    ("time without time zone", "time with time zone"),
    ("timestamp with time zone", "date"),
    ("timestamp with time zone", "time with time zone"),
    ("timestamp with time zone", "time without time zone"),
    ("timestamp with time zone", "timestamp without time zone"),
    ("timestamp without time zone", "date"),
    ("timestamp without time zone", "time without time zone"),
    ("timestamp without time zone", "timestamp with time zone"),
];

/// Built-in types whose casts `CASTS` lists completely (besides those through text).
const KNOWN: &[&str] = &[
    "smallint",
    "integer",
    "bigint",
    "numeric",
    "real",
    "double precision",
    "money",
    "boolean",
    "date",
    "timestamp without time zone",
    "timestamp with time zone",
    "time without time zone",
    "time with time zone",
    "interval",
    "uuid",
    "json",
    "jsonb",
    "bytea",
    "inet",
    "cidr",
    "macaddr",
    "bit",
    "bit varying",
    "oid",
    "xml",
];

/// What a type is, for casting.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// text, varchar, char, name, citext: every type converts to and from these.
    String,
    Enum(String),
    Known(String),
    /// Composite, range, an extension's type: PostgreSQL decides.
    Other,
}

/// The `USING` expression that converts `col` (quoted) from `from` to `to` (both as
/// `format_type` writes them), or `None` when PostgreSQL has no way.
pub(super) fn using(d: &Diff, col: &str, from: &str, to: &str) -> Option<String> {
    let (from_base, from_dims) = element(from);
    let (to_base, to_dims) = element(to);
    let (f, t) = (kind(d.from, from_base, 0), kind(d.to, to_base, 0));
    let direct = Some(format!("{col}::{to}"));
    if from_dims != to_dims {
        let whole_to_string =
            (to_dims == 0 && t == Kind::String) || (from_dims == 0 && f == Kind::String);
        return whole_to_string.then(|| format!("{col}::{to}"));
    }
    let through_text = Some(format!("{col}::text{}::{to}", "[]".repeat(to_dims)));
    match (&f, &t) {
        (_, Kind::String) | (Kind::String, _) => direct,
        (Kind::Enum(a), Kind::Enum(b)) if a == b => direct,
        (_, Kind::Enum(_)) | (Kind::Enum(_), _) => through_text,
        (Kind::Known(a), Kind::Known(b)) => {
            (a == b || CASTS.contains(&(a.as_str(), b.as_str()))).then(|| format!("{col}::{to}"))
        }
        _ => direct,
    }
}

/// An example conversion for the error that asks for one.
pub(super) fn example(col: &str, from: &str, to: &str) -> String {
    let (f, t) = (without_modifiers(from), without_modifiers(to));
    let number = [
        "smallint",
        "integer",
        "bigint",
        "numeric",
        "real",
        "double precision",
    ];
    match (f.as_str(), t.as_str()) {
        (n, "timestamp with time zone" | "timestamp without time zone") if number.contains(&n) => {
            format!("to_timestamp({col})")
        }
        ("boolean", n) if number.contains(&n) => format!("CASE WHEN {col} THEN 1 ELSE 0 END"),
        _ => format!("<an expression of type {to} over {col}>"),
    }
}

/// The element type of an array type and its number of dimensions.
fn element(t: &str) -> (&str, usize) {
    let mut base = t;
    let mut dims = 0;
    while let Some(b) = base.strip_suffix("[]") {
        base = b;
        dims += 1;
    }
    (base, dims)
}

fn kind(schema: &Schema, t: &str, depth: u8) -> Kind {
    let plain = without_modifiers(t);
    if matches!(
        plain.as_str(),
        "text" | "character varying" | "character" | "name" | "\"char\""
    ) || plain.ends_with(".citext")
        || plain == "citext"
    {
        return Kind::String;
    }
    if KNOWN.contains(&plain.as_str()) {
        return Kind::Known(plain);
    }
    let Some(def) = schema.types.values().find(|d| d.name.to_string() == t) else {
        return Kind::Other;
    };
    match &def.kind {
        TypeKind::Enum(_) => Kind::Enum(t.to_string()),
        // A domain casts as its base type does.
        TypeKind::Domain(dom) if depth < 8 => kind(schema, &dom.base_type, depth + 1),
        _ => Kind::Other,
    }
}

/// A type name without its modifiers: `numeric(10,2)` → `numeric`, `timestamp(3) with
/// time zone` → `timestamp with time zone`.
fn without_modifiers(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut depth = 0;
    for ch in t.chars() {
        match ch {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(ch),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modifiers_and_dimensions_are_set_aside() {
        assert_eq!(
            without_modifiers("timestamp(3) with time zone"),
            "timestamp with time zone"
        );
        assert_eq!(without_modifiers("numeric(10,2)"), "numeric");
        assert_eq!(element("public.mood[][]"), ("public.mood", 2));
    }

    #[test]
    fn casts_that_exist_and_those_that_do_not() {
        let s = Schema::default();
        let d = Diff::new(&s, &s, Default::default());
        assert_eq!(
            using(&d, "c", "text", "integer").as_deref(),
            Some("c::integer")
        );
        assert_eq!(
            using(&d, "c", "integer", "boolean").as_deref(),
            Some("c::boolean")
        );
        assert_eq!(
            using(&d, "c", "numeric(10,2)", "numeric(10,0)").as_deref(),
            Some("c::numeric(10,0)")
        );
        assert_eq!(using(&d, "c", "smallint", "boolean"), None);
        assert_eq!(
            using(&d, "c", "bigint", "timestamp without time zone"),
            None
        );
        assert_eq!(
            using(&d, "c", "integer[]", "text").as_deref(),
            Some("c::text")
        );
        assert_eq!(using(&d, "c", "integer", "integer[]"), None);
        assert_eq!(
            using(&d, "c", "public.box3d", "integer").as_deref(),
            Some("c::integer")
        );
    }
}
