//! Lossy type changes: a column type change after which the old values cannot be told from
//! the new ones (rounded, truncated, cut to a date, re-spelled). Such a change is
//! `destructive`, gated like a drop. Shared by the diff (from the models' `format_type` text)
//! and by the statement classifier of `plan::classify` (from a parsed `TypeName`), so plan
//! and run judge a type change the same way. docs/hazards.md lists the rules.

/// A type reduced to what the rules need: PostgreSQL's internal name of a built-in type
/// (`int4`, `varchar`, `timestamptz`), or the type's name as written for any other type;
/// its modifiers (length, precision, scale); whether it is an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeShape {
    pub base: String,
    pub mods: Vec<i64>,
    pub array: bool,
}

impl TypeShape {
    /// From `format_type` text: `numeric(10,2)`, `character varying(20)[]`,
    /// `timestamp(3) with time zone`, `public.mood`.
    pub fn from_format_type(text: &str) -> TypeShape {
        let mut text = text.trim();
        let mut array = false;
        while let Some(rest) = text.strip_suffix("[]") {
            array = true;
            text = rest.trim_end();
        }
        let (mut name, mut mods) = (String::new(), Vec::new());
        let mut rest = text;
        while let Some(open) = rest.find('(') {
            name.push_str(&rest[..open]);
            let close = rest[open..].find(')').map_or(rest.len(), |c| open + c);
            mods.extend(
                rest[open + 1..close]
                    .split(',')
                    .filter_map(|m| m.trim().parse::<i64>().ok()),
            );
            rest = rest.get(close + 1..).unwrap_or("");
        }
        name.push_str(rest);
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        TypeShape {
            base: internal_name(&name).unwrap_or(&name).to_string(),
            mods,
            array,
        }
    }

    /// From the parts of a parsed type name (`["pg_catalog", "varchar"]`), its integer
    /// modifiers and whether it has array bounds.
    pub fn from_parts(names: &[String], mods: Vec<i64>, array: bool) -> TypeShape {
        let catalog = names.len() == 2 && names[0] == "pg_catalog";
        let base = match names {
            [only] => internal_name(only).unwrap_or(only).to_string(),
            _ if catalog => internal_name(&names[1]).unwrap_or(&names[1]).to_string(),
            _ => names.join("."),
        };
        TypeShape { base, mods, array }
    }
}

/// The internal name of a built-in type from its SQL or `format_type` spelling.
fn internal_name(name: &str) -> Option<&'static str> {
    Some(match name {
        "smallint" | "int2" => "int2",
        "integer" | "int" | "int4" => "int4",
        "bigint" | "int8" => "int8",
        "numeric" | "decimal" => "numeric",
        "real" | "float4" => "float4",
        "double precision" | "float8" => "float8",
        "character varying" | "varchar" => "varchar",
        "character" | "char" | "bpchar" => "bpchar",
        "text" => "text",
        "bit" => "bit",
        "bit varying" | "varbit" => "varbit",
        "timestamp with time zone" | "timestamptz" => "timestamptz",
        "timestamp without time zone" | "timestamp" => "timestamp",
        "time with time zone" | "timetz" => "timetz",
        "time without time zone" | "time" => "time",
        "date" => "date",
        "boolean" | "bool" => "bool",
        "interval" => "interval",
        "json" => "json",
        "jsonb" => "jsonb",
        "uuid" => "uuid",
        "money" => "money",
        _ => return None,
    })
}

const STRINGS: &[&str] = &["text", "varchar", "bpchar"];
const INTEGERS: &[&str] = &["int2", "int4", "int8"];
const FRACTIONS: &[&str] = &["numeric", "float4", "float8", "money"];
const TIMESTAMPS: &[&str] = &["timestamptz", "timestamp"];
const PRECISE: &[&str] = &["timestamptz", "timestamp", "timetz", "time"];
const LENGTHS: &[&str] = &["varchar", "bpchar", "bit", "varbit"];
/// Types whose input function re-spells what it reads (leading zeros, case, spaces, key
/// order): converting text into them does not keep the text.
const REPARSED: &[&str] = &[
    "int2",
    "int4",
    "int8",
    "numeric",
    "float4",
    "float8",
    "money",
    "bool",
    "date",
    "timestamp",
    "timestamptz",
    "time",
    "timetz",
    "interval",
    "json",
    "jsonb",
    "uuid",
];

