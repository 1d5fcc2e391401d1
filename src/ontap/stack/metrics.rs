//! Counts and times each request sent to ONTAP, by cluster, method,
//! endpoint and outcome: what reached the cluster, so a request that never
//! got a slot, or that the breaker refused, is not counted.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use http::Method;
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use super::Named;
use super::request::UpstreamRequest;
use crate::metrics::Metrics;
use crate::ontap::body::Response;
use crate::ontap::error::OntapError;

/// Records each request in the cluster's metrics.
#[derive(Clone)]
pub struct MetricsLayer {
    recorder: Arc<Recorder>,
}

struct Recorder {
    metrics: Arc<Metrics>,
    cluster: Arc<str>,
}

impl Named for MetricsLayer {
    const NAME: &str = "metrics";
}

impl MetricsLayer {
    /// Records in `metrics`, labelled with `cluster`.
    pub fn new(metrics: Arc<Metrics>, cluster: Arc<str>) -> Self {
        Self {
            recorder: Arc::new(Recorder { metrics, cluster }),
        }
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> MetricsService<S> {
        MetricsService {
            inner,
            recorder: Arc::clone(&self.recorder),
        }
    }
}

/// See [`MetricsLayer`].
#[derive(Clone)]
pub struct MetricsService<S> {
    inner: S,
    recorder: Arc<Recorder>,
}

impl<S> Service<UpstreamRequest> for MetricsService<S>
where
    S: Service<UpstreamRequest, Response = Response, Error = OntapError>,
{
    type Response = Response;
    type Error = OntapError;
    type Future = Measured<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), OntapError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: UpstreamRequest) -> Self::Future {
        Measured {
            method: request.method.clone(),
            endpoint: request.endpoint,
            recorder: Arc::clone(&self.recorder),
            started: Instant::now(),
            inner: self.inner.call(request),
        }
    }
}

pin_project! {
    /// A request being timed.
    pub struct Measured<F> {
        #[pin]
        inner: F,
        method: Method,
        endpoint: &'static str,
        recorder: Arc<Recorder>,
        started: Instant,
    }
}

impl<F> Future for Measured<F>
where
    F: Future<Output = Result<Response, OntapError>>,
{
    type Output = Result<Response, OntapError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let answer = ready!(this.inner.poll(cx));
        this.recorder.metrics.upstream(
            &this.recorder.cluster,
            this.method,
            this.endpoint,
            outcome_label(&answer),
            this.started.elapsed(),
        );
        Poll::Ready(answer)
    }
}

/// How a sent request ended, for metrics: its HTTP status, or how it
/// failed without one.
fn outcome_label(answer: &Result<Response, OntapError>) -> Cow<'static, str> {
    match answer {
        Ok(response) => Cow::Owned(response.status.to_string()),
        Err(error) => match error.answer() {
            Some((status, _)) => Cow::Owned(status.to_string()),
            None => Cow::Borrowed(error.kind()),
        },
    }
}

#[cfg(test)]
mod tests {
    use tower::ServiceExt;

    use super::*;
    use crate::deadline::Deadline;
    use crate::ontap::stack::testing::{self, Inner, Ontap};

    fn measured() -> (MetricsService<Inner>, Ontap, Arc<Metrics>) {
        let (inner, ontap) = testing::inner();
        let metrics = Arc::new(Metrics::default());
        let layer = MetricsLayer::new(Arc::clone(&metrics), Arc::from("west"));
        (layer.layer(inner), ontap, metrics)
    }

    /// The count of `status` answers in `metrics`.
    fn counted(metrics: &Metrics, status: &str) -> Option<u32> {
        let text = metrics.render(0, 0);
        let prefix = format!(
            r#"ontap_gateway_upstream_requests_total{{cluster="west",method="GET",endpoint="/api/svm/svms",status="{status}"}} "#
        );
        text.lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .map(|count| count.parse().unwrap())
    }

    /// Sends one read and answers it with `answer`.
    async fn one(answer: Result<Response, OntapError>) -> Arc<Metrics> {
        let (service, mut ontap, metrics) = measured();
        let call = tokio::spawn(service.oneshot(testing::read(Deadline::NONE)));
        let (_, respond) = ontap.next_request().await.expect("sent");
        match answer {
            Ok(response) => respond.send_response(response),
            Err(error) => respond.send_error(error),
        }
        let _ = call.await.unwrap();
        metrics
    }

    #[tokio::test]
    async fn an_answer_is_counted_by_its_status() {
        let metrics = one(Ok(testing::ok())).await;
        assert_eq!(counted(&metrics, "200"), Some(1));
    }

    #[tokio::test]
    async fn an_error_answer_from_ontap_is_counted_by_its_status() {
        let metrics = one(Err(testing::status(503, None))).await;
        assert_eq!(counted(&metrics, "503"), Some(1));
    }

    #[tokio::test]
    async fn a_failure_without_a_status_is_counted_by_its_kind() {
        let metrics = one(Err(testing::refused())).await;
        assert_eq!(counted(&metrics, "unreachable"), Some(1));
    }

    #[tokio::test]
    async fn a_request_abandoned_before_it_answers_is_not_counted() {
        let (service, mut ontap, metrics) = measured();
        let call = tokio::spawn(service.oneshot(testing::read(Deadline::NONE)));
        let _sent = ontap.next_request().await.expect("sent");
        call.abort();
        let _ = call.await;
        assert!(
            !metrics
                .render(0, 0)
                .contains("ontap_gateway_upstream_requests_total{")
        );
    }
}
