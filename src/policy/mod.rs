//! Which caller may do what, where: the rules of `--policy FILE` (by
//! identity, cluster, SVM and method). Rules add up; a caller no rule
//! grants a call is refused it.

pub mod rules;

pub use rules::{Access, Denial, Policy, PolicyError, RuleRef, Scope};
