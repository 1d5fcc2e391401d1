//! `GET /api/svm/svms` and `/api/svm/svms/{uuid}`, read-only: the SVMs by name, UUID and state,
//! which a client reads to tell an SVM's name from its UUID (a gateway checking its callers'
//! policy by SVM name does). A request without `fields` gets `name`, `uuid` and `_links.self`,
//! as ONTAP answers; `state` on asking. An unknown UUID is 404.

use axum::extract::State;
use axum::response::Response;
use http::{HeaderMap, Uri};
use serde_json::{Value, json};

use crate::query::schema::{FieldSpec, FieldType, Schema};
use crate::query::{collection, instance};
use crate::resources::model::{SharedCluster, Svm, SvmState};

/// Path of the collection.
pub const PATH: &str = "/api/svm/svms";

/// The part of ONTAP's SVM object the simulator models.
const FIELDS: &[FieldSpec] = &[
    FieldSpec::new("name", FieldType::String),
    FieldSpec::new("uuid", FieldType::String),
    FieldSpec::new("state", FieldType::String).one_of(&["running", "stopped"]),
];

/// The SVMs; an SVM's path is its UUID.
pub const SCHEMA: Schema = Schema {
    path: PATH,
    fields: FIELDS,
    key_fields: &["name", "uuid"],
    default_fields: &[],
    identity: &["uuid"],
    default_order: &[],
    parameters: &[],
    links: &[],
    path_keys: &["uuid"],
};

/// An SVM as ONTAP renders it, every modelled field.
fn svm_json(svm: &Svm) -> Value {
    let state = match svm.state {
        SvmState::Running => "running",
        SvmState::Stopped => "stopped",
    };
    json!({"name": svm.name, "uuid": svm.uuid, "state": state})
}

/// Lists the SVMs.
pub async fn list(State(cluster): State<SharedCluster>, uri: Uri, headers: HeaderMap) -> Response {
    let record_cost = cluster.iteration_cost(uri.path());
    collection::get(&SCHEMA, &uri, &headers, record_cost, || {
        cluster.with(|c| c.svms.iter().map(svm_json).collect())
    })
}

/// Retrieves one SVM.
pub async fn get(State(cluster): State<SharedCluster>, uri: Uri, headers: HeaderMap) -> Response {
    instance::get_keyed(&SCHEMA, &uri, &headers, |key| {
        let uuid = key.text("uuid").unwrap_or_default();
        Ok(cluster.with(|c| c.svm(uuid).map(svm_json)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_svm_renders_its_state_as_ontap_names_it() {
        let stopped = Svm::new("u", "vs9", SvmState::Stopped);
        assert_eq!(
            svm_json(&stopped),
            json!({"name": "vs9", "uuid": "u", "state": "stopped"})
        );
    }
}
