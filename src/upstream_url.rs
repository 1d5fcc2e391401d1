//! A cluster management URL, checked once where it is given (`--ontap-url`
//! or a clusters file's `url`), so that whether it is plaintext is a fact
//! of the value and not a string test repeated at each use. Whether
//! plaintext is allowed is the caller's separate check: the flag and the
//! file each have their own way of allowing it.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

/// A URL whose scheme is `https` or `http` (any case). The client checks
/// the rest (a host, no path, no credentials) when it is built.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct UpstreamUrl {
    text: String,
    plaintext: bool,
}

/// A URL the gateway cannot send to a cluster. It shows the URL without
/// whatever credentials its authority carries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamUrlError {
    /// A host without `https://`: the commonest slip, answered with the
    /// URL it should have been.
    #[error("{shown} has no scheme; the cluster management URL is https://{shown}")]
    NoScheme {
        /// The URL, credentials redacted.
        shown: String,
    },
    /// A scheme ONTAP's REST API is not served over.
    #[error("{shown} must start with https:// (or http:// for a lab simulator)")]
    UnsupportedScheme {
        /// The URL, credentials redacted.
        shown: String,
    },
}

impl UpstreamUrl {
    /// Whether requests to it, and the credentials they carry, cross the
    /// network in clear text.
    pub fn is_plaintext(&self) -> bool {
        self.plaintext
    }

    /// The URL as given, for the client.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl FromStr for UpstreamUrl {
    type Err = UpstreamUrlError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let shown = || redacted(text);
        let Some((scheme, _)) = text.split_once("://") else {
            return Err(UpstreamUrlError::NoScheme { shown: shown() });
        };
        let plaintext = if scheme.eq_ignore_ascii_case("https") {
            false
        } else if scheme.eq_ignore_ascii_case("http") {
            true
        } else {
            return Err(UpstreamUrlError::UnsupportedScheme { shown: shown() });
        };
        Ok(Self {
            text: text.to_owned(),
            plaintext,
        })
    }
}

impl TryFrom<String> for UpstreamUrl {
    type Error = UpstreamUrlError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

/// Shown in errors and logs: credentials in the URL stay out of both.
impl fmt::Display for UpstreamUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redacted(&self.text))
    }
}

/// `text` safe to echo: whatever precedes an `@` in its authority is a
/// credential.
pub(crate) fn redacted(text: &str) -> String {
    let (prefix, rest) = match text.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), text),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{prefix}[REDACTED]@{}", &rest[at + 1..]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_in_any_case_is_encrypted_and_http_is_plaintext() {
        for (text, plaintext) in [
            ("https://cluster", false),
            ("HTTPS://cluster", false),
            ("http://cluster", true),
            ("HTTP://cluster:8080", true),
        ] {
            let url: UpstreamUrl = text.parse().unwrap();
            assert_eq!(url.is_plaintext(), plaintext, "{text}");
            assert_eq!(url.as_str(), text);
        }
    }

    #[test]
    fn a_url_without_a_scheme_is_told_to_add_https() {
        let why = "cluster-mgmt".parse::<UpstreamUrl>().unwrap_err();
        assert_eq!(
            why.to_string(),
            "cluster-mgmt has no scheme; the cluster management URL is https://cluster-mgmt"
        );
    }

    #[test]
    fn a_scheme_other_than_http_or_https_is_refused() {
        let why = "ftp://cluster".parse::<UpstreamUrl>().unwrap_err();
        assert!(
            why.to_string().contains("must start with https://"),
            "{why}"
        );
    }

    #[test]
    fn credentials_in_the_url_are_never_shown() {
        let url: UpstreamUrl = "http://admin:s3cret@cluster".parse().unwrap();
        assert_eq!(url.to_string(), "http://[REDACTED]@cluster");
        assert_eq!(url.as_str(), "http://admin:s3cret@cluster");
        for refused in ["admin:s3cret@cluster", "ftp://admin:s3cret@cluster/x"] {
            let why = refused.parse::<UpstreamUrl>().unwrap_err().to_string();
            assert!(!why.contains("s3cret"), "{why}");
        }
    }
}
