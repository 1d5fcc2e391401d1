//! The admin API: fault injection, the counters, the simulated clock, the performance collector's
//! mishaps, slow collections and the CIFS connections over plain HTTP and JSON, so tests in any
//! language (and curl) can make the simulator misbehave, drive what it serves and check what a
//! client did, as Rust tests do through [`Faults`], [`Stats`] and [`SharedCluster`].
//!
//! It is served on a listener of its own, never on the REST port, so no ONTAP client can reach it
//! by accident and its requests never show up in the counters it reports. It has no
//! authentication: bind it to loopback.
//!
//! | Request                                             | Answer                                                   |
//! |-----------------------------------------------------|----------------------------------------------------------|
//! | `POST /faults`                                      | 201 `{"id": N}`, `Location: /faults/N`; 400 if malformed |
//! | `GET /faults`                                       | 200, the pending faults in the order they apply          |
//! | `DELETE /faults`                                    | 204, every fault removed                                 |
//! | `DELETE /faults/{id}`                               | 204; 404 if no pending fault has that id                 |
//! | `GET /stats`                                        | 200, the counters, with `per_path` for each request path |
//! | `GET /stats/svm-requests`                           | 200 `{"<svm>": {"<user>": n}}`: requests by SVM, user    |
//! | `POST /stats/reset`                                 | 204, counting starts afresh (per SVM too)                |
//! | `POST /accounts`                                    | 201 `{"username", "role"}`; 400; 409 if the name exists  |
//! | `GET /clock`                                        | 200 `{"now": "<RFC 3339>", "pinned": bool}`              |
//! | `POST /clock`                                       | 200, the clock after the change; 400 if malformed        |
//! | `POST /iscsi/services/{svm_uuid}/counters/reset`    | 204; 404 if the SVM has no iSCSI service                 |
//! | `PUT /iscsi/services/{svm_uuid}/counters/base`      | 200 `{"base": n}`; 400; 404 as above                     |
//! | `PUT /iscsi/services/{svm_uuid}/status`             | 200 `{"status": "<word>"}`; 400; 404 as above            |
//! | `DELETE /iscsi/services/{svm_uuid}/status`          | 204, samples report their own status; 404 as above       |
//! | `PUT /collector/nodes/{node_uuid}`                  | 200 `{"node_uuid", "responding"}`; 400; 404 if no node   |
//! | `POST /collector/backfill`                          | 200 `{"collection": "<RFC 3339>"}`, the one missed       |
//! | `GET /iteration-costs`                              | 200 `{"default_ms": n, "paths": {"<path>": n}}`          |
//! | `PUT /iteration-costs`                              | 200, the costs after the change; 400 if malformed        |
//! | `GET /cifs/connections`                             | 200, the connections as the model holds them             |
//! | `POST /cifs/connections`                            | 201, the connection, `Location`; 400 if refused          |
//! | `DELETE /cifs/connections/{node_uuid}/{identifier}` | 204; 404 if the node has no such connection              |
//! | `GET /cifs/churn`                                   | 200 `{"per_minute": x, "seed": n, "events": n}`          |
//! | `PUT /cifs/churn`                                   | 200, the churn after the change; 400 if malformed        |
//!
//! A fault is one JSON object: `kind`, the kind's own fields, and optionally `method`,
//! `path_prefix` and `times` (see [`FaultRequest`] and [`KindJson`]). The accounts, clock, iSCSI,
//! collector, iteration-cost and CIFS endpoints, and the bodies they take, are in submodules of
//! their own.

mod accounts;
mod cifs;
mod clock;
mod collector;
mod iscsi;
mod iteration;

use std::collections::BTreeMap;
use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use http::{HeaderValue, Method, StatusCode, header};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::accounts::Accounts;
use crate::faults::{Fault, FaultKind, Faults};
use crate::http::stats::{PathStats, Stats, StatsSnapshot};
use crate::http::svm_requests::BySvm;
use crate::resources::model::SharedCluster;

