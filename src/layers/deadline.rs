//! The caller's deadline, read once when the request arrives.
//!
//! tonic enforces the same `grpc-timeout` by cancelling the call at expiry,
//! which answers a bare CANCELLED. Its timer starts as the request enters
//! the server, just outside this layer; reading the header here, before the
//! body is decoded or any work is queued, keeps the two clocks microseconds
//! apart, and the upstream budget ends [`reply_margin`] earlier so the
//! caller gets the gateway's own DEADLINE_EXCEEDED, with its details.

use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::HeaderMap;
use tower::{Layer, Service};

use crate::deadline::Deadline;

/// Puts the call's [`Deadline`] in the request's extensions.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeadlineLayer;

impl<S> Layer<S> for DeadlineLayer {
    type Service = DeadlineService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        DeadlineService { inner }
    }
}

/// See [`DeadlineLayer`].
#[derive(Debug, Clone)]
pub struct DeadlineService<S> {
    inner: S,
}

impl<S, B> Service<http::Request<B>> for DeadlineService<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let deadline = deadline_of(request.headers(), Instant::now());
        request.extensions_mut().insert(deadline);
        self.inner.call(request)
    }
}

/// The deadline the upstream work must finish by, for a call that arrived
/// at `arrival` with `headers`.
pub fn deadline_of(headers: &HeaderMap, arrival: Instant) -> Deadline {
    match headers
        .get("grpc-timeout")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_grpc_timeout)
    {
        Some(timeout) => Deadline::at(arrival + timeout.saturating_sub(reply_margin(timeout))),
        None => Deadline::NONE,
    }
}

/// Time kept back to encode and send the gateway's own status before
/// tonic's timer fires: a tenth of the timeout, at least 2 ms, at most
/// 100 ms.
pub fn reply_margin(timeout: Duration) -> Duration {
    (timeout / 10).clamp(Duration::from_millis(2), Duration::from_millis(100))
}

/// Parses `<1..8 digits><unit>` per the gRPC HTTP/2 protocol spec.
pub(crate) fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    if value.len() < 2 || value.len() > 9 || !value.is_ascii() {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.checked_mul(3600)?),
        "M" => Duration::from_secs(amount.checked_mul(60)?),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(timeout: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("grpc-timeout", timeout.parse().unwrap());
        headers
    }

    #[test]
    fn parses_every_unit() {
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout("3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse_grpc_timeout("4S"), Some(Duration::from_secs(4)));
        assert_eq!(parse_grpc_timeout("500m"), Some(Duration::from_millis(500)));
        assert_eq!(parse_grpc_timeout("7u"), Some(Duration::from_micros(7)));
        assert_eq!(parse_grpc_timeout("9n"), Some(Duration::from_nanos(9)));
    }

    #[test]
    fn takes_the_longest_value_the_spec_allows() {
        assert_eq!(
            parse_grpc_timeout("99999999S"),
            Some(Duration::from_secs(99_999_999))
        );
    }

    #[test]
    fn rejects_malformed_values() {
        for bad in ["", "S", "10", "123456789S", "1x", "-1S"] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad}");
        }
    }

    #[test]
    fn no_header_means_no_deadline() {
        assert_eq!(
            deadline_of(&HeaderMap::new(), Instant::now()),
            Deadline::NONE
        );
    }

    #[test]
    fn deadline_counts_from_arrival_less_the_margin() {
        let arrival = Instant::now();
        assert_eq!(
            deadline_of(&headers("1S"), arrival),
            Deadline::at(arrival + Duration::from_millis(900))
        );
        assert_eq!(
            deadline_of(&headers("10S"), arrival),
            Deadline::at(arrival + Duration::from_millis(9_900))
        );
        assert_eq!(
            deadline_of(&headers("10m"), arrival),
            Deadline::at(arrival + Duration::from_millis(8))
        );
    }

    #[test]
    fn margin_never_exceeds_a_tiny_timeout() {
        let arrival = Instant::now();
        assert_eq!(deadline_of(&headers("1m"), arrival), Deadline::at(arrival));
    }
}

#[cfg(test)]
mod readiness {
    use super::*;
    use crate::layers::testing::{NeverReady, pending};

    #[test]
    fn readiness_is_the_inner_services() {
        assert!(pending(&mut DeadlineLayer.layer(NeverReady)));
    }

    proptest::proptest! {
        #[test]
        fn any_header_value_parses_or_is_refused_without_panicking(value in ".{0,12}") {
            let _ = parse_grpc_timeout(&value);
        }

        #[test]
        fn every_valid_timeout_parses_to_its_duration(amount in 0u64..100_000_000, unit in "[HMSmun]") {
            let expected = match unit.as_str() {
                "H" => Duration::from_secs(amount * 3600),
                "M" => Duration::from_secs(amount * 60),
                "S" => Duration::from_secs(amount),
                "m" => Duration::from_millis(amount),
                "u" => Duration::from_micros(amount),
                _ => Duration::from_nanos(amount),
            };
            proptest::prop_assert_eq!(parse_grpc_timeout(&format!("{amount}{unit}")), Some(expected));
        }

        #[test]
        fn a_sign_or_space_before_the_digits_is_refused(amount in 0u64..1000, prefix in "[+ -]") {
            proptest::prop_assert_eq!(parse_grpc_timeout(&format!("{prefix}{amount}S")), None);
        }
    }
}
