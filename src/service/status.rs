//! Typed gateway errors become `tonic::Status` here and nowhere else, with
//! `google.rpc.ErrorInfo` always and `google.rpc.BadRequest` when a request
//! field is to blame.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tonic::Status;
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

use crate::ontap::OntapError;
use crate::ontap::untrusted::bounded;
use crate::translate::GatewayError;
use crate::translate::error_table;

/// `google.rpc.ErrorInfo.domain` of every error the gateway returns.
pub const ERROR_DOMAIN: &str = "ontap-grpc-gateway";

// Bounds that keep a status (message and details) under 4 KiB however large
// the values it quotes: a client's metadata limit (8 KiB in gRPC C-core)
// must never turn a clear error into RESOURCE_EXHAUSTED.
/// The status message, in bytes.
pub(super) const MAX_MESSAGE: usize = 320;
/// Field violations listed; the message counts the rest.
const MAX_VIOLATIONS: usize = 8;
/// A violation's field path, in bytes.
const MAX_FIELD: usize = 80;
/// A violation's description, in bytes.
const MAX_DESCRIPTION: usize = 200;
/// One ErrorInfo metadata value, in bytes.
const MAX_METADATA_VALUE: usize = 120;
/// ONTAP error arguments carried in ErrorInfo.
const MAX_ARGUMENTS: usize = 4;
/// A logged error, in bytes.
const MAX_LOGGED: usize = 1024;
/// A quoted caller value, in characters: enough to recognise it.
const MAX_QUOTED: usize = 40;

/// `text` fit for a status: each backquoted value (the translator quotes
/// every caller value so) cut to a recognisable prefix, control characters
/// escaped, and at most `max` bytes in all.
pub(super) fn shown(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    for (i, part) in text.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        let quoted = i % 2 == 1;
        match part.char_indices().nth(MAX_QUOTED) {
            Some((cut, _)) if quoted => {
                out.push_str(&part[..cut]);
                out.push('…');
            }
            _ => out.push_str(part),
        }
        if out.len() > max {
            break;
        }
    }
    bounded(&out, max)
}

/// Upstream-queue rejections come in bursts under load: one warning a
/// second says so, counting the ones it stands for.
static QUEUE_WARNINGS: WarnLimiter = WarnLimiter::per(Duration::from_secs(1));

