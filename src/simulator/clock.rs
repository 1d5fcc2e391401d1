//! The simulated clock.
//!
//! Performance data is a function of time, so the clock decides what a response says. It starts
//! at a fixed instant, so every run sees the same dates, and moves with real time so a client
//! polling twice sees counters grow; a test pins it to make readings exact.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where every simulator's clock starts: 2026-01-01T00:00:00Z, in seconds since the Unix epoch.
pub const CLOCK_START_UNIX_SECS: u64 = 1_767_225_600;

/// The clock's start as a [`SystemTime`].
pub fn clock_start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(CLOCK_START_UNIX_SECS)
}

/// A clock that runs from [`clock_start`] with real time until pinned.
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
        Clock::running_from(clock_start())
    }
}

impl Clock {
    fn running_from(at: SystemTime) -> Clock {
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

/// Whole seconds since the Unix epoch, rounded down (also before the epoch).
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

    #[test]
    fn clock_starts_at_new_year_2026_and_runs() {
        let clock = Clock::default();
        let first = clock.now();
        assert!(first >= clock_start());
        assert!(first < clock_start() + Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(20));
        assert!(clock.now() > first);
    }

    #[test]
    fn pinned_clock_stands_still() {
        let clock = Clock::default();
        let at = clock_start() + Duration::from_secs(3_600);
        clock.pin(at);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(clock.now(), at);
    }

    #[test]
    fn advance_pins_at_now_plus_the_step() {
        let clock = Clock::default();
        clock.pin(clock_start());
        clock.advance(Duration::from_secs(15));
        clock.advance(Duration::from_secs(15));
        assert_eq!(clock.now(), clock_start() + Duration::from_secs(30));
    }

    #[test]
    fn resume_runs_on_from_the_pinned_time() {
        let clock = Clock::default();
        let at = clock_start() + Duration::from_secs(86_400);
        clock.pin(at);
        clock.resume();
        std::thread::sleep(Duration::from_millis(5));
        let now = clock.now();
        assert!(now > at && now < at + Duration::from_secs(5));
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
