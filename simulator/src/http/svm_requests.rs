//! Authenticated requests counted by the SVM they concern and the user who sent them, so a test
//! of clients sharing one cluster (replicas of a gateway, each with its own account) can tell
//! which of them asked about which SVM, and how often.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::Uri;
use percent_encoding::percent_decode_str;

use crate::http::auth::Requester;
use crate::http::params;
use crate::http::stats::Stats;
use crate::query::schema::Schema;
use crate::resources::{cifs_sessions, iscsi};

/// The counts: SVM, then user name, then requests; sorted, so listings come out the same way
/// every time.
pub type BySvm = BTreeMap<String, BTreeMap<String, u64>>;

/// The live counts.
#[derive(Debug, Default)]
pub struct SvmRequests(Mutex<BySvm>);

impl SvmRequests {
    /// Counts one request about `svm` by `username`.
    pub fn record(&self, svm: String, username: &str) {
        *self
            .lock()
            .entry(svm)
            .or_default()
            .entry(username.to_owned())
            .or_default() += 1;
    }

    /// The counts now.
    pub fn snapshot(&self) -> BySvm {
        self.lock().clone()
    }

    /// Forgets every count.
    pub fn reset(&self) {
        self.lock().clear();
    }

    /// The counts are plain data, so a panic elsewhere does not make them unusable.
    fn lock(&self) -> MutexGuard<'_, BySvm> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The collections whose records' paths name an SVM (as their `svm.uuid` path key).
const SVM_KEYED: [&Schema; 3] = [
    &iscsi::SCHEMA,
    &cifs_sessions::SCHEMA,
    &iscsi::sessions::SCHEMA,
];

/// The SVM a request concerns, as the request names it: the `svm.name` query parameter, else
/// `svm.uuid`, else the SVM UUID in the path of a record that names one (an iSCSI service, or its
/// metrics; a CIFS or iSCSI session). A filter that matches several SVMs (`vs1|vs2`) is counted
/// under its text as given. `None` for a request about no one SVM (`/api/cluster`, an
/// unfiltered collection); an SVM named only in a request body is not looked for.
pub fn svm_of(uri: &Uri) -> Option<String> {
    let query = params::decode(uri.query());
    for name in ["svm.name", "svm.uuid"] {
        if let Some((_, value)) = query.iter().find(|(n, _)| n == name) {
            return Some(value.clone());
        }
    }
    SVM_KEYED.iter().find_map(|schema| {
        let position = schema.path_keys.iter().position(|key| *key == "svm.uuid")?;
        let rest = uri.path().strip_prefix(schema.path)?.strip_prefix('/')?;
        let segment = rest.split('/').nth(position).filter(|s| !s.is_empty())?;
        Some(percent_decode_str(segment).decode_utf8_lossy().into_owned())
    })
}

/// Counts the request under its SVM and requester. It runs after authentication, so only
/// authenticated requests count, and before authorization, so a write a read-only account was
/// refused counts too: it was still sent.
pub async fn record(State(stats): State<Arc<Stats>>, request: Request, next: Next) -> Response {
    if let (Some(requester), Some(svm)) = (
        request.extensions().get::<Requester>(),
        svm_of(request.uri()),
    ) {
        stats.svm_requests().record(svm, &requester.username);
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svm(target: &str) -> Option<String> {
        svm_of(&target.parse().expect("a request target"))
    }

    #[test]
    fn the_svm_name_filter_names_the_svm() {
        assert_eq!(
            svm("/api/protocols/cifs/connections?fields=*&svm.name=vs1&max_records=10"),
            Some("vs1".to_owned())
        );
    }

    #[test]
    fn the_svm_uuid_filter_names_the_svm_when_no_name_does() {
        assert_eq!(
            svm("/api/protocols/cifs/connections?svm.uuid=u-1"),
            Some("u-1".to_owned())
        );
        assert_eq!(
            svm("/api/protocols/cifs/connections?svm.uuid=u-1&svm.name=vs1"),
            Some("vs1".to_owned())
        );
    }

    #[test]
    fn filter_values_are_percent_decoded() {
        assert_eq!(
            svm("/api/protocols/cifs/connections?svm.name=vs%201%7Cvs2"),
            Some("vs 1|vs2".to_owned())
        );
    }

    #[test]
    fn an_iscsi_service_path_names_its_svm() {
        for target in [
            "/api/protocols/san/iscsi/services/u-1",
            "/api/protocols/san/iscsi/services/u-1/metrics",
            "/api/protocols/san/iscsi/services/u-1/metrics?interval=1h",
            "/api/protocols/san/iscsi/services/u-1/metrics/2026-01-01T00:00:00Z",
        ] {
            assert_eq!(svm(target), Some("u-1".to_owned()), "{target}");
        }
    }

    #[test]
    fn a_session_path_names_its_svm() {
        for target in [
            "/api/protocols/cifs/sessions/n-1/u-1/9876543210987654321/7",
            "/api/protocols/san/iscsi/sessions/u-1/lif_a/12",
        ] {
            assert_eq!(svm(target), Some("u-1".to_owned()), "{target}");
        }
        assert_eq!(svm("/api/protocols/cifs/sessions/n-1"), None);
    }

    #[test]
    fn requests_about_no_one_svm_name_none() {
        for target in [
            "/api/cluster",
            "/api/protocols/cifs/connections?fields=*",
            "/api/protocols/san/iscsi/services",
            "/api/protocols/san/iscsi/services/",
            "/api/protocols/san/iscsi/servicesX/u-1",
        ] {
            assert_eq!(svm(target), None, "{target}");
        }
    }

    #[test]
    fn counts_are_kept_per_svm_and_user_until_reset() {
        let counts = SvmRequests::default();
        counts.record("vs1".into(), "a");
        counts.record("vs1".into(), "a");
        counts.record("vs1".into(), "b");
        counts.record("vs2".into(), "b");
        let snapshot = counts.snapshot();
        assert_eq!(
            snapshot["vs1"],
            BTreeMap::from([("a".into(), 2), ("b".into(), 1)])
        );
        assert_eq!(snapshot["vs2"], BTreeMap::from([("b".into(), 1)]));
        counts.reset();
        assert!(counts.snapshot().is_empty());
    }
}
