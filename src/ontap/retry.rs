//! Retrying reads through overload. ONTAP answers 429 or 503 when its
//! request queue is full, often with `Retry-After`, and a refused connection
//! is a node restarting: a read (never a write, which may have been
//! applied) is worth a couple more tries, spaced so that many gateways
//! retrying at once do not arrive together.

use std::time::{Duration, SystemTime};

use http::HeaderMap;
use http::header::RETRY_AFTER;

use super::error::OntapError;

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

    /// "Full jitter": anywhere from nothing to the exponential ceiling, so
    /// that callers that failed together retry apart.
    fn jittered(&self, retry: u32) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(2_u32.saturating_pow(retry))
            .min(self.max_delay);
        ceiling.mul_f64(fastrand::f64())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ontap::ApiError;

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

    #[test]
    fn computed_waits_stay_under_a_doubling_ceiling_up_to_the_most() {
        let policy = RetryPolicy {
            max_retries: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
        };
        let refused = OntapError::Unreachable("refused".into());
        for _ in 0..200 {
            assert!(policy.delay(0, &refused).unwrap() <= Duration::from_millis(100));
            assert!(policy.delay(1, &refused).unwrap() <= Duration::from_millis(200));
            assert!(policy.delay(5, &refused).unwrap() <= Duration::from_millis(300));
        }
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
}
