//! Rates from two readings of ONTAP's raw counters, the way careful ONTAP
//! pollers compute them: deltas over the time between the readings, latency
//! per operation, and no sample at all where a delta would lie.

use prost_types::{Duration as ProtoDuration, Timestamp};

use crate::proto::v1::{
    IoTypeCounter, IoTypeMetric, MetricStatus, PerformanceMetric, PerformanceMetricRaw,
    ThroughputCounter, ThroughputMetric,
};

/// The sample between `baseline` and `reading`; none when `reading` is the
/// first or no newer than the baseline. A counter that went down (a reset
/// or a failover) makes a sample with status `negative_delta` and no rates;
/// after any sample the caller measures from `reading`.
pub fn step(
    baseline: Option<&PerformanceMetricRaw>,
    reading: &PerformanceMetricRaw,
) -> Option<PerformanceMetric> {
    let (Some(baseline), Some(now)) = (baseline, reading.timestamp) else {
        return None;
    };
    let then = baseline.timestamp?;
    let nanos = nanos_between(&then, &now);
    if nanos <= 0 {
        return None;
    }
    let seconds = nanos as f64 / 1e9;
    let mut sample = PerformanceMetric {
        timestamp: Some(now),
        duration: Some(ProtoDuration {
            seconds: (nanos / 1_000_000_000) as i64,
            nanos: (nanos % 1_000_000_000) as i32,
        }),
        status: reading.status,
        status_text: reading.status_text.clone(),
        ..PerformanceMetric::default()
    };
    let deltas = (
        counter_deltas(baseline.iops_raw.as_ref(), reading.iops_raw.as_ref()),
        counter_deltas(baseline.latency_raw.as_ref(), reading.latency_raw.as_ref()),
        byte_deltas(
            baseline.throughput_raw.as_ref(),
            reading.throughput_raw.as_ref(),
        ),
    );
    let (Some(ops), Some(latency), Some(bytes)) = deltas else {
        sample.status = Some(MetricStatus::NegativeDelta as i32);
        sample.status_text = Some("negative_delta".to_owned());
        return Some(sample);
    };
    let per_second = |delta: Option<u64>| delta.map(|d| (d as f64 / seconds).round() as i64);
    let per_op = |lat: Option<u64>, ops: Option<u64>| match (lat, ops) {
        (Some(_), Some(0)) => Some(0),
        (Some(lat), Some(ops)) => Some((lat as f64 / ops as f64).round() as i64),
        _ => None,
    };
    sample.iops = Some(IoTypeMetric {
        read: per_second(ops[0]),
        write: per_second(ops[1]),
        other: per_second(ops[2]),
        total: per_second(ops[3]),
    });
    sample.latency = Some(IoTypeMetric {
        read: per_op(latency[0], ops[0]),
        write: per_op(latency[1], ops[1]),
        other: per_op(latency[2], ops[2]),
        total: per_op(latency[3], ops[3]),
    });
    sample.throughput = Some(ThroughputMetric {
        read: per_second(bytes[0]),
        write: per_second(bytes[1]),
        total: per_second(bytes[2]),
    });
    Some(sample)
}

/// `to - from` in nanoseconds (negative when `to` is earlier).
fn nanos_between(from: &Timestamp, to: &Timestamp) -> i128 {
    let at = |t: &Timestamp| i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos);
    at(to) - at(from)
}

/// Per-counter deltas (read, write, other, total); a counter missing on
/// either side has none. `None` if any counter went down.
fn counter_deltas(
    from: Option<&IoTypeCounter>,
    to: Option<&IoTypeCounter>,
) -> Option<[Option<u64>; 4]> {
    let pick =
        |c: Option<&IoTypeCounter>| c.map_or([None; 4], |c| [c.read, c.write, c.other, c.total]);
    deltas(pick(from), pick(to))
}

/// Per-counter byte deltas (read, write, total), as [`counter_deltas`].
fn byte_deltas(
    from: Option<&ThroughputCounter>,
    to: Option<&ThroughputCounter>,
) -> Option<[Option<u64>; 3]> {
    let pick = |c: Option<&ThroughputCounter>| c.map_or([None; 3], |c| [c.read, c.write, c.total]);
    deltas(pick(from), pick(to))
}

