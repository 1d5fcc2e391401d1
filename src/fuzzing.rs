//! Entry points for the `cargo fuzz` targets in `fuzz/`, compiled only
//! under `--cfg fuzzing` (which cargo-fuzz sets): the targets reach private
//! parts of the translator, and nothing else should.

use prost::Message;

use crate::ontap::cifs::CONNECTIONS;
use crate::proto::v1::ListCifsConnectionsRequest;
use crate::translate::PageTokenKey;

/// Arbitrary bytes as every upstream response the gateway decodes: refused
/// with an error, never a panic.
pub fn upstream_json(body: &[u8]) {
    crate::translate::wire::decode_every_response(body);
}

/// Arbitrary text as a `grpc-timeout` value: what parses is 1 to 8 ASCII
/// digits and a unit, as the gRPC HTTP/2 spec defines it.
pub fn grpc_timeout(value: &[u8]) {
    let Ok(value) = std::str::from_utf8(value) else {
        return;
    };
    if crate::layers::deadline::parse_grpc_timeout(value).is_some() {
        let (digits, unit) = value.split_at(value.len() - 1);
        assert!((1..=8).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()));
        assert!(["H", "M", "S", "m", "u", "n"].contains(&unit));
    }
}

/// A protobuf-encoded ListCifsConnectionsRequest, planned into an upstream
/// query; see `check_planned_query` for what its page_token field means.
pub fn list_query(message: &[u8]) {
    if let Ok(request) = ListCifsConnectionsRequest::decode(message) {
        crate::translate::check_planned_query(request);
    }
}

/// Arbitrary text as a page token: without the key, nothing verifies.
pub fn page_token(token: &[u8]) {
    let token = String::from_utf8_lossy(token);
    let key = PageTokenKey::from_bytes(&[7; 32]);
    let decoded =
        crate::translate::decode_page_token(&key, &token, &CONNECTIONS.path(), "fingerprint");
    assert!(decoded.is_err(), "an unsigned token verified: {token}");
}
