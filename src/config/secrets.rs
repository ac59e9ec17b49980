//! Passwords never reach a diagnostic: the manifest's text is masked before it becomes a
//! miette source, so a snippet that shows a URL line shows `user:***@host`.

use std::ops::Range;

/// What every password is replaced by: the same whatever its length.
const MASK: &str = "***";

/// A text with its passwords masked, and where they were, to move offsets into the
/// original text (spans of errors) onto the masked one.
pub struct Masked {
    pub text: String,
    /// The passwords' byte ranges in the original text, in order, not overlapping.
    secrets: Vec<Range<usize>>,
}

impl Masked {
    /// The offset in the masked text of `at` in the original; an offset inside a password
    /// moves to the start of its mask.
    pub fn offset(&self, at: usize) -> usize {
        let mut shift = 0isize;
        for secret in &self.secrets {
            if at <= secret.start {
                break;
            }
            if at < secret.end {
                return (secret.start as isize + shift) as usize;
            }
            shift += MASK.len() as isize - secret.len() as isize;
        }
        (at as isize + shift) as usize
    }
}

/// `text` with every password replaced by `***`: the password of a URL
/// (`scheme://user:password@host`) and the value of `password=...` (key/value conninfo strings,
/// URL query parameters, `PGPASSWORD=...`).
pub fn mask_secrets(text: &str) -> String {
    mask(text).text
}

/// [`mask_secrets`], keeping the places of the passwords for [`Masked::offset`].
pub fn mask(text: &str) -> Masked {
    let mut found = url_passwords(text);
    // A `password=` inside a URL's password is part of it, not a value of its own.
    let keywords: Vec<Range<usize>> = keyword_passwords(text)
        .into_iter()
        .filter(|k| !found.iter().any(|u| u.contains(&k.start)))
        .collect();
    found.extend(keywords);
    found.sort_by_key(|r| r.start);
    let mut secrets: Vec<Range<usize>> = Vec::new();
    for range in found {
        match secrets.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => secrets.push(range),
        }
    }
    let mut masked = String::with_capacity(text.len());
    let mut from = 0;
    for secret in &secrets {
        masked.push_str(&text[from..secret.start]);
        masked.push_str(MASK);
        from = secret.end;
    }
    masked.push_str(&text[from..]);
    Masked {
        text: masked,
        secrets,
    }
}

/// A value ends at whitespace or a quote (the TOML string around it).
fn value_end(text: &str, from: usize) -> usize {
    text[from..]
        .find(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        .map_or(text.len(), |i| from + i)
}

/// The password of each `scheme://user:password@host` in `text`. The userinfo ends at the
/// last `@` before the query, so a password holding `/` or `@` is still covered.
fn url_passwords(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("://") {
        let start = at + 3;
        let end = value_end(text, start);
        let url = &text[start..end];
        let before_query = url.find('?').unwrap_or(url.len());
        let Some(userinfo_end) = url[..before_query].rfind('@') else {
            continue;
        };
        if let Some(colon) = url[..userinfo_end].find(':') {
            found.push(start + colon + 1..start + userinfo_end);
        }
    }
    found
}

/// The value of each `password=...` (any case, spaces allowed around `=`); a value in single
/// quotes runs to the closing quote (conninfo's quoting, `\'` escaped).
fn keyword_passwords(text: &str) -> Vec<Range<usize>> {
    let lower = text.to_ascii_lowercase();
    let mut found = Vec::new();
    for (at, word) in lower.match_indices("password") {
        let after = at + word.len();
        let rest = &text[after..];
        let Some(eq) = rest.find(|c: char| c != ' ' && c != '\t') else {
            continue;
        };
        if !rest[eq..].starts_with('=') {
            continue;
        }
        let mut start = after + eq + 1;
        start += text[start..].len() - text[start..].trim_start_matches([' ', '\t']).len();
        let end = if text[start..].starts_with('\'') {
            closing_quote(text, start + 1)
        } else {
            let end = value_end(text, start);
            text[start..end].find('&').map_or(end, |i| start + i)
        };
        if end > start {
            found.push(start..end);
        }
    }
    found
}

/// The end of a single-quoted conninfo value starting at `from` (after the opening quote),
/// the closing quote included; the rest of the line when it is never closed.
fn closing_quote(text: &str, from: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = from;
    while i < bytes.len() && bytes[i] != b'\n' {
        match bytes[i] {
            b'\\' => i += 2,
            b'\'' => return i + 1,
            _ => i += 1,
        }
    }
    i.min(bytes.len())
}

#[cfg(test)]
mod tests {
    use super::{mask, mask_secrets};

    #[test]
    fn url_passwords_are_masked() {
        let text = "url = \"postgres://app:hunter2@db.example.com:5432/app?sslmode=require\"\n";
        assert_eq!(
            mask_secrets(text),
            "url = \"postgres://app:***@db.example.com:5432/app?sslmode=require\"\n"
        );
        let odd = "postgresql://u:p/a@ss@h/db";
        assert_eq!(mask_secrets(odd), "postgresql://u:***@h/db");
    }

    #[test]
    fn urls_without_a_password_are_unchanged() {
        for text in [
            "postgres://app@db/app",
            "postgres://db/app?user=x@y",
            "env:DATABASE_URL",
            "embedded",
        ] {
            assert_eq!(mask_secrets(text), text);
        }
    }

    #[test]
    fn keyword_passwords_are_masked() {
        assert_eq!(
            mask_secrets("\"host=db password=s3cret user=app\""),
            "\"host=db password=*** user=app\""
        );
        assert_eq!(
            mask_secrets("host=db password = 'a b\\'c' user=app"),
            "host=db password = *** user=app"
        );
        assert_eq!(
            mask_secrets("postgres://db/app?user=u&password=pw&sslmode=disable"),
            "postgres://db/app?user=u&password=***&sslmode=disable"
        );
        assert_eq!(mask_secrets("PGPASSWORD=topsecret"), "PGPASSWORD=***");
        assert_eq!(
            mask_secrets("non-ASCII: password=pässwörd end"),
            "non-ASCII: password=*** end"
        );
        // Both rules on one URL: one mask.
        assert_eq!(
            mask_secrets("postgres://u:password=x@h/db"),
            "postgres://u:***@h/db"
        );
    }

    #[test]
    fn offsets_move_with_the_masks() {
        let text = "a = \"postgres://u:longsecret@h/db\"\nb = 1\n";
        let masked = mask(text);
        let b = text.find("b = 1").unwrap();
        assert_eq!(
            &masked.text[masked.offset(b)..masked.offset(b) + 5],
            "b = 1"
        );
        let a = text.find("a =").unwrap();
        assert_eq!(masked.offset(a), a);
        // Inside the password: the start of its mask.
        let inside = text.find("secret").unwrap();
        assert_eq!(&masked.text[masked.offset(inside)..][..3], "***");
        assert_eq!(masked.offset(text.len()), masked.text.len());
    }
}
