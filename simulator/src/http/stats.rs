//! Connection and request counters, so tests can prove pooling limits and upstream cancellation.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;
use tokio::sync::Notify;

use crate::http::svm_requests::SvmRequests;

/// A point-in-time copy of the counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
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

/// The request counters of one request path (without its query), so a test can tell which
/// endpoint a client called how often, and how many calls to it overlapped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PathStats {
    /// Requests received for the path (authenticated or not).
    pub requests: u64,
    /// Requests for the path being handled now.
    pub in_flight: u64,
    /// Most requests for the path handled at once.
    pub peak_in_flight: u64,
}

/// The tracing headers of one request, as a client sent them: a test proves
/// a caller's request id and W3C trace context reached ONTAP.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RequestTrace {
    /// The request path, without its query.
    pub path: String,
    /// `X-Request-Id`, if sent.
    pub request_id: Option<String>,
    /// `traceparent`, if sent.
    pub traceparent: Option<String>,
}

/// How many requests' tracing headers are kept: the latest only.
const TRACES_KEPT: usize = 256;

/// The live counters.
#[derive(Debug, Default)]
pub struct Stats {
    /// The latest requests' tracing headers, oldest first.
    traces: Mutex<VecDeque<RequestTrace>>,
    connections_accepted: AtomicU64,
    open_connections: AtomicU64,
    peak_open_connections: AtomicU64,
    requests: AtomicU64,
    in_flight: AtomicU64,
    peak_in_flight: AtomicU64,
    aborted_requests: AtomicU64,
    /// Sorted, so listings come out the same way every time.
    paths: Mutex<BTreeMap<String, PathStats>>,
    /// Authenticated requests by SVM and user; reset with the rest.
    svm_requests: SvmRequests,
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

    /// Reads the counters of every path requested since start (or the last reset).
    pub fn paths(&self) -> BTreeMap<String, PathStats> {
        self.lock_paths().clone()
    }

    /// The authenticated requests by the SVM they concern and their user.
    pub fn svm_requests(&self) -> &SvmRequests {
        &self.svm_requests
    }

    /// The tracing headers of the latest requests (up to 256), oldest first.
    pub fn traces(&self) -> Vec<RequestTrace> {
        let traces = self.traces.lock().unwrap_or_else(|p| p.into_inner());
        traces.iter().cloned().collect()
    }

    fn record_trace(&self, request: &Request) {
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let trace = RequestTrace {
            path: request.uri().path().to_owned(),
            request_id: header("x-request-id"),
            traceparent: header("traceparent"),
        };
        let mut traces = self.traces.lock().unwrap_or_else(|p| p.into_inner());
        if traces.len() == TRACES_KEPT {
            traces.pop_front();
        }
        traces.push_back(trace);
    }

    /// Starts counting afresh: totals to zero, peaks down to what is open or in flight now. Open
    /// connections and requests in flight stay counted, so their ends still balance; a path
    /// with nothing in flight is forgotten, and so are the per-SVM counts.
    pub fn reset(&self) {
        self.svm_requests.reset();
        self.connections_accepted.store(0, Ordering::SeqCst);
        self.requests.store(0, Ordering::SeqCst);
        self.aborted_requests.store(0, Ordering::SeqCst);
        self.peak_open_connections.store(
            self.open_connections.load(Ordering::SeqCst),
            Ordering::SeqCst,
        );
        self.peak_in_flight
            .store(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
        self.lock_paths().retain(|_, path| {
            *path = PathStats {
                requests: 0,
                in_flight: path.in_flight,
                peak_in_flight: path.in_flight,
            };
            path.in_flight > 0
        });
        self.changed.notify_waiters();
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

    fn request_started(self: &Arc<Self>, path: &str) -> RequestGuard {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let in_flight = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak_in_flight.fetch_max(in_flight, Ordering::SeqCst);
        {
            let mut paths = self.lock_paths();
            let counters = paths.entry(path.to_owned()).or_default();
            counters.requests += 1;
            counters.in_flight += 1;
            counters.peak_in_flight = counters.peak_in_flight.max(counters.in_flight);
        }
        self.changed.notify_waiters();
        RequestGuard {
            stats: Arc::clone(self),
            path: path.to_owned(),
            completed: false,
        }
    }

    /// The counters are plain data, so a panic elsewhere does not make them unusable.
    fn lock_paths(&self) -> MutexGuard<'_, BTreeMap<String, PathStats>> {
        self.paths
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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
    path: String,
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
        if let Some(counters) = self.stats.lock_paths().get_mut(&self.path) {
            counters.in_flight -= 1;
        }
        if !self.completed {
            self.stats.aborted_requests.fetch_add(1, Ordering::SeqCst);
        }
        self.stats.changed.notify_waiters();
    }
}

/// Outermost middleware: hyper drops this future when the client goes away mid-request, and the
/// guard notices.
pub async fn track(State(stats): State<Arc<Stats>>, request: Request, next: Next) -> Response {
    stats.record_trace(&request);
    let guard = stats.request_started(request.uri().path());
    let response = next.run(request).await;
    guard.complete();
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_latest_traces_are_kept() {
        let stats = Stats::default();
        for n in 0..TRACES_KEPT + 1 {
            let request = Request::builder()
                .uri(format!("/api/{n}"))
                .header("x-request-id", n.to_string())
                .body(axum::body::Body::empty())
                .unwrap();
            stats.record_trace(&request);
        }
        let traces = stats.traces();
        assert_eq!(traces.len(), TRACES_KEPT);
        assert_eq!(traces[0].path, "/api/1");
        assert_eq!(traces[TRACES_KEPT - 1].request_id.as_deref(), Some("256"));
        assert_eq!(traces[0].traceparent, None);
    }

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
        stats.request_started("/a").complete();
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
        let request = stats.request_started("/a");
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
    fn each_path_counts_its_requests_and_peak_in_flight() {
        let stats = Arc::new(Stats::default());
        let a1 = stats.request_started("/a");
        let a2 = stats.request_started("/a");
        stats.request_started("/b").complete();
        a1.complete();
        a2.complete();
        let paths = stats.paths();
        let counted = |requests, peak_in_flight| PathStats {
            requests,
            in_flight: 0,
            peak_in_flight,
        };
        assert_eq!(paths["/a"], counted(2, 2));
        assert_eq!(paths["/b"], counted(1, 1));
        assert_eq!(paths.len(), 2);
    }

    #[test]
    fn reset_zeroes_totals_and_keeps_what_is_still_open() {
        let stats = Arc::new(Stats::default());
        let connection = stats.connection_opened();
        drop(stats.connection_opened());
        stats.request_started("/done").complete();
        let open = stats.request_started("/open");
        stats.reset();
        assert_eq!(
            stats.snapshot(),
            StatsSnapshot {
                open_connections: 1,
                peak_open_connections: 1,
                in_flight: 1,
                peak_in_flight: 1,
                ..StatsSnapshot::default()
            }
        );
        let paths = stats.paths();
        assert_eq!(paths.keys().collect::<Vec<_>>(), ["/open"]);
        assert_eq!(paths["/open"].requests, 0);
        open.complete();
        drop(connection);
        assert_eq!(stats.snapshot().in_flight, 0);
        assert_eq!(stats.paths()["/open"].in_flight, 0);
    }

    #[test]
    fn dropped_request_counts_as_aborted() {
        let stats = Arc::new(Stats::default());
        drop(stats.request_started("/a"));
        assert_eq!(stats.snapshot().aborted_requests, 1);
        assert_eq!(stats.snapshot().in_flight, 0);
    }
}
