//! Cross-cutting concerns of every call, as tower layers composed in one
//! place, in the order a call passes through them.
//!
//! The stack, outermost first:
//! 1. **request id**: the caller's `x-request-id`, or a new UUID; echoed in
//!    the response and carried by every log line of the call;
//! 2. **access log**: one line per call when its response ends
//!    ([`access_log`]);
//! 3. *metrics* and 4. *authentication* go here (the production issue);
//! 5. **deadline**: the caller's `grpc-timeout`, read on arrival
//!    ([`deadline`]).
//!
//! Then tonic's router and the handlers in [`crate::service`]. Bounding
//! upstream concurrency is the ONTAP client's own job, per cluster, so it
//! is not a layer here.

pub mod access_log;
pub mod deadline;

use http::HeaderName;
use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

pub use access_log::AccessLogLayer;
pub use deadline::DeadlineLayer;

/// The header a call's request id travels in, both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The layers, in the order of the module documentation.
pub type CallStack = Stack<
    DeadlineLayer,
    Stack<
        AccessLogLayer,
        Stack<PropagateRequestIdLayer, Stack<SetRequestIdLayer<MakeRequestUuid>, Identity>>,
    >,
>;

/// The stack for a gateway in front of `cluster` (named in access lines).
pub fn stack(cluster: &str) -> ServiceBuilder<CallStack> {
    ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(AccessLogLayer::new(cluster))
        .layer(DeadlineLayer)
}
