//! Passwords never reach a diagnostic: the manifest's text is masked before it becomes a
//! miette source, so a snippet that shows a URL line shows `user:****@host`.

use std::ops::Range;

/// `text` with every password replaced by as many `*` as it had bytes: the password of a URL
/// (`scheme://user:password@host`) and the value of `password=...` (key/value conninfo strings,
/// URL query parameters, `PGPASSWORD=...`). The length is kept so that spans into the text stay
/// valid.
pub fn mask_secrets(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for range in url_passwords(text)
        .into_iter()
        .chain(keyword_passwords(text))
    {
        bytes[range].fill(b'*');
    }
    // The ranges end at ASCII delimiters, so whole characters were replaced.
    String::from_utf8(bytes).expect("masking keeps UTF-8 valid")
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
    use super::mask_secrets;

    #[test]
    fn url_passwords_are_masked_and_lengths_kept() {
        let text = "url = \"postgres://app:hunter2@db.example.com:5432/app?sslmode=require\"\n";
        let masked = mask_secrets(text);
        assert_eq!(
            masked,
            "url = \"postgres://app:*******@db.example.com:5432/app?sslmode=require\"\n"
        );
        assert_eq!(masked.len(), text.len());
        let odd = "postgresql://u:p/a@ss@h/db";
        assert_eq!(mask_secrets(odd), "postgresql://u:******@h/db");
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
            "\"host=db password=****** user=app\""
        );
        assert_eq!(
            mask_secrets("host=db password = 'a b\\'c' user=app"),
            "host=db password = ******** user=app"
        );
        assert_eq!(
            mask_secrets("postgres://db/app?user=u&password=pw&sslmode=disable"),
            "postgres://db/app?user=u&password=**&sslmode=disable"
        );
        assert_eq!(mask_secrets("PGPASSWORD=topsecret"), "PGPASSWORD=*********");
        assert_eq!(
            mask_secrets("non-ASCII: password=pässwörd end"),
            "non-ASCII: password=********** end"
        );
    }
}