/// Time since the first call to this, on the monotonic clock.
fn since_start() -> Duration {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

/// Lets one warning through per interval and counts the rest. Hand-written:
/// two atomics; the rate-limiting crates bring clocks and middleware the
/// gateway has no other use for.
struct WarnLimiter {
    interval_ms: u64,
    /// When the next warning may go out (ms since start); 0 before the first.
    next_ms: AtomicU64,
    /// Warnings held back since the last one that went out.
    suppressed: AtomicU64,
}

impl WarnLimiter {
    const fn per(interval: Duration) -> Self {
        Self {
            interval_ms: interval.as_millis() as u64,
            next_ms: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// `Some(count held back since the last)` when a warning may go out at `now`.
    fn allow(&self, now: Duration) -> Option<u64> {
        let now_ms = u64::try_from(now.as_millis()).unwrap_or(u64::MAX);
        let next = self.next_ms.load(Ordering::Relaxed);
        let claimed = now_ms >= next
            && self
                .next_ms
                .compare_exchange(
                    next,
                    now_ms.saturating_add(self.interval_ms),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok();
        if claimed {
            Some(self.suppressed.swap(0, Ordering::Relaxed))
        } else {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

/// The status a failed call answers with, logged.
pub fn to_status(err: GatewayError) -> Status {
    log(&err);
    status_of(&err)
}

/// The status `err` answers with. A watch's failure, shared by every
/// watcher, is logged once where it happens and becomes a status for each.
pub fn status_of(err: &GatewayError) -> Status {
    let row = error_table::classify(err);
    let mut metadata = HashMap::new();
    let mut violations = Vec::new();
    let mut message = shown(&err.to_string(), MAX_MESSAGE);
    let mut put = |key: String, value: &str| {
        metadata.insert(key, bounded(value, MAX_METADATA_VALUE));
    };
    match err {
        GatewayError::InvalidRequest(list) => {
            violations.extend(list.iter().take(MAX_VIOLATIONS).map(|v| {
                FieldViolation::new(
                    bounded(&v.field, MAX_FIELD),
                    shown(&v.description, MAX_DESCRIPTION),
                )
            }));
            if list.len() > MAX_VIOLATIONS {
                let more = list.len() - MAX_VIOLATIONS;
                message = format!(
                    "invalid request: {} fields are invalid, the first {MAX_VIOLATIONS} \
                     listed in BadRequest ({more} more not shown)",
                    list.len()
                );
            }
        }
        GatewayError::Upstream { source, field } => {
            if let OntapError::CircuitOpen {
                last_failure: Some(last),
                ..
            } = source
            {
                let last = GatewayError::from((**last).clone());
                put(
                    "last_failure_reason".to_owned(),
                    error_table::classify(&last).reason,
                );
                put("last_failure".to_owned(), &last.to_string());
            }
            if let Some((status, error)) = source.answer() {
                put("http_status".to_owned(), &status.to_string());
                if let Some(code) = &error.code {
                    put("ontap_code".to_owned(), code);
                }
                if let Some(target) = &error.target {
                    put("target".to_owned(), target);
                }
                for (i, argument) in error.arguments.iter().take(MAX_ARGUMENTS).enumerate() {
                    if let Some(message) = &argument.message {
                        put(format!("argument_{i}"), message);
                    }
                    if let Some(code) = argument.code.as_deref().filter(|c| !c.is_empty()) {
                        put(format!("argument_{i}_code"), code);
                    }
                }
                if let Some(field) = field {
                    violations.push(FieldViolation::new(
                        bounded(field, MAX_FIELD),
                        shown(&error.message, MAX_DESCRIPTION),
                    ));
                }
            }
        }
        GatewayError::NotReadBack {
            written, source, ..
        } => {
            put("written".to_owned(), written.as_str());
            if let Some((status, error)) = source.answer() {
                put("http_status".to_owned(), &status.to_string());
                if let Some(code) = &error.code {
                    put("ontap_code".to_owned(), code);
                }
            }
        }
        GatewayError::UnknownCluster { name, .. } => put("cluster".to_owned(), name),
        GatewayError::RecordTooLarge { bytes, limit } => {
            put("bytes".to_owned(), &bytes.to_string());
            put("limit".to_owned(), &limit.to_string());
        }
        GatewayError::NotPermitted(refused) => {
            put("identity".to_owned(), &refused.identity);
            put("cluster".to_owned(), &refused.cluster);
            put("svm".to_owned(), &refused.svm);
            put("method".to_owned(), &refused.method);
        }
        GatewayError::WatchTooSlow { .. }
        | GatewayError::ShuttingDown
        | GatewayError::CallerUnauthenticated(_)
        | GatewayError::ClusterNotChosen { .. } => {}
    }
    let mut details = ErrorDetails::new();
    details.set_error_info(row.reason, ERROR_DOMAIN, metadata);
    if !violations.is_empty() {
        details.set_bad_request(violations);
    }
    Status::with_error_details(row.code, message, details)
}

/// A call the layers refuse before any handler runs, with the code and
/// reason its row in the error table gives.
pub fn refusal(
    refused: error_table::Match,
    message: impl Into<String>,
    metadata: HashMap<String, String>,
) -> Status {
    let row = error_table::refusal_row(refused);
    let mut details = ErrorDetails::new();
    details.set_error_info(row.reason, ERROR_DOMAIN, metadata);
    Status::with_error_details(row.code, message, details)
}

/// Logs a failed call: failures on the way to ONTAP are the operator's
/// concern; a caller's bad request or slow reading is the caller's, so it is
/// logged quietly.
pub(super) fn log(err: &GatewayError) {
    let row = error_table::classify(err);
    let logged = shown(&err.to_string(), MAX_LOGGED);
    match err {
        GatewayError::InvalidRequest(_)
        | GatewayError::WatchTooSlow { .. }
        | GatewayError::RecordTooLarge { .. }
        | GatewayError::ShuttingDown
        | GatewayError::CallerUnauthenticated(_)
        | GatewayError::NotPermitted(_)
        | GatewayError::UnknownCluster { .. }
        | GatewayError::ClusterNotChosen { .. }
        | GatewayError::Upstream {
            source: OntapError::CallerRejected { .. },
            ..
        } => {
            tracing::debug!(reason = row.reason, "{logged}")
        }
        GatewayError::Upstream {
            source: OntapError::Overloaded { .. } | OntapError::QueuedPastDeadline { .. },
            ..
        } => match QUEUE_WARNINGS.allow(since_start()) {
            Some(suppressed) => {
                tracing::warn!(reason = row.reason, code = ?row.code, suppressed, "{logged}")
            }
            None => tracing::debug!(reason = row.reason, "{logged}"),
        },
        GatewayError::Upstream { .. } | GatewayError::NotReadBack { .. } => {
            tracing::warn!(reason = row.reason, code = ?row.code, "{logged}")
        }
    }
}

#[cfg(test)]
mod tests {
    use tonic_types::StatusExt;

    use super::*;
    use crate::ontap::{ApiError, ApiErrorArgument};
    use crate::translate::Written;

    #[test]
    fn a_burst_of_warnings_lets_one_through_per_interval_and_counts_the_rest() {
        let limiter = WarnLimiter::per(Duration::from_secs(1));
        let at = Duration::from_millis;
        assert_eq!(limiter.allow(at(5)), Some(0));
        assert_eq!(limiter.allow(at(6)), None);
        assert_eq!(limiter.allow(at(1004)), None);
        assert_eq!(limiter.allow(at(1005)), Some(2));
        assert_eq!(limiter.allow(at(1500)), None);
        assert_eq!(limiter.allow(at(9000)), Some(1));
    }

    #[test]
    fn a_quoted_value_is_cut_to_a_prefix() {
        let text = format!("`{}` is not a UUID", "a".repeat(100));
        assert_eq!(
            shown(&text, 1000),
            format!("`{}…` is not a UUID", "a".repeat(MAX_QUOTED))
        );
    }

    #[test]
    fn unquoted_text_is_only_bounded() {
        assert_eq!(shown("plain words", 1000), "plain words");
        assert_eq!(shown("`short` twice `ok`", 1000), "`short` twice `ok`");
        assert!(shown(&"x".repeat(5000), 100).len() <= 100 + '…'.len_utf8());
    }

    #[test]
    fn text_cut_where_a_quoted_value_ends_still_shows_it_was_cut() {
        assert_eq!(shown("`abcd` and more", 5), "`abcd…");
    }

    #[test]
    fn the_clock_the_warning_limiter_reads_moves_forward() {
        let first = since_start();
        assert!((0..10_000_000).any(|_| since_start() > first));
    }

    #[test]
    fn as_many_violations_as_are_listed_leave_the_message_alone() {
        let list = (0..MAX_VIOLATIONS)
            .map(|i| crate::translate::FieldViolation::new(format!("f{i}"), "bad"))
            .collect();
        let status = to_status(GatewayError::InvalidRequest(list));
        let listed = status.get_details_bad_request().unwrap().field_violations;
        assert_eq!(listed.len(), MAX_VIOLATIONS);
        assert!(
            !status.message().contains("more not shown"),
            "{}",
            status.message()
        );
    }

    #[test]
    fn more_violations_than_listed_are_counted_in_the_message() {
        let list = (0..12)
            .map(|i| crate::translate::FieldViolation::new(format!("f{i}"), "bad"))
            .collect();
        let status = to_status(GatewayError::InvalidRequest(list));
        let listed = status.get_details_bad_request().unwrap().field_violations;
        assert_eq!(listed.len(), MAX_VIOLATIONS);
        assert!(status.message().contains("4 more"), "{}", status.message());
    }

    #[test]
    fn ontap_arguments_become_numbered_error_info_metadata() {
        let err = GatewayError::from(OntapError::Api {
            status: 400,
            error: Box::new(ApiError {
                code: Some("262197".into()),
                message: "invalid value".into(),
                target: None,
                retry_after: None,
                arguments: vec![
                    ApiErrorArgument {
                        code: Some(String::new()),
                        message: Some("vs9".into()),
                    },
                    ApiErrorArgument {
                        code: Some("7".into()),
                        message: None,
                    },
                ],
            }),
        });
        let info = to_status(err).get_details_error_info().unwrap();
        let get = |k: &str| info.metadata.get(k).map(String::as_str);
        assert_eq!(get("argument_0"), Some("vs9"));
        assert_eq!(get("argument_0_code"), None, "an empty code is left out");
        assert_eq!(get("argument_1"), None);
        assert_eq!(get("argument_1_code"), Some("7"));
    }

    #[test]
    fn a_change_not_read_back_says_what_was_made_in_message_and_metadata() {
        for (written, word) in [(Written::Created, "created"), (Written::Updated, "updated")] {
            let status = to_status(GatewayError::NotReadBack {
                resource: "the iSCSI service of SVM `u`".into(),
                written,
                source: OntapError::ConnectionLost("reset".into()),
            });
            assert!(
                status
                    .message()
                    .starts_with(&format!("the iSCSI service of SVM `u` was {word}, but")),
                "{}",
                status.message()
            );
            let info = status.get_details_error_info().unwrap();
            assert_eq!(info.metadata.get("written").map(String::as_str), Some(word));
        }
    }

    #[test]
    fn a_failure_on_the_way_to_ontap_is_logged_as_a_warning_with_its_reason() {
        let logged = crate::test_logs::captured(tracing::Level::WARN, || {
            log(&OntapError::Unreachable("connection refused".into()).into());
        });
        assert!(logged.contains("WARN"), "{logged}");
        assert!(
            logged.contains("reason=\"UPSTREAM_UNREACHABLE\""),
            "{logged}"
        );
        assert!(logged.contains("connection refused"), "{logged}");
    }

    #[test]
    fn a_bad_request_is_the_callers_and_logged_only_at_debug() {
        let request = || log(&GatewayError::InvalidRequest(Vec::new()));
        assert_eq!(
            crate::test_logs::captured(tracing::Level::INFO, request),
            ""
        );
        let debug = crate::test_logs::captured(tracing::Level::DEBUG, request);
        assert!(debug.contains("INVALID_REQUEST"), "{debug}");
    }
}
