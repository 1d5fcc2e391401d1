//! Single flight: identical reads in flight at the same time share one
//! upstream request. Many services poll the same collections through the
//! gateway, often on the same schedule, and each would otherwise cost ONTAP
//! a request of its own. Nothing is cached: a read that starts after the
//! shared one answered sends its own.
//!
//! The shared read runs with no deadline of its own, bounded by the
//! client's timeouts; each caller stops waiting at its own deadline, the
//! read is retried only while some caller still wants it, and it is
//! cancelled when the last caller leaves.

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use futures_util::future::{BoxFuture, FutureExt, Shared, WeakShared};
use pin_project_lite::pin_project;
use tokio::time::Timeout;
use tower::{Layer, Service, ServiceExt};

use super::Named;
use super::request::{CallContext, Kind, UpstreamRequest};
use crate::deadline::Deadline;
use crate::ontap::body::Response;
use crate::ontap::error::{OntapError, TimeBound};

/// One upstream request, awaited by every caller that joined it.
type Exchange = Shared<BoxFuture<'static, Result<Response, OntapError>>>;

/// The reads in flight on one cluster's client, by URL and credentials.
#[derive(Default)]
pub struct Flights {
    by_key: Arc<Mutex<HashMap<String, Entry>>>,
    next_id: AtomicU64,
    callers: Arc<AtomicUsize>,
}

struct Entry {
    id: u64,
    exchange: WeakShared<BoxFuture<'static, Result<Response, OntapError>>>,
    progress: Arc<Progress>,
}

/// How far a shared read has got, so that a caller whose own deadline
/// passes first is told what it was waiting for.
#[derive(Debug, Default)]
pub struct Progress {
    sent: OnceLock<Instant>,
    /// The latest deadline of the callers that joined: how long an answer
    /// is still of use to someone (a retry worth waiting for).
    wanted_until: Mutex<Option<Deadline>>,
}

impl Progress {
    /// Marks the request as holding an upstream slot and sent.
    pub fn sent(&self) {
        let _ = self.sent.set(Instant::now());
    }

    /// When the request was sent, if it has been.
    pub fn sent_at(&self) -> Option<Instant> {
        self.sent.get().copied()
    }

    /// The latest deadline of the callers so far.
    pub fn wanted_until(&self) -> Deadline {
        self.wanted().unwrap_or(Deadline::NONE)
    }

    fn wanted_by(&self, deadline: Deadline) {
        let mut wanted = self.wanted();
        *wanted = Some(wanted.map_or(deadline, |until| until.later(deadline)));
    }

    fn wanted(&self) -> std::sync::MutexGuard<'_, Option<Deadline>> {
        self.wanted_until.lock().expect("no code panics holding it")
    }
}

/// Reads in flight now, for tests and the gateway's own metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coalescing {
    /// Upstream reads in flight that callers share.
    pub flights: usize,
    /// Callers waiting on them.
    pub callers: usize,
}

impl Flights {
    /// Joins the read of `key` in flight, or starts it with `start`, which
    /// must report through the [`Progress`] it is given.
    pub fn join<F>(
        &self,
        key: &str,
        deadline: Deadline,
        start: impl FnOnce(Arc<Progress>) -> F,
    ) -> Joined
    where
        F: Future<Output = Result<Response, OntapError>> + Send + 'static,
    {
        let mut by_key = self.by_key.lock().expect("no code panics holding it");
        let running = by_key
            .get(key)
            .and_then(|entry| Some((entry.exchange.upgrade()?, Arc::clone(&entry.progress))));
        let (exchange, progress) = match running {
            Some(running) => running,
            None => {
                let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                let progress = Arc::new(Progress::default());
                let exchange = start(Arc::clone(&progress));
                let landing = Landing {
                    by_key: Arc::clone(&self.by_key),
                    key: key.to_owned(),
                    id,
                };
                let exchange = async move {
                    // Dropped when the read answers or its last caller
                    // leaves: either way, later reads start afresh.
                    let _landing = landing;
                    exchange.await
                }
                .boxed()
                .shared();
                let weak = exchange
                    .downgrade()
                    .expect("not yet polled, so not complete");
                by_key.insert(
                    key.to_owned(),
                    Entry {
                        id,
                        exchange: weak,
                        progress: Arc::clone(&progress),
                    },
                );
                (exchange, progress)
            }
        };
        drop(by_key);
        progress.wanted_by(deadline);
        self.callers.fetch_add(1, Ordering::Relaxed);
        Joined {
            exchange,
            caller: Caller {
                progress,
                joined: Instant::now(),
                callers: Arc::clone(&self.callers),
            },
        }
    }

