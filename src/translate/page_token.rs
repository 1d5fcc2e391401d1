//! Page tokens: opaque to callers, self-contained so that any replica holding
//! the same key serves the next page, and authenticated so that a token can
//! carry nothing but ONTAP's continuation.
//!
//! A token is `base64url(payload) "." base64url(HMAC-SHA-256(key, payload))`.
//! The payload (postcard: a page's token is built on every call, and a binary
//! layout costs a fraction of JSON's to write, hash and encode) names the
//! cluster and the collection, a fingerprint of the query that produced the
//! page, and ONTAP's `start.*` continuation keys and values from its
//! `_links.next`: never a query. Every cluster of a gateway signs with the
//! same key, so the cluster's name in the payload is what keeps one
//! cluster's position from starting another's page. The query sent
//! upstream is always the one the gateway builds from the current request;
//! a token adds only the continuation, each key and value checked again on
//! the way in.

use std::borrow::Cow;
use std::hash::Hasher;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use url::form_urlencoded;
use zeroize::Zeroizing;

use crate::ontap::ApiPath;

/// 4: the payload names the cluster. A version 3 token names none, and read
/// with this layout would fail as a forgery; refused by its version, it is
/// told to start again instead. A token of another version is refused with
/// a message saying so.
const VERSION: u32 = 4;
/// The prefix of ONTAP's continuation parameters.
const START: &str = "start.";
/// The fewest bytes a shared key may have: HMAC-SHA-256's output size.
pub const MIN_KEY_BYTES: usize = 32;
/// The fewest distinct byte values a key file's key may hold. Long enough
/// is not random enough: 32 NUL bytes, or one word repeated, would sign
/// tokens anyone can forge. Any way of writing 32 or more random bytes
/// clears this bar (raw, base64 or hex; 32 hex digits fall short of it
/// about once in 30 million keys), so it refuses only keys nobody drew at
/// random.
pub const MIN_DISTINCT_KEY_BYTES: usize = 8;
/// Said of every token that does not verify, forged or foreign alike: which
/// check failed is no business of a caller's.
const NOT_ISSUED_HERE: &str = "is not a page token issued by this gateway (or by a replica sharing \
     its --page-token-key-file); start again from the first page";

/// The key page tokens are signed with, held as HMAC state already keyed:
/// each token then hashes only its payload, not the key's pads again.
#[derive(Clone)]
pub struct PageTokenKey(Hmac<Sha256>);

impl std::fmt::Debug for PageTokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageTokenKey(REDACTED)")
    }
}

/// Why a key file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read.
    #[error("reading the page token key file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The key is too short to authenticate anything.
    #[error(
        "the page token key file {path} holds {len} bytes; it needs at least {MIN_KEY_BYTES} \
         (e.g. `head -c 32 /dev/urandom | base64 > FILE`)"
    )]
    TooShort {
        /// The file.
        path: String,
        /// Its key's length.
        len: usize,
    },
    /// The key repeats too few byte values to be random.
    #[error(
        "the page token key file {path} holds only {distinct} distinct byte values; a key needs \
         at least {MIN_DISTINCT_KEY_BYTES}, which any random key has (e.g. `head -c 32 \
         /dev/urandom | base64 > FILE`)"
    )]
    NotRandom {
        /// The file.
        path: String,
        /// How many distinct byte values its key holds.
        distinct: usize,
    },
    /// The operating system had no randomness to give.
    #[error("drawing a random page token key: {0}")]
    Random(String),
}

impl PageTokenKey {
    /// A fresh random key: tokens then work only on this process.
    pub fn random() -> Result<Self, KeyError> {
        let mut key = Zeroizing::new([0; MIN_KEY_BYTES]);
        getrandom::fill(key.as_mut_slice()).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(Self::from_bytes(key.as_slice()))
    }

