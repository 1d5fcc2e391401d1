//! Every gateway RPC takes exactly one request message (unary, or one
//! request opening a server stream). The request body is read here, up to
//! the message size limit, and checked to hold exactly one gRPC message, so
//! that each way a request can be malformed gets the code the gRPC spec
//! gives it, with ErrorInfo, rather than whatever the codec happens to say:
//! a second message or none is UNIMPLEMENTED (a cardinality violation), an
//! oversized one RESOURCE_EXHAUSTED, a truncated or undecodable one
//! INVALID_ARGUMENT, and so is a gRPC-Web-text body that is not base64.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use tonic::Status;
use tonic::body::Body;
use tower::{Layer, Service};

use crate::service::refusal;
use crate::translate::error_table::Match;

/// The gateway's own services, every method of which takes one message.
const API_PREFIX: &str = "/ontap.v1.";
/// A gRPC message's frame header: a compression flag and a 4-byte length.
const FRAME_HEADER: usize = 5;
/// The prefix of the codec's message for an undecodable request.
const DECODE_FAILURE: &str = "failed to decode Protobuf message";
/// The prefix tonic-web gives each failure of a gRPC-Web body it decodes.
const GRPC_WEB_FAILURE: &str = "tonic-web: ";
/// How tonic-web (in the base64 crate's words) says gRPC-Web-text is not
/// base64; any other failure under its prefix is the transport's.
const NOT_BASE64: &[&str] = &[
    "Invalid symbol",
    "Invalid last symbol",
    "Invalid padding",
    "Invalid input length",
    "malformed base64 request",
];

/// Reads and checks each call's one request message.
#[derive(Debug, Clone, Copy)]
pub struct FramingLayer {
    max_message: usize,
}

impl FramingLayer {
    /// Refuses request messages larger than `max_message` bytes.
    pub fn new(max_message: usize) -> Self {
        Self { max_message }
    }
}

impl<S> Layer<S> for FramingLayer {
    type Service = Framing<S>;

    fn layer(&self, inner: S) -> Framing<S> {
        Framing {
            inner,
            max_message: self.max_message,
        }
    }
}

/// The service [`FramingLayer`] makes.
#[derive(Debug, Clone)]
pub struct Framing<S> {
    inner: S,
    max_message: usize,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S> Service<Request<Body>> for Framing<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Response<Body>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // The clone is the ready service's stand-in; the ready one serves this call.
        let clone = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, clone);
        if !request.uri().path().starts_with(API_PREFIX) {
            // Reflection streams requests both ways; health is the library's.
            let response = ready.call(request);
            return Box::pin(response);
        }
        let max_message = self.max_message;
        Box::pin(serve(ready, request, max_message))
    }
}

async fn serve<S>(
    mut inner: S,
    request: Request<Body>,
    max_message: usize,
) -> Result<Response<Body>, S::Error>
where
    S: Service<Request<Body>, Response = Response<Body>>,
{
    let (parts, body) = request.into_parts();
    let bytes = match Limited::new(body, max_message + FRAME_HEADER + 1)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Ok(refuse(
                Match::RequestTooLarge,
                format!("the request message is larger than {max_message} bytes"),
            ));
        }
        Err(e) => {
            return Ok(match not_base64(&*e) {
                Some(why) => refuse(Match::MalformedRequest, why),
                None => refuse(
                    Match::RequestBodyUnreadable,
                    format!("the request body could not be read: {e}"),
                ),
            });
        }
    };
    if let Err((refused, why)) = one_message(&bytes, max_message) {
        return Ok(refuse(refused, why));
    }
    let request = Request::from_parts(parts, Body::new(Full::new(bytes)));
    let response = inner.call(request).await?;
    Ok(undecodable_is_invalid_argument(response))
}

/// Checks that `body` holds exactly one complete gRPC message.
fn one_message(body: &Bytes, max_message: usize) -> Result<(), (Match, String)> {
    let mut at = 0;
    let mut count = 0;
    while at < body.len() {
        let Some(header) = body.get(at..at + FRAME_HEADER) else {
            return Err(truncated());
        };
        if header[0] > 1 {
            return Err((
                Match::MalformedRequest,
                format!(
                    "a request message's flag byte is 0, or 1 when compressed; this one's is {}",
                    header[0]
                ),
            ));
        }
        let length = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        if length > max_message {
            return Err((
                Match::RequestTooLarge,
                format!("the request message is larger than {max_message} bytes"),
            ));
        }
        at += FRAME_HEADER + length;
        if at > body.len() {
            return Err(truncated());
        }
        count += 1;
    }
    if count == 1 {
        Ok(())
    } else {
        Err((
            Match::RequestCardinality,
            format!("this method takes exactly one request message; the call sent {count}"),
        ))
    }
}