    /// What is in flight now.
    pub fn coalescing(&self) -> Coalescing {
        Coalescing {
            flights: self.by_key.lock().expect("no code panics holding it").len(),
            callers: self.callers.load(Ordering::Relaxed),
        }
    }
}

/// Removes a finished or abandoned read from the map, unless a newer read
/// of the same key has already taken its place.
struct Landing {
    by_key: Arc<Mutex<HashMap<String, Entry>>>,
    key: String,
    id: u64,
}

impl Drop for Landing {
    fn drop(&mut self) {
        let mut by_key = self.by_key.lock().expect("no code panics holding it");
        if by_key
            .get(&self.key)
            .is_some_and(|entry| entry.id == self.id)
        {
            by_key.remove(&self.key);
        }
    }
}

/// One caller's place in a shared read.
pub struct Joined {
    exchange: Exchange,
    caller: Caller,
}

/// A caller waiting on a shared read, counted while it waits.
struct Caller {
    progress: Arc<Progress>,
    joined: Instant,
    callers: Arc<AtomicUsize>,
}

impl Drop for Caller {
    fn drop(&mut self) {
        self.callers.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Caller {
    /// What a caller whose deadline (`until`) passed was waiting for: a
    /// slot (nothing was sent for it yet) or ONTAP's answer.
    fn ran_out(&self, until: Instant, limit: usize) -> OntapError {
        match self.progress.sent_at() {
            None => OntapError::QueuedPastDeadline {
                limit,
                waited: self.joined.elapsed(),
            },
            Some(sent) => OntapError::Timeout {
                budget: until.saturating_duration_since(sent),
                bound: TimeBound::CallerDeadline,
            },
        }
    }
}

impl Joined {
    /// The shared answer, or, when `deadline` passes first, what the
    /// caller ran out of time waiting for. `limit` is the client's bound on
    /// slots.
    pub fn answer(self, deadline: Deadline, limit: usize) -> Answer {
        let wait = match deadline.remaining() {
            None => Wait::Unbounded {
                exchange: self.exchange,
            },
            Some(left) => Wait::Bounded {
                until: Instant::now() + left,
                exchange: tokio::time::timeout(left, self.exchange),
            },
        };
        Answer {
            wait,
            caller: self.caller,
            limit,
        }
    }
}

pin_project! {
    /// One caller's wait for a shared read.
    pub struct Answer {
        #[pin]
        wait: Wait,
        caller: Caller,
        limit: usize,
    }
}

pin_project! {
    #[project = WaitProj]
    enum Wait {
        Unbounded { exchange: Exchange },
        Bounded {
            #[pin]
            exchange: Timeout<Exchange>,
            until: Instant,
        },
    }
}

impl Future for Answer {
    type Output = Result<Response, OntapError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.wait.project() {
            WaitProj::Unbounded { exchange } => exchange.poll_unpin(cx),
            WaitProj::Bounded { exchange, until } => Poll::Ready(
                ready!(exchange.poll(cx))
                    .unwrap_or_else(|_| Err(this.caller.ran_out(*until, *this.limit))),
            ),
        }
    }
}

/// What makes two reads the same: the URL, and whose credentials. Reads are
/// shared only among the same credentials: another caller's answer may hold
/// what ONTAP would refuse this one.
fn flight_key(request: &UpstreamRequest) -> Cow<'_, str> {
    match &request.context.caller {
        Some(caller) => Cow::Owned(format!("{} {}", caller.fingerprint(), request.url)),
        None => Cow::Borrowed(request.url.as_str()),
    }
}

/// The shared read that `request`'s caller starts: bounded by the client's
/// own timeouts, reporting to `progress`, wanted until the latest of its
/// callers' deadlines.
fn shared_read(request: &UpstreamRequest, progress: Arc<Progress>) -> UpstreamRequest {
    UpstreamRequest {
        context: CallContext {
            deadline: Deadline::NONE,
            flight: Some(progress),
            started: Instant::now(),
            ..request.context.clone()
        },
        ..request.clone()
    }
}

/// Shares identical reads in flight (when `enabled`).
#[derive(Clone)]
pub struct CoalesceLayer {
    flights: Arc<Flights>,
    enabled: bool,
    limit: usize,
}

impl Named for CoalesceLayer {
    const NAME: &str = "coalesce";
}

impl CoalesceLayer {
    /// Reads join `flights`; `limit` is the client's bound on slots, named
    /// when a caller's deadline passes before one came free.
    pub fn new(flights: Arc<Flights>, enabled: bool, limit: usize) -> Self {
        Self {
            flights,
            enabled,
            limit,
        }
    }
}

impl<S> Layer<S> for CoalesceLayer {
    type Service = CoalesceService<S>;

