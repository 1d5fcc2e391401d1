//! Who a call comes from, named by what authenticated it: a bearer token
//! the token file names (`token:NAME`), a JWT the JWKS verifies
//! (`jwt:<claim>`), or the client certificate of a mutual-TLS connection
//! (its SPIFFE ID, or `cn:NAME`). A policy decides
//! what each identity may do; logs and denials name it.

pub mod certificate;
pub mod jwt;
pub mod tokens;

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use http::HeaderValue;
use rustls_pki_types::CertificateDer;

pub use jwt::{JwksError, JwtRefusal, JwtSettings, JwtVerifier};
pub use tokens::{TokenFileError, TokenHashes};

/// How often the JWKS file is looked at: an identity provider rotates its
/// keys over hours, and a look is one `stat`.
pub const JWKS_RELOAD_INTERVAL: Duration = Duration::from_secs(10);

/// Keeps `verifier`'s keys its file's, looking `every` so often; logs each
/// change, and each new reason a changed file cannot be used (its old keys
/// stay in use meanwhile).
pub async fn keep_jwks_current(verifier: JwtVerifier, every: Duration) {
    let mut looks = tokio::time::interval(every);
    looks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut unusable = Unusable::default();
    loop {
        looks.tick().await;
        look(&verifier, &mut unusable);
    }
}

/// One look at the JWKS file: its keys taken if it changed, or why not
/// logged, once per reason.
fn look(verifier: &JwtVerifier, unusable: &mut Unusable) {
    match verifier.reload_if_changed() {
        Ok(false) => {}
        Ok(true) => {
            tracing::info!("the JWKS file changed: its keys verify JWTs from now on");
            unusable.0 = None;
        }
        Err(error) => {
            let said = error.to_string();
            if unusable.0.as_ref() != Some(&said) {
                tracing::warn!(error = %said, "the JWKS file changed but cannot be used; the keys before it stay in use");
                unusable.0 = Some(said);
            }
        }
    }
}

/// Why the JWKS file could not be used at the last look, so that a file
/// left broken is logged once, not every ten seconds.
#[derive(Debug, Default)]
struct Unusable(Option<String>);

/// What authenticated a caller; a metric label, where the identity itself
/// is not (one series per caller would grow without bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityKind {
    Token,
    Jwt,
    Certificate,
    Anonymous,
}

impl IdentityKind {
    /// The kind as a metric label value.
    pub fn label(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Jwt => "jwt",
            Self::Certificate => "certificate",
            Self::Anonymous => "anonymous",
        }
    }
}

/// An authenticated caller, in the extensions of each call it makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    identity: Arc<str>,
    kind: IdentityKind,
}

impl Caller {
    /// The identity of a caller nothing authenticated: no bearer token was
    /// asked for and its connection brought no client certificate.
    pub fn anonymous() -> Self {
        /// One name shared by every anonymous call, so naming one costs no
        /// allocation.
        static ANONYMOUS: LazyLock<Arc<str>> = LazyLock::new(|| "anonymous".into());
        Self {
            identity: Arc::clone(&ANONYMOUS),
            kind: IdentityKind::Anonymous,
        }
    }

    /// The name a policy and the logs know the caller by.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// What authenticated it.
    pub fn kind(&self) -> IdentityKind {
        self.kind
    }
}

/// Why a call is not authenticated; said to its caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unauthenticated {
    #[error("this gateway needs `authorization: Bearer <token>` metadata")]
    Missing,
    #[error("the `authorization` metadata is not `Bearer <token>`")]
    NotBearer,
    #[error("the bearer token is not one this gateway accepts")]
    UnknownToken,
    #[error("the bearer JWT is refused: {0}")]
    Jwt(#[from] JwtRefusal),
}

/// Names each call's caller, and refuses a call whose bearer credentials
/// it does not accept.
#[derive(Debug, Clone, Default)]
pub struct Authenticator {
    tokens: Option<TokenHashes>,
    jwt: Option<JwtVerifier>,
}

impl Authenticator {
    /// Takes bearer tokens when `tokens` lists some; otherwise a caller is
    /// its client certificate, or anonymous.
    pub fn new(tokens: Option<TokenHashes>) -> Self {
        Self { tokens, jwt: None }
    }

    /// Also takes JWTs that `verifier` accepts, as bearer credentials.
    pub fn with_jwt(self, verifier: JwtVerifier) -> Self {
        Self {
            jwt: Some(verifier),
            ..self
        }
    }

    /// The JWT verifier, whose keys a reload task keeps current.
    pub fn jwt(&self) -> Option<&JwtVerifier> {
        self.jwt.as_ref()
    }

