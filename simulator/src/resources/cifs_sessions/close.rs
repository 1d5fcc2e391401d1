//! Closing CIFS sessions (`vserver cifs session close`): DELETE of one session's path, whose
//! zeros are wildcards, and the query-based DELETE of the collection.
//!
//! | `identifier` | `connection_id` | closes                                      |
//! |--------------|-----------------|---------------------------------------------|
//! | session ID   | connection ID   | that one session                            |
//! | `0`          | `0`             | every session of the SVM on the node        |
//! | `0`          | connection ID   | every session the connection carries        |
//! | session ID   | `0`             | nothing: refused with 655503                |
//!
//! The page documents 655503 without an HTTP status; the simulator answers it with 400, ONTAP's
//! status for a request refused as given, before looking for any session. Nothing matched is
//! 404 (code 4); a body is 400 (code 262198); a query parameter is unexpected (262179). Success
//! is 200 with `{}`: the page documents no body (Trident's client reads none), and the
//! simulator's other DELETEs answer `{}`, so a client that always parses a body works too.
//!
//! Every closed session leaves its connection's `session_ids`, and a connection left without
//! sessions goes away (see [`Cluster::close_cifs_sessions`]).
//!
//! [`Cluster::close_cifs_sessions`]: crate::Cluster::close_cifs_sessions

use std::collections::HashSet;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::Response;
use http::{HeaderMap, StatusCode, Uri};
use serde_json::Value;

use super::SCHEMA;
use super::session::CifsSessionKey;
use crate::errors::{ApiError, done_or_error};
use crate::http::media::Media;
use crate::http::params;
use crate::query::delete::DeleteRequest;
use crate::query::key::Key;
use crate::resources::model::SharedCluster;
use crate::resources::request::{body_bytes, no_parameters};

/// The sessions one instance DELETE closes: `None` is the wildcard 0.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    node_uuid: String,
    svm_uuid: String,
    identifier: Option<i128>,
    connection_id: Option<i128>,
}

impl Target {
    /// Reads the wildcards; a session ID with connection ID 0 is refused (655503).
    fn of(key: &Key) -> Result<Target, ApiError> {
        let wildcard = |field: &str| key.int(field).filter(|id| *id != 0);
        let (identifier, connection_id) = (wildcard("identifier"), wildcard("connection_id"));
        if let (Some(identifier), None) = (identifier, connection_id) {
            return Err(ApiError::connection_id_zero(&identifier.to_string()));
        }
        Ok(Target {
            node_uuid: key.text("node.uuid").unwrap_or_default().to_owned(),
            svm_uuid: key.text("svm.uuid").unwrap_or_default().to_owned(),
            identifier,
            connection_id,
        })
    }

    fn covers(&self, session: &CifsSessionKey) -> bool {
        session.node_uuid == self.node_uuid
            && session.svm_uuid == self.svm_uuid
            && self
                .identifier
                .is_none_or(|id| id == i128::from(session.identifier))
            && self
                .connection_id
                .is_none_or(|id| id == i128::from(session.connection_id))
    }
}

/// Whether a DELETE's body says nothing: empty, or an empty JSON object,
/// which NetApp's own Python client (netapp-ontap) sends with every DELETE
/// and ONTAP accepts.
fn is_no_body(body: &[u8]) -> bool {
    let text = body.trim_ascii();
    text.is_empty()
        || text
            .strip_prefix(b"{")
            .and_then(|t| t.strip_suffix(b"}"))
            .is_some_and(|t| t.trim_ascii().is_empty())
}

/// Closes the session (or sessions) a path names.
pub async fn delete(
    State(cluster): State<SharedCluster>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let media = Media::from_headers(&headers);
    let result = (|| {
        no_parameters(&uri)?;
        if !is_no_body(&body_bytes(body)?) {
            return Err(ApiError::body_not_allowed());
        }
        let target = Target::of(&Key::parse(&SCHEMA, uri.path())?)?;
        let closed = cluster.with(|c| c.close_cifs_sessions(|session| target.covers(session)));
        if closed.is_empty() {
            return Err(ApiError::not_found());
        }
        Ok(())
    })();
    done_or_error(result, media)
}

/// Closes every session a query matches (see [`crate::query::delete`] for the parameters):
/// 200 with `{"num_records": n}`.
pub async fn delete_matching(
    State(cluster): State<SharedCluster>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let media = Media::from_headers(&headers);
    let cost = cluster.iteration_cost(uri.path());
    let elapsed = cluster.since_clock_start();
    let target = uri
        .path_and_query()
        .map_or(SCHEMA.path, |pq| pq.as_str())
        .to_owned();
    let result = body_bytes(body).and_then(|body| {
        let request = DeleteRequest::parse(&SCHEMA, &params::decode(uri.query()), &body)?;
        cluster.with(|c| {
            let records: Vec<(CifsSessionKey, Value)> = c
                .cifs_sessions()
                .into_iter()
                .map(|session| {
                    let json = c.cifs_session_json(&session, elapsed);
                    (session.key, json)
                })
                .collect();
            let (selected, more) = request.select(&SCHEMA, records, cost)?;
            let closing: HashSet<&CifsSessionKey> = selected.iter().map(|(key, _)| key).collect();
            c.close_cifs_sessions(|key| closing.contains(key));
            let deleted: Vec<Value> = selected.into_iter().map(|(_, json)| json).collect();
            Ok(request.respond(&SCHEMA, &deleted, more, &target))
        })
    });
    match result {
        Ok(body) => media.respond(StatusCode::OK, &body),
        Err(error) => error.into_response_as(media),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(identifier: &str, connection_id: &str) -> Result<Target, ApiError> {
        let path = format!("{}/n1/s1/{identifier}/{connection_id}", SCHEMA.path);
        Target::of(&Key::parse(&SCHEMA, &path).expect("a key"))
    }

    fn session(identifier: u64, connection_id: u32) -> CifsSessionKey {
        CifsSessionKey {
            node_uuid: "n1".into(),
            svm_uuid: "s1".into(),
            identifier,
            connection_id,
        }
    }

    #[test]
    fn both_ids_close_that_one_session() {
        let target = target("7", "3").expect("valid");
        assert!(target.covers(&session(7, 3)));
        assert!(!target.covers(&session(7, 4)));
        assert!(!target.covers(&session(8, 3)));
    }

    #[test]
    fn zero_zero_closes_every_session_of_the_svm_on_the_node() {
        let target = target("0", "0").expect("valid");
        assert!(target.covers(&session(7, 3)));
        assert!(target.covers(&session(u64::MAX, u32::MAX)));
        let elsewhere = CifsSessionKey {
            node_uuid: "n2".into(),
            ..session(7, 3)
        };
        assert!(!target.covers(&elsewhere));
    }

    #[test]
    fn zero_and_a_connection_closes_what_the_connection_carries() {
        let target = target("0", "3").expect("valid");
        assert!(target.covers(&session(7, 3)));
        assert!(target.covers(&session(8, 3)));
        assert!(!target.covers(&session(7, 4)));
    }

    #[test]
    fn a_session_with_connection_zero_is_refused_with_655503() {
        let error = target("9876543210987654321", "0").expect_err("refused");
        assert_eq!(error.code.as_deref(), Some("655503"));
        assert_eq!(error.arguments[0].message, "9876543210987654321");
    }
}
