//! Entry points for the `cargo fuzz` targets in `fuzz/`, compiled only
//! under `--cfg fuzzing` (which cargo-fuzz sets): the targets reach private
//! parts of the translator and the listeners, and nothing else should.

use std::sync::LazyLock;

use prost::Message;
use tokio::runtime::Runtime;
use tonic::Code;

use crate::ontap::CollectionPath;
use crate::translate::resource::Resource;

/// The collection the examples page through.
const CONNECTIONS: CollectionPath = <crate::proto::v1::CifsConnection as Resource>::COLLECTION;
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
    let path = CONNECTIONS.path();
    let decoded =
        crate::translate::decode_page_token(&key, &token, "default", &path, "fingerprint");
    assert!(decoded.is_err(), "an unsigned token verified: {token}");
}

/// Arbitrary bytes as a gRPC-Web request body, through tonic-web and the
/// whole call stack as the server composes them, to a method that decodes
/// one ListCifsConnectionsRequest. The first byte picks binary or base64
/// text (and so how the answer is encoded), the second the size of the
/// body's chunks (tonic-web decodes base64 across chunk boundaries). Every
/// answer is a well-formed gRPC-Web response with one status; a caller's
/// bad bytes are never blamed on the transport (CANCELLED) or unknown.
pub fn grpc_web_request(data: &[u8]) {
    let [mode, chunk, body @ ..] = data else {
        return;
    };
    let text = mode & 1 == 1;
    let chunks: Vec<Vec<u8>> = body
        .chunks(usize::from(*chunk).max(1))
        .map(<[u8]>::to_vec)
        .collect();
    let (headers, body) = runtime().block_on(grpc_web::call(text, chunks));
    let status = grpc_web::status(&headers, &body, text);
    assert!(
        !matches!(status.code(), Code::Cancelled | Code::Unknown),
        "{status:?}"
    );
    if status.code() == Code::Internal {
        // The one INTERNAL the spec asks for: a compressed-flag without a
        // grpc-encoding is a protocol error.
        assert!(status.message().starts_with("protocol error"), "{status:?}");
    }
}

/// Arbitrary bytes as what a client sends on one connection to the metrics
/// listener, served as the listener serves each connection, within its
/// bounds. Every answer is HTTP/1.x, and a request head that has both
/// Content-Length and Transfer-Encoding is never served.
pub fn metrics_request(data: &[u8]) {
    let answer = runtime().block_on(metrics::exchange(data));
    if answer.is_empty() {
        return;
    }
    let shown = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with(b"HTTP/1."), "{shown}");
    if metrics::first_head_has_both_lengths(data) {
        assert!(answer.get(8..13) != Some(b" 200 "), "{shown}");
    }
}

/// The runtime the targets' calls run on, with time for the layers' timers.
fn runtime() -> &'static Runtime {
    static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    });
    &RUNTIME
}

mod grpc_web {
    use std::convert::Infallible;
    use std::future::{Ready, ready};
    use std::sync::Arc;
    use std::time::Duration;

    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use bytes::Bytes;
    use http::{HeaderMap, Request};
    use http_body::Frame;
    use http_body_util::{BodyExt, StreamBody};
    use prost::Message;
    use tonic::Status;
    use tonic::body::Body;
    use tonic::server::{Grpc, UnaryService};
    use tower::{ServiceBuilder, ServiceExt};

    use crate::proto::v1::{ListCifsConnectionsRequest, ListCifsConnectionsResponse};

    const LIST: &str = "/ontap.v1.CifsConnections/ListCifsConnections";

    /// A method that takes one ListCifsConnectionsRequest and answers an
    /// empty page: the generated server's decoding, without a cluster.
    #[derive(Clone, Copy)]
    struct EmptyPage;

    impl UnaryService<ListCifsConnectionsRequest> for EmptyPage {
        type Response = ListCifsConnectionsResponse;
        type Future = Ready<Result<tonic::Response<Self::Response>, Status>>;

        fn call(&mut self, _: tonic::Request<ListCifsConnectionsRequest>) -> Self::Future {
            ready(Ok(tonic::Response::new(Self::Response::default())))
        }
    }

