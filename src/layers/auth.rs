//! Who may call: with `--auth-tokens FILE`, every call to the API carries
//! `authorization: Bearer <token>` metadata whose SHA-256 the file lists, or
//! is refused UNAUTHENTICATED before anything goes upstream. The file holds
//! hashes, not tokens, so reading it (or a backup of it) lets nobody call.
//!
//! Health and reflection stay open: a Kubernetes probe sends no metadata,
//! and neither says anything about the cluster.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::{Either, Ready, ready};
use http::{Request, Response, header::AUTHORIZATION};
use sha2::{Digest, Sha256};
use tonic::body::Body;
use tower::{Layer, Service};

use crate::service::refusal;
use crate::translate::error_table::Match;

/// Paths no token is asked for.
const OPEN_PREFIXES: &[&str] = &["/grpc.health.v1.Health/", "/grpc.reflection."];

/// SHA-256 hashes of the bearer tokens the gateway accepts, in lowercase
/// hex. A lookup by hash reveals nothing about a token to a caller timing
/// it: finding a token from its hash is SHA-256 preimage resistance.
#[derive(Debug, Clone)]
pub struct TokenHashes(Arc<HashSet<String>>);

/// A token file the gateway cannot start with.
#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    /// A line is not a SHA-256 hash in hex.
    #[error(
        "{path}:{line}: expected a SHA-256 hash in hex (64 characters; `printf %s \"$TOKEN\" | \
         sha256sum` makes one), a blank line or a # comment"
    )]
    NotAHash { path: String, line: usize },
    /// No line holds a hash: no call could ever be authenticated.
    #[error("{path} lists no token hash, so every call would be refused")]
    Empty { path: String },
}

impl TokenHashes {
    /// Reads a file of one hash a line; blank lines and `#` comments are
    /// skipped.
    pub fn from_file(path: &Path) -> Result<Self, TokenFileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TokenFileError::Unreadable {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&text, &shown)
    }

    /// Reads the file's text; `path` names it in errors.
    pub fn parse(text: &str, path: &str) -> Result<Self, TokenFileError> {
        let mut hashes = HashSet::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.len() != 64 || !line.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(TokenFileError::NotAHash {
                    path: path.to_owned(),
                    line: index + 1,
                });
            }
            hashes.insert(line.to_ascii_lowercase());
        }
        if hashes.is_empty() {
            return Err(TokenFileError::Empty {
                path: path.to_owned(),
            });
        }
        Ok(Self(Arc::new(hashes)))
    }

    /// Whether `token` is one of the accepted tokens.
    fn admits(&self, token: &str) -> bool {
        self.0
            .contains(&format!("{:x}", Sha256::digest(token.as_bytes())))
    }

    /// Why `request` may not call, if it may not.
    fn refusal<B>(&self, request: &Request<B>) -> Option<&'static str> {
        let path = request.uri().path();
        if OPEN_PREFIXES.iter().any(|open| path.starts_with(open)) {
            return None;
        }
        let Some(value) = request.headers().get(AUTHORIZATION) else {
            return Some("this gateway needs `authorization: Bearer <token>` metadata");
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        match token {
            Some(token) if self.admits(token) => None,
            Some(_) => Some("the bearer token is not one this gateway accepts"),
            None => Some("the `authorization` metadata is not `Bearer <token>`"),
        }
    }
}

/// Checks each call's bearer token, when the gateway has any.
#[derive(Debug, Clone)]
pub struct AuthLayer {
    tokens: Option<TokenHashes>,
}

impl AuthLayer {
    /// Admits calls bearing one of `tokens`; `None` admits every call (the
    /// caller is then authenticated by mutual TLS, or on loopback only).
    pub fn new(tokens: Option<TokenHashes>) -> Self {
        Self { tokens }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Auth<S> {
        Auth {
            inner,
            tokens: self.tokens.clone(),
        }
    }
}

/// The service [`AuthLayer`] makes.
#[derive(Debug, Clone)]
pub struct Auth<S> {
    inner: S,
    tokens: Option<TokenHashes>,
}

impl<S, B> Service<Request<B>> for Auth<S>
where
    S: Service<Request<B>, Response = Response<Body>>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Either<S::Future, Ready<Result<Response<Body>, S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        match self.tokens.as_ref().and_then(|t| t.refusal(&request)) {
            None => Either::Left(self.inner.call(request)),
            Some(why) => {
                let status = refusal(Match::CallerUnauthenticated, why, HashMap::new());
                Either::Right(ready(Ok(status.into_http())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::testing::{NeverReady, pending};

    fn hashes_of(tokens: &[&str]) -> TokenHashes {
        let text: String = tokens
            .iter()
            .map(|t| format!("{:x}\n", Sha256::digest(t.as_bytes())))
            .collect();
        TokenHashes::parse(&text, "tokens").unwrap()
    }

    fn call(path: &str, authorization: Option<&str>) -> Request<()> {
        let mut request = Request::post(path);
        if let Some(value) = authorization {
            request = request.header(AUTHORIZATION, value);
        }
        request.body(()).unwrap()
    }

    const LIST: &str = "/ontap.v1.CifsConnections/ListCifsConnections";

    #[test]
    fn readiness_is_the_inner_services() {
        let mut service = AuthLayer::new(Some(hashes_of(&["s3cret"]))).layer(NeverReady);
        assert!(pending(&mut service));
    }

    #[test]
    fn a_listed_token_is_admitted() {
        let tokens = hashes_of(&["s3cret", "other"]);
        assert_eq!(tokens.refusal(&call(LIST, Some("Bearer s3cret"))), None);
    }

    #[test]
    fn a_missing_unknown_or_non_bearer_token_is_refused_saying_which() {
        let tokens = hashes_of(&["s3cret"]);
        let said = |auth| tokens.refusal(&call(LIST, auth)).unwrap();
        assert!(said(None).contains("needs"));
        assert!(said(Some("Bearer guess")).contains("not one this gateway accepts"));
        assert!(said(Some("Basic YWRtaW46cHc=")).contains("is not `Bearer"));
    }

    #[test]
    fn health_and_reflection_need_no_token() {
        let tokens = hashes_of(&["s3cret"]);
        for path in [
            "/grpc.health.v1.Health/Check",
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        ] {
            assert_eq!(tokens.refusal(&call(path, None)), None, "{path}");
        }
    }

    #[test]
    fn hashes_are_read_in_either_case_around_comments_and_blank_lines() {
        let upper = format!("{:X}", Sha256::digest(b"s3cret"));
        let tokens = TokenHashes::parse(&format!("# ops team\n\n  {upper}  \n"), "t").unwrap();
        assert!(tokens.admits("s3cret"));
        assert!(!tokens.admits(&upper), "the hash is not itself a token");
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
        for line in ["abcd", not_hex.as_str()] {
            assert!(TokenHashes::parse(line, "t").is_err(), "{line}");
        }
    }

    #[test]
    fn a_file_without_hashes_is_refused() {
        let error = TokenHashes::parse("# nothing yet\n", "tokens.txt").unwrap_err();
        assert!(matches!(error, TokenFileError::Empty { .. }));
    }
}
