//! JWTs for the tests: an issuer with a fresh EC P-256 key, whose JWK set
//! the gateway is given, signing tokens with whatever claims a test needs.

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ontap_grpc_gateway::identity::{JwtSettings, JwtVerifier};
use rcgen::{KeyPair, PKCS_ECDSA_P256_SHA256};
use serde_json::{Value, json};

pub const ISSUER: &str = "https://issuer.test";
pub const AUDIENCE: &str = "ontap-gateway";

/// An identity provider of one signing key, its JWKS in a temporary file.
pub struct Issuer {
    key: EncodingKey,
    _dir: tempfile::TempDir,
    jwks: PathBuf,
}

impl Issuer {
    pub fn new() -> Self {
        let pair = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let point = pair.public_key_raw();
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "kid": "test-1", "use": "sig", "alg": "ES256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        });
        let dir = tempfile::tempdir().unwrap();
        let jwks = dir.path().join("jwks.json");
        std::fs::write(&jwks, json!({ "keys": [jwk] }).to_string()).unwrap();
        Self {
            key: EncodingKey::from_ec_der(&pair.serialize_der()),
            _dir: dir,
            jwks,
        }
    }

    /// The verifier a gateway trusting this issuer holds.
    pub fn verifier(&self) -> JwtVerifier {
        JwtVerifier::load(JwtSettings {
            jwks: self.jwks.clone(),
            issuer: ISSUER.to_owned(),
            audience: AUDIENCE.to_owned(),
            identity_claim: "sub".to_owned(),
        })
        .unwrap()
    }

    /// A token for `sub`, valid for ten minutes from `issued` seconds
    /// after now (negative: in the past).
    pub fn token(&self, sub: &str, issued: i64) -> String {
        let now = jiff::Timestamp::now().as_second() + issued;
        self.sign(&json!({
            "sub": sub, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "nbf": now, "exp": now + 600,
        }))
    }

    /// `claims`, signed ES256 under this issuer's key id.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some("test-1".to_owned());
        jsonwebtoken::encode(&header, claims, &self.key).unwrap()
    }
}
