//! `serve`: the gateway wired together from its flags and run until a stop
//! signal, with the embedded simulator stopped after it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ontap_grpc_gateway::config::{self, ClusterSpec};
use ontap_grpc_gateway::identity::{self, Authenticator, JwtSettings, JwtVerifier, TokenHashes};
use ontap_grpc_gateway::identity::{JwksError, TokenFileError};
use ontap_grpc_gateway::metrics::Metrics;
use ontap_grpc_gateway::policy::{
    POLICY_RELOAD_INTERVAL, PolicyError, SharedPolicy, keep_policy_current,
};
use ontap_grpc_gateway::proto;
use ontap_grpc_gateway::server::{self, ClientCa, ServeOptions, TlsIdentity, TlsSetupError};
use ontap_grpc_gateway::translate::{Clusters, KeyError, PageTokenKey};
use ontap_grpc_gateway::watch::Watches;
use tokio::net::TcpListener;

use crate::cli::{ClusterSource, ServeArgs, ServerFlags};
use crate::clusters::{self, ClusterError};
use crate::exposure::{self, CallerAuthentication, ExposureError};
use crate::signal::{SignalError, hangups, shutdown_signal};
use crate::simulate::{self, EmbeddedSimulator, SimulatorError};
use crate::upstreams::{self, UpstreamError};

/// How long the embedded simulator gets to close once the gateway is done.
const SIMULATOR_STOP_GRACE: Duration = Duration::from_secs(1);

