//! Retrying reads through overload. ONTAP answers 429 or 503 when its
//! request queue is full, often with `Retry-After`, and a refused connection
//! is a node restarting: a read (never a write, which may have been
//! applied) is worth a couple more tries, spaced so that many gateways
//! retrying at once do not arrive together, and only while the answer is
//! still wanted when the wait is over.

use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};
use http::HeaderMap;
use http::header::RETRY_AFTER;
use tokio::time::Sleep;
use tower::Layer;
use tower::retry::{Policy, Retry};

use super::Named;
use super::request::{Kind, UpstreamRequest};
use crate::ontap::body::Response;
use crate::ontap::error::OntapError;

/// How reads are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first try; 0 turns retrying off.
    pub max_retries: u32,
    /// The ceiling of the first retry's wait, doubled for each retry after.
    pub base_delay: Duration,
    /// The most any computed wait may be (ONTAP's `Retry-After` aside).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: Self::DEFAULT_MAX_RETRIES,
            base_delay: Self::DEFAULT_BASE_DELAY,
            max_delay: Self::DEFAULT_MAX_DELAY,
        }
    }
}

impl RetryPolicy {
    /// Retries of a read by default: enough to ride out a node restarting,
    /// few enough that a caller hears of an outage within seconds.
    pub const DEFAULT_MAX_RETRIES: u32 = 2;
    /// The first retry's ceiling by default.
    pub const DEFAULT_BASE_DELAY: Duration = Duration::from_millis(100);
    /// The most any computed wait is by default.
    pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(2);

    /// How long to wait before retry number `retry` (from 0) of a read that
    /// failed with `error`; `None` when it is not worth retrying.
    pub fn delay(&self, retry: u32, error: &OntapError) -> Option<Duration> {
        if retry >= self.max_retries {
            return None;
        }
        match error {
            OntapError::Api {
                status: 429 | 503,
                error,
            } => Some(error.retry_after.unwrap_or_else(|| self.jittered(retry))),
            OntapError::Unreachable(_) => Some(self.jittered(retry)),
            _ => None,
        }
    }

    /// "Equal jitter": from half the exponential ceiling to all of it, so
    /// that callers that failed together retry apart, yet none retries at
    /// once. backon's jitter adds up to its delay again, so its delays are
    /// half the ceiling.
    fn jittered(&self, retry: u32) -> Duration {
        let half_ceiling = |delay: Duration| delay / 2;
        ExponentialBuilder::new()
            .with_min_delay(half_ceiling(self.base_delay.min(self.max_delay)))
            .with_max_delay(half_ceiling(self.max_delay))
            .with_jitter()
            .without_max_times()
            .build()
            .nth(usize::try_from(retry).unwrap_or(usize::MAX))
            .unwrap_or(self.max_delay)
    }
}

/// The wait a `Retry-After` header asks for: seconds, or an HTTP date.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Retries reads as a [`RetryPolicy`] allows.
#[derive(Debug, Clone)]
pub struct RetryLayer {
    policy: ReadRetry,
}

impl Named for RetryLayer {
    const NAME: &str = "retry";
}

impl RetryLayer {
    /// Retries as `policy` allows; a read with no deadline is retried only
    /// within `request_timeout` of its start.
    pub fn new(policy: RetryPolicy, request_timeout: Duration) -> Self {
        Self {
            policy: ReadRetry {
                policy,
                request_timeout,
                retries: 0,
            },
        }
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = Retry<ReadRetry, S>;

    fn layer(&self, inner: S) -> Retry<ReadRetry, S> {
        Retry::new(self.policy.clone(), inner)
    }
}

/// One read's retries: tower clones the policy for each request, so
/// `retries` counts that request's.
#[derive(Debug, Clone)]
pub struct ReadRetry {
    policy: RetryPolicy,
    request_timeout: Duration,
    retries: u32,
}

impl Policy<UpstreamRequest, Response, OntapError> for ReadRetry {
    type Future = Sleep;

    fn retry(
        &mut self,
        request: &mut UpstreamRequest,
        result: &mut Result<Response, OntapError>,
    ) -> Option<Sleep> {
        let error = result.as_ref().err()?;
        let wait = self.policy.delay(self.retries, error)?;
        let context = &request.context;
        let left = context.wanted_until().remaining().unwrap_or_else(|| {
            self.request_timeout
                .saturating_sub(context.started.elapsed())
        });
        if left <= wait {
            return None;
        }
        self.retries += 1;
        tracing::debug!(retry = self.retries, ?wait, "retrying a read: {error}");
        Some(tokio::time::sleep(wait))
    }

