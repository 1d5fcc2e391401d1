//! `.../services/{svm.uuid}/metrics` (a sample series) and `.../metrics/{timestamp}` (one
//! sample).
//!
//! Checks run in this order: the query (400), the SVM and its service (404), the cluster's
//! `metrics_failure` switch (500), then whether any sample exists (404).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use http::{HeaderMap, Uri};
use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::http::media::Media;
use crate::http::params;
use crate::perf::workload::Workload;
use crate::perf::{self, Interval, Timeline};
use crate::query::collection;
use crate::query::instance;
use crate::query::schema::{FieldSpec, FieldType, LinkSpec, Schema};
use crate::resources::iscsi::service::sample_json;
use crate::resources::iscsi::{self, PATH as SERVICES};
use crate::resources::model::SharedCluster;
use crate::time;
use crate::time::clock::unix_secs;

/// Route of a service's sample series.
pub const PATH: &str = "/api/protocols/san/iscsi/services/{svm_uuid}/metrics";
/// Route of one sample.
pub const SAMPLE_PATH: &str = "/api/protocols/san/iscsi/services/{svm_uuid}/metrics/{timestamp}";

const INTERVAL: &str = "interval";

const FIELDS: &[FieldSpec] = &[
    FieldSpec::new("timestamp", FieldType::DateTime),
    FieldSpec::new("duration", FieldType::Duration),
    FieldSpec::new("status", FieldType::String),
    FieldSpec::new("iops.read", FieldType::Integer),
    FieldSpec::new("iops.write", FieldType::Integer),
    FieldSpec::new("iops.other", FieldType::Integer),
    FieldSpec::new("iops.total", FieldType::Integer),
    FieldSpec::new("latency.read", FieldType::Integer),
    FieldSpec::new("latency.write", FieldType::Integer),
    FieldSpec::new("latency.other", FieldType::Integer),
    FieldSpec::new("latency.total", FieldType::Integer),
    FieldSpec::new("throughput.read", FieldType::Integer),
    FieldSpec::new("throughput.write", FieldType::Integer),
    FieldSpec::new("throughput.total", FieldType::Integer),
    FieldSpec::new("svm.uuid", FieldType::String),
];

/// `_links.self` of a sample: its own endpoint, named by the sample's RFC 3339 timestamp.
const SAMPLE_LINK: LinkSpec = LinkSpec {
    object: "",
    href: sample_href,
};

/// A service's samples. A request without `fields` gets every field: a sample is a handful of
/// numbers, and a series without its values is of no use. Newest first by default, as ONTAP
/// lists performance history.
pub const SCHEMA: Schema = Schema {
    path: "/api/protocols/san/iscsi/services/{svm.uuid}/metrics",
    fields: FIELDS,
    key_fields: &["svm.uuid", "timestamp"],
    default_fields: &["*"],
    identity: &["timestamp"],
    default_order: &["timestamp desc"],
    parameters: &[INTERVAL],
    links: &[SAMPLE_LINK],
    path_keys: &[],
};

fn sample_href(record: &Value, _: &Value) -> Option<String> {
    let svm_uuid = record.get("svm")?.get("uuid")?.as_str()?;
    let timestamp = time::parse_timestamp(record.get("timestamp")?.as_str()?)?;
    Some(format!(
        "{SERVICES}/{svm_uuid}/metrics/{}",
        time::format_rfc3339(timestamp)
    ))
}

/// Lists the samples of one interval (`1h` by default).
pub async fn list(
    State(cluster): State<SharedCluster>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let interval = match interval(&uri) {
        Ok(interval) => interval,
        Err(error) => return error.into_response_as(Media::from_headers(&headers)),
    };
    let record_cost = cluster.iteration_cost(uri.path());
    collection::get_with(&SCHEMA, &uri, &headers, record_cost, || {
        let svm_uuid = iscsi::svm_uuid_from(path)?;
        let (workload, timeline, now) = performance(&cluster, &svm_uuid)?;
        let series = perf::history(&workload, &timeline, now, interval);
        if series.is_empty() {
            return Err(ApiError::no_metrics());
        }
        Ok(series
            .iter()
            .map(|sample| record(&svm_uuid, sample))
            .collect())
    })
}

/// Retrieves the sample ending at `{timestamp}` from the finest series that has one.
pub async fn get(
    State(cluster): State<SharedCluster>,
    path: Result<Path<(String, String)>, PathRejection>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    instance::get(&SCHEMA, &uri, &headers, || {
        let Path((svm_uuid, timestamp)) = path.map_err(|rejection| {
            ApiError::invalid_value("timestamp", "", &rejection.body_text())
        })?;
        let at = time::parse_path_timestamp(&timestamp).ok_or_else(|| {
            ApiError::invalid_value("timestamp", &timestamp, "expected a date-time")
        })?;
        let (workload, timeline, now) = performance(&cluster, &svm_uuid)?;
        perf::sample_at(&workload, &timeline, now, at)
            .map(|sample| record(&svm_uuid, &sample))
            .ok_or_else(ApiError::no_metrics)
    })
}

/// What the samples are computed from, copied out so the lock is not held while computing.
fn performance(
    cluster: &SharedCluster,
    svm_uuid: &str,
) -> Result<(Workload, Timeline, i64), ApiError> {
    let now = unix_secs(cluster.now());
    cluster.with(|c| {
        let service = iscsi::existing(c, svm_uuid)?;
        if c.metrics_failure {
            return Err(ApiError::metrics_failed());
        }
        Ok((service.workload(), c.iscsi_timeline(service), now))
    })
}

fn record(svm_uuid: &str, sample: &perf::Sample) -> Value {
    let mut record = sample_json(sample);
    if let Value::Object(map) = &mut record {
        map.insert("svm".to_owned(), json!({ "uuid": svm_uuid }));
    }
    record
}

/// The `interval` parameter (the last one wins if repeated).
fn interval(uri: &Uri) -> Result<Interval, ApiError> {
    let mut interval = Interval::Hour;
    for (name, value) in params::decode(uri.query()) {
        if name == INTERVAL {
            interval = Interval::parse(&value).ok_or_else(|| {
                ApiError::invalid_value(INTERVAL, &value, "expected 1h, 1d, 1w, 1m or 1y")
            })?;
        }
    }
    Ok(interval)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_defaults_to_an_hour_and_rejects_unknown_values() {
        let uri: Uri = "/x?max_records=1".parse().expect("uri");
        assert_eq!(interval(&uri).expect("valid"), Interval::Hour);
        let uri: Uri = "/x?interval=1y".parse().expect("uri");
        assert_eq!(interval(&uri).expect("valid"), Interval::Year);
        let uri: Uri = "/x?interval=2d".parse().expect("uri");
        let error = interval(&uri).expect_err("invalid");
        assert_eq!(error.code.as_deref(), Some("262197"));
        assert_eq!(error.target.as_deref(), Some("interval"));
    }

    #[test]
    fn sample_link_names_the_sample_in_rfc3339() {
        let record = json!({
            "svm": {"uuid": "u"},
            "timestamp": "2026-01-01T00:15:00Z",
        });
        assert_eq!(
            sample_href(&record, &record).as_deref(),
            Some("/api/protocols/san/iscsi/services/u/metrics/2026-01-01T00:15:00Z")
        );
    }
}
