//! ListCifsConnections onto `GET /api/protocols/cifs/connections`.

use super::GatewayError;
use super::list;
use crate::ontap::cifs::CONNECTIONS;
use crate::ontap::{Deadline, OntapClient};
use crate::proto::v1::{ListCifsConnectionsRequest, ListCifsConnectionsResponse};

/// Lists one page of CIFS connections.
pub async fn list(
    client: &OntapClient,
    request: &ListCifsConnectionsRequest,
    deadline: Deadline,
) -> Result<ListCifsConnectionsResponse, GatewayError> {
    list::list(client, request, &CONNECTIONS.path(), deadline).await
}
