//! Performance blocks, shared by a service's live `metric`/`statistics`
//! and its metrics history: ONTAP's JSON onto the common proto messages.

use super::refs;
use super::schema::Selection;
use crate::ontap::iscsi::{IoTypeRecord, MetricRecord, StatisticsRecord};
use crate::proto::v1::{
    IoTypeCounter, IoTypeMetric, MetricStatus, PerformanceMetric, PerformanceMetricRaw,
    ThroughputCounter, ThroughputMetric,
};

/// ONTAP's status word as the enum value of the same name; a word this
/// gateway does not know yet is UNSPECIFIED rather than a failed call (and
/// is kept as `status_text`).
pub fn status(word: &str) -> MetricStatus {
    let name = format!("METRIC_STATUS_{}", word.to_ascii_uppercase());
    MetricStatus::from_str_name(&name).unwrap_or(MetricStatus::Unspecified)
}

/// A timestamp for the proto.
pub fn timestamp(instant: jiff::Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: instant.as_second(),
        nanos: instant.subsec_nanosecond(),
    }
}

/// A sample, keeping only what `selection` (relative to the sample) holds.
pub fn metric(record: MetricRecord, selection: &Selection) -> PerformanceMetric {
    let keep = |path: &str| selection.includes(path);
    let status_word = record.status.filter(|_| keep("status"));
    PerformanceMetric {
        timestamp: record
            .timestamp
            .filter(|_| keep("timestamp"))
            .map(timestamp),
        duration: record
            .duration
            .filter(|_| keep("duration"))
            .map(|seconds| prost_types::Duration { seconds, nanos: 0 }),
        status: status_word.as_deref().map(|w| status(w) as i32),
        status_text: status_word,
        iops: io(record.iops, "iops", selection, rate),
        latency: io(record.latency, "latency", selection, rate),
        throughput: io(record.throughput, "throughput", selection, byte_rate),
        svm: refs::svm(record.svm, selection),
    }
}

/// Raw counters, keeping only what `selection` (relative to them) holds.
pub fn statistics(record: StatisticsRecord, selection: &Selection) -> PerformanceMetricRaw {
    let keep = |path: &str| selection.includes(path);
    let status_word = record.status.filter(|_| keep("status"));
    PerformanceMetricRaw {
        timestamp: record
            .timestamp
            .filter(|_| keep("timestamp"))
            .map(timestamp),
        status: status_word.as_deref().map(|w| status(w) as i32),
        status_text: status_word,
        iops_raw: io(record.iops_raw, "iops_raw", selection, counter),
        latency_raw: io(record.latency_raw, "latency_raw", selection, counter),
        throughput_raw: io(
            record.throughput_raw,
            "throughput_raw",
            selection,
            byte_counter,
        ),
    }
}

/// The four I/O types of the block at `at`, keeping only what `selection`
/// holds, built into `M` (a rate or a counter message).
fn io<T, M>(
    record: Option<IoTypeRecord<T>>,
    at: &str,
    selection: &Selection,
    build: fn([Option<T>; 4]) -> M,
) -> Option<M> {
    let record = record.filter(|_| selection.includes(at))?;
    let selection = selection.scoped(at);
    let keep = |path: &str| selection.includes(path);
    Some(build([
        record.read.filter(|_| keep("read")),
        record.write.filter(|_| keep("write")),
        record.other.filter(|_| keep("other")),
        record.total.filter(|_| keep("total")),
    ]))
}

fn rate([read, write, other, total]: [Option<i64>; 4]) -> IoTypeMetric {
    IoTypeMetric {
        read,
        write,
        other,
        total,
    }
}

fn counter([read, write, other, total]: [Option<u64>; 4]) -> IoTypeCounter {
    IoTypeCounter {
        read,
        write,
        other,
        total,
    }
}

fn byte_rate([read, write, _, total]: [Option<i64>; 4]) -> ThroughputMetric {
    ThroughputMetric { read, write, total }
}

fn byte_counter([read, write, _, total]: [Option<u64>; 4]) -> ThroughputCounter {
    ThroughputCounter { read, write, total }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_status_has_its_own_value() {
        let words = crate::translate::resources::METRIC_STATUS.words;
        let mut seen: Vec<i32> = words.iter().map(|w| status(w) as i32).collect();
        assert!(!seen.contains(&(MetricStatus::Unspecified as i32)));
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), words.len());
    }

    #[test]
    fn unknown_future_status_is_unspecified() {
        assert_eq!(status("quantum_flux"), MetricStatus::Unspecified);
    }

    #[test]
    fn unknown_status_word_is_kept_as_text() {
        let record = MetricRecord {
            status: Some("quantum_flux".into()),
            ..MetricRecord::default()
        };
        let m = metric(record, &Selection::All);
        assert_eq!(m.status, Some(MetricStatus::Unspecified as i32));
        assert_eq!(m.status_text.as_deref(), Some("quantum_flux"));
    }

    #[test]
    fn unselected_status_leaves_both_fields_absent() {
        let record = StatisticsRecord {
            status: Some("ok".into()),
            ..StatisticsRecord::default()
        };
        let s = statistics(record, &Selection::Paths(vec!["timestamp"]));
        assert_eq!((s.status, s.status_text), (None, None));
    }

    #[test]
    fn counters_above_two_to_the_63_are_kept() {
        let record = StatisticsRecord {
            iops_raw: Some(IoTypeRecord {
                total: Some(u64::MAX),
                ..IoTypeRecord::default()
            }),
            ..StatisticsRecord::default()
        };
        let s = statistics(record, &Selection::All);
        assert_eq!(s.iops_raw.unwrap().total, Some(u64::MAX));
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
