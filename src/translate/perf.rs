//! Performance blocks, shared by a service's live `metric`/`statistics`
//! and its metrics history: ONTAP's JSON onto the common proto messages.

use super::refs;
use super::schema::Selection;
use crate::ontap::iscsi::{IoTypeRecord, MetricRecord, StatisticsRecord};
use crate::ontap::time::Instant;
use crate::proto::v1::{IoTypeMetric, MetricStatus, PerformanceMetric, PerformanceMetricRaw};

/// Every status word the pages and notes document.
pub const STATUS_WORDS: &[&str] = &[
    "ok",
    "error",
    "partial_no_data",
    "partial_no_response",
    "partial_other_error",
    "negative_delta",
    "not_found",
    "backfilled_data",
    "inconsistent_delta_time",
    "inconsistent_old_data",
    "partial_no_uuid",
];

/// ONTAP's status word; a word this gateway does not know yet is
/// UNSPECIFIED rather than a failed call.
pub fn status(word: &str) -> MetricStatus {
    match word {
        "ok" => MetricStatus::Ok,
        "error" => MetricStatus::Error,
        "partial_no_data" => MetricStatus::PartialNoData,
        "partial_no_response" => MetricStatus::PartialNoResponse,
        "partial_other_error" => MetricStatus::PartialOtherError,
        "negative_delta" => MetricStatus::NegativeDelta,
        "not_found" => MetricStatus::NotFound,
        "backfilled_data" => MetricStatus::BackfilledData,
        "inconsistent_delta_time" => MetricStatus::InconsistentDeltaTime,
        "inconsistent_old_data" => MetricStatus::InconsistentOldData,
        "partial_no_uuid" => MetricStatus::PartialNoUuid,
        _ => MetricStatus::Unspecified,
    }
}

/// A timestamp for the proto.
pub fn timestamp(instant: Instant) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: instant.seconds,
        nanos: i32::try_from(instant.nanos).unwrap_or(0),
    }
}

/// A sample, keeping only what `selection` (relative to the sample) holds.
pub fn metric(record: MetricRecord, selection: &Selection) -> PerformanceMetric {
    let keep = |path: &str| selection.includes(path);
    PerformanceMetric {
        timestamp: record
            .timestamp
            .filter(|_| keep("timestamp"))
            .map(timestamp),
        duration: record
            .duration
            .filter(|_| keep("duration"))
            .map(|seconds| prost_types::Duration { seconds, nanos: 0 }),
        status: record
            .status
            .filter(|_| keep("status"))
            .map(|w| status(&w) as i32),
        iops: io(record.iops, "iops", selection),
        latency: io(record.latency, "latency", selection),
        throughput: io(record.throughput, "throughput", selection),
        svm: refs::svm(record.svm, selection),
    }
}

/// Raw counters, keeping only what `selection` (relative to them) holds.
pub fn statistics(record: StatisticsRecord, selection: &Selection) -> PerformanceMetricRaw {
    let keep = |path: &str| selection.includes(path);
    PerformanceMetricRaw {
        timestamp: record
            .timestamp
            .filter(|_| keep("timestamp"))
            .map(timestamp),
        status: record
            .status
            .filter(|_| keep("status"))
            .map(|w| status(&w) as i32),
        iops_raw: io(record.iops_raw, "iops_raw", selection),
        latency_raw: io(record.latency_raw, "latency_raw", selection),
        throughput_raw: io(record.throughput_raw, "throughput_raw", selection),
    }
}

fn io(record: Option<IoTypeRecord>, at: &str, selection: &Selection) -> Option<IoTypeMetric> {
    let record = record.filter(|_| selection.includes(at))?;
    let selection = selection.scoped(at);
    let keep = |path: &str| selection.includes(path);
    Some(IoTypeMetric {
        read: record.read.filter(|_| keep("read")),
        write: record.write.filter(|_| keep("write")),
        other: record.other.filter(|_| keep("other")),
        total: record.total.filter(|_| keep("total")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_status_has_its_own_value() {
        let mut seen: Vec<i32> = STATUS_WORDS.iter().map(|w| status(w) as i32).collect();
        assert!(!seen.contains(&(MetricStatus::Unspecified as i32)));
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), STATUS_WORDS.len());
    }

    #[test]
    fn unknown_future_status_is_unspecified() {
        assert_eq!(status("quantum_flux"), MetricStatus::Unspecified);
    }

    #[test]
    fn unselected_io_types_stay_absent() {
        let record = MetricRecord {
            iops: Some(IoTypeRecord {
                read: Some(1),
                write: Some(2),
                other: None,
                total: Some(3),
            }),
            latency: Some(IoTypeRecord::default()),
            ..MetricRecord::default()
        };
        let m = metric(record, &Selection::Paths(vec!["iops.read"]));
        assert_eq!(
            m.iops,
            Some(IoTypeMetric {
                read: Some(1),
                ..IoTypeMetric::default()
            })
        );
        assert_eq!(m.latency, None);
    }
}