fn deltas<const N: usize>(
    from: [Option<u64>; N],
    to: [Option<u64>; N],
) -> Option<[Option<u64>; N]> {
    let mut out = [None; N];
    for i in 0..N {
        if let (Some(from), Some(to)) = (from[i], to[i]) {
            out[i] = Some(to.checked_sub(from)?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(seconds: i64, ops: u64, latency_us: u64, bytes: u64) -> PerformanceMetricRaw {
        // Wrapping: the counters past 2^63 test wraps the derived ones.
        let counter = |n: u64| IoTypeCounter {
            read: Some(n),
            write: Some(n.wrapping_mul(2)),
            other: Some(0),
            total: Some(n.wrapping_mul(3)),
        };
        PerformanceMetricRaw {
            timestamp: Some(Timestamp { seconds, nanos: 0 }),
            status: Some(MetricStatus::Ok as i32),
            status_text: Some("ok".into()),
            iops_raw: Some(counter(ops)),
            latency_raw: Some(counter(latency_us)),
            throughput_raw: Some(ThroughputCounter {
                read: Some(bytes),
                write: Some(bytes.wrapping_mul(2)),
                total: Some(bytes.wrapping_mul(3)),
            }),
        }
    }

    fn sample(step: Option<PerformanceMetric>) -> PerformanceMetric {
        step.expect("a sample")
    }

    #[test]
    fn the_first_reading_only_sets_the_baseline() {
        assert_eq!(step(None, &reading(100, 1, 1, 1)), None);
    }

    #[test]
    fn rates_are_deltas_over_the_seconds_between_readings() {
        let s = sample(step(
            Some(&reading(100, 1_000, 50_000, 4_096)),
            &reading(110, 3_000, 90_000, 45_056),
        ));
        let iops = s.iops.unwrap();
        assert_eq!(
            (iops.read, iops.write, iops.total),
            (Some(200), Some(400), Some(600))
        );
        let throughput = s.throughput.unwrap();
        assert_eq!(
            (throughput.read, throughput.total),
            (Some(4_096), Some(12_288))
        );
        assert_eq!(s.timestamp.unwrap().seconds, 110);
        assert_eq!(
            s.duration.unwrap(),
            ProtoDuration {
                seconds: 10,
                nanos: 0
            }
        );
        assert_eq!(s.status, Some(MetricStatus::Ok as i32));
    }

    #[test]
    fn latency_is_the_latency_delta_per_operation() {
        let s = sample(step(
            Some(&reading(100, 1_000, 50_000, 0)),
            &reading(110, 3_000, 90_000, 0),
        ));
        // 40,000 µs over 2,000 reads.
        assert_eq!(s.latency.unwrap().read, Some(20));
    }

    #[test]
    fn no_operations_mean_zero_latency_not_a_division_by_zero() {
        let s = sample(step(
            Some(&reading(100, 1_000, 50_000, 0)),
            &reading(110, 1_000, 50_000, 0),
        ));
        let latency = s.latency.unwrap();
        assert_eq!((latency.read, latency.other), (Some(0), Some(0)));
    }

    #[test]
    fn latency_that_moved_without_operations_is_zero_not_infinite() {
        // ONTAP reads each counter at its own instant: an operation still
        // in flight adds latency before it counts as an operation.
        let s = sample(step(
            Some(&reading(100, 1_000, 50_000, 0)),
            &reading(110, 1_000, 50_800, 0),
        ));
        assert_eq!(s.latency.unwrap().read, Some(0));
    }

    #[test]
    fn a_counter_that_went_down_gives_a_negative_delta_sample_without_rates() {
        let s = sample(step(
            Some(&reading(100, 5_000, 50_000, 0)),
            &reading(110, 10, 100, 0),
        ));
        assert_eq!(s.status, Some(MetricStatus::NegativeDelta as i32));
        assert_eq!(s.status_text.as_deref(), Some("negative_delta"));
        assert!(s.iops.is_none() && s.latency.is_none() && s.throughput.is_none());
    }

    #[test]
    fn a_reading_no_newer_than_the_baseline_makes_no_sample() {
        let baseline = reading(100, 1, 1, 1);
        assert_eq!(step(Some(&baseline), &reading(100, 2, 2, 2)), None);
        assert_eq!(step(Some(&baseline), &reading(90, 2, 2, 2)), None);
    }

    #[test]
    fn an_upstream_status_that_is_not_ok_is_carried_through() {
        let mut partial = reading(110, 2_000, 60_000, 0);
        partial.status = Some(MetricStatus::PartialNoData as i32);
        partial.status_text = Some("partial_no_data".into());
        let s = sample(step(Some(&reading(100, 1_000, 50_000, 0)), &partial));
        assert_eq!(s.status, Some(MetricStatus::PartialNoData as i32));
        assert_eq!(s.status_text.as_deref(), Some("partial_no_data"));
        assert_eq!(s.iops.unwrap().read, Some(100));
    }

    #[test]
    fn counters_past_two_to_the_63_still_give_exact_deltas() {
        let base = 1u64 << 63;
        let s = sample(step(
            Some(&reading(100, base, base, base)),
            &reading(101, base + 7, base + 70, base + 700),
        ));
        assert_eq!(s.iops.unwrap().read, Some(7));
        assert_eq!(s.latency.unwrap().read, Some(10));
        assert_eq!(s.throughput.unwrap().read, Some(700));
    }

    #[test]
    fn a_fractional_interval_is_kept_in_the_duration() {
        let mut later = reading(110, 2_000, 0, 0);
        later.timestamp = Some(Timestamp {
            seconds: 110,
            nanos: 500_000_000,
        });
        let s = sample(step(Some(&reading(100, 1_000, 0, 0)), &later));
        assert_eq!(
            s.duration.unwrap(),
            ProtoDuration {
                seconds: 10,
                nanos: 500_000_000
            }
        );
        // 1,000 reads over 10.5 s.
        assert_eq!(s.iops.unwrap().read, Some(95));
    }
}
