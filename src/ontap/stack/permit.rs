//! The in-flight bound. ONTAP queues only a limited number of connections,
//! and the gateway is the door many services share, so past the bound a
//! request waits for a slot, within its caller's deadline, instead of
//! opening another connection. A request holds its slot until it answers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;
use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio::time::Timeout;
use tower::{Layer, Service};

use super::Named;
use super::request::UpstreamRequest;
use crate::ontap::body::Response;
use crate::ontap::error::OntapError;

/// Waits for one of `limit` slots, within the caller's deadline or else
/// `queue_timeout`.
#[derive(Debug, Clone)]
pub struct PermitLayer {
    slots: Arc<Semaphore>,
    limit: usize,
    queue_timeout: Duration,
}

impl Named for PermitLayer {
    const NAME: &str = "permit";
}

impl PermitLayer {
    /// `limit` slots, each waited for at most `queue_timeout`.
    pub fn new(limit: usize, queue_timeout: Duration) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(limit)),
            limit,
            queue_timeout,
        }
    }
}

impl<S> Layer<S> for PermitLayer {
    type Service = PermitService<S>;

    fn layer(&self, inner: S) -> PermitService<S> {
        PermitService {
            inner,
            layer: self.clone(),
        }
    }
}

/// See [`PermitLayer`].
#[derive(Debug, Clone)]
pub struct PermitService<S> {
    inner: S,
    layer: PermitLayer,
}

impl<S> Service<UpstreamRequest> for PermitService<S>
where
    S: Service<UpstreamRequest, Response = Response, Error = OntapError> + Clone,
{
    type Response = Response;
    type Error = OntapError;
    type Future = PermitFuture<S>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), OntapError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: UpstreamRequest) -> Self::Future {
        let queued = Instant::now();
        let limit = self.layer.limit;
        match Arc::clone(&self.layer.slots).try_acquire_owned() {
            Ok(permit) => admitted(&mut self.inner, request, permit, queued, limit),
            Err(TryAcquireError::NoPermits) => {
                let deadline = request.context.deadline;
                let queue_timeout = self.layer.queue_timeout;
                // The service made ready goes with the request; this one
                // keeps a clone, made ready before its next call.
                let clone = self.inner.clone();
                let ready = std::mem::replace(&mut self.inner, clone);
                let acquire: Acquire = Box::pin(Arc::clone(&self.layer.slots).acquire_owned());
                PermitFuture::Queued {
                    wait: tokio::time::timeout(deadline.cap(queue_timeout), acquire),
                    pending: Some((ready, request)),
                    queued,
                    caller_bound: deadline.binds_before(queue_timeout),
                    limit,
                }
            }
            Err(TryAcquireError::Closed) => unreachable!("the semaphore is never closed"),
        }
    }
}

/// Waiting for a slot: boxed, as tokio's acquiring future has no name, but
/// only when every slot is taken.
type Acquire = Pin<Box<dyn Future<Output = Result<OwnedSemaphorePermit, AcquireError>> + Send>>;

/// Sends `request` holding `permit`, unless its caller's deadline passed
/// while it queued.
fn admitted<S>(
    inner: &mut S,
    request: UpstreamRequest,
    permit: OwnedSemaphorePermit,
    queued: Instant,
    limit: usize,
) -> PermitFuture<S>
where
    S: Service<UpstreamRequest, Response = Response, Error = OntapError>,
{
    if let Some(flight) = &request.context.flight {
        flight.sent();
    }
    if request.context.deadline.has_passed() {
        return PermitFuture::Done {
            answer: Some(Err(OntapError::QueuedPastDeadline {
                limit,
                waited: queued.elapsed(),
            })),
        };
    }
    PermitFuture::Sending {
        inner: inner.call(request),
        _permit: permit,
    }
}

pin_project! {
    /// A request waiting for its slot, then sent holding it.
    #[project = PermitProj]
    pub enum PermitFuture<S>
    where
        S: Service<UpstreamRequest>,
    {
        Queued {
            #[pin]
            wait: Timeout<Acquire>,
            pending: Option<(S, UpstreamRequest)>,
            queued: Instant,
            // Whether the caller's deadline, not the queue timeout, bounds
            // the wait.
            caller_bound: bool,
            limit: usize,
        },
        Sending {
            #[pin]
            inner: S::Future,
            _permit: OwnedSemaphorePermit,
        },
        Done { answer: Option<Result<Response, OntapError>> },
    }
}

