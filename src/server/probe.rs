//! Whether the cluster answers, asked at startup and then periodically
//! (`GET /api/cluster?fields=version,name`, the cheapest call that proves
//! the URL, the certificate and the credentials all work). It drives
//! `grpc.health.v1`, so a mesh or Kubernetes stops sending calls to a
//! gateway whose cluster is gone, and logs each change with what to fix,
//! so a wrong URL, an untrusted certificate or refused credentials show up
//! at once instead of in the first caller's error.
//!
//! The gateway serves either way: a cluster that is down at boot must not
//! crash-loop a pod.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio_util::sync::CancellationToken;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::ontap::{ClusterIdentity, OntapClient, OntapError};
use crate::translate::{Clusters, GatewayError, error_table};

/// Which clusters answer, and the health they add up to: each cluster's
/// own (`cluster/<name>`), and overall SERVING while any answers, since a
/// gateway that can still reach one cluster is still of use to its callers,
/// and each replica sees the same clusters.
pub(super) struct Answering {
    clusters: Mutex<BTreeMap<String, bool>>,
    health: HealthReporter,
}

/// The health service name of one cluster.
pub fn cluster_health_name(cluster: &str) -> String {
    format!("cluster/{cluster}")
}

impl Answering {
    /// No cluster answering yet.
    pub(super) fn new(clusters: &Clusters, health: HealthReporter) -> Self {
        Self {
            clusters: Mutex::new(
                clusters
                    .iter()
                    .map(|(n, _)| (n.to_owned(), false))
                    .collect(),
            ),
            health,
        }
    }

    /// Records whether `cluster` answers, and reports the health it adds
    /// up to.
    async fn set(&self, cluster: &str, answers: bool) {
        self.clusters
            .lock()
            .expect("no code panics holding it")
            .insert(cluster.to_owned(), answers);
        self.report().await;
    }

