//! Connection and request counters, so tests can prove pooling limits and upstream cancellation.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::Notify;

/// A point-in-time copy of the counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// TCP connections accepted since start.
    pub connections_accepted: u64,
    /// TCP connections currently open.
    pub open_connections: u64,
    /// Most TCP connections open at once.
    pub peak_open_connections: u64,
    /// HTTP requests received (authenticated or not).
    pub requests: u64,
    /// Requests being handled now.
    pub in_flight: u64,
    /// Most requests handled at once.
    pub peak_in_flight: u64,
    /// Requests whose handling was dropped before a response was produced (the client went away).
    pub aborted_requests: u64,
}

/// The live counters.
#[derive(Debug, Default)]
pub struct Stats {
    connections_accepted: AtomicU64,
    open_connections: AtomicU64,
    peak_open_connections: AtomicU64,
    requests: AtomicU64,
    in_flight: AtomicU64,
    peak_in_flight: AtomicU64,
    aborted_requests: AtomicU64,
    /// Wakes whoever waits in [`Stats::wait_until`] after any change.
    changed: Notify,
}

impl Stats {
    /// Reads every counter.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            connections_accepted: self.connections_accepted.load(Ordering::SeqCst),
            open_connections: self.open_connections.load(Ordering::SeqCst),
            peak_open_connections: self.peak_open_connections.load(Ordering::SeqCst),
            requests: self.requests.load(Ordering::SeqCst),
            in_flight: self.in_flight.load(Ordering::SeqCst),
            peak_in_flight: self.peak_in_flight.load(Ordering::SeqCst),
            aborted_requests: self.aborted_requests.load(Ordering::SeqCst),
        }
    }

    /// The counters once `condition` holds for them. A change in a connection or request wakes
    /// the check, so a caller learns of a state the moment it is reached, without polling.
    pub async fn wait_until(
        &self,
        mut condition: impl FnMut(&StatsSnapshot) -> bool,
    ) -> StatsSnapshot {
        loop {
            let changed = self.changed.notified();
            let mut changed = std::pin::pin!(changed);
            changed.as_mut().enable();
            let snapshot = self.snapshot();
            if condition(&snapshot) {
                return snapshot;
            }
            changed.await;
        }
    }

    /// Counts an accepted connection; it stays open until the guard is dropped.
    pub fn connection_opened(self: &Arc<Self>) -> ConnectionGuard {
        self.connections_accepted.fetch_add(1, Ordering::SeqCst);
        let open = self.open_connections.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak_open_connections.fetch_max(open, Ordering::SeqCst);
        self.changed.notify_waiters();
        ConnectionGuard(Arc::clone(self))
    }

    fn request_started(self: &Arc<Self>) -> RequestGuard {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let in_flight = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak_in_flight.fetch_max(in_flight, Ordering::SeqCst);
        self.changed.notify_waiters();
        RequestGuard {
            stats: Arc::clone(self),
            completed: false,
        }
    }
}

/// Keeps a connection counted as open.
#[derive(Debug)]
pub struct ConnectionGuard(Arc<Stats>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.open_connections.fetch_sub(1, Ordering::SeqCst);
        self.0.changed.notify_waiters();
    }
}

/// Counts a request in flight; dropped without [`RequestGuard::complete`] it counts as aborted.
struct RequestGuard {
    stats: Arc<Stats>,
    completed: bool,
}

impl RequestGuard {
    fn complete(mut self) {
        self.completed = true;
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.stats.in_flight.fetch_sub(1, Ordering::SeqCst);
        if !self.completed {
            self.stats.aborted_requests.fetch_add(1, Ordering::SeqCst);
        }
        self.stats.changed.notify_waiters();
    }
}

/// Outermost middleware: hyper drops this future when the client goes away mid-request, and the
/// guard notices.
pub async fn track(State(stats): State<Arc<Stats>>, request: Request, next: Next) -> Response {
    let guard = stats.request_started();
    let response = next.run(request).await;
    guard.complete();
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_open_connections_survives_closing() {
        let stats = Arc::new(Stats::default());
        let a = stats.connection_opened();
        let b = stats.connection_opened();
        drop(a);
        drop(b);
        let snapshot = stats.snapshot();
        assert_eq!(snapshot.connections_accepted, 2);
        assert_eq!(snapshot.open_connections, 0);
        assert_eq!(snapshot.peak_open_connections, 2);
    }

    #[test]
    fn completed_request_is_not_aborted() {
        let stats = Arc::new(Stats::default());
        stats.request_started().complete();
        let snapshot = stats.snapshot();
        assert_eq!((snapshot.requests, snapshot.in_flight), (1, 0));
        assert_eq!(snapshot.aborted_requests, 0);
    }

    #[tokio::test]
    async fn a_waiter_wakes_when_the_counters_reach_its_condition() {
        let stats = Arc::new(Stats::default());
        let waiter = tokio::spawn({
            let stats = Arc::clone(&stats);
            async move { stats.wait_until(|s| s.aborted_requests == 1).await }
        });
        let request = stats.request_started();
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(request);
        let reached = waiter.await.expect("waiter");
        assert_eq!((reached.aborted_requests, reached.in_flight), (1, 0));
    }

    #[tokio::test]
    async fn a_condition_that_already_holds_returns_at_once() {
        let stats = Stats::default();
        assert_eq!(stats.wait_until(|s| s.requests == 0).await.requests, 0);
    }

    #[test]
    fn dropped_request_counts_as_aborted() {
        let stats = Arc::new(Stats::default());
        drop(stats.request_started());
        assert_eq!(stats.snapshot().aborted_requests, 1);
        assert_eq!(stats.snapshot().in_flight, 0);
    }
}
