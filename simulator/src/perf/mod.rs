//! iSCSI performance data derived from a service's history and its SVM's workload: the raw
//! counters (`statistics.*`), the live 15-second sample (`metric.*`) and the sample series of
//! the metrics endpoint.
//!
//! Everything is computed from the counters, the way a client computes rates from two counter
//! readings: a sample over `(end - duration, end]` is the counters' change divided by the
//! duration (latency: by the change in operations). So a test that reads `statistics` at two
//! pinned instants 15 s apart computes exactly the `metric` the simulator reports.
//!
//! The module is public, unlike the rest of the simulator's insides, so benches and a client's
//! tests can compute the same series the simulator serves without going through HTTP.

pub mod metric_status;
pub mod workload;

pub use metric_status::MetricStatus;
pub use workload::Workload;

use workload::{OTHER, READ, WRITE};

/// Seconds between the collector's runs: every sample ends on a multiple of this, and coarser
/// samples consolidate the 15-second ones.
pub const COLLECTION_SECS: u64 = 15;

/// The history of a service and of the collector that samples it, in seconds since the epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeline {
    /// When the service was created; nothing accumulates before.
    pub created: i64,
    /// `(when, enabled)` for every recorded state change, oldest first.
    pub states: Vec<(i64, bool)>,
    /// When the counters were reset, oldest first.
    pub resets: Vec<i64>,
    /// The state wherever no recorded change says otherwise.
    pub fallback: bool,
    /// `[from, until)` periods in which some node did not answer the collector (`None`: still
    /// not answering).
    pub unanswered: Vec<(i64, Option<i64>)>,
    /// Collection instants the collector missed and made up later.
    pub backfilled: Vec<i64>,
    /// A status every sample and reading reports instead of its own, for tests.
    pub forced_status: Option<MetricStatus>,
    /// Where the counters started at creation (see [`counters_at`]).
    pub counter_base: u64,
}

impl Timeline {
    /// A service created enabled at `created` that nothing has happened to since, sampled by a
    /// collector that never missed a node.
    pub fn enabled_since(created: i64) -> Timeline {
        Timeline {
            created,
            states: vec![(created, true)],
            resets: Vec::new(),
            fallback: true,
            unanswered: Vec::new(),
            backfilled: Vec::new(),
            forced_status: None,
            counter_base: 0,
        }
    }

    fn state_at(&self, t: i64) -> bool {
        self.states
            .iter()
            .rev()
            .find(|(at, _)| *at <= t)
            .map_or(self.fallback, |(_, enabled)| *enabled)
    }

    /// Where the counters at `t` count from: creation or the latest reset, whichever is later.
    fn counting_since(&self, t: i64) -> i64 {
        self.resets
            .iter()
            .copied()
            .filter(|r| *r <= t)
            .fold(self.created, i64::max)
    }

    fn reset_within(&self, after: i64, until: i64) -> bool {
        self.resets.iter().any(|r| after < *r && *r <= until)
    }

    /// Whether some node was not answering at `t`.
    fn unanswered_at(&self, t: i64) -> bool {
        self.unanswered
            .iter()
            .any(|&(from, until)| from <= t && until.is_none_or(|until| t < until))
    }

    /// Whether some node missed a collection at an instant in `[from, until)`.
    fn collection_unanswered_within(&self, from: i64, until: i64) -> bool {
        self.unanswered.iter().any(|&(down, up)| {
            let first = ceil_to(from.max(down), COLLECTION_SECS);
            first < until && up.is_none_or(|up| first < up)
        })
    }

    /// The status of the sample over `(start, end]`, collected at `end`, by the first that
    /// applies: the forced status; `negative_delta` when the counters were reset within it;
    /// `partial_no_response` when a node did not answer the collection at `end`;
    /// `inconsistent_delta_time` when a node answered at `end` but missed an earlier collection
    /// the sample spans (its delta covers a longer time than the other nodes'); `backfilled_data`
    /// when a collection within it was made up later; otherwise `ok`.
    fn sample_status(&self, start: i64, end: i64) -> MetricStatus {
        if let Some(forced) = &self.forced_status {
            forced.clone()
        } else if self.reset_within(start, end) {
            MetricStatus::NegativeDelta
        } else if self.unanswered_at(end) {
            MetricStatus::PartialNoResponse
        } else if self.collection_unanswered_within(start, end) {
            MetricStatus::InconsistentDeltaTime
        } else if self.backfilled.iter().any(|b| start < *b && *b <= end) {
            MetricStatus::BackfilledData
        } else {
            MetricStatus::Ok
        }
    }

