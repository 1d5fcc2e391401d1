//! Who a bearer JWT names (`--jwks FILE`, `--jwt-issuer`, `--jwt-audience`,
//! `--jwt-identity-claim`): a token signed by a key of the JWK set, for this
//! gateway's audience, from the configured issuer and within its validity
//! window, names the caller by one of its claims.
//!
//! Only RS256 and ES256 are accepted, and the token's own `alg` is checked
//! before anything else: trusting it would let `none`, or an HMAC "signed"
//! with the public key as its secret, through. Keys come only from the file,
//! never from the token's `jku`, `x5u` or `jwk` headers, so a token cannot
//! bring the key that vouches for it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

/// The claim that names the caller when `--jwt-identity-claim` is not given.
pub const DEFAULT_IDENTITY_CLAIM: &str = "sub";

/// How far the issuer's clock and ours may disagree: a token is accepted
/// this long after its `exp` and this long before its `nbf`.
pub const CLOCK_SKEW: Duration = Duration::from_secs(60);

/// What the JWT flags say, all three of `--jwks`, `--jwt-issuer` and
/// `--jwt-audience` being required together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtSettings {
    /// The JWK set (RFC 7517) whose keys sign the accepted tokens.
    pub jwks: PathBuf,
    /// The `iss` a token must carry, compared exactly.
    pub issuer: String,
    /// What a token's `aud` (a string, or an array of them) must name.
    pub audience: String,
    /// The claim whose string value names the caller, as `jwt:<value>`.
    pub identity_claim: String,
}

/// Verifies tokens against the JWK set it last read. Clones share the keys,
/// so a background task's [`JwtVerifier::reload_if_changed`] reaches every
/// clone, and calls verifying meanwhile use the old keys or the new ones
/// whole, never a mixture.
#[derive(Clone)]
pub struct JwtVerifier(Arc<Shared>);

struct Shared {
    settings: JwtSettings,
    keys: RwLock<Arc<KeySet>>,
}

/// The keys of one reading of the file, with the file's modification time
/// and length from before it was read, so a change made while reading shows
/// at the next check.
struct KeySet {
    keys: Vec<Key>,
    stamp: (Option<SystemTime>, u64),
}

/// One usable key, bound at load to the one alg its type verifies: the
/// choice of key must not be left to jsonwebtoken, whose `verify` checks no
/// key type (and panics when handed an RSA key for ES256).
struct Key {
    kid: Option<String>,
    alg: Algorithm,
    key: DecodingKey,
}

/// A JWK set the gateway cannot take: at start it stops the gateway, on a
/// reload the keys already held stay in use. Never shows key material.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// The file, or its metadata, could not be read.
    #[error("reading the JWKS {path}: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    /// Not JSON at all; serde_json's message gives only a position.
    #[error("the JWKS {path} is not JSON: {reason}")]
    NotJson { path: String, reason: String },
    /// JSON, but not `{"keys": [...]}`.
    #[error("the JWKS {path} is not a JWK set: expected an object with a `keys` array")]
    NotAJwkSet { path: String },
    /// A key of a type this gateway verifies with, but broken: better to
    /// say so now than to refuse every token it signs.
    #[error("the JWKS {path}: key {index}{}: {reason}", kid_note(.kid.as_deref()))]
    BadKey {
        path: String,
        index: usize,
        kid: Option<String>,
        reason: String,
    },
    /// Every key was skipped, so every token would be refused.
    #[error(
        "the JWKS {path} has no key usable for RS256 or ES256 (RSA, or EC on P-256, not \
         `use: enc`){}", skipped_note(.skipped)
    )]
    NoUsableKey { path: String, skipped: Vec<String> },
}

/// Why a token was refused, in words its caller can act on. Never holds the
/// token; what it quotes from the header (`alg`, `kid`) is cut short.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtRefusal {
    #[error("not a JWT (three base64url parts, the first a JSON header with an `alg`)")]
    Malformed,
    #[error("the JWT's alg `{0}` is not accepted: RS256 or ES256")]
    AlgNotAccepted(String),
    #[error("the JWT's header lists critical extensions (`crit`), which are not supported")]
    CriticalHeader,
    #[error("no key in the JWKS has kid `{0}`")]
    UnknownKid(String),
    #[error("the JWKS key with kid `{kid}` verifies {key_alg:?}, not the JWT's alg {alg:?}")]
    KeyMismatch {
        kid: String,
        key_alg: Algorithm,
        alg: Algorithm,
    },
    #[error("the JWKS has no key for the JWT's alg {0:?}")]
    NoKeyForAlg(Algorithm),
    #[error("the JWT has no kid, and the JWKS has {count} {alg:?} keys: a kid must choose one")]
    KidRequired { alg: Algorithm, count: usize },
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the JWT's payload is not a JSON object")]
    BadPayload,
    #[error("the JWT has no `exp` claim (an expiry time): one is required")]
    NoExpiry,
    #[error("the JWT's `{0}` claim is not a NumericDate (seconds since 1970)")]
    BadTime(&'static str),
    #[error("the JWT expired at {}", rfc3339(*.0))]
    Expired(i64),
    #[error("the JWT is not valid before {}", rfc3339(*.0))]
    NotYetValid(i64),
    #[error("the JWT's issuer is not `{0}`")]
    WrongIssuer(String),
    #[error("the JWT's audience is not `{0}`")]
    WrongAudience(String),
    #[error("the JWT has no `{0}` claim (a non-empty string without control characters)")]
    NoIdentity(String),
}

impl JwtVerifier {
    /// Reads the JWK set now, so that a gateway with a missing or broken
    /// file does not start.
    pub fn load(settings: JwtSettings) -> Result<Self, JwksError> {
        let keys = RwLock::new(Arc::new(read_key_set(&settings.jwks)?));
        Ok(Self(Arc::new(Shared { settings, keys })))
    }

