//! `/cifs/connections` and `/cifs/churn`: the CIFS connections as the model holds them, added and
//! removed by hand, and the churn that opens and closes them over simulated time.
//!
//! A connection is one flat JSON object with every field required:
//! `{"node_uuid": "...", "svm_uuid": "...", "identifier": 1, "network_context_id": 1,
//! "client_ip": "10.74.7.1", "client_port": 4000, "server_ip": "10.140.70.197",
//! "session_ids": [1]}`. Its identity is the node and the identifier, unique per node. Its
//! `session_ids` are its CIFS sessions: posting it starts them, served at
//! `/api/protocols/cifs/sessions` with fields derived from their keys, and deleting it ends them.
//! A single session is closed through the REST API's DELETE on its path.
//!
//! The churn reads `{"per_minute": x, "seed": n, "events": n}`: the average events per simulated
//! minute (0: off), the seed of the generators, and how many events have been applied since the
//! simulator started. `PUT` takes `{"per_minute": x}` and optionally `"seed"` (absent: the seed
//! stays), and restarts the churn from the simulated time now.

use std::net::IpAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use http::StatusCode;
use percent_encoding::utf8_percent_encode;
use serde::{Deserialize, Serialize};

use super::{Admin, AdminError, created, parse_body};
use crate::http::params::COMPONENT;
use crate::resources::churn::CifsChurn;
use crate::resources::model::CifsConnection;

/// A connection on the admin API: the model's fields, with the node and SVM by UUID.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a CIFS connection: a JSON object")]
pub(super) struct ConnectionJson {
    node_uuid: String,
    svm_uuid: String,
    identifier: u32,
    network_context_id: u32,
    client_ip: String,
    client_port: u32,
    server_ip: String,
    session_ids: Vec<u64>,
}

impl From<CifsConnection> for ConnectionJson {
    fn from(c: CifsConnection) -> ConnectionJson {
        ConnectionJson {
            node_uuid: c.node_uuid,
            svm_uuid: c.svm_uuid,
            identifier: c.identifier,
            network_context_id: c.network_context_id,
            client_ip: c.client_ip,
            client_port: c.client_port,
            server_ip: c.server_ip,
            session_ids: c.session_ids,
        }
    }
}

impl From<ConnectionJson> for CifsConnection {
    fn from(c: ConnectionJson) -> CifsConnection {
        CifsConnection {
            node_uuid: c.node_uuid,
            svm_uuid: c.svm_uuid,
            identifier: c.identifier,
            network_context_id: c.network_context_id,
            client_ip: c.client_ip,
            client_port: c.client_port,
            server_ip: c.server_ip,
            session_ids: c.session_ids,
        }
    }
}

/// Reads a connection; the addresses must be IP addresses and the port a TCP port, which the
/// model itself does not insist on.
fn parse_connection(body: &[u8]) -> Result<CifsConnection, AdminError> {
    let json: ConnectionJson = parse_body(body).map_err(AdminError::BadConnection)?;
    for (field, address) in [
        ("client_ip", &json.client_ip),
        ("server_ip", &json.server_ip),
    ] {
        if address.parse::<IpAddr>().is_err() {
            return Err(AdminError::BadConnection(format!(
                "{field} {address:?} is not an IP address"
            )));
        }
    }
    if json.client_port > u32::from(u16::MAX) {
        return Err(AdminError::BadConnection(format!(
            "client_port {} is not a TCP port",
            json.client_port
        )));
    }
    Ok(json.into())
}

pub(super) async fn list(State(admin): State<Admin>) -> Json<Vec<ConnectionJson>> {
    let connections = admin.cluster.with(|c| c.cifs_connections.clone());
    Json(connections.into_iter().map(ConnectionJson::from).collect())
}

pub(super) async fn add(State(admin): State<Admin>, body: Bytes) -> Result<Response, AdminError> {
    let connection = parse_connection(&body)?;
    let location = format!(
        "/cifs/connections/{}/{}",
        utf8_percent_encode(&connection.node_uuid, COMPONENT),
        connection.identifier
    );
    admin
        .cluster
        .try_add_cifs_connection(connection.clone())
        .map_err(|error| AdminError::BadConnection(error.to_string()))?;
    Ok(created(&location, ConnectionJson::from(connection)))
}

/// The identifier is taken as text so that a malformed one gets the same 404 body as an unknown
/// one.
pub(super) async fn remove(
    State(admin): State<Admin>,
    Path((node_uuid, identifier)): Path<(String, String)>,
) -> Result<StatusCode, AdminError> {
    match identifier.parse() {
        Ok(number) if admin.cluster.remove_cifs_connection(&node_uuid, number) => {
            Ok(StatusCode::NO_CONTENT)
        }
        _ => Err(AdminError::NoSuchConnection {
            node_uuid,
            identifier,
        }),
    }
}

/// The churn as `GET /cifs/churn` shows it.
#[derive(Debug, PartialEq, Serialize)]
pub(super) struct ChurnJson {
    per_minute: f64,
    seed: u64,
    events: u64,
}

/// A new churn setting.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a JSON object with `per_minute`")]
struct ChurnRequest {
    per_minute: f64,
    seed: Option<u64>,
}