/// The admin API's routes, on the simulator's own fault list, counters, cluster and accounts.
pub fn router(
    faults: Faults,
    stats: Arc<Stats>,
    cluster: SharedCluster,
    accounts: Accounts,
) -> Router {
    Router::new()
        .route(
            "/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/faults/release", post(release_held))
        .route("/faults/{id}", delete(remove_fault))
        .route("/stats", get(read_stats))
        .route("/stats/svm-requests", get(read_svm_requests))
        .route("/stats/reset", post(reset_stats))
        .route("/accounts", post(accounts::add))
        .route("/clock", get(clock::read).post(clock::change))
        .route(
            "/iscsi/services/{svm_uuid}/counters/reset",
            post(iscsi::reset_counters),
        )
        .route(
            "/iscsi/services/{svm_uuid}/counters/base",
            put(iscsi::set_counter_base),
        )
        .route(
            "/iscsi/services/{svm_uuid}/status",
            put(iscsi::force_status).delete(iscsi::clear_status),
        )
        .route("/collector/nodes/{node_uuid}", put(collector::set_node))
        .route("/collector/backfill", post(collector::backfill))
        .route("/iteration-costs", get(iteration::read).put(iteration::set))
        .route("/cifs/connections", get(cifs::list).post(cifs::add))
        .route(
            "/cifs/connections/{node_uuid}/{identifier}",
            delete(cifs::remove),
        )
        .route("/cifs/churn", get(cifs::read_churn).put(cifs::set_churn))
        .fallback(|| async { AdminError::NoSuchEndpoint })
        .with_state(Admin {
            faults,
            stats,
            cluster,
            accounts,
        })
}

#[derive(Clone)]
struct Admin {
    faults: Faults,
    stats: Arc<Stats>,
    cluster: SharedCluster,
    accounts: Accounts,
}

/// Why an admin request failed; the body is `{"error": "<this message>"}`.
#[derive(Debug, thiserror::Error)]
enum AdminError {
    #[error("bad fault: {0}")]
    BadFault(String),
    #[error("no pending fault has id {0}")]
    NoSuchFault(String),
    #[error("bad clock request: {0}")]
    BadClock(String),
    #[error("no iSCSI service on SVM {0:?}")]
    NoSuchIscsiService(String),
    #[error("bad counter base: {0}")]
    BadCounterBase(String),
    #[error("bad status: {0}")]
    BadStatus(String),
    #[error("bad node state: {0}")]
    BadNode(String),
    #[error("no node has UUID {0:?}")]
    NoSuchNode(String),
    #[error("bad iteration cost: {0}")]
    BadIterationCost(String),
    #[error("bad CIFS connection: {0}")]
    BadConnection(String),
    #[error("node {node_uuid:?} has no CIFS connection with identifier {identifier:?}")]
    NoSuchConnection {
        node_uuid: String,
        identifier: String,
    },
    #[error("bad CIFS churn: {0}")]
    BadChurn(String),
    #[error("bad account: {0}")]
    BadAccount(String),
    #[error("an account named {0:?} exists already")]
    AccountExists(String),
    #[error(
        "no such admin endpoint (there are /faults, /faults/release, /faults/{{id}}, /stats, \
         /stats/svm-requests, /stats/reset, /accounts, /clock, \
         /iscsi/services/{{svm_uuid}}/counters/reset, /iscsi/services/{{svm_uuid}}/counters/base, \
         /iscsi/services/{{svm_uuid}}/status, /collector/nodes/{{node_uuid}}, \
         /collector/backfill, /iteration-costs, /cifs/connections, \
         /cifs/connections/{{node_uuid}}/{{identifier}} and /cifs/churn)"
    )]
    NoSuchEndpoint,
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let status = match self {
            AdminError::BadFault(_)
            | AdminError::BadClock(_)
            | AdminError::BadCounterBase(_)
            | AdminError::BadStatus(_)
            | AdminError::BadNode(_)
            | AdminError::BadIterationCost(_)
            | AdminError::BadConnection(_)
            | AdminError::BadChurn(_)
            | AdminError::BadAccount(_) => StatusCode::BAD_REQUEST,
            AdminError::AccountExists(_) => StatusCode::CONFLICT,
            AdminError::NoSuchFault(_)
            | AdminError::NoSuchIscsiService(_)
            | AdminError::NoSuchNode(_)
            | AdminError::NoSuchConnection { .. }
            | AdminError::NoSuchEndpoint => StatusCode::NOT_FOUND,
        };
        (status, Json(json!({ "error": self.to_string() }))).into_response()
    }
}

/// Reads a request body as one JSON value of `T` and nothing after it; a refusal is serde's
/// message, naming the field at fault.
fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let mut json = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut json).map_err(|error| error.to_string())?;
    json.end().map_err(|error| error.to_string())?;
    Ok(value)
}