    /// The identity claim's value of a token that passes every check; the
    /// caller names it `jwt:<value>`.
    pub fn verify(&self, token: &str) -> Result<String, JwtRefusal> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH);
        let now = now.unwrap_or_default().as_secs();
        self.verify_at(token, i64::try_from(now).unwrap_or(i64::MAX))
    }

    /// Takes the file's keys again when its modification time or length has
    /// changed. A file that cannot be taken leaves the old keys in use, and
    /// is tried again at the next call, which reports it again.
    pub fn reload_if_changed(&self) -> Result<bool, JwksError> {
        let path = &self.0.settings.jwks;
        if stamp_of(path)? == self.current().stamp {
            return Ok(false);
        }
        let fresh = Arc::new(read_key_set(path)?);
        *self.0.keys.write().unwrap_or_else(PoisonError::into_inner) = fresh;
        Ok(true)
    }

    fn current(&self) -> Arc<KeySet> {
        Arc::clone(&self.0.keys.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn verify_at(&self, token: &str, now: i64) -> Result<String, JwtRefusal> {
        let mut parts = token.split('.');
        let (Some(encoded_header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtRefusal::Malformed);
        };
        let header = json_object(encoded_header).ok_or(JwtRefusal::Malformed)?;
        let alg = header.get("alg").and_then(Value::as_str);
        let alg = accepted(alg.ok_or(JwtRefusal::Malformed)?)?;
        if header.contains_key("crit") {
            return Err(JwtRefusal::CriticalHeader);
        }
        let kid = header
            .get("kid")
            .map(|kid| kid.as_str().ok_or(JwtRefusal::Malformed));
        let kid = kid.transpose()?;
        if signature.is_empty() || URL_SAFE_NO_PAD.decode(signature).is_err() {
            return Err(JwtRefusal::Malformed);
        }
        let keys = self.current();
        let signed = &token[..encoded_header.len() + 1 + payload.len()];
        let verifies = |key: &&Key| {
            jsonwebtoken::crypto::verify(signature, signed.as_bytes(), &key.key, alg)
                .unwrap_or(false)
        };
        if !keys.candidates(alg, kid)?.iter().any(verifies) {
            return Err(JwtRefusal::BadSignature);
        }
        let claims = json_object(payload).ok_or(JwtRefusal::BadPayload)?;
        check_claims(&claims, &self.0.settings, now)
    }
}

/// The token's `alg`, when it is one this gateway verifies with.
fn accepted(alg: &str) -> Result<Algorithm, JwtRefusal> {
    match alg {
        "RS256" => Ok(Algorithm::RS256),
        "ES256" => Ok(Algorithm::ES256),
        _ => Err(JwtRefusal::AlgNotAccepted(quoted(alg))),
    }
}

impl KeySet {
    /// The keys that may have signed a token of `alg`: those its kid names,
    /// or, when it names none, the only key for that alg: among several,
    /// which one the issuer meant would be a guess.
    fn candidates(&self, alg: Algorithm, kid: Option<&str>) -> Result<Vec<&Key>, JwtRefusal> {
        let named = |key: &&Key| kid.is_none() || key.kid.as_deref() == kid;
        let named: Vec<&Key> = self.keys.iter().filter(named).collect();
        let fitting: Vec<&Key> = named.iter().copied().filter(|key| key.alg == alg).collect();
        match (kid, named.first(), fitting.len()) {
            (Some(kid), None, _) => Err(JwtRefusal::UnknownKid(quoted(kid))),
            (Some(kid), Some(key), 0) => Err(JwtRefusal::KeyMismatch {
                kid: quoted(kid),
                key_alg: key.alg,
                alg,
            }),
            (None, _, 0) => Err(JwtRefusal::NoKeyForAlg(alg)),
            (None, _, count @ 2..) => Err(JwtRefusal::KidRequired { alg, count }),
            _ => Ok(fitting),
        }
    }
}

/// The registered claims' checks, in the order a caller fixes them: a
/// token that is stale matters before one for the wrong audience.
fn check_claims(
    claims: &Map<String, Value>,
    settings: &JwtSettings,
    now: i64,
) -> Result<String, JwtRefusal> {
    let skew = CLOCK_SKEW.as_secs_f64();
    let now = now as f64;
    let exp = time_claim(claims, "exp")?.ok_or(JwtRefusal::NoExpiry)?;
    if now >= exp + skew {
        return Err(JwtRefusal::Expired(exp.floor() as i64));
    }
    if let Some(nbf) = time_claim(claims, "nbf")?
        && now + skew < nbf
    {
        return Err(JwtRefusal::NotYetValid(nbf.floor() as i64));
    }
    if claims.get("iss").and_then(Value::as_str) != Some(settings.issuer.as_str()) {
        return Err(JwtRefusal::WrongIssuer(settings.issuer.clone()));
    }
    let ours = |value: &Value| value.as_str() == Some(settings.audience.as_str());
    let audience_fits = match claims.get("aud") {
        Some(Value::Array(audiences)) => audiences.iter().any(ours),
        Some(audience) => ours(audience),
        None => false,
    };
    if !audience_fits {
        return Err(JwtRefusal::WrongAudience(settings.audience.clone()));
    }
    claims
        .get(&settings.identity_claim)
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty() && !name.chars().any(char::is_control))
        .map(str::to_owned)
        .ok_or_else(|| JwtRefusal::NoIdentity(settings.identity_claim.clone()))
}

/// A NumericDate claim, which RFC 7519 allows to have a fraction. It is
/// finite: serde_json refuses a number out of `f64`'s range.
fn time_claim(claims: &Map<String, Value>, name: &'static str) -> Result<Option<f64>, JwtRefusal> {
    match claims.get(name).map(Value::as_f64) {
        None => Ok(None),
        Some(Some(seconds)) => Ok(Some(seconds)),
        Some(None) => Err(JwtRefusal::BadTime(name)),
    }
}

fn json_object(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(object) => Some(object),
        _ => None,
    }
}

