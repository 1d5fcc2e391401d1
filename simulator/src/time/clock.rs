//! The simulated clock.
//!
//! Performance data is a function of time, so the clock decides what a response says. It starts
//! at a fixed instant unless told otherwise, so every run sees the same dates, and moves with real
//! time so a client polling twice sees counters grow; a test pins it to make readings exact. A
//! demonstration starts it at the wall-clock time instead, so its data looks current.
//!
//! Real time is read from tokio's clock, which a test can pause and advance by exact steps
//! (`tokio::time::pause`); outside a paused runtime it is the monotonic system clock.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use crate::time::format::parse_timestamp;

/// Where a simulator's clock starts unless configured otherwise: 2026-01-01T00:00:00Z, in seconds
/// since the Unix epoch.
pub const CLOCK_START_UNIX_SECS: u64 = 1_767_225_600;

/// The default clock start as a [`SystemTime`].
pub fn clock_start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(CLOCK_START_UNIX_SECS)
}

/// Reads a clock start given as text (a command-line flag): RFC 3339 with any offset, as
/// `2026-01-01T00:00:00Z`, in whole seconds like every time the simulator serves, so a pinned
/// start is written back exactly as given. ONTAP's pages' form (`2026-01-01 00:00:00 +0000`) is
/// read too, as in query filters. The error names the text and the form expected, for a command
/// line to show as is.
pub fn parse_clock_start(text: &str) -> Result<SystemTime, String> {
    parse_timestamp(text).map(from_unix_secs).ok_or_else(|| {
        format!(
            "{text:?} is not a clock start: expected an RFC 3339 time in whole seconds, like \
             2026-01-01T00:00:00Z"
        )
    })
}

/// A clock that runs from its start with real time until pinned.
#[derive(Debug)]
pub struct Clock {
    state: Mutex<State>,
}

#[derive(Clone, Copy, Debug)]
enum State {
    /// Shows `at` plus the real time elapsed since `since`.
    Running { since: Instant, at: SystemTime },
    /// Stands still.
    Pinned(SystemTime),
}

impl Default for Clock {
    /// Starts now, at [`clock_start`].
    fn default() -> Clock {
        Clock::starting_at(clock_start())
    }
}

impl Clock {
    /// Starts now, at `at`, and runs with real time.
    pub fn starting_at(at: SystemTime) -> Clock {
        Clock {
            state: Mutex::new(State::Running {
                since: Instant::now(),
                at,
            }),
        }
    }

    /// The simulated time now.
    pub fn now(&self) -> SystemTime {
        match *self.lock() {
            State::Running { since, at } => at + since.elapsed(),
            State::Pinned(at) => at,
        }
    }

    /// Stops the clock at `at` (which may be earlier than now).
    pub fn pin(&self, at: SystemTime) {
        *self.lock() = State::Pinned(at);
    }

    /// Pins the clock `by` after the time it shows now.
    pub fn advance(&self, by: Duration) {
        let mut state = self.lock();
        let now = match *state {
            State::Running { since, at } => at + since.elapsed(),
            State::Pinned(at) => at,
        };
        *state = State::Pinned(now + by);
    }

    /// Whether the clock stands still (pinned or advanced, and not resumed since).
    pub fn is_pinned(&self) -> bool {
        matches!(*self.lock(), State::Pinned(_))
    }

    /// Lets the clock run with real time again from the time it shows now.
    pub fn resume(&self) {
        let mut state = self.lock();
        if let State::Pinned(at) = *state {
            *state = State::Running {
                since: Instant::now(),
                at,
            };
        }
    }

    /// The state is two plain values, so a panic elsewhere leaves it usable.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Whole seconds since the Unix epoch, rounded down (also before the epoch). Plain `std`
/// arithmetic: jiff's conversion from `SystemTime` is fallible and truncates toward zero.
pub fn unix_secs(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let before = before.duration();
            let whole = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            if before.subsec_nanos() > 0 {
                -whole - 1
            } else {
                -whole
            }
        }
    }
}

