//! Makes the caller's request id and W3C `traceparent` the current call's
//! trace, which the ONTAP client forwards with each request it sends for
//! the call, and which the access line names.

use std::task::{Context, Poll};

use http::Request;
use tokio::task::futures::TaskLocalFuture;
use tower::{Layer, Service};

use crate::ontap::CallTrace;

/// Scopes each call in its trace.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallTraceLayer;

impl<S> Layer<S> for CallTraceLayer {
    type Service = CallTraceService<S>;

    fn layer(&self, inner: S) -> CallTraceService<S> {
        CallTraceService { inner }
    }
}

/// The service [`CallTraceLayer`] makes.
#[derive(Debug, Clone)]
pub struct CallTraceService<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for CallTraceService<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = TaskLocalFuture<CallTrace, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let trace = CallTrace::from_headers(request.headers());
        request.extensions_mut().insert(trace.clone());
        trace.scope(self.inner.call(request))
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use tower::{ServiceExt, service_fn};

    use super::*;
    use crate::layers::testing::{NeverReady, pending};

    #[test]
    fn readiness_is_the_inner_services() {
        assert!(pending(&mut CallTraceLayer.layer(NeverReady)));
    }

    #[tokio::test]
    async fn the_inner_service_runs_in_the_calls_trace() {
        let service = CallTraceLayer.layer(service_fn(|request: Request<()>| async move {
            let seen = request.extensions().get::<CallTrace>().cloned();
            Ok::<_, Infallible>((seen, CallTrace::current()))
        }));
        let request = Request::builder()
            .header("x-request-id", "abc")
            .body(())
            .unwrap();
        let (extension, current) = service.oneshot(request).await.unwrap();
        assert_eq!(extension, current);
        assert!(current.is_some());
    }
}
