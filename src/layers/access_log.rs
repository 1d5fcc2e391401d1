//! One log line per call, written when the call's response has ended: the
//! RPC, its final gRPC code and ErrorInfo reason, how long it took end to
//! end, the cluster, and the upstream HTTP status and ONTAP code when ONTAP
//! is why it failed.
//!
//! Hand-written rather than tower-http's TraceLayer: a gRPC call's outcome
//! is in the response headers (trailers-only errors) or in the trailers at
//! the end of the body, and one line per call needs both in one place.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tonic_types::StatusExt;
use tower::{Layer, Service};
use tower_http::request_id::RequestId;
use tracing::Instrument;
use tracing::instrument::Instrumented;

use crate::metrics::Metrics;
use crate::ontap::CallTrace;
use crate::ontap::untrusted::bounded;
use crate::service::CLUSTER_METADATA;

/// The tracing target of access lines, so they can be routed or filtered
/// apart from diagnostics (`RUST_LOG=access=info`).
pub const TARGET: &str = "access";

/// Logs one line per call and counts it in the metrics (one place knows
/// how a call ended), and runs the call in a span carrying its request id.
#[derive(Debug, Clone)]
pub struct AccessLogLayer {
    cluster: Arc<str>,
    metrics: Arc<Metrics>,
}

impl AccessLogLayer {
    /// Access lines that name the cluster the call's `x-ontap-cluster`
    /// names, or else `cluster`; calls counted in `metrics`.
    pub fn new(cluster: impl Into<Arc<str>>, metrics: Arc<Metrics>) -> Self {
        Self {
            cluster: cluster.into(),
            metrics,
        }
    }
}

impl<S> Layer<S> for AccessLogLayer {
    type Service = AccessLogService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AccessLogService {
            inner,
            cluster: Arc::clone(&self.cluster),
            metrics: Arc::clone(&self.metrics),
        }
    }
}

/// See [`AccessLogLayer`].
#[derive(Debug, Clone)]
pub struct AccessLogService<S> {
    inner: S,
    cluster: Arc<str>,
    metrics: Arc<Metrics>,
}

impl<S, B, ResBody> Service<http::Request<B>> for AccessLogService<S>
where
    S: Service<http::Request<B>, Response = http::Response<ResBody>>,
{
    type Response = http::Response<AccessLogBody<ResBody>>;
    type Error = S::Error;
    type Future = AccessLogFuture<Instrumented<S::Future>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let line = CallLine::start(
            &request,
            Arc::clone(&self.cluster),
            Arc::clone(&self.metrics),
        );
        let span = tracing::info_span!("call", request_id = %line.request_id, rpc = %line.rpc);
        AccessLogFuture {
            inner: self.inner.call(request).instrument(span),
            line: Some(line),
        }
    }
}

pin_project! {
    /// The response future of [`AccessLogService`]; dropped before it is
    /// done (the client went away first), it still writes the line.
    pub struct AccessLogFuture<F> {
        #[pin]
        inner: F,
        line: Option<CallLine>,
    }

    impl<F> PinnedDrop for AccessLogFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(line) = this.project().line.take() {
                line.finish(Outcome::failed("the client went away before the response"));
            }
        }
    }
}

impl<F, ResBody, E> Future for AccessLogFuture<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
{
    type Output = Result<http::Response<AccessLogBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = match this.inner.poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        let mut line = this.line.take().expect("polled after completion");
        Poll::Ready(match response {
            Ok(response) => {
                line.outcome = Outcome::from_headers(response.headers());
                Ok(response.map(|inner| AccessLogBody {
                    inner,
                    line: Some(line),
                }))
            }
            Err(e) => {
                line.finish(Outcome::failed("the gRPC service failed"));
                Err(e)
            }
        })
    }
}

pin_project! {
    /// A response body that writes the call's line when it ends, or when it
    /// is dropped unfinished (the client went away).
    pub struct AccessLogBody<B> {
        #[pin]
        inner: B,
        line: Option<CallLine>,
    }

    impl<B> PinnedDrop for AccessLogBody<B> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(line) = this.project().line.take() {
                let outcome = line.outcome.clone().unwrap_or_else(|| Outcome::failed("the client went away mid-response"));
                line.finish(outcome);
            }
        }
    }
}

