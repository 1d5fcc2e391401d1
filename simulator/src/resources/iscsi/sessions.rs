//! `GET /api/protocols/san/iscsi/sessions` and `.../sessions/{svm.uuid}/{tpgroup}/{tsih}`,
//! read-only: the resource is its [`SCHEMA`] plus the model in [`super::session`].
//!
//! A request without `fields` gets `svm` (UUID, name, link), `target_portal_group`, `tsih` and
//! `_links.self`, as NetApp's example shows; `fields=*` (or `**`: nothing is expensive) and the
//! GET of one session get every field. The path's portal group is percent-decoded. An unknown
//! SVM in the path is error 2621462, answered with 404 as the iSCSI services endpoint answers
//! it (the page gives no status); a known SVM without that session is 404, code 4.

use axum::extract::State;
use axum::response::Response;
use http::{HeaderMap, Uri};
use serde_json::Value;

use crate::errors::{ApiError, SvmNamed};
use crate::query::collection;
use crate::query::instance;
use crate::query::schema::{FieldSpec, FieldType, LinkSpec, SVM_LINK, Schema};
use crate::resources::iscsi::session::IscsiAuthentication;
use crate::resources::model::SharedCluster;

/// Path of the collection.
pub const PATH: &str = "/api/protocols/san/iscsi/sessions";

/// The pages' maxLength of an igroup name (minLength is 1).
const IGROUP_NAME_MAX_CHARS: usize = 96;

/// The 19 documented fields, each a filter.
const FIELDS: &[FieldSpec] = &[
    FieldSpec::new("svm.name", FieldType::String),
    FieldSpec::new("svm.uuid", FieldType::String),
    FieldSpec::new("target_portal_group", FieldType::String),
    FieldSpec::new("target_portal_group_tag", FieldType::Integer),
    FieldSpec::new("tsih", FieldType::Integer),
    FieldSpec::new("isid", FieldType::String),
    FieldSpec::new("initiator.name", FieldType::String),
    FieldSpec::new("initiator.alias", FieldType::String),
    FieldSpec::new("initiator.comment", FieldType::String),
    FieldSpec::new("igroups.name", FieldType::String)
        .repeated()
        .length(1, IGROUP_NAME_MAX_CHARS),
    FieldSpec::new("igroups.uuid", FieldType::String).repeated(),
    FieldSpec::new("connections.cid", FieldType::Integer).repeated(),
    FieldSpec::new("connections.authentication_type", FieldType::String)
        .repeated()
        .one_of(IscsiAuthentication::WORDS),
    FieldSpec::new("connections.initiator_address.address", FieldType::String).repeated(),
    FieldSpec::new("connections.initiator_address.port", FieldType::Integer).repeated(),
    FieldSpec::new("connections.interface.name", FieldType::String).repeated(),
    FieldSpec::new("connections.interface.uuid", FieldType::String).repeated(),
    FieldSpec::new("connections.interface.ip.address", FieldType::String).repeated(),
    FieldSpec::new("connections.interface.ip.port", FieldType::Integer)
        .repeated()
        .bounds(1, 65_536),
];

/// `igroups[]._links.self`: each igroup's own endpoint.
const IGROUP_LINK: LinkSpec = LinkSpec {
    object: "igroups",
    href: igroup_href,
};

/// `connections[].interface._links.self`: each LIF's own endpoint.
const INTERFACE_LINK: LinkSpec = LinkSpec {
    object: "connections.interface",
    href: interface_href,
};

fn igroup_href(_: &Value, igroup: &Value) -> Option<String> {
    Some(format!(
        "/api/protocols/san/igroups/{}",
        igroup.get("uuid")?.as_str()?
    ))
}

fn interface_href(_: &Value, interface: &Value) -> Option<String> {
    Some(format!(
        "/api/network/ip/interfaces/{}",
        interface.get("uuid")?.as_str()?
    ))
}

/// The sessions collection; a session's path (and `_links.self`) is its SVM's UUID, portal group
/// and TSIH.
pub const SCHEMA: Schema = Schema {
    path: PATH,
    fields: FIELDS,
    key_fields: &["svm.uuid", "svm.name", "target_portal_group", "tsih"],
    default_fields: &[],
    identity: &["svm.uuid", "target_portal_group", "tsih"],
    default_order: &[],
    parameters: &[],
    links: &[SVM_LINK, IGROUP_LINK, INTERFACE_LINK],
    path_keys: &["svm.uuid", "target_portal_group", "tsih"],
};

/// Lists the sessions.
pub async fn list(State(cluster): State<SharedCluster>, uri: Uri, headers: HeaderMap) -> Response {
    let record_cost = cluster.iteration_cost(uri.path());
    collection::get(&SCHEMA, &uri, &headers, record_cost, || {
        cluster.with(|c| {
            c.served_iscsi_sessions()
                .map(|session| c.iscsi_session_json(session))
                .collect()
        })
    })
}

/// Retrieves one session.
pub async fn get(State(cluster): State<SharedCluster>, uri: Uri, headers: HeaderMap) -> Response {
    instance::get_keyed(&SCHEMA, &uri, &headers, |key| {
        let svm_uuid = key.text("svm.uuid").unwrap_or_default();
        cluster.with(|c| {
            if c.svm(svm_uuid).is_none() {
                return Err(ApiError::svm_does_not_exist(SvmNamed::InPath(svm_uuid)));
            }
            let of_the_svm = c
                .served_iscsi_sessions()
                .filter(|session| session.svm_uuid == svm_uuid)
                .map(|session| c.iscsi_session_json(session));
            Ok(key.find(of_the_svm))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_declares_19_filters() {
        assert_eq!(FIELDS.len(), 19);
    }
}
