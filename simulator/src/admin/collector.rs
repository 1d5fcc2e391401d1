//! The performance collector's mishaps, on demand, so a client can be tested against the sample
//! statuses they cause without waiting for a cluster to have them:
//!
//! - `PUT /collector/nodes/{node_uuid}` with `{"responding": false}` makes the node stop answering
//!   the collector from now: readings and the samples spanning the outage report
//!   `partial_no_response`, and the first sample after it answers again (`{"responding": true}`)
//!   `inconsistent_delta_time`. The answer is `{"node_uuid": "...", "responding": bool}`.
//! - `POST /collector/backfill` makes the collector miss the collection due at the next 15-second
//!   boundary and make it up later, so every sample holding it reports `backfilled_data`. The
//!   answer names that collection: `{"collection": "<RFC 3339>"}`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

use super::{Admin, AdminError, parse_body};
use crate::time::clock::unix_secs;
use crate::time::format_rfc3339;

/// `PUT /collector/nodes/{node_uuid}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a JSON object with `responding`")]
struct NodeRequest {
    responding: bool,
}

/// A node as the collector sees it.
#[derive(Debug, Serialize)]
pub(super) struct NodeJson {
    node_uuid: String,
    responding: bool,
}

pub(super) async fn set_node(
    State(admin): State<Admin>,
    Path(node_uuid): Path<String>,
    body: Bytes,
) -> Result<Json<NodeJson>, AdminError> {
    let request: NodeRequest = parse_body(&body).map_err(AdminError::BadNode)?;
    if admin
        .cluster
        .set_node_responding(&node_uuid, request.responding)
    {
        Ok(Json(NodeJson {
            node_uuid,
            responding: request.responding,
        }))
    } else {
        Err(AdminError::NoSuchNode(node_uuid))
    }
}

/// The collection `POST /collector/backfill` made the collector miss.
#[derive(Debug, Serialize)]
pub(super) struct Backfilled {
    collection: String,
}

pub(super) async fn backfill(State(admin): State<Admin>) -> Json<Backfilled> {
    let missed = admin.cluster.backfill_next_collection();
    Json(Backfilled {
        collection: format_rfc3339(unix_secs(missed)),
    })
}