/// What a message may quote from a token's header or a JWK: printable
/// ASCII, cut short, so it cannot smuggle in a log line or a whole payload.
fn quoted(text: &str) -> String {
    const MAX: usize = 40;
    let printable = |c: char| if c.is_ascii_graphic() { c } else { '?' };
    let mut shown: String = text.chars().take(MAX).map(printable).collect();
    if text.chars().nth(MAX).is_some() {
        shown.push('…');
    }
    shown
}

fn stamp_of(path: &Path) -> Result<(Option<SystemTime>, u64), JwksError> {
    let metadata = std::fs::metadata(path).map_err(|source| unreadable(path, source))?;
    Ok((metadata.modified().ok(), metadata.len()))
}

fn unreadable(path: &Path, source: std::io::Error) -> JwksError {
    let path = path.display().to_string();
    JwksError::Unreadable { path, source }
}

fn read_key_set(path: &Path) -> Result<KeySet, JwksError> {
    let stamp = stamp_of(path)?;
    let bytes = std::fs::read(path).map_err(|source| unreadable(path, source))?;
    let shown = path.display().to_string();
    let document: Value = serde_json::from_slice(&bytes).map_err(|error| {
        let reason = error.to_string();
        JwksError::NotJson {
            path: shown.clone(),
            reason,
        }
    })?;
    let Some(Value::Array(entries)) = document.get("keys") else {
        return Err(JwksError::NotAJwkSet { path: shown });
    };
    let (mut keys, mut skipped) = (Vec::new(), Vec::new());
    for (index, entry) in entries.iter().enumerate() {
        let kid = entry.get("kid").and_then(Value::as_str).map(quoted);
        match parse_key(entry) {
            Ok(Ok(key)) => keys.push(key),
            Ok(Err(reason)) => {
                let kid = kid_note(kid.as_deref());
                tracing::warn!(jwks = %shown, "skipping JWKS key {index}{kid}: {reason}");
                skipped.push(format!("key {index}{kid}: {reason}"));
            }
            Err(reason) => {
                let path = shown;
                return Err(JwksError::BadKey {
                    path,
                    index,
                    kid,
                    reason,
                });
            }
        }
    }
    if keys.is_empty() {
        return Err(JwksError::NoUsableKey {
            path: shown,
            skipped,
        });
    }
    Ok(KeySet { keys, stamp })
}

/// One JWK: `Ok(Ok)` a usable key; `Ok(Err)` why it is skipped, a key of a
/// type, curve, use or alg this gateway does not verify with, which the set
/// may well hold for others; `Err` what is wrong with a key it would use.
/// Reasons name members, never their values, which may be key material.
fn parse_key(entry: &Value) -> Result<Result<Key, String>, String> {
    let Value::Object(jwk) = entry else {
        return Err("not a JSON object".to_owned());
    };
    let member = |name: &str| match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.as_str())),
        Some(_) => Err(format!("`{name}` is not a string")),
    };
    let kid = member("kid")?.map(str::to_owned);
    if let Some(usage) = member("use")?.filter(|usage| *usage != "sig") {
        return Ok(Err(format!("`use: {}`", quoted(usage))));
    }
    let alg = match member("kty")?.ok_or("it has no `kty`")? {
        "RSA" => Algorithm::RS256,
        "EC" => match member("crv")?.ok_or("an EC key with no `crv`")? {
            "P-256" => Algorithm::ES256,
            crv => return Ok(Err(format!("curve `{}`", quoted(crv)))),
        },
        kty => return Ok(Err(format!("key type `{}`", quoted(kty)))),
    };
    if let Some(stated) = member("alg")?.filter(|stated| accepted(stated) != Ok(alg)) {
        return Ok(Err(format!("alg `{}`", quoted(stated))));
    }
    let bytes = |name: &str| {
        let text = member(name)?.ok_or_else(|| format!("it has no `{name}`"))?;
        let decoded = URL_SAFE_NO_PAD.decode(text);
        decoded.map_err(|_| format!("`{name}` is not base64url (unpadded)"))
    };
    let key = match alg {
        Algorithm::RS256 => rsa_key(&bytes("n")?, &bytes("e")?)?,
        _ => ec_key(&bytes("x")?, &bytes("y")?)?,
    };
    Ok(Ok(Key { kid, alg, key }))
}

/// Refuses now the modulus ring would refuse at each token's verification.
fn rsa_key(n: &[u8], e: &[u8]) -> Result<DecodingKey, String> {
    let n = &n[n.iter().take_while(|byte| **byte == 0).count()..];
    let bits = n.len() * 8 - n.first().map_or(0, |top| top.leading_zeros() as usize);
    if !(2048..=8192).contains(&bits) {
        return Err(format!(
            "the RSA modulus has {bits} bits; 2048 to 8192 are accepted"
        ));
    }
    Ok(DecodingKey::from_rsa_raw_components(n, e))
}

fn ec_key(x: &[u8], y: &[u8]) -> Result<DecodingKey, String> {
    if x.len() != 32 || y.len() != 32 {
        return Err("a P-256 key's `x` and `y` are 32 bytes each".to_owned());
    }
    Ok(DecodingKey::from_ec_der(&[&[0x04], x, y].concat()))
}

fn kid_note(kid: Option<&str>) -> String {
    kid.map(|kid| format!(" (kid `{kid}`)")).unwrap_or_default()
}

fn skipped_note(skipped: &[String]) -> String {
    match skipped {
        [] => String::new(),
        _ => format!("; skipped: {}", skipped.join("; ")),
    }
}

/// A Unix time as RFC 3339 UTC, the form an operator compares with logs;
/// one past jiff's range (years -9999 to 9999, less a day at each end) as
/// seconds from the epoch.
fn rfc3339(seconds: i64) -> String {
    match jiff::Timestamp::from_second(seconds) {
        Ok(at) => at.to_string(),
        Err(_) => format!("{seconds} s from 1970-01-01T00:00:00Z"),
    }
}

