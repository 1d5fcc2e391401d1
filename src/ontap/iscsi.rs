//! Where `/api/protocols/san/iscsi/services` and its metrics live, and the
//! bodies the gateway sends there (ontap-rest/iscsi-services.txt). Records
//! ONTAP answers with read straight into the proto messages
//! (`translate::wire`).

use jiff::Timestamp;
use serde::Serialize;

use super::path::{ApiPath, CollectionPath};

/// The iSCSI services collection.
pub const SERVICES: CollectionPath = ApiPath::collection("/api/protocols/san/iscsi/services");

/// One service: `/api/protocols/san/iscsi/services/{svm.uuid}`.
pub fn service(svm_uuid: &str) -> ApiPath {
    SERVICES
        .path()
        .segment(svm_uuid, "/api/protocols/san/iscsi/services/{svm.uuid}")
}

/// A service's metrics history.
pub fn metrics(svm_uuid: &str) -> ApiPath {
    service(svm_uuid).segment(
        "metrics",
        "/api/protocols/san/iscsi/services/{svm.uuid}/metrics",
    )
}

/// One sample of a service's metrics history, by its RFC 3339 timestamp.
pub fn metric(svm_uuid: &str, timestamp: Timestamp) -> ApiPath {
    metrics(svm_uuid).segment(
        &timestamp.to_string(),
        "/api/protocols/san/iscsi/services/{svm.uuid}/metrics/{timestamp}",
    )
}

/// The body of POST: the SVM by name and/or UUID, and the optional settings.
#[derive(Debug, Default, Serialize)]
pub struct CreateBody {
    /// The SVM.
    pub svm: SvmSelector,
    /// Administrative state; ONTAP defaults to true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Target settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetBody>,
}

/// The body of PATCH: only what changes.
#[derive(Debug, Default, Serialize)]
pub struct UpdateBody {
    /// New administrative state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// New target settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetBody>,
}

/// `svm` in a request body.
#[derive(Debug, Default, Serialize)]
pub struct SvmSelector {
    /// The SVM's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The SVM's UUID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
}

/// `target` in a request body; only the alias is writable.
#[derive(Debug, Default, Serialize)]
pub struct TargetBody {
    /// The alias; `""` clears it in PATCH.
    pub alias: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_encode_the_svm_uuid_as_one_segment() {
        assert_eq!(
            service("a/b?c").as_str(),
            "/api/protocols/san/iscsi/services/a%2Fb%3Fc"
        );
    }

    #[test]
    fn metric_path_carries_an_encoded_rfc3339_timestamp() {
        let t = super::super::time::parse_timestamp("2017-01-25 11:20:15 +0000").unwrap();
        assert_eq!(
            metric("u", t).as_str(),
            "/api/protocols/san/iscsi/services/u/metrics/2017-01-25T11%3A20%3A15Z"
        );
    }

    #[test]
    fn update_body_sends_only_what_changes() {
        let body = UpdateBody {
            enabled: Some(false),
            target: None,
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"enabled":false}"#
        );
    }
}