/// Why changing a column from `from` to `to` can lose information, or `None`.
pub fn lossy(from: &TypeShape, to: &TypeShape) -> Option<String> {
    if from.array && !to.array {
        return Some("an array becomes a single value".into());
    }
    let (a, b) = (from.base.as_str(), to.base.as_str());
    if a == b {
        return narrowed(a, &from.mods, &to.mods);
    }
    let is = |set: &[&str], t: &str| set.contains(&t);
    if is(STRINGS, a) && is(&["varchar", "bpchar"], b) {
        return match (len(a, &from.mods), to.mods.first()) {
            (Some(old), Some(&new)) if new >= old => None,
            (_, Some(&new)) => Some(format!("values longer than {new} characters are cut")),
            _ => None,
        };
    }
    if is(TIMESTAMPS, a) && is(&["date", "time", "timetz"], b) {
        return Some(format!(
            "a {a} loses its {}",
            if b == "date" { "time of day" } else { "date" }
        ));
    }
    if is(FRACTIONS, a) && is(INTEGERS, b) {
        return Some("fractions are rounded away".into());
    }
    if (a == "float8" && b == "float4")
        || (a == "numeric" && is(&["float4", "float8"], b))
        || (a == "int8" && is(&["float4", "float8"], b))
        || (a == "int4" && b == "float4")
    {
        return Some(format!("{b} keeps fewer significant digits than {a}"));
    }
    if (is(INTEGERS, a) || is(FRACTIONS, a)) && b == "bool" {
        return Some("every non-zero number becomes true".into());
    }
    if is(STRINGS, a) && is(REPARSED, b) {
        return Some(format!(
            "the text is re-read as {b}: its spelling is not kept"
        ));
    }
    None
}

/// The same type with other modifiers: a shorter length, a smaller precision or scale.
fn narrowed(base: &str, from: &[i64], to: &[i64]) -> Option<String> {
    if from == to {
        return None;
    }
    match base {
        "numeric" => {
            // numeric without modifiers holds any precision and scale.
            let (Some(&p2), s2) = (to.first(), to.get(1).copied().unwrap_or(0)) else {
                return None;
            };
            let Some(&p1) = from.first() else {
                return Some(format!("values are rounded to numeric({p2},{s2})"));
            };
            let s1 = from.get(1).copied().unwrap_or(0);
            if s2 < s1 {
                Some(format!(
                    "the scale narrows from {s1} to {s2}: values are rounded"
                ))
            } else if p2 - s2 < p1 - s1 {
                Some(format!(
                    "the precision narrows from numeric({p1},{s1}) to numeric({p2},{s2})"
                ))
            } else {
                None
            }
        }
        _ if LENGTHS.contains(&base) => match (from.first(), to.first()) {
            (Some(a), Some(b)) if b < a => Some(format!(
                "the length narrows from {a} to {b}: longer values are cut"
            )),
            (None, Some(b)) => Some(format!("values longer than {b} are cut")),
            _ => None,
        },
        _ if PRECISE.contains(&base) => {
            let (a, b) = (
                from.first().copied().unwrap_or(6),
                to.first().copied().unwrap_or(6),
            );
            (b < a).then(|| format!("fractional seconds are rounded from {a} to {b} digits"))
        }
        _ => None,
    }
}

/// The length of a string type, `None` for an unbounded one.
fn len(base: &str, mods: &[i64]) -> Option<i64> {
    match base {
        "text" => None,
        "bpchar" => Some(mods.first().copied().unwrap_or(1)),
        _ => mods.first().copied(),
    }
}

/// `lossy` over two `format_type` texts.
pub fn lossy_change(from: &str, to: &str) -> Option<String> {
    lossy(
        &TypeShape::from_format_type(from),
        &TypeShape::from_format_type(to),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_format_type_text() {
        assert_eq!(
            TypeShape::from_format_type("timestamp(3) with time zone[]"),
            TypeShape {
                base: "timestamptz".into(),
                mods: vec![3],
                array: true
            }
        );
        assert_eq!(
            TypeShape::from_format_type("numeric(10,2)").mods,
            vec![10, 2]
        );
        assert_eq!(
            TypeShape::from_format_type("character varying(20)").base,
            "varchar"
        );
        assert_eq!(
            TypeShape::from_format_type("public.mood").base,
            "public.mood"
        );
    }

    #[test]
    fn lossy_changes() {
        for (from, to) in [
            ("numeric(10,2)", "numeric(10,0)"),
            ("numeric(10,2)", "numeric(6,2)"),
            ("numeric", "numeric(12,2)"),
            ("character varying(20)", "character varying(10)"),
            ("text", "character varying(10)"),
            ("character varying", "character(3)"),
            ("timestamp with time zone", "date"),
            ("timestamp without time zone", "date"),
            ("timestamp(6) with time zone", "timestamp(0) with time zone"),
            ("numeric(10,2)", "integer"),
            ("double precision", "real"),
            ("double precision", "bigint"),
            ("text", "integer"),
            ("integer[]", "integer"),
        ] {
            assert!(lossy_change(from, to).is_some(), "{from} -> {to}");
        }
    }

    #[test]
    fn lossless_changes() {
        for (from, to) in [
            ("numeric(10,2)", "numeric(12,2)"),
            ("numeric(10,2)", "numeric(12,4)"),
            ("numeric(10,2)", "numeric"),
            ("character varying(10)", "character varying(20)"),
            ("character varying(10)", "text"),
            ("character varying(10)", "character varying(10)"),
            ("integer", "bigint"),
            ("bigint", "integer"),
            ("integer", "numeric(20,0)"),
            ("date", "timestamp with time zone"),
            ("text", "public.mood"),
            ("public.mood", "text"),
            ("integer", "text"),
        ] {
            assert_eq!(lossy_change(from, to), None, "{from} -> {to}");
        }
    }
}
