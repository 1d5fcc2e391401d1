//! The gRPC edge: handlers that hand each request, with the deadline the
//! deadline layer read on arrival, to the translator, and turn its typed
//! errors into `tonic::Status`.

mod cifs;
mod iscsi;
mod status;
mod watch;

use tonic::{Request, Response, Status};

use crate::ontap::Deadline;
use crate::translate::{GatewayError, Upstream};

pub use cifs::CifsConnectionsService;
pub use iscsi::IscsiServicesService;
pub use status::{ERROR_DOMAIN, to_status};

/// The deadline the deadline layer read on the request's arrival; none if
/// the request did not pass it.
fn deadline_of<Req>(request: &Request<Req>) -> Deadline {
    request
        .extensions()
        .get::<Deadline>()
        .copied()
        .unwrap_or(Deadline::NONE)
}

/// Runs one translator call and maps its error at the edge. A request that
/// did not pass the deadline layer has no deadline.
async fn call<Req, Resp>(
    upstream: &Upstream,
    request: Request<Req>,
    translate: impl AsyncFnOnce(&Upstream, &Req, Deadline) -> Result<Resp, GatewayError>,
) -> Result<Response<Resp>, Status> {
    let deadline = deadline_of(&request);
    translate(upstream, request.get_ref(), deadline)
        .await
        .map(Response::new)
        .map_err(to_status)
}
