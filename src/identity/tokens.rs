//! The bearer tokens a gateway accepts (`--auth-tokens FILE`), each known by
//! the name the file gives it. The file holds hashes, not tokens, so reading
//! it (or a backup of it) lets nobody call.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

/// SHA-256 hashes of the accepted tokens, in lowercase hex, each with the
/// identity its bearer calls as. A lookup by hash reveals nothing about a
/// token to a caller timing it: finding a token from its hash is SHA-256
/// preimage resistance.
#[derive(Debug, Clone)]
pub struct TokenHashes(Arc<HashMap<String, Arc<str>>>);

/// A token file the gateway cannot start with.
#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    /// A line is neither `HASH` nor `NAME HASH`.
    #[error(
        "{path}:{line}: expected a SHA-256 hash in hex (64 characters; `printf %s \"$TOKEN\" | \
         sha256sum` makes one), optionally after the token's name (`billing 9f86d0…`), a blank \
         line or a # comment"
    )]
    NotAHash { path: String, line: usize },
    /// A name a policy could not tell from a pattern or another name.
    #[error(
        "{path}:{line}: a token's name is letters, digits, `.`, `_` and `-` (it names the caller \
         `token:NAME` in policies and logs)"
    )]
    BadName { path: String, line: usize },
    /// One hash under two names: which caller is it?
    #[error("{path}:{line}: this hash is already listed on line {first}, under another name")]
    TwoNames {
        path: String,
        line: usize,
        first: usize,
    },
    /// No line holds a hash: no call could ever be authenticated.
    #[error("{path} lists no token hash, so every call would be refused")]
    Empty { path: String },
}

impl TokenHashes {
    /// Reads a file of one token a line; blank lines and `#` comments are
    /// skipped.
    pub fn from_file(path: &Path) -> Result<Self, TokenFileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TokenFileError::Unreadable {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&text, &shown)
    }

    /// Reads the file's text; `path` names it in errors. A line is a hash,
    /// or a name and a hash; a bare hash is named by its first 12 digits, so
    /// that a file from before names existed keeps working.
    pub fn parse(text: &str, path: &str) -> Result<Self, TokenFileError> {
        let mut hashes: HashMap<String, (Arc<str>, usize)> = HashMap::new();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, hash) = entry(line, path, number)?;
            let identity: Arc<str> = format!("token:{name}").into();
            if let Some((named, first)) = hashes.get(&hash)
                && **named != *identity
            {
                return Err(TokenFileError::TwoNames {
                    path: path.to_owned(),
                    line: number,
                    first: *first,
                });
            }
            hashes.entry(hash).or_insert((identity, number));
        }
        if hashes.is_empty() {
            return Err(TokenFileError::Empty {
                path: path.to_owned(),
            });
        }
        let named = hashes.into_iter().map(|(h, (n, _))| (h, n)).collect();
        Ok(Self(Arc::new(named)))
    }

    /// The identity of `token`'s bearer (`token:NAME`), if it is accepted.
    pub fn identity(&self, token: &str) -> Option<Arc<str>> {
        let hash = format!("{:x}", Sha256::digest(token.as_bytes()));
        self.0.get(&hash).cloned()
    }
}

/// A line's name and lowercase hash.
fn entry(line: &str, path: &str, number: usize) -> Result<(String, String), TokenFileError> {
    let mut words = line.split_whitespace();
    let (name, hash) = match (words.next(), words.next(), words.next()) {
        (Some(hash), None, _) => (None, hash),
        (Some(name), Some(hash), None) => (Some(name), hash),
        _ => return Err(not_a_hash(path, number)),
    };
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_a_hash(path, number));
    }
    let hash = hash.to_ascii_lowercase();
    let name = match name {
        None => hash[..12].to_owned(),
        Some(name) if is_name(name) => name.to_owned(),
        Some(_) => {
            return Err(TokenFileError::BadName {
                path: path.to_owned(),
                line: number,
            });
        }
    };
    Ok((name, hash))
}

fn not_a_hash(path: &str, line: usize) -> TokenFileError {
    TokenFileError::NotAHash {
        path: path.to_owned(),
        line,
    }
}

fn is_name(name: &str) -> bool {
    name.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(token: &str) -> String {
        format!("{:x}", Sha256::digest(token.as_bytes()))
    }

    #[test]
    fn a_named_token_calls_as_its_name() {
        let tokens = TokenHashes::parse(&format!("billing {}\n", hash("s3cret")), "t").unwrap();
        assert_eq!(tokens.identity("s3cret").as_deref(), Some("token:billing"));
        assert_eq!(tokens.identity("other"), None);
    }

    #[test]
    fn a_bare_hash_calls_as_its_first_twelve_digits() {
        let tokens = TokenHashes::parse(&hash("s3cret"), "t").unwrap();
        let expected = format!("token:{}", &hash("s3cret")[..12]);
        assert_eq!(
            tokens.identity("s3cret").as_deref(),
            Some(expected.as_str())
        );
    }

    #[test]
    fn hashes_are_read_in_either_case_around_comments_and_blank_lines() {
        let upper = hash("s3cret").to_ascii_uppercase();
        let tokens = TokenHashes::parse(&format!("# ops team\n\n  ops {upper}  \n"), "t").unwrap();
        assert_eq!(tokens.identity("s3cret").as_deref(), Some("token:ops"));
        assert_eq!(
            tokens.identity(&upper),
            None,
            "the hash is not itself a token"
        );
    }

    #[test]
    fn two_tokens_may_share_a_name_while_one_is_rotated() {
        let text = format!("api {}\napi {}\n", hash("old"), hash("new"));
        let tokens = TokenHashes::parse(&text, "t").unwrap();
        assert_eq!(tokens.identity("old"), tokens.identity("new"));
    }

    #[test]
    fn one_hash_under_two_names_is_refused_naming_both_lines() {
        let text = format!("a {}\nb {}\n", hash("x"), hash("x"));
        let error = TokenHashes::parse(&text, "tokens.txt").unwrap_err();
        assert!(
            error.to_string().starts_with("tokens.txt:2:") && error.to_string().contains("line 1"),
            "{error}"
        );
    }

    #[test]
    fn a_line_that_is_not_a_hash_is_named_by_its_number() {
        let error = TokenHashes::parse("# c\ns3cret\n", "tokens.txt").unwrap_err();
        assert!(error.to_string().starts_with("tokens.txt:2:"), "{error}");
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }

    #[test]
    fn a_hash_needs_both_64_characters_and_only_hex_digits() {
        let not_hex = "g".repeat(64);
        for line in ["abcd", not_hex.as_str(), &format!("a b {}", hash("x"))] {
            assert!(TokenHashes::parse(line, "t").is_err(), "{line}");
        }
    }

    #[test]
    fn a_name_with_pattern_or_path_characters_is_refused() {
        for name in ["bill*", "a/b", "a:b"] {
            let line = format!("{name} {}", hash("x"));
            let error = TokenHashes::parse(&line, "t").unwrap_err();
            assert!(
                matches!(error, TokenFileError::BadName { line: 1, .. }),
                "{name}"
            );
        }
    }

    #[test]
    fn a_file_without_hashes_is_refused() {
        let error = TokenHashes::parse("# nothing yet\n", "tokens.txt").unwrap_err();
        assert!(matches!(error, TokenFileError::Empty { .. }));
    }
}
