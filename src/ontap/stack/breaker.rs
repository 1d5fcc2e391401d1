//! The circuit breaker of one cluster. When ONTAP keeps failing, every call
//! that still goes out adds to its load and makes each caller wait for a
//! failure; after enough failures in a row calls fail at once instead, and
//! after a pause one call probes whether the cluster is back.
//!
//! Hand-written: no well-kept crate offers a breaker whose probe is the
//! guarded request itself and whose refusal is this client's typed error.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;
use tower::{Layer, Service};

use super::Named;
use super::request::UpstreamRequest;
use crate::ontap::body::Response;
use crate::ontap::error::{OntapError, TimeBound};

/// The breaker's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Failures in a row that open the circuit; 0 turns the breaker off.
    pub failures_to_open: u32,
    /// How long the circuit stays open before one call probes the cluster.
    pub open_for: Duration,
}

impl BreakerConfig {
    /// Failures in a row that open the circuit by default.
    pub const DEFAULT_FAILURES_TO_OPEN: u32 = 5;
    /// How long the circuit stays open by default.
    pub const DEFAULT_OPEN_FOR: Duration = Duration::from_secs(10);
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failures_to_open: Self::DEFAULT_FAILURES_TO_OPEN,
            open_for: Self::DEFAULT_OPEN_FOR,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// Past the pause: one call probes; `probing` while it is out.
    HalfOpen {
        probing: bool,
    },
}

/// One cluster's breaker.
#[derive(Debug)]
pub struct Breaker {
    config: BreakerConfig,
    state: Mutex<Guarded>,
}

/// What the breaker's lock guards.
#[derive(Debug)]
struct Guarded {
    state: State,
    /// The latest failure that counted against the cluster, named in every
    /// refusal: without it an open circuit hides why ONTAP failed.
    last_failure: Option<OntapError>,
}

/// A call the breaker let through; its outcome must be reported.
#[must_use = "report the call's outcome"]
pub struct Admitted {
    breaker: Arc<Breaker>,
    probe: bool,
    reported: bool,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            state: Mutex::new(Guarded {
                state: State::Closed { failures: 0 },
                last_failure: None,
            }),
        }
    }

    /// Lets a call through, or refuses it while the circuit is open (or a
    /// probe is already out) with [`OntapError::CircuitOpen`].
    pub fn admit(self: &Arc<Self>, now: Instant) -> Result<Admitted, OntapError> {
        let mut guarded = self.lock();
        let probe = match guarded.state {
            State::Closed { .. } => false,
            State::Open { until } if now < until => {
                return Err(self.refusal(&guarded, until.saturating_duration_since(now)));
            }
            State::Open { .. } | State::HalfOpen { probing: false } => {
                guarded.state = State::HalfOpen { probing: true };
                tracing::info!("probing ONTAP with one call after the circuit's pause");
                true
            }
            State::HalfOpen { probing: true } => {
                return Err(self.refusal(&guarded, Duration::ZERO));
            }
        };
        Ok(Admitted {
            breaker: Arc::clone(self),
            probe,
            reported: false,
        })
    }

    fn refusal(&self, guarded: &Guarded, retry_in: Duration) -> OntapError {
        OntapError::CircuitOpen {
            failures: self.config.failures_to_open,
            retry_in,
            last_failure: guarded.last_failure.clone().map(Box::new),
        }
    }

    /// Counts `failure` against the cluster, or a success (`None`).
    fn record(&self, failure: Option<&OntapError>, now: Instant) {
        if self.config.failures_to_open == 0 {
            return;
        }
        let mut guarded = self.lock();
        guarded.last_failure = failure.cloned();
        let failed = failure.is_some();
        let state = &mut guarded.state;
        let next = match (*state, failed) {
            (_, false) => State::Closed { failures: 0 },
            (State::Closed { failures }, true) if failures + 1 < self.config.failures_to_open => {
                State::Closed {
                    failures: failures + 1,
                }
            }
            (_, true) => State::Open {
                until: now + self.config.open_for,
            },
        };
        match (*state, next) {
            (State::Closed { .. } | State::HalfOpen { .. }, State::Open { .. }) => {
                tracing::warn!(
                    failures = self.config.failures_to_open,
                    open_for = ?self.config.open_for,
                    last_failure = failure.map(tracing::field::display),
                    "ONTAP keeps failing; calls fail at once until a probe succeeds"
                );
            }
            (State::HalfOpen { .. }, State::Closed { .. }) => {
                tracing::info!("the probe succeeded; calls go to ONTAP again");
            }
            _ => {}
        }
        *state = next;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Guarded> {
        self.state.lock().expect("no code panics holding it")
    }
}

