//! `/api/protocols/cifs/sessions` (list, close by query) and
//! `.../sessions/{node.uuid}/{svm.uuid}/{identifier}/{connection_id}` (get, close).
//!
//! The resource is its [`SCHEMA`] plus the model in [`session`]: listing, filtering, paging and
//! the GET of one session come from the query engine; closing is in [`close`].
//!
//! A request without `fields` gets the key fields only (`node`, `svm`, `identifier`,
//! `connection_id`) and `_links.self`, by ONTAP's general rule, which the page infers for this
//! endpoint; `fields=*` (or `**`: nothing is expensive) gets every field; the GET of one session
//! gets every field.

pub mod close;
pub mod session;

use axum::extract::State;
use axum::response::Response;
use http::{HeaderMap, Uri};
use serde_json::Value;

use crate::query::collection;
use crate::query::instance;
use crate::query::key::Key;
use crate::query::schema::{FieldSpec, FieldType, LinkSpec, NODE_LINK, SVM_LINK, Schema};
use crate::resources::model::SharedCluster;
use session::{
    CifsSessionKey, ContinuousAvailability, SmbAuthentication, SmbEncryption, SmbProtocol,
};

/// Path of the collection.
pub const PATH: &str = "/api/protocols/cifs/sessions";

/// The 24 documented fields, each a filter.
const FIELDS: &[FieldSpec] = &[
    FieldSpec::new("node.name", FieldType::String),
    FieldSpec::new("node.uuid", FieldType::String),
    FieldSpec::new("svm.name", FieldType::String),
    FieldSpec::new("svm.uuid", FieldType::String),
    FieldSpec::new("identifier", FieldType::Integer),
    FieldSpec::new("connection_id", FieldType::Integer),
    FieldSpec::new("server_ip", FieldType::String),
    FieldSpec::new("client_ip", FieldType::String),
    FieldSpec::new("authentication", FieldType::String).one_of(SmbAuthentication::WORDS),
    FieldSpec::new("user", FieldType::String),
    FieldSpec::new("mapped_unix_user", FieldType::String),
    FieldSpec::new("protocol", FieldType::String).one_of(SmbProtocol::WORDS),
    FieldSpec::new("continuous_availability", FieldType::String)
        .one_of(ContinuousAvailability::WORDS),
    FieldSpec::new("smb_signing", FieldType::Boolean),
    FieldSpec::new("smb_encryption", FieldType::String).one_of(SmbEncryption::WORDS),
    FieldSpec::new("large_mtu", FieldType::Boolean),
    FieldSpec::new("connected_duration", FieldType::Duration),
    FieldSpec::new("idle_duration", FieldType::Duration),
    FieldSpec::new("connection_count", FieldType::Integer),
    FieldSpec::new("open_files", FieldType::Integer),
    FieldSpec::new("open_other", FieldType::Integer),
    FieldSpec::new("open_shares", FieldType::Integer),
    FieldSpec::new("volumes.name", FieldType::String).repeated(),
    FieldSpec::new("volumes.uuid", FieldType::String).repeated(),
];

/// `volumes[]._links.self`: each volume's own endpoint.
const VOLUME_LINK: LinkSpec = LinkSpec {
    object: "volumes",
    href: volume_href,
};

fn volume_href(_: &Value, volume: &Value) -> Option<String> {
    Some(format!(
        "/api/storage/volumes/{}",
        volume.get("uuid")?.as_str()?
    ))
}

/// The sessions collection; a session's path (and `_links.self`) is node, SVM, session ID,
/// connection ID, in that order, as the URL has them (the page's parameter list has another).
pub const SCHEMA: Schema = Schema {
    path: PATH,
    fields: FIELDS,
    key_fields: &[
        "node.uuid",
        "node.name",
        "svm.uuid",
        "svm.name",
        "identifier",
        "connection_id",
    ],
    default_fields: &[],
    identity: &["node.uuid", "svm.uuid", "identifier", "connection_id"],
    default_order: &[],
    parameters: &[],
    links: &[NODE_LINK, SVM_LINK, VOLUME_LINK],
    path_keys: &["node.uuid", "svm.uuid", "identifier", "connection_id"],
};

/// Lists the sessions.
pub async fn list(State(cluster): State<SharedCluster>, uri: Uri, headers: HeaderMap) -> Response {
    let record_cost = cluster.iteration_cost(uri.path());
    let elapsed = cluster.since_clock_start();
    collection::get(&SCHEMA, &uri, &headers, record_cost, || {
        cluster.with(|c| {
            c.cifs_sessions()
                .iter()
                .map(|session| c.cifs_session_json(session, elapsed))
                .collect()
        })
    })
}

/// Retrieves one session.
pub async fn get(State(cluster): State<SharedCluster>, uri: Uri, headers: HeaderMap) -> Response {
    let elapsed = cluster.since_clock_start();
    instance::get_keyed(&SCHEMA, &uri, &headers, |key| {
        let Some(wanted) = session_key(key) else {
            return Ok(None);
        };
        Ok(cluster.with(|c| {
            c.cifs_session(&wanted)
                .map(|session| c.cifs_session_json(&session, elapsed))
        }))
    })
}

/// The session a path names; `None` when an ID is out of its range, so no session has it.
fn session_key(key: &Key) -> Option<CifsSessionKey> {
    Some(CifsSessionKey {
        node_uuid: key.text("node.uuid")?.to_owned(),
        svm_uuid: key.text("svm.uuid")?.to_owned(),
        identifier: u64::try_from(key.int("identifier")?).ok()?,
        connection_id: u32::try_from(key.int("connection_id")?).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_declares_24_filters() {
        assert_eq!(FIELDS.len(), 24);
    }

    #[test]
    fn an_identifier_beyond_u64_names_no_session() {
        let key =
            Key::parse(&SCHEMA, &format!("{PATH}/n/s/18446744073709551616/1")).expect("an integer");
        assert_eq!(session_key(&key), None);
        let key =
            Key::parse(&SCHEMA, &format!("{PATH}/n/s/18446744073709551615/1")).expect("an integer");
        assert_eq!(session_key(&key).map(|k| k.identifier), Some(u64::MAX));
    }
}
