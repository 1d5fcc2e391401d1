//! Every denial, written down: counted in the metrics by kind of identity
//! and reason, and one access-log line naming the identity and why, at
//! most a few a minute per identity, so that a caller retrying in a loop
//! cannot flood the log.

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::NotPermitted;
use crate::identity::Caller;
use crate::metrics::Metrics;

/// The tracing target of the access lines, as the access log writes them
/// (the layers depend on this module, not it on them).
const ACCESS: &str = "access";

/// Logged denials per identity: a burst of five, then one every 12 s.
const LINES_PER_MINUTE: NonZeroU32 = NonZeroU32::new(5).unwrap();

/// Where denials are counted and logged.
#[derive(Debug, Clone)]
pub struct Audit(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    metrics: Arc<Metrics>,
    lines: DefaultKeyedRateLimiter<Arc<str>>,
}

impl Audit {
    /// Counts denials into `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self(Arc::new(Inner {
            metrics,
            lines: RateLimiter::keyed(Quota::per_minute(LINES_PER_MINUTE)),
        }))
    }

    /// Records that `caller` was `refused`.
    pub fn denied(&self, caller: &Caller, refused: &NotPermitted) {
        self.0.metrics.denied(caller.kind().label(), refused.reason);
        let identity: Arc<str> = refused.identity.as_str().into();
        if self.0.lines.check_key(&identity).is_ok() {
            tracing::info!(
                target: ACCESS,
                identity = %refused.identity,
                cluster = %refused.cluster,
                svm = %refused.svm,
                method = %refused.method,
                decided_by = %refused.why,
                "call refused by the policy"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_logs::captured;

    fn refused(identity: &str) -> NotPermitted {
        NotPermitted {
            identity: identity.to_owned(),
            cluster: "east".to_owned(),
            svm: "SVM `vs2`".to_owned(),
            method: "ListCifsSessions".to_owned(),
            why: "no rule lets `token:a` read on SVM `vs2` of cluster `east`".to_owned(),
            reason: "not_permitted",
        }
    }

    #[test]
    fn a_denial_is_one_access_line_naming_the_identity_and_why() {
        let audit = Audit::new(Arc::default());
        let logs = captured(tracing::Level::INFO, || {
            audit.denied(&Caller::anonymous(), &refused("token:a"));
        });
        assert_eq!(
            logs.matches("call refused by the policy").count(),
            1,
            "{logs}"
        );
        for part in ["token:a", "ListCifsSessions", "SVM `vs2`", "no rule lets"] {
            assert!(logs.contains(part), "{part} in {logs}");
        }
    }

    #[test]
    fn a_caller_refused_in_a_loop_is_logged_a_few_times_a_minute_not_each_time() {
        let audit = Audit::new(Arc::default());
        let logs = captured(tracing::Level::INFO, || {
            for _ in 0..50 {
                audit.denied(&Caller::anonymous(), &refused("token:a"));
            }
        });
        assert_eq!(
            logs.matches("call refused by the policy").count(),
            5,
            "{logs}"
        );
    }

    #[test]
    fn one_callers_denials_do_not_silence_anothers() {
        let audit = Audit::new(Arc::default());
        let logs = captured(tracing::Level::INFO, || {
            for _ in 0..50 {
                audit.denied(&Caller::anonymous(), &refused("token:a"));
            }
            audit.denied(&Caller::anonymous(), &refused("token:b"));
        });
        assert!(logs.contains("token:b"), "{logs}");
    }
}
