//! ListCifsConnections onto `GET /api/protocols/cifs/connections`.

use super::GatewayError;
use super::Upstream;
use super::list;
use crate::ontap::Deadline;
use crate::ontap::cifs::CONNECTIONS;
use crate::proto::v1::{ListCifsConnectionsRequest, ListCifsConnectionsResponse};

/// Lists one page of CIFS connections.
pub async fn list(
    upstream: &Upstream,
    request: &ListCifsConnectionsRequest,
    deadline: Deadline,
) -> Result<ListCifsConnectionsResponse, GatewayError> {
    list::list(upstream, request, &CONNECTIONS.path(), deadline).await
}

/// Checks `request`'s filters as [`list`] would, without calling ONTAP.
pub fn validate_filters(
    upstream: &Upstream,
    request: &ListCifsConnectionsRequest,
) -> Result<(), GatewayError> {
    list::validate(upstream, request, &CONNECTIONS.path())
}