    /// `statistics.status` at `now`: the forced status; `partial_no_response` while a node is
    /// not answering (its share is missing from the aggregate); otherwise `ok`.
    pub fn statistics_status(&self, now: i64) -> MetricStatus {
        if let Some(forced) = &self.forced_status {
            forced.clone()
        } else if self.unanswered_at(now) {
            MetricStatus::PartialNoResponse
        } else {
            MetricStatus::Ok
        }
    }
}

/// A value per operation class plus the total.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PerOp {
    /// Read operations.
    pub read: u64,
    /// Write operations.
    pub write: u64,
    /// Other (metadata) operations.
    pub other: u64,
    /// All operations.
    pub total: u64,
}

impl PerOp {
    /// Per-class counts, with the total as their sum.
    fn summed(read: u64, write: u64, other: u64) -> PerOp {
        PerOp {
            read,
            write,
            other,
            total: read.saturating_add(write).saturating_add(other),
        }
    }

    /// Every value, the total included, moved up by `base` (wrapping at 2^64).
    fn offset(self, base: u64) -> PerOp {
        PerOp {
            read: self.read.wrapping_add(base),
            write: self.write.wrapping_add(base),
            other: self.other.wrapping_add(base),
            total: self.total.wrapping_add(base),
        }
    }

    fn get(&self, class: usize) -> u64 {
        match class {
            READ => self.read,
            WRITE => self.write,
            OTHER => self.other,
            _ => self.total,
        }
    }
}

/// The cumulative counters at one instant, as `statistics.*_raw` shows them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Operations (`iops_raw`).
    pub ops: PerOp,
    /// Summed latency in microseconds (`latency_raw`).
    pub latency_us: PerOp,
    /// Bytes (`throughput_raw`; other operations move none).
    pub bytes: PerOp,
}

/// Index standing for the total in [`PerOp::get`].
const TOTAL: usize = 3;

/// The counters at `t`: the counter base plus what accumulated while the service was enabled,
/// from its creation until `t`; from the latest counter reset at or before `t` there is no base,
/// the counters restart from zero. The base is added to every counter, totals included, with
/// wrapping: counters are unsigned 64-bit values that wrap as a cluster's do, and every rate is
/// computed from a wrapping difference, so a base near `u64::MAX` changes no rate.
pub fn counters_at(workload: &Workload, timeline: &Timeline, t: i64) -> Counters {
    let base = if timeline.resets.iter().any(|r| *r <= t) {
        0
    } else {
        timeline.counter_base
    };
    let counters = accumulated(workload, timeline, t);
    Counters {
        ops: counters.ops.offset(base),
        latency_us: counters.latency_us.offset(base),
        bytes: counters.bytes.offset(base),
    }
}

/// What accumulated while the service was enabled, from its creation or its latest counter reset
/// (at or before `t`) until `t`.
fn accumulated(workload: &Workload, timeline: &Timeline, t: i64) -> Counters {
    let since = timeline.counting_since(t);
    if t <= since {
        return Counters::default();
    }
    let mut ops = [0.0; 3];
    let mut latency = [0.0; 3];
    let mut bytes = [0.0; 3];
    let mut add = |from: i64, to: i64| {
        let totals = workload.totals(from, to);
        for class in [READ, WRITE, OTHER] {
            ops[class] += totals.ops[class];
            latency[class] += totals.latency_us[class];
            bytes[class] += totals.bytes[class];
        }
    };
    let mut cursor = since;
    let mut enabled = timeline.state_at(since);
    for &(at, state) in timeline
        .states
        .iter()
        .filter(|(at, _)| since < *at && *at <= t)
    {
        if enabled {
            add(cursor, at);
        }
        cursor = at;
        enabled = state;
    }
    if enabled {
        add(cursor, t);
    }
    let counts = |values: [f64; 3]| {
        // `as` saturates, and the totals are finite and non-negative.
        PerOp::summed(
            values[READ] as u64,
            values[WRITE] as u64,
            values[OTHER] as u64,
        )
    };
    Counters {
        ops: counts(ops),
        latency_us: counts(latency),
        bytes: counts(bytes),
    }
}