/// Names each key by alg and kid only: never its material.
impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = self.current();
        let keys: Vec<_> = keys.keys.iter().map(|key| (key.alg, &key.kid)).collect();
        let settings = &self.0.settings;
        f.debug_struct("JwtVerifier")
            .field("settings", settings)
            .field("keys", &keys)
            .finish()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    pub(crate) use crate::test_files::rewrite;
    use std::path::Path;
    use std::sync::OnceLock;

    use jsonwebtoken::EncodingKey;
    use rcgen::{KeyPair, PKCS_ECDSA_P256_SHA256};
    use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    use rsa::traits::PublicKeyParts;
    use serde_json::json;
    use tempfile::TempDir;

    use super::*;

    /// 2026-12-07T09:50:00Z: tests that are not about the clock use it.
    const NOW: i64 = 1_796_637_000;
    const ISSUER: &str = "https://login.example.com/tenant";
    const AUDIENCE: &str = "ontap-gateway";

    /// A private key and the JWK of its public half.
    pub(crate) struct Signer {
        kid: String,
        alg: Algorithm,
        key: EncodingKey,
        pub(crate) jwk: Value,
    }

    struct RsaFixture {
        signer: Signer,
        public_pem: String,
        public_pkcs1_pem: String,
        public_der: Vec<u8>,
    }

    fn b64(bytes: impl AsRef<[u8]>) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// One RSA key for the whole test process: generating one is slow.
    fn rsa() -> &'static RsaFixture {
        static RSA: OnceLock<RsaFixture> = OnceLock::new();
        RSA.get_or_init(|| {
            let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
            let public = private.to_public_key();
            let jwk = json!({
                "kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256",
                "n": b64(public.n().to_bytes_be()), "e": b64(public.e().to_bytes_be()),
            });
            RsaFixture {
                signer: Signer {
                    kid: "rsa-1".to_owned(),
                    alg: Algorithm::RS256,
                    key: EncodingKey::from_rsa_der(private.to_pkcs1_der().unwrap().as_bytes()),
                    jwk,
                },
                public_pem: public.to_public_key_pem(LineEnding::LF).unwrap(),
                public_pkcs1_pem: public.to_pkcs1_pem(LineEnding::LF).unwrap(),
                public_der: public.to_public_key_der().unwrap().into_vec(),
            }
        })
    }

    pub(crate) fn ec(kid: &str) -> Signer {
        let pair = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let point = pair.public_key_raw();
        Signer {
            kid: kid.to_owned(),
            alg: Algorithm::ES256,
            key: EncodingKey::from_ec_der(&pair.serialize_der()),
            jwk: json!({
                "kty": "EC", "crv": "P-256", "kid": kid,
                "x": b64(&point[1..33]), "y": b64(&point[33..]),
            }),
        }
    }

    pub(crate) fn claims_at(now: i64) -> Value {
        json!({"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600})
    }

    fn claims() -> Value {
        claims_at(NOW)
    }

    fn with(mut claims: Value, name: &str, value: Value) -> Value {
        claims[name] = value;
        claims
    }

    fn without(mut claims: Value, name: &str) -> Value {
        claims.as_object_mut().unwrap().remove(name);
        claims
    }

    /// A token with this header, signed by `signer` whatever the header says.
    fn token(signer: &Signer, header: Value, claims: &Value) -> String {
        let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &signer.key, signer.alg);
        format!("{input}.{}", signature.unwrap())
    }

    pub(crate) fn signed(signer: &Signer, claims: &Value) -> String {
        let header = json!({"typ": "JWT", "alg": signer.alg, "kid": signer.kid});
        token(signer, header, claims)
    }

    fn write_jwks(path: &Path, keys: &[&Value]) {
        std::fs::write(path, json!({ "keys": keys }).to_string()).unwrap();
    }

    fn settings(path: &Path) -> JwtSettings {
        JwtSettings {
            jwks: path.to_owned(),
            issuer: ISSUER.to_owned(),
            audience: AUDIENCE.to_owned(),
            identity_claim: DEFAULT_IDENTITY_CLAIM.to_owned(),
        }
    }

    /// What a verifier trusting one EC key answers, at `now`, a token that
    /// key signed over `claims`: the claim checks, whatever the key.
    fn verify_ec(claims: &Value, now: i64) -> Result<String, JwtRefusal> {
        let ec = ec("ec-1");
        let (_dir, verifier) = verifier(&[&ec.jwk]);
        verifier.verify_at(&signed(&ec, claims), now)
    }

    pub(crate) fn verifier(keys: &[&Value]) -> (TempDir, JwtVerifier) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwks.json");
        write_jwks(&path, keys);
        let verifier = JwtVerifier::load(settings(&path)).unwrap();
        (dir, verifier)
    }

    fn load_error(contents: &str) -> (String, JwksError) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwks.json");
        std::fs::write(&path, contents).unwrap();
        let error = JwtVerifier::load(settings(&path)).unwrap_err();
        (path.display().to_string(), error)
    }

    #[test]
    fn a_valid_rs256_token_names_its_sub() {
        let rsa = &rsa().signer;
        let (_dir, verifier) = verifier(&[&rsa.jwk]);
        let now = i64::try_from(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        );
        let token = signed(rsa, &claims_at(now.unwrap()));
        assert_eq!(verifier.verify(&token), Ok("alice".to_owned()));
    }

    #[test]
    fn a_valid_es256_token_names_its_sub() {
        let ec = ec("ec-1");
        let (_dir, verifier) = verifier(&[&rsa().signer.jwk, &ec.jwk]);
        assert_eq!(
            verifier.verify_at(&signed(&ec, &claims()), NOW),
            Ok("alice".to_owned())
        );
    }

    #[test]
    fn the_identity_comes_from_the_configured_claim() {
        let ec = ec("ec-1");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwks.json");
        write_jwks(&path, &[&ec.jwk]);
        let settings = JwtSettings {
            identity_claim: "email".to_owned(),
            ..settings(&path)
        };
        let verifier = JwtVerifier::load(settings).unwrap();
        let claims = with(claims(), "email", json!("alice@example.com"));
        let token = signed(&ec, &claims);
        assert_eq!(
            verifier.verify_at(&token, NOW),
            Ok("alice@example.com".to_owned())
        );
        let token = signed(&ec, &without(claims, "email"));
        let refusal = verifier.verify_at(&token, NOW).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "the JWT has no `email` claim (a non-empty string without control characters)"
        );
    }

    #[test]
    fn an_expired_token_is_refused_saying_when_it_expired() {
        let exp = 1_796_637_600;
        let refusal = verify_ec(&with(claims(), "exp", json!(exp)), exp + 3600).unwrap_err();
        assert_eq!(refusal, JwtRefusal::Expired(exp));
        assert_eq!(
            refusal.to_string(),
            "the JWT expired at 2026-12-07T10:00:00Z"
        );
    }

    #[test]
    fn a_token_is_refused_once_the_clock_skew_past_its_expiry_is_over() {
        let expired = with(claims(), "exp", json!(NOW - 60));
        assert_eq!(verify_ec(&expired, NOW), Err(JwtRefusal::Expired(NOW - 60)));
    }

    #[test]
    fn a_token_expired_within_the_clock_skew_is_accepted() {
        let within_skew = with(claims(), "exp", json!(NOW - 59));
        assert_eq!(verify_ec(&within_skew, NOW), Ok("alice".to_owned()));
    }

    #[test]
    fn a_token_not_yet_valid_is_refused_saying_from_when() {
        let refusal = verify_ec(&with(claims(), "nbf", json!(NOW + 61)), NOW).unwrap_err();
        assert_eq!(refusal, JwtRefusal::NotYetValid(NOW + 61));
        assert_eq!(
            refusal.to_string(),
            "the JWT is not valid before 2026-12-07T09:51:01Z"
        );
    }

    #[test]
    fn a_token_valid_from_within_the_clock_skew_is_accepted() {
        let within_skew = with(claims(), "nbf", json!(NOW + 60));
        assert_eq!(verify_ec(&within_skew, NOW), Ok("alice".to_owned()));
    }

    #[test]
    fn a_token_without_exp_is_refused() {
        let no_expiry = without(claims(), "exp");
        assert_eq!(verify_ec(&no_expiry, NOW), Err(JwtRefusal::NoExpiry));
    }

    #[test]
    fn an_rsa_modulus_is_counted_in_bits_from_its_highest_set_bit() {
        let e = [1, 0, 1];
        // 256 bytes with the top bit clear: 2047 bits, one short.
        let short = [[0x7f].as_slice(), &[0xff; 255]].concat();
        let refused = rsa_key(&short, &e).err().expect("too short");
        assert!(refused.contains("2047 bits"), "{refused}");
        // Leading zero bytes do not count; a set top bit makes 2048.
        let full = [[0, 0].as_slice(), &[0x80], &[0xff; 255]].concat();
        assert!(rsa_key(&full, &e).is_ok());
    }

    #[test]
    fn an_ec_key_needs_both_coordinates_of_32_bytes() {
        assert!(ec_key(&[1; 32], &[1; 32]).is_ok());
        assert!(ec_key(&[1; 32], &[1; 31]).is_err());
        assert!(ec_key(&[1; 31], &[1; 32]).is_err());
    }

    #[test]
    fn a_refusal_lists_the_keys_it_skipped_only_when_there_were_some() {
        assert_eq!(skipped_note(&[]), "");
        let skipped = ["kid `a`: HS256".to_owned(), "kid `b`: no `n`".to_owned()];
        assert_eq!(
            skipped_note(&skipped),
            "; skipped: kid `a`: HS256; kid `b`: no `n`"
        );
    }

    #[test]
    fn a_time_claim_that_is_not_a_number_is_refused_naming_it() {
        let words = with(claims(), "nbf", json!("yesterday"));
        assert_eq!(verify_ec(&words, NOW), Err(JwtRefusal::BadTime("nbf")));
    }

    #[test]
    fn a_fractional_expiry_is_accepted() {
        let fractional = with(claims(), "exp", json!(NOW as f64 + 0.5));
        assert_eq!(verify_ec(&fractional, NOW), Ok("alice".to_owned()));
    }

    #[test]
    fn a_token_for_another_audience_is_refused() {
        for audience in [json!("other-api"), json!(["other-api"]), Value::Null] {
            let refusal = verify_ec(&with(claims(), "aud", audience), NOW).unwrap_err();
            assert_eq!(
                refusal.to_string(),
                "the JWT's audience is not `ontap-gateway`"
            );
        }
        let refusal = verify_ec(&without(claims(), "aud"), NOW);
        assert_eq!(refusal, Err(JwtRefusal::WrongAudience(AUDIENCE.to_owned())));
    }

    #[test]
    fn an_audience_array_containing_ours_is_accepted() {
        let ours_among_others = with(claims(), "aud", json!(["other-api", AUDIENCE]));
        assert_eq!(verify_ec(&ours_among_others, NOW), Ok("alice".to_owned()));
    }

    #[test]
    fn a_token_from_another_issuer_is_refused() {
        let other_issuer = with(claims(), "iss", json!(format!("{ISSUER}/")));
        let refusal = verify_ec(&other_issuer, NOW).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "the JWT's issuer is not `https://login.example.com/tenant`"
        );
        let refusal = verify_ec(&without(claims(), "iss"), NOW);
        assert_eq!(refusal, Err(JwtRefusal::WrongIssuer(ISSUER.to_owned())));
    }

    #[test]
    fn a_token_naming_an_unknown_kid_is_refused() {
        let (_dir, verifier) = verifier(&[&ec("ec-1").jwk]);
        let stranger = ec("ec-2");
        let refusal = verifier
            .verify_at(&signed(&stranger, &claims()), NOW)
            .unwrap_err();
        assert_eq!(refusal.to_string(), "no key in the JWKS has kid `ec-2`");
    }

    #[test]
    fn a_token_without_kid_is_accepted_when_one_key_fits_its_alg() {
        let ec = ec("ec-1");
        let (_dir, verifier) = verifier(&[&rsa().signer.jwk, &ec.jwk]);
        let token = token(&ec, json!({"alg": "ES256"}), &claims());
        assert_eq!(verifier.verify_at(&token, NOW), Ok("alice".to_owned()));
    }

    #[test]
    fn a_token_without_kid_is_refused_when_two_keys_fit_its_alg() {
        let (first, second) = (ec("ec-1"), ec("ec-2"));
        let (_dir, verifier) = verifier(&[&first.jwk, &second.jwk]);
        let token = token(&first, json!({"alg": "ES256"}), &claims());
        let refusal = verifier.verify_at(&token, NOW).unwrap_err();
        assert_eq!(
            refusal,
            JwtRefusal::KidRequired {
                alg: Algorithm::ES256,
                count: 2
            }
        );
        assert_eq!(
            refusal.to_string(),
            "the JWT has no kid, and the JWKS has 2 ES256 keys: a kid must choose one"
        );
    }

    #[test]
    fn a_token_without_kid_is_refused_when_no_key_fits_its_alg() {
        let ec = ec("ec-1");
        let (_dir, verifier) = verifier(&[&rsa().signer.jwk]);
        let token = token(&ec, json!({"alg": "ES256"}), &claims());
        assert_eq!(
            verifier.verify_at(&token, NOW),
            Err(JwtRefusal::NoKeyForAlg(Algorithm::ES256))
        );
    }

    #[test]
    fn alg_none_is_refused() {
        let ec = ec("ec-1");
        let (_dir, verifier) = verifier(&[&ec.jwk]);
        for alg in ["none", "None", "NONE"] {
            let header = json!({"alg": alg, "kid": "ec-1"});
            let token = format!("{}.{}.", b64(header.to_string()), b64(claims().to_string()));
            let refusal = verifier.verify_at(&token, NOW).unwrap_err();
            assert_eq!(
                refusal.to_string(),
                format!("the JWT's alg `{alg}` is not accepted: RS256 or ES256")
            );
        }
    }

    #[test]
    fn hs256_signed_with_the_rsa_public_key_as_its_secret_is_refused() {
        let rsa = rsa();
        let (_dir, verifier) = verifier(&[&rsa.signer.jwk]);
        let secrets = [
            rsa.public_pem.as_bytes(),
            rsa.public_pkcs1_pem.as_bytes(),
            rsa.public_der.as_slice(),
        ];
        for secret in secrets {
            for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
                let forger = Signer {
                    kid: "rsa-1".to_owned(),
                    alg,
                    key: EncodingKey::from_secret(secret),
                    jwk: Value::Null,
                };
                let refusal = verifier.verify_at(&signed(&forger, &claims()), NOW);
                assert_eq!(refusal, Err(JwtRefusal::AlgNotAccepted(format!("{alg:?}"))));
            }
        }
    }

    #[test]
    fn other_asymmetric_algs_are_refused() {
        let rsa = &rsa().signer;
        let (_dir, verifier) = verifier(&[&rsa.jwk]);
        for alg in ["RS512", "PS256", "ES384", "EdDSA"] {
            let token = token(rsa, json!({"alg": alg, "kid": "rsa-1"}), &claims());
            let refusal = verifier.verify_at(&token, NOW);
            assert_eq!(refusal, Err(JwtRefusal::AlgNotAccepted(alg.to_owned())));
        }
    }

    #[test]
    fn an_rsa_signed_token_claiming_es256_is_refused_as_a_key_mismatch() {
        let rsa = &rsa().signer;
        let (_dir, verifier) = verifier(&[&rsa.jwk, &ec("ec-1").jwk]);
        let token = token(rsa, json!({"alg": "ES256", "kid": "rsa-1"}), &claims());
        let refusal = verifier.verify_at(&token, NOW).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "the JWKS key with kid `rsa-1` verifies RS256, not the JWT's alg ES256"
        );
    }

    #[test]
    fn an_ec_key_does_not_verify_a_token_claiming_rs256() {
        let ec = ec("ec-1");
        let (_dir, verifier) = verifier(&[&ec.jwk]);
        let token = token(&ec, json!({"alg": "RS256", "kid": "ec-1"}), &claims());
        let refusal = verifier.verify_at(&token, NOW);
        let mismatch = JwtRefusal::KeyMismatch {
            kid: "ec-1".to_owned(),
            key_alg: Algorithm::ES256,
            alg: Algorithm::RS256,
        };
        assert_eq!(refusal, Err(mismatch));
    }

    #[test]
    fn a_tampered_payload_fails_the_signature() {
        let rsa = &rsa().signer;
        let (_dir, verifier) = verifier(&[&rsa.jwk]);
        let token = signed(rsa, &claims());
        let parts: Vec<&str> = token.split('.').collect();
        let forged = b64(with(claims(), "sub", json!("root")).to_string());
        let tampered = format!("{}.{forged}.{}", parts[0], parts[2]);
        assert_eq!(
            verifier.verify_at(&tampered, NOW),
            Err(JwtRefusal::BadSignature)
        );
    }

    #[test]
    fn a_signature_by_another_key_with_the_same_kid_fails() {
        let (trusted, impostor) = (ec("ec-1"), ec("ec-1"));
        let (_dir, verifier) = verifier(&[&trusted.jwk]);
        let token = signed(&impostor, &claims());
        assert_eq!(
            verifier.verify_at(&token, NOW),
            Err(JwtRefusal::BadSignature)
        );
    }

    #[test]
    fn garbage_is_not_a_jwt() {
        let (_dir, verifier) = verifier(&[&ec("ec-1").jwk]);
        let header = b64(r#"{"alg":"ES256"}"#);
        let garbage = [
            String::new(),
            "Bearer".to_owned(),
            "a.b".to_owned(),
            "a.b.c.d".to_owned(),
            "..".to_owned(),
            format!("{header}.e30"),
            format!("{header}.e30."),
            format!("{header}.e30.not*base64"),
            format!("{}.e30.AAAA", b64("not json")),
            format!("{}.e30.AAAA", b64(r#"{"kid":"ec-1"}"#)),
            format!("{}.e30.AAAA", b64(r#"["ES256"]"#)),
            format!("{}.e30.AAAA", b64(r#"{"alg":"ES256","kid":5}"#)),
        ];
        for token in garbage {
            let refusal = verifier.verify_at(&token, NOW).unwrap_err();
            assert_eq!(refusal, JwtRefusal::Malformed, "{token}");
            assert_eq!(
                refusal.to_string(),
                "not a JWT (three base64url parts, the first a JSON header with an `alg`)"
            );
        }
    }

    #[test]
    fn a_critical_header_extension_is_refused() {
        let ec = ec("ec-1");
        let (_dir, verifier) = verifier(&[&ec.jwk]);
        let header = json!({"alg": "ES256", "kid": "ec-1", "crit": ["exp"], "exp": 1});
        let token = token(&ec, header, &claims());
        assert_eq!(
            verifier.verify_at(&token, NOW),
            Err(JwtRefusal::CriticalHeader)
        );
    }

    #[test]
    fn a_token_without_the_identity_claim_is_refused_naming_it() {
        let ec = ec("ec-1");
        let (_dir, verifier) = verifier(&[&ec.jwk]);
        let token = signed(&ec, &without(claims(), "sub"));
        let refusal = verifier.verify_at(&token, NOW).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "the JWT has no `sub` claim (a non-empty string without control characters)"
        );
    }

    #[test]
    fn an_identity_claim_that_is_empty_not_a_string_or_has_control_characters_is_refused() {
        let ec = ec("ec-1");
        let (_dir, verifier) = verifier(&[&ec.jwk]);
        for sub in [
            json!(""),
            json!(42),
            json!(["alice"]),
            json!("alice\nadmin"),
        ] {
            let token = signed(&ec, &with(claims(), "sub", sub));
            let refusal = verifier.verify_at(&token, NOW);
            assert_eq!(refusal, Err(JwtRefusal::NoIdentity("sub".to_owned())));
        }
    }

    #[test]
    fn a_refusal_quotes_a_header_value_only_cut_short_and_printable() {
        let (_dir, verifier) = verifier(&[&ec("ec-1").jwk]);
        let kid = format!("line\nbreak{}", "k".repeat(100));
        let token = signed(&ec(&kid), &claims());
        let refusal = verifier.verify_at(&token, NOW).unwrap_err();
        let expected = format!("no key in the JWKS has kid `line?break{}…`", "k".repeat(30));
        assert_eq!(refusal.to_string(), expected);
    }

    #[test]
    fn an_unreadable_jwks_names_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.json");
        let error = JwtVerifier::load(settings(&path)).unwrap_err();
        assert!(matches!(error, JwksError::Unreadable { .. }), "{error:?}");
        let expected = format!("reading the JWKS {}: ", path.display());
        assert!(error.to_string().starts_with(&expected), "{error}");
    }

    #[test]
    fn a_jwks_that_is_not_json_names_its_path() {
        let (path, error) = load_error("keys: [oops]");
        assert!(matches!(error, JwksError::NotJson { .. }), "{error:?}");
        let expected = format!("the JWKS {path} is not JSON: ");
        assert!(error.to_string().starts_with(&expected), "{error}");
    }

    #[test]
    fn json_that_is_not_a_jwk_set_is_refused_naming_its_path() {
        for contents in [
            r#"[{"kty":"RSA"}]"#,
            r#"{"keys":{"kty":"RSA"}}"#,
            r#"{"key":[]}"#,
        ] {
            let (path, error) = load_error(contents);
            assert_eq!(
                error.to_string(),
                format!("the JWKS {path} is not a JWK set: expected an object with a `keys` array")
            );
        }
    }

    #[test]
    fn a_jwks_with_no_usable_key_names_its_path_and_what_it_skipped() {
        let mut encryption = rsa().signer.jwk.clone();
        encryption["use"] = json!("enc");
        encryption["kid"] = json!("rsa-enc");
        encryption.as_object_mut().unwrap().remove("alg");
        let keys = json!({"keys": [
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0LWhtYWMta2V5"},
            {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty": "EC", "crv": "P-384", "kid": "p384", "x": "AA", "y": "AA"},
            encryption,
        ]});
        let (path, error) = load_error(&keys.to_string());
        let shown = error.to_string();
        assert_eq!(
            shown,
            format!(
                "the JWKS {path} has no key usable for RS256 or ES256 (RSA, or EC on P-256, not \
                 `use: enc`); skipped: key 0 (kid `hmac`): key type `oct`; key 1: key type \
                 `OKP`; key 2 (kid `p384`): curve `P-384`; key 3 (kid `rsa-enc`): `use: enc`"
            )
        );
        assert!(!shown.contains("c2VjcmV0"));
        assert!(!format!("{error:?}").contains("c2VjcmV0"));
    }

    #[test]
    fn keys_of_other_types_or_algs_are_skipped_when_a_usable_one_remains() {
        let ec = ec("ec-1");
        let mut rs512 = rsa().signer.jwk.clone();
        rs512["alg"] = json!("RS512");
        let oct = json!({"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"});
        let (_dir, verifier) = verifier(&[&oct, &rs512, &ec.jwk]);
        assert_eq!(
            verifier.verify_at(&signed(&ec, &claims()), NOW),
            Ok("alice".to_owned())
        );
        let refusal = verifier.verify_at(&signed(&rsa().signer, &claims()), NOW);
        assert_eq!(refusal, Err(JwtRefusal::UnknownKid("rsa-1".to_owned())));
    }

    #[test]
    fn an_encryption_key_verifies_nothing() {
        let ec = ec("ec-1");
        let mut encryption = ec.jwk.clone();
        encryption["use"] = json!("enc");
        let other = self::ec("ec-2");
        let (_dir, verifier) = verifier(&[&encryption, &other.jwk]);
        let refusal = verifier.verify_at(&signed(&ec, &claims()), NOW);
        assert_eq!(refusal, Err(JwtRefusal::UnknownKid("ec-1".to_owned())));
    }

    #[test]
    fn a_broken_key_of_a_usable_type_fails_the_load_naming_it() {
        let short = json!({"kty": "RSA", "kid": "weak", "n": b64([0xc5; 128]), "e": "AQAB"});
        let keys = json!({"keys": [ec("ec-1").jwk, short]});
        let (path, error) = load_error(&keys.to_string());
        assert_eq!(
            error.to_string(),
            format!(
                "the JWKS {path}: key 1 (kid `weak`): the RSA modulus has 1024 bits; 2048 to \
                 8192 are accepted"
            )
        );
        let keys = json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]});
        let (path, error) = load_error(&keys.to_string());
        let expected =
            format!("the JWKS {path}: key 0: a P-256 key's `x` and `y` are 32 bytes each");
        assert_eq!(error.to_string(), expected);
    }

    #[test]
    fn reload_takes_a_changed_file_and_the_old_keys_tokens_then_fail() {
        let (old, new) = (ec("old"), ec("new-key"));
        let (dir, verifier) = verifier(&[&old.jwk]);
        let path = dir.path().join("jwks.json");
        let (old_token, new_token) = (signed(&old, &claims()), signed(&new, &claims()));
        assert_eq!(verifier.verify_at(&old_token, NOW), Ok("alice".to_owned()));
        rewrite(&path, &json!({"keys": [new.jwk]}).to_string());
        assert!(matches!(verifier.reload_if_changed(), Ok(true)));
        assert_eq!(verifier.verify_at(&new_token, NOW), Ok("alice".to_owned()));
        let refusal = verifier.verify_at(&old_token, NOW);
        assert_eq!(refusal, Err(JwtRefusal::UnknownKid("old".to_owned())));
    }

    #[test]
    fn a_clone_sees_the_keys_a_reload_took() {
        let (old, new) = (ec("old"), ec("new-key"));
        let (dir, verifier) = verifier(&[&old.jwk]);
        let clone = verifier.clone();
        rewrite(
            &dir.path().join("jwks.json"),
            &json!({"keys": [new.jwk]}).to_string(),
        );
        assert!(verifier.reload_if_changed().unwrap());
        assert_eq!(
            clone.verify_at(&signed(&new, &claims()), NOW),
            Ok("alice".to_owned())
        );
    }

    #[test]
    fn verifying_while_reloading_always_finds_a_whole_key_set() {
        let (kept, first, second) = (ec("kept"), ec("first"), ec("second-key"));
        let (dir, verifier) = verifier(&[&kept.jwk, &first.jwk]);
        let path = dir.path().join("jwks.json");
        let token = signed(&kept, &claims());
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..200 {
                        assert_eq!(verifier.verify_at(&token, NOW), Ok("alice".to_owned()));
                    }
                });
            }
            for round in 0..20 {
                let other = if round % 2 == 0 { &second } else { &first };
                rewrite(&path, &json!({"keys": [kept.jwk, other.jwk]}).to_string());
                assert!(matches!(verifier.reload_if_changed(), Ok(true)));
            }
        });
    }

    #[test]
    fn reload_of_a_broken_file_keeps_the_old_keys_and_reports_it() {
        let old = ec("old");
        let (dir, verifier) = verifier(&[&old.jwk]);
        let path = dir.path().join("jwks.json");
        rewrite(&path, r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#);
        let error = verifier.reload_if_changed().unwrap_err();
        assert!(matches!(error, JwksError::NoUsableKey { .. }), "{error:?}");
        assert_eq!(
            verifier.verify_at(&signed(&old, &claims()), NOW),
            Ok("alice".to_owned())
        );
        let again = verifier.reload_if_changed().unwrap_err();
        assert!(matches!(again, JwksError::NoUsableKey { .. }), "{again:?}");
    }

    #[test]
    fn reload_of_a_deleted_file_keeps_the_old_keys_and_reports_it() {
        let old = ec("old");
        let (dir, verifier) = verifier(&[&old.jwk]);
        std::fs::remove_file(dir.path().join("jwks.json")).unwrap();
        let error = verifier.reload_if_changed().unwrap_err();
        assert!(matches!(error, JwksError::Unreadable { .. }), "{error:?}");
        assert_eq!(
            verifier.verify_at(&signed(&old, &claims()), NOW),
            Ok("alice".to_owned())
        );
    }

    #[test]
    fn reload_of_an_unchanged_file_takes_nothing() {
        let (_dir, verifier) = verifier(&[&ec("ec-1").jwk]);
        assert!(matches!(verifier.reload_if_changed(), Ok(false)));
    }

    #[test]
    fn debug_output_shows_kids_but_no_key_material() {
        let ec = ec("ec-1");
        let rsa = &rsa().signer.jwk;
        let (_dir, verifier) = verifier(&[rsa, &ec.jwk]);
        let shown = format!("{verifier:?}");
        assert!(
            shown.contains(r#"(RS256, Some("rsa-1"))"#)
                && shown.contains(r#"(ES256, Some("ec-1"))"#),
            "{shown}"
        );
        for material in [&rsa["n"], &ec.jwk["x"], &ec.jwk["y"]] {
            let material = material.as_str().unwrap();
            assert!(!shown.contains(&material[..16]), "{shown}");
        }
    }

    #[test]
    fn a_verifier_can_be_shared_between_tasks() {
        fn shareable<T: Clone + Send + Sync + 'static>() {}
        shareable::<JwtVerifier>();
    }

    #[test]
    fn times_are_shown_in_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(253_402_128_000), "9999-12-30T00:00:00Z");
        assert_eq!(rfc3339(1_796_637_600), "2026-12-07T10:00:00Z");
        assert_eq!(
            rfc3339(253_402_300_799),
            "253402300799 s from 1970-01-01T00:00:00Z"
        );
        assert_eq!(
            rfc3339(i64::MAX),
            "9223372036854775807 s from 1970-01-01T00:00:00Z"
        );
        assert!(rfc3339(i64::MIN).starts_with("-9223372036854775808 s"));
    }
}