    /// Reports each cluster's health and the overall.
    pub(super) async fn report(&self) {
        let answering = self
            .clusters
            .lock()
            .expect("no code panics holding it")
            .clone();
        for (cluster, answers) in &answering {
            let status = if *answers {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            self.health
                .set_service_status(cluster_health_name(cluster), status)
                .await;
        }
        super::report(&self.health, answering.values().any(|a| *a)).await;
    }
}

/// The first retry's delay after a failed probe; it doubles, jittered, up
/// to the probe interval.
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// What the last probe found, to log only changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Answering,
    Failing(&'static str),
}

/// Probes `client`'s cluster every `interval` (sooner after a failure,
/// backing off from a second) until `stop` is cancelled, telling
/// `answering` whether it answers and logging each change.
pub(super) async fn run(
    client: OntapClient,
    interval: Duration,
    answering: Arc<Answering>,
    stop: CancellationToken,
) {
    let name = Arc::clone(client.name());
    let retries = || {
        ExponentialBuilder::new()
            .with_min_delay(FIRST_RETRY.min(interval))
            .with_max_delay(interval)
            .with_jitter()
            .without_max_times()
            .build()
    };
    let mut delays = retries();
    let mut seen = None;
    loop {
        let answer = tokio::select! {
            () = stop.cancelled() => return,
            answer = client.cluster_identity() => answer,
        };
        let wait = match answer
            .map(Some)
            .or_else(|error| answered_anyway(error, client.passes_through()))
        {
            Ok(identity) => {
                if seen != Some(Seen::Answering) {
                    let again = if seen.is_some() { " again" } else { "" };
                    match identity {
                        Some(cluster) => tracing::info!(
                            cluster = %cluster.name,
                            ontap_version = %cluster.version,
                            upstream = %client.base_url(),
                            configured_as = %name,
                            "the ONTAP cluster answers{again}"
                        ),
                        None if client.passes_through() => tracing::info!(
                            upstream = %client.base_url(),
                            configured_as = %name,
                            "the ONTAP cluster answers{again} (asked without credentials: each \
                             call brings its caller's)"
                        ),
                        None => tracing::warn!(
                            upstream = %client.base_url(),
                            configured_as = %name,
                            "the ONTAP cluster answers{again}, but {}",
                            unreadable_cluster(&client)
                        ),
                    }
                    answering.set(&name, true).await;
                }
                seen = Some(Seen::Answering);
                delays = retries();
                interval
            }
            Err(error) => {
                let reason = error_table::classify(&GatewayError::from(error.clone())).reason;
                let wait = delays.next().unwrap_or(interval);
                if seen != Some(Seen::Failing(reason)) {
                    tracing::warn!(
                        reason = %reason,
                        upstream = %client.base_url(),
                        configured_as = %name,
                        retry_in = ?wait,
                        "{}; health is NOT_SERVING, the gateway serves meanwhile and asks again",
                        advice(&error, &client)
                    );
                    answering.set(&name, false).await;
                } else {
                    tracing::debug!(reason = %reason, retry_in = ?wait, "the ONTAP cluster still fails");
                }
                seen = Some(Seen::Failing(reason));
                wait
            }
        };
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// ONTAP's 403 took the credentials, which is all health needs: the
/// account's role may only lack read access to the cluster object. In
/// pass-through mode the gateway has no credentials to ask with, and
/// ONTAP's 401 is the answer that proves it is there.
fn answered_anyway(
    error: OntapError,
    passes_through: bool,
) -> Result<Option<ClusterIdentity>, OntapError> {
    match error {
        OntapError::Api { status: 403, .. } => Ok(None),
        OntapError::Api { status: 401, .. } if passes_through => Ok(None),
        other => Err(other),
    }
}

fn unreadable_cluster(client: &OntapClient) -> String {
    format!(
        "user `{user}` may not read /api/cluster (HTTP 403): give its role read-only access to \
         /api/cluster to see the cluster's name and release here",
        user = client.username().unwrap_or_default()
    )
}

/// Where a password of unrecorded origin may have come from: every place
/// the gateway reads one.
const UNKNOWN_ORIGIN: &str = "the file --password-file names, or the environment variable \
     --password-env names (or a --config file's password_file or password_env)";

/// What went wrong, in the operator's terms, with the setting to change.
fn advice(error: &OntapError, client: &OntapClient) -> String {
    let url = client.base_url();
    match error {
        OntapError::CredentialsRejected { .. } => format!(
            "ONTAP at {url} refused the gateway's credentials for user `{user}`: check the user \
             and the password in {origin}; until then every call fails UNAVAILABLE with reason \
             GATEWAY_CREDENTIALS_REJECTED, and each probe is one failed login \
             (--health-probe-interval spaces them)",
            user = client.username().unwrap_or_default(),
            origin = client.password_origin().unwrap_or(UNKNOWN_ORIGIN)
        ),
        OntapError::CertificateRejected(why) => format!(
            "the TLS certificate of {url} is not trusted ({why}): give the CA that signed it \
             with --ca-cert FILE (PEM), or, for a lab cluster only, --insecure-skip-tls-verify"
        ),
        OntapError::Unreachable(why) => format!(
            "cannot reach {url} ({why}): check the host name and port, and that this machine \
             can reach the cluster's management interface"
        ),
        OntapError::Api { status: 404, .. } => format!(
            "{url} has no /api/cluster (HTTP 404): is it the management address of an ONTAP \
             9.6 or later cluster?"
        ),
        other => format!("the startup call to {url} failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ontap::{ApiError, ClientConfig};

    fn client() -> OntapClient {
        OntapClient::new(ClientConfig::new("https://cluster.example", "svc", "pw")).unwrap()
    }

    fn api(status: u16) -> OntapError {
        OntapError::Api {
            status,
            error: Box::new(ApiError::default()),
        }
    }

    #[test]
    fn refused_credentials_name_the_user_and_where_the_password_comes_from() {
        let said = advice(
            &OntapError::CredentialsRejected {
                error: Box::default(),
            },
            &client(),
        );
        assert!(said.contains("`svc`"), "{said}");
        assert!(said.contains("--password-file"), "{said}");
        assert!(said.contains("--password-env"), "{said}");
        assert!(said.contains("GATEWAY_CREDENTIALS_REJECTED"), "{said}");
    }

    #[test]
    fn refused_credentials_name_the_place_the_password_was_read_from() {
        let config = ClientConfig {
            password_origin: Some(
                "the environment variable EAST_PW, which --password-env names".into(),
            ),
            ..ClientConfig::new("https://cluster.example", "svc", "pw")
        };
        let client = OntapClient::new(config).unwrap();
        let refused = OntapError::CredentialsRejected {
            error: Box::default(),
        };
        let said = advice(&refused, &client);
        assert!(
            said.contains("in the environment variable EAST_PW, which --password-env names;"),
            "{said}"
        );
        assert!(!said.contains("ONTAP_GATEWAY_PASSWORD"), "{said}");
    }

    #[test]
    fn a_forbidden_cluster_read_still_answers_and_names_the_user() {
        assert!(matches!(answered_anyway(api(403), false), Ok(None)));
        assert!(unreadable_cluster(&client()).contains("`svc`"));
    }

    #[test]
    fn other_refusals_are_failures() {
        for status in [401, 404, 500, 503] {
            assert!(answered_anyway(api(status), false).is_err(), "{status}");
        }
    }

    #[test]
    fn without_credentials_to_ask_with_a_401_is_the_cluster_answering() {
        assert!(matches!(answered_anyway(api(401), true), Ok(None)));
        for status in [404, 500, 503] {
            assert!(answered_anyway(api(status), true).is_err(), "{status}");
        }
    }

    #[test]
    fn a_missing_cluster_endpoint_asks_whether_this_is_ontap() {
        let said = advice(&api(404), &client());
        assert!(said.contains("ONTAP 9.6 or later"), "{said}");
    }
}
