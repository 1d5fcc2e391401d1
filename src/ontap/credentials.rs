//! Whose credentials a request to ONTAP carries: the gateway's own service
//! account, or, in pass-through mode, each caller's, so that ONTAP's own
//! RBAC decides per caller and the gateway holds no secret.

use std::fmt;
use std::sync::Arc;

use base64::Engine;
use http::HeaderValue;
use secrecy::SecretString;
use sha2::{Digest, Sha256};

use super::untrusted::Scrubber;

/// How a cluster's requests are authenticated.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// The gateway signs in as one ONTAP account for every caller.
    ServiceAccount {
        /// ONTAP user.
        username: String,
        /// Its password; the Debug form is redacted, so it is never logged.
        password: SecretString,
    },
    /// Each call carries the caller's own `authorization: Basic` metadata,
    /// forwarded as it came; a call without it is refused before anything
    /// goes upstream.
    PassThrough,
}

/// A caller's own Basic credentials, checked for form (not validity: that
/// is ONTAP's to decide) and never shown.
#[derive(Clone)]
pub struct CallerCredentials(Arc<Caller>);

struct Caller {
    header: HeaderValue,
    /// Tells one identity's shared reads and pollers from another's without
    /// keeping the secret in their maps.
    fingerprint: String,
    scrubber: Scrubber,
}

impl fmt::Debug for CallerCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallerCredentials([REDACTED])")
    }
}

/// Why a call's credentials cannot be forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CallerCredentialsError {
    /// The call carries no `authorization` metadata.
    #[error(
        "this cluster takes each caller's own ONTAP credentials: send `authorization` metadata \
         of the form Basic base64(user:password)"
    )]
    Missing,
    /// The metadata is not the Basic scheme ONTAP accepts.
    #[error("the `authorization` metadata is not of the form Basic base64(user:password)")]
    NotBasic,
}

impl CallerCredentials {
    /// The caller's `authorization` metadata, when it is Basic credentials
    /// of a named user.
    pub fn from_metadata(value: Option<&HeaderValue>) -> Result<Self, CallerCredentialsError> {
        let value = value.ok_or(CallerCredentialsError::Missing)?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
            .map(|(_, token)| token.trim())
            .ok_or(CallerCredentialsError::NotBasic)?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(token)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or(CallerCredentialsError::NotBasic)?;
        let password = match decoded.split_once(':') {
            Some((user, password)) if !user.is_empty() => password.to_owned(),
            _ => return Err(CallerCredentialsError::NotBasic),
        };
        let mut header = value.clone();
        header.set_sensitive(true);
        Ok(Self(Arc::new(Caller {
            header,
            fingerprint: format!("{:x}", Sha256::digest(value.as_bytes())),
            scrubber: Scrubber::new([password, token.to_owned()]),
        })))
    }

    /// The header to send ONTAP.
    pub(super) fn header(&self) -> &HeaderValue {
        &self.0.header
    }

    /// A SHA-256 of the credentials: equal for the same credentials.
    pub fn fingerprint(&self) -> &str {
        &self.0.fingerprint
    }

    /// Redacts these credentials from what ONTAP sends back.
    pub(super) fn scrubber(&self) -> &Scrubber {
        &self.0.scrubber
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user_password: &str) -> HeaderValue {
        let token = base64::engine::general_purpose::STANDARD.encode(user_password);
        HeaderValue::from_str(&format!("Basic {token}")).unwrap()
    }

    #[test]
    fn basic_credentials_of_a_named_user_are_forwarded_as_given() {
        let value = basic("alice:s3cret-pass");
        let caller = CallerCredentials::from_metadata(Some(&value)).unwrap();
        assert_eq!(caller.header(), &value);
        assert!(caller.header().is_sensitive());
    }

    #[test]
    fn the_scheme_is_matched_without_regard_to_case() {
        let token = base64::engine::general_purpose::STANDARD.encode("alice:pw");
        let value = HeaderValue::from_str(&format!("basic {token}")).unwrap();
        assert!(CallerCredentials::from_metadata(Some(&value)).is_ok());
    }

    #[test]
    fn no_metadata_is_missing_credentials() {
        assert_eq!(
            CallerCredentials::from_metadata(None).unwrap_err(),
            CallerCredentialsError::Missing
        );
    }

    #[test]
    fn bearer_tokens_garbage_and_nameless_users_are_not_basic_credentials() {
        let bearer = HeaderValue::from_static("Bearer abc");
        let garbage = HeaderValue::from_static("Basic !!!");
        let no_colon = basic("alice");
        let no_user = basic(":pw");
        for value in [bearer, garbage, no_colon, no_user] {
            assert_eq!(
                CallerCredentials::from_metadata(Some(&value)).unwrap_err(),
                CallerCredentialsError::NotBasic,
                "{value:?}"
            );
        }
    }

    #[test]
    fn fingerprints_tell_credentials_apart_and_hold_no_secret() {
        let alice = CallerCredentials::from_metadata(Some(&basic("alice:one"))).unwrap();
        let again = CallerCredentials::from_metadata(Some(&basic("alice:one"))).unwrap();
        let other = CallerCredentials::from_metadata(Some(&basic("alice:two"))).unwrap();
        assert_eq!(alice.fingerprint(), again.fingerprint());
        assert_ne!(alice.fingerprint(), other.fingerprint());
        assert_eq!(alice.fingerprint().len(), 64);
        assert!(!alice.fingerprint().contains("one"));
    }

    #[test]
    fn what_ontap_echoes_of_the_password_or_token_is_redacted() {
        let value = basic("alice:s3cret-pass");
        let caller = CallerCredentials::from_metadata(Some(&value)).unwrap();
        let token = value.to_str().unwrap().trim_start_matches("Basic ");
        let scrubbed = caller
            .scrubber()
            .scrub(&format!("bad password s3cret-pass in {token}"));
        assert!(!scrubbed.contains("s3cret-pass"), "{scrubbed}");
        assert!(!scrubbed.contains(token), "{scrubbed}");
        assert_eq!(format!("{caller:?}"), "CallerCredentials([REDACTED])");
    }
}
