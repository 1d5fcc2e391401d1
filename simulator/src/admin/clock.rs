//! `GET /clock` and `POST /clock`: the simulated clock that performance data and CIFS churn
//! follow, so a test can make a watcher see new samples and connection changes without waiting.
//!
//! `POST /clock` takes exactly one of `{"pin": "<RFC 3339>"}` (stand still at that instant),
//! `{"advance_seconds": N}` (stand still N seconds, fractions allowed, after the time shown now)
//! and `{"resume": true}` (run with real time again from the time shown), and answers with the
//! clock as `GET /clock` shows it.

use std::time::{Duration, SystemTime};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Admin, AdminError, parse_body};
use crate::time::clock::unix_secs;
use crate::time::format_rfc3339;

/// The clock as `GET /clock` shows it.
#[derive(Debug, PartialEq, Serialize)]
pub(super) struct ClockJson {
    /// RFC 3339 in UTC, with the fraction of a second when there is one.
    now: String,
    /// Whether it stands still.
    pinned: bool,
}

/// A change of the clock; exactly one field is given.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a JSON object with one of `pin`, `advance_seconds`, `resume`"
)]
struct ClockRequest {
    pin: Option<String>,
    advance_seconds: Option<f64>,
    resume: Option<bool>,
}

/// What a [`ClockRequest`] asks for.
#[derive(Debug, PartialEq)]
enum Change {
    Pin(SystemTime),
    Advance(Duration),
    Resume,
}

fn parse_change(body: &[u8]) -> Result<Change, AdminError> {
    let request: ClockRequest = parse_body(body).map_err(AdminError::BadClock)?;
    match (request.pin, request.advance_seconds, request.resume) {
        (Some(pin), None, None) => pin
            .parse::<Timestamp>()
            .map(|at| Change::Pin(SystemTime::from(at)))
            .map_err(|error| AdminError::BadClock(format!("pin {pin:?} is not RFC 3339: {error}"))),
        (None, Some(seconds), None) => Duration::try_from_secs_f64(seconds)
            .map(Change::Advance)
            .map_err(|_| {
                AdminError::BadClock(format!(
                    "advance_seconds must be a non-negative number of seconds, not {seconds}"
                ))
            }),
        (None, None, Some(true)) => Ok(Change::Resume),
        (None, None, Some(false)) => Err(AdminError::BadClock(
            "resume takes only true (to stop the clock, pin it)".to_owned(),
        )),
        _ => Err(AdminError::BadClock(
            "expected exactly one of pin, advance_seconds, resume".to_owned(),
        )),
    }
}

fn clock_json(admin: &Admin) -> ClockJson {
    ClockJson {
        now: rfc3339(admin.cluster.now()),
        pinned: admin.cluster.clock_pinned(),
    }
}

/// RFC 3339 in UTC, to the nanosecond when the instant has a fraction; instants beyond jiff's
/// range are written as its nearest end, in whole seconds.
fn rfc3339(at: SystemTime) -> String {
    Timestamp::try_from(at).map_or_else(|_| format_rfc3339(unix_secs(at)), |at| at.to_string())
}

pub(super) async fn read(State(admin): State<Admin>) -> Json<ClockJson> {
    Json(clock_json(&admin))
}

pub(super) async fn change(
    State(admin): State<Admin>,
    body: Bytes,
) -> Result<Json<ClockJson>, AdminError> {
    match parse_change(&body)? {
        Change::Pin(at) => admin.cluster.pin_clock(at),
        Change::Advance(by) => admin.cluster.advance_clock(by),
        Change::Resume => admin.cluster.resume_clock(),
    }
    Ok(Json(clock_json(&admin)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::clock::clock_start;

    fn refusal(body: &str) -> String {
        match parse_change(body.as_bytes()) {
            Ok(change) => panic!("{body} was accepted as {change:?}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn each_change_reads_as_itself() {
        assert_eq!(
            parse_change(br#"{"pin": "2026-01-01T00:00:00Z"}"#).expect("valid"),
            Change::Pin(clock_start())
        );
        assert_eq!(
            parse_change(br#"{"pin": "2026-01-01T01:00:00.5+01:00"}"#).expect("valid"),
            Change::Pin(clock_start() + Duration::from_millis(500))
        );
        assert_eq!(
            parse_change(br#"{"advance_seconds": 15}"#).expect("valid"),
            Change::Advance(Duration::from_secs(15))
        );
        assert_eq!(
            parse_change(br#"{"advance_seconds": 0.25}"#).expect("valid"),
            Change::Advance(Duration::from_millis(250))
        );
        assert_eq!(
            parse_change(br#"{"resume": true}"#).expect("valid"),
            Change::Resume
        );
    }

    #[test]
    fn refusals_say_what_is_wrong() {
        for (body, named) in [
            ("{}", "exactly one"),
            (
                r#"{"pin": "2026-01-01T00:00:00Z", "resume": true}"#,
                "exactly one",
            ),
            (r#"{"pin": "yesterday"}"#, "yesterday"),
            (r#"{"pin": "2026-01-01 00:00:00"}"#, "RFC 3339"),
            (r#"{"advance_seconds": -1}"#, "non-negative"),
            (r#"{"advance_seconds": "15"}"#, "advance_seconds"),
            (r#"{"resume": false}"#, "only true"),
            (r#"{"rewind": 5}"#, "rewind"),
            ("[]", "one of `pin`"),
            ("not json", "expected"),
        ] {
            let message = refusal(body);
            assert!(message.contains(named), "{body}: {message}");
        }
    }

    #[test]
    fn whole_seconds_are_written_without_a_fraction_and_fractions_with_one() {
        assert_eq!(rfc3339(clock_start()), "2026-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(clock_start() + Duration::from_millis(1_500)),
            "2026-01-01T00:00:01.5Z"
        );
    }
}
