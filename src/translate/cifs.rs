//! ListCifsConnections onto `GET /api/protocols/cifs/connections`.

use super::GatewayError;
use super::list::{self, ListRequest, ListRequestFields};
use super::refs;
use super::schema::Selection;
use crate::ontap::cifs::{CONNECTIONS, CifsConnectionRecord};
use crate::ontap::{Deadline, OntapClient};
use crate::proto::v1::{
    CifsConnection, CifsSession, ListCifsConnectionsRequest, ListCifsConnectionsResponse,
};

/// Lists one page of CIFS connections.
pub async fn list(
    client: &OntapClient,
    request: &ListCifsConnectionsRequest,
    deadline: Deadline,
) -> Result<ListCifsConnectionsResponse, GatewayError> {
    let list_request = ListRequest::of(request, Vec::new());
    let path = CONNECTIONS.path();
    let page = list::fetch::<CifsConnectionRecord>(
        client,
        ListCifsConnectionsRequest::SCHEMA,
        &path,
        &list_request,
        deadline,
    )
    .await?;
    let selection = &page.selection;
    Ok(ListCifsConnectionsResponse {
        cifs_connections: page
            .records
            .into_iter()
            .map(|record| to_proto(record, selection))
            .collect(),
        next_page_token: page.next_page_token,
        num_records: page.num_records,
        total_size: page.total_size,
    })
}

/// Maps one record, keeping only the selected fields: a field the caller did
/// not ask for stays absent even when ONTAP sent it (ONTAP always adds the
/// key fields).
pub fn to_proto(record: CifsConnectionRecord, selection: &Selection) -> CifsConnection {
    let keep = |path: &str| selection.includes(path);
    CifsConnection {
        client_ip: record.client_ip.filter(|_| keep("client_ip")),
        client_port: record.client_port.filter(|_| keep("client_port")),
        identifier: record.identifier.filter(|_| keep("identifier")),
        network_context_id: record
            .network_context_id
            .filter(|_| keep("network_context_id")),
        node: refs::node(record.node, selection),
        server_ip: record.server_ip.filter(|_| keep("server_ip")),
        sessions: record
            .sessions
            .filter(|_| keep("sessions.identifier"))
            .unwrap_or_default()
            .into_iter()
            .map(|s| CifsSession {
                identifier: s.identifier,
            })
            .collect(),
        svm: refs::svm(record.svm, selection),
    }
}