    /// POSTs `chunks` as one gRPC-Web (`text`: -text) body: the answer's
    /// headers and its whole body.
    pub(super) async fn call(text: bool, chunks: Vec<Vec<u8>>) -> (HeaderMap, Bytes) {
        let content_type = if text {
            "application/grpc-web-text"
        } else {
            "application/grpc-web+proto"
        };
        let frames = chunks
            .into_iter()
            .map(|chunk| Ok::<_, Infallible>(Frame::data(Bytes::from(chunk))));
        let request = Request::post(LIST)
            .header("content-type", content_type)
            .header("accept", content_type)
            .body(Body::new(StreamBody::new(tokio_stream::iter(frames))))
            .expect("a valid request");
        let method = tower::service_fn(|request: Request<Body>| async move {
            let mut grpc = Grpc::new(tonic_prost::ProstCodec::default());
            Ok::<_, Infallible>(grpc.unary(EmptyPage, request).await)
        });
        let calls = crate::layers::call_stack(
            method,
            "fuzz",
            Arc::default(),
            crate::identity::Authenticator::default(),
            None,
            Duration::from_secs(10),
            4 * 1024 * 1024,
        );
        let service = ServiceBuilder::new()
            .layer(tonic_web::GrpcWebLayer::new())
            .service(calls);
        let response = service.oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), http::StatusCode::OK);
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("the answer's body").to_bytes();
        (parts.headers, body)
    }

    /// The one status of a gRPC-Web answer: in its headers when it is
    /// trailers-only, else in the trailer frame that ends its body.
    pub(super) fn status(headers: &HeaderMap, body: &[u8], text: bool) -> Status {
        let body = if text {
            // Each frame is base64 on its own; every 4 characters decode alone.
            body.chunks(4)
                .flat_map(|quad| STANDARD.decode(quad).expect("the answer is base64"))
                .collect()
        } else {
            body.to_vec()
        };
        let in_headers = Status::from_header_map(headers);
        let mut rest = body.as_slice();
        let mut trailers = None;
        while let [flag, a, b, c, d, after @ ..] = rest {
            let length = u32::from_be_bytes([*a, *b, *c, *d]) as usize;
            assert!(after.len() >= length, "a truncated frame");
            let (payload, after) = after.split_at(length);
            assert!(trailers.is_none(), "a frame after the trailers");
            if flag & 0x80 != 0 {
                trailers = Some(trailer_map(payload));
            } else {
                ListCifsConnectionsResponse::decode(payload).expect("a response message");
            }
            rest = after;
        }
        assert!(rest.is_empty(), "a truncated frame");
        match (in_headers, trailers) {
            (Some(status), None) => status,
            (None, Some(trailers)) => {
                Status::from_header_map(&trailers).expect("a status in the trailers")
            }
            other => panic!("not exactly one status: {other:?}"),
        }
    }

    fn trailer_map(payload: &[u8]) -> HeaderMap {
        let text = std::str::from_utf8(payload).expect("trailers are text");
        let mut map = HeaderMap::new();
        for line in text.split("\r\n").filter(|line| !line.is_empty()) {
            let (name, value) = line.split_once(':').expect("name: value");
            map.append(
                http::HeaderName::try_from(name).expect("a header name"),
                value.trim().parse().expect("a header value"),
            );
        }
        map
    }
}

mod metrics {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Sends `data` on a connection served as the metrics listener serves
    /// each, then closes its sending half: all it answered.
    pub(super) async fn exchange(data: &[u8]) -> Vec<u8> {
        let (mut client, server) = tokio::io::duplex(1024 * 1024);
        let served = crate::server::metrics_endpoint::serve_connection(
            server,
            std::sync::Arc::default(),
            std::sync::Arc::default(),
        );
        let client = async {
            // The server may close before it has read everything.
            let _ = client.write_all(data).await;
            let _ = client.shutdown().await;
            let mut answer = Vec::new();
            let _ = client.read_to_end(&mut answer).await;
            answer
        };
        let exchange = async { tokio::join!(served, client).1 };
        tokio::time::timeout(Duration::from_secs(5), exchange)
            .await
            .expect("a connection whose client has closed its half ends")
    }

    /// Whether the first request head in `data` has a Content-Length and a
    /// Transfer-Encoding header line, read as hyper reads a head: empty
    /// lines before it skipped, lines ended by LF with or without CR, the
    /// head ended by an empty line.
    pub(super) fn first_head_has_both_lengths(data: &[u8]) -> bool {
        let start = data
            .iter()
            .position(|b| !matches!(b, b'\r' | b'\n'))
            .unwrap_or(data.len());
        let text = data[start..].to_ascii_lowercase();
        let lines: Vec<&[u8]> = text
            .split(|b| *b == b'\n')
            .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
            .skip(1)
            .take_while(|line| !line.is_empty())
            .collect();
        let has = |name: &[u8]| lines.iter().any(|line| line.starts_with(name));
        has(b"content-length:") && has(b"transfer-encoding:")
    }
}

/// The seeds under `fuzz/seeds/` (and a local `fuzz/corpus/`, when a fuzzing
/// run left one) replayed through every target as ordinary tests, so each
/// test run checks the inputs fuzzing found interesting without building the
/// fuzzing toolchain; `scripts/fuzz` searches for new ones.
#[cfg(test)]
mod replay {
    use std::path::PathBuf;

    /// Every input saved for `target`.
    fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
        let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz");
        let mut inputs = Vec::new();
        for saved in ["seeds", "corpus"] {
            let Ok(entries) = std::fs::read_dir(fuzz.join(saved).join(target)) else {
                continue;
            };
            for entry in entries {
                let path = entry.expect("a readable directory").path();
                let bytes = std::fs::read(&path).expect("a readable input");
                inputs.push((path, bytes));
            }
        }
        inputs
    }

    /// Runs `target` on each input saved for it, naming the input that fails.
    fn replay(name: &str, target: fn(&[u8])) -> usize {
        let inputs = inputs(name);
        for (path, bytes) in &inputs {
            let outcome = std::panic::catch_unwind(|| target(bytes));
            assert!(outcome.is_ok(), "{name} failed on {}", path.display());
        }
        inputs.len()
    }

    #[test]
    fn every_saved_grpc_web_request_is_answered_with_one_status() {
        assert!(replay("grpc_web_request", super::grpc_web_request) > 0);
    }

    #[test]
    fn every_saved_metrics_request_is_answered_as_http_1() {
        assert!(replay("metrics_request", super::metrics_request) > 0);
    }

    #[test]
    fn every_saved_upstream_body_is_refused_or_decoded_without_a_panic() {
        assert!(replay("upstream_json", super::upstream_json) > 0);
    }

    #[test]
    fn every_saved_grpc_timeout_parses_only_as_the_spec_allows() {
        assert!(replay("grpc_timeout", super::grpc_timeout) > 0);
    }

    #[test]
    fn every_saved_list_request_plans_a_query_without_a_panic() {
        assert!(replay("list_query", super::list_query) > 0);
    }

    #[test]
    fn no_saved_page_token_verifies_without_the_key() {
        assert!(replay("page_token", super::page_token) > 0);
    }
}
