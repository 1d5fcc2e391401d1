//! The `ontap-grpc-gateway` binary: `serve` runs the gateway (against a
//! cluster, or the embedded simulator with `--simulate`); `simulate` runs
//! the simulator alone.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use ontap_grpc_gateway::ontap::{ClientConfig, OntapClient, TlsOptions};
use ontap_grpc_gateway::server;
use ontap_grpc_gateway::translate::{PageTokenKey, Upstream};
#[cfg(feature = "simulator")]
use ontap_simulator::{
    Cluster, Credentials, ExposeSecret, SecretString, Simulator, SimulatorConfig,
};
use tokio::net::TcpListener;
use tonic::transport::Identity;

#[derive(Parser)]
#[command(version, about = "A typed gRPC gateway onto the NetApp ONTAP REST API")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gRPC gateway.
    Serve(ServeArgs),
    /// Run the ONTAP REST simulator alone (for curl, or a third-party ONTAP client).
    Simulate(SimulateArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// Address the gRPC server listens on.
    #[arg(long, default_value = "127.0.0.1:50051")]
    listen: SocketAddr,
    /// Serve from an embedded ONTAP simulator (seeded demo cluster) instead of a real cluster.
    #[arg(long, conflicts_with_all = ["ontap_url", "ca_cert", "insecure_skip_tls_verify"])]
    simulate: bool,
    /// The cluster management URL, e.g. https://cluster-mgmt.
    #[arg(long, required_unless_present = "simulate")]
    ontap_url: Option<String>,
    /// ONTAP user name.
    #[arg(long, default_value = "admin")]
    username: String,
    /// Name of the environment variable that holds the ONTAP password.
    #[arg(long, default_value = "ONTAP_PASSWORD")]
    password_env: String,
    /// PEM CA bundle to trust for the cluster's certificate (instead of the system store).
    #[arg(long)]
    ca_cert: Option<PathBuf>,
    /// Accept any cluster certificate. For lab clusters only.
    #[arg(long)]
    insecure_skip_tls_verify: bool,
    /// Bound on concurrent upstream requests, and so on open connections to the cluster.
    #[arg(long, default_value_t = 8)]
    max_in_flight: usize,
    /// How long a call without a shorter deadline waits for a free upstream slot (ms).
    #[arg(long, default_value_t = 10_000)]
    queue_timeout_ms: u64,
    /// Bound on one upstream request when the caller sets no shorter deadline (ms).
    #[arg(long, default_value_t = 130_000)]
    request_timeout_ms: u64,
    /// Largest upstream response accepted (bytes).
    #[arg(long, default_value_t = 64 * 1024 * 1024)]
    max_response_bytes: usize,
    /// File holding the key (at least 32 bytes) that signs page tokens; replicas behind one
    /// load balancer share it. Unset: a random key per process, so a token then works only on
    /// the replica that issued it.
    #[arg(long)]
    page_token_key_file: Option<PathBuf>,
    /// PEM certificate chain to serve gRPC over TLS (with --tls-key).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key to serve gRPC over TLS (with --tls-cert).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

#[derive(Args)]
struct SimulateArgs {
    /// Address the simulator's REST API listens on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// User name the simulator accepts.
    #[arg(long, default_value = "admin")]
    username: String,
    /// Password the simulator accepts.
    #[arg(long, default_value = "netapp1!")]
    password: String,
    /// Serve HTTPS with a freshly generated self-signed certificate.
    #[arg(long)]
    tls: bool,
    /// Write the self-signed certificate (PEM) here, for `curl --cacert` or `serve --ca-cert`.
    #[arg(long, requires = "tls")]
    write_ca_cert: Option<PathBuf>,
    /// Also serve the admin API (inject faults, read counters; plain HTTP, no authentication)
    /// here, e.g. 127.0.0.1:8081. Off unless given.
    #[arg(long)]
    admin_listen: Option<SocketAddr>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let result = match Cli::parse().command {
        Command::Serve(args) => serve(args).await,
        Command::Simulate(args) => simulate(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let (config, simulator) = if args.simulate {
        let (config, simulator) = embedded_simulator().await?;
        (config, Some(simulator))
    } else {
        let url = args.ontap_url.clone().unwrap_or_default();
        let password = std::env::var(&args.password_env).map_err(|_| {
            format!(
                "set the ONTAP password in the environment variable {}",
                args.password_env
            )
        })?;
        let mut config = ClientConfig::new(url, args.username.clone(), password);
        config.tls = TlsOptions {
            ca_cert_pem: match &args.ca_cert {
                Some(path) => Some(
                    std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?,
                ),
                None => None,
            },
            insecure_skip_verify: args.insecure_skip_tls_verify,
        };
        if args.insecure_skip_tls_verify {
            tracing::warn!("TLS verification of the cluster's certificate is OFF");
        }
        (config, None)
    };
    let config = ClientConfig {
        max_in_flight: args.max_in_flight,
        queue_timeout: Duration::from_millis(args.queue_timeout_ms),
        request_timeout: Duration::from_millis(args.request_timeout_ms),
        max_response_bytes: args.max_response_bytes,
        ..config
    };
    let client = OntapClient::new(config).map_err(|e| e.to_string())?;
    let page_tokens = match &args.page_token_key_file {
        Some(path) => PageTokenKey::from_file(path),
        None => PageTokenKey::random(),
    }
    .map_err(|e| e.to_string())?;
    let upstream = Upstream {
        client,
        page_tokens,
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(Identity::from_pem(
            std::fs::read(cert).map_err(|e| format!("reading {}: {e}", cert.display()))?,
            std::fs::read(key).map_err(|e| format!("reading {}: {e}", key.display()))?,
        )),
        _ => None,
    };
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("listening on {}: {e}", args.listen))?;
    tracing::info!(
        listen = %listener.local_addr().map_err(|e| e.to_string())?,
        upstream = %upstream.client.base_url(),
        tls = tls.is_some(),
        "gateway serving ontap.v1 (reflection and grpc.health.v1 enabled)"
    );
    server::serve(listener, upstream, tls, shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    if let Some(simulator) = simulator {
        simulator.shutdown().await;
    }
    tracing::info!("gateway stopped");
    Ok(())
}

/// Starts the simulator on the seed cluster for `serve --simulate`, and the client settings that
/// reach it.
#[cfg(feature = "simulator")]
async fn embedded_simulator() -> Result<(ClientConfig, Simulator), String> {
    let simulator_config = SimulatorConfig::default();
    let credentials = simulator_config.credentials.clone();
    let simulator = Simulator::start(simulator_config, Cluster::seed())
        .await
        .map_err(|e| format!("starting the simulator: {e}"))?;
    tracing::info!(url = %simulator.base_url(), "embedded ONTAP simulator serving the seed cluster");
    let config = ClientConfig::new(
        simulator.base_url(),
        credentials.username,
        credentials.password.expose_secret(),
    );
    Ok((config, simulator))
}

#[cfg(feature = "simulator")]
async fn simulate(args: SimulateArgs) -> Result<(), String> {
    let simulator = Simulator::start(
        SimulatorConfig {
            listen: args.listen,
            credentials: Credentials {
                username: args.username,
                password: SecretString::from(args.password),
            },
            tls: args.tls,
            admin_listen: args.admin_listen,
        },
        Cluster::seed(),
    )
    .await
    .map_err(|e| format!("starting the simulator on {}: {e}", args.listen))?;
    if let Some(addr) = simulator.admin_addr() {
        tracing::info!(%addr, "simulator admin API (faults, stats) listening");
    }
    if let (Some(path), Some(pem)) = (&args.write_ca_cert, simulator.ca_certificate_pem()) {
        std::fs::write(path, pem).map_err(|e| format!("writing {}: {e}", path.display()))?;
        tracing::info!(path = %path.display(), "wrote the simulator's self-signed certificate");
    }
    tracing::info!(url = %simulator.base_url(), "ONTAP REST simulator serving the seed cluster");
    simulator.run_until(shutdown_signal()).await;
    Ok(())
}

/// Why `serve --simulate` and `simulate` cannot run in a build without the simulator; the flags
/// stay in every build so the answer is this message rather than an unknown-argument error.
#[cfg(not(feature = "simulator"))]
const NO_SIMULATOR: &str =
    "this build has no ONTAP simulator: rebuild with the `simulator` feature (on by default)";

/// Stands in for the simulator in a build without it: the gateway never starts.
#[cfg(not(feature = "simulator"))]
async fn embedded_simulator() -> Result<(ClientConfig, NoSimulator), String> {
    Err(NO_SIMULATOR.to_owned())
}

#[cfg(not(feature = "simulator"))]
async fn simulate(_: SimulateArgs) -> Result<(), String> {
    Err(NO_SIMULATOR.to_owned())
}

/// The simulator a build without one never has.
#[cfg(not(feature = "simulator"))]
enum NoSimulator {}

#[cfg(not(feature = "simulator"))]
impl NoSimulator {
    async fn shutdown(self) {
        match self {}
    }
}

/// Resolves on Ctrl-C or SIGTERM, so in-flight calls drain on either.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: draining in-flight calls");
}