    fn layer(&self, inner: S) -> CoalesceService<S> {
        CoalesceService {
            inner,
            layer: self.clone(),
        }
    }
}

/// See [`CoalesceLayer`].
#[derive(Clone)]
pub struct CoalesceService<S> {
    inner: S,
    layer: CoalesceLayer,
}

impl<S> Service<UpstreamRequest> for CoalesceService<S>
where
    S: Service<UpstreamRequest, Response = Response, Error = OntapError> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = OntapError;
    type Future = CoalesceFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), OntapError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: UpstreamRequest) -> Self::Future {
        if !self.layer.enabled || request.kind != Kind::Read {
            return CoalesceFuture::Alone {
                inner: self.inner.call(request),
            };
        }
        let deadline = request.context.deadline;
        // Only the caller that starts the read copies the request for it.
        let joined = self
            .layer
            .flights
            .join(&flight_key(&request), deadline, |progress| {
                self.inner.clone().oneshot(shared_read(&request, progress))
            });
        CoalesceFuture::Joined {
            answer: joined.answer(deadline, self.layer.limit),
        }
    }
}

pin_project! {
    /// A read's answer, shared or its own.
    #[project = CoalesceProj]
    pub enum CoalesceFuture<F> {
        Alone { #[pin] inner: F },
        Joined { #[pin] answer: Answer },
    }
}

impl<F> Future for CoalesceFuture<F>
where
    F: Future<Output = Result<Response, OntapError>>,
{
    type Output = Result<Response, OntapError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            CoalesceProj::Alone { inner } => inner.poll(cx),
            CoalesceProj::Joined { answer } => answer.poll(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tower::ServiceExt;

    use super::*;
    use crate::ontap::CallerCredentials;
    use crate::ontap::stack::testing::{self, Inner, Ontap};

    const LIMIT: usize = 8;

    fn coalescing(enabled: bool) -> (CoalesceService<Inner>, Ontap, Arc<Flights>) {
        let (inner, ontap) = testing::inner();
        let flights = Arc::new(Flights::default());
        let layer = CoalesceLayer::new(Arc::clone(&flights), enabled, LIMIT);
        (layer.layer(inner), ontap, flights)
    }

    fn spawn_call(
        service: &CoalesceService<Inner>,
        request: UpstreamRequest,
    ) -> tokio::task::JoinHandle<Result<Response, OntapError>> {
        tokio::spawn(service.clone().oneshot(request))
    }

    /// Lets the other tasks run until `flights` has `callers` callers.
    async fn callers(flights: &Flights, callers: usize) {
        for _ in 0..1_000 {
            if flights.coalescing().callers == callers {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("{:?}, not {callers} callers", flights.coalescing());
    }

    fn caller(user_password: &str) -> CallerCredentials {
        use base64::Engine;
        let token = base64::engine::general_purpose::STANDARD.encode(user_password);
        let header = http::HeaderValue::from_str(&format!("Basic {token}")).unwrap();
        CallerCredentials::from_metadata(Some(&header)).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn identical_reads_in_flight_share_one_request() {
        let (service, mut ontap, flights) = coalescing(true);
        let first = spawn_call(&service, testing::read(Deadline::NONE));
        let (_, answer) = ontap.next_request().await.expect("sent");
        let second = spawn_call(&service, testing::read(Deadline::NONE));
        callers(&flights, 2).await;
        answer.send_response(testing::ok());
        assert!(first.await.unwrap().is_ok());
        assert!(second.await.unwrap().is_ok());
        assert!(testing::nothing_sent(&mut ontap), "one request for both");
    }

    #[tokio::test(start_paused = true)]
    async fn reads_of_different_urls_each_go_upstream() {
        let (service, mut ontap, _) = coalescing(true);
        let _first = spawn_call(
            &service,
            testing::read_of("https://c/api/a", Deadline::NONE),
        );
        let _second = spawn_call(
            &service,
            testing::read_of("https://c/api/b", Deadline::NONE),
        );
        assert!(ontap.next_request().await.is_some());
        assert!(ontap.next_request().await.is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn reads_with_different_credentials_never_share() {
        let (service, mut ontap, _) = coalescing(true);
        for credentials in ["alice:a", "bob:b"] {
            let mut request = testing::read(Deadline::NONE);
            request.context.caller = Some(caller(credentials));
            let _call = spawn_call(&service, request);
        }
        assert!(ontap.next_request().await.is_some());
        assert!(ontap.next_request().await.is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn writes_are_never_shared() {
        let (service, mut ontap, flights) = coalescing(true);
        let _first = spawn_call(&service, testing::write(Deadline::NONE));
        let _second = spawn_call(&service, testing::write(Deadline::NONE));
        assert!(ontap.next_request().await.is_some());
        assert!(ontap.next_request().await.is_some());
        assert_eq!(flights.coalescing().flights, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn with_coalescing_off_each_read_goes_upstream() {
        let (service, mut ontap, _) = coalescing(false);
        let _first = spawn_call(&service, testing::read(Deadline::NONE));
        let _second = spawn_call(&service, testing::read(Deadline::NONE));
        assert!(ontap.next_request().await.is_some());
        assert!(ontap.next_request().await.is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn the_shared_read_has_no_deadline_of_its_own_and_reports_to_its_flight() {
        let (service, mut ontap, _) = coalescing(true);
        let _call = spawn_call(
            &service,
            testing::read(Deadline::after(Duration::from_secs(1))),
        );
        let (shared, _answer) = ontap.next_request().await.expect("sent");
        assert_eq!(shared.context.deadline, Deadline::NONE);
        assert!(shared.context.flight.is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn the_shared_read_is_wanted_until_the_latest_callers_deadline() {
        let (service, mut ontap, flights) = coalescing(true);
        let soon = Deadline::after(Duration::from_secs(1));
        let later = Deadline::after(Duration::from_secs(60));
        let _first = spawn_call(&service, testing::read(soon));
        let (shared, _answer) = ontap.next_request().await.expect("sent");
        let _second = spawn_call(&service, testing::read(later));
        callers(&flights, 2).await;
        assert_eq!(shared.context.wanted_until(), later);
    }

    #[tokio::test(start_paused = true)]
    async fn a_shared_read_is_bounded_by_no_one_callers_deadline() {
        let (service, mut ontap, _) = coalescing(true);
        let _call = spawn_call(
            &service,
            testing::read(Deadline::after(Duration::from_secs(1))),
        );
        let (shared, _answer) = ontap.next_request().await.expect("sent");
        assert_eq!(shared.context.deadline.remaining(), None);
        let wanted = shared.context.flight.expect("shared").wanted_until();
        assert!(
            wanted.remaining().is_some(),
            "wanted until its caller's deadline"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_caller_whose_deadline_passes_before_the_read_is_sent_was_queued_past_it() {
        let (service, mut ontap, _) = coalescing(true);
        let call = spawn_call(
            &service,
            testing::read(Deadline::after(Duration::from_secs(1))),
        );
        let _unsent = ontap.next_request().await.expect("reached the layer below");
        assert!(matches!(
            call.await.unwrap(),
            Err(OntapError::QueuedPastDeadline { limit: LIMIT, .. })
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_caller_whose_deadline_passes_after_the_read_was_sent_timed_out() {
        let (service, mut ontap, _) = coalescing(true);
        let call = spawn_call(
            &service,
            testing::read(Deadline::after(Duration::from_secs(1))),
        );
        let (shared, _answer) = ontap.next_request().await.expect("sent");
        shared.context.flight.expect("shared").sent();
        let Err(OntapError::Timeout {
            bound: TimeBound::CallerDeadline,
            budget,
        }) = call.await.unwrap()
        else {
            panic!("a timeout against the caller's deadline");
        };
        // The time it had from the send to its deadline.
        assert!(
            budget > Duration::from_millis(900) && budget <= Duration::from_secs(1),
            "{budget:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_caller_that_leaves_leaves_the_read_to_the_others() {
        let (service, mut ontap, flights) = coalescing(true);
        let leaving = spawn_call(&service, testing::read(Deadline::NONE));
        let (_, answer) = ontap.next_request().await.expect("sent");
        let staying = spawn_call(&service, testing::read(Deadline::NONE));
        callers(&flights, 2).await;
        leaving.abort();
        let _ = leaving.await;
        answer.send_response(testing::ok());
        assert!(staying.await.unwrap().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn the_read_is_dropped_when_its_last_caller_leaves() {
        let (service, mut ontap, flights) = coalescing(true);
        let call = spawn_call(&service, testing::read(Deadline::NONE));
        let _sent = ontap.next_request().await.expect("sent");
        call.abort();
        let _ = call.await;
        assert_eq!(
            flights.coalescing(),
            Coalescing {
                flights: 0,
                callers: 0
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_after_the_shared_one_answered_goes_upstream_again() {
        let (service, mut ontap, _) = coalescing(true);
        let first = spawn_call(&service, testing::read(Deadline::NONE));
        let (_, answer) = ontap.next_request().await.expect("sent");
        answer.send_response(testing::ok());
        first.await.unwrap().unwrap();
        let _second = spawn_call(&service, testing::read(Deadline::NONE));
        assert!(ontap.next_request().await.is_some());
    }
}