    /// Whether a call must bear credentials in its `authorization`
    /// metadata.
    pub fn takes_bearer(&self) -> bool {
        self.tokens.is_some() || self.jwt.is_some()
    }

    /// The caller of a call bearing `authorization` over a connection whose
    /// client presented `certificates` (leaf first). With tokens or JWTs, a
    /// call must bear one, whatever its certificate: the bearer names the
    /// service, where one certificate may front several (a sidecar).
    pub fn authenticate(
        &self,
        authorization: Option<&HeaderValue>,
        certificates: Option<&[CertificateDer<'_>]>,
    ) -> Result<Caller, Unauthenticated> {
        if !self.takes_bearer() {
            return Ok(certificates
                .and_then(<[_]>::first)
                .and_then(certificate::identity_of)
                .map_or_else(Caller::anonymous, |identity| Caller {
                    identity: identity.into(),
                    kind: IdentityKind::Certificate,
                }));
        }
        let credential = bearer(authorization.ok_or(Unauthenticated::Missing)?)?;
        let as_jwt = self.jwt.as_ref();
        if let Some(jwt) = as_jwt.filter(|_| self.tokens.is_none() || looks_like_jwt(credential)) {
            let claim = jwt.verify(credential)?;
            return Ok(Caller {
                identity: format!("jwt:{claim}").into(),
                kind: IdentityKind::Jwt,
            });
        }
        let identity = self.tokens.as_ref().and_then(|t| t.identity(credential));
        Ok(Caller {
            identity: identity.ok_or(Unauthenticated::UnknownToken)?,
            kind: IdentityKind::Token,
        })
    }
}

/// Whether a bearer credential has a JWT's shape (three dot-separated
/// parts), so that a gateway taking both tokens and JWTs knows which to
/// check it as; a token of that shape is then refused as a JWT.
fn looks_like_jwt(credential: &str) -> bool {
    credential.bytes().filter(|&b| b == b'.').count() == 2
}

/// The credential of `Bearer <credential>`.
fn bearer(value: &HeaderValue) -> Result<&str, Unauthenticated> {
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or(Unauthenticated::NotBearer)
}

#[cfg(test)]
mod tests {
    use rcgen::{CertificateParams, KeyPair};
    use sha2::{Digest, Sha256};

    use super::*;

    fn with_tokens() -> Authenticator {
        let text = format!("billing {:x}\n", Sha256::digest(b"s3cret"));
        Authenticator::new(Some(TokenHashes::parse(&text, "tokens").unwrap()))
    }

    fn header(value: &str) -> HeaderValue {
        HeaderValue::from_str(value).unwrap()
    }

