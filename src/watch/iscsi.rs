//! WatchIscsiServiceMetrics: one poller per (SVM, source, interval) reads
//! the service's raw counters or ONTAP's latest metric and publishes each
//! new sample; each watcher first replays history when asked, then reads
//! the shared feed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prost_types::{FieldMask, Timestamp};

use super::feed::{self, Lagging, Publisher, Updates};
use super::hub::{Hub, Scoped};
use super::poll::{self, PollFailed, Source};
use super::rates;
use crate::deadline::Deadline;
use crate::ontap::time;
use crate::proto::v1::{
    GetIscsiServiceRequest, IscsiService, ListIscsiServiceMetricsRequest, ListIscsiServicesRequest,
    MetricInterval, PerformanceMetric, PerformanceMetricRaw, WatchIscsiServiceMetricsRequest,
    WatchSource,
};
use crate::translate::{FieldViolation, GatewayError, Upstream, collection, instance, iscsi};

/// History a replay reaches back to at most: ONTAP keeps a year.
const MAX_REPLAY: Duration = Duration::from_secs(366 * 86_400);
/// How far past the gateway's clock a replay's start may be before it is
/// refused as in the future: what ONTAP's clock may run ahead of it. 5
/// minutes is Kerberos' default tolerance, which a cluster serving CIFS
/// keeps to anyway.
pub const MAX_CLOCK_SKEW: jiff::SignedDuration = jiff::SignedDuration::from_secs(300);

/// What identifies one upstream poll.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MetricsKey {
    svm_uuid: Option<String>,
    source: WatchSource,
    interval: Duration,
}

/// What a metrics poller publishes: each poll's samples.
pub struct MetricsFeed {
    samples: Publisher<Arc<Polled>>,
    /// The newest sample of each SVM, which a joining watcher starts with
    /// rather than wait up to an interval, and the sequence number the next
    /// sample gets. Updated under this lock together with sending the
    /// samples, so a watcher reading these and subscribing under the lock
    /// sees each sample once.
    latest: Mutex<Latest>,
}

#[derive(Default)]
struct Latest {
    next: u64,
    by_svm: BTreeMap<String, Arc<PerformanceMetric>>,
}

/// The samples of one poll, numbered from `first`: a watcher that finds a
/// gap in the numbers missed that many samples, however many polls the
/// shared ring dropped for it.
#[derive(Debug)]
struct Polled {
    first: u64,
    samples: Vec<Arc<PerformanceMetric>>,
}

/// One message of a metrics watch.
#[derive(Debug, Clone)]
pub enum MetricUpdate {
    /// A sample.
    Sample {
        /// The sample.
        metric: Arc<PerformanceMetric>,
        /// Samples this watcher missed just before this one.
        missed_samples: u64,
        /// From ONTAP's history rather than a live poll.
        replayed: bool,
    },
    /// A poll failed; the watch goes on.
    Failed(Arc<PollFailed>),
}

/// One watcher's stream: replayed history, then the newest sample of each
/// SVM as of joining, then the shared feed, ending with the poller's
/// terminal failure if it has one.
pub type MetricUpdates = Updates<MetricUpdate>;

/// The metrics watches of one cluster.
pub struct MetricsWatches {
    hub: Hub<Scoped<MetricsKey>, MetricsFeed>,
    /// Polls a watcher may fall behind by before it misses samples: one
    /// ring for all the poller's watchers, not one per watcher.
    buffer: usize,
}

impl MetricsWatches {
    pub(super) fn new(hub: Hub<Scoped<MetricsKey>, MetricsFeed>, buffer: usize) -> Self {
        Self { hub, buffer }
    }

