//! Wire shapes of `/api/protocols/san/iscsi/services` and its metrics
//! (ontap-rest/iscsi-services.txt).

use serde::{Deserialize, Serialize};

use super::ObjectRef;
use super::path::{ApiPath, CollectionPath};
use jiff::Timestamp;

use super::time::{optional_duration, optional_timestamp};

/// The iSCSI services collection.
pub const SERVICES: CollectionPath = ApiPath::collection("protocols/san/iscsi/services");

/// One service: `/api/protocols/san/iscsi/services/{svm.uuid}`.
pub fn service(svm_uuid: &str) -> ApiPath {
    SERVICES.path().segment(svm_uuid)
}

/// A service's metrics history.
pub fn metrics(svm_uuid: &str) -> ApiPath {
    service(svm_uuid).segment("metrics")
}

/// One sample of a service's metrics history, by its RFC 3339 timestamp.
pub fn metric(svm_uuid: &str, timestamp: Timestamp) -> ApiPath {
    metrics(svm_uuid).segment(&timestamp.to_string())
}

/// An `iscsi_service` record; every field is optional because ONTAP
/// returns only what `fields` asked for.
#[derive(Debug, Default, Deserialize)]
pub struct IscsiServiceRecord {
    /// The owning SVM.
    #[serde(default)]
    pub svm: Option<ObjectRef>,
    /// The administrative state.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// The target.
    #[serde(default)]
    pub target: Option<TargetRecord>,
    /// The latest averages (expensive).
    #[serde(default)]
    pub metric: Option<MetricRecord>,
    /// The raw counters (expensive).
    #[serde(default)]
    pub statistics: Option<StatisticsRecord>,
}

/// `target`.
#[derive(Debug, Default, Deserialize)]
pub struct TargetRecord {
    /// The IQN.
    #[serde(default)]
    pub name: Option<String>,
    /// The alias.
    #[serde(default)]
    pub alias: Option<String>,
}

/// `metric`, and a record of the metrics history.
#[derive(Debug, Default, Deserialize)]
pub struct MetricRecord {
    /// When the sample was taken.
    #[serde(default, deserialize_with = "optional_timestamp")]
    pub timestamp: Option<Timestamp>,
    /// The averaging period, in seconds.
    #[serde(default, deserialize_with = "optional_duration")]
    pub duration: Option<i64>,
    /// ONTAP's status string.
    #[serde(default)]
    pub status: Option<String>,
    /// Operations per second.
    #[serde(default)]
    pub iops: Option<IoTypeRecord<i64>>,
    /// Microseconds per operation.
    #[serde(default)]
    pub latency: Option<IoTypeRecord<i64>>,
    /// Bytes per second.
    #[serde(default)]
    pub throughput: Option<IoTypeRecord<i64>>,
    /// The SVM (history records).
    #[serde(default)]
    pub svm: Option<ObjectRef>,
}

/// `statistics`.
#[derive(Debug, Default, Deserialize)]
pub struct StatisticsRecord {
    /// When the counters were read.
    #[serde(default, deserialize_with = "optional_timestamp")]
    pub timestamp: Option<Timestamp>,
    /// ONTAP's status string.
    #[serde(default)]
    pub status: Option<String>,
    /// Operation counts.
    #[serde(default)]
    pub iops_raw: Option<IoTypeRecord<u64>>,
    /// Summed latency in microseconds.
    #[serde(default)]
    pub latency_raw: Option<IoTypeRecord<u64>>,
    /// Byte counts.
    #[serde(default)]
    pub throughput_raw: Option<IoTypeRecord<u64>>,
}

/// `{read, write, other, total}`: signed rates in `metric`, unsigned 64-bit
/// counters in `statistics` (which may exceed 2^63).
#[derive(Debug, Default, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct IoTypeRecord<T> {
    /// Read operations.
    #[serde(default = "none")]
    pub read: Option<T>,
    /// Write operations.
    #[serde(default = "none")]
    pub write: Option<T>,
    /// Other operations.
    #[serde(default = "none")]
    pub other: Option<T>,
    /// All operations.
    #[serde(default = "none")]
    pub total: Option<T>,
}

/// An absent field, for any `T` (serde's plain `default` would ask `T: Default`).
fn none<T>() -> Option<T> {
    None
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
    fn malformed_timestamp_fails_decoding() {
        let r: Result<MetricRecord, _> = serde_json::from_str(r#"{"timestamp": "yesterday"}"#);
        assert!(r.is_err());
    }

    #[test]
    fn raw_counters_above_two_to_the_63_decode() {
        let r: StatisticsRecord =
            serde_json::from_str(r#"{"iops_raw": {"total": 18446744073709551615}}"#).unwrap();
        assert_eq!(r.iops_raw.unwrap().total, Some(u64::MAX));
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