impl<S> Future for PermitFuture<S>
where
    S: Service<UpstreamRequest, Response = Response, Error = OntapError>,
{
    type Output = Result<Response, OntapError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let next = match self.as_mut().project() {
                PermitProj::Queued {
                    wait,
                    pending,
                    queued,
                    caller_bound,
                    limit,
                } => {
                    let acquired = ready!(wait.poll(cx));
                    let (mut inner, request) = pending.take().expect("taken once");
                    let (limit, waited) = (*limit, queued.elapsed());
                    match acquired {
                        Ok(permit) => {
                            let permit = permit.expect("the semaphore is never closed");
                            admitted(&mut inner, request, permit, *queued, limit)
                        }
                        Err(_) if *caller_bound => PermitFuture::Done {
                            answer: Some(Err(OntapError::QueuedPastDeadline { limit, waited })),
                        },
                        Err(_) => PermitFuture::Done {
                            answer: Some(Err(OntapError::Overloaded { limit, waited })),
                        },
                    }
                }
                PermitProj::Sending { inner, .. } => return inner.poll(cx),
                PermitProj::Done { answer } => {
                    return Poll::Ready(answer.take().expect("polled after it answered"));
                }
            };
            self.set(next);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tower::ServiceExt;

    use super::*;
    use crate::deadline::Deadline;
    use crate::ontap::stack::coalesce::Progress;
    use crate::ontap::stack::testing::{self, Inner, Ontap};

    const QUEUE_TIMEOUT: Duration = Duration::from_secs(10);

    fn permits(limit: usize) -> (PermitService<Inner>, Ontap) {
        let (inner, ontap) = testing::inner();
        (PermitLayer::new(limit, QUEUE_TIMEOUT).layer(inner), ontap)
    }

    /// Sends `request` through a clone of `service`, in a task of its own.
    fn spawn_call(
        service: &PermitService<Inner>,
        request: UpstreamRequest,
    ) -> tokio::task::JoinHandle<Result<Response, OntapError>> {
        tokio::spawn(service.clone().oneshot(request))
    }

    #[tokio::test(start_paused = true)]
    async fn a_free_slot_is_taken_at_once() {
        let (service, mut ontap) = permits(1);
        let call = spawn_call(&service, testing::read(Deadline::NONE));
        let (_, answer) = ontap.next_request().await.expect("sent");
        answer.send_response(testing::ok());
        assert_eq!(call.await.unwrap().unwrap().status, 200);
    }

    #[tokio::test(start_paused = true)]
    async fn past_the_bound_a_request_waits_for_a_slot_to_free() {
        let (service, mut ontap) = permits(1);
        let _first = spawn_call(&service, testing::read(Deadline::NONE));
        let (_, first_answer) = ontap.next_request().await.expect("the first is sent");
        let second = spawn_call(&service, testing::read(Deadline::NONE));
        tokio::task::yield_now().await;
        assert!(testing::nothing_sent(&mut ontap), "the second waits");
        first_answer.send_response(testing::ok());
        let (_, second_answer) = ontap.next_request().await.expect("then sent");
        second_answer.send_response(testing::ok());
        assert!(second.await.unwrap().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_that_waits_out_the_queue_timeout_is_overloaded() {
        let (service, mut ontap) = permits(1);
        let _first = spawn_call(&service, testing::read(Deadline::NONE));
        let _held = ontap.next_request().await.expect("holds the slot");
        let waited = spawn_call(&service, testing::read(Deadline::NONE)).await;
        assert!(
            matches!(
                waited.unwrap(),
                Err(OntapError::Overloaded { limit: 1, .. })
            ),
            "the queue timeout bounded the wait"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_whose_deadline_passes_in_the_queue_was_queued_past_it() {
        let (service, mut ontap) = permits(1);
        let _first = spawn_call(&service, testing::read(Deadline::NONE));
        let _held = ontap.next_request().await.expect("holds the slot");
        let deadline = Deadline::after(Duration::from_secs(1));
        let waited = spawn_call(&service, testing::read(deadline)).await;
        assert!(
            matches!(
                waited.unwrap(),
                Err(OntapError::QueuedPastDeadline { limit: 1, .. })
            ),
            "the caller's deadline bounded the wait"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_whose_deadline_has_passed_is_not_sent_even_with_a_free_slot() {
        let (service, mut ontap) = permits(1);
        let passed = Deadline::at(std::time::Instant::now());
        let answer = service.oneshot(testing::read(passed)).await;
        assert!(matches!(answer, Err(OntapError::QueuedPastDeadline { .. })));
        assert!(testing::nothing_sent(&mut ontap));
    }

    #[tokio::test(start_paused = true)]
    async fn a_shared_read_is_told_when_it_holds_a_slot() {
        let (service, mut ontap) = permits(1);
        let flight = Arc::new(Progress::default());
        let mut request = testing::read(Deadline::NONE);
        request.context.flight = Some(Arc::clone(&flight));
        let _call = spawn_call(&service, request);
        let _sent = ontap.next_request().await.expect("sent");
        assert!(flight.sent_at().is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_abandoned_while_sent_gives_its_slot_back() {
        let (service, mut ontap) = permits(1);
        let first = spawn_call(&service, testing::read(Deadline::NONE));
        let _abandoned = ontap.next_request().await.expect("sent");
        first.abort();
        let _ = first.await;
        let _second = spawn_call(&service, testing::read(Deadline::NONE));
        assert!(ontap.next_request().await.is_some(), "the slot was free");
    }
}