    /// Validates `request`, replays history if it asks, and joins the
    /// shared poller for the rest.
    pub async fn watch(
        &self,
        upstream: &Upstream,
        request: &WatchIscsiServiceMetricsRequest,
        deadline: Deadline,
    ) -> Result<MetricUpdates, GatewayError> {
        let (key, start) = validate(request, jiff::Timestamp::now())?;
        let scoped = (upstream.client.scope(), key.clone());
        let membership = self.hub.join(&scoped, |stop| {
            let feed = Arc::new(MetricsFeed {
                samples: Publisher::new(self.buffer),
                latest: Mutex::default(),
            });
            let poller = MetricsPoller {
                upstream: upstream.clone(),
                key: key.clone(),
                feed: Arc::clone(&feed),
                baselines: HashMap::new(),
                latest: HashMap::new(),
            };
            tokio::spawn(poll::run(poller, key.interval, stop));
            feed
        });
        // Subscribed before the replay, so that what the poller publishes
        // meanwhile waits in the feed: no gap between history and live.
        let state = &membership.poller.state;
        let (subscription, latest, next) = {
            let latest = state.latest.lock().expect("no code panics holding it");
            let newest: Vec<_> = latest.by_svm.values().cloned().collect();
            (state.samples.subscribe(), newest, latest.next)
        };
        let live = subscription.watch(Lagging::SkipMissed, membership);
        let replay = match (&key.svm_uuid, start) {
            (Some(svm_uuid), Some(start)) => replay(upstream, svm_uuid, start, deadline).await?,
            _ => Vec::new(),
        };
        // ONTAP's own samples are the history's: live ones already replayed
        // are skipped. Computed rates are a series of their own.
        let skip_through = match key.source {
            WatchSource::OntapMetric => replay.last().and_then(|m| m.timestamp),
            _ => None,
        };
        let mut position = Position {
            next,
            missed: 0,
            skip_through,
        };
        Ok(feed::updates(
            before_live(replay, latest, skip_through),
            live,
            MetricUpdate::Failed,
            move |polled| position.samples(polled),
        ))
    }
}

/// What a watcher is sent before the feed: the history `replay`, then the
/// `newest` live samples it does not repeat.
fn before_live(
    replay: Vec<Arc<PerformanceMetric>>,
    newest: Vec<Arc<PerformanceMetric>>,
    skip_through: Option<Timestamp>,
) -> impl Iterator<Item = MetricUpdate> + Send + 'static {
    let sample = |replayed| {
        move |metric| MetricUpdate::Sample {
            metric,
            missed_samples: 0,
            replayed,
        }
    };
    let newest = newest
        .into_iter()
        .filter(move |metric| !is_replayed(metric, skip_through));
    replay
        .into_iter()
        .map(sample(true))
        .chain(newest.map(sample(false)))
}

/// The key a valid request polls under, and the instant it replays from,
/// which is no later than [`MAX_CLOCK_SKEW`] past `now`: history holds only
/// samples already taken, and a start in the future is a caller's mistake
/// (a time zone, a unit) better told than answered with no history.
fn validate(
    request: &WatchIscsiServiceMetricsRequest,
    now: jiff::Timestamp,
) -> Result<(MetricsKey, Option<jiff::Timestamp>), GatewayError> {
    let mut violations = Vec::new();
    let svm_uuid = (!request.svm_uuid.is_empty()).then(|| request.svm_uuid.clone());
    if svm_uuid.is_some() {
        iscsi::check_uuid("svm_uuid", &request.svm_uuid, &mut violations);
    }
    let interval = super::poll_interval(request.poll_interval.as_ref(), &mut violations);
    let source = match WatchSource::try_from(request.source) {
        Ok(WatchSource::Unspecified) => WatchSource::RatesFromCounters,
        Ok(source) => source,
        Err(_) => {
            violations.push(FieldViolation::new(
                "source",
                format!("{} is not a WatchSource", request.source),
            ));
            WatchSource::RatesFromCounters
        }
    };
    let mut start = None;
    if let Some(requested) = &request.start_time {
        if svm_uuid.is_none() {
            violations.push(FieldViolation::new(
                "start_time",
                "needs svm_uuid: history is kept per service",
            ));
        }
        match time::instant(requested.seconds, requested.nanos) {
            Err(why) => violations.push(FieldViolation::new("start_time", why)),
            Ok(at) if now.duration_until(at) > MAX_CLOCK_SKEW => {
                violations.push(FieldViolation::new(
                    "start_time",
                    format!(
                        "is {}s in the future of the gateway's clock (which ONTAP's may run \
                         ahead of by {}s at most); history holds only samples already taken",
                        now.duration_until(at).as_secs(),
                        MAX_CLOCK_SKEW.as_secs()
                    ),
                ));
            }
            Ok(at) => start = Some(at),
        }
    }
    if !violations.is_empty() {
        return Err(GatewayError::InvalidRequest(violations));
    }
    let key = MetricsKey {
        svm_uuid,
        source,
        interval,
    };
    Ok((key, start))
}

