//! ONTAP's answer read whole, within the size limit and the memory budget,
//! and mapped: a 2xx is a [`Response`], anything else ONTAP's error, with
//! whatever it echoes of the credentials scrubbed. Outside `send`, so that
//! a body read counts against the request's timeout and its slot like the
//! send itself.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use futures_util::future::BoxFuture;
use http::header::LOCATION;
use tower::{Layer, Service};

use super::Named;
use super::request::UpstreamRequest;
use super::retry::retry_after;
use super::send::classify;
use crate::ontap::body::{MemoryBudget, Response, read_limited};
use crate::ontap::error::{ApiError, OntapError};
use crate::ontap::untrusted::Scrubber;

/// Reads each answer's body within its limits.
#[derive(Clone)]
pub struct BodyLayer {
    limits: Arc<Limits>,
}

struct Limits {
    max_response_bytes: usize,
    budget: MemoryBudget,
    /// Redacts the service account's credentials.
    scrubber: Scrubber,
}

impl Named for BodyLayer {
    const NAME: &str = "body";
}

impl BodyLayer {
    /// Reads bodies of at most `max_response_bytes` within `budget`;
    /// `scrubber` redacts the service account's credentials.
    pub fn new(max_response_bytes: usize, budget: MemoryBudget, scrubber: Scrubber) -> Self {
        Self {
            limits: Arc::new(Limits {
                max_response_bytes,
                budget,
                scrubber,
            }),
        }
    }
}

impl<S> Layer<S> for BodyLayer {
    type Service = BodyService<S>;

    fn layer(&self, inner: S) -> BodyService<S> {
        BodyService {
            inner,
            limits: Arc::clone(&self.limits),
        }
    }
}

/// See [`BodyLayer`].
#[derive(Clone)]
pub struct BodyService<S> {
    inner: S,
    limits: Arc<Limits>,
}

impl<S> Service<UpstreamRequest> for BodyService<S>
where
    S: Service<UpstreamRequest, Response = reqwest::Response, Error = OntapError>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = OntapError;
    /// Reading the body is an `async fn`, whose future has no name.
    type Future = BoxFuture<'static, Result<Response, OntapError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), OntapError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: UpstreamRequest) -> Self::Future {
        let scrubber = request.context.scrubber(&self.limits.scrubber).clone();
        let limits = Arc::clone(&self.limits);
        let sent = self.inner.call(request);
        Box::pin(async move { read(sent.await?, &limits, scrubber).await })
    }
}

async fn read(
    response: reqwest::Response,
    limits: &Limits,
    scrubber: Scrubber,
) -> Result<Response, OntapError> {
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(|l| scrubber.scrub(l));
    let succeeded = (200..300).contains(&status);
    let retry_after = (!succeeded)
        .then(|| retry_after(response.headers(), SystemTime::now()))
        .flatten();
    let (body, reservation) =
        read_limited(response, limits.max_response_bytes, &limits.budget, |e| {
            classify(e, &scrubber)
        })
        .await?;
    if !succeeded {
        let error = Box::new(ApiError {
            retry_after,
            ..ApiError::from_body(status, &body).scrubbed(&scrubber)
        });
        return Err(OntapError::Api { status, error });
    }
    Ok(Response {
        status,
        location,
        body,
        reservation: Arc::new(reservation),
        scrubber,
        budget: Some(limits.budget.clone()),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tower::ServiceExt;

    use super::*;
    use crate::deadline::Deadline;
    use crate::ontap::stack::testing::{Inner, Ontap, inner_answering, read};

    const SECRET: &str = "hunter2-password";

    /// The body layer over a mock `send`, reading at most `limit` bytes.
    fn body_layer(
        limit: usize,
    ) -> (
        BodyService<Inner<reqwest::Response>>,
        Ontap<reqwest::Response>,
    ) {
        let (send, handle) = inner_answering();
        let scrubber = Scrubber::new([SECRET.to_owned()]);
        let layer = BodyLayer::new(limit, MemoryBudget::new(1 << 20), scrubber);
        (layer.layer(send), handle)
    }

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> reqwest::Response {
        let mut response = http::Response::builder().status(status);
        for (name, value) in headers {
            response = response.header(*name, *value);
        }
        reqwest::Response::from(response.body(body.to_owned()).unwrap())
    }

    async fn exchange(limit: usize, response: reqwest::Response) -> Result<Response, OntapError> {
        let (service, mut ontap) = body_layer(limit);
        let call = tokio::spawn(service.oneshot(read(Deadline::NONE)));
        let (_, reply) = ontap.next_request().await.unwrap();
        reply.send_response(response);
        call.await.unwrap()
    }

    #[tokio::test]
    async fn a_success_is_its_status_and_whole_body() {
        let response = exchange(1024, answer(201, &[], r#"{"num_records":0}"#))
            .await
            .unwrap();
        assert_eq!(response.status, 201);
        assert_eq!(&response.body[..], br#"{"num_records":0}"#);
    }

    #[tokio::test]
    async fn a_location_is_kept_without_the_credentials_it_echoes() {
        let location = format!("/api/protocols/san/iscsi/services/{SECRET}");
        let response = exchange(1024, answer(201, &[("location", &location)], "{}"))
            .await
            .unwrap();
        let kept = response.location.unwrap();
        assert!(
            kept.starts_with("/api/protocols/san/iscsi/services/"),
            "{kept}"
        );
        assert!(!kept.contains(SECRET), "{kept}");
    }

    #[tokio::test]
    async fn any_other_status_is_ontaps_error_with_its_code_and_wait() {
        let body = format!(r#"{{"error":{{"message":"no {SECRET}","code":"2"}}}}"#);
        let error = exchange(1024, answer(503, &[("retry-after", "3")], &body))
            .await
            .unwrap_err();
        let OntapError::Api { status, error } = error else {
            panic!("{error:?}")
        };
        assert_eq!(status, 503);
        assert_eq!(error.code.as_deref(), Some("2"));
        assert_eq!(error.retry_after, Some(Duration::from_secs(3)));
        assert!(!error.message.contains(SECRET), "{}", error.message);
    }

    #[tokio::test]
    async fn a_success_does_not_ask_for_a_wait() {
        let response = answer(200, &[("retry-after", "3")], "{}");
        assert!(exchange(1024, response).await.is_ok());
    }

    #[tokio::test]
    async fn a_body_past_the_limit_is_refused() {
        let error = exchange(4, answer(200, &[], "{\"a\":1}"))
            .await
            .unwrap_err();
        assert!(
            matches!(error, OntapError::ResponseTooLarge { limit: 4 }),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn a_failed_send_passes_through() {
        let (service, mut ontap) = body_layer(1024);
        let call = tokio::spawn(service.oneshot(read(Deadline::NONE)));
        let (_, reply) = ontap.next_request().await.unwrap();
        reply.send_error(OntapError::Unreachable("refused".into()));
        let error = call.await.unwrap().unwrap_err();
        assert!(matches!(error, OntapError::Unreachable(_)), "{error:?}");
    }
}
