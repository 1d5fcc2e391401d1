//! The one check of a call against the gateway's policy, before anything
//! goes upstream: the caller the authentication layer named, the method,
//! the cluster the call picked, and the SVM its request names.

use tonic::Request;

use super::SvmScoped;
use crate::identity::Caller;
use crate::policy::{CallPolicy, NotPermitted, Scope};
use crate::translate::GatewayError;

/// Whether `request` may be made on `cluster`, by the policy in force when
/// it arrived; without a policy, every authenticated call may. A refusal is
/// recorded (logged and counted) here, once.
pub(super) fn authorize<Req: SvmScoped>(
    request: &Request<Req>,
    cluster: &str,
) -> Result<(), GatewayError> {
    let Some(call) = request.extensions().get::<CallPolicy>() else {
        return Ok(());
    };
    let anonymous = Caller::anonymous();
    let caller = request.extensions().get::<Caller>().unwrap_or(&anonymous);
    let refused = match decide(call, caller.identity(), cluster, request.get_ref().svm()) {
        Ok(()) => return Ok(()),
        Err(refused) => refused,
    };
    call.audit.denied(caller, &refused);
    Err(GatewayError::NotPermitted(refused))
}

/// The decision on a call naming `svm` (its name and UUID fields).
fn decide(
    call: &CallPolicy,
    identity: &str,
    cluster: &str,
    svm: [(&'static str, &str); 2],
) -> Result<(), Box<NotPermitted>> {
    let [(name_field, name), (_, uuid)] = svm;
    let refused = |svm: String, why: String, reason| {
        Box::new(NotPermitted {
            identity: identity.to_owned(),
            cluster: cluster.to_owned(),
            svm,
            method: call.method.to_string(),
            why,
            reason,
        })
    };
    if is_one_name(name) && uuid.is_empty() {
        return match call.policy.decide(identity, cluster, name, &call.method) {
            Ok(_) => Ok(()),
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
        Scope::Every => Ok(()),
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
                 them, by name alone, in `{name_field}`",
                call.method,
                patterns.join("`, `"),
            );
            Err(refused(given, why, "not_permitted"))
        }
    }
}

/// Whether an SVM filter names exactly one SVM: a name, not a pattern, a
/// list or a comparison in ONTAP's query syntax.
fn is_one_name(filter: &str) -> bool {
    const OPERATORS: &[char] = &['*', '|', '!', '<', '>', '{', '}', ','];
    !filter.is_empty() && !filter.contains(OPERATORS) && !filter.contains("..")
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
    fn a_caller_limited_to_some_svms_must_name_one() {
        let list = call("ListCifsSessions");
        for svm in [
            by_name(""),
            by_name("*"),
            by_name("!vsB"),
            by_name("vsA|vsB"),
        ] {
            let refused = decide(&list, "token:a", "east", svm).unwrap_err();
            assert!(
                refused.why.contains("`vsA`, `tenant-a-*`"),
                "{}",
                refused.why
            );
            assert!(refused.why.contains("`svm_name`"), "{}", refused.why);
        }
    }

    #[test]
    fn a_caller_limited_to_some_svms_names_them_by_name_not_uuid() {
        let by_uuid = [("svm_name", "vsA"), ("svm_uuid", "b5d1e2f4")];
        let refused = decide(&call("ListCifsSessions"), "token:a", "east", by_uuid);
        assert!(
            refused.is_err(),
            "a UUID could name another SVM than the name"
        );
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
    fn one_name_is_a_name_without_query_operators() {
        assert!(is_one_name("tenant-a.1"));
        for filter in ["", "a*", "a|b", "!a", "<a", ">a", "a..b", "{a}", "a,b"] {
            assert!(!is_one_name(filter), "{filter}");
        }
    }
}
