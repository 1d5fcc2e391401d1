//! Cross-cutting concerns of every call, as tower layers composed in one
//! place, in the order a call passes through them.
//!
//! The stack, outermost first:
//! 1. **request id**: the caller's `x-request-id`, or a new UUID; echoed in
//!    the response and carried by every log line of the call;
//! 2. **trace**: the call's request id and W3C `traceparent`, which the
//!    ONTAP client forwards ([`trace`]);
//! 3. **access log**: one line per call when its response ends
//!    ([`access_log`]);
//! 4. **metrics**: each call counted and timed by the access log, which
//!    alone knows how it ended (`crate::metrics`);
//! 5. **metadata**: a call's metadata bounded in size, and the entries the
//!    gateway acts on (`authorization`, `x-ontap-cluster`, `x-ontap-svm`)
//!    sent at most once, before anything reads them ([`metadata`]);
//! 6. **authentication**: with token hashes, a call without an accepted
//!    bearer token is refused UNAUTHENTICATED ([`auth`]);
//! 7. **deadline**: the caller's `grpc-timeout`, read on arrival
//!    ([`deadline`]);
//! 8. **request body timeout**: a request body that stalls between frames
//!    for longer than the bound fails the call (tower-http), so a
//!    half-sent request holds nothing for good;
//! 9. **framing**: the whole request read, bounded, and checked to be one
//!    gRPC message, with the spec's code for each way it is not, a
//!    gRPC-Web-text body that is not base64 included ([`framing`]).
//!
//! Then tonic's router and the handlers in [`crate::service`]. Bounding
//! upstream concurrency is the ONTAP client's own job, per cluster, so it
//! is not a layer here.

pub mod access_log;
pub mod auth;
pub mod deadline;
pub mod framing;
pub mod metadata;
pub mod trace;

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, Request};
use tonic::body::Body;
use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};
use tower::util::MapRequestLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutBody};

use crate::metrics::Metrics;

pub use access_log::AccessLogLayer;
pub use auth::{AuthLayer, TokenHashes};
pub use deadline::DeadlineLayer;
pub use framing::FramingLayer;
pub use metadata::{MAX_HEADER_LIST_BYTES, MAX_METADATA_BYTES, MetadataLayer};
pub use trace::CallTraceLayer;

/// The header a call's request id travels in, both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Turns the timed body back into the body type tonic's services take.
type Rebox = fn(Request<TimeoutBody<Body>>) -> Request<Body>;

/// The layers, in the order of the module documentation.
pub type CallStack = Stack<
    FramingLayer,
    Stack<
        MapRequestLayer<Rebox>,
        Stack<
            RequestBodyTimeoutLayer,
            Stack<
                DeadlineLayer,
                Stack<
                    AuthLayer,
                    Stack<
                        MetadataLayer,
                        Stack<
                            AccessLogLayer,
                            Stack<
                                CallTraceLayer,
                                Stack<
                                    PropagateRequestIdLayer,
                                    Stack<SetRequestIdLayer<MakeRequestUuid>, Identity>,
                                >,
                            >,
                        >,
                    >,
                >,
            >,
        >,
    >,
>;

/// The stack for a gateway in front of `cluster` (named in access lines,
/// each call counted in `metrics`), admitting only callers bearing one of
/// `tokens` (when there are any), and
/// failing calls whose request body stalls for `body_timeout` or whose
/// request message is larger than `max_message` bytes.
pub fn stack(
    cluster: &str,
    metrics: Arc<Metrics>,
    tokens: Option<TokenHashes>,
    body_timeout: Duration,
    max_message: usize,
) -> ServiceBuilder<CallStack> {
    let rebox: Rebox = |request| request.map(Body::new);
    ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(CallTraceLayer)
        .layer(AccessLogLayer::new(cluster, metrics))
        .layer(MetadataLayer)
        .layer(AuthLayer::new(tokens))
        .layer(DeadlineLayer)
        .layer(RequestBodyTimeoutLayer::new(body_timeout))
        .map_request(rebox)
        .layer(FramingLayer::new(max_message))
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
