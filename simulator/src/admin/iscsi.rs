//! `POST /iscsi/services/{svm_uuid}/counters/reset`: restarts an SVM's iSCSI counters from zero,
//! so the next `statistics` reading is lower than the last and the sample spanning the reset
//! reports `negative_delta`, as after a counter reset or wrap on a cluster.

use axum::extract::{Path, State};
use http::StatusCode;

use super::{Admin, AdminError};

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
