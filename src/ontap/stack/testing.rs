//! What the layers' tests share: tower-test's mock as the service inside a
//! layer, answering `OntapError`s as the stack's services do, and requests.

use std::time::Duration;

use tower::BoxError;
use tower::util::MapErr;
use tower_test::mock::{self, Handle, Mock};
use url::Url;

use super::request::{CallContext, UpstreamRequest};
use crate::deadline::Deadline;
use crate::ontap::body::Response;
use crate::ontap::error::{ApiError, OntapError};

/// The service inside the layer under test, answering `R`s.
pub type Inner<R = Response> = MapErr<Mock<UpstreamRequest, R>, fn(BoxError) -> OntapError>;

/// ONTAP, as the layer under test reaches it: each request, and a way to
/// answer it.
pub type Ontap<R = Response> = Handle<UpstreamRequest, R>;

/// A mock inner service and its handle.
pub fn inner() -> (Inner, Ontap) {
    inner_answering()
}

/// A mock inner service answering `R`s, and its handle.
pub fn inner_answering<R>() -> (Inner<R>, Ontap<R>) {
    let (mock, handle) = mock::pair();
    (
        MapErr::new(mock, unboxed as fn(BoxError) -> OntapError),
        handle,
    )
}

fn unboxed(error: BoxError) -> OntapError {
    *error
        .downcast::<OntapError>()
        .expect("the tests answer with OntapErrors")
}

/// A read of one URL, for a call with `deadline`.
pub fn read(deadline: Deadline) -> UpstreamRequest {
    read_of("https://cluster/api/svm/svms?fields=name", deadline)
}

/// A read of `url`, for a call with `deadline`.
pub fn read_of(url: &str, deadline: Deadline) -> UpstreamRequest {
    UpstreamRequest::read(url.parse::<Url>().unwrap(), "/api/svm/svms", call(deadline))
}

/// A write, for a call with `deadline`.
pub fn write(deadline: Deadline) -> UpstreamRequest {
    UpstreamRequest::once(
        http::Method::PATCH,
        "https://cluster/api/svm/svms/1".parse().unwrap(),
        "/api/svm/svms/{uuid}",
        Some(bytes::Bytes::from_static(b"{}")),
        call(deadline),
    )
}

/// A call without trace or caller credentials.
pub fn call(deadline: Deadline) -> CallContext {
    CallContext::new(deadline, None, None)
}

/// ONTAP's answer to a read that worked.
pub fn ok() -> Response {
    Response {
        status: 200,
        ..Response::default()
    }
}

/// ONTAP's answer `status`, asking for a wait of `retry_after`.
pub fn status(status: u16, retry_after: Option<Duration>) -> OntapError {
    OntapError::Api {
        status,
        error: Box::new(ApiError {
            retry_after,
            ..ApiError::default()
        }),
    }
}

/// A connection refused.
pub fn refused() -> OntapError {
    OntapError::Unreachable("refused".into())
}

/// Whether no request has reached ONTAP (since the last one taken).
pub fn nothing_sent(ontap: &mut Ontap) -> bool {
    use futures_util::FutureExt;
    !matches!(ontap.next_request().now_or_never(), Some(Some(_)))
}