/// The history samples after `start`, oldest first, at the finest interval
/// reaching back that far from ONTAP's latest sample (ONTAP's clock, not
/// the gateway's, decides what "back" means).
async fn replay(
    upstream: &Upstream,
    svm_uuid: &str,
    start: jiff::Timestamp,
    deadline: Deadline,
) -> Result<Vec<Arc<PerformanceMetric>>, GatewayError> {
    let service = instance::get(
        upstream,
        &GetIscsiServiceRequest {
            svm_uuid: svm_uuid.to_owned(),
            read_mask: Some(mask(&["metric.timestamp"])),
        },
        deadline,
    )
    .await?;
    let latest = service
        .metric
        .and_then(|m| m.timestamp)
        .map_or(start.as_second(), |t| t.seconds);
    let back = Duration::from_secs(latest.saturating_sub(start.as_second()).max(0) as u64);
    let Some(interval) = finest_interval_reaching(back) else {
        return Err(GatewayError::InvalidRequest(vec![FieldViolation::new(
            "start_time",
            "is more than a year before ONTAP's latest sample; ONTAP keeps a year of history",
        )]));
    };
    let mut request = ListIscsiServiceMetricsRequest {
        svm_uuid: svm_uuid.to_owned(),
        interval: interval as i32,
        // Samples fall on whole seconds: those after `start` are those
        // after its whole second, which is all ONTAP takes.
        timestamp: format!(">{}", time::format_timestamp(start)),
        order_by: vec!["timestamp asc".to_owned()],
        page_size: 1000,
        ..ListIscsiServiceMetricsRequest::default()
    };
    let mut samples = Vec::new();
    loop {
        let page = iscsi::list_metrics(upstream, &request, deadline).await?;
        samples.extend(page.metrics.into_iter().map(Arc::new));
        if page.next_page_token.is_empty() {
            break;
        }
        request.page_token = page.next_page_token;
    }
    Ok(samples)
}

/// The history interval with the finest samples that still covers `back`.
fn finest_interval_reaching(back: Duration) -> Option<MetricInterval> {
    const HOUR: u64 = 3_600;
    [
        (HOUR, MetricInterval::OneHour),
        (24 * HOUR, MetricInterval::OneDay),
        (7 * 24 * HOUR, MetricInterval::OneWeek),
        (30 * 24 * HOUR, MetricInterval::OneMonth),
        (MAX_REPLAY.as_secs(), MetricInterval::OneYear),
    ]
    .into_iter()
    .find(|(window, _)| back.as_secs() <= *window)
    .map(|(_, interval)| interval)
}

fn mask(paths: &[&str]) -> FieldMask {
    FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    }
}

/// Polls the services of one key and publishes their new samples.
struct MetricsPoller {
    upstream: Upstream,
    key: MetricsKey,
    feed: Arc<MetricsFeed>,
    /// The reading each SVM's next rates are measured from.
    baselines: HashMap<String, PerformanceMetricRaw>,
    /// The newest ONTAP metric published per SVM.
    latest: HashMap<String, Timestamp>,
}