/// Averages over `(timestamp - duration, timestamp]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// End of the sampled period, seconds since the epoch.
    pub timestamp: i64,
    /// Length of the sampled period in seconds.
    pub duration: u64,
    /// What the collector says about the sample.
    pub status: MetricStatus,
    /// Operations per second.
    pub iops: PerOp,
    /// Microseconds per operation.
    pub latency: PerOp,
    /// Bytes per second.
    pub throughput: PerOp,
}

/// The sample over `(end - duration, end]`, with the status its timeline gives it (by the first
/// that applies: a forced status, a counter reset, a silent node, a missed collection, a backfill,
/// otherwise `ok`). A counter reset within it makes the change negative, so its rates are zero.
/// Other statuses leave the rates as computed: the simulator does not split traffic by node, so a
/// partial sample still carries the whole workload. Divisions round down.
pub fn sample(workload: &Workload, timeline: &Timeline, end: i64, duration: u64) -> Sample {
    let span = i64::try_from(duration).unwrap_or(i64::MAX);
    let start = end.saturating_sub(span);
    let mut result = Sample {
        timestamp: end,
        duration,
        status: timeline.sample_status(start, end),
        iops: PerOp::default(),
        latency: PerOp::default(),
        throughput: PerOp::default(),
    };
    if timeline.reset_within(start, end) {
        return result;
    }
    let before = counters_at(workload, timeline, start);
    let after = counters_at(workload, timeline, end);
    let delta = |pick: fn(&Counters) -> PerOp, class: usize| {
        pick(&after)
            .get(class)
            .wrapping_sub(pick(&before).get(class))
    };
    let rates = |pick: fn(&Counters) -> PerOp| {
        let per = |class| delta(pick, class).checked_div(duration).unwrap_or(0);
        PerOp {
            read: per(READ),
            write: per(WRITE),
            other: per(OTHER),
            total: per(TOTAL),
        }
    };
    let latency = |class| {
        let ops = delta(|c| c.ops, class);
        delta(|c| c.latency_us, class).checked_div(ops).unwrap_or(0)
    };
    result.iops = rates(|c| c.ops);
    result.throughput = rates(|c| c.bytes);
    result.latency = PerOp {
        read: latency(READ),
        write: latency(WRITE),
        other: latency(OTHER),
        total: latency(TOTAL),
    };
    result
}

/// Length of the live sample, `metric.duration`.
pub const LIVE_SAMPLE_SECS: u64 = COLLECTION_SECS;

/// `metric.*`: the 15-second sample ending at the last 15-second boundary at or before `now`.
pub fn live_metric(workload: &Workload, timeline: &Timeline, now: i64) -> Sample {
    let end = floor_to(now, LIVE_SAMPLE_SECS);
    sample(workload, timeline, end, LIVE_SAMPLE_SECS)
}

/// A time range of the metrics endpoint, with ONTAP's sample spacing for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interval {
    /// `1h`: the last hour in 15-second samples.
    Hour,
    /// `1d`: the last day in 5-minute samples.
    Day,
    /// `1w`: the last week in 30-minute samples.
    Week,
    /// `1m`: the last 30 days in 2-hour samples.
    Month,
    /// `1y`: the last 365 days in 1-day samples.
    Year,
}

impl Interval {
    /// Every interval, finest spacing first.
    pub const ALL: [Interval; 5] = [
        Interval::Hour,
        Interval::Day,
        Interval::Week,
        Interval::Month,
        Interval::Year,
    ];

    /// Reads the `interval` parameter (`1h`, `1d`, `1w`, `1m`, `1y`).
    pub fn parse(text: &str) -> Option<Interval> {
        Some(match text {
            "1h" => Interval::Hour,
            "1d" => Interval::Day,
            "1w" => Interval::Week,
            "1m" => Interval::Month,
            "1y" => Interval::Year,
            _ => return None,
        })
    }

    /// Seconds between samples, which is also each sample's duration.
    pub fn spacing(self) -> u64 {
        match self {
            Interval::Hour => 15,
            Interval::Day => 300,
            Interval::Week => 1_800,
            Interval::Month => 7_200,
            Interval::Year => 86_400,
        }
    }

