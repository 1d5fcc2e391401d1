//! ListCifsConnections onto `GET /api/protocols/cifs/connections`.

use super::GatewayError;
use super::list::{self, list_request};
use super::refs;
use super::schema::{Field, Schema, Selection, ValueKind};
use crate::ontap::cifs::{CONNECTIONS, CifsConnectionRecord};
use crate::ontap::{Deadline, OntapClient};
use crate::proto::v1::{
    CifsConnection, CifsSession, ListCifsConnectionsRequest, ListCifsConnectionsResponse,
};

/// The fields of a `cifs_connection` (ontap-rest/cifs-connections.txt).
pub static SCHEMA: Schema = Schema {
    fields: &[
        Field::new("client_ip", ValueKind::IpAddress),
        Field::new("client_port", ValueKind::Unsigned),
        Field::new("identifier", ValueKind::Unsigned),
        Field::new("network_context_id", ValueKind::Unsigned),
        Field::new("node", ValueKind::Object),
        Field::new("node.name", ValueKind::Text),
        Field::new("node.uuid", ValueKind::Uuid),
        Field::new("server_ip", ValueKind::IpAddress),
        Field::new("sessions", ValueKind::Object),
        Field::new("sessions.identifier", ValueKind::Unsigned),
        Field::new("svm", ValueKind::Object),
        Field::new("svm.name", ValueKind::Text),
        Field::new("svm.uuid", ValueKind::Uuid),
    ],
};

/// Lists one page of CIFS connections.
pub async fn list(
    client: &OntapClient,
    request: &ListCifsConnectionsRequest,
    deadline: Deadline,
) -> Result<ListCifsConnectionsResponse, GatewayError> {
    let list_request = list_request!(request, extra: Vec::new(), filters: [
        "sessions.identifier" => sessions_identifier,
        "svm.name" => svm_name,
        "svm.uuid" => svm_uuid,
        "server_ip" => server_ip,
        "node.name" => node_name,
        "node.uuid" => node_uuid,
        "identifier" => identifier,
        "network_context_id" => network_context_id,
        "client_ip" => client_ip,
        "client_port" => client_port,
    ]);
    let path = CONNECTIONS.path();
    let page = list::fetch::<CifsConnectionRecord>(client, &SCHEMA, &path, &list_request, deadline)
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
