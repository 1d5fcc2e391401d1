//! Failures of a call to ONTAP, typed so the translator's error table can
//! branch on what actually went wrong.

use std::time::Duration;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, SeqAccess, Visitor};

use super::untrusted::Scrubber;

/// The most of ONTAP's error `arguments` kept.
const MAX_ARGUMENTS: usize = 8;

/// Why an ONTAP call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OntapError {
    /// ONTAP answered with an error status; `error` is its documented error
    /// body (boxed: it is the largest variant by far).
    #[error("ONTAP answered HTTP {status}: {}", .error.message)]
    Api { status: u16, error: Box<ApiError> },
    /// ONTAP answered 401 to the credentials the gateway was configured
    /// with: the operator's to fix, not the caller's, and retrying only
    /// adds failed logins that can lock the account.
    #[error("ONTAP rejected the gateway's credentials: {}", .error.message)]
    CredentialsRejected { error: Box<ApiError> },
    /// ONTAP answered 401 to the caller's own credentials (pass-through):
    /// the caller's to fix.
    #[error("ONTAP rejected the caller's credentials: {}", .error.message)]
    CallerRejected { error: Box<ApiError> },
    /// The cluster could not be reached: connection refused, DNS, a TLS
    /// handshake that failed for a reason other than the certificate.
    #[error("cannot reach ONTAP: {0}")]
    Unreachable(String),
    /// The cluster's TLS certificate did not verify against the CAs the
    /// gateway trusts: a configuration fix (`--ca-cert`), not an outage.
    #[error("ONTAP's TLS certificate is not trusted: {0}")]
    CertificateRejected(String),
    /// The connection broke after the request was sent.
    #[error("connection to ONTAP lost: {0}")]
    ConnectionLost(String),
    /// No answer within the call's time budget, which `bound` set.
    #[error("ONTAP did not answer within {budget:?}, {bound}")]
    Timeout {
        /// How long the request was given.
        budget: Duration,
        /// What set that budget.
        bound: TimeBound,
    },
    /// Every upstream request slot stayed busy for as long as the call could wait.
    #[error("all {limit} upstream request slots stayed busy for {waited:?}")]
    Overloaded { limit: usize, waited: Duration },
    /// The caller's deadline passed while the call waited for an upstream
    /// request slot: nothing was sent.
    #[error(
        "the call's deadline passed after {waited:?} waiting for one of {limit} upstream \
         request slots; nothing was sent to ONTAP"
    )]
    QueuedPastDeadline { limit: usize, waited: Duration },
    /// Buffering or decoding the response would pass the memory budget for
    /// responses being read and decoded at once.
    #[error(
        "reading and decoding this ONTAP response would pass the {budget}-byte budget for \
         responses in flight"
    )]
    MemoryBudget { budget: usize },
    /// The response body is larger than the gateway accepts.
    #[error("ONTAP response exceeds the {limit}-byte limit")]
    ResponseTooLarge { limit: usize },
    /// The response is not the JSON the documentation describes.
    #[error("malformed ONTAP response: {0}")]
    Malformed(String),
    /// The cluster's circuit is open: ONTAP failed `failures` times in a
    /// row, so calls fail at once until a probe finds it answering again.
    #[error(
        "ONTAP failed {failures} times in a row{}; calls fail at once for {retry_in:?} more, \
         then one call probes whether it is back",
        last_words(.last_failure)
    )]
    CircuitOpen {
        failures: u32,
        retry_in: Duration,
        /// The failure that opened the circuit (or kept it open), so a
        /// caller learns why and not only that: a refused connection, a
        /// DNS error, ONTAP's own 503. Its text was scrubbed where it
        /// entered the gateway.
        last_failure: Option<Box<OntapError>>,
    },
}

/// How a circuit-open message names the failure behind it.
fn last_words(last_failure: &Option<Box<OntapError>>) -> String {
    last_failure
        .as_ref()
        .map(|last| format!(", the last time: {last}"))
        .unwrap_or_default()
}

/// What bounded the time an upstream request was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBound {
    /// The caller's deadline, less the gateway's reply margin.
    CallerDeadline,
    /// The gateway's own bound on one request (`--request-timeout-ms`).
    RequestTimeout,
}

impl std::fmt::Display for TimeBound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeBound::CallerDeadline => "the time left before the call's deadline",
            TimeBound::RequestTimeout => "the gateway's request timeout",
        })
    }
}

