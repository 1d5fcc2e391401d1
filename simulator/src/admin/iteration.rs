//! `GET /iteration-costs` and `PUT /iteration-costs`: how much simulated time gathering one record
//! of a collection takes, so a collection can be made slow enough for `return_timeout` (15 s by
//! default) to cut its pages short, each page then linking the rest, as ONTAP returns early. No
//! real time passes.
//!
//! Both answer `{"default_ms": n, "paths": {"<collection path>": n}}`: the cost of collections
//! without one of their own, and each path's own, in milliseconds per record. `PUT` takes
//! `{"per_record_ms": n}` to set the default, or with `"path": "/api/..."` (a request path as sent,
//! without its query) to set that collection's own, zero included.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::{Admin, AdminError, millis, parse_body};

/// `PUT /iteration-costs`.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a JSON object with `per_record_ms` and optionally `path`"
)]
struct CostRequest {
    per_record_ms: u64,
    path: Option<String>,
}

/// The costs as both requests answer them.
#[derive(Debug, Serialize)]
pub(super) struct CostsJson {
    default_ms: u64,
    paths: BTreeMap<String, u64>,
}

fn costs_json(admin: &Admin) -> CostsJson {
    let (default, by_path) = admin.cluster.iteration_costs();
    CostsJson {
        default_ms: millis(default),
        paths: by_path
            .into_iter()
            .map(|(path, cost)| (path, millis(cost)))
            .collect(),
    }
}

fn parse_cost(body: &[u8]) -> Result<CostRequest, AdminError> {
    let request: CostRequest = parse_body(body).map_err(AdminError::BadIterationCost)?;
    if let Some(path) = &request.path
        && !path.starts_with('/')
    {
        return Err(AdminError::BadIterationCost(format!(
            "path {path:?} must start with /, as a request path does"
        )));
    }
    Ok(request)
}

pub(super) async fn read(State(admin): State<Admin>) -> Json<CostsJson> {
    Json(costs_json(&admin))
}

pub(super) async fn set(
    State(admin): State<Admin>,
    body: Bytes,
) -> Result<Json<CostsJson>, AdminError> {
    let request = parse_cost(&body)?;
    let per_record = Duration::from_millis(request.per_record_ms);
    match &request.path {
        Some(path) => admin.cluster.set_iteration_cost(path, per_record),
        None => admin.cluster.set_default_iteration_cost(per_record),
    }
    Ok(Json(costs_json(&admin)))
}
