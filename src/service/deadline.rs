//! The caller's deadline, from the `grpc-timeout` header.
//!
//! tonic enforces the same header by cancelling the handler at expiry, which
//! would answer CANCELLED. The upstream budget therefore ends a small margin
//! earlier, so the caller gets DEADLINE_EXCEEDED from the gateway itself.

use std::time::Duration;

use tonic::metadata::MetadataMap;

use crate::ontap::Deadline;

/// The deadline the upstream work must finish by.
pub fn deadline_of(metadata: &MetadataMap) -> Deadline {
    match metadata
        .get("grpc-timeout")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_grpc_timeout)
    {
        Some(timeout) => Deadline::after(timeout.saturating_sub(reply_margin(timeout))),
        None => Deadline::NONE,
    }
}

/// Time kept back to send the error before tonic's own timer fires.
fn reply_margin(timeout: Duration) -> Duration {
    (timeout / 10).clamp(Duration::from_millis(2), Duration::from_millis(100))
}

/// Parses `<1..8 digits><unit>` per the gRPC HTTP/2 protocol spec.
fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
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
    fn rejects_malformed_values() {
        for bad in ["", "S", "10", "123456789S", "1x", "-1S"] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad}");
        }
    }

    #[test]
    fn no_header_means_no_deadline() {
        assert_eq!(deadline_of(&MetadataMap::new()), Deadline::NONE);
    }
}