impl OntapError {
    /// ONTAP's error code, when ONTAP answered with one.
    pub fn ontap_code(&self) -> Option<&str> {
        self.answer().and_then(|(_, error)| error.code.as_deref())
    }

    /// What kind of failure this is, in one word, for a metric's label.
    pub fn kind(&self) -> &'static str {
        match self {
            OntapError::Api { .. } => "api_error",
            OntapError::CredentialsRejected { .. } => "credentials_rejected",
            OntapError::CallerRejected { .. } => "caller_rejected",
            OntapError::Unreachable(_) => "unreachable",
            OntapError::CertificateRejected(_) => "certificate_rejected",
            OntapError::ConnectionLost(_) => "connection_lost",
            OntapError::Timeout { .. } => "timeout",
            OntapError::Overloaded { .. } => "overloaded",
            OntapError::QueuedPastDeadline { .. } => "queued_past_deadline",
            OntapError::MemoryBudget { .. } => "memory_budget",
            OntapError::ResponseTooLarge { .. } => "too_large",
            OntapError::Malformed(_) => "malformed",
            OntapError::CircuitOpen { .. } => "circuit_open",
        }
    }

    /// The HTTP status and error body, when ONTAP itself answered.
    pub fn answer(&self) -> Option<(u16, &ApiError)> {
        match self {
            OntapError::Api { status, error } => Some((*status, error)),
            OntapError::CredentialsRejected { error } | OntapError::CallerRejected { error } => {
                Some((401, error))
            }
            _ => None,
        }
    }
}

/// ONTAP's `returned_error` object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ApiError {
    /// The ONTAP error code, a decimal number sent as a string.
    #[serde(default)]
    pub code: Option<String>,
    /// A human-readable message.
    #[serde(default)]
    pub message: String,
    /// The request parameter or field ONTAP blames, when there is one.
    #[serde(default)]
    pub target: Option<String>,
    /// Message arguments: the first [`MAX_ARGUMENTS`].
    #[serde(default, deserialize_with = "first_arguments")]
    pub arguments: Vec<ApiErrorArgument>,
    /// How long ONTAP asked the client to wait before trying again (the
    /// response's `Retry-After` header, not the body).
    #[serde(skip)]
    pub retry_after: Option<Duration>,
}

/// One of ONTAP's `error_arguments`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ApiErrorArgument {
    /// Argument code.
    #[serde(default)]
    pub code: Option<String>,
    /// Message argument.
    #[serde(default)]
    pub message: Option<String>,
}

/// The first [`MAX_ARGUMENTS`] arguments; the rest are skipped, never
/// decoded, however many an error body holds.
fn first_arguments<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<ApiErrorArgument>, D::Error> {
    struct First;
    impl<'de> Visitor<'de> for First {
        type Value = Vec<ApiErrorArgument>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an array of error arguments")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut kept = Vec::new();
            while kept.len() < MAX_ARGUMENTS {
                match seq.next_element()? {
                    Some(argument) => kept.push(argument),
                    None => return Ok(kept),
                }
            }
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(kept)
        }
    }
    deserializer.deserialize_seq(First)
}