    fn certificate_for(cn: &str) -> CertificateDer<'static> {
        let mut params = CertificateParams::new(vec![]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        let key = KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    #[test]
    fn an_accepted_token_names_the_caller_by_the_tokens_name() {
        let caller = with_tokens()
            .authenticate(Some(&header("Bearer s3cret")), None)
            .unwrap();
        assert_eq!(caller.identity(), "token:billing");
        assert_eq!(caller.kind(), IdentityKind::Token);
    }

    #[test]
    fn a_missing_unknown_or_non_bearer_token_is_refused_saying_which() {
        let auth = with_tokens();
        let said = |value: Option<&str>| {
            auth.authenticate(value.map(header).as_ref(), None)
                .unwrap_err()
        };
        assert_eq!(said(None), Unauthenticated::Missing);
        assert_eq!(said(Some("Bearer guess")), Unauthenticated::UnknownToken);
        assert_eq!(said(Some("Basic YWRtaW46cHc=")), Unauthenticated::NotBearer);
    }

    #[test]
    fn with_tokens_a_certificate_alone_is_not_enough() {
        let leaf = certificate_for("billing");
        let refused = with_tokens().authenticate(None, Some(&[leaf]));
        assert_eq!(refused, Err(Unauthenticated::Missing));
    }

    #[test]
    fn without_tokens_the_client_certificate_names_the_caller() {
        let leaf = certificate_for("provisioner");
        let caller = Authenticator::default()
            .authenticate(Some(&header("Bearer ignored")), Some(&[leaf]))
            .unwrap();
        assert_eq!(caller.identity(), "cn:provisioner");
        assert_eq!(caller.kind(), IdentityKind::Certificate);
    }

    fn now() -> i64 {
        jiff::Timestamp::now().as_second()
    }

    #[test]
    fn a_verified_jwt_names_the_caller_by_its_claim() {
        let signer = jwt::tests::ec("k1");
        let (_dir, verifier) = jwt::tests::verifier(&[&signer.jwk]);
        let token = jwt::tests::signed(&signer, &jwt::tests::claims_at(now()));
        let caller = Authenticator::default()
            .with_jwt(verifier)
            .authenticate(Some(&header(&format!("Bearer {token}"))), None)
            .unwrap();
        assert_eq!(caller.identity(), "jwt:alice");
        assert_eq!(caller.kind(), IdentityKind::Jwt);
    }

    #[test]
    fn a_refused_jwt_says_which_check_refused_it() {
        let signer = jwt::tests::ec("k1");
        let (_dir, verifier) = jwt::tests::verifier(&[&signer.jwk]);
        let token = jwt::tests::signed(&signer, &jwt::tests::claims_at(now() - 3600));
        let refused = Authenticator::default()
            .with_jwt(verifier)
            .authenticate(Some(&header(&format!("Bearer {token}"))), None)
            .unwrap_err();
        assert!(matches!(refused, Unauthenticated::Jwt(_)), "{refused}");
        assert!(refused.to_string().contains("expired"), "{refused}");
    }

    #[test]
    fn with_tokens_and_jwts_a_token_is_checked_as_a_token_and_a_jwt_as_a_jwt() {
        let signer = jwt::tests::ec("k1");
        let (_dir, verifier) = jwt::tests::verifier(&[&signer.jwk]);
        let auth = with_tokens().with_jwt(verifier);
        let token = jwt::tests::signed(&signer, &jwt::tests::claims_at(now()));
        let identity = |credential: &str| {
            auth.authenticate(Some(&header(&format!("Bearer {credential}"))), None)
                .map(|caller| caller.identity().to_owned())
        };
        assert_eq!(identity("s3cret").as_deref(), Ok("token:billing"));
        assert_eq!(identity(&token).as_deref(), Ok("jwt:alice"));
        assert!(matches!(identity("a.b.c"), Err(Unauthenticated::Jwt(_))));
        assert_eq!(identity("guess"), Err(Unauthenticated::UnknownToken));
    }

    #[tokio::test(start_paused = true)]
    async fn a_reload_task_takes_new_keys_when_the_file_changes() {
        let old = jwt::tests::ec("old");
        let new = jwt::tests::ec("new");
        let (dir, verifier) = jwt::tests::verifier(&[&old.jwk]);
        let task = tokio::spawn(keep_jwks_current(verifier.clone(), JWKS_RELOAD_INTERVAL));
        let token = jwt::tests::signed(&new, &jwt::tests::claims_at(now()));
        assert!(verifier.verify(&token).is_err(), "not before the change");
        rewrite_jwks(&dir.path().join("jwks.json"), &[&new.jwk]);
        tokio::time::sleep(JWKS_RELOAD_INTERVAL + Duration::from_millis(1)).await;
        task.abort();
        assert!(
            verifier.verify(&token).is_ok(),
            "the task's next look took the new key"
        );
    }

    /// Writes `keys` as the JWK set at `file`, a second later than it was.
    fn rewrite_jwks(file: &std::path::Path, keys: &[&serde_json::Value]) {
        jwt::tests::rewrite(file, &serde_json::json!({ "keys": keys }).to_string());
    }

    #[test]
    fn a_broken_jwks_file_is_logged_once_however_often_it_is_looked_at() {
        let signer = jwt::tests::ec("k1");
        let (dir, verifier) = jwt::tests::verifier(&[&signer.jwk]);
        let file = dir.path().join("jwks.json");
        std::fs::write(&file, "not json").unwrap();
        let mut unusable = Unusable::default();
        let logs = crate::test_logs::captured(tracing::Level::WARN, || {
            for _ in 0..3 {
                look(&verifier, &mut unusable);
            }
        });
        assert_eq!(logs.matches("cannot be used").count(), 1, "{logs}");
    }

    #[test]
    fn the_verifier_a_reload_task_keeps_current_is_the_one_calls_are_checked_with() {
        let old = jwt::tests::ec("old");
        let new = jwt::tests::ec("new");
        let (dir, verifier) = jwt::tests::verifier(&[&old.jwk]);
        let auth = Authenticator::default().with_jwt(verifier);
        rewrite_jwks(&dir.path().join("jwks.json"), &[&new.jwk]);
        assert!(auth.jwt().unwrap().reload_if_changed().unwrap());
        let token = jwt::tests::signed(&new, &jwt::tests::claims_at(now()));
        let bearer = header(&format!("Bearer {token}"));
        assert!(auth.authenticate(Some(&bearer), None).is_ok());
    }

    #[test]
    fn without_tokens_or_a_certificate_the_caller_is_anonymous() {
        let caller = Authenticator::default().authenticate(None, None).unwrap();
        assert_eq!(caller, Caller::anonymous());
        assert_eq!(caller.kind().label(), "anonymous");
    }
}
