//! An SVM's iSCSI service beyond what ONTAP lets a client change, for testing a client against
//! what a lab cluster does only now and then:
//!
//! - `POST /iscsi/services/{svm_uuid}/counters/reset` restarts its counters from zero, so the next
//!   `statistics` reading is lower than the last and the sample spanning the reset reports
//!   `negative_delta`, as after a counter reset or wrap on a cluster.
//! - `PUT /iscsi/services/{svm_uuid}/counters/base` with `{"base": n}` makes its raw counters count
//!   from `n` (up to 2^64 - 1) until the next reset, so a client meets counters past 2^63.
//! - `PUT /iscsi/services/{svm_uuid}/status` with `{"status": "<word>"}` makes every sample and
//!   reading of the service report that status, documented or not; `DELETE` lets them report
//!   their own again.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{Admin, AdminError, parse_body};
use crate::perf::MetricStatus;

pub(super) async fn reset_counters(
    State(admin): State<Admin>,
    Path(svm_uuid): Path<String>,
) -> Result<StatusCode, AdminError> {
    if admin.cluster.reset_iscsi_counters(&svm_uuid) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AdminError::NoSuchIscsiService(svm_uuid))
    }
}

/// `PUT .../counters/base`, and its answer.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, expecting = "a JSON object with `base`")]
pub(super) struct CounterBase {
    base: u64,
}

pub(super) async fn set_counter_base(
    State(admin): State<Admin>,
    Path(svm_uuid): Path<String>,
    body: Bytes,
) -> Result<Json<CounterBase>, AdminError> {
    let request: CounterBase = parse_body(&body).map_err(AdminError::BadCounterBase)?;
    if admin
        .cluster
        .set_iscsi_counter_base(&svm_uuid, request.base)
    {
        Ok(Json(request))
    } else {
        Err(AdminError::NoSuchIscsiService(svm_uuid))
    }
}

/// `PUT .../status`, and its answer.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, expecting = "a JSON object with `status`")]
pub(super) struct ForcedStatus {
    status: String,
}

/// Reads a status to force: any word, since a client must cope with words newer than it knows,
/// but one word, as ONTAP's are.
fn parse_status(body: &[u8]) -> Result<ForcedStatus, AdminError> {
    let request: ForcedStatus = parse_body(body).map_err(AdminError::BadStatus)?;
    let word = &request.status;
    if word.is_empty() || word.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AdminError::BadStatus(format!(
            "status {word:?} must be one word, such as \"partial_no_uuid\""
        )));
    }
    Ok(request)
}

pub(super) async fn force_status(
    State(admin): State<Admin>,
    Path(svm_uuid): Path<String>,
    body: Bytes,
) -> Result<Json<ForcedStatus>, AdminError> {
    let request = parse_status(&body)?;
    let status = MetricStatus::from(request.status.as_str());
    if admin.cluster.force_iscsi_status(&svm_uuid, status) {
        Ok(Json(request))
    } else {
        Err(AdminError::NoSuchIscsiService(svm_uuid))
    }
}

pub(super) async fn clear_status(
    State(admin): State<Admin>,
    Path(svm_uuid): Path<String>,
) -> Result<StatusCode, AdminError> {
    if admin.cluster.clear_iscsi_status(&svm_uuid) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AdminError::NoSuchIscsiService(svm_uuid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_one_word_is_a_status() {
        for word in ["ok", "partial_no_uuid", "status_from_the_future"] {
            let body = format!(r#"{{"status": "{word}"}}"#);
            assert_eq!(parse_status(body.as_bytes()).expect("valid").status, word);
        }
    }

    #[test]
    fn refusals_name_what_is_wrong() {
        for (body, named) in [
            ("{}", "status"),
            (r#"{"status": ""}"#, "one word"),
            (r#"{"status": "a b"}"#, "one word"),
            (r#"{"status": "a\nb"}"#, "one word"),
            (r#"{"status": 1}"#, "status"),
            (r#"{"status": "ok", "svm": "x"}"#, "svm"),
        ] {
            let message = parse_status(body.as_bytes()).expect_err(body).to_string();
            assert!(message.contains(named), "{body}: {message}");
        }
    }
}