impl Admitted {
    /// Reports how the call ended.
    pub fn report<T>(self, outcome: &Result<T, OntapError>) {
        self.report_at(outcome, Instant::now());
    }

    /// Reports how the call ended, at `now`.
    fn report_at<T>(mut self, outcome: &Result<T, OntapError>, now: Instant) {
        self.reported = true;
        let failure = outcome
            .as_ref()
            .err()
            .filter(|e| counts_against_the_cluster(e));
        self.breaker.record(failure, now);
    }
}

impl Drop for Admitted {
    /// A probe whose caller left before it ended decides nothing: the next
    /// call probes instead.
    fn drop(&mut self) {
        if self.probe && !self.reported {
            let mut guarded = self.breaker.lock();
            if guarded.state == (State::HalfOpen { probing: true }) {
                guarded.state = State::HalfOpen { probing: false };
            }
        }
    }
}

/// Whether `error` says the cluster, or the way to it, is failing, rather
/// than the request or the caller: only those open the circuit. Refused
/// credentials and an untrusted certificate are the gateway's configuration,
/// which an open circuit would only hide behind a vaguer reason.
fn counts_against_the_cluster(error: &OntapError) -> bool {
    match error {
        OntapError::Api { status, .. } => *status == 429 || *status >= 500,
        OntapError::Unreachable(_) | OntapError::ConnectionLost(_) => true,
        OntapError::Timeout { bound, .. } => *bound == TimeBound::RequestTimeout,
        OntapError::Overloaded { .. }
        | OntapError::QueuedPastDeadline { .. }
        | OntapError::MemoryBudget { .. }
        | OntapError::ResponseTooLarge { .. }
        | OntapError::Malformed(_)
        | OntapError::CredentialsRejected { .. }
        | OntapError::CallerRejected { .. }
        | OntapError::CertificateRejected(_)
        | OntapError::CircuitOpen { .. } => false,
    }
}

/// Fails calls at once while the cluster's circuit is open, and tells the
/// breaker how each call it let through ended.
#[derive(Debug, Clone)]
pub struct BreakerLayer {
    breaker: Arc<Breaker>,
}

impl Named for BreakerLayer {
    const NAME: &str = "breaker";
}

impl BreakerLayer {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            breaker: Arc::new(Breaker::new(config)),
        }
    }
}

impl<S> Layer<S> for BreakerLayer {
    type Service = BreakerService<S>;

    fn layer(&self, inner: S) -> BreakerService<S> {
        BreakerService {
            inner,
            breaker: Arc::clone(&self.breaker),
        }
    }
}

/// See [`BreakerLayer`].
#[derive(Debug, Clone)]
pub struct BreakerService<S> {
    inner: S,
    breaker: Arc<Breaker>,
}

impl<S> Service<UpstreamRequest> for BreakerService<S>
where
    S: Service<UpstreamRequest, Response = Response, Error = OntapError>,
{
    type Response = Response;
    type Error = OntapError;
    type Future = BreakerFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), OntapError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: UpstreamRequest) -> Self::Future {
        match self.breaker.admit(Instant::now()) {
            Ok(admitted) => BreakerFuture::Admitted {
                inner: self.inner.call(request),
                admitted: Some(admitted),
            },
            Err(refusal) => BreakerFuture::Refused {
                refusal: Some(refusal),
            },
        }
    }
}

