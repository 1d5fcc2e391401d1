//! When the caller stops waiting. The server side reads it from the call
//! (`grpc-timeout`) and the upstream side bounds its waits by it, so it
//! belongs to neither.

use std::time::{Duration, Instant};

/// When the caller stops waiting. `None` means the caller set no deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    /// No deadline: the client's own bounds apply.
    pub const NONE: Deadline = Deadline(None);

    /// A deadline `timeout` from now.
    pub fn after(timeout: Duration) -> Self {
        Self::at(Instant::now() + timeout)
    }

    /// A deadline at `instant`.
    pub fn at(instant: Instant) -> Self {
        Self(Some(instant))
    }

    /// Time left, if there is a deadline.
    pub fn remaining(&self) -> Option<Duration> {
        self.0
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// The later of two deadlines; no deadline is the latest.
    pub fn later(self, other: Deadline) -> Deadline {
        match (self.0, other.0) {
            (Some(a), Some(b)) => Deadline(Some(a.max(b))),
            _ => Deadline::NONE,
        }
    }

    /// `bound`, shortened to the time left.
    pub fn cap(&self, bound: Duration) -> Duration {
        self.remaining().map_or(bound, |left| left.min(bound))
    }

    /// Whether the deadline comes before `bound` from now would: then a
    /// wait bounded by both ran out because of the caller, not the gateway.
    pub fn binds_before(&self, bound: Duration) -> bool {
        self.remaining().is_some_and(|left| left < bound)
    }

    /// Whether the deadline has passed: nothing sent now could be answered
    /// in time.
    pub fn has_passed(&self) -> bool {
        self.remaining().is_some_and(|left| left.is_zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_binds_only_when_it_comes_before_the_bound() {
        let hour = Duration::from_secs(3_600);
        assert!(Deadline::after(Duration::from_secs(1)).binds_before(hour));
        assert!(!Deadline::after(hour).binds_before(Duration::from_secs(1)));
        assert!(
            !Deadline::NONE.binds_before(hour),
            "no deadline never binds"
        );
    }

    #[test]
    fn the_later_of_two_deadlines_is_none_when_either_is_none() {
        let soon = Deadline::after(Duration::from_secs(1));
        let later = Deadline::after(Duration::from_secs(60));
        assert_eq!(soon.later(later), later);
        assert_eq!(later.later(soon), later);
        assert_eq!(soon.later(Deadline::NONE), Deadline::NONE);
        assert_eq!(Deadline::NONE.later(soon), Deadline::NONE);
    }

    #[test]
    fn deadline_caps_a_bound() {
        assert_eq!(
            Deadline::NONE.cap(Duration::from_secs(3)),
            Duration::from_secs(3)
        );
        assert!(
            Deadline::after(Duration::from_millis(10)).cap(Duration::from_secs(3))
                <= Duration::from_millis(10)
        );
    }

    #[test]
    fn only_a_deadline_in_the_past_has_passed() {
        assert!(Deadline::at(Instant::now()).has_passed());
        assert!(!Deadline::after(Duration::from_secs(3_600)).has_passed());
        assert!(!Deadline::NONE.has_passed());
    }
}
