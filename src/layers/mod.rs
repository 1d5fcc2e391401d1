//! Cross-cutting concerns of every call, as tower layers composed in one
//! place, [`call_stack`], in the order [`LAYERS`] names them.
//!
//! Bounding upstream concurrency is the ONTAP client's own job, per
//! cluster, so it is not a layer here.

pub mod access_log;
pub mod auth;
pub mod connection;
pub mod deadline;
pub mod framing;
pub mod metadata;
pub mod trace;

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, Request, Response};
use tonic::body::Body;
use tower::{Service, ServiceBuilder};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::identity::Authenticator;
use crate::metrics::Metrics;
use crate::policy::{Audit, SharedPolicy};

use access_log::AccessLogBody;
pub use access_log::AccessLogLayer;
pub use auth::AuthLayer;
pub use connection::ConnectionInfo;
pub use deadline::DeadlineLayer;
pub use framing::FramingLayer;
pub use metadata::{MAX_HEADER_LIST_BYTES, MAX_METADATA_BYTES, MetadataLayer};
pub use trace::CallTraceLayer;

/// The header a call's request id travels in, both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The layers a call passes through, outermost first, as [`call_stack`]
/// composes them. A unit test holds the composition to this list, and a
/// test of the docs holds `docs/architecture.md` to it.
pub const LAYERS: &[&str] = &[
    // The caller's `x-request-id` or a new UUID, echoed in the response;
    // outermost, so that every log line of the call carries it.
    "request id",
    // The request id and W3C `traceparent`, for the ONTAP client to forward.
    "trace",
    // One line per call, and the call counted and timed in the metrics:
    // only here, outside everything that can refuse a call, is it known
    // how every call ended.
    "access log",
    // Metadata bounded, and the entries the gateway acts on sent at most
    // once, before anything below reads them.
    "metadata",
    // The caller named (its bearer token or client certificate), or the
    // call refused before its request is read.
    "authentication",
    // The caller's `grpc-timeout`, read on arrival.
    "deadline",
    // A request body that stalls between frames fails its call, so a
    // half-sent request holds nothing for good.
    "request body timeout",
    // The request read whole, bounded, and checked to be one gRPC message.
    "framing",
];

/// Wraps `inner` (the services) in [`LAYERS`], for a gateway in front of
/// `cluster` (named in access lines; each call counted in `metrics`),
/// naming each call's caller with `authenticator` (and refusing those it
/// does not accept) and giving the services `policy` to check it against,
/// and failing calls whose request body stalls for `body_timeout` or whose
/// request message is larger than `max_message` bytes.
pub fn call_stack<S>(
    inner: S,
    cluster: &str,
    metrics: Arc<Metrics>,
    authenticator: Authenticator,
    policy: Option<SharedPolicy>,
    body_timeout: Duration,
    max_message: usize,
) -> impl Service<
    Request<Body>,
    Response = Response<AccessLogBody<Body>>,
    Error = S::Error,
    Future: Send + 'static,
>
+ Clone
+ Send
+ Sync
+ 'static
+ use<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(CallTraceLayer)
        .layer(AccessLogLayer::new(cluster, Arc::clone(&metrics)))
        .layer(MetadataLayer)
        .layer(AuthLayer::new(authenticator).with_policy(policy, Audit::new(metrics)))
        .layer(DeadlineLayer)
        .layer(RequestBodyTimeoutLayer::new(body_timeout))
        // Back to the body type tonic's services take.
        .map_request(|request: Request<_>| request.map(Body::new))
        .layer(FramingLayer::new(max_message))
        .service(inner)
}

/// Test doubles for the layers' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use std::convert::Infallible;
    use std::future::Ready;
    use std::task::{Context, Poll};

    use tonic::body::Body;
    use tower::Service;

    /// A service that is never ready, to see a layer pass readiness through.
    #[derive(Clone)]
    pub(crate) struct NeverReady;

    impl<B> Service<http::Request<B>> for NeverReady {
        type Response = http::Response<Body>;
        type Error = Infallible;
        type Future = Ready<Result<Self::Response, Infallible>>;

        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Pending
        }

        fn call(&mut self, _request: http::Request<B>) -> Self::Future {
            std::future::ready(Ok(http::Response::new(Body::empty())))
        }
    }

    /// Whether `service` says it is not ready yet.
    pub(crate) fn pending<S: Service<http::Request<()>>>(service: &mut S) -> bool {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        service.poll_ready(&mut cx).is_pending()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What each service type of the stack is in [`LAYERS`]; `None` for
    /// plumbing that is no layer of its own.
    fn layer_of(service: &str) -> Option<&'static str> {
        match service {
            "SetRequestId" | "PropagateRequestId" => Some("request id"),
            "CallTraceService" => Some("trace"),
            "AccessLogService" => Some("access log"),
            "Metadata" => Some("metadata"),
            "Auth" => Some("authentication"),
            "DeadlineService" => Some("deadline"),
            "RequestBodyTimeout" => Some("request body timeout"),
            "MapRequest" => None,
            "Framing" => Some("framing"),
            other => panic!("a service type no layer is named for: {other}"),
        }
    }

    #[test]
    fn the_stack_is_composed_in_the_order_layers_names() {
        let stack = call_stack(
            testing::NeverReady,
            "test",
            Arc::default(),
            crate::identity::Authenticator::default(),
            None,
            Duration::from_secs(1),
            1024,
        );
        // `Outer<Inner<...>, ...>`: each service's type wraps the next one
        // in as its first type parameter, down to the services wrapped.
        let wrapped = std::any::type_name::<testing::NeverReady>();
        let nested = std::any::type_name_of_val(&stack);
        let (wrappers, _) = nested
            .split_once(wrapped)
            .expect("the stack wraps the services");
        let mut names: Vec<&str> = Vec::new();
        for wrapper in wrappers.split('<').filter(|path| !path.is_empty()) {
            let service = wrapper.rsplit("::").next().unwrap_or(wrapper);
            if let Some(name) = layer_of(service)
                && names.last() != Some(&name)
            {
                names.push(name);
            }
        }
        assert_eq!(names, LAYERS);
    }
}
