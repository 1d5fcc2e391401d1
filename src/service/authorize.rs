//! The one check of a call against the gateway's policy, before anything
//! goes upstream: the caller the authentication layer named, the method,
//! the cluster the call picked, and the SVM its request names (by name, or
//! by a UUID whose name is read from the cluster first, or remembered from
//! a read before when it refuses the call).

use tonic::Request;

use super::SvmScoped;
use crate::identity::Caller;
use crate::policy::{CallPolicy, NotPermitted, Scope, svm_matches};
use crate::translate::{GatewayError, QUERY_OPERATORS, Upstream, svms};

/// Whether `request` may be made on `upstream`'s cluster, by the policy in
/// force when it arrived; without a policy, every authenticated call may. A
/// refusal is recorded (logged and counted) here, once.
pub(super) async fn authorize<Req: SvmScoped>(
    request: &mut Request<Req>,
    upstream: &Upstream,
) -> Result<(), GatewayError> {
    let Some(call) = request.extensions().get::<CallPolicy>().cloned() else {
        return Ok(());
    };
    let caller = request.extensions().get::<Caller>().cloned();
    let caller = caller.unwrap_or_else(Caller::anonymous);
    let cluster = upstream.client.name();
    let identity = caller.identity();
    let svm = name_then_uuid(request.get_ref().svm());
    let decided = match by_uuid(&call, identity, cluster, &svm) {
        Some(uuid) => {
            let by_name =
                |name: Option<&str>| decide_by_uuid(&call, identity, cluster, svm, uuid, name);
            // A remembered name refuses with nothing sent; what it would
            // allow is decided by the name the SVM has now.
            let remembered = upstream.svm_names.remembered(uuid);
            match remembered.map(|name| by_name(name.as_deref())) {
                Some(Err(refused)) => Err(refused),
                _ => {
                    let read = svms::name_of(upstream, uuid, super::deadline_of(request)).await?;
                    by_name(read.as_deref())
                }
            }
        }
        None => decide(&call, identity, cluster, svm),
    };
    let refused = match decided {
        Ok(Allowed::AsAsked) => return Ok(()),
        Ok(Allowed::Narrowed { to, or_else }) => match request.get_mut().narrow_to(to) {
            true => return Ok(()),
            false => or_else,
        },
        Err(refused) => refused,
    };
    call.audit.denied(&caller, &refused);
    Err(GatewayError::NotPermitted(refused))
}

/// How a call may go on.
#[derive(Debug, PartialEq, Eq)]
enum Allowed {
    /// As its request asks.
    AsAsked,
    /// Asking about every SVM, it is answered about the caller's only: its
    /// SVM filter becomes `to`, the patterns of the rules that let the
    /// caller make it; a request without an SVM filter is refused
    /// `or_else`.
    Narrowed {
        to: String,
        or_else: Box<NotPermitted>,
    },
}

/// A request's SVM name and UUID fields, in that order, whichever order it
/// gives them in (a request keyed by UUID gives its UUID first).
fn name_then_uuid<'r>(svm: [(&'static str, &'r str); 2]) -> [(&'static str, &'r str); 2] {
    let [first, second] = svm;
    if first.0.ends_with("uuid") {
        [second, first]
    } else {
        [first, second]
    }
}

/// The UUID whose SVM's name decides the call, when the request names its
/// SVM by one UUID and the caller is limited to some SVMs (a caller of
/// every SVM, or of none, is decided without it).
fn by_uuid<'r>(
    call: &CallPolicy,
    identity: &str,
    cluster: &str,
    svm: &[(&'static str, &'r str); 2],
) -> Option<&'r str> {
    let [_, (_, uuid)] = *svm;
    if !is_one_name(uuid) {
        return None;
    }
    let limited = matches!(
        call.policy.scope(identity, cluster, &call.method),
        Scope::Some(_)
    );
    limited.then_some(uuid)
}

