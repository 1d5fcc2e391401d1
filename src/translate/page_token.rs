//! Page tokens: opaque to callers, self-contained so any gateway replica can
//! serve the next page, and checked on the way back in so a token can only
//! ever continue the same query on the same collection.
//!
//! A token is base64url(JSON) of ONTAP's `_links.next` href and a
//! fingerprint of the query that produced it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::hash::Hasher;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::ontap::{ApiPath, Query};

const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Token {
    v: u32,
    next: String,
    query: String,
}

/// Wraps ONTAP's next link into a token bound to the query's fingerprint.
pub fn encode(next_href: &str, fingerprint: &str) -> String {
    let token = Token {
        v: VERSION,
        next: next_href.to_owned(),
        query: fingerprint.to_owned(),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).expect("a token always serializes"))
}

/// Unwraps a token for `collection` into ONTAP's query for the next batch,
/// refusing anything that was not issued for this collection and this query.
pub fn decode(token: &str, collection: &ApiPath, fingerprint: &str) -> Result<Query, String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| "is not a page token issued by this gateway".to_owned())?;
    let token: Token = serde_json::from_slice(&bytes)
        .map_err(|_| "is not a page token issued by this gateway".to_owned())?;
    if token.v != VERSION {
        return Err(format!("has unsupported version {}", token.v));
    }
    if token.query != fingerprint {
        return Err(
            "was issued for a different query; repeat the original filters, read_mask and order_by"
                .into(),
        );
    }
    let origin = Url::parse("http://ontap.invalid").expect("a fixed URL parses");
    let next = origin
        .join(&token.next)
        .map_err(|_| "does not hold a valid continuation".to_owned())?;
    if next.origin() != origin.origin()
        || next.path() != collection.as_str()
        || next.fragment().is_some()
        || !token.next.starts_with(collection.as_str())
    {
        return Err("does not continue this collection".into());
    }
    Ok(Query::parse(next.query().unwrap_or("")))
}

/// A stable digest of the query parameters a token must be used with:
/// FNV-1a, whose output is fixed by its definition, so every replica and
/// build computes the same value (std's hasher promises no such thing).
pub fn fingerprint<'a>(parts: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut hasher = fnv::FnvHasher::default();
    for (key, value) in parts {
        for field in [key, value] {
            hasher.write(field.as_bytes());
            hasher.write_u8(0);
        }
    }
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ontap::cifs::CONNECTIONS;

    #[test]
    fn round_trips_a_next_link() {
        let href = "/api/protocols/cifs/connections?max_records=5&start.identifier=91842";
        let token = encode(href, "abc");
        let c = decode(&token, &CONNECTIONS.path(), "abc").unwrap();
        assert_eq!(c.get("start.identifier"), Some("91842"));
        assert_eq!(c.get("max_records"), Some("5"));
    }

    #[test]
    fn refuses_another_collection() {
        let token = encode("/api/security/accounts?max_records=5", "abc");
        assert!(decode(&token, &CONNECTIONS.path(), "abc").is_err());
    }

    #[test]
    fn refuses_another_host() {
        for href in [
            "//evil.example/api/protocols/cifs/connections?x=1",
            "https://evil.example/api/protocols/cifs/connections?x=1",
            "/api/protocols/cifs/connections/../../security/accounts",
        ] {
            let token = encode(href, "abc");
            assert!(
                decode(&token, &CONNECTIONS.path(), "abc").is_err(),
                "{href}"
            );
        }
    }

    #[test]
    fn refuses_a_different_query() {
        let token = encode("/api/protocols/cifs/connections?max_records=5", "abc");
        assert!(decode(&token, &CONNECTIONS.path(), "def").is_err());
    }

    #[test]
    fn refuses_garbage() {
        assert!(decode("not a token!", &CONNECTIONS.path(), "abc").is_err());
        assert!(decode(&URL_SAFE_NO_PAD.encode("{}"), &CONNECTIONS.path(), "abc").is_err());
    }

    #[test]
    fn fingerprint_is_fixed_across_builds_and_replicas() {
        assert_eq!(
            fingerprint([("fields", "*"), ("order_by", "")]),
            "195d9eba64491496"
        );
    }

    #[test]
    fn fingerprint_separates_keys_from_values() {
        assert_ne!(fingerprint([("ab", "c")]), fingerprint([("a", "bc")]));
    }
}