fn truncated() -> (Match, String) {
    (
        Match::MalformedRequest,
        "the request message is truncated".to_owned(),
    )
}

/// What to tell the caller when reading its body failed because tonic-web,
/// in front of this layer, found gRPC-Web-text that is not base64. tonic-web
/// fails the body with INTERNAL (and nothing but its message tells why); the
/// caller sent it, so it is INVALID_ARGUMENT, not a broken transport.
fn not_base64(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut source = Some(error);
    while let Some(error) = source {
        if let Some(status) = error.downcast_ref::<Status>() {
            let why = status.message().strip_prefix(GRPC_WEB_FAILURE)?;
            return NOT_BASE64
                .iter()
                .any(|words| why.starts_with(words))
                .then(|| format!("the gRPC-Web-text request body is not valid base64: {why}"));
        }
        source = error.source();
    }
    None
}

/// A trailers-only response with `code`, the message, and ErrorInfo.
fn refuse(refused: Match, message: String) -> Response<Body> {
    refusal(refused, message, HashMap::new()).into_http()
}

/// The codec answers an undecodable request INTERNAL with no details; the
/// caller sent it, so it is INVALID_ARGUMENT, with ErrorInfo.
fn undecodable_is_invalid_argument(response: Response<Body>) -> Response<Body> {
    // Cheap test first: almost every response carries no status in its headers.
    if response.headers().get("grpc-status").map(|s| s.as_bytes()) != Some(b"13") {
        return response;
    }
    match Status::from_header_map(response.headers()) {
        Some(status) if status.message().starts_with(DECODE_FAILURE) => {
            refuse(Match::MalformedRequest, status.message().to_owned())
        }
        _ => response,
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http_body::Frame;
    use http_body_util::StreamBody;
    use tonic::Code;
    use tonic_types::StatusExt;
    use tower::ServiceExt;

    use super::*;

    const LIST: &str = "/ontap.v1.CifsConnections/ListCifsConnections";

    /// The status a `Framing` with limit `max` answers `body` with, in front
    /// of a service that answers every call it is handed with `inner()`.
    async fn status_of(max: usize, body: Body, inner: fn() -> Status) -> Status {
        let service = tower::service_fn(move |_: Request<Body>| async move {
            Ok::<_, Infallible>(inner().into_http::<Body>())
        });
        let request = Request::post(LIST).body(body).unwrap();
        let response = FramingLayer::new(max)
            .layer(service)
            .oneshot(request)
            .await
            .unwrap();
        Status::from_header_map(response.headers()).expect("a trailers-only status")
    }

    fn served() -> Status {
        Status::ok("")
    }

    /// The code, reason and message `body` is refused with.
    fn refused(body: &Bytes, max_message: usize) -> (Code, &'static str, String) {
        let (refused, why) = one_message(body, max_message).unwrap_err();
        let row = crate::translate::error_table::refusal_row(refused);
        (row.code, row.reason, why)
    }

    fn framed(messages: &[&[u8]]) -> Bytes {
        let mut out = Vec::new();
        for m in messages {
            out.push(0);
            out.extend_from_slice(&(m.len() as u32).to_be_bytes());
            out.extend_from_slice(m);
        }
        out.into()
    }

    #[test]
    fn one_message_passes() {
        assert!(one_message(&framed(&[b"\x08\x01"]), 100).is_ok());
        assert!(one_message(&framed(&[b""]), 100).is_ok());
    }

    #[test]
    fn two_messages_or_none_are_a_cardinality_violation() {
        for body in [framed(&[b"a", b"b"]), Bytes::new()] {
            let (code, reason, _) = refused(&body, 100);
            assert_eq!((code, reason), (Code::Unimplemented, "REQUEST_CARDINALITY"));
        }
    }

    #[test]
    fn a_truncated_message_is_malformed() {
        for body in [
            Bytes::from_static(&[0, 0, 0]),
            Bytes::from_static(&[0, 0, 0, 0, 9, 1]),
        ] {
            let (code, reason, _) = refused(&body, 100);
            assert_eq!((code, reason), (Code::InvalidArgument, "MALFORMED_REQUEST"));
        }
    }

    #[test]
    fn a_compressed_message_is_one_message_for_the_codec_to_judge() {
        let mut body = framed(&[b"\x08\x01"]).to_vec();
        body[0] = 1;
        assert!(one_message(&body.into(), 100).is_ok());
    }

    #[test]
    fn a_flag_byte_other_than_0_or_1_is_malformed() {
        let mut body = framed(&[b"\x08\x01"]).to_vec();
        body[0] = 0x80;
        let (code, reason, why) = refused(&body.into(), 100);
        assert_eq!((code, reason), (Code::InvalidArgument, "MALFORMED_REQUEST"));
        assert!(why.contains("128"), "{why}");
    }

    #[test]
    fn a_message_over_the_limit_is_resource_exhausted() {
        let (code, _, why) = refused(&framed(&[&[0; 11]]), 10);
        assert_eq!(code, Code::ResourceExhausted);
        assert!(why.contains("10 bytes"), "{why}");
    }

    #[tokio::test]
    async fn a_message_of_exactly_the_limit_is_served() {
        let body = Body::new(Full::new(framed(&[&[0; 10]])));
        assert_eq!(status_of(10, body, served).await.code(), Code::Ok);
    }

    #[tokio::test]
    async fn a_body_longer_than_one_message_of_the_limit_is_too_large_however_it_is_framed() {
        let body = Body::new(Full::new(framed(&[&[0; 8], &[0; 8]])));
        let status = status_of(10, body, served).await;
        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    }

    #[tokio::test]
    async fn a_request_body_that_fails_midway_cancels_the_call() {
        let frames: Vec<Result<Frame<Bytes>, std::io::Error>> = vec![
            Ok(Frame::data(Bytes::from_static(&[0, 0, 0]))),
            Err(std::io::Error::other("the peer reset the stream")),
        ];
        let body = Body::new(StreamBody::new(tokio_stream::iter(frames)));
        let status = status_of(10, body, served).await;
        assert_eq!(status.code(), Code::Cancelled, "{status:?}");
    }

    #[tokio::test]
    async fn grpc_web_text_that_is_not_base64_is_invalid_argument_saying_so() {
        let frames: Vec<Result<Frame<Bytes>, Status>> = vec![Err(Status::internal(
            "tonic-web: Invalid symbol 33, offset 0.",
        ))];
        let body = Body::new(StreamBody::new(tokio_stream::iter(frames)));
        let status = status_of(10, body, served).await;
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert!(status.message().contains("not valid base64"), "{status:?}");
    }

    #[tokio::test]
    async fn a_grpc_web_body_the_transport_fails_still_cancels_the_call() {
        let frames: Vec<Result<Frame<Bytes>, Status>> = vec![Err(Status::internal(
            "tonic-web: error reading a body from connection",
        ))];
        let body = Body::new(StreamBody::new(tokio_stream::iter(frames)));
        let status = status_of(10, body, served).await;
        assert_eq!(status.code(), Code::Cancelled, "{status:?}");
    }

    #[tokio::test]
    async fn a_stray_byte_after_a_message_of_the_limit_is_malformed_not_too_large() {
        let mut bytes = framed(&[&[0; 10]]).to_vec();
        bytes.push(0);
        let status = status_of(10, Body::new(Full::new(Bytes::from(bytes))), served).await;
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    }

    #[tokio::test]
    async fn a_request_the_codec_cannot_decode_is_invalid_argument_with_error_info() {
        let body = Body::new(Full::new(framed(&[b"\xff"])));
        let status = status_of(10, body, || {
            Status::internal(format!("{DECODE_FAILURE}: invalid wire type"))
        })
        .await;
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        let details = status.get_error_details();
        assert_eq!(details.error_info().unwrap().reason, "MALFORMED_REQUEST");
    }

    #[tokio::test]
    async fn an_internal_error_other_than_an_undecodable_request_is_left_alone() {
        let body = Body::new(Full::new(framed(&[b"\x08\x01"])));
        let status = status_of(10, body, || Status::internal("the handler failed")).await;
        assert_eq!(status.code(), Code::Internal, "{status:?}");
    }

    #[test]
    fn readiness_is_the_inner_services() {
        #[derive(Clone)]
        struct NeverReady;
        impl Service<Request<Body>> for NeverReady {
            type Response = Response<Body>;
            type Error = Infallible;
            type Future = std::future::Ready<Result<Response<Body>, Infallible>>;
            fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
                Poll::Pending
            }
            fn call(&mut self, _: Request<Body>) -> Self::Future {
                unreachable!("never ready, so never called")
            }
        }
        let mut framing = FramingLayer::new(10).layer(NeverReady);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(framing.poll_ready(&mut cx).is_pending());
    }
}