pin_project! {
    /// A call the breaker let through, or its refusal.
    #[project = BreakerProj]
    pub enum BreakerFuture<F> {
        Admitted { #[pin] inner: F, admitted: Option<Admitted> },
        Refused { refusal: Option<OntapError> },
    }
}

impl<F> Future for BreakerFuture<F>
where
    F: Future<Output = Result<Response, OntapError>>,
{
    type Output = Result<Response, OntapError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            BreakerProj::Admitted { inner, admitted } => {
                let answer = ready!(inner.poll(cx));
                if let Some(admitted) = admitted.take() {
                    admitted.report(&answer);
                }
                Poll::Ready(answer)
            }
            BreakerProj::Refused { refusal } => {
                Poll::Ready(Err(refusal.take().expect("polled after it answered")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tower::ServiceExt;

    use super::*;
    use crate::deadline::Deadline;
    use crate::ontap::stack::testing::{self, Inner, Ontap};

    const OPEN_FOR: Duration = Duration::from_secs(10);

    fn breaker(failures_to_open: u32) -> Arc<Breaker> {
        Arc::new(Breaker::new(BreakerConfig {
            failures_to_open,
            open_for: OPEN_FOR,
        }))
    }

    fn refused() -> Result<(), OntapError> {
        Err(OntapError::Unreachable("refused".into()))
    }

    fn api(status: u16) -> Result<(), OntapError> {
        Err(OntapError::Api {
            status,
            error: Box::default(),
        })
    }

    fn fail(b: &Arc<Breaker>, times: u32, now: Instant) {
        for _ in 0..times {
            b.admit(now).unwrap().report_at(&refused(), now);
        }
    }

    #[test]
    fn failures_in_a_row_open_the_circuit() {
        let b = breaker(3);
        let now = Instant::now();
        fail(&b, 2, now);
        assert!(b.admit(now).is_ok(), "two failures leave it closed");
        fail(&b, 1, now);
        let refusal = b.admit(now).err().expect("open");
        assert!(matches!(
            refusal,
            OntapError::CircuitOpen {
                failures: 3,
                retry_in,
                ..
            } if retry_in == OPEN_FOR
        ));
    }

    #[test]
    fn a_refusal_carries_the_last_failure_that_counted() {
        let b = breaker(2);
        let now = Instant::now();
        fail(&b, 1, now);
        b.admit(now).unwrap().report_at(&api(503), now);
        b.admit(now + OPEN_FOR)
            .unwrap()
            .report_at(&refused(), now + OPEN_FOR);
        let refusal = b.admit(now + OPEN_FOR).err().expect("open again");
        let OntapError::CircuitOpen { last_failure, .. } = refusal else {
            panic!("{refusal:?}");
        };
        assert!(
            matches!(last_failure.as_deref(), Some(OntapError::Unreachable(why)) if why == "refused"),
            "{last_failure:?}"
        );
    }

    #[test]
    fn a_failure_that_does_not_count_is_not_the_last_failure() {
        let b = breaker(1);
        let now = Instant::now();
        b.admit(now).unwrap().report_at(&api(404), now);
        b.admit(now).unwrap().report_at(&api(500), now);
        let Err(OntapError::CircuitOpen { last_failure, .. }) = b.admit(now) else {
            panic!("open");
        };
        assert!(
            matches!(
                last_failure.as_deref(),
                Some(OntapError::Api { status: 500, .. })
            ),
            "{last_failure:?}"
        );
    }

    #[test]
    fn a_success_between_failures_starts_the_count_again() {
        let b = breaker(3);
        let now = Instant::now();
        fail(&b, 2, now);
        b.admit(now)
            .unwrap()
            .report_at(&Ok::<(), OntapError>(()), now);
        fail(&b, 2, now);
        assert!(b.admit(now).is_ok());
    }

    #[test]
    fn only_failures_of_the_cluster_count() {
        let b = breaker(1);
        let now = Instant::now();
        for outcome in [
            api(400),
            api(404),
            Err(OntapError::Malformed("x".into())),
            Err(OntapError::CredentialsRejected {
                error: Box::default(),
            }),
            Err(OntapError::CallerRejected {
                error: Box::default(),
            }),
            Err(OntapError::CertificateRejected("UnknownIssuer".into())),
            Err(OntapError::Timeout {
                budget: Duration::from_secs(1),
                bound: TimeBound::CallerDeadline,
            }),
            Err(OntapError::QueuedPastDeadline {
                limit: 1,
                waited: Duration::ZERO,
            }),
        ] {
            b.admit(now).unwrap().report_at(&outcome, now);
        }
        assert!(b.admit(now).is_ok(), "still closed");
        for failure in [api(429), api(500), api(503)] {
            let b = breaker(1);
            b.admit(now).unwrap().report_at(&failure, now);
            assert!(b.admit(now).is_err(), "{failure:?} opens it");
        }
    }

    #[test]
    fn after_the_pause_one_probe_goes_out_and_the_others_are_refused() {
        let b = breaker(1);
        let now = Instant::now();
        fail(&b, 1, now);
        let later = now + OPEN_FOR;
        let probe = b.admit(later).expect("the probe");
        assert!(b.admit(later).is_err(), "one probe at a time");
        probe.report_at(&Ok::<(), OntapError>(()), later);
        assert!(b.admit(later).is_ok() && b.admit(later).is_ok(), "closed");
    }

    #[test]
    fn a_failed_probe_opens_the_circuit_again() {
        let b = breaker(1);
        let now = Instant::now();
        fail(&b, 1, now);
        let later = now + OPEN_FOR;
        b.admit(later).unwrap().report_at(&refused(), later);
        assert!(b.admit(later).is_err());
        assert!(
            b.admit(later + OPEN_FOR).is_ok(),
            "probes again after a pause"
        );
    }

    #[test]
    fn a_probe_abandoned_by_its_caller_lets_the_next_call_probe() {
        let b = breaker(1);
        let now = Instant::now();
        fail(&b, 1, now);
        let later = now + OPEN_FOR;
        drop(b.admit(later).unwrap());
        assert!(b.admit(later).is_ok());
    }

    #[test]
    fn opening_the_circuit_is_logged_as_a_warning() {
        let logged = crate::test_logs::captured(tracing::Level::INFO, || {
            fail(&breaker(2), 2, Instant::now());
        });
        let lines: Vec<_> = logged.lines().collect();
        assert_eq!(lines.len(), 1, "{logged}");
        assert!(lines[0].contains("WARN"), "{logged}");
        assert!(lines[0].contains("calls fail at once"), "{logged}");
        assert!(
            lines[0].contains("last_failure=cannot reach ONTAP: refused"),
            "{logged}"
        );
    }

    #[test]
    fn a_failed_probe_warns_again_and_a_successful_one_is_logged_at_info() {
        let b = breaker(1);
        let now = Instant::now();
        fail(&b, 1, now);
        let later = now + OPEN_FOR;
        let reopened = crate::test_logs::captured(tracing::Level::INFO, || {
            b.admit(later).unwrap().report_at(&refused(), later);
        });
        assert!(reopened.contains("WARN"), "{reopened}");
        let closed = crate::test_logs::captured(tracing::Level::INFO, || {
            let probe = b.admit(later + OPEN_FOR).unwrap();
            probe.report_at(&Ok::<(), OntapError>(()), later + OPEN_FOR);
        });
        assert!(
            closed.contains("INFO") && closed.contains("the probe succeeded"),
            "{closed}"
        );
    }

    #[test]
    fn successes_of_a_closed_circuit_log_nothing() {
        let b = breaker(3);
        let now = Instant::now();
        let logged = crate::test_logs::captured(tracing::Level::INFO, || {
            fail(&b, 2, now);
            b.admit(now)
                .unwrap()
                .report_at(&Ok::<(), OntapError>(()), now);
        });
        assert_eq!(logged, "");
    }

    #[test]
    fn a_call_admitted_before_the_circuit_opened_and_abandoned_leaves_the_probe_alone() {
        let b = breaker(1);
        let now = Instant::now();
        let earlier_call = b.admit(now).unwrap();
        fail(&b, 1, now);
        let later = now + OPEN_FOR;
        let _probe = b.admit(later).expect("the probe");
        drop(earlier_call);
        assert!(b.admit(later).is_err(), "still one probe at a time");
    }

    #[test]
    fn with_no_failures_to_open_the_breaker_never_opens() {
        let b = breaker(0);
        let now = Instant::now();
        fail(&b, 100, now);
        assert!(b.admit(now).is_ok());
    }

    fn guarded(failures_to_open: u32, open_for: Duration) -> (BreakerService<Inner>, Ontap) {
        let (inner, ontap) = testing::inner();
        let layer = BreakerLayer::new(BreakerConfig {
            failures_to_open,
            open_for,
        });
        (layer.layer(inner), ontap)
    }

    /// Sends a read through `service` and fails it as ONTAP refusing the
    /// connection.
    async fn fail_through(service: &BreakerService<Inner>, ontap: &mut Ontap) {
        let call = tokio::spawn(service.clone().oneshot(testing::read(Deadline::NONE)));
        let (_, answer) = ontap.next_request().await.expect("sent");
        answer.send_error(testing::refused());
        assert!(call.await.unwrap().is_err());
    }

    #[tokio::test]
    async fn the_layer_reports_each_failure_and_then_refuses_without_sending() {
        let (service, mut ontap) = guarded(1, OPEN_FOR);
        fail_through(&service, &mut ontap).await;
        let refused = service.clone().oneshot(testing::read(Deadline::NONE)).await;
        assert!(matches!(refused, Err(OntapError::CircuitOpen { .. })));
        assert!(testing::nothing_sent(&mut ontap));
    }

    #[tokio::test]
    async fn a_probe_dropped_by_its_caller_lets_the_next_call_probe() {
        let (service, mut ontap) = guarded(1, Duration::ZERO);
        fail_through(&service, &mut ontap).await;
        let probe = tokio::spawn(service.clone().oneshot(testing::read(Deadline::NONE)));
        let _probing = ontap.next_request().await.expect("the probe is sent");
        probe.abort();
        let _ = probe.await;
        let _next = tokio::spawn(service.clone().oneshot(testing::read(Deadline::NONE)));
        assert!(ontap.next_request().await.is_some(), "the next call probes");
    }
}