fn parse_churn(body: &[u8], current: CifsChurn) -> Result<CifsChurn, AdminError> {
    let request: ChurnRequest = parse_body(body).map_err(AdminError::BadChurn)?;
    let seed = request.seed.unwrap_or(current.seed());
    CifsChurn::new(request.per_minute, seed)
        .map_err(|error| AdminError::BadChurn(error.to_string()))
}

fn churn_json(admin: &Admin) -> ChurnJson {
    let events = admin.cluster.cifs_churn_events();
    let churn = admin.cluster.cifs_churn();
    ChurnJson {
        per_minute: churn.per_minute(),
        seed: churn.seed(),
        events,
    }
}

pub(super) async fn read_churn(State(admin): State<Admin>) -> Json<ChurnJson> {
    Json(churn_json(&admin))
}

pub(super) async fn set_churn(
    State(admin): State<Admin>,
    body: Bytes,
) -> Result<Json<ChurnJson>, AdminError> {
    let churn = parse_churn(&body, admin.cluster.cifs_churn())?;
    admin.cluster.set_cifs_churn(churn);
    Ok(Json(churn_json(&admin)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(result: Result<impl std::fmt::Debug, AdminError>) -> String {
        match result {
            Ok(accepted) => panic!("accepted as {accepted:?}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn a_connection_reads_into_the_model_and_lists_as_it_was_posted() {
        let posted = serde_json::json!({
            "node_uuid": "n1", "svm_uuid": "s1", "identifier": 7, "network_context_id": 2,
            "client_ip": "10.74.7.9", "client_port": 4000, "server_ip": "fd20::1",
            "session_ids": [11, 12],
        });
        let connection = parse_connection(posted.to_string().as_bytes()).expect("valid");
        assert_eq!(connection.identifier, 7);
        assert_eq!(connection.session_ids, [11, 12]);
        let listed = serde_json::to_value(ConnectionJson::from(connection)).expect("JSON");
        assert_eq!(listed, posted);
    }

    #[test]
    fn connection_refusals_name_the_field_at_fault() {
        let valid = serde_json::json!({
            "node_uuid": "n1", "svm_uuid": "s1", "identifier": 7, "network_context_id": 2,
            "client_ip": "10.74.7.9", "client_port": 4000, "server_ip": "10.140.70.197",
            "session_ids": [],
        });
        for (field, value, named) in [
            ("client_ip", serde_json::json!("10.74.7"), "client_ip"),
            ("server_ip", serde_json::json!("host"), "server_ip"),
            ("client_port", serde_json::json!(70_000), "client_port"),
            ("identifier", serde_json::json!(-1), "identifier"),
            ("session_ids", serde_json::json!("1"), "session_ids"),
            ("session", serde_json::json!([1]), "session"),
        ] {
            let mut body = valid.clone();
            body[field] = value;
            let message = refusal(parse_connection(body.to_string().as_bytes()));
            assert!(message.contains(named), "{field}: {message}");
        }
        let mut missing = valid.clone();
        missing
            .as_object_mut()
            .expect("an object")
            .remove("svm_uuid");
        let message = refusal(parse_connection(missing.to_string().as_bytes()));
        assert!(message.contains("svm_uuid"), "{message}");
    }

    #[test]
    fn client_ports_run_to_65535_and_no_further() {
        let with_port = |port: u32| {
            serde_json::json!({
                "node_uuid": "n1", "svm_uuid": "s1", "identifier": 7, "network_context_id": 2,
                "client_ip": "10.74.7.9", "client_port": port, "server_ip": "10.140.70.197",
                "session_ids": [],
            })
            .to_string()
        };
        let highest = parse_connection(with_port(65_535).as_bytes()).expect("the highest port");
        assert_eq!(highest.client_port, 65_535);
        let message = refusal(parse_connection(with_port(65_536).as_bytes()));
        assert!(message.contains("client_port 65536"), "{message}");
    }

    #[test]
    fn churn_keeps_the_seed_unless_given_one() {
        let current = CifsChurn::new(6.0, 42).expect("valid");
        let kept = parse_churn(br#"{"per_minute": 0.5}"#, current).expect("valid");
        assert_eq!((kept.per_minute(), kept.seed()), (0.5, 42));
        let given = parse_churn(br#"{"per_minute": 0, "seed": 9}"#, current).expect("valid");
        assert_eq!((given.per_minute(), given.seed()), (0.0, 9));
    }

    #[test]
    fn churn_refusals_say_what_is_wrong() {
        let current = CifsChurn::OFF;
        for (body, named) in [
            (r#"{"per_minute": -1}"#, "-1"),
            (r#"{"per_minute": 1e9}"#, "1000000000"),
            (r#"{"per_minute": 1e999}"#, "per_minute"),
            (r#"{"per_minute": "6"}"#, "per_minute"),
            (r#"{"seed": 1}"#, "per_minute"),
            (r#"{"per_minute": 6, "rate": 1}"#, "rate"),
        ] {
            let message = refusal(parse_churn(body.as_bytes(), current));
            assert!(message.contains(named), "{body}: {message}");
        }
    }
}