impl<B: Body> Body for AccessLogBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        let ended = match &polled {
            Poll::Ready(Some(Ok(frame))) => frame.trailers_ref().map(Outcome::from_headers),
            Poll::Ready(Some(Err(_))) => Some(Some(Outcome::failed("the response body failed"))),
            Poll::Ready(None) => Some(None),
            Poll::Pending => None,
        };
        if let Some(outcome) = ended
            && let Some(line) = this.line.take()
        {
            let outcome = outcome
                .or_else(|| line.outcome.clone())
                .unwrap_or_else(|| Outcome::failed("the response carried no status"));
            line.finish(outcome);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// What the line will say, gathered along the call.
struct CallLine {
    rpc: String,
    request_id: String,
    /// The W3C trace id the caller sent, or `-`.
    trace_id: String,
    cluster: Arc<str>,
    metrics: Arc<Metrics>,
    started: Instant,
    /// Known from the headers of a trailers-only response.
    outcome: Option<Outcome>,
}

impl CallLine {
    fn start<B>(request: &http::Request<B>, cluster: Arc<str>, metrics: Arc<Metrics>) -> Self {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .and_then(|id| id.header_value().to_str().ok())
            .unwrap_or("-")
            .to_owned();
        let trace_id = request
            .extensions()
            .get::<CallTrace>()
            .and_then(CallTrace::trace_id)
            .unwrap_or("-")
            .to_owned();
        let cluster = match request.headers().get(CLUSTER_METADATA) {
            Some(named) => Arc::from(bounded(&String::from_utf8_lossy(named.as_bytes()), 64)),
            None => cluster,
        };
        Self {
            rpc: request.uri().path().trim_start_matches('/').to_owned(),
            request_id,
            trace_id,
            cluster,
            metrics,
            started: Instant::now(),
            outcome: None,
        }
    }

    fn finish(self, outcome: Outcome) {
        let (service, method) = self.rpc.split_once('/').unwrap_or((&self.rpc, "-"));
        let took = self.started.elapsed();
        self.metrics.call(service, method, outcome.code, took);
        tracing::info!(
            target: TARGET,
            request_id = %self.request_id,
            trace_id = %self.trace_id,
            service,
            method,
            code = ?outcome.code,
            reason = %outcome.reason,
            duration_ms = took.as_secs_f64() * 1000.0,
            cluster = %self.cluster,
            upstream_status = %outcome.upstream_status,
            ontap_code = %outcome.ontap_code,
            "call"
        );
    }
}

/// How a call ended.
#[derive(Clone)]
struct Outcome {
    code: tonic::Code,
    reason: String,
    upstream_status: String,
    ontap_code: String,
}

impl Outcome {
    /// The status in `headers` (a trailers-only response, or trailers).
    fn from_headers(headers: &HeaderMap) -> Option<Outcome> {
        let status = tonic::Status::from_header_map(headers)?;
        let info = status.get_details_error_info();
        let metadata = |key: &str| {
            info.as_ref()
                .and_then(|i| i.metadata.get(key).cloned())
                .unwrap_or_else(|| "-".to_owned())
        };
        Some(Outcome {
            code: status.code(),
            reason: info
                .as_ref()
                .map_or_else(|| "-".to_owned(), |i| i.reason.clone()),
            upstream_status: metadata("http_status"),
            ontap_code: metadata("ontap_code"),
        })
    }

    /// A call that ended without a gRPC status, for `why`.
    fn failed(why: &str) -> Outcome {
        Outcome {
            code: tonic::Code::Cancelled,
            reason: why.to_owned(),
            upstream_status: "-".to_owned(),
            ontap_code: "-".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::layers::testing::{NeverReady, pending};

    #[test]
    fn readiness_is_the_inner_services() {
        let mut service = AccessLogLayer::new("c", Arc::default()).layer(NeverReady);
        assert!(pending(&mut service));
    }

    #[test]
    fn body_size_is_the_inner_bodys() {
        let body = AccessLogBody {
            inner: String::from("abc"),
            line: None,
        };
        assert_eq!(body.size_hint().exact(), Some(3));
        assert!(!body.is_end_stream());
    }
}