/// The instant `secs` seconds after (or before) the Unix epoch.
pub fn from_unix_secs(secs: i64) -> SystemTime {
    let magnitude = Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A step of real time, exactly, on a paused tokio clock.
    async fn let_real_time_pass(by: Duration) {
        tokio::time::advance(by).await;
    }

    #[tokio::test(start_paused = true)]
    async fn clock_starts_at_new_year_2026_and_runs_with_real_time() {
        let clock = Clock::default();
        assert_eq!(clock.now(), clock_start());
        let_real_time_pass(Duration::from_millis(20)).await;
        assert_eq!(clock.now(), clock_start() + Duration::from_millis(20));
    }

    #[tokio::test(start_paused = true)]
    async fn pinned_clock_stands_still() {
        let clock = Clock::default();
        let at = clock_start() + Duration::from_secs(3_600);
        clock.pin(at);
        let_real_time_pass(Duration::from_secs(5)).await;
        assert_eq!(clock.now(), at);
    }

    #[tokio::test(start_paused = true)]
    async fn advance_pins_at_now_plus_the_step() {
        let clock = Clock::default();
        let_real_time_pass(Duration::from_secs(2)).await;
        clock.advance(Duration::from_secs(15));
        clock.advance(Duration::from_secs(15));
        let_real_time_pass(Duration::from_secs(2)).await;
        assert_eq!(clock.now(), clock_start() + Duration::from_secs(32));
    }

    #[tokio::test(start_paused = true)]
    async fn resume_runs_on_from_the_pinned_time() {
        let clock = Clock::default();
        let at = clock_start() + Duration::from_secs(86_400);
        clock.pin(at);
        let_real_time_pass(Duration::from_secs(60)).await;
        clock.resume();
        let_real_time_pass(Duration::from_millis(5)).await;
        assert_eq!(clock.now(), at + Duration::from_millis(5));
    }

    #[test]
    fn clock_is_pinned_from_pin_or_advance_until_resumed() {
        let clock = Clock::default();
        assert!(!clock.is_pinned());
        clock.advance(Duration::from_secs(1));
        assert!(clock.is_pinned());
        clock.resume();
        assert!(!clock.is_pinned());
        clock.pin(clock_start());
        assert!(clock.is_pinned());
    }

    #[tokio::test(start_paused = true)]
    async fn clock_starting_at_another_instant_runs_from_there() {
        let start = clock_start() + Duration::from_secs(4 * 365 * 86_400);
        let clock = Clock::starting_at(start);
        assert_eq!(clock.now(), start);
        let_real_time_pass(Duration::from_secs(3)).await;
        assert_eq!(clock.now(), start + Duration::from_secs(3));
    }

    #[test]
    fn clock_start_reads_rfc_3339_in_whole_seconds_with_any_offset() {
        assert_eq!(parse_clock_start("2026-01-01T00:00:00Z"), Ok(clock_start()));
        assert_eq!(
            parse_clock_start("2030-06-01T14:00:00+02:00"),
            Ok(from_unix_secs(1_906_545_600))
        );
        assert_eq!(
            parse_clock_start("1969-12-31T23:59:59Z"),
            Ok(UNIX_EPOCH - Duration::from_secs(1))
        );
    }

    #[test]
    fn clock_start_refusal_names_the_text_and_the_expected_form() {
        for text in [
            "",
            "now",
            "2026-01-01",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00.5Z",
            "2026-02-30T00:00:00Z",
            "1767225600",
        ] {
            let error = parse_clock_start(text).expect_err(text);
            assert!(error.contains(&format!("{text:?}")), "{error}");
            assert!(
                error.contains(
                    "expected an RFC 3339 time in whole seconds, like 2026-01-01T00:00:00Z"
                ),
                "{error}"
            );
        }
    }

    #[test]
    fn unix_seconds_round_down_on_both_sides_of_the_epoch() {
        assert_eq!(unix_secs(clock_start()), 1_767_225_600);
        assert_eq!(
            unix_secs(clock_start() + Duration::from_millis(999)),
            1_767_225_600
        );
        assert_eq!(unix_secs(UNIX_EPOCH - Duration::from_millis(1)), -1);
        assert_eq!(unix_secs(UNIX_EPOCH - Duration::from_secs(2)), -2);
        assert_eq!(unix_secs(from_unix_secs(-5)), -5);
    }
}
