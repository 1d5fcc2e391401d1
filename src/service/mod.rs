//! The gRPC edge: handlers that hand each request, with the deadline the
//! deadline layer read on arrival, to the translator, and turn its typed
//! errors into `tonic::Status`.

mod cifs;
mod iscsi;
mod status;

use tonic::{Request, Response, Status};

use crate::ontap::Deadline;
use crate::translate::{GatewayError, Upstream};

pub use cifs::CifsConnectionsService;
pub use iscsi::IscsiServicesService;
pub use status::{ERROR_DOMAIN, to_status};

/// Runs one translator call and maps its error at the edge. A request that
/// did not pass the deadline layer has no deadline.
async fn call<Req, Resp>(
    upstream: &Upstream,
    request: Request<Req>,
    translate: impl AsyncFnOnce(&Upstream, &Req, Deadline) -> Result<Resp, GatewayError>,
) -> Result<Response<Resp>, Status> {
    let deadline = request
        .extensions()
        .get::<Deadline>()
        .copied()
        .unwrap_or(Deadline::NONE);
    translate(upstream, request.get_ref(), deadline)
        .await
        .map(Response::new)
        .map_err(to_status)
}
