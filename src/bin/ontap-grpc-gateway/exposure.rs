//! Whether the gateway may listen where it was told to, given who could
//! then reach a cluster through it.

use std::net::SocketAddr;

use ontap_grpc_gateway::config::{ClusterSpec, CredentialSpec, DescribedBy};

/// How the gateway authenticates its callers, when it does, and whether
/// their calls arrive encrypted.
#[derive(Debug, Clone, Copy)]
pub struct CallerAuthentication {
    pub mutual_tls: bool,
    pub bearer_tokens: bool,
    pub tls: bool,
}

/// A way of listening that would open a cluster to whoever reaches the port.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExposureError {
    /// Bearer tokens and pass-through credentials both travel in the one
    /// `authorization` metadata.
    #[error(
        "--auth-tokens reads the `authorization` metadata that a pass-through cluster forwards \
         to ONTAP as the caller's own credentials: authenticate callers with --client-ca \
         (mutual TLS) instead, or give those clusters service-account credentials"
    )]
    BearerTokensWithPassThrough,
    /// Unauthenticated callers from other machines would act as a service account.
    #[error(
        "--listen {listen} takes calls from other machines, and each would act on the cluster \
         as {accounts}: authenticate callers with --auth-tokens FILE (bearer tokens) or \
         --client-ca FILE (mutual TLS, with --tls-cert and --tls-key), or listen on \
         127.0.0.1:{port}",
        accounts = quoted(.accounts),
        port = .listen.port()
    )]
    UnauthenticatedCallers {
        /// `--listen`.
        listen: SocketAddr,
        /// The service accounts they would act as.
        accounts: Vec<String>,
    },
    /// Callers' own passwords would cross the network in clear text.
    #[error(
        "--listen {listen} takes calls from other machines, and with pass-through credentials \
         each brings its caller's ONTAP password, which would cross the network in clear text: \
         serve TLS with --tls-cert and --tls-key, or listen on 127.0.0.1:{port}",
        port = .listen.port()
    )]
    PlaintextCallerPasswords {
        /// `--listen`.
        listen: SocketAddr,
    },
}

/// The service accounts a caller of the gateway acts as on some cluster:
/// every cluster's but the embedded simulator's, whose account opens
/// nothing real.
pub fn service_accounts(specs: &[ClusterSpec]) -> Vec<String> {
    specs
        .iter()
        .filter(|spec| spec.described_by != DescribedBy::EmbeddedSimulator)
        .filter_map(|spec| match &spec.credentials {
            CredentialSpec::ServiceAccount { username, .. } => Some(username.clone()),
            CredentialSpec::PassThrough => None,
        })
        .collect()
}

/// Refuses to listen beyond this machine when a caller could act on a
/// cluster as the gateway's service account without being authenticated
/// (an open door to it for anyone who can reach the port), or send its own
/// ONTAP password in clear text to a pass-through cluster. Refuses bearer
/// tokens with pass-through clusters anywhere: both travel in the one
/// `authorization` metadata.
pub fn check_exposure(
    listen: SocketAddr,
    service_accounts: &[String],
    pass_through: bool,
    callers: CallerAuthentication,
) -> Result<(), ExposureError> {
    if pass_through && callers.bearer_tokens {
        return Err(ExposureError::BearerTokensWithPassThrough);
    }
    if listen.ip().is_loopback() {
        return Ok(());
    }
    if !service_accounts.is_empty() && !callers.mutual_tls && !callers.bearer_tokens {
        return Err(ExposureError::UnauthenticatedCallers {
            listen,
            accounts: service_accounts.to_vec(),
        });
    }
    if pass_through && !callers.tls {
        return Err(ExposureError::PlaintextCallerPasswords { listen });
    }
    Ok(())
}

/// `a`, `b`: each account in backticks.
fn quoted(accounts: &[String]) -> String {
    let quoted: Vec<String> = accounts.iter().map(|u| format!("`{u}`")).collect();
    quoted.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOBODY: CallerAuthentication = CallerAuthentication {
        mutual_tls: false,
        bearer_tokens: false,
        tls: false,
    };

    fn accounts(names: &[&str]) -> Vec<String> {
        names.iter().map(|&name| name.to_owned()).collect()
    }

    #[test]
    fn loopback_needs_no_client_authentication() {
        for listen in ["127.0.0.1:50051", "[::1]:50051"] {
            assert_eq!(
                check_exposure(
                    listen.parse().unwrap(),
                    &accounts(&["admin"]),
                    false,
                    NOBODY
                ),
                Ok(())
            );
        }
    }

    #[test]
    fn every_interface_needs_client_authentication_and_says_how() {
        let every_interface = ([0, 0, 0, 0], 50051).into();
        let why = check_exposure(every_interface, &accounts(&["admin"]), false, NOBODY)
            .unwrap_err()
            .to_string();
        for needed in ["`admin`", "--auth-tokens", "--client-ca", "127.0.0.1:50051"] {
            assert!(why.contains(needed), "{needed}: {why}");
        }
    }

    #[test]
    fn either_way_of_authenticating_callers_is_enough_on_every_interface() {
        let every_interface = ([0, 0, 0, 0], 50051).into();
        for callers in [
            CallerAuthentication {
                mutual_tls: true,
                ..NOBODY
            },
            CallerAuthentication {
                bearer_tokens: true,
                ..NOBODY
            },
        ] {
            assert_eq!(
                check_exposure(every_interface, &accounts(&["admin"]), false, callers),
                Ok(()),
                "{callers:?}"
            );
        }
    }

    #[test]
    fn pass_through_on_every_interface_needs_tls_and_no_service_account_auth() {
        let every_interface = ([0, 0, 0, 0], 50051).into();
        let why = check_exposure(every_interface, &[], true, NOBODY)
            .unwrap_err()
            .to_string();
        assert!(why.contains("--tls-cert"), "{why}");
        let tls = CallerAuthentication {
            tls: true,
            ..NOBODY
        };
        assert_eq!(check_exposure(every_interface, &[], true, tls), Ok(()));
    }

    #[test]
    fn bearer_tokens_and_pass_through_are_refused_together_even_on_loopback() {
        let tokens = CallerAuthentication {
            bearer_tokens: true,
            ..NOBODY
        };
        let why = check_exposure(([127, 0, 0, 1], 50051).into(), &[], true, tokens)
            .unwrap_err()
            .to_string();
        assert!(why.contains("--client-ca"), "{why}");
    }

    #[test]
    fn a_mixed_fleet_names_every_service_account_it_would_expose() {
        let every_interface = ([0, 0, 0, 0], 50051).into();
        let tls = CallerAuthentication {
            tls: true,
            ..NOBODY
        };
        let why = check_exposure(
            every_interface,
            &accounts(&["east-gw", "west-gw"]),
            true,
            tls,
        )
        .unwrap_err()
        .to_string();
        assert!(why.contains("`east-gw`, `west-gw`"), "{why}");
    }

    #[test]
    fn the_embedded_simulators_account_exposes_nothing() {
        let text = "[[cluster]]\nname = \"east\"\nurl = \"https://east\"\n\
                    credentials = \"service-account\"\nusername = \"gw\"\npassword_env = \"X\"\n\n\
                    [[cluster]]\nname = \"west\"\nurl = \"https://west\"\n\
                    credentials = \"pass-through\"\n";
        let mut specs = ontap_grpc_gateway::config::parse(text, "c").unwrap();
        assert_eq!(service_accounts(&specs), ["gw"]);
        specs[0].described_by = DescribedBy::EmbeddedSimulator;
        assert!(service_accounts(&specs).is_empty());
    }
}
