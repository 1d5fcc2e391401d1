//! Watches: gRPC server streams fed by polling ONTAP, whose REST API has no
//! push channel. Every watcher of the same upstream query shares one poller
//! ([`hub`]), which runs the poll loop ([`poll`]) while anyone watches and
//! publishes into a bounded feed that slow watchers fall behind in rather
//! than hold up.
//!
//! This sits between the gRPC handlers and the translator: a poller calls
//! the translator's List and Get as a handler would, and the handlers turn
//! the watch's typed updates and errors into messages and statuses.

pub(crate) mod feed;
mod hub;
mod iscsi;
mod keyed;
mod poll;
mod rates;

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub use feed::Updates;
pub use hub::LiveCounts;
pub use iscsi::{MetricUpdate, MetricUpdates, MetricsWatches};
pub use keyed::{Change, KeyedWatches, Update};
pub use poll::PollFailed;

use crate::translate::FieldViolation;
use crate::translate::collection::ListOf;
use hub::Hub;

/// The poll interval when a request sets none: ONTAP's own sample spacing.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(15);
/// The shortest poll interval: ONTAP's counters move in seconds, and a
/// faster poll only loads the cluster.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// The longest poll interval.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(600);

/// Every watch of one cluster.
pub struct Watches {
    /// iSCSI metrics watches.
    pub metrics: MetricsWatches,
    /// The watches of each resource with keys, by its List request's type,
    /// made when first watched.
    keyed: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
    /// Polls each poller keeps for watchers that fall behind.
    buffer: usize,
    counts: Arc<LiveCounts>,
    closing: CancellationToken,
}

/// Polls each poller keeps for watchers that fall behind, by default.
pub const DEFAULT_WATCH_BUFFER: usize = 64;

impl Default for Watches {
    fn default() -> Self {
        Self::with_buffer(DEFAULT_WATCH_BUFFER)
    }
}

impl std::fmt::Debug for Watches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watches")
            .field("pollers", &self.counts.pollers())
            .field("watchers", &self.counts.watchers())
            .finish()
    }
}

impl Watches {
    /// Watches whose pollers each keep `polls` polls for watchers that fall
    /// behind (at least 1): one ring per poller, shared by its watchers.
    pub fn with_buffer(polls: usize) -> Self {
        let counts = Arc::new(LiveCounts::default());
        let polls = polls.max(1);
        Self {
            metrics: MetricsWatches::new(Hub::new(Arc::clone(&counts)), polls),
            keyed: Mutex::default(),
            buffer: polls,
            counts,
            closing: CancellationToken::new(),
        }
    }

    /// The watches of the resource `L` lists.
    pub fn keyed<L: ListOf>(&self) -> Arc<KeyedWatches<L>> {
        let mut keyed = self.keyed.lock().expect("no code panics holding it");
        let watches = keyed.entry(TypeId::of::<L>()).or_insert_with(|| {
            let hub = Hub::new(Arc::clone(&self.counts));
            Arc::new(KeyedWatches::<L>::new(hub, self.buffer))
        });
        Arc::clone(watches)
            .downcast()
            .expect("each entry is the watches of the type it is keyed by")
    }

    /// Ends every server stream, now and from now on, with UNAVAILABLE
    /// (`GATEWAY_SHUTTING_DOWN`): at shutdown a stream would otherwise hold
    /// the drain for its whole timeout, and its caller should reconnect.
    pub fn close(&self) {
        self.closing.cancel();
    }

    /// Cancelled once the gateway closes its streams.
    pub fn closing(&self) -> CancellationToken {
        self.closing.clone()
    }

    /// How many pollers and watchers are live.
    pub fn live(&self) -> &LiveCounts {
        &self.counts
    }
}

/// The poll interval a request asks for, or a violation of `poll_interval`.
fn poll_interval(
    requested: Option<&prost_types::Duration>,
    violations: &mut Vec<FieldViolation>,
) -> Duration {
    let Some(requested) = requested else {
        return DEFAULT_POLL_INTERVAL;
    };
    let valid = u64::try_from(requested.seconds)
        .ok()
        .zip(u32::try_from(requested.nanos).ok())
        .filter(|(_, nanos)| *nanos < 1_000_000_000)
        .map(|(seconds, nanos)| Duration::new(seconds, nanos))
        .filter(|d| (MIN_POLL_INTERVAL..=MAX_POLL_INTERVAL).contains(d));
    valid.unwrap_or_else(|| {
        violations.push(FieldViolation::new(
            "poll_interval",
            format!(
                "must be between {}s and {}s",
                MIN_POLL_INTERVAL.as_secs(),
                MAX_POLL_INTERVAL.as_secs()
            ),
        ));
        DEFAULT_POLL_INTERVAL
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(seconds: i64, nanos: i32) -> Result<Duration, Vec<FieldViolation>> {
        let mut violations = Vec::new();
        let d = poll_interval(
            Some(&prost_types::Duration { seconds, nanos }),
            &mut violations,
        );
        if violations.is_empty() {
            Ok(d)
        } else {
            Err(violations)
        }
    }

    #[test]
    fn watches_show_their_live_counts_when_debugged() {
        assert_eq!(
            format!("{:?}", Watches::default()),
            "Watches { pollers: 0, watchers: 0 }"
        );
    }

    #[test]
    fn an_unset_poll_interval_is_15_seconds() {
        assert_eq!(poll_interval(None, &mut Vec::new()), DEFAULT_POLL_INTERVAL);
    }

    #[test]
    fn poll_intervals_from_1_second_to_10_minutes_are_kept() {
        assert_eq!(interval(1, 0), Ok(Duration::from_secs(1)));
        assert_eq!(interval(2, 500_000_000), Ok(Duration::from_millis(2_500)));
        assert_eq!(interval(600, 0), Ok(Duration::from_secs(600)));
    }

    #[test]
    fn poll_intervals_outside_1_second_to_10_minutes_are_refused() {
        for (seconds, nanos) in [
            (0, 999_999_999),
            (600, 1),
            (-1, 0),
            (0, 0),
            (5, -1),
            (1, 1_000_000_000),
        ] {
            let violations = interval(seconds, nanos).unwrap_err();
            assert_eq!(violations[0].field, "poll_interval", "{seconds}s {nanos}ns");
        }
    }
}