/// A 201 with `body` and `Location: location`.
fn created(location: &str, body: impl Serialize) -> Response {
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// A fault as `POST /faults` takes it. The kind's part is kept as raw JSON and read on its own, so
/// that a misspelt field of the kind is refused rather than ignored (serde cannot deny unknown
/// fields through `flatten`).
#[derive(Deserialize)]
#[serde(expecting = "a fault: a JSON object with `kind`")]
struct FaultRequest {
    /// Only requests with this method (any case); absent: any.
    method: Option<String>,
    /// Only requests whose path starts with this; absent: any.
    path_prefix: Option<String>,
    /// The next this many matching requests; absent: until cleared.
    times: Option<NonZeroU32>,
    /// `kind` and its fields.
    #[serde(flatten)]
    kind: Map<String, Value>,
}

/// A pending fault as `GET /faults` lists it: the request's shape, plus its id, with `times`
/// counting down as the fault is used.
#[derive(Serialize)]
struct ListedFault {
    id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    times: Option<u32>,
    #[serde(flatten)]
    kind: KindJson,
}

/// [`FaultKind`] in JSON: `kind` beside the kind's own fields. Durations are whole
/// milliseconds; `truncate` is [`FaultKind::Disconnect`], named for what the client sees.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum KindJson {
    Delay(DelayFields),
    Error(ErrorFields),
    Raw(RawFields),
    Reset,
    Truncate,
    Drip(DripFields),
    Oversized(OversizedFields),
    Hold,
    Busy(BusyFields),
}