    /// How far back the series reaches, in seconds.
    pub fn window(self) -> u64 {
        match self {
            Interval::Hour => 3_600,
            Interval::Day => 86_400,
            Interval::Week => 7 * 86_400,
            Interval::Month => 30 * 86_400,
            Interval::Year => 365 * 86_400,
        }
    }

    /// Whether this series has a sample ending at `timestamp` when it is `now`: on a spacing
    /// boundary (UTC), within the window, and after the service was created.
    fn holds(self, timeline: &Timeline, now: i64, timestamp: i64) -> bool {
        let spacing = i64::try_from(self.spacing()).unwrap_or(i64::MAX);
        let window = i64::try_from(self.window()).unwrap_or(i64::MAX);
        timestamp.rem_euclid(spacing) == 0
            && timestamp <= now
            && timestamp > now.saturating_sub(window)
            && timestamp > timeline.created
    }
}

/// The series of `interval` at `now`, newest first; empty when the service is younger than one
/// spacing boundary.
pub fn history(
    workload: &Workload,
    timeline: &Timeline,
    now: i64,
    interval: Interval,
) -> Vec<Sample> {
    let spacing = interval.spacing();
    let step = i64::try_from(spacing).unwrap_or(i64::MAX);
    let mut samples = Vec::new();
    let mut end = floor_to(now, spacing);
    while interval.holds(timeline, now, end) {
        samples.push(sample(workload, timeline, end, spacing));
        end -= step;
    }
    samples
}

/// The sample ending at `timestamp` in the finest series that has one at `now`.
pub fn sample_at(
    workload: &Workload,
    timeline: &Timeline,
    now: i64,
    timestamp: i64,
) -> Option<Sample> {
    Interval::ALL
        .into_iter()
        .find(|interval| interval.holds(timeline, now, timestamp))
        .map(|interval| sample(workload, timeline, timestamp, interval.spacing()))
}

/// The latest multiple of `step` at or before `t`.
fn floor_to(t: i64, step: u64) -> i64 {
    let step = i64::try_from(step).unwrap_or(i64::MAX).max(1);
    t - t.rem_euclid(step)
}