    /// The key in `path` (its bytes, less trailing whitespace), which
    /// replicas share so that any of them continues any token.
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let shown = path.display().to_string();
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|source| KeyError::Read {
            path: shown.clone(),
            source,
        })?);
        let key = bytes.trim_ascii_end();
        if key.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort {
                path: shown,
                len: key.len(),
            });
        }
        let distinct = distinct_bytes(key);
        if distinct < MIN_DISTINCT_KEY_BYTES {
            return Err(KeyError::NotRandom {
                path: shown,
                distinct,
            });
        }
        Ok(Self::from_bytes(key))
    }

    /// A key of exactly these bytes.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Self(Hmac::new_from_slice(bytes).expect("HMAC takes a key of any length"))
    }

    fn mac(&self, payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.0.clone();
        mac.update(payload);
        mac
    }
}

/// How many distinct values the bytes of `key` take.
fn distinct_bytes(key: &[u8]) -> usize {
    let mut seen = [false; 256];
    for &b in key {
        seen[usize::from(b)] = true;
    }
    seen.iter().filter(|&&s| s).count()
}

/// What a token holds after its version, which comes first and alone so
/// that a token of another layout is told apart before its body is read.
#[derive(Serialize, Deserialize)]
struct Payload<'a> {
    /// The gateway's name for the cluster that answered the page.
    cluster: Cow<'a, str>,
    /// The collection's path.
    path: Cow<'a, str>,
    /// The fingerprint of the query that produced the page.
    query: Cow<'a, str>,
    /// ONTAP's continuation: `start.*` keys and values.
    start: Vec<(String, String)>,
}

/// ONTAP's continuation in its `_links.next` href: the `start.*` pairs.
/// `None` when the link is not under `collection` or carries none (then the
/// gateway cannot continue without following a query it did not build).
/// ONTAP's links are origin-relative (`/api/...?...`), so the path is
/// compared as given: a link that would need resolving (another host, a
/// `..`) names some other path and is refused, and only the query is
/// parsed, which costs a fraction of a URL join.
pub fn continuation(next_href: &str, collection: &ApiPath) -> Option<Vec<(String, String)>> {
    let (path, query) = next_href.split_once('?')?;
    if path != collection.as_str() {
        return None;
    }
    let query = query.split_once('#').map_or(query, |(query, _)| query);
    let start: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k.starts_with(START))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    (!start.is_empty()).then_some(start)
}

/// A token continuing `collection` of `cluster` at `start`, for the query
/// `fingerprint`.
pub fn encode(
    key: &PageTokenKey,
    cluster: &str,
    collection: &ApiPath,
    fingerprint: &str,
    start: Vec<(String, String)>,
) -> String {
    let payload = postcard::to_allocvec(&(
        VERSION,
        Payload {
            cluster: Cow::Borrowed(cluster),
            path: Cow::Borrowed(collection.as_str()),
            query: Cow::Borrowed(fingerprint),
            start,
        },
    ))
    .expect("a payload always serializes");
    let tag = key.mac(&payload).finalize().into_bytes();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&payload),
        URL_SAFE_NO_PAD.encode(tag)
    )
}

/// The continuation a token holds, if `key` signed it for `collection` of
/// `cluster` and the query `fingerprint`. The pairs still need checking
/// against the collection's fields (a key that signed them once may since
/// have leaked).
pub fn decode(
    key: &PageTokenKey,
    token: &str,
    cluster: &str,
    collection: &ApiPath,
    fingerprint: &str,
) -> Result<Vec<(String, String)>, String> {
    let not_issued = || NOT_ISSUED_HERE.to_owned();
    let (payload, tag) = token.split_once('.').ok_or_else(not_issued)?;
    let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| not_issued())?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| not_issued())?;
    key.mac(&payload)
        .verify_slice(&tag)
        .map_err(|_| not_issued())?;
    let (version, body) = split_version(&payload).ok_or_else(not_issued)?;
    if version != VERSION {
        return Err(format!(
            "has unsupported version {version}; start again from the first page"
        ));
    }
    let payload: Payload = postcard::from_bytes(body).map_err(|_| not_issued())?;
    if payload.cluster != cluster {
        return Err(
            "belongs to another cluster; send it with the x-ontap-cluster it was issued for, or \
             start again from the first page"
                .into(),
        );
    }
    if payload.path != collection.as_str() {
        return Err("continues another collection".into());
    }
    if payload.query != fingerprint {
        return Err(
            "was issued for a different query; repeat the original filters, read_mask and order_by"
                .into(),
        );
    }
    Ok(payload.start)
}

