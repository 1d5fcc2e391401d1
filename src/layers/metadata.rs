//! What a call's metadata may be before anything reads it: at most
//! [`MAX_METADATA_BYTES`] in all, and at most one of each entry the gateway
//! acts on. An oversized call is RESOURCE_EXHAUSTED naming its largest
//! entry and the limit; a second `authorization`, `x-ontap-cluster` or
//! `x-ontap-svm` is INVALID_ARGUMENT naming the key, as any ambiguous input
//! is, rather than the first being taken silently while a proxy or a log
//! saw the other.
//!
//! HTTP/2 bounds the header list itself (hyper's default is 16 KiB), and
//! answers a larger one with a bare HTTP 431, which gRPC clients read as
//! UNKNOWN. The server's own HTTP/2 bound is set higher than this one, so
//! that every call this bound refuses is told why, in a status it can read.

use std::collections::HashMap;
use std::task::{Context, Poll};

use futures_util::future::{Either, Ready, ready};
use http::{HeaderMap, Request, Response};
use tonic::Status;
use tonic::body::Body;
use tower::{Layer, Service};

use crate::service::{self, CLUSTER_METADATA, SVM_METADATA, to_status};
use crate::translate::error_table::Match;
use crate::translate::{FieldViolation, GatewayError};

/// The most metadata one call may carry, counted as HTTP/2 counts a header
/// list (each entry's name and value, plus 32 bytes): hyper's HTTP/2
/// default, so that no call it let through before is refused now.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

/// The HTTP/2 header-list bound the server advertises
/// (`SETTINGS_MAX_HEADER_LIST_SIZE`), well above [`MAX_METADATA_BYTES`]: a
/// header list between the two reaches this layer and is told why it is
/// refused; only one past this bound gets HTTP/2's bare 431. What one
/// connection holds while it decodes a header block is bounded by it.
pub const MAX_HEADER_LIST_BYTES: u32 = 64 * 1024;

const _: () = assert!(MAX_HEADER_LIST_BYTES as usize > MAX_METADATA_BYTES);

/// Metadata the gateway acts on, each of which a call may send once.
const SINGLE: &[&str] = &["authorization", CLUSTER_METADATA, SVM_METADATA];

/// HTTP/2's per-entry overhead in a header list's size (RFC 9113, 6.5.2).
const ENTRY_OVERHEAD: usize = 32;

/// Refuses calls whose metadata is too large or ambiguous.
#[derive(Debug, Clone, Copy, Default)]
pub struct MetadataLayer;

impl<S> Layer<S> for MetadataLayer {
    type Service = Metadata<S>;

    fn layer(&self, inner: S) -> Metadata<S> {
        Metadata { inner }
    }
}

/// The service [`MetadataLayer`] makes.
#[derive(Debug, Clone)]
pub struct Metadata<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for Metadata<S>
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
        match refusal(request.headers()) {
            None => Either::Left(self.inner.call(request)),
            Some(status) => Either::Right(ready(Ok(status.into_http()))),
        }
    }
}

/// Why a call with `headers` is refused, if it is.
fn refusal(headers: &HeaderMap) -> Option<Status> {
    let size = headers
        .iter()
        .map(|(name, value)| entry_size(name.as_str(), value.as_bytes()))
        .sum::<usize>();
    if size > MAX_METADATA_BYTES {
        return Some(too_large(headers, size));
    }
    let repeated: Vec<_> = SINGLE
        .iter()
        .filter(|key| headers.get_all(**key).iter().nth(1).is_some())
        .map(|key| {
            FieldViolation::new(
                *key,
                format!("`{key}` metadata is sent more than once; send it once"),
            )
        })
        .collect();
    if repeated.is_empty() {
        None
    } else {
        Some(to_status(GatewayError::InvalidRequest(repeated)))
    }
}

fn entry_size(name: &str, value: &[u8]) -> usize {
    name.len() + value.len() + ENTRY_OVERHEAD
}

/// RESOURCE_EXHAUSTED naming the largest entry (the one to shrink), with
/// ErrorInfo carrying its key and the limit. Never the value: it may be a
/// credential.
fn too_large(headers: &HeaderMap, size: usize) -> Status {
    let (key, largest) = headers
        .iter()
        .map(|(name, value)| (name.as_str(), entry_size(name.as_str(), value.as_bytes())))
        .max_by_key(|(_, size)| *size)
        .expect("metadata over the limit has entries");
    let message = format!(
        "the call's metadata is {size} bytes, over the gateway's limit of {MAX_METADATA_BYTES}; \
         its largest entry is `{key}` ({largest} bytes)"
    );
    service::refusal(
        Match::MetadataTooLarge,
        message,
        HashMap::from([
            ("metadata_key".to_owned(), key.to_owned()),
            ("limit_bytes".to_owned(), MAX_METADATA_BYTES.to_string()),
        ]),
    )
}

#[cfg(test)]
mod tests {
    use tonic::Code;
    use tonic_types::StatusExt;

    use super::*;
    use crate::layers::testing::{NeverReady, pending};

    fn headers(entries: &[(&'static str, String)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in entries {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn readiness_is_the_inner_services() {
        assert!(pending(&mut MetadataLayer.layer(NeverReady)));
    }

    #[test]
    fn ordinary_metadata_passes() {
        let map = headers(&[
            ("authorization", "Bearer t".into()),
            ("x-ontap-cluster", "east".into()),
            ("x-custom", "a".into()),
            ("x-custom", "b".into()),
        ]);
        assert!(refusal(&map).is_none());
    }

    #[test]
    fn metadata_of_exactly_the_limit_passes_and_one_byte_more_does_not() {
        let fill = MAX_METADATA_BYTES - entry_size("x-fill", b"");
        assert!(refusal(&headers(&[("x-fill", "a".repeat(fill))])).is_none());
        let status = refusal(&headers(&[("x-fill", "a".repeat(fill + 1))])).unwrap();
        assert_eq!(status.code(), Code::ResourceExhausted);
    }

    #[test]
    fn oversized_metadata_names_its_largest_entry_and_the_limit_never_the_value() {
        let map = headers(&[
            ("x-small", "s".repeat(100)),
            ("authorization", format!("Bearer {}", "t".repeat(40_000))),
        ]);
        let status = refusal(&map).unwrap();
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert!(
            status.message().contains("`authorization`"),
            "{}",
            status.message()
        );
        assert!(!status.message().contains("ttt"), "{}", status.message());
        let info = status.get_details_error_info().unwrap();
        assert_eq!(info.reason, "METADATA_TOO_LARGE");
        assert_eq!(info.metadata["metadata_key"], "authorization");
        assert_eq!(info.metadata["limit_bytes"], "16384");
    }

    #[test]
    fn each_repeated_key_the_gateway_acts_on_is_named() {
        for key in SINGLE {
            let map = headers(&[(key, "one".into()), (key, "two".into())]);
            let status = refusal(&map).unwrap();
            assert_eq!(status.code(), Code::InvalidArgument, "{key}");
            let violations = status.get_details_bad_request().unwrap().field_violations;
            assert_eq!(violations[0].field, *key);
        }
    }
}