/// The earliest multiple of `step` at or after `t`.
pub fn ceil_to(t: i64, step: u64) -> i64 {
    let floor = floor_to(t, step);
    if floor == t {
        t
    } else {
        floor.saturating_add(i64::try_from(step).unwrap_or(i64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SVM: &str = "25f617cf-94d7-11e8-8370-005056b48fd2";
    /// 2026-01-01T00:00:00Z.
    const NOW: i64 = 1_767_225_600;
    const DAY: i64 = 86_400;

    fn workload() -> Workload {
        Workload::for_svm(SVM)
    }

    fn statuses(timeline: &Timeline, ends: std::ops::RangeInclusive<i64>) -> Vec<String> {
        ends.step_by(15)
            .map(|end| sample(&workload(), timeline, end, 15).status.to_string())
            .collect()
    }

    #[test]
    fn a_node_not_answering_makes_samples_partial_then_the_next_inconsistent() {
        let timeline = Timeline {
            unanswered: vec![(NOW + 20, Some(NOW + 50))],
            ..Timeline::enabled_since(NOW - DAY)
        };
        assert_eq!(
            statuses(&timeline, NOW + 15..=NOW + 75),
            [
                "ok",
                "partial_no_response",
                "partial_no_response",
                "inconsistent_delta_time",
                "ok"
            ]
        );
        assert_eq!(timeline.statistics_status(NOW + 19), MetricStatus::Ok);
        assert_eq!(
            timeline.statistics_status(NOW + 20),
            MetricStatus::PartialNoResponse
        );
        assert_eq!(timeline.statistics_status(NOW + 50), MetricStatus::Ok);
    }

    #[test]
    fn a_node_silent_between_two_collections_changes_nothing() {
        let timeline = Timeline {
            unanswered: vec![(NOW + 16, Some(NOW + 29))],
            ..Timeline::enabled_since(NOW - DAY)
        };
        assert_eq!(statuses(&timeline, NOW + 15..=NOW + 45), ["ok", "ok", "ok"]);
    }

    #[test]
    fn a_node_still_silent_keeps_every_later_sample_partial() {
        let timeline = Timeline {
            unanswered: vec![(NOW, None)],
            ..Timeline::enabled_since(NOW - DAY)
        };
        assert_eq!(
            statuses(&timeline, NOW - 15..=NOW + 30),
            [
                "ok",
                "partial_no_response",
                "partial_no_response",
                "partial_no_response"
            ]
        );
        let day = sample(&workload(), &timeline, NOW + 300, 300);
        assert_eq!(day.status, MetricStatus::PartialNoResponse);
    }

    #[test]
    fn a_backfilled_collection_tags_every_sample_holding_it() {
        let timeline = Timeline {
            backfilled: vec![NOW + 30],
            ..Timeline::enabled_since(NOW - DAY)
        };
        assert_eq!(
            statuses(&timeline, NOW + 15..=NOW + 45),
            ["ok", "backfilled_data", "ok"]
        );
        let coarse = sample(&workload(), &timeline, NOW + 300, 300);
        assert_eq!(coarse.status, MetricStatus::BackfilledData);
        assert!(coarse.iops.total > 0);
    }

    #[test]
    fn forced_status_wins_everywhere_and_keeps_the_rates() {
        let timeline = Timeline {
            forced_status: Some(MetricStatus::from("made_up")),
            resets: vec![NOW + 20],
            ..Timeline::enabled_since(NOW - DAY)
        };
        let forced = sample(&workload(), &timeline, NOW + 15, 15);
        assert_eq!(forced.status.as_str(), "made_up");
        assert!(forced.iops.total > 0);
        assert_eq!(
            sample(&workload(), &timeline, NOW + 30, 15).status.as_str(),
            "made_up"
        );
        assert_eq!(timeline.statistics_status(NOW).as_str(), "made_up");
    }

    #[test]
    fn a_reset_outranks_a_silent_node() {
        let timeline = Timeline {
            resets: vec![NOW + 20],
            unanswered: vec![(NOW, None)],
            ..Timeline::enabled_since(NOW - DAY)
        };
        assert_eq!(
            sample(&workload(), &timeline, NOW + 30, 15).status,
            MetricStatus::NegativeDelta
        );
    }

    #[test]
    fn counters_are_zero_before_and_at_creation() {
        let timeline = Timeline::enabled_since(NOW);
        assert_eq!(
            counters_at(&workload(), &timeline, NOW - 10),
            Counters::default()
        );
        assert_eq!(
            counters_at(&workload(), &timeline, NOW),
            Counters::default()
        );
    }

    #[test]
    fn counters_increase_monotonically() {
        let workload = workload();
        let timeline = Timeline::enabled_since(NOW - 400 * DAY);
        let mut previous = Counters::default();
        for t in (NOW - 2 * DAY..NOW).step_by(613) {
            let now = counters_at(&workload, &timeline, t);
            for (a, b) in [
                (previous.ops, now.ops),
                (previous.latency_us, now.latency_us),
                (previous.bytes, now.bytes),
            ] {
                assert!(b.read > a.read && b.write > a.write && b.total > a.total);
            }
            assert!(now.ops.other > previous.ops.other);
            previous = now;
        }
    }

    #[test]
    fn totals_are_sums_of_the_classes() {
        let c = counters_at(&workload(), &Timeline::enabled_since(NOW - DAY), NOW);
        assert_eq!(c.ops.total, c.ops.read + c.ops.write + c.ops.other);
        assert_eq!(
            c.latency_us.total,
            c.latency_us.read + c.latency_us.write + c.latency_us.other
        );
        assert_eq!(c.bytes.other, 0);
        assert_eq!(c.bytes.total, c.bytes.read + c.bytes.write);
    }

    #[test]
    fn counter_base_offsets_every_counter_until_a_reset_and_no_rate() {
        let workload = workload();
        let plain = Timeline::enabled_since(NOW - DAY);
        let based = Timeline {
            counter_base: (1 << 63) + 12_345,
            ..plain.clone()
        };
        let (a, b) = (
            counters_at(&workload, &plain, NOW),
            counters_at(&workload, &based, NOW),
        );
        assert_eq!(b.ops.read, a.ops.read + (1 << 63) + 12_345);
        assert_eq!(b.latency_us.total, a.latency_us.total + (1 << 63) + 12_345);
        assert_eq!(
            sample(&workload, &based, NOW, 300),
            sample(&workload, &plain, NOW, 300)
        );
        let reset = Timeline {
            resets: vec![NOW - 60],
            ..based
        };
        assert!(counters_at(&workload, &reset, NOW).ops.total < 1 << 63);
    }

    #[test]
    fn counters_wrap_at_two_to_the_64_without_changing_a_rate() {
        let workload = workload();
        let plain = Timeline::enabled_since(NOW - DAY);
        let near_the_top = Timeline {
            counter_base: u64::MAX - 5,
            ..plain.clone()
        };
        let wrapped = counters_at(&workload, &near_the_top, NOW);
        assert_eq!(
            wrapped.ops.total,
            counters_at(&workload, &plain, NOW).ops.total - 6
        );
        assert_eq!(
            sample(&workload, &near_the_top, NOW, 15),
            sample(&workload, &plain, NOW, 15)
        );
    }

    #[test]
    fn a_base_applies_before_creation_too_so_the_first_sample_is_a_plain_rate() {
        let workload = workload();
        let fresh = Timeline {
            counter_base: 1 << 63,
            ..Timeline::enabled_since(NOW + 5)
        };
        let first = sample(&workload, &fresh, NOW + 15, 15);
        assert!(first.iops.total < 1_000_000, "{first:?}");
    }

    #[test]
    fn counters_stand_still_while_disabled() {
        let workload = workload();
        let timeline = Timeline {
            states: vec![(NOW - DAY, true), (NOW - 3_600, false), (NOW - 600, true)],
            ..Timeline::enabled_since(NOW - DAY)
        };
        let at_disable = counters_at(&workload, &timeline, NOW - 3_600);
        assert_eq!(counters_at(&workload, &timeline, NOW - 1_800), at_disable);
        assert_eq!(counters_at(&workload, &timeline, NOW - 600), at_disable);
        assert!(counters_at(&workload, &timeline, NOW).ops.total > at_disable.ops.total);
    }

    #[test]
    fn metric_is_the_counters_change_over_fifteen_seconds() {
        let workload = workload();
        let timeline = Timeline::enabled_since(NOW - DAY);
        let now = NOW + 20;
        let metric = live_metric(&workload, &timeline, now);
        assert_eq!(metric.timestamp, NOW + 15);
        assert_eq!(metric.duration, 15);
        let before = counters_at(&workload, &timeline, NOW);
        let after = counters_at(&workload, &timeline, NOW + 15);
        assert_eq!(metric.iops.read, (after.ops.read - before.ops.read) / 15);
        assert_eq!(metric.iops.total, (after.ops.total - before.ops.total) / 15);
        assert_eq!(
            metric.latency.write,
            (after.latency_us.write - before.latency_us.write)
                / (after.ops.write - before.ops.write)
        );
        assert_eq!(
            metric.throughput.total,
            (after.bytes.total - before.bytes.total) / 15
        );
        assert_eq!(metric.status, MetricStatus::Ok);
        assert!(metric.iops.read > 0 && metric.latency.read > 0 && metric.throughput.read > 0);
    }

    #[test]
    fn neighbouring_samples_differ() {
        let workload = workload();
        let timeline = Timeline::enabled_since(NOW - DAY);
        let a = sample(&workload, &timeline, NOW, 15);
        let b = sample(&workload, &timeline, NOW + 15, 15);
        assert_ne!(a.iops, b.iops);
    }

    #[test]
    fn sample_spanning_a_reset_is_a_negative_delta_with_zero_rates() {
        let workload = workload();
        let timeline = Timeline {
            resets: vec![NOW + 7],
            ..Timeline::enabled_since(NOW - DAY)
        };
        let spanning = sample(&workload, &timeline, NOW + 15, 15);
        assert_eq!(spanning.status, MetricStatus::NegativeDelta);
        assert_eq!(spanning.iops, PerOp::default());
        let next = sample(&workload, &timeline, NOW + 30, 15);
        assert_eq!(next.status, MetricStatus::Ok);
        assert!(next.iops.total > 0);
    }

    #[test]
    fn counters_restart_from_zero_at_a_reset() {
        let workload = workload();
        let timeline = Timeline {
            resets: vec![NOW],
            ..Timeline::enabled_since(NOW - DAY)
        };
        assert_eq!(counters_at(&workload, &timeline, NOW), Counters::default());
        let fresh = counters_at(&workload, &timeline, NOW + 15);
        let untouched = counters_at(&workload, &Timeline::enabled_since(NOW - DAY), NOW + 15);
        assert!(fresh.ops.total > 0 && fresh.ops.total < untouched.ops.total);
    }

    #[test]
    fn disabled_period_gives_zero_samples_with_status_ok() {
        let workload = workload();
        let timeline = Timeline {
            states: vec![(NOW - DAY, true), (NOW - 3_600, false)],
            ..Timeline::enabled_since(NOW - DAY)
        };
        let quiet = sample(&workload, &timeline, NOW, 15);
        assert_eq!(quiet.status, MetricStatus::Ok);
        assert_eq!(quiet.iops, PerOp::default());
        assert_eq!(quiet.latency, PerOp::default());
    }

    #[test]
    fn each_interval_has_ontap_spacing_and_length() {
        let workload = workload();
        let timeline = Timeline::enabled_since(NOW - 400 * DAY);
        for (interval, count, spacing) in [
            (Interval::Hour, 240, 15),
            (Interval::Day, 288, 300),
            (Interval::Week, 336, 1_800),
            (Interval::Month, 360, 7_200),
            (Interval::Year, 365, 86_400),
        ] {
            let series = history(&workload, &timeline, NOW + 7, interval);
            assert_eq!(series.len(), count, "{interval:?}");
            assert_eq!(series[0].timestamp, NOW, "{interval:?}");
            for pair in series.windows(2) {
                assert_eq!(pair[0].timestamp - pair[1].timestamp, spacing);
            }
            assert!(series.iter().all(|s| s.duration == spacing.unsigned_abs()));
            assert!(series.iter().all(|s| s.timestamp % spacing == 0));
        }
    }

    #[test]
    fn history_starts_after_creation() {
        let timeline = Timeline::enabled_since(NOW - 100);
        let series = history(&workload(), &timeline, NOW, Interval::Hour);
        assert_eq!(series.len(), 7);
        assert_eq!(series.last().map(|s| s.timestamp), Some(NOW - 90));
    }

    #[test]
    fn brand_new_service_has_no_history() {
        let timeline = Timeline::enabled_since(NOW + 1);
        assert!(history(&workload(), &timeline, NOW + 14, Interval::Hour).is_empty());
        assert_eq!(
            history(&workload(), &timeline, NOW + 15, Interval::Hour).len(),
            1
        );
    }

    #[test]
    fn sample_at_prefers_the_finest_series() {
        let workload = workload();
        let timeline = Timeline::enabled_since(NOW - 400 * DAY);
        let now = NOW + 60;
        assert_eq!(
            sample_at(&workload, &timeline, now, NOW).map(|s| s.duration),
            Some(15)
        );
        assert_eq!(
            sample_at(&workload, &timeline, now, NOW - 2 * 3_600).map(|s| s.duration),
            Some(300)
        );
        assert_eq!(
            sample_at(&workload, &timeline, now, NOW - 100 * DAY).map(|s| s.duration),
            Some(86_400)
        );
        assert_eq!(sample_at(&workload, &timeline, now, NOW + 1), None);
        assert_eq!(sample_at(&workload, &timeline, now, NOW + 75), None);
    }

    #[test]
    fn coarse_sample_averages_its_fine_samples() {
        let workload = workload();
        let timeline = Timeline::enabled_since(NOW - DAY);
        let coarse = sample(&workload, &timeline, NOW, 300);
        let fine: u64 = (0..20)
            .map(|k| sample(&workload, &timeline, NOW - 15 * k, 15).iops.total)
            .sum();
        assert!(coarse.iops.total.abs_diff(fine / 20) <= 2);
    }

    #[test]
    fn interval_names_are_the_documented_ones() {
        for (name, interval) in ["1h", "1d", "1w", "1m", "1y"]
            .into_iter()
            .zip(Interval::ALL)
        {
            assert_eq!(Interval::parse(name), Some(interval));
        }
        assert_eq!(Interval::parse("1H"), None);
        assert_eq!(Interval::parse("2h"), None);
    }
}
