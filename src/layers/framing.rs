//! Every gateway RPC takes exactly one request message (unary, or one
//! request opening a server stream). The request body is read here, up to
//! the message size limit, and checked to hold exactly one gRPC message, so
//! that each way a request can be malformed gets the code the gRPC spec
//! gives it, with ErrorInfo, rather than whatever the codec happens to say:
//! a second message or none is UNIMPLEMENTED (a cardinality violation), an
//! oversized one RESOURCE_EXHAUSTED, a truncated or undecodable one
//! INVALID_ARGUMENT.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use tonic::body::Body;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};
use tower::{Layer, Service};

use crate::service::ERROR_DOMAIN;

/// The gateway's own services, every method of which takes one message.
const API_PREFIX: &str = "/ontap.v1.";
/// A gRPC message's frame header: a compression flag and a 4-byte length.
const FRAME_HEADER: usize = 5;
/// The prefix of the codec's message for an undecodable request.
const DECODE_FAILURE: &str = "failed to decode Protobuf message";

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
                Code::ResourceExhausted,
                "REQUEST_TOO_LARGE",
                format!("the request message is larger than {max_message} bytes"),
            ));
        }
        Err(e) => {
            return Ok(refuse(
                Code::Cancelled,
                "REQUEST_BODY_UNREADABLE",
                format!("the request body could not be read: {e}"),
            ));
        }
    };
    if let Err((code, reason, why)) = one_message(&bytes, max_message) {
        return Ok(refuse(code, reason, why));
    }
    let request = Request::from_parts(parts, Body::new(Full::new(bytes)));
    let response = inner.call(request).await?;
    Ok(undecodable_is_invalid_argument(response))
}

/// Checks that `body` holds exactly one complete gRPC message.
fn one_message(body: &Bytes, max_message: usize) -> Result<(), (Code, &'static str, String)> {
    let mut at = 0;
    let mut count = 0;
    while at < body.len() {
        let Some(header) = body.get(at..at + FRAME_HEADER) else {
            return Err(truncated());
        };
        let length = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        if length > max_message {
            return Err((
                Code::ResourceExhausted,
                "REQUEST_TOO_LARGE",
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
            Code::Unimplemented,
            "REQUEST_CARDINALITY",
            format!("this method takes exactly one request message; the call sent {count}"),
        ))
    }
}

fn truncated() -> (Code, &'static str, String) {
    (
        Code::InvalidArgument,
        "MALFORMED_REQUEST",
        "the request message is truncated".to_owned(),
    )
}

/// A trailers-only response with `code`, the message, and ErrorInfo.
fn refuse(code: Code, reason: &str, message: String) -> Response<Body> {
    let mut details = ErrorDetails::new();
    details.set_error_info(reason, ERROR_DOMAIN, HashMap::new());
    Status::with_error_details(code, message, details).into_http()
}

/// The codec answers an undecodable request INTERNAL with no details; the
/// caller sent it, so it is INVALID_ARGUMENT, with ErrorInfo.
fn undecodable_is_invalid_argument(response: Response<Body>) -> Response<Body> {
    // Cheap test first: almost every response carries no status in its headers.
    if response.headers().get("grpc-status").map(|s| s.as_bytes()) != Some(b"13") {
        return response;
    }
    match Status::from_header_map(response.headers()) {
        Some(status) if status.message().starts_with(DECODE_FAILURE) => refuse(
            Code::InvalidArgument,
            "MALFORMED_REQUEST",
            status.message().to_owned(),
        ),
        _ => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let (code, reason, _) = one_message(&body, 100).unwrap_err();
            assert_eq!((code, reason), (Code::Unimplemented, "REQUEST_CARDINALITY"));
        }
    }

    #[test]
    fn a_truncated_message_is_malformed() {
        for body in [
            Bytes::from_static(&[0, 0, 0]),
            Bytes::from_static(&[0, 0, 0, 0, 9, 1]),
        ] {
            let (code, reason, _) = one_message(&body, 100).unwrap_err();
            assert_eq!((code, reason), (Code::InvalidArgument, "MALFORMED_REQUEST"));
        }
    }

    #[test]
    fn a_message_over_the_limit_is_resource_exhausted() {
        let (code, _, why) = one_message(&framed(&[&[0; 11]]), 10).unwrap_err();
        assert_eq!(code, Code::ResourceExhausted);
        assert!(why.contains("10 bytes"), "{why}");
    }
}
