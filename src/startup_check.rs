//! The call the gateway makes to its cluster at startup, so that a wrong
//! URL, an untrusted certificate or refused credentials show up in the log
//! at once, with what to change, instead of in the first caller's error.
//!
//! The gateway serves either way: a cluster that is down at boot must not
//! crash-loop a pod. Failures that waiting can cure are tried again with
//! backoff until the cluster answers.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio_util::sync::CancellationToken;

use crate::ontap::{OntapClient, OntapError};
use crate::translate::{GatewayError, error_table};

/// The first retry's delay; the delay doubles, jittered, up to `MAX_DELAY`.
const FIRST_DELAY: Duration = Duration::from_secs(1);
const MAX_DELAY: Duration = Duration::from_secs(60);

/// Asks the cluster who it is until it answers, a failure says trying again
/// cannot help, or `stop` is cancelled, logging each outcome.
pub async fn run(client: OntapClient, stop: CancellationToken) {
    let mut delays = ExponentialBuilder::new()
        .with_min_delay(FIRST_DELAY)
        .with_max_delay(MAX_DELAY)
        .with_jitter()
        .without_max_times()
        .build();
    loop {
        let answer = tokio::select! {
            () = stop.cancelled() => return,
            answer = client.cluster_identity() => answer,
        };
        let error = match answer {
            Ok(cluster) => {
                tracing::info!(
                    cluster = %cluster.name,
                    ontap_version = %cluster.version,
                    upstream = %client.base_url(),
                    "the ONTAP cluster answers"
                );
                return;
            }
            Err(error) => error,
        };
        let reason = error_table::classify(&GatewayError::from(error.clone())).reason;
        let advice = advice(&error, &client);
        if !worth_retrying(&error) {
            tracing::warn!(reason = %reason, upstream = %client.base_url(), "{advice}; not retried");
            return;
        }
        let delay = delays.next().unwrap_or(MAX_DELAY);
        tracing::warn!(
            reason = %reason,
            upstream = %client.base_url(),
            retry_in = ?delay,
            "{advice}; the gateway serves meanwhile and tries again"
        );
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
        }
    }
}

/// Whether the cluster may answer later without anyone changing the
/// gateway: not when ONTAP itself refused the call, and never for refused
/// credentials, since each try is a failed login that can lock the account.
fn worth_retrying(error: &OntapError) -> bool {
    match error {
        OntapError::Api { status, .. } => *status == 429 || *status >= 500,
        OntapError::CredentialsRejected { .. } | OntapError::Malformed(_) => false,
        OntapError::Unreachable(_)
        | OntapError::CertificateRejected(_)
        | OntapError::ConnectionLost(_)
        | OntapError::Timeout { .. }
        | OntapError::Overloaded { .. }
        | OntapError::QueuedPastDeadline { .. }
        | OntapError::MemoryBudget { .. }
        | OntapError::ResponseTooLarge { .. }
        | OntapError::CircuitOpen { .. } => true,
    }
}

/// What went wrong, in the operator's terms, with the setting to change.
fn advice(error: &OntapError, client: &OntapClient) -> String {
    let url = client.base_url();
    match error {
        OntapError::CredentialsRejected { .. } => format!(
            "ONTAP at {url} refused the gateway's credentials for user `{user}`: check \
             --username and the password (ONTAP_GATEWAY_PASSWORD, or --password-file); until \
             then every call fails UNAVAILABLE with reason GATEWAY_CREDENTIALS_REJECTED",
            user = client.username()
        ),
        OntapError::CertificateRejected(why) => format!(
            "the TLS certificate of {url} is not trusted ({why}): give the CA that signed it \
             with --ca-cert FILE (PEM), or, for a lab cluster only, --insecure-skip-tls-verify"
        ),
        OntapError::Unreachable(why) => format!(
            "cannot reach {url} ({why}): check the host name and port, and that this machine \
             can reach the cluster's management interface"
        ),
        OntapError::Api { status: 403, .. } => format!(
            "ONTAP at {url} answered, but user `{user}` may not read /api/cluster (HTTP 403): \
             the gateway works without it; give the role read-only access to /api/cluster to \
             see the cluster's name and release here",
            user = client.username()
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
    use crate::ontap::{ApiError, ClientConfig, TimeBound};

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
    fn refused_credentials_and_refusals_by_ontap_are_not_retried() {
        let refused = OntapError::CredentialsRejected {
            error: Box::default(),
        };
        for error in [
            refused,
            api(403),
            api(404),
            api(400),
            OntapError::Malformed("x".into()),
        ] {
            assert!(!worth_retrying(&error), "{error:?}");
        }
    }

    #[test]
    fn a_cluster_down_busy_or_slow_is_tried_again() {
        let slow = OntapError::Timeout {
            budget: Duration::from_secs(1),
            bound: TimeBound::RequestTimeout,
        };
        for error in [
            api(503),
            api(500),
            api(429),
            slow,
            OntapError::Unreachable("refused".into()),
            OntapError::CertificateRejected("UnknownIssuer".into()),
        ] {
            assert!(worth_retrying(&error), "{error:?}");
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
        assert!(said.contains("GATEWAY_CREDENTIALS_REJECTED"), "{said}");
    }

    #[test]
    fn a_forbidden_cluster_read_says_the_gateway_works_without_it() {
        let said = advice(&api(403), &client());
        assert!(said.contains("works without it"), "{said}");
    }

    #[test]
    fn a_missing_cluster_endpoint_asks_whether_this_is_ontap() {
        let said = advice(&api(404), &client());
        assert!(said.contains("ONTAP 9.6 or later"), "{said}");
    }
}