    fn clone_request(&mut self, request: &UpstreamRequest) -> Option<UpstreamRequest> {
        (request.kind == Kind::Read && self.policy.max_retries > 0).then(|| request.clone())
    }
}

#[cfg(test)]
mod tests {
    use tower::ServiceExt;

    use super::*;
    use crate::deadline::Deadline;
    use crate::ontap::ApiError;
    use crate::ontap::stack::coalesce::Flights;
    use crate::ontap::stack::testing::{self, Inner, Ontap};

    fn busy(status: u16, retry_after: Option<Duration>) -> OntapError {
        OntapError::Api {
            status,
            error: Box::new(ApiError {
                retry_after,
                ..ApiError::default()
            }),
        }
    }

    #[test]
    fn a_full_queue_or_a_refused_connection_is_retried_twice() {
        let policy = RetryPolicy::default();
        for error in [
            busy(429, None),
            busy(503, None),
            OntapError::Unreachable("refused".into()),
        ] {
            assert!(policy.delay(0, &error).is_some(), "{error:?}");
            assert!(policy.delay(1, &error).is_some(), "{error:?}");
            assert_eq!(policy.delay(2, &error), None, "{error:?}");
        }
    }

    #[test]
    fn other_failures_are_not_retried() {
        let policy = RetryPolicy::default();
        for error in [
            busy(500, None),
            busy(404, None),
            OntapError::ConnectionLost("reset".into()),
            OntapError::Malformed("x".into()),
        ] {
            assert_eq!(policy.delay(0, &error), None, "{error:?}");
        }
    }

    #[test]
    fn retry_after_is_waited_as_ontap_asks() {
        let error = busy(503, Some(Duration::from_secs(7)));
        assert_eq!(
            RetryPolicy::default().delay(0, &error),
            Some(Duration::from_secs(7))
        );
    }

    /// A policy whose ceilings are 100, 200, then 300 ms, and a failure it
    /// retries.
    fn ten_retries_from_100ms_to_300ms() -> (RetryPolicy, OntapError) {
        let policy = RetryPolicy {
            max_retries: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
        };
        (policy, OntapError::Unreachable("refused".into()))
    }

    #[test]
    fn computed_waits_stay_under_a_doubling_ceiling_up_to_the_most() {
        let (policy, refused) = ten_retries_from_100ms_to_300ms();
        for _ in 0..200 {
            assert!(policy.delay(0, &refused).unwrap() <= Duration::from_millis(100));
            assert!(policy.delay(1, &refused).unwrap() <= Duration::from_millis(200));
            assert!(policy.delay(5, &refused).unwrap() <= Duration::from_millis(300));
        }
    }

    #[test]
    fn computed_waits_are_at_least_half_their_ceiling() {
        let (policy, refused) = ten_retries_from_100ms_to_300ms();
        for _ in 0..200 {
            assert!(policy.delay(0, &refused).unwrap() >= Duration::from_millis(50));
            assert!(policy.delay(1, &refused).unwrap() >= Duration::from_millis(100));
            assert!(policy.delay(5, &refused).unwrap() >= Duration::from_millis(150));
        }
    }

    #[test]
    fn a_base_delay_above_the_most_is_held_to_the_most() {
        let policy = RetryPolicy {
            max_retries: 1,
            base_delay: Duration::from_secs(10),
            max_delay: Duration::from_secs(1),
        };
        let refused = OntapError::Unreachable("refused".into());
        assert!(policy.delay(0, &refused).unwrap() <= Duration::from_secs(1));
    }

    #[test]
    fn waits_are_spread_rather_than_equal() {
        let policy = RetryPolicy::default();
        let refused = OntapError::Unreachable("refused".into());
        let waits: std::collections::HashSet<_> = (0..50)
            .map(|_| policy.delay(1, &refused).unwrap())
            .collect();
        assert!(waits.len() > 10, "{waits:?}");
    }

