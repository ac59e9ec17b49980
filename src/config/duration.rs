use serde::Serialize;
use std::time::Duration;

/// How long a statement may wait for a lock (`lock_timeout`). Kept apart from
/// [`StatementTimeout`] so one can never be passed for the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LockTimeout(#[serde(serialize_with = "as_text")] pub Duration);

/// How long a statement may run (`statement_timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StatementTimeout(#[serde(serialize_with = "as_text")] pub Duration);

impl Default for LockTimeout {
    fn default() -> Self {
        LockTimeout(Duration::from_secs(3))
    }
}

impl Default for StatementTimeout {
    /// No limit: a schema change on a large table may take long; lock waits are what hurt.
    fn default() -> Self {
        StatementTimeout(Duration::ZERO)
    }
}

/// The value PostgreSQL's `SET ..._timeout` takes, in milliseconds.
pub fn as_millis_text(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}

pub(crate) fn as_text<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&as_millis_text(*d))
}

/// Parses "250ms", "5s", "2min", "1h"; a bare number is milliseconds, as in PostgreSQL.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration"))?;
    let millis = match unit.trim() {
        "" | "ms" => 1,
        "s" => 1_000,
        "min" | "m" => 60_000,
        "h" => 3_600_000,
        other => return Err(format!("unknown duration unit `{other}` in `{text}`")),
    };
    Ok(Duration::from_millis(n * millis))
}