/// The decision on a call naming its SVM by `uuid`, which the cluster says
/// is the SVM named `read` (`None`: no SVM has it). The request's own name,
/// when it gives one too, must be that SVM's.
fn decide_by_uuid(
    call: &CallPolicy,
    identity: &str,
    cluster: &str,
    svm: [(&'static str, &str); 2],
    uuid: &str,
    read: Option<&str>,
) -> Result<Allowed, Box<NotPermitted>> {
    let [(name_field, name), _] = svm;
    let why = match read {
        Some(read) if name.is_empty() || name == read => {
            return decide(call, identity, cluster, [(name_field, read), ("", "")]);
        }
        Some(read) => format!("UUID `{uuid}` is SVM `{read}`, not `{name}`"),
        None => format!("no SVM of this cluster has UUID `{uuid}`"),
    };
    let given = format!("the SVM of UUID `{uuid}`");
    Err(refused(
        call,
        identity,
        cluster,
        given,
        why,
        "not_permitted",
    ))
}

/// A refusal of `call` by `identity` on `cluster`, for what it gave as its
/// SVM (`svm`), saying `why`.
fn refused(
    call: &CallPolicy,
    identity: &str,
    cluster: &str,
    svm: String,
    why: String,
    reason: &'static str,
) -> Box<NotPermitted> {
    Box::new(NotPermitted {
        identity: identity.to_owned(),
        cluster: cluster.to_owned(),
        svm,
        method: call.method.to_string(),
        why,
        reason,
    })
}

/// The decision on a call naming `svm` (its name and UUID fields).
fn decide(
    call: &CallPolicy,
    identity: &str,
    cluster: &str,
    svm: [(&'static str, &str); 2],
) -> Result<Allowed, Box<NotPermitted>> {
    let [(name_field, name), (_, uuid)] = svm;
    let refused =
        |svm: String, why: String, reason| refused(call, identity, cluster, svm, why, reason);
    if is_one_name(name) && uuid.is_empty() {
        return match call.policy.decide(identity, cluster, name, &call.method) {
            Ok(_) => Ok(Allowed::AsAsked),
            Err(denial) => Err(refused(
                format!("SVM `{name}`"),
                denial.to_string(),
                denial.reason(),
            )),
        };
    }
    let given = match (name, uuid) {
        ("", "") => "every SVM".to_owned(),
        ("", uuid) => format!("the SVM of UUID `{uuid}`"),
        (name, _) => format!("SVMs `{name}`"),
    };
    match call.policy.scope(identity, cluster, &call.method) {
        Scope::Every => Ok(Allowed::AsAsked),
        Scope::None => {
            let denial = call
                .policy
                .decide(identity, cluster, "", &call.method)
                .err();
            let reason = denial.as_ref().map_or("not_permitted", |d| d.reason());
            let why = format!(
                "no rule lets `{identity}` call {} in this cluster",
                call.method
            );
            Err(refused(given, why, reason))
        }
        Scope::Some(patterns) => {
            let why = format!(
                "the policy lets `{identity}` call {} only on SVMs matching `{}`: name one of \
                 them in `{name_field}` (or by its UUID)",
                call.method,
                patterns.join("`, `"),
            );
            let refusal = refused(given, why, "not_permitted");
            let to = match (name, uuid) {
                ("" | "*", "") => patterns.join("|"),
                (filter, "") => match selected(filter, &patterns) {
                    Some(names) if !names.is_empty() => names.join("|"),
                    _ => return Err(refusal),
                },
                _ => return Err(refusal),
            };
            Ok(Allowed::Narrowed {
                to,
                or_else: refusal,
            })
        }
    }
}

/// The caller's SVMs, `names` (its rules name them exactly), that `filter`
/// selects: alternatives (`|`) of names or `*` patterns, each perhaps
/// negated (`!vs1`), as ONTAP reads them. `None` when the rules hold a
/// pattern or the filter anything else (a range, a comparison): what they
/// share cannot then be known here, nor written as one filter.
fn selected<'p>(filter: &str, names: &'p [String]) -> Option<Vec<&'p str>> {
    if names.iter().any(|name| name.contains('*')) {
        return None;
    }
    let alternatives: Vec<(bool, &str)> = filter
        .split('|')
        .map(|alternative| match alternative.strip_prefix('!') {
            Some(negated) => (true, negated),
            None => (false, alternative),
        })
        .collect();
    let undecided = |pattern: &str| {
        pattern.is_empty() || pattern.contains(QUERY_OPERATORS) || pattern.contains("..")
    };
    if alternatives.iter().any(|(_, pattern)| undecided(pattern)) {
        return None;
    }
    let chosen = |name: &&str| {
        alternatives
            .iter()
            .any(|&(negated, pattern)| svm_matches(pattern, name) != negated)
    };
    Some(names.iter().map(String::as_str).filter(chosen).collect())
}

/// Whether an SVM filter names exactly one SVM: a name, not a pattern, a
/// list or a comparison in ONTAP's query syntax.
fn is_one_name(filter: &str) -> bool {
    !filter.is_empty()
        && !filter.contains('*')
        && !filter.contains(QUERY_OPERATORS)
        && !filter.contains("..")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::policy::{Audit, Policy};

    const POLICY: &str = r#"
[[rule]]
callers = ["token:a"]
svms = ["vsA", "tenant-a-*"]
access = "read"

[[rule]]
callers = ["token:admin"]
svms = ["*"]
access = "write"
"#;

    fn call(method: &str) -> CallPolicy {
        let methods = ["ListCifsSessions", "DeleteCifsSession"];
        CallPolicy {
            policy: Arc::new(Policy::parse(POLICY, "p.toml", &["east"], &methods).unwrap()),
            method: method.into(),
            audit: Audit::new(Arc::default()),
        }
    }

    fn by_name(name: &str) -> [(&'static str, &str); 2] {
        [("svm_name", name), ("svm_uuid", "")]
    }

    #[test]
    fn a_caller_may_call_on_an_svm_its_rules_name() {
        let list = call("ListCifsSessions");
        assert!(decide(&list, "token:a", "east", by_name("vsA")).is_ok());
        assert!(decide(&list, "token:a", "east", by_name("tenant-a-1")).is_ok());
    }

    #[test]
    fn a_call_on_another_svm_is_refused_naming_it_and_the_rules() {
        let refused =
            decide(&call("ListCifsSessions"), "token:a", "east", by_name("vsB")).unwrap_err();
        assert_eq!(refused.svm, "SVM `vsB`");
        assert_eq!(refused.method, "ListCifsSessions");
        assert_eq!(refused.reason, "not_permitted");
        assert!(
            refused.why.contains("no rule lets `token:a`"),
            "{}",
            refused.why
        );
    }

    #[test]
    fn a_read_only_callers_write_is_refused() {
        let refused = decide(
            &call("DeleteCifsSession"),
            "token:a",
            "east",
            by_name("vsA"),
        );
        assert!(refused.is_err());
    }

    #[test]
    fn a_caller_limited_to_some_svms_asking_for_every_svm_is_answered_about_its_own() {
        let list = call("ListCifsSessions");
        for svm in [by_name(""), by_name("*")] {
            let Ok(Allowed::Narrowed { to, or_else }) = decide(&list, "token:a", "east", svm)
            else {
                panic!("narrowed");
            };
            assert_eq!(to, "vsA|tenant-a-*");
            assert!(or_else.why.contains("`svm_name`"), "{}", or_else.why);
        }
    }

    #[test]
    fn a_filter_over_svms_named_exactly_is_answered_with_those_it_selects() {
        let names = ["vsA".to_owned(), "vsB".to_owned(), "svmC".to_owned()];
        let chosen = |filter| selected(filter, &names);
        assert_eq!(chosen("!vsA"), Some(vec!["vsB", "svmC"]));
        assert_eq!(chosen("vs*"), Some(vec!["vsA", "vsB"]));
        assert_eq!(chosen("vsA|other"), Some(vec!["vsA"]));
        assert_eq!(chosen("!vs*|vsB"), Some(vec!["vsB", "svmC"]));
        assert_eq!(chosen("other"), Some(vec![]));
    }

    #[test]
    fn a_range_a_comparison_or_rules_with_patterns_leave_a_filter_undecided() {
        let names = ["vsA".to_owned()];
        for filter in ["vsA..vsZ", "<vsB", ">vsA", "{vsA}", "!!vsA", "vsA|"] {
            assert_eq!(selected(filter, &names), None, "{filter}");
        }
        assert_eq!(selected("!vsA", &["tenant-*".to_owned()]), None);
    }

    #[test]
    fn a_caller_limited_to_some_svms_cannot_widen_its_reach_with_a_pattern() {
        let list = call("ListCifsSessions");
        for svm in [by_name("!vsB"), by_name("vsA|vsB"), by_name("vs*")] {
            let refused = decide(&list, "token:a", "east", svm).unwrap_err();
            assert!(
                refused.why.contains("`vsA`, `tenant-a-*`"),
                "{}",
                refused.why
            );
        }
    }

    #[test]
    fn a_uuid_is_decided_by_the_name_the_cluster_gives_it() {
        let list = call("ListCifsSessions");
        let by_uuid = [("svm_name", ""), ("svm_uuid", "u-a")];
        assert!(decide_by_uuid(&list, "token:a", "east", by_uuid, "u-a", Some("vsA")).is_ok());
        let refused = decide_by_uuid(&list, "token:a", "east", by_uuid, "u-b", Some("vsB"));
        assert!(refused.unwrap_err().why.contains("no rule lets"));
    }

    #[test]
    fn a_uuid_of_no_svm_or_of_another_svm_than_the_name_beside_it_is_refused() {
        let list = call("ListCifsSessions");
        let both = [("svm_name", "vsA"), ("svm_uuid", "u-b")];
        let other = decide_by_uuid(&list, "token:a", "east", both, "u-b", Some("vsB")).unwrap_err();
        assert!(
            other.why.contains("is SVM `vsB`, not `vsA`"),
            "{}",
            other.why
        );
        let none = decide_by_uuid(&list, "token:a", "east", both, "u-x", None).unwrap_err();
        assert!(
            none.why.contains("no SVM of this cluster has UUID `u-x`"),
            "{}",
            none.why
        );
    }

    #[test]
    fn only_a_caller_limited_to_some_svms_has_a_uuid_looked_up() {
        let list = call("ListCifsSessions");
        let by_uuid = [("svm_name", ""), ("svm_uuid", "u-a")];
        assert_eq!(by_uuid_of(&list, "token:a", by_uuid), Some("u-a"));
        assert_eq!(by_uuid_of(&list, "token:admin", by_uuid), None, "every SVM");
        assert_eq!(by_uuid_of(&list, "token:stranger", by_uuid), None, "no SVM");
        let pattern = [("svm_name", ""), ("svm_uuid", "u-*")];
        assert_eq!(by_uuid_of(&list, "token:a", pattern), None, "not one UUID");
    }

    fn by_uuid_of<'r>(
        call: &CallPolicy,
        identity: &str,
        svm: [(&'static str, &'r str); 2],
    ) -> Option<&'r str> {
        by_uuid(call, identity, "east", &svm)
    }

    #[test]
    fn a_caller_of_every_svm_may_list_them_all_and_name_them_any_way() {
        let list = call("ListCifsSessions");
        for svm in [
            by_name(""),
            by_name("*"),
            [("svm_name", ""), ("svm_uuid", "u")],
        ] {
            assert!(decide(&list, "token:admin", "east", svm).is_ok());
        }
    }

    #[test]
    fn a_caller_no_rule_names_is_refused_as_unknown() {
        let list = call("ListCifsSessions");
        let named = decide(&list, "token:stranger", "east", by_name("vsA")).unwrap_err();
        assert_eq!(named.reason, "unknown_caller");
        let every = decide(&list, "token:stranger", "east", by_name("")).unwrap_err();
        assert_eq!(every.reason, "unknown_caller");
        assert_eq!(every.svm, "every SVM");
    }

    #[test]
    fn the_name_comes_first_whichever_order_a_request_gives() {
        let keyed = [("svm_uuid", "u"), ("svm_name", "")];
        assert_eq!(name_then_uuid(keyed), [("svm_name", ""), ("svm_uuid", "u")]);
        let body = [
            ("iscsi_service.svm.name", "a"),
            ("iscsi_service.svm.uuid", ""),
        ];
        assert_eq!(name_then_uuid(body), body);
    }

    #[test]
    fn one_name_is_a_name_without_query_operators() {
        assert!(is_one_name("tenant-a.1"));
        for filter in ["", "a*", "a|b", "!a", "<a", ">a", "a..b", "{a}", "a,b"] {
            assert!(!is_one_name(filter), "{filter}");
        }
    }
}
