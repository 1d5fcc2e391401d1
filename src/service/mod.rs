//! The gRPC edge: handlers that hand each request, with the deadline the
//! deadline layer read on arrival, to the translator, and turn its typed
//! errors into `tonic::Status`.

mod authorize;
mod generated;
mod iscsi;
mod routing;
mod standard;
mod status;
mod watch;

use std::borrow::Cow;

use tonic::{Request, Response, Status};

use crate::deadline::Deadline;
use crate::translate::{Clusters, GatewayError, Upstream};

pub use generated::*;
pub use iscsi::IscsiServicesService;
pub use routing::{CLUSTER_METADATA, SVM_METADATA, SvmScoped};
pub use status::{ERROR_DOMAIN, refusal, to_status};

/// The deadline the deadline layer read on the request's arrival; none if
/// the request did not pass it.
fn deadline_of<Req>(request: &Request<Req>) -> Deadline {
    request
        .extensions()
        .get::<Deadline>()
        .copied()
        .unwrap_or(Deadline::NONE)
}

/// The cluster `request` goes to, or the status refusing it.
async fn upstream_for<'c, Req: SvmScoped>(
    clusters: &'c Clusters,
    request: &mut Request<Req>,
) -> Result<Cow<'c, Upstream>, Status> {
    routing::upstream_for(clusters, request)
        .await
        .map_err(to_status)
}

/// Runs one translator call on the cluster the call picks, and maps its
/// error at the edge. A request that did not pass the deadline layer has no
/// deadline.
async fn call<Req: SvmScoped, Resp>(
    clusters: &Clusters,
    mut request: Request<Req>,
    translate: impl AsyncFnOnce(&Upstream, &Req, Deadline) -> Result<Resp, GatewayError>,
) -> Result<Response<Resp>, Status> {
    let deadline = deadline_of(&request);
    let upstream = upstream_for(clusters, &mut request).await?;
    translate(&upstream, request.get_ref(), deadline)
        .await
        .map(Response::new)
        .map_err(to_status)
}
