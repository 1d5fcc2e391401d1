//! The end of the stack: the request on the wire (reqwest's pooled HTTP/1.1
//! client), its whole body read within the size limit and the memory
//! budget, and ONTAP's answer mapped: a 2xx is a [`Response`], anything else
//! ONTAP's error, with whatever it echoes of the credentials scrubbed.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use futures_util::future::BoxFuture;
use http::HeaderValue;
use http::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use tower::Service;

use super::Layered;
use super::request::UpstreamRequest;
use super::retry::retry_after;
use crate::ontap::body::{MemoryBudget, Response, read_limited};
use crate::ontap::error::{ApiError, OntapError, describe};
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
    max_response_bytes: usize,
    budget: MemoryBudget,
    /// Redacts the service account's credentials.
    scrubber: Scrubber,
}

impl Sender {
    pub const NAME: &str = "send";

    /// Sends through `http`, reading bodies of at most `max_response_bytes`
    /// within `budget`; `scrubber` redacts the service account's
    /// credentials.
    pub fn new(
        http: reqwest::Client,
        max_response_bytes: usize,
        budget: MemoryBudget,
        scrubber: Scrubber,
    ) -> Self {
        Self {
            wire: Arc::new(Wire {
                http,
                max_response_bytes,
                budget,
                scrubber,
            }),
        }
    }
}

impl Service<UpstreamRequest> for Sender {
    type Response = Response;
    type Error = OntapError;
    /// The one box of a request: reqwest's send and the body read are
    /// `async fn`s, whose futures have no name to hold them by.
    type Future = BoxFuture<'static, Result<Response, OntapError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), OntapError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: UpstreamRequest) -> Self::Future {
        Box::pin(exchange(Arc::clone(&self.wire), request))
    }
}

async fn exchange(wire: Arc<Wire>, request: UpstreamRequest) -> Result<Response, OntapError> {
    let UpstreamRequest {
        method,
        url,
        body,
        headers,
        context,
        ..
    } = request;
    let scrubber = context.scrubber(&wire.scrubber);
    let mut outgoing = reqwest::Request::new(method, url);
    *outgoing.headers_mut() = headers;
    outgoing.headers_mut().insert(ACCEPT, HAL_JSON);
    if let Some(body) = body {
        outgoing.headers_mut().insert(CONTENT_TYPE, JSON);
        *outgoing.body_mut() = Some(body.into());
    }
    let response = wire
        .http
        .execute(outgoing)
        .await
        .map_err(|e| classify(e, scrubber))?;
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let retry_after = (!(200..300).contains(&status))
        .then(|| retry_after(response.headers(), SystemTime::now()))
        .flatten();
    let (body, reservation) = read_limited(response, wire.max_response_bytes, &wire.budget, |e| {
        classify(e, scrubber)
    })
    .await?;
    if !(200..300).contains(&status) {
        let error = Box::new(ApiError {
            retry_after,
            ..ApiError::from_body(status, &body).scrubbed(scrubber)
        });
        return Err(OntapError::Api { status, error });
    }
    Ok(Response {
        status,
        location: location.map(|l| scrubber.scrub(&l)),
        body,
        reservation: Arc::new(reservation),
        scrubber: scrubber.clone(),
        budget: Some(wire.budget.clone()),
    })
}

/// Sorts a reqwest failure into what the error table distinguishes: a
/// connection that never came up (refused, DNS, TLS, or the connect timeout)
/// is unreachable; anything after it is a lost connection (the request's
/// own time budget is enforced around it, not by reqwest). The message
/// carries the cause chain but never the URL.
fn classify(err: reqwest::Error, scrubber: &Scrubber) -> OntapError {
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

impl Layered for Sender {
    fn layer_names(names: &mut Vec<&'static str>) {
        names.push(Sender::NAME);
    }
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