impl MetricsPoller {
    /// The polled services, with `svm` and the source's block.
    async fn services(&self) -> Result<Vec<IscsiService>, GatewayError> {
        let block = match self.key.source {
            WatchSource::OntapMetric => "metric",
            _ => "statistics",
        };
        let read_mask = Some(mask(&["svm", block]));
        if let Some(svm_uuid) = &self.key.svm_uuid {
            let request = GetIscsiServiceRequest {
                svm_uuid: svm_uuid.clone(),
                read_mask,
            };
            return Ok(vec![
                instance::get(&self.upstream, &request, Deadline::NONE).await?,
            ]);
        }
        let mut request = ListIscsiServicesRequest {
            read_mask,
            page_size: 1000,
            ..ListIscsiServicesRequest::default()
        };
        let mut services = Vec::new();
        loop {
            let page = collection::list(&self.upstream, &request, Deadline::NONE).await?;
            services.extend(page.iscsi_services);
            if page.next_page_token.is_empty() {
                return Ok(services);
            }
            request.page_token = page.next_page_token;
        }
    }

    /// Publishes one poll's samples, and forgets SVMs no longer polled.
    fn publish(&self, samples: Vec<(String, PerformanceMetric)>, present: &HashSet<String>) {
        let mut latest = self.feed.latest.lock().expect("no code panics holding it");
        latest.by_svm.retain(|uuid, _| present.contains(uuid));
        if samples.is_empty() {
            return;
        }
        let polled = Polled {
            first: latest.next,
            samples: samples
                .into_iter()
                .map(|(uuid, sample)| {
                    let sample = Arc::new(sample);
                    latest.by_svm.insert(uuid, Arc::clone(&sample));
                    sample
                })
                .collect(),
        };
        latest.next += polled.samples.len() as u64;
        self.feed.samples.publish(Arc::new(polled));
    }
}

impl Source for MetricsPoller {
    async fn poll(&mut self) -> Result<(), GatewayError> {
        let services = self.services().await?;
        let mut present = HashSet::new();
        let mut samples = Vec::new();
        for service in services {
            let Some(svm) = service.svm else { continue };
            let Some(uuid) = svm.uuid.clone() else {
                continue;
            };
            present.insert(uuid.clone());
            match self.key.source {
                WatchSource::OntapMetric => {
                    let Some(mut metric) = service.metric else {
                        continue;
                    };
                    let Some(at) = metric.timestamp else { continue };
                    if self
                        .latest
                        .get(&uuid)
                        .is_some_and(|seen| !is_after(&at, seen))
                    {
                        continue;
                    }
                    self.latest.insert(uuid.clone(), at);
                    metric.svm = Some(svm);
                    samples.push((uuid, metric));
                }
                _ => {
                    let Some(reading) = service.statistics else {
                        continue;
                    };
                    match rates::step(self.baselines.get(&uuid), &reading) {
                        None => {
                            self.baselines.entry(uuid).or_insert(reading);
                        }
                        Some(mut sample) => {
                            self.baselines.insert(uuid.clone(), reading);
                            sample.svm = Some(svm);
                            samples.push((uuid, sample));
                        }
                    }
                }
            }
        }
        self.baselines.retain(|uuid, _| present.contains(uuid));
        self.latest.retain(|uuid, _| present.contains(uuid));
        self.publish(samples, &present);
        Ok(())
    }

    fn failed(&mut self, failure: PollFailed) {
        tracing::debug!(error = %failure.error, consecutive = failure.consecutive, "metrics poll failed");
        self.feed.samples.failed(failure);
    }

    fn ended(&mut self, error: GatewayError) {
        tracing::debug!(%error, "metrics watch ended");
        self.feed.samples.end(error);
    }
}

fn is_after(a: &Timestamp, b: &Timestamp) -> bool {
    (a.seconds, a.nanos) > (b.seconds, b.nanos)
}

/// Whether the history replay, which reached `through`, already held
/// `metric`.
fn is_replayed(metric: &PerformanceMetric, through: Option<Timestamp>) -> bool {
    through.is_some_and(|through| metric.timestamp.is_some_and(|t| !is_after(&t, &through)))
}