/// The kinds, for the message that refuses any other.
const KINDS: &str = "delay, error, raw, reset, truncate, drip, oversized, hold, busy";

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DelayFields {
    delay_ms: u64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorFields {
    status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFields {
    status: u16,
    content_type: String,
    body: String,
}

/// What `reset` and `truncate` take: nothing, so a stray field is refused rather than ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoFields {}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DripFields {
    chunk_bytes: NonZeroUsize,
    interval_ms: u64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OversizedFields {
    bytes: usize,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BusyFields {
    status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after_s: Option<u64>,
}

impl KindJson {
    /// Dispatches on `kind` by hand rather than through serde's internal tagging, which buffers
    /// the fields and so loses the name of the one that failed.
    fn parse(mut fields: Map<String, Value>) -> Result<KindJson, AdminError> {
        let kind = match fields.remove("kind") {
            Some(Value::String(kind)) => kind,
            Some(other) => {
                return Err(AdminError::BadFault(format!(
                    "kind: expected one of {KINDS}, not {other}"
                )));
            }
            None => {
                return Err(AdminError::BadFault(format!(
                    "missing field `kind` (one of {KINDS})"
                )));
            }
        };
        Ok(match kind.as_str() {
            "delay" => KindJson::Delay(read(fields)?),
            "error" => KindJson::Error(read(fields)?),
            "raw" => KindJson::Raw(read(fields)?),
            "reset" => read::<NoFields>(fields).map(|_| KindJson::Reset)?,
            "truncate" => read::<NoFields>(fields).map(|_| KindJson::Truncate)?,
            "drip" => KindJson::Drip(read(fields)?),
            "oversized" => KindJson::Oversized(read(fields)?),
            "hold" => read::<NoFields>(fields).map(|_| KindJson::Hold)?,
            "busy" => KindJson::Busy(read(fields)?),
            other => {
                return Err(AdminError::BadFault(format!(
                    "kind: unknown kind {other:?}, expected one of {KINDS}"
                )));
            }
        })
    }

    /// The Rust API lets an invalid status or content type through (as 500, or no header); a
    /// request over HTTP is refused instead, since its sender is there to read why.
    fn into_kind(self) -> Result<FaultKind, AdminError> {
        Ok(match self {
            KindJson::Delay(DelayFields { delay_ms }) => {
                FaultKind::Delay(Duration::from_millis(delay_ms))
            }
            KindJson::Error(ErrorFields {
                status,
                code,
                message,
                target,
            }) => FaultKind::Error {
                status: http_status(status)?,
                code,
                message,
                target,
            },
            KindJson::Raw(RawFields {
                status,
                content_type,
                body,
            }) => {
                if HeaderValue::from_str(&content_type).is_err() {
                    return Err(AdminError::BadFault(format!(
                        "content_type {content_type:?} is not a valid header value"
                    )));
                }
                FaultKind::Raw {
                    status: http_status(status)?,
                    content_type,
                    body: body.into_bytes(),
                }
            }
            KindJson::Reset => FaultKind::Reset,
            KindJson::Truncate => FaultKind::Disconnect,
            KindJson::Hold => FaultKind::Hold,
            KindJson::Busy(BusyFields {
                status,
                retry_after_s,
            }) => FaultKind::Busy {
                status: http_status(status)?,
                retry_after: retry_after_s.map(Duration::from_secs),
            },
            KindJson::Drip(DripFields {
                chunk_bytes,
                interval_ms,
            }) => FaultKind::Drip {
                chunk_bytes,
                interval: Duration::from_millis(interval_ms),
            },
            KindJson::Oversized(OversizedFields { bytes }) => FaultKind::Oversized { bytes },
        })
    }
}

impl From<&FaultKind> for KindJson {
    /// A raw body that is not UTF-8 (only the Rust API can push one) is listed lossily.
    fn from(kind: &FaultKind) -> KindJson {
        match kind {
            FaultKind::Delay(delay) => KindJson::Delay(DelayFields {
                delay_ms: millis(*delay),
            }),
            FaultKind::Error {
                status,
                code,
                message,
                target,
            } => KindJson::Error(ErrorFields {
                status: *status,
                code: code.clone(),
                message: message.clone(),
                target: target.clone(),
            }),
            FaultKind::Raw {
                status,
                content_type,
                body,
            } => KindJson::Raw(RawFields {
                status: *status,
                content_type: content_type.clone(),
                body: String::from_utf8_lossy(body).into_owned(),
            }),
            FaultKind::Oversized { bytes } => {
                KindJson::Oversized(OversizedFields { bytes: *bytes })
            }
            FaultKind::Disconnect => KindJson::Truncate,
            FaultKind::Reset => KindJson::Reset,
            FaultKind::Hold => KindJson::Hold,
            FaultKind::Busy {
                status,
                retry_after,
            } => KindJson::Busy(BusyFields {
                status: *status,
                retry_after_s: retry_after.map(|wait| wait.as_secs()),
            }),
            FaultKind::Drip {
                chunk_bytes,
                interval,
            } => KindJson::Drip(DripFields {
                chunk_bytes: *chunk_bytes,
                interval_ms: millis(*interval),
            }),
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn http_status(status: u16) -> Result<u16, AdminError> {
    match StatusCode::from_u16(status) {
        Ok(_) => Ok(status),
        Err(_) => Err(AdminError::BadFault(format!(
            "status {status} is not an HTTP status code"
        ))),
    }
}

/// Reads a kind's fields; a refusal is serde's message prefixed with the field it is about.
fn read<T: DeserializeOwned>(fields: Map<String, Value>) -> Result<T, AdminError> {
    serde_path_to_error::deserialize(Value::Object(fields))
        .map_err(|error| AdminError::BadFault(error.to_string()))
}

/// Reads a fault; every refusal names the field at fault.
fn parse_fault(body: &[u8]) -> Result<Fault, AdminError> {
    let request: FaultRequest = parse_body(body).map_err(AdminError::BadFault)?;
    let kind = KindJson::parse(request.kind)?;
    let method = request.method.as_deref().map(http_method).transpose()?;
    if let Some(prefix) = &request.path_prefix
        && !prefix.starts_with('/')
    {
        return Err(AdminError::BadFault(format!(
            "path_prefix {prefix:?} must start with /"
        )));
    }
    Ok(Fault {
        method,
        path_prefix: request.path_prefix,
        kind: kind.into_kind()?,
        times: request.times.map(NonZeroU32::get),
    })
}

/// Methods are case-sensitive in HTTP, but a lowercase `get` meant GET, not a fault that never
/// matches.
fn http_method(method: &str) -> Result<Method, AdminError> {
    Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| AdminError::BadFault(format!("method {method:?} is not an HTTP method")))
}

async fn add_fault(State(admin): State<Admin>, body: Bytes) -> Result<Response, AdminError> {
    let id = admin.faults.push(parse_fault(&body)?);
    Ok(created(&format!("/faults/{id}"), json!({ "id": id })))
}

async fn list_faults(State(admin): State<Admin>) -> Json<Vec<ListedFault>> {
    let listed = admin
        .faults
        .list()
        .into_iter()
        .map(|(id, fault)| ListedFault {
            id,
            method: fault.method.as_ref().map(ToString::to_string),
            path_prefix: fault.path_prefix,
            times: fault.times,
            kind: KindJson::from(&fault.kind),
        })
        .collect();
    Json(listed)
}

async fn clear_faults(State(admin): State<Admin>) -> StatusCode {
    admin.faults.clear();
    StatusCode::NO_CONTENT
}

async fn release_held(State(admin): State<Admin>) -> StatusCode {
    admin.faults.release();
    StatusCode::NO_CONTENT
}

/// The id is taken as text so that a malformed one gets the same 404 body as an unknown one.
async fn remove_fault(
    State(admin): State<Admin>,
    Path(id): Path<String>,
) -> Result<StatusCode, AdminError> {
    match id.parse() {
        Ok(number) if admin.faults.remove(number) => Ok(StatusCode::NO_CONTENT),
        _ => Err(AdminError::NoSuchFault(id)),
    }
}

/// `GET /stats`: the totals at the top level, as [`StatsSnapshot`] names them.
#[derive(Serialize)]
struct StatsJson {
    #[serde(flatten)]
    totals: StatsSnapshot,
    per_path: BTreeMap<String, PathStats>,
}

async fn read_stats(State(admin): State<Admin>) -> Json<StatsJson> {
    Json(StatsJson {
        totals: admin.stats.snapshot(),
        per_path: admin.stats.paths(),
    })
}

async fn read_svm_requests(State(admin): State<Admin>) -> Json<BySvm> {
    Json(admin.stats.svm_requests().snapshot())
}

async fn reset_stats(State(admin): State<Admin>) -> StatusCode {
    admin.stats.reset();
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(body: &str) -> String {
        match parse_fault(body.as_bytes()) {
            Ok(fault) => panic!("{body} was accepted as {fault:?}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn a_full_fault_reads_into_the_rust_fault() {
        let fault = parse_fault(
            br#"{"kind": "error", "status": 503, "code": "9", "message": "busy",
                 "method": "get", "path_prefix": "/api/protocols", "times": 2}"#,
        )
        .expect("valid");
        assert_eq!(
            fault,
            Fault {
                method: Some(Method::GET),
                path_prefix: Some("/api/protocols".into()),
                kind: FaultKind::Error {
                    status: 503,
                    code: Some("9".into()),
                    message: "busy".into(),
                    target: None,
                },
                times: Some(2),
            }
        );
    }

    #[test]
    fn every_kind_lists_as_it_was_posted() {
        for posted in [
            json!({"kind": "delay", "delay_ms": 250}),
            json!({"kind": "error", "status": 500, "message": "boom", "target": "svm.name"}),
            json!({"kind": "raw", "status": 502, "content_type": "text/html", "body": "<html>"}),
            json!({"kind": "reset"}),
            json!({"kind": "truncate"}),
            json!({"kind": "drip", "chunk_bytes": 16, "interval_ms": 100}),
            json!({"kind": "oversized", "bytes": 1_000_000}),
            json!({"kind": "hold"}),
            json!({"kind": "busy", "status": 503, "retry_after_s": 2}),
            json!({"kind": "busy", "status": 429}),
        ] {
            let fault = parse_fault(posted.to_string().as_bytes()).expect("valid");
            let listed = serde_json::to_value(KindJson::from(&fault.kind)).expect("JSON");
            assert_eq!(listed, posted);
        }
    }

    #[test]
    fn refusals_name_the_field_at_fault() {
        for (body, named) in [
            (r#"{"kind": "explode"}"#, "explode"),
            (r#"{"delay_ms": 5}"#, "kind"),
            (r#"{"kind": "delay"}"#, "delay_ms"),
            (
                r#"{"kind": "delay", "delay_ms": 5, "delay_sec": 1}"#,
                "delay_sec",
            ),
            (r#"{"kind": "delay", "delay_ms": "5"}"#, "delay_ms"),
            (r#"{"kind": "reset", "times": 0}"#, "times"),
            (
                r#"{"kind": "drip", "chunk_bytes": 0, "interval_ms": 1}"#,
                "chunk_bytes",
            ),
            (r#"{"kind": "reset", "method": "GE T"}"#, "method"),
            (r#"{"kind": "reset", "path_prefix": "api"}"#, "path_prefix"),
            (
                r#"{"kind": "error", "status": 1000, "message": "x"}"#,
                "status",
            ),
            (
                r#"{"kind": "raw", "status": 200, "content_type": "a\nb", "body": ""}"#,
                "content_type",
            ),
            (r#"{"kind": "reset"} trailing"#, "trailing"),
            ("not json", "expected"),
            ("[1]", "a JSON object with `kind`"),
        ] {
            let message = refusal(body);
            assert!(message.contains(named), "{body}: {message}");
        }
    }
}
