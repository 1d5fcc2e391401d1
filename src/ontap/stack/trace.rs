//! Forwards the caller's request id and trace context, so one request can
//! be followed from the caller through the gateway to the cluster's own
//! logs. A shared read carries those of the caller that started it.

use std::task::{Context, Poll};

use tower::{Layer, Service};

use super::Named;
use super::request::UpstreamRequest;
use crate::ontap::body::Response;
use crate::ontap::error::OntapError;

/// Adds the call's trace headers.
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceLayer;

impl Named for TraceLayer {
    const NAME: &str = "trace";
}

impl<S> Layer<S> for TraceLayer {
    type Service = TraceService<S>;

    fn layer(&self, inner: S) -> TraceService<S> {
        TraceService { inner }
    }
}

/// See [`TraceLayer`].
#[derive(Debug, Clone)]
pub struct TraceService<S> {
    inner: S,
}

impl<S> Service<UpstreamRequest> for TraceService<S>
where
    S: Service<UpstreamRequest, Response = Response, Error = OntapError>,
{
    type Response = Response;
    type Error = OntapError;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), OntapError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: UpstreamRequest) -> Self::Future {
        if let Some(trace) = &request.context.trace {
            for (name, value) in trace.headers() {
                request.headers.insert(name, value.clone());
            }
        }
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderMap;
    use tower::ServiceExt;

    use super::*;
    use crate::deadline::Deadline;
    use crate::ontap::CallTrace;
    use crate::ontap::stack::testing;

    const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    /// The headers ONTAP receives for a call with `trace`.
    async fn received(trace: Option<CallTrace>) -> HeaderMap {
        let (inner, mut ontap) = testing::inner();
        let mut request = testing::read(Deadline::NONE);
        request.context.trace = trace;
        let _call = tokio::spawn(TraceLayer.layer(inner).oneshot(request));
        let (request, _answer) = ontap.next_request().await.expect("sent");
        request.headers
    }

    #[tokio::test]
    async fn the_calls_request_id_and_trace_context_are_forwarded() {
        let mut incoming = HeaderMap::new();
        incoming.insert("x-request-id", "abc-1".parse().unwrap());
        incoming.insert("traceparent", TRACEPARENT.parse().unwrap());
        let headers = received(Some(CallTrace::from_headers(&incoming))).await;
        assert_eq!(headers["x-request-id"], "abc-1");
        assert_eq!(headers["traceparent"], TRACEPARENT);
    }

    #[tokio::test]
    async fn a_call_without_a_trace_sends_no_trace_headers() {
        assert!(received(None).await.is_empty());
    }
}
