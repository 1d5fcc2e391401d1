//! The bound on one request: the time left before the caller's deadline,
//! or the gateway's request timeout when that comes first or the caller set
//! none. Sending, ONTAP's work and reading the whole body all fall within it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::time::Timeout;
use tower::{Layer, Service};

use super::Named;
use super::request::UpstreamRequest;
use crate::ontap::body::Response;
use crate::ontap::error::{OntapError, TimeBound};

/// Ends a request that outlasts its budget with [`OntapError::Timeout`],
/// naming what set the budget.
#[derive(Debug, Clone, Copy)]
pub struct TimeoutLayer {
    request_timeout: Duration,
}

impl Named for TimeoutLayer {
    const NAME: &str = "timeout";
}

impl TimeoutLayer {
    /// Requests without a shorter deadline get `request_timeout`.
    pub fn new(request_timeout: Duration) -> Self {
        Self { request_timeout }
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = TimeoutService<S>;

    fn layer(&self, inner: S) -> TimeoutService<S> {
        TimeoutService {
            inner,
            request_timeout: self.request_timeout,
        }
    }
}

/// See [`TimeoutLayer`].
#[derive(Debug, Clone)]
pub struct TimeoutService<S> {
    inner: S,
    request_timeout: Duration,
}

impl<S> Service<UpstreamRequest> for TimeoutService<S>
where
    S: Service<UpstreamRequest, Response = Response, Error = OntapError>,
{
    type Response = Response;
    type Error = OntapError;
    type Future = Bounded<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), OntapError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: UpstreamRequest) -> Self::Future {
        let deadline = request.context.deadline;
        let budget = deadline.cap(self.request_timeout);
        let bound = if deadline.binds_before(self.request_timeout) {
            TimeBound::CallerDeadline
        } else {
            TimeBound::RequestTimeout
        };
        Bounded {
            inner: tokio::time::timeout(budget, self.inner.call(request)),
            budget,
            bound,
        }
    }
}

pin_project! {
    /// A request within its budget.
    pub struct Bounded<F> {
        #[pin]
        inner: Timeout<F>,
        budget: Duration,
        bound: TimeBound,
    }
}

impl<F> Future for Bounded<F>
where
    F: Future<Output = Result<Response, OntapError>>,
{
    type Output = Result<Response, OntapError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        Poll::Ready(
            ready!(this.inner.poll(cx)).unwrap_or(Err(OntapError::Timeout {
                budget: *this.budget,
                bound: *this.bound,
            })),
        )
    }
}

#[cfg(test)]
mod tests {
    use tower::ServiceExt;

    use super::*;
    use crate::deadline::Deadline;
    use crate::ontap::stack::testing::{self, Inner, Ontap};

    const REQUEST_TIMEOUT: Duration = Duration::from_secs(130);

    fn bounded() -> (TimeoutService<Inner>, Ontap) {
        let (inner, ontap) = testing::inner();
        (TimeoutLayer::new(REQUEST_TIMEOUT).layer(inner), ontap)
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_deadline_the_request_timeout_bounds_a_request() {
        let (service, mut ontap) = bounded();
        let call = tokio::spawn(service.oneshot(testing::read(Deadline::NONE)));
        let _unanswered = ontap.next_request().await.expect("sent");
        let started = tokio::time::Instant::now();
        let answer = call.await.unwrap();
        assert!(matches!(
            answer,
            Err(OntapError::Timeout {
                budget: REQUEST_TIMEOUT,
                bound: TimeBound::RequestTimeout
            })
        ));
        assert_eq!(started.elapsed(), REQUEST_TIMEOUT);
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_before_the_request_timeout_bounds_a_request() {
        let (service, mut ontap) = bounded();
        let deadline = Deadline::after(Duration::from_secs(2));
        let call = tokio::spawn(service.oneshot(testing::read(deadline)));
        let _unanswered = ontap.next_request().await.expect("sent");
        let answer = call.await.unwrap();
        assert!(
            matches!(
                answer,
                Err(OntapError::Timeout {
                    budget,
                    bound: TimeBound::CallerDeadline
                }) if budget <= Duration::from_secs(2)
            ),
            "{answer:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_after_the_request_timeout_leaves_the_request_timeout_to_bound() {
        let (service, mut ontap) = bounded();
        let deadline = Deadline::after(REQUEST_TIMEOUT * 2);
        let call = tokio::spawn(service.oneshot(testing::read(deadline)));
        let _unanswered = ontap.next_request().await.expect("sent");
        assert!(matches!(
            call.await.unwrap(),
            Err(OntapError::Timeout {
                bound: TimeBound::RequestTimeout,
                ..
            })
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_within_the_budget_passes_through() {
        let (service, mut ontap) = bounded();
        let call = tokio::spawn(service.oneshot(testing::read(Deadline::NONE)));
        let (_, answer) = ontap.next_request().await.expect("sent");
        answer.send_response(testing::ok());
        assert_eq!(call.await.unwrap().unwrap().status, 200);
    }
}