/// An error and its causes, on one line.
pub(super) fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl ApiError {
    /// The error with every text field scrubbed: ONTAP's message may echo
    /// what it was sent, credentials included.
    pub fn scrubbed(self, scrubber: &Scrubber) -> Self {
        ApiError {
            code: self.code.map(|c| scrubber.scrub(&c)),
            message: scrubber.scrub(&self.message),
            target: self.target.map(|t| scrubber.scrub(&t)),
            arguments: self
                .arguments
                .into_iter()
                .take(MAX_ARGUMENTS)
                .map(|a| ApiErrorArgument {
                    code: a.code.map(|c| scrubber.scrub(&c)),
                    message: a.message.map(|m| scrubber.scrub(&m)),
                })
                .collect(),
            retry_after: self.retry_after,
        }
    }

    /// Reads an error body; a body that is not ONTAP's error shape (a proxy's
    /// HTML page, say) still yields an error carrying the HTTP reason.
    pub fn from_body(status: u16, body: &[u8]) -> Self {
        #[derive(Deserialize)]
        struct Envelope {
            error: ApiError,
        }
        match serde_json::from_slice::<Envelope>(body) {
            Ok(envelope) => envelope.error,
            Err(_) => ApiError {
                message: http::StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("unexpected HTTP status")
                    .to_owned(),
                ..ApiError::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_described_with_each_of_its_causes() {
        let inner = std::io::Error::other("connection reset");
        let outer = std::io::Error::new(std::io::ErrorKind::BrokenPipe, Wrapped(inner));
        assert_eq!(describe(&outer), "sending the body: connection reset");
    }

    /// An error whose `source` is the error it wraps.
    #[derive(Debug)]
    struct Wrapped(std::io::Error);

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("sending the body")
        }
    }

    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn an_error_body_that_is_not_ontaps_is_named_by_its_http_status() {
        let error = ApiError::from_body(503, b"<html>busy</html>");
        assert_eq!(error.message, "Service Unavailable");
        assert_eq!(error.code, None);
        let unknown = ApiError::from_body(599, b"");
        assert_eq!(unknown.message, "unexpected HTTP status");
    }

    #[test]
    fn error_arguments_that_are_not_an_array_are_refused_saying_what_was_expected() {
        let err = serde_json::from_str::<ApiError>(r#"{"arguments": 5}"#).unwrap_err();
        assert!(
            err.to_string()
                .contains("expected an array of error arguments"),
            "{err}"
        );
    }

    #[test]
    fn ontap_code_is_the_code_of_an_api_error_only() {
        let api = OntapError::Api {
            status: 404,
            error: Box::new(ApiError {
                code: Some("8585947".into()),
                ..ApiError::default()
            }),
        };
        assert_eq!(api.ontap_code(), Some("8585947"));
        assert_eq!(OntapError::Malformed("x".into()).ontap_code(), None);
    }

    #[test]
    fn each_kind_of_failure_has_its_own_word() {
        let kinds = [
            OntapError::Api {
                status: 500,
                error: Box::default(),
            },
            OntapError::CredentialsRejected {
                error: Box::default(),
            },
            OntapError::CallerRejected {
                error: Box::default(),
            },
            OntapError::Unreachable("x".into()),
            OntapError::CertificateRejected("x".into()),
            OntapError::ConnectionLost("x".into()),
            OntapError::Timeout {
                budget: Duration::ZERO,
                bound: TimeBound::RequestTimeout,
            },
            OntapError::Overloaded {
                limit: 1,
                waited: Duration::ZERO,
            },
            OntapError::QueuedPastDeadline {
                limit: 1,
                waited: Duration::ZERO,
            },
            OntapError::MemoryBudget { budget: 1 },
            OntapError::ResponseTooLarge { limit: 1 },
            OntapError::Malformed("x".into()),
            OntapError::CircuitOpen {
                failures: 1,
                retry_in: Duration::ZERO,
                last_failure: None,
            },
        ]
        .map(|e| e.kind());
        assert_eq!(
            kinds,
            [
                "api_error",
                "credentials_rejected",
                "caller_rejected",
                "unreachable",
                "certificate_rejected",
                "connection_lost",
                "timeout",
                "overloaded",
                "queued_past_deadline",
                "memory_budget",
                "too_large",
                "malformed",
                "circuit_open",
            ]
        );
    }

    #[test]
    fn only_the_first_arguments_of_an_error_body_are_decoded() {
        let arguments = vec![r#"{"code": "1", "message": "m"}"#; 10_000].join(",");
        let body = format!(r#"{{"error": {{"message": "x", "arguments": [{arguments}]}}}}"#);
        let error = ApiError::from_body(400, body.as_bytes());
        assert_eq!(error.message, "x");
        assert_eq!(error.arguments.len(), MAX_ARGUMENTS);
    }

    #[test]
    fn an_open_circuit_names_the_failure_behind_it() {
        let open = OntapError::CircuitOpen {
            failures: 5,
            retry_in: Duration::from_secs(3),
            last_failure: Some(Box::new(OntapError::Unreachable(
                "tcp connect error: Connection refused".into(),
            ))),
        };
        let shown = open.to_string();
        assert!(
            shown.starts_with(
                "ONTAP failed 5 times in a row, the last time: cannot reach ONTAP: tcp connect \
                 error: Connection refused; calls fail at once"
            ),
            "{shown}"
        );
    }

    #[test]
    fn refused_credentials_are_ontaps_answer_with_status_401() {
        let refused = OntapError::CredentialsRejected {
            error: Box::new(ApiError {
                code: Some("6691623".into()),
                ..ApiError::default()
            }),
        };
        assert_eq!(refused.answer().map(|(status, _)| status), Some(401));
        assert_eq!(refused.ontap_code(), Some("6691623"));
        let caller = OntapError::CallerRejected {
            error: Box::default(),
        };
        assert_eq!(caller.answer().map(|(status, _)| status), Some(401));
    }
}