/// The version a signed payload declares, and the body after it. Version 2
/// payloads were JSON objects, whose first byte would otherwise read as
/// version 123.
fn split_version(payload: &[u8]) -> Option<(u32, &[u8])> {
    if payload.first() == Some(&b'{') {
        return Some((2, payload));
    }
    postcard::take_from_bytes::<u32>(payload).ok()
}

/// The field a continuation key names (`start.node.uuid` -> `node.uuid`).
pub fn start_field(key: &str) -> Option<&str> {
    key.strip_prefix(START)
}

/// A stable digest of the query parameters a token must be used with:
/// FNV-1a, whose output is fixed by its definition, so every replica and
/// build computes the same value (std's hasher promises no such thing). The
/// HMAC, not this digest, is what makes a token unforgeable.
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
    use crate::ontap::CollectionPath;
    use crate::translate::resource::Resource;

    /// The collection the examples page through.
    const CONNECTIONS: CollectionPath = <crate::proto::v1::CifsConnection as Resource>::COLLECTION;

    const CLUSTER: &str = "east";

    fn key() -> PageTokenKey {
        PageTokenKey::from_bytes(&[7; 32])
    }

    fn start() -> Vec<(String, String)> {
        vec![("start.identifier".into(), "91842".into())]
    }

    #[test]
    fn round_trips_a_continuation() {
        let token = encode(&key(), CLUSTER, &CONNECTIONS.path(), "abc", start());
        assert_eq!(
            decode(&key(), &token, CLUSTER, &CONNECTIONS.path(), "abc"),
            Ok(start())
        );
    }

    #[test]
    fn the_continuation_is_only_the_start_pairs_of_the_next_link() {
        let href = "/api/protocols/cifs/connections?max_records=1000000000&fields=**\
                    &svm.name=svm1&start.svm.uuid=u%0D%0A&start.identifier=91842";
        assert_eq!(
            continuation(href, &CONNECTIONS.path()),
            Some(vec![
                ("start.svm.uuid".into(), "u\r\n".into()),
                ("start.identifier".into(), "91842".into()),
            ])
        );
    }

    #[test]
    fn a_fragment_is_not_part_of_the_continuation() {
        let href = "/api/protocols/cifs/connections?start.identifier=7#start.node.uuid=n";
        assert_eq!(
            continuation(href, &CONNECTIONS.path()),
            Some(vec![("start.identifier".into(), "7".into())])
        );
    }

    #[test]
    fn a_next_link_elsewhere_or_without_start_is_no_continuation() {
        for href in [
            "/api/protocols/cifs/connections",
            "/api/protocols/cifs/connections?max_records=5",
            "/api/security/accounts?start.name=admin",
            "//evil.example/api/protocols/cifs/connections?start.identifier=1",
            "https://evil.example/api/protocols/cifs/connections?start.identifier=1",
            "/api/protocols/cifs/connections/../../security/accounts?start.name=a",
        ] {
            assert_eq!(continuation(href, &CONNECTIONS.path()), None, "{href}");
        }
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let other = PageTokenKey::from_bytes(&[8; 32]);
        let token = encode(&other, CLUSTER, &CONNECTIONS.path(), "abc", start());
        let why = decode(&key(), &token, CLUSTER, &CONNECTIONS.path(), "abc").unwrap_err();
        assert!(
            why.contains("not a page token issued by this gateway"),
            "{why}"
        );
    }

    #[test]
    fn a_token_with_a_changed_payload_is_refused() {
        let token = encode(&key(), CLUSTER, &CONNECTIONS.path(), "abc", start());
        let (_, tag) = token.split_once('.').unwrap();
        let forged = postcard::to_allocvec(&(
            VERSION,
            Payload {
                cluster: CLUSTER.into(),
                path: CONNECTIONS.path().as_str().into(),
                query: "abc".into(),
                start: vec![("start.identifier".into(), "1".into())],
            },
        ))
        .unwrap();
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(forged));
        assert!(decode(&key(), &forged, CLUSTER, &CONNECTIONS.path(), "abc").is_err());
    }

    fn signed(payload: &[u8]) -> String {
        let tag = key().mac(payload).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    #[test]
    fn a_signed_token_of_another_version_is_refused_naming_it() {
        let payload = postcard::to_allocvec(&(
            VERSION + 1,
            Payload {
                cluster: CLUSTER.into(),
                path: CONNECTIONS.path().as_str().into(),
                query: "abc".into(),
                start: start(),
            },
        ))
        .unwrap();
        let why = decode(
            &key(),
            &signed(&payload),
            CLUSTER,
            &CONNECTIONS.path(),
            "abc",
        )
        .unwrap_err();
        assert_eq!(
            why,
            format!(
                "has unsupported version {}; start again from the first page",
                VERSION + 1
            )
        );
    }

    #[test]
    fn a_json_token_from_before_the_upgrade_is_refused_as_version_2() {
        let payload = br#"{"v":2,"path":"/api/protocols/cifs/connections","query":"abc","start":[["start.identifier","1"]]}"#;
        let why = decode(
            &key(),
            &signed(payload),
            CLUSTER,
            &CONNECTIONS.path(),
            "abc",
        )
        .unwrap_err();
        assert!(why.starts_with("has unsupported version 2;"), "{why}");
    }

    #[test]
    fn a_signed_token_with_a_truncated_body_is_refused() {
        let payload = postcard::to_allocvec(&(VERSION, "only a path")).unwrap();
        let why = decode(
            &key(),
            &signed(&payload),
            CLUSTER,
            &CONNECTIONS.path(),
            "abc",
        )
        .unwrap_err();
        assert!(
            why.contains("not a page token issued by this gateway"),
            "{why}"
        );
    }

    #[test]
    fn a_token_for_another_collection_is_refused() {
        let token = encode(
            &key(),
            CLUSTER,
            &ApiPath::collection("/api/svm/svms").path(),
            "abc",
            start(),
        );
        assert_eq!(
            decode(&key(), &token, CLUSTER, &CONNECTIONS.path(), "abc"),
            Err("continues another collection".into())
        );
    }

    #[test]
    fn a_token_for_another_cluster_is_refused_saying_so() {
        let token = encode(&key(), "west", &CONNECTIONS.path(), "abc", start());
        let why = decode(&key(), &token, CLUSTER, &CONNECTIONS.path(), "abc").unwrap_err();
        assert!(why.starts_with("belongs to another cluster"), "{why}");
    }

    #[test]
    fn a_version_3_token_which_names_no_cluster_is_refused_by_its_version() {
        let payload =
            postcard::to_allocvec(&(3u32, (CONNECTIONS.path().as_str(), "abc", start()))).unwrap();
        let why = decode(
            &key(),
            &signed(&payload),
            CLUSTER,
            &CONNECTIONS.path(),
            "abc",
        )
        .unwrap_err();
        assert!(why.starts_with("has unsupported version 3;"), "{why}");
    }

    #[test]
    fn a_token_for_a_different_query_is_refused() {
        let token = encode(&key(), CLUSTER, &CONNECTIONS.path(), "abc", start());
        let why = decode(&key(), &token, CLUSTER, &CONNECTIONS.path(), "def").unwrap_err();
        assert!(why.contains("different query"), "{why}");
    }

    #[test]
    fn garbage_is_refused() {
        for token in ["not a token!", "", ".", "e30", "e30.", "e30.AAAA"] {
            assert!(
                decode(&key(), token, CLUSTER, &CONNECTIONS.path(), "abc").is_err(),
                "{token}"
            );
        }
    }

    #[test]
    fn a_key_file_shorter_than_32_bytes_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "short\n").unwrap();
        let e = PageTokenKey::from_file(&path).unwrap_err();
        assert!(e.to_string().contains("at least 32"), "{e}");
    }

    #[test]
    fn a_key_file_of_exactly_32_bytes_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "0123456789abcdef0123456789abcdef").unwrap();
        assert!(PageTokenKey::from_file(&path).is_ok());
    }

    #[test]
    fn a_key_file_of_one_repeated_byte_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        for byte in [0u8, b'k'] {
            std::fs::write(&path, [byte; 64]).unwrap();
            let e = PageTokenKey::from_file(&path).unwrap_err();
            assert!(e.to_string().contains("only 1 distinct byte values"), "{e}");
        }
    }

    #[test]
    fn a_key_file_of_fewer_than_8_distinct_bytes_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "abcdefgh".repeat(4)).unwrap();
        assert!(PageTokenKey::from_file(&path).is_ok(), "8 distinct");
        std::fs::write(&path, "abcdefg".repeat(5)).unwrap();
        let e = PageTokenKey::from_file(&path).unwrap_err();
        assert!(e.to_string().contains("only 7 distinct"), "{e}");
    }

    #[test]
    fn random_keys_written_raw_base64_or_hex_are_accepted() {
        use base64::engine::general_purpose::STANDARD;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        for _ in 0..64 {
            // Raw, 40 bytes: a trailing whitespace byte is trimmed as a line ending.
            let mut raw = [0u8; 40];
            getrandom::fill(&mut raw).unwrap();
            let hex: String = raw[..16].iter().map(|b| format!("{b:02x}")).collect();
            for written in [
                raw.to_vec(),
                STANDARD.encode(raw).into_bytes(),
                hex.into_bytes(),
            ] {
                std::fs::write(&path, &written).unwrap();
                assert!(PageTokenKey::from_file(&path).is_ok(), "{written:?}");
            }
        }
    }

    #[test]
    fn a_key_file_ignores_its_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        let key = "0123456789abcdef0123456789abcdef01234567";
        std::fs::write(&path, format!("{key}\n")).unwrap();
        let from_file = PageTokenKey::from_file(&path).unwrap();
        let token = encode(&from_file, CLUSTER, &CONNECTIONS.path(), "abc", start());
        let same = PageTokenKey::from_bytes(key.as_bytes());
        assert!(decode(&same, &token, CLUSTER, &CONNECTIONS.path(), "abc").is_ok());
    }

    #[test]
    fn random_keys_differ() {
        let a = PageTokenKey::random().unwrap();
        let b = PageTokenKey::random().unwrap();
        let token = encode(&a, CLUSTER, &CONNECTIONS.path(), "abc", start());
        assert!(decode(&b, &token, CLUSTER, &CONNECTIONS.path(), "abc").is_err());
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let shown = format!(
            "{:?}",
            PageTokenKey::from_bytes(b"hunter2hunter2hunter2hunter2hunt")
        );
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn the_key_shows_as_redacted_in_debug_output() {
        assert_eq!(format!("{:?}", key()), "PageTokenKey(REDACTED)");
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

    proptest::proptest! {
        #[test]
        fn no_string_decodes_without_the_key(token in ".{0,200}") {
            proptest::prop_assert!(decode(&key(), &token, CLUSTER, &CONNECTIONS.path(), "abc").is_err());
        }

        #[test]
        fn no_payload_verifies_with_a_made_up_tag(
            payload in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
            tag in proptest::collection::vec(proptest::num::u8::ANY, 0..40),
        ) {
            let token = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(payload),
                URL_SAFE_NO_PAD.encode(tag)
            );
            proptest::prop_assert!(decode(&key(), &token, CLUSTER, &CONNECTIONS.path(), "abc").is_err());
        }

        #[test]
        fn every_issued_continuation_comes_back_as_issued(
            start in proptest::collection::vec(("start\\.[a-z_.]{1,20}", ".{0,40}"), 1..5),
        ) {
            let token = encode(&key(), CLUSTER, &CONNECTIONS.path(), "abc", start.clone());
            proptest::prop_assert_eq!(decode(&key(), &token, CLUSTER, &CONNECTIONS.path(), "abc"), Ok(start));
        }
    }
}
