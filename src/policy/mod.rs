//! Which caller may do what, where: the rules of `--policy FILE` (by
//! identity, cluster, SVM and method). Rules add up; a caller no rule
//! grants a call is refused it.

mod audit;
mod reload;
pub mod rules;

use std::sync::Arc;

pub use audit::Audit;
pub use reload::{POLICY_RELOAD_INTERVAL, SharedPolicy, keep_policy_current};
pub use rules::{Access, Denial, Policy, PolicyError, RuleRef, Scope, svm_matches};

/// A call the policy refused, with what it was refused on: the caller is
/// told, and the denial is logged and counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("`{identity}` may not call {method} on {svm} of cluster `{cluster}`: {why}")]
pub struct NotPermitted {
    /// The caller.
    pub identity: String,
    /// The cluster the call picked.
    pub cluster: String,
    /// The SVM the call concerns (`SVM \`vs1\``), or what it gave instead.
    pub svm: String,
    /// The method, as its service names it (`ListCifsSessions`).
    pub method: String,
    /// Why: the rule found wanting, or what the caller must do instead.
    pub why: String,
    /// A fixed tag for the metric (no identities in labels).
    pub reason: &'static str,
}

/// What the service edge needs to check a call: the policy in force when
/// it arrived, the method it calls, and where a denial is recorded. The
/// authentication layer puts it in the extensions of each call it admits,
/// when the gateway has a policy.
#[derive(Debug, Clone)]
pub struct CallPolicy {
    /// The policy in force when the call arrived.
    pub policy: Arc<Policy>,
    /// The method, as its service names it.
    pub method: Arc<str>,
    /// Where a denial is recorded.
    pub audit: Audit,
}
