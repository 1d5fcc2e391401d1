//! `GET /api/protocols/cifs/connections`.

use axum::extract::State;
use axum::response::Response;
use http::{HeaderMap, Uri};

use crate::query::collection;
use crate::query::schema::{FieldSpec, FieldType, NODE_LINK, SVM_LINK, Schema};
use crate::resources::model::SharedCluster;

/// Path of the collection.
pub const PATH: &str = "/api/protocols/cifs/connections";

const FIELDS: &[FieldSpec] = &[
    FieldSpec::new("client_ip", FieldType::String),
    FieldSpec::new("client_port", FieldType::Integer),
    FieldSpec::new("identifier", FieldType::Integer),
    FieldSpec::new("network_context_id", FieldType::Integer),
    FieldSpec::new("node.name", FieldType::String),
    FieldSpec::new("node.uuid", FieldType::String),
    FieldSpec::new("server_ip", FieldType::String),
    FieldSpec::new("sessions.identifier", FieldType::Integer).repeated(),
    FieldSpec::new("svm.name", FieldType::String),
    FieldSpec::new("svm.uuid", FieldType::String),
];

/// The CIFS connections collection. A connection has no endpoint of its own, so only its node
/// and SVM carry HAL links.
///
/// A request without `fields` gets whole records, not ONTAP's usual key fields only (the notes'
/// general convention): the page's own example, a call that names no `fields`, answers every
/// field of each connection, and the page is the contract for this endpoint.
pub const SCHEMA: Schema = Schema {
    path: PATH,
    fields: FIELDS,
    key_fields: &[
        "node.uuid",
        "node.name",
        "svm.uuid",
        "svm.name",
        "identifier",
    ],
    default_fields: &["*"],
    identity: &["node.uuid", "svm.uuid", "identifier"],
    default_order: &[],
    parameters: &[],
    links: &[NODE_LINK, SVM_LINK],
    path_keys: &[],
};

/// Lists the connections.
pub async fn list(State(cluster): State<SharedCluster>, uri: Uri, headers: HeaderMap) -> Response {
    let record_cost = cluster.iteration_cost(uri.path());
    collection::get(&SCHEMA, &uri, &headers, record_cost, || {
        cluster.with(|c| {
            c.cifs_connections
                .iter()
                .map(|connection| c.cifs_connection_json(connection))
                .collect()
        })
    })
}
