//! The end of the stack: the request on the wire, through reqwest's pooled
//! HTTP/1.1 client, and a connection that failed sorted into what the error
//! table distinguishes. The body is read by the layer outside this one.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use http::HeaderValue;
use http::header::{ACCEPT, CONTENT_TYPE};
use tower::Service;

use super::Named;
use super::request::UpstreamRequest;
use crate::ontap::error::{OntapError, describe};
use crate::ontap::untrusted::Scrubber;

const HAL_JSON: HeaderValue = HeaderValue::from_static("application/hal+json");
const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Sends requests to one cluster.
#[derive(Clone)]
pub struct Sender {
    wire: Arc<Wire>,
}

struct Wire {
    http: reqwest::Client,
    /// Redacts the service account's credentials.
    scrubber: Scrubber,
}

impl Named for Sender {
    const NAME: &str = "send";
}

impl Sender {
    /// Sends through `http`; `scrubber` redacts the service account's
    /// credentials from what a failure says.
    pub fn new(http: reqwest::Client, scrubber: Scrubber) -> Self {
        Self {
            wire: Arc::new(Wire { http, scrubber }),
        }
    }
}

impl Service<UpstreamRequest> for Sender {
    type Response = reqwest::Response;
    type Error = OntapError;
    /// reqwest's send is an `async fn` here, whose future has no name to
    /// hold it by.
    type Future = BoxFuture<'static, Result<reqwest::Response, OntapError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), OntapError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: UpstreamRequest) -> Self::Future {
        Box::pin(send(Arc::clone(&self.wire), request))
    }
}

async fn send(wire: Arc<Wire>, request: UpstreamRequest) -> Result<reqwest::Response, OntapError> {
    let UpstreamRequest {
        method,
        url,
        body,
        headers,
        context,
        ..
    } = request;
    let mut outgoing = reqwest::Request::new(method, url);
    *outgoing.headers_mut() = headers;
    outgoing.headers_mut().insert(ACCEPT, HAL_JSON);
    if let Some(body) = body {
        outgoing.headers_mut().insert(CONTENT_TYPE, JSON);
        *outgoing.body_mut() = Some(body.into());
    }
    wire.http
        .execute(outgoing)
        .await
        .map_err(|e| classify(e, context.scrubber(&wire.scrubber)))
}

/// Sorts a reqwest failure into what the error table distinguishes: a
/// connection that never came up (refused, DNS, TLS, or the connect timeout)
/// is unreachable; anything after it is a lost connection (the request's
/// own time budget is enforced around it, not by reqwest). The message
/// carries the cause chain but never the URL.
pub(super) fn classify(err: reqwest::Error, scrubber: &Scrubber) -> OntapError {
    let err = err.without_url();
    let why = scrubber.scrub(&describe(&err));
    if err.is_connect() && rejected_certificate(&err) {
        OntapError::CertificateRejected(why)
    } else if err.is_connect() {
        OntapError::Unreachable(why)
    } else {
        OntapError::ConnectionLost(why)
    }
}

/// Whether the handshake failed on the cluster's certificate. rustls's
/// error reaches here wrapped in `io::Error`s (tokio-rustls wraps it twice),
/// whose `source()` skips the error they wrap, so each cause is also
/// unwrapped through them.
fn rejected_certificate(err: &(dyn std::error::Error + 'static)) -> bool {
    fn unwrapped<'a>(
        e: &'a (dyn std::error::Error + 'static),
    ) -> Option<&'a (dyn std::error::Error + 'static)> {
        let inner = e.downcast_ref::<std::io::Error>()?.get_ref()?;
        Some(inner)
    }
    std::iter::successors(Some(err), |e| e.source())
        .flat_map(|cause| std::iter::successors(Some(cause), |e| unwrapped(*e)))
        .any(|e| {
            matches!(
                e.downcast_ref::<rustls::Error>(),
                Some(rustls::Error::InvalidCertificate(_))
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(inner: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> std::io::Error {
        std::io::Error::other(inner)
    }

    #[test]
    fn a_certificate_error_is_found_inside_nested_io_errors() {
        let rustls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        assert!(rejected_certificate(&io(io(rustls))));
    }

    #[test]
    fn other_handshake_failures_are_not_the_certificate() {
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure);
        assert!(!rejected_certificate(&io(io(alert))));
        assert!(!rejected_certificate(&io("connection refused")));
    }
}