/// Where one watcher is in its poller's numbered samples.
struct Position {
    /// The sequence number of the next sample this watcher expects.
    next: u64,
    /// Samples missed and not yet told.
    missed: u64,
    /// The newest sample of the history replay, which live samples repeat
    /// up to.
    skip_through: Option<Timestamp>,
}

impl Position {
    /// The samples of `polled` this watcher has not seen, the first telling
    /// how many it missed since the last it was sent.
    fn samples(&mut self, polled: Arc<Polled>) -> impl Iterator<Item = MetricUpdate> + use<> {
        self.missed += polled.first.saturating_sub(self.next);
        self.next = polled.first + polled.samples.len() as u64;
        let skip_through = self.skip_through;
        let sends_any = polled.samples.iter().any(|m| !is_replayed(m, skip_through));
        let mut missed = if sends_any {
            std::mem::take(&mut self.missed)
        } else {
            0
        };
        (0..polled.samples.len())
            .map(move |i| Arc::clone(&polled.samples[i]))
            .filter(move |metric| !is_replayed(metric, skip_through))
            .map(move |metric| MetricUpdate::Sample {
                metric,
                missed_samples: std::mem::take(&mut missed),
                replayed: false,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> WatchIscsiServiceMetricsRequest {
        WatchIscsiServiceMetricsRequest {
            svm_uuid: "7e5a1b8c-0000-4000-8000-000000000001".into(),
            ..WatchIscsiServiceMetricsRequest::default()
        }
    }

    /// The gateway's clock in these tests: 2026-01-01T01:00:00Z.
    fn now() -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_767_229_200).unwrap()
    }

    fn fields(err: GatewayError) -> Vec<String> {
        match err {
            GatewayError::InvalidRequest(v) => v.into_iter().map(|v| v.field).collect(),
            other => panic!("expected violations, got {other:?}"),
        }
    }

    #[test]
    fn an_unset_source_computes_rates_from_counters_every_15_seconds() {
        let (key, _) = validate(&request(), now()).unwrap();
        assert_eq!(key.source, WatchSource::RatesFromCounters);
        assert_eq!(key.interval, Duration::from_secs(15));
    }

    #[test]
    fn no_svm_watches_every_service() {
        let (key, _) = validate(&WatchIscsiServiceMetricsRequest::default(), now()).unwrap();
        assert_eq!(key.svm_uuid, None);
    }

    #[test]
    fn a_malformed_svm_uuid_is_refused() {
        let err = validate(
            &WatchIscsiServiceMetricsRequest {
                svm_uuid: "../../cluster".into(),
                ..request()
            },
            now(),
        )
        .unwrap_err();
        assert_eq!(fields(err), ["svm_uuid"]);
    }

    #[test]
    fn an_unknown_source_is_refused() {
        let err = validate(
            &WatchIscsiServiceMetricsRequest {
                source: 9,
                ..request()
            },
            now(),
        )
        .unwrap_err();
        assert_eq!(fields(err), ["source"]);
    }

    #[test]
    fn a_replay_needs_an_svm() {
        let err = validate(
            &WatchIscsiServiceMetricsRequest {
                svm_uuid: String::new(),
                start_time: Some(Timestamp::default()),
                ..request()
            },
            now(),
        )
        .unwrap_err();
        assert_eq!(fields(err), ["start_time"]);
    }

    #[test]
    fn a_replay_starts_from_the_instant_asked_for() {
        let (_, start) = validate(
            &WatchIscsiServiceMetricsRequest {
                start_time: Some(Timestamp {
                    seconds: 1_767_225_600,
                    nanos: 5,
                }),
                ..request()
            },
            now(),
        )
        .unwrap();
        assert_eq!(start, Some(jiff::Timestamp::new(1_767_225_600, 5).unwrap()));
    }

    fn starting_at(seconds: i64, nanos: i32) -> Result<Option<jiff::Timestamp>, GatewayError> {
        let request = WatchIscsiServiceMetricsRequest {
            start_time: Some(Timestamp { seconds, nanos }),
            ..request()
        };
        validate(&request, now()).map(|(_, start)| start)
    }

    #[test]
    fn a_start_time_that_is_no_instant_from_1970_to_9999_is_refused() {
        for (seconds, nanos) in [(-1, 0), (0, -1), (0, 1_000_000_000), (253_402_300_800, 0)] {
            let err = starting_at(seconds, nanos).unwrap_err();
            assert_eq!(fields(err), ["start_time"], "{seconds}s {nanos}ns");
        }
    }

    #[test]
    fn negative_nanos_are_refused_not_borrowed_from_the_second_before() {
        let err = starting_at(1_767_225_600, -1).unwrap_err();
        assert_eq!(fields(err), ["start_time"]);
    }

    #[test]
    fn a_start_time_past_the_clock_skew_ahead_is_refused_as_in_the_future() {
        let ahead = now().as_second() + MAX_CLOCK_SKEW.as_secs();
        let err = starting_at(ahead + 1, 0).unwrap_err();
        assert!(err.to_string().contains("301s in the future"), "{err}");
        assert_eq!(fields(err), ["start_time"]);
    }

    #[test]
    fn a_start_time_up_to_the_clock_skew_ahead_is_taken() {
        let ahead = now().as_second() + MAX_CLOCK_SKEW.as_secs();
        assert_eq!(
            starting_at(ahead, 0).unwrap(),
            Some(jiff::Timestamp::from_second(ahead).unwrap())
        );
    }

    #[test]
    fn the_finest_history_reaching_back_far_enough_is_chosen() {
        let hours = |h: u64| Duration::from_secs(h * 3_600);
        assert_eq!(
            finest_interval_reaching(hours(0)),
            Some(MetricInterval::OneHour)
        );
        assert_eq!(
            finest_interval_reaching(hours(1)),
            Some(MetricInterval::OneHour)
        );
        assert_eq!(
            finest_interval_reaching(hours(2)),
            Some(MetricInterval::OneDay)
        );
        assert_eq!(
            finest_interval_reaching(hours(24 * 3)),
            Some(MetricInterval::OneWeek)
        );
        assert_eq!(
            finest_interval_reaching(hours(24 * 20)),
            Some(MetricInterval::OneMonth)
        );
        assert_eq!(
            finest_interval_reaching(hours(24 * 200)),
            Some(MetricInterval::OneYear)
        );
        assert_eq!(finest_interval_reaching(hours(24 * 400)), None);
    }

    /// A poll numbered from `first` of samples taken at `seconds`.
    fn polled(first: u64, seconds: &[i64]) -> Arc<Polled> {
        let sample = |&seconds: &i64| {
            Arc::new(PerformanceMetric {
                timestamp: Some(Timestamp { seconds, nanos: 0 }),
                ..PerformanceMetric::default()
            })
        };
        Arc::new(Polled {
            first,
            samples: seconds.iter().map(sample).collect(),
        })
    }

    fn missed(update: MetricUpdate) -> u64 {
        match update {
            MetricUpdate::Sample { missed_samples, .. } => missed_samples,
            MetricUpdate::Failed(_) => panic!("expected a sample"),
        }
    }

    #[test]
    fn missed_samples_are_told_on_the_next_sample_sent() {
        let mut position = Position {
            next: 0,
            missed: 0,
            skip_through: None,
        };
        let told: Vec<_> = position.samples(polled(3, &[1, 2])).map(missed).collect();
        assert_eq!(told, [3, 0]);
    }

    #[test]
    fn missed_samples_wait_for_a_sample_the_replay_did_not_hold() {
        let mut position = Position {
            next: 0,
            missed: 0,
            skip_through: Some(Timestamp {
                seconds: 10,
                nanos: 0,
            }),
        };
        assert_eq!(position.samples(polled(2, &[9, 10])).count(), 0);
        let told: Vec<_> = position.samples(polled(4, &[11])).map(missed).collect();
        assert_eq!(told, [2]);
    }
}
