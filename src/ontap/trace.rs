//! The caller's request id and W3C trace context, carried with each call
//! to ONTAP, so one request can be followed from the caller through the
//! gateway to the cluster's own logs. The edge (a layer) sets them in a
//! task-local, so the code between needs no parameter for them; the client
//! reads them once, into the call's context, where the upstream stack
//! finds them. Work that serves many callers at once (a watch's shared
//! poller) runs outside any call and sends none.

use std::future::Future;

use http::HeaderValue;
use http::header::{HeaderMap, HeaderName};
use tokio::task::futures::TaskLocalFuture;

/// The tracing headers of one call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallTrace {
    request_id: Option<HeaderValue>,
    traceparent: Option<HeaderValue>,
}

tokio::task_local! {
    static CALL_TRACE: CallTrace;
}

/// The longest request id forwarded.
const MAX_REQUEST_ID: usize = 128;

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

impl CallTrace {
    /// Reads `x-request-id` and `traceparent` from a call's headers, keeping
    /// only well-formed values: an id of up to 128 characters from
    /// `[A-Za-z0-9._:-]`, and a `traceparent` of W3C Trace Context version 00.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let request_id = headers
            .get(X_REQUEST_ID)
            .filter(|v| is_request_id(v.as_bytes()))
            .cloned();
        let traceparent = headers
            .get(TRACEPARENT)
            .filter(|v| is_traceparent(v.as_bytes()))
            .cloned();
        Self {
            request_id,
            traceparent,
        }
    }

    /// The trace id of the `traceparent`, for the call's log line.
    pub fn trace_id(&self) -> Option<&str> {
        let traceparent = self.traceparent.as_ref()?.to_str().ok()?;
        traceparent.get(3..35)
    }

    /// `f`, run with this trace as the current call's.
    pub fn scope<F: Future>(self, f: F) -> TaskLocalFuture<CallTrace, F> {
        CALL_TRACE.scope(self, f)
    }

    /// The trace of the call being served, when there is one.
    pub fn current() -> Option<Self> {
        CALL_TRACE.try_with(Clone::clone).ok()
    }

    /// The headers to send ONTAP.
    pub(super) fn headers(&self) -> impl Iterator<Item = (HeaderName, &HeaderValue)> {
        [
            (X_REQUEST_ID, self.request_id.as_ref()),
            (TRACEPARENT, self.traceparent.as_ref()),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
    }
}

fn is_request_id(id: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, lowercase, ids
/// not all zero (W3C Trace Context, level 1).
fn is_traceparent(value: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(value) else {
        return false;
    };
    let parts: Vec<&str> = text.split('-').collect();
    let hex = |s: &str, len: usize| {
        s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let nonzero = |s: &str| s.bytes().any(|b| b != b'0');
    matches!(parts.as_slice(), [version, trace, parent, flags]
        if *version == "00"
            && hex(trace, 32) && nonzero(trace)
            && hex(parent, 16) && nonzero(parent)
            && hex(flags, 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACEPARENT_VALUE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap()))
            .collect()
    }

    #[test]
    fn a_well_formed_id_and_traceparent_are_kept() {
        let trace = CallTrace::from_headers(&headers(&[
            ("x-request-id", "0011919e-cffb-40c2"),
            ("traceparent", TRACEPARENT_VALUE),
        ]));
        let sent: Vec<_> = trace
            .headers()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap()))
            .collect();
        assert_eq!(
            sent,
            [
                ("x-request-id".to_owned(), "0011919e-cffb-40c2"),
                ("traceparent".to_owned(), TRACEPARENT_VALUE)
            ]
        );
        assert_eq!(trace.trace_id(), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
    }

    #[test]
    fn malformed_values_are_not_forwarded() {
        let long = "x".repeat(MAX_REQUEST_ID + 1);
        for (id, traceparent) in [
            (
                "has space",
                "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
            (
                "a/b",
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            ),
            (
                long.as_str(),
                "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            ),
            (
                "",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            ),
        ] {
            let trace = CallTrace::from_headers(&headers(&[
                ("x-request-id", id),
                ("traceparent", traceparent),
            ]));
            assert_eq!(trace.headers().count(), 0, "{id} {traceparent}");
        }
    }

    #[tokio::test]
    async fn the_trace_is_current_only_inside_its_scope() {
        assert_eq!(CallTrace::current(), None);
        let trace = CallTrace::from_headers(&headers(&[("x-request-id", "abc")]));
        let inside = trace.clone().scope(async { CallTrace::current() }).await;
        assert_eq!(inside, Some(trace));
    }
}
