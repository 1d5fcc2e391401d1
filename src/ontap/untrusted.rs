//! Text from upstream is untrusted: an error message may echo the request's
//! `Authorization` header, carry newlines that would forge log lines, or be
//! megabytes long. It is scrubbed once, where it enters the gateway, before
//! anything logs it or hands it to a caller.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

/// The longest upstream text kept.
pub const MAX_UPSTREAM_TEXT: usize = 1024;
/// What a credential becomes.
const REDACTED: &str = "[REDACTED]";
/// Secrets shorter than this are not searched for: a one-letter password
/// would blank out every occurrence of that letter.
const MIN_SECRET_LEN: usize = 4;
/// Authorization schemes whose following token is a credential.
const SCHEMES: &[&str] = &["basic", "bearer"];

/// Scrubs upstream text of one client's credentials.
#[derive(Clone, Default)]
pub struct Scrubber {
    secrets: Arc<[SecretString]>,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scrubber({} secrets)", self.secrets.len())
    }
}

impl Scrubber {
    /// A scrubber that redacts each of `secrets` (the password, its
    /// base64 `Basic` form) wherever it appears.
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let secrets: Vec<SecretString> = secrets
            .into_iter()
            .filter(|s| s.len() >= MIN_SECRET_LEN)
            .map(SecretString::from)
            .collect();
        Self {
            secrets: secrets.into(),
        }
    }

    /// `text` with credentials redacted, control characters escaped, and at
    /// most [`MAX_UPSTREAM_TEXT`] bytes.
    pub fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in self.secrets.iter() {
            let secret = secret.expose_secret();
            if text.contains(secret) {
                text = text.replace(secret, REDACTED);
            }
        }
        bounded(&redact_schemes(&text), MAX_UPSTREAM_TEXT)
    }
}

/// Replaces the token after `Basic` or `Bearer` (any case) with
/// [`REDACTED`], wherever the scheme word stands on its own. Hand-written:
/// one scan over the text, where a regex crate would be the only user of
/// its dependency.
fn redact_schemes(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut at = 0;
    while at < text.len() {
        let found = SCHEMES.iter().find_map(|scheme| {
            let end = at + scheme.len();
            let starts_word = at == 0 || !lower.as_bytes()[at - 1].is_ascii_alphanumeric();
            (starts_word && lower[at..].starts_with(scheme)).then_some(end)
        });
        let Some(end) = found else {
            at += text[at..].chars().next().map_or(1, char::len_utf8);
            continue;
        };
        let gap = text[end..]
            .bytes()
            .take_while(|b| *b == b' ' || *b == b'\t' || *b == b':' || *b == b'=')
            .count();
        let token_start = end + gap;
        let token = text[token_start..]
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || b"+/=._~-".contains(b))
            .count();
        if gap > 0 && token > 0 {
            out.push_str(&text[copied..token_start]);
            out.push_str(REDACTED);
            copied = token_start + token;
            at = copied;
        } else {
            at = end;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// `text` fit to show: control characters escaped (`\n`, `\u{1b}`), and at
/// most `max` bytes, cut on a character boundary and marked with `…`.
pub fn bounded(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    for c in text.chars() {
        let start = out.len();
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
        if out.len() > max {
            out.truncate(start);
            out.push('…');
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrubber() -> Scrubber {
        Scrubber::new(["hunter2!".to_owned(), "YWRtaW46aHVudGVyMiE=".to_owned()])
    }

    #[test]
    fn the_password_is_redacted_wherever_it_appears() {
        assert_eq!(
            scrubber().scrub("login failed for admin/hunter2!."),
            "login failed for admin/[REDACTED]."
        );
    }

    #[test]
    fn an_echoed_authorization_header_is_redacted() {
        for text in [
            "bad header Authorization: Basic YWRtaW46aHVudGVyMiE=",
            "bad header authorization: basic YWRtaW46aHVudGVyMiE= (rejected)",
            "token Bearer eyJhbGciOi.eyJzdWIi.SflKx rejected",
        ] {
            let scrubbed = scrubber().scrub(text);
            assert!(!scrubbed.contains("YWRtaW46"), "{scrubbed}");
            assert!(!scrubbed.contains("eyJ"), "{scrubbed}");
            assert!(scrubbed.contains(REDACTED), "{scrubbed}");
        }
    }

    #[test]
    fn a_token_after_a_tab_colon_or_equals_sign_is_redacted() {
        for text in [
            "Bearer\tabc.def",
            "basic:dXNlcjpwYXNz",
            "bearer=abc.def",
            "Basic : dXNlcjpwYXNz",
        ] {
            let scrubbed = Scrubber::default().scrub(text);
            assert!(scrubbed.ends_with(REDACTED), "{text} -> {scrubbed}");
        }
    }

    #[test]
    fn a_basic_credential_of_another_user_is_redacted_too() {
        let scrubbed = Scrubber::default().scrub("Authorization: Basic dXNlcjpwYXNz");
        assert_eq!(scrubbed, "Authorization: Basic [REDACTED]");
    }

    #[test]
    fn words_that_merely_contain_a_scheme_are_kept() {
        let text = "basically a database error: nobearer issue";
        assert_eq!(Scrubber::default().scrub(text), text);
    }

    #[test]
    fn a_scheme_word_without_a_token_is_kept() {
        for text in ["use Basic (not Digest)", "auth: bearer", "Bearer (none)"] {
            assert_eq!(Scrubber::default().scrub(text), text);
        }
    }

    #[test]
    fn newlines_and_escapes_are_escaped() {
        assert_eq!(
            Scrubber::default().scrub("line\r\nINFO forged\u{1b}[31m"),
            "line\\r\\nINFO forged\\u{1b}[31m"
        );
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        let scrubbed = Scrubber::default().scrub(&"é".repeat(2000));
        assert!(scrubbed.len() <= MAX_UPSTREAM_TEXT + '…'.len_utf8());
        assert!(scrubbed.ends_with('…'));
    }

    #[test]
    fn short_text_is_kept_whole() {
        assert_eq!(bounded("fine", 4), "fine");
        assert_eq!(bounded("fine!", 4), "fine…");
    }

    #[test]
    fn secrets_too_short_to_search_for_are_ignored() {
        assert_eq!(Scrubber::new(["ab".to_owned()]).scrub("abc"), "abc");
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let shown = format!("{:?}", scrubber());
        assert_eq!(shown, "Scrubber(2 secrets)");
    }
}
