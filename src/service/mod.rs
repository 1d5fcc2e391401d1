//! The gRPC edge: handlers that read the call's deadline, hand the request
//! to the translator, and turn its typed errors into `tonic::Status`.

/// Runs one translator call with the request's deadline and maps its error
/// at the edge.
macro_rules! handle {
    ($self:ident, $request:ident, $translate:path) => {{
        let deadline = $crate::service::deadline_of($request.metadata());
        $translate(&$self.client, $request.get_ref(), deadline)
            .await
            .map(tonic::Response::new)
            .map_err($crate::service::to_status)
    }};
}

mod cifs;
mod deadline;
mod iscsi;
mod status;

pub use cifs::CifsConnectionsService;
pub use deadline::deadline_of;
pub use iscsi::IscsiServicesService;
pub use status::to_status;