/// Why the gateway did not start, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The flags name no cluster (main refuses this before it gets here).
    #[error("serve needs a cluster: --ontap-url, --config or --simulate")]
    NoCluster,
    /// The clusters file is unreadable or wrong.
    #[error(transparent)]
    ClustersFile(#[from] config::ConfigError),
    /// The flags' cluster is wrong.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// A cluster's client cannot be built.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// The embedded simulator did not start.
    #[error(transparent)]
    Simulator(#[from] SimulatorError),
    /// `--page-token-key-file` is unreadable or weak.
    #[error(transparent)]
    PageTokens(#[from] KeyError),
    /// `--tls-cert`, `--tls-key` or `--client-ca` cannot be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        source: std::io::Error,
    },
    /// `--tls-cert` and `--tls-key` are not a certificate chain and its key.
    #[error("--tls-cert/--tls-key: {0}")]
    TlsIdentity(#[source] TlsSetupError),
    /// `--client-ca` holds no CA certificate.
    #[error("--client-ca {path}: {source}")]
    ClientCa {
        /// The bundle.
        path: PathBuf,
        source: TlsSetupError,
    },
    /// `--auth-tokens` is unreadable or holds something other than hashes.
    #[error(transparent)]
    AuthTokens(#[from] TokenFileError),
    /// The JWKS file cannot be used.
    #[error(transparent)]
    Jwks(#[from] JwksError),
    /// The policy file cannot be used.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// Listening where told would open a cluster to anyone.
    #[error(transparent)]
    Exposure(#[from] ExposureError),
    /// No way to be told to stop.
    #[error(transparent)]
    Signal(#[from] SignalError),
    /// `--listen` cannot be bound.
    #[error("listening on {addr}: {source}")]
    Listen {
        /// `--listen`.
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// `--metrics-listen` cannot be bound.
    #[error("--metrics-listen {addr}: {source}")]
    MetricsListen {
        /// `--metrics-listen`.
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// A bound listener cannot say where it is.
    #[error("reading the address a listener is bound to: {0}")]
    LocalAddress(#[source] std::io::Error),
    /// The server failed.
    #[error(transparent)]
    Serve(#[from] server::ServeError),
}

/// Runs the gateway `args` describe until SIGTERM or SIGINT, then drains.
pub async fn run(args: ServeArgs) -> Result<(), ServeError> {
    let (specs, simulator) = cluster_specs(&args).await?;
    let exposed = exposure::service_accounts(&specs);
    let page_tokens = match &args.page_token_key_file {
        Some(path) => PageTokenKey::from_file(path),
        None => PageTokenKey::random(),
    }?;
    let metrics = Arc::new(Metrics::default());
    let clusters = upstreams::clusters(specs, &args.upstream, &page_tokens, &metrics)?;
    let callers = CallerSecurity::from_flags(&args.server)?;
    exposure::check_exposure(
        args.listen,
        &exposed,
        clusters.any_passes_through(),
        callers.authentication(),
    )?;
    let shutdown = shutdown_signal()?;
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: args.listen,
            source,
        })?;
    let metrics_listener = match args.server.metrics_listen {
        Some(addr) => Some(metrics_listener(addr).await?),
        None => None,
    };
    log_serving(&clusters, &listener, callers.tls.is_some())?;
    let policy = match &args.server.policy {
        Some(path) => Some(policy_of(path, &clusters)?),
        None => None,
    };
    if let Some(verifier) = callers.authenticator.jwt() {
        tokio::spawn(identity::keep_jwks_current(
            verifier.clone(),
            identity::JWKS_RELOAD_INTERVAL,
        ));
    }
    let options = serve_options(&args.server, callers, policy, metrics_listener);
    server::serve(listener, clusters, options, shutdown).await?;
    if let Some(simulator) = simulator {
        stop(simulator).await;
    }
    tracing::info!("gateway stopped");
    Ok(())
}

/// The clusters the flags describe, and the embedded simulator when it is
/// one of them.
async fn cluster_specs(
    args: &ServeArgs,
) -> Result<(Vec<ClusterSpec>, Option<EmbeddedSimulator>), ServeError> {
    match args.cluster_source().ok_or(ServeError::NoCluster)? {
        ClusterSource::EmbeddedSimulator => {
            let simulator = simulate::start_embedded(&args.simulator).await?;
            let spec = clusters::from_embedded_simulator(
                &simulator.base_url(),
                simulator.account(),
                &args.cluster,
            )?;
            Ok((vec![spec], Some(simulator)))
        }
        ClusterSource::File(path) => Ok((config::read(path)?, None)),
        ClusterSource::Flags(url) => Ok((vec![clusters::from_flags(url, &args.cluster)?], None)),
    }
}

/// How the gateway's own listener proves itself to callers, and how callers
/// prove themselves to it.
struct CallerSecurity {
    tls: Option<TlsIdentity>,
    client_ca: Option<ClientCa>,
    authenticator: Authenticator,
}

impl CallerSecurity {
    fn from_flags(flags: &ServerFlags) -> Result<Self, ServeError> {
        let tls = match (&flags.tls_cert, &flags.tls_key) {
            (Some(cert), Some(key)) => Some(
                TlsIdentity::from_pem(read(cert)?, read(key)?).map_err(ServeError::TlsIdentity)?,
            ),
            _ => None,
        };
        let client_ca =
            match &flags.client_ca {
                Some(path) => Some(ClientCa::from_pem(read(path)?).map_err(|source| {
                    ServeError::ClientCa {
                        path: path.clone(),
                        source,
                    }
                })?),
                None => None,
            };
        let auth_tokens = match &flags.auth_tokens {
            Some(path) => Some(TokenHashes::from_file(path)?),
            None => None,
        };
        let mut authenticator = Authenticator::new(auth_tokens);
        if let Some(jwks) = &flags.jwks {
            authenticator = authenticator.with_jwt(JwtVerifier::load(JwtSettings {
                jwks: jwks.clone(),
                issuer: flags.jwt_issuer.clone().unwrap_or_default(),
                audience: flags.jwt_audience.clone().unwrap_or_default(),
                identity_claim: flags.jwt_identity_claim.clone(),
            })?);
        }
        Ok(Self {
            tls,
            client_ca,
            authenticator,
        })
    }

    fn authentication(&self) -> CallerAuthentication {
        CallerAuthentication {
            mutual_tls: self.client_ca.is_some(),
            bearer_tokens: self.authenticator.takes_bearer(),
            tls: self.tls.is_some(),
        }
    }
}

/// The file at `path`, whole.
fn read(path: &Path) -> Result<Vec<u8>, ServeError> {
    std::fs::read(path).map_err(|source| ServeError::Read {
        path: path.to_owned(),
        source,
    })
}

/// The metrics endpoint's listener, bound to `addr`.
async fn metrics_listener(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::MetricsListen { addr, source })?;
    let bound = listener.local_addr().map_err(ServeError::LocalAddress)?;
    tracing::info!(metrics = %format!("http://{bound}/metrics"), "serving Prometheus metrics");
    Ok(listener)
}

/// Tells the operator what the gateway fronts and where it listens; tests
/// and scripts read the `listen=` address that the port 0 became.
fn log_serving(
    clusters: &Clusters,
    listener: &TcpListener,
    grpc_tls: bool,
) -> Result<(), ServeError> {
    for (name, upstream) in clusters.iter() {
        tracing::info!(
            cluster = %name,
            upstream = %upstream.client.base_url(),
            credentials = if upstream.client.passes_through() { "pass-through" } else { "service-account" },
            "fronting a cluster"
        );
    }
    tracing::info!(
        listen = %listener.local_addr().map_err(ServeError::LocalAddress)?,
        grpc_tls,
        "gateway serving ontap.v1 (reflection and grpc.health.v1 enabled)"
    );
    Ok(())
}

/// The policy in `path`, kept current by a task that reads it again on
/// SIGHUP or when it changes.
fn policy_of(path: &Path, clusters: &Clusters) -> Result<SharedPolicy, ServeError> {
    let names = clusters.iter().map(|(name, _)| name.to_owned()).collect();
    let policy = SharedPolicy::load(path.to_owned(), names, proto::api_methods())?;
    tracing::info!(
        path = %path.display(),
        rules = policy.current().len(),
        "calls are checked against the policy; a caller no rule names is refused"
    );
    tokio::spawn(keep_policy_current(
        policy.clone(),
        POLICY_RELOAD_INTERVAL,
        hangups()?,
    ));
    Ok(policy)
}

fn serve_options(
    flags: &ServerFlags,
    callers: CallerSecurity,
    policy: Option<SharedPolicy>,
    metrics_listener: Option<TcpListener>,
) -> ServeOptions {
    ServeOptions {
        tls: callers.tls,
        client_ca: callers.client_ca,
        authenticator: callers.authenticator,
        policy,
        grpc_web: flags.grpc_web,
        metrics_listener,
        drain_timeout: flags.drain_timeout,
        cluster_probe: Some(flags.health_probe_interval),
        max_connections: flags.max_connections,
        handshake_timeout: flags.handshake_timeout,
        max_concurrent_streams: flags.max_concurrent_streams,
        keepalive_interval: flags.keepalive_interval,
        keepalive_timeout: flags.keepalive_timeout,
        max_connection_age: flags.max_connection_age,
        request_body_timeout: flags.request_body_timeout,
        max_request_bytes: flags.max_request_bytes,
        watches: Arc::new(Watches::with_buffer(flags.watch_buffer)),
    }
}

/// The embedded simulator's own requests were the gateway's, now cut; it
/// gets a moment to close, not a say in when the process exits.
async fn stop(simulator: EmbeddedSimulator) {
    if tokio::time::timeout(SIMULATOR_STOP_GRACE, simulator.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("the embedded simulator did not stop within 1s; exiting anyway");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::tests::serve_args;

    fn no_caller_security() -> CallerSecurity {
        CallerSecurity {
            tls: None,
            client_ca: None,
            authenticator: Authenticator::default(),
        }
    }

    #[test]
    fn the_server_flags_reach_the_serve_options() {
        let args = serve_args(&[
            "--grpc-web",
            "--drain-timeout",
            "1s",
            "--health-probe-interval",
            "2s",
            "--max-connections",
            "3",
            "--handshake-timeout",
            "4s",
            "--max-concurrent-streams",
            "5",
            "--keepalive-interval",
            "6s",
            "--keepalive-timeout",
            "7s",
            "--max-connection-age",
            "8s",
            "--request-body-timeout",
            "9s",
            "--max-request-bytes",
            "2048",
        ]);
        let options = serve_options(&args.server, no_caller_security(), None, None);
        assert!(options.grpc_web);
        assert_eq!(options.drain_timeout, Duration::from_secs(1));
        assert_eq!(options.cluster_probe, Some(Duration::from_secs(2)));
        assert_eq!(options.max_connections, 3);
        assert_eq!(options.handshake_timeout, Duration::from_secs(4));
        assert_eq!(options.max_concurrent_streams, 5);
        assert_eq!(options.keepalive_interval, Duration::from_secs(6));
        assert_eq!(options.keepalive_timeout, Duration::from_secs(7));
        assert_eq!(options.max_connection_age, Duration::from_secs(8));
        assert_eq!(options.request_body_timeout, Duration::from_secs(9));
        assert_eq!(options.max_request_bytes, 2048);
    }

    #[test]
    fn bearer_tokens_are_how_callers_authenticate_when_given() {
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::write(&tokens, format!("{}\n", "a".repeat(64))).unwrap();
        let args = serve_args(&["--auth-tokens", tokens.to_str().unwrap()]);
        let callers = CallerSecurity::from_flags(&args.server)
            .unwrap()
            .authentication();
        assert!(callers.bearer_tokens && !callers.mutual_tls && !callers.tls);
    }

    #[test]
    fn an_unreadable_tls_file_is_named() {
        let args = serve_args(&[
            "--tls-cert",
            "/nonexistent/gateway.pem",
            "--tls-key",
            "/nonexistent/gateway.key",
        ]);
        let why = CallerSecurity::from_flags(&args.server)
            .err()
            .expect("refused")
            .to_string();
        assert!(
            why.starts_with("reading /nonexistent/gateway.pem: "),
            "{why}"
        );
    }
}
