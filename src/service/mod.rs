//! The gRPC edge: handlers that read the call's deadline, hand the request
//! to the translator, and turn its typed errors into `tonic::Status`.

mod cifs;
mod deadline;
mod status;

pub use cifs::CifsConnectionsService;
pub use deadline::deadline_of;
pub use status::to_status;