    #[test]
    fn no_retries_when_turned_off() {
        let policy = RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        };
        assert_eq!(policy.delay(0, &busy(503, None)), None);
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(3)));
        let in_ten = httpdate::fmt_http_date(now + Duration::from_secs(10));
        headers.insert(RETRY_AFTER, in_ten.parse().unwrap());
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(10)));
        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers, now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    fn retrying(policy: RetryPolicy) -> (Retry<ReadRetry, Inner>, Ontap) {
        let (inner, ontap) = testing::inner();
        (RetryLayer::new(policy, REQUEST_TIMEOUT).layer(inner), ontap)
    }

    const REQUEST_TIMEOUT: Duration = Duration::from_secs(130);

    /// Answers the next request with `answer`.
    async fn answer(ontap: &mut Ontap, answer: Result<Response, OntapError>) {
        let (_, respond) = ontap.next_request().await.expect("a request");
        match answer {
            Ok(response) => respond.send_response(response),
            Err(error) => respond.send_error(error),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_that_meets_overload_is_tried_again() {
        let (service, mut ontap) = retrying(RetryPolicy::default());
        let call = tokio::spawn(service.oneshot(testing::read(Deadline::NONE)));
        answer(&mut ontap, Err(testing::status(503, None))).await;
        answer(&mut ontap, Ok(testing::ok())).await;
        assert_eq!(call.await.unwrap().unwrap().status, 200);
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_is_sent_once_whatever_the_answer() {
        let (service, mut ontap) = retrying(RetryPolicy::default());
        let call = tokio::spawn(service.oneshot(testing::write(Deadline::NONE)));
        answer(&mut ontap, Err(testing::status(503, None))).await;
        assert!(call.await.unwrap().is_err());
        assert!(testing::nothing_sent(&mut ontap));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_stop_at_the_policys_limit() {
        let (service, mut ontap) = retrying(RetryPolicy::default());
        let call = tokio::spawn(service.oneshot(testing::read(Deadline::NONE)));
        for _ in 0..=RetryPolicy::DEFAULT_MAX_RETRIES {
            answer(&mut ontap, Err(testing::refused())).await;
        }
        assert!(matches!(
            call.await.unwrap(),
            Err(OntapError::Unreachable(_))
        ));
        assert!(testing::nothing_sent(&mut ontap));
    }

    #[tokio::test(start_paused = true)]
    async fn the_wait_ontap_asks_for_is_the_wait_before_the_retry() {
        let (service, mut ontap) = retrying(RetryPolicy::default());
        let _call = tokio::spawn(service.oneshot(testing::read(Deadline::NONE)));
        let asked = Duration::from_secs(7);
        answer(&mut ontap, Err(testing::status(429, Some(asked)))).await;
        let failed = tokio::time::Instant::now();
        let _retry = ontap.next_request().await.expect("retried");
        assert_eq!(failed.elapsed(), asked);
    }

    #[tokio::test(start_paused = true)]
    async fn no_retry_is_made_that_would_outlast_the_callers_deadline() {
        let (service, mut ontap) = retrying(RetryPolicy::default());
        let deadline = Deadline::after(Duration::from_secs(5));
        let call = tokio::spawn(service.oneshot(testing::read(deadline)));
        let asked = Duration::from_secs(7);
        answer(&mut ontap, Err(testing::status(503, Some(asked)))).await;
        assert!(call.await.unwrap().is_err());
        assert!(testing::nothing_sent(&mut ontap));
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_deadline_no_retry_is_made_past_the_request_timeout() {
        let (service, mut ontap) = retrying(RetryPolicy::default());
        let mut request = testing::read(Deadline::NONE);
        request.context.started -= REQUEST_TIMEOUT;
        let call = tokio::spawn(service.oneshot(request));
        answer(&mut ontap, Err(testing::refused())).await;
        assert!(call.await.unwrap().is_err());
        assert!(testing::nothing_sent(&mut ontap));
    }

    #[tokio::test(start_paused = true)]
    async fn a_shared_read_is_retried_while_its_latest_caller_wants_it() {
        let (service, mut ontap) = retrying(RetryPolicy::default());
        let flights = Flights::default();
        let mut request = testing::read(Deadline::NONE);
        let _soon = flights.join("key", Deadline::after(Duration::from_secs(1)), |flight| {
            request.context.flight = Some(flight);
            std::future::pending()
        });
        let _later = flights.join("key", Deadline::after(Duration::from_secs(60)), |_| {
            std::future::pending()
        });
        let _call = tokio::spawn(service.oneshot(request));
        let asked = Duration::from_secs(7);
        answer(&mut ontap, Err(testing::status(503, Some(asked)))).await;
        assert!(
            ontap.next_request().await.is_some(),
            "retried for the later"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_shared_read_is_not_retried_once_none_of_its_callers_would_wait() {
        let (service, mut ontap) = retrying(RetryPolicy::default());
        let flights = Flights::default();
        let mut request = testing::read(Deadline::NONE);
        let _caller = flights.join("key", Deadline::after(Duration::from_secs(5)), |flight| {
            request.context.flight = Some(flight);
            std::future::pending()
        });
        let call = tokio::spawn(service.oneshot(request));
        let asked = Duration::from_secs(7);
        answer(&mut ontap, Err(testing::status(503, Some(asked)))).await;
        assert!(call.await.unwrap().is_err());
        assert!(testing::nothing_sent(&mut ontap));
    }
}
