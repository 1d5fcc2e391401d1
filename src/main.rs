//! The `ontap-grpc-gateway` binary: `serve` runs the gateway (against a
//! cluster, or the embedded simulator with `--simulate`); `simulate` runs
//! the simulator alone.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Args, CommandFactory, Parser, Subcommand};
use ontap_grpc_gateway::config::{self, CredentialSpec, PasswordSource};
use ontap_grpc_gateway::layers::TokenHashes;
use ontap_grpc_gateway::metrics::Metrics;
use ontap_grpc_gateway::ontap::{
    BreakerConfig, ClientConfig, Credentials as UpstreamCredentials, OntapClient, RetryPolicy,
    TlsOptions,
};
use ontap_grpc_gateway::server::{self, ClientCa, ServeOptions, TlsIdentity};
use ontap_grpc_gateway::translate::{Clusters, PageTokenKey, Upstream};
use ontap_grpc_gateway::watch::{DEFAULT_WATCH_BUFFER, Watches};
#[cfg(feature = "simulator")]
use ontap_simulator::{
    CifsChurn, Cluster, Credentials, ExposeSecret, SecretString, Simulator, SimulatorConfig,
};
use tokio::net::TcpListener;

/// A duration flag, from 1 ms to a day.
fn duration_flag(text: &str) -> Result<Duration, String> {
    config::parse_duration(text, Duration::from_secs(86_400), "24h")
}

/// A listening address: `IP:PORT`, `localhost:PORT` for 127.0.0.1, or `:PORT` for every
/// interface. Anything else is refused with the forms that work, rather than clap's bare
/// "invalid socket address syntax".
fn listen_flag(text: &str) -> Result<SocketAddr, String> {
    if let Ok(address) = text.parse() {
        return Ok(address);
    }
    let expected = "an IP address and port: 127.0.0.1:PORT (this machine only, also written \
                    localhost:PORT), [::1]:PORT, or 0.0.0.0:PORT (every interface, also written \
                    :PORT)";
    match text.rsplit_once(':') {
        Some(("localhost", port)) => port
            .parse::<u16>()
            .map(|port| SocketAddr::from(([127, 0, 0, 1], port)))
            .map_err(|_| format!("`{port}` is not a port (0-65535)")),
        Some(("", port)) => port
            .parse::<u16>()
            .map(|port| SocketAddr::from(([0, 0, 0, 0], port)))
            .map_err(|_| format!("`{port}` is not a port (0-65535)")),
        _ => Err(format!("`{text}` is not {expected}")),
    }
}

/// When the simulator's clock starts: `now` (the default, so a demo's
/// metrics look current) or a fixed instant, so that every run serves the
/// same dates. CIFS churn runs the same from either; the seeded iSCSI
/// service was created on 2024-12-01 whatever the start.
fn clock_start_flag(text: &str) -> Result<SystemTime, String> {
    if text == "now" {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| "this machine's clock is before 1970".to_owned())?;
        // ONTAP's samples fall on whole seconds.
        return Ok(UNIX_EPOCH + Duration::from_secs(now.as_secs()));
    }
    #[cfg(feature = "simulator")]
    return ontap_simulator::parse_clock_start(text).map_err(|e| format!("{e}, or `now`"));
    #[cfg(not(feature = "simulator"))]
    Err(NO_SIMULATOR.to_owned())
}

/// How the gateway authenticates its callers, when it does, and whether
/// their calls arrive encrypted.
#[derive(Debug, Clone, Copy)]
struct CallerAuthentication {
    mutual_tls: bool,
    bearer_tokens: bool,
    tls: bool,
}

/// Refuses to listen beyond this machine when a caller could act on a
/// cluster as the gateway's service account without being authenticated
/// (an open door to it for anyone who can reach the port), or send its own
/// ONTAP password in clear text to a pass-through cluster. Refuses bearer
/// tokens with pass-through clusters anywhere: both travel in the one
/// `authorization` metadata.
fn check_exposure(
    listen: SocketAddr,
    service_accounts: &[&str],
    pass_through: bool,
    callers: CallerAuthentication,
) -> Result<(), String> {
    if pass_through && callers.bearer_tokens {
        return Err(
            "--auth-tokens reads the `authorization` metadata that a pass-through \
                    cluster forwards to ONTAP as the caller's own credentials: authenticate \
                    callers with --client-ca (mutual TLS) instead, or give those clusters \
                    service-account credentials"
                .to_owned(),
        );
    }
    if listen.ip().is_loopback() {
        return Ok(());
    }
    let port = listen.port();
    if !service_accounts.is_empty() && !callers.mutual_tls && !callers.bearer_tokens {
        let users: Vec<String> = service_accounts.iter().map(|u| format!("`{u}`")).collect();
        return Err(format!(
            "--listen {listen} takes calls from other machines, and each would act on the \
             cluster as {users}: authenticate callers with --auth-tokens FILE (bearer tokens) \
             or --client-ca FILE (mutual TLS, with --tls-cert and --tls-key), or listen on \
             127.0.0.1:{port}",
            users = users.join(", ")
        ));
    }
    if pass_through && !callers.tls {
        return Err(format!(
            "--listen {listen} takes calls from other machines, and with pass-through \
             credentials each brings its caller's ONTAP password, which would cross the network \
             in clear text: serve TLS with --tls-cert and --tls-key, or listen on \
             127.0.0.1:{port}"
        ));
    }
    Ok(())
}

/// Refuses an ONTAP URL that would send the password in clear text (unless
/// allowed) or that has no scheme, saying what to write instead; true for
/// an allowed plaintext URL. The client checks the rest (host, no path or
/// credentials).
fn check_upstream_url(url: &str, allow_plaintext: bool) -> Result<bool, String> {
    let lower = url.to_ascii_lowercase();
    let plaintext = lower.starts_with("http://");
    if plaintext && !allow_plaintext {
        return Err(format!(
            "--ontap-url {url} would send the ONTAP password in clear text; use https://, or \
             --allow-plaintext-upstream for a lab simulator on a trusted network"
        ));
    }
    if !lower.contains("://") {
        return Err(format!(
            "--ontap-url {url} has no scheme; the cluster management URL is https://{url}"
        ));
    }
    Ok(plaintext)
}

/// The password in `path`: its text less the line ending a secret file
/// usually has. Errors name the file, never its content.
fn read_password_file(path: &std::path::Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("reading the password file {}: {e}", path.display()))?;
    Ok(text
        .strip_suffix('\n')
        .map_or(text.as_str(), |line| {
            line.strip_suffix('\r').unwrap_or(line)
        })
        .to_owned())
}

/// The longest timeout flag accepted: an hour.
const MAX_TIMEOUT_MS: u64 = 3_600_000;

/// jemalloc, whose background thread returns freed pages to the OS within
/// about a second, so the footprint shrinks back after a burst: with glibc's
/// allocator the gateway went 10 -> 29 MiB under `cargo bench --bench soak`
/// and stayed there (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read once at start: purge dirty pages after 1 s
/// from a background thread, instead of only when a thread allocates again.
#[allow(non_upper_case_globals)]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static malloc_conf: &[u8] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

#[derive(Parser)]
#[command(version, about = "A typed gRPC gateway onto the NetApp ONTAP REST API")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gRPC gateway.
    Serve(Box<ServeArgs>),
    /// Run the ONTAP REST simulator alone (for curl, or a third-party ONTAP client).
    Simulate(SimulateArgs),
}

/// `--credentials`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum CredentialMode {
    /// The gateway's own ONTAP account, for every caller.
    ServiceAccount,
    /// Each caller's own Basic credentials, forwarded.
    PassThrough,
}

#[derive(Args)]
struct ServeArgs {
    /// How log lines are written: text, or one JSON object a line.
    #[arg(
        long,
        env = "ONTAP_GATEWAY_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: LogFormat,
    /// Address the gRPC server listens on: IP:PORT, localhost:PORT for 127.0.0.1, or :PORT for
    /// every interface (which needs --auth-tokens or --client-ca against a real cluster).
    #[arg(long, env = "ONTAP_GATEWAY_LISTEN", default_value = "127.0.0.1:50051", value_parser = listen_flag)]
    listen: SocketAddr,
    /// Serve from an embedded ONTAP simulator (seeded demo cluster) instead of a real cluster.
    #[arg(long, env = "ONTAP_GATEWAY_SIMULATE", conflicts_with_all = ["ontap_url", "ca_cert", "insecure_skip_tls_verify"])]
    simulate: bool,
    /// The cluster management URL, e.g. https://cluster-mgmt (or --simulate, or --config).
    #[arg(long, env = "ONTAP_GATEWAY_ONTAP_URL")]
    ontap_url: Option<String>,
    /// A TOML file naming several clusters (name, url, ca_cert, credentials, timeouts; see the
    /// README's Production section); calls pick one with `x-ontap-cluster` metadata. Takes the
    /// place of --ontap-url and its credential and TLS flags.
    #[arg(long, env = "ONTAP_GATEWAY_CONFIG", conflicts_with_all = ["simulate", "ontap_url", "password_file", "ca_cert", "insecure_skip_tls_verify", "allow_plaintext_upstream", "credentials"])]
    config: Option<PathBuf>,
    /// Whose credentials reach ONTAP: the gateway's own account (service-account: --username
    /// and a password), or each caller's `authorization: Basic` metadata (pass-through: ONTAP's
    /// RBAC decides per caller, and the gateway holds no secret).
    #[arg(long, env = "ONTAP_GATEWAY_CREDENTIALS", value_enum)]
    credentials: Option<CredentialMode>,
    /// With --simulate: average CIFS connection events (open, close, session change) per
    /// minute in the embedded simulator; 0 turns the churn off.
    #[arg(
        long,
        env = "ONTAP_GATEWAY_CIFS_CHURN_PER_MINUTE",
        default_value_t = 6.0,
        requires = "simulate"
    )]
    cifs_churn_per_minute: f64,
    /// With --simulate: CIFS connections in the embedded simulator's cluster (the seed's 36
    /// first; up to 1,000,000).
    #[arg(long, env = "ONTAP_GATEWAY_CIFS_CONNECTIONS", default_value_t = 36, requires = "simulate", value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    cifs_connections: u32,
    /// With --simulate: when the simulated clock starts, `now` or an RFC 3339 time such as
    /// 2026-01-01T00:00:00Z (the same dates in every run).
    #[arg(long, env = "ONTAP_GATEWAY_CLOCK_START", default_value = "now", requires = "simulate", value_parser = clock_start_flag)]
    clock_start: SystemTime,
    /// ONTAP user name.
    #[arg(long, env = "ONTAP_GATEWAY_USERNAME", default_value = "admin")]
    username: String,
    /// A file holding the ONTAP password (one line; a trailing newline is dropped), e.g. a
    /// mounted secret. Takes the place of --password-env.
    #[arg(long, env = "ONTAP_GATEWAY_PASSWORD_FILE", conflicts_with = "simulate")]
    password_file: Option<PathBuf>,
    /// Name of the environment variable that holds the ONTAP password.
    #[arg(
        long,
        env = "ONTAP_GATEWAY_PASSWORD_ENV",
        default_value = "ONTAP_PASSWORD"
    )]
    password_env: String,
    /// PEM CA bundle to trust for the cluster's certificate (instead of the system store).
    #[arg(long, env = "ONTAP_GATEWAY_CA_CERT")]
    ca_cert: Option<PathBuf>,
    /// Allow an http:// --ontap-url, which sends the ONTAP password in clear text (a warning is
    /// logged). For a lab simulator on a trusted network only.
    #[arg(
        long,
        env = "ONTAP_GATEWAY_ALLOW_PLAINTEXT_UPSTREAM",
        conflicts_with = "simulate"
    )]
    allow_plaintext_upstream: bool,
    /// Accept any cluster certificate. For lab clusters only.
    #[arg(long, env = "ONTAP_GATEWAY_INSECURE_SKIP_TLS_VERIFY")]
    insecure_skip_tls_verify: bool,
    /// Bound on concurrent upstream requests, and so on open connections to the cluster (1-1024).
    #[arg(long, env = "ONTAP_GATEWAY_MAX_IN_FLIGHT", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1024))]
    max_in_flight: u16,
    /// How long a call without a shorter deadline waits for a free upstream slot (ms, up to an hour).
    #[arg(long, env = "ONTAP_GATEWAY_QUEUE_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_MS))]
    queue_timeout_ms: u64,
    /// Bound on one upstream request when the caller sets no shorter deadline (ms, up to an hour).
    #[arg(long, env = "ONTAP_GATEWAY_REQUEST_TIMEOUT_MS", default_value_t = 130_000, value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_MS))]
    request_timeout_ms: u64,
    /// Send every read upstream, even while an identical one is in flight (by default they
    /// share it). For measuring.
    #[arg(long, env = "ONTAP_GATEWAY_NO_COALESCE")]
    no_coalesce: bool,
    /// Retries of a read that ONTAP answered 429 or 503 (after its `Retry-After`) or that could
    /// not connect (0-5; 0: none). Writes are never retried.
    #[arg(long, env = "ONTAP_GATEWAY_RETRIES", default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=5))]
    retries: u32,
    /// The most the first retry waits (a random share of it, doubled for each retry after).
    #[arg(long, env = "ONTAP_GATEWAY_RETRY_BASE_DELAY", default_value = "100ms", value_parser = duration_flag)]
    retry_base_delay: Duration,
    /// The most any retry waits, unless ONTAP's `Retry-After` asks for longer.
    #[arg(long, env = "ONTAP_GATEWAY_RETRY_MAX_DELAY", default_value = "2s", value_parser = duration_flag)]
    retry_max_delay: Duration,
    /// Failures of the cluster in a row after which calls fail at once (UNAVAILABLE
    /// UPSTREAM_CIRCUIT_OPEN) until a probe succeeds (0-1000; 0: never).
    #[arg(long, env = "ONTAP_GATEWAY_BREAKER_FAILURES", default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=1000))]
    breaker_failures: u32,
    /// How long the circuit stays open before one call probes the cluster.
    #[arg(long, env = "ONTAP_GATEWAY_BREAKER_OPEN_FOR", default_value = "10s", value_parser = duration_flag)]
    breaker_open_for: Duration,
    /// Largest upstream response accepted (bytes, 1 KiB to 1 GiB).
    #[arg(long, env = "ONTAP_GATEWAY_MAX_RESPONSE_BYTES", default_value_t = 64 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(1024..=1 << 30))]
    max_response_bytes: u64,
    /// Bytes all upstream responses being read at once may hold (at least --max-response-bytes,
    /// up to 4 GiB).
    #[arg(long, env = "ONTAP_GATEWAY_MAX_BUFFERED_BYTES", default_value_t = 256 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(1024..=4 << 30))]
    max_buffered_bytes: u64,
    /// File holding the key (at least 32 bytes) that signs page tokens; replicas behind one
    /// load balancer share it. Unset: a random key per process, so a token then works only on
    /// the replica that issued it.
    #[arg(long, env = "ONTAP_GATEWAY_PAGE_TOKEN_KEY_FILE")]
    page_token_key_file: Option<PathBuf>,
    /// After SIGTERM/SIGINT, how long in-flight calls may finish before every connection is cut
    /// (`30s`, `500ms`, `2m`).
    #[arg(long, env = "ONTAP_GATEWAY_DRAIN_TIMEOUT", default_value = "30s", value_parser = duration_flag)]
    drain_timeout: Duration,
    /// How often the gateway asks the cluster whether it answers (`GET /api/cluster`), for
    /// grpc.health.v1: NOT_SERVING while it does not; after a failure it asks sooner, backing
    /// off from 1s to this.
    #[arg(long, env = "ONTAP_GATEWAY_HEALTH_PROBE_INTERVAL", default_value = "10s", value_parser = duration_flag)]
    health_probe_interval: Duration,
    /// Open gRPC connections at once; past it a new connection is closed at once (1-100000).
    #[arg(long, env = "ONTAP_GATEWAY_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    max_connections: u32,
    /// How long a new connection has, from accept, to finish its TLS handshake and its HTTP
    /// opening (the HTTP/2 preface and first SETTINGS, or an HTTP/1.1 request head).
    #[arg(long, env = "ONTAP_GATEWAY_HANDSHAKE_TIMEOUT", default_value = "10s", value_parser = duration_flag)]
    handshake_timeout: Duration,
    /// Calls (HTTP/2 streams) at once on one connection (1-10000).
    #[arg(long, env = "ONTAP_GATEWAY_MAX_CONCURRENT_STREAMS", default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    max_concurrent_streams: u32,
    /// How often an HTTP/2 PING checks a connection.
    #[arg(long, env = "ONTAP_GATEWAY_KEEPALIVE_INTERVAL", default_value = "60s", value_parser = duration_flag)]
    keepalive_interval: Duration,
    /// How long a PING may go unanswered before the connection is closed.
    #[arg(long, env = "ONTAP_GATEWAY_KEEPALIVE_TIMEOUT", default_value = "20s", value_parser = duration_flag)]
    keepalive_timeout: Duration,
    /// After this long a connection is asked to go away (GOAWAY), so idle connections do not pile
    /// up and clients rebalance across replicas.
    #[arg(long, env = "ONTAP_GATEWAY_MAX_CONNECTION_AGE", default_value = "30m", value_parser = duration_flag)]
    max_connection_age: Duration,
    /// How long a call's request body may stall between frames.
    #[arg(long, env = "ONTAP_GATEWAY_REQUEST_BODY_TIMEOUT", default_value = "10s", value_parser = duration_flag)]
    request_body_timeout: Duration,
    /// The largest request message accepted (bytes, 1 KiB to 4 MiB).
    #[arg(long, env = "ONTAP_GATEWAY_MAX_REQUEST_BYTES", default_value_t = 1024 * 1024, value_parser = clap::value_parser!(u32).range(1024..=4 * 1024 * 1024))]
    max_request_bytes: u32,
    /// Polls each watch poller keeps for watchers that fall behind, shared by all its watchers
    /// (1-4096): a metrics watcher further behind skips samples, a connections watcher is ended.
    #[arg(long, env = "ONTAP_GATEWAY_WATCH_BUFFER", default_value_t = DEFAULT_WATCH_BUFFER as u32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    watch_buffer: u32,
    /// PEM certificate chain to serve gRPC over TLS (with --tls-key).
    #[arg(long, env = "ONTAP_GATEWAY_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key to serve gRPC over TLS (with --tls-cert).
    #[arg(long, env = "ONTAP_GATEWAY_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// PEM CA bundle: accept only gRPC clients presenting a certificate it signed (mutual TLS;
    /// with --tls-cert and --tls-key).
    #[arg(long, env = "ONTAP_GATEWAY_CLIENT_CA", requires = "tls_cert")]
    client_ca: Option<PathBuf>,
    /// Serve Prometheus metrics at http://ADDR/metrics (calls, requests to ONTAP, live
    /// watches), e.g. 127.0.0.1:9464. Off unless given.
    #[arg(long, env = "ONTAP_GATEWAY_METRICS_LISTEN", value_parser = listen_flag)]
    metrics_listen: Option<SocketAddr>,
    /// Also answer gRPC-Web (tonic-web), so a browser can call the gateway through a page of the
    /// same origin or a proxy that sets CORS headers.
    #[arg(long, env = "ONTAP_GATEWAY_GRPC_WEB")]
    grpc_web: bool,
    /// A file of SHA-256 hashes (hex, one a line) of the bearer tokens callers may present
    /// (`authorization: Bearer <token>` metadata); other calls are refused UNAUTHENTICATED.
    /// Health and reflection stay open.
    #[arg(long, env = "ONTAP_GATEWAY_AUTH_TOKENS")]
    auth_tokens: Option<PathBuf>,
}

#[derive(Args)]
struct SimulateArgs {
    /// How log lines are written: text, or one JSON object a line.
    #[arg(
        long,
        env = "ONTAP_SIMULATOR_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: LogFormat,
    /// Address the simulator's REST API listens on: IP:PORT, or localhost:PORT.
    #[arg(long, env = "ONTAP_SIMULATOR_LISTEN", default_value = "127.0.0.1:8080", value_parser = listen_flag)]
    listen: SocketAddr,
    /// User name the simulator accepts.
    #[arg(long, env = "ONTAP_SIMULATOR_USERNAME", default_value = "admin")]
    username: String,
    /// Password the simulator accepts.
    #[arg(
        long,
        env = "ONTAP_SIMULATOR_PASSWORD",
        hide_env_values = true,
        default_value = "netapp1!"
    )]
    password: String,
    /// Serve HTTPS with a freshly generated self-signed certificate.
    #[arg(long, env = "ONTAP_SIMULATOR_TLS")]
    tls: bool,
    /// Write the self-signed certificate (PEM) here, for `curl --cacert` or `serve --ca-cert`.
    #[arg(long, env = "ONTAP_SIMULATOR_WRITE_CA_CERT", requires = "tls")]
    write_ca_cert: Option<PathBuf>,
    /// Also serve the admin API (inject faults, read counters, drive the clock, the iSCSI
    /// counters and the CIFS connections; plain HTTP, no authentication) here, e.g.
    /// 127.0.0.1:8081. Off unless given.
    #[arg(long, env = "ONTAP_SIMULATOR_ADMIN_LISTEN", value_parser = listen_flag)]
    admin_listen: Option<SocketAddr>,
    /// Average CIFS connection events (open, close, session change) per simulated minute;
    /// 0 turns the churn off.
    #[arg(
        long,
        env = "ONTAP_SIMULATOR_CIFS_CHURN_PER_MINUTE",
        default_value_t = 6.0
    )]
    cifs_churn_per_minute: f64,
    /// CIFS connections in the cluster (the seed's 36 first; up to 1,000,000).
    #[arg(long, env = "ONTAP_SIMULATOR_CIFS_CONNECTIONS", default_value_t = 36, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    cifs_connections: u32,
    /// When the simulated clock starts: `now`, or an RFC 3339 time such as
    /// 2026-01-01T00:00:00Z (the same dates in every run).
    #[arg(long, env = "ONTAP_SIMULATOR_CLOCK_START", default_value = "now", value_parser = clock_start_flag)]
    clock_start: SystemTime,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// `tracing`'s text: time, level, target, message, then key=value fields.
    Text,
    /// One JSON object a line, for log pipelines (fields under `fields`).
    Json,
}

/// Logs to standard error, filtered by `RUST_LOG` (default `info`).
fn init_logging(format: LogFormat) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => logs.json().init(),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(match &cli.command {
        Command::Serve(args) => args.log_format,
        Command::Simulate(args) => args.log_format,
    });
    let no_cluster = matches!(
        &cli.command,
        Command::Serve(args) if args.ontap_url.is_none() && !args.simulate && args.config.is_none()
    );
    if no_cluster {
        Cli::command()
            .error(
                clap::error::ErrorKind::MissingRequiredArgument,
                "serve needs a cluster, or the embedded simulator:\n  \
                 serve --ontap-url https://CLUSTER-MGMT   (the password in $ONTAP_PASSWORD)\n  \
                 serve --config clusters.toml             (several clusters, picked by x-ontap-cluster)\n  \
                 serve --simulate                         (a seeded demo cluster, no setup)",
            )
            .exit();
    }
    let result = match cli.command {
        Command::Serve(args) => serve(*args).await,
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
    let metrics = Arc::new(Metrics::default());
    let (configs, simulator) = if args.simulate {
        let (config, simulator) = embedded_simulator(&args).await?;
        (vec![config], Some(simulator))
    } else if let Some(path) = &args.config {
        (configs_from_file(path)?, None)
    } else {
        (vec![config_from_flags(&args)?], None)
    };
    let page_tokens = match &args.page_token_key_file {
        Some(path) => PageTokenKey::from_file(path),
        None => PageTokenKey::random(),
    }
    .map_err(|e| e.to_string())?;
    let mut service_accounts = Vec::new();
    let mut upstreams = Vec::with_capacity(configs.len());
    for config in configs {
        if let UpstreamCredentials::ServiceAccount { username, .. } = &config.credentials {
            service_accounts.push(username.clone());
        }
        let name = Arc::clone(&config.name);
        let config = with_gateway_settings(config, &args, &metrics)?;
        let client = OntapClient::new(config).map_err(|e| format!("cluster `{name}`: {e}"))?;
        upstreams.push(Upstream::new(client, page_tokens.clone()));
    }
    let clusters = Clusters::new(upstreams).map_err(|e| e.to_string())?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(
            TlsIdentity::from_pem(
                std::fs::read(cert).map_err(|e| format!("reading {}: {e}", cert.display()))?,
                std::fs::read(key).map_err(|e| format!("reading {}: {e}", key.display()))?,
            )
            .map_err(|e| format!("--tls-cert/--tls-key: {e}"))?,
        ),
        _ => None,
    };
    let client_ca = match &args.client_ca {
        Some(path) => Some(
            ClientCa::from_pem(
                std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?,
            )
            .map_err(|e| format!("--client-ca {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let auth_tokens = match &args.auth_tokens {
        Some(path) => Some(TokenHashes::from_file(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let callers = CallerAuthentication {
        mutual_tls: client_ca.is_some(),
        bearer_tokens: auth_tokens.is_some(),
        tls: tls.is_some(),
    };
    let exposed: Vec<&str> = if args.simulate {
        // The embedded simulator's account opens nothing real.
        Vec::new()
    } else {
        service_accounts.iter().map(String::as_str).collect()
    };
    check_exposure(
        args.listen,
        &exposed,
        clusters.any_passes_through(),
        callers,
    )?;
    let shutdown = shutdown_signal()?;
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("listening on {}: {e}", args.listen))?;
    let metrics_listener = match args.metrics_listen {
        Some(addr) => {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|e| format!("--metrics-listen {addr}: {e}"))?;
            let bound = listener.local_addr().map_err(|e| e.to_string())?;
            tracing::info!(metrics = %format!("http://{bound}/metrics"), "serving Prometheus metrics");
            Some(listener)
        }
        None => None,
    };
    for (name, upstream) in clusters.iter() {
        tracing::info!(
            cluster = %name,
            upstream = %upstream.client.base_url(),
            credentials = if upstream.client.passes_through() { "pass-through" } else { "service-account" },
            "fronting a cluster"
        );
    }
    tracing::info!(
        listen = %listener.local_addr().map_err(|e| e.to_string())?,
        grpc_tls = tls.is_some(),
        "gateway serving ontap.v1 (reflection and grpc.health.v1 enabled)"
    );
    let options = ServeOptions {
        tls,
        client_ca,
        auth_tokens,
        grpc_web: args.grpc_web,
        metrics_listener,
        drain_timeout: args.drain_timeout,
        cluster_probe: Some(args.health_probe_interval),
        max_connections: args.max_connections as usize,
        handshake_timeout: args.handshake_timeout,
        max_concurrent_streams: args.max_concurrent_streams,
        keepalive_interval: args.keepalive_interval,
        keepalive_timeout: args.keepalive_timeout,
        max_connection_age: args.max_connection_age,
        request_body_timeout: args.request_body_timeout,
        max_request_bytes: args.max_request_bytes as usize,
        watches: Arc::new(Watches::with_buffer(args.watch_buffer as usize)),
    };
    server::serve(listener, clusters, options, shutdown)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(simulator) = simulator {
        // The embedded simulator's own requests were the gateway's, now cut;
        // it gets a moment to close, not a say in when the process exits.
        if tokio::time::timeout(Duration::from_secs(1), simulator.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("the embedded simulator did not stop within 1s; exiting anyway");
        }
    }
    tracing::info!("gateway stopped");
    Ok(())
}

/// `config` with what the flags set for every cluster alike, counting into
/// `metrics`.
fn with_gateway_settings(
    config: ClientConfig,
    args: &ServeArgs,
    metrics: &Arc<Metrics>,
) -> Result<ClientConfig, String> {
    Ok(ClientConfig {
        coalesce_reads: !args.no_coalesce,
        max_response_bytes: usize::try_from(args.max_response_bytes)
            .map_err(|_| "--max-response-bytes does not fit this platform".to_owned())?,
        max_buffered_bytes: usize::try_from(args.max_buffered_bytes)
            .map_err(|_| "--max-buffered-bytes does not fit this platform".to_owned())?,
        retry: RetryPolicy {
            max_retries: args.retries,
            base_delay: args.retry_base_delay,
            max_delay: args.retry_max_delay,
        },
        breaker: BreakerConfig {
            failures_to_open: args.breaker_failures,
            open_for: args.breaker_open_for,
        },
        metrics: Arc::clone(metrics),
        ..config
    })
}

/// The one cluster `--ontap-url` and its flags describe.
fn config_from_flags(args: &ServeArgs) -> Result<ClientConfig, String> {
    // main() has refused a serve without a cluster already.
    let url = args.ontap_url.clone().unwrap_or_default();
    if check_upstream_url(&url, args.allow_plaintext_upstream)? {
        tracing::warn!(
            "--allow-plaintext-upstream: ONTAP credentials cross the network in clear text"
        );
    }
    let mut config = match args.credentials {
        Some(CredentialMode::PassThrough) => ClientConfig::pass_through(url),
        Some(CredentialMode::ServiceAccount) | None => {
            let (password, flag) = match &args.password_file {
                Some(path) => (PasswordSource::File(path.clone()), "--password-file"),
                None => (
                    PasswordSource::Env(args.password_env.clone()),
                    "--password-env",
                ),
            };
            let (password, from) = read_password(&password)?;
            ClientConfig {
                password_origin: Some(format!("{from}, which {flag} names")),
                ..ClientConfig::new(url, args.username.clone(), password)
            }
        }
    };
    config.tls = tls_options(args.ca_cert.as_deref(), args.insecure_skip_tls_verify)?;
    config.max_in_flight = usize::from(args.max_in_flight);
    config.queue_timeout = Duration::from_millis(args.queue_timeout_ms);
    config.request_timeout = Duration::from_millis(args.request_timeout_ms);
    Ok(config)
}

/// The clusters a `--config` file names, each with its own settings or the
/// defaults.
fn configs_from_file(path: &std::path::Path) -> Result<Vec<ClientConfig>, String> {
    let specs = config::read(path).map_err(|e| e.to_string())?;
    let shown = path.display();
    specs
        .into_iter()
        .map(|spec| {
            let at = |e: String| format!("{shown}:{}: cluster `{}`: {e}", spec.line, spec.name);
            // The file was refused unless an http:// URL came with allow_plaintext.
            if spec.url.to_ascii_lowercase().starts_with("http://") {
                tracing::warn!(cluster = %spec.name, "allow_plaintext: ONTAP credentials cross the network in clear text");
            }
            let mut config = match &spec.credentials {
                CredentialSpec::PassThrough => ClientConfig::pass_through(spec.url.clone()),
                CredentialSpec::ServiceAccount { username, password } => {
                    let (secret, from) = read_password(password).map_err(at)?;
                    let key = match password {
                        PasswordSource::File(_) => "password_file",
                        PasswordSource::Env(_) => "password_env",
                    };
                    ClientConfig {
                        password_origin: Some(format!(
                            "{from}, which the {key} on {shown}:{} names",
                            spec.line
                        )),
                        ..ClientConfig::new(spec.url.clone(), username.clone(), secret)
                    }
                }
            };
            config.tls =
                tls_options(spec.ca_cert.as_deref(), spec.insecure_skip_tls_verify).map_err(at)?;
            if let Some(max) = spec.max_in_flight {
                config.max_in_flight = usize::from(max);
            }
            if let Some(timeout) = spec.request_timeout {
                config.request_timeout = timeout;
            }
            if let Some(timeout) = spec.queue_timeout {
                config.queue_timeout = timeout;
            }
            config.name = spec.name.as_str().into();
            Ok(config)
        })
        .collect()
}

/// A service account's password from where it is kept, and that place as
/// an operator would look for it; errors name the place, never the content.
fn read_password(source: &PasswordSource) -> Result<(String, String), String> {
    let (password, shown) = match source {
        PasswordSource::File(path) => (
            read_password_file(path)?,
            format!("the file {}", path.display()),
        ),
        PasswordSource::Env(var) => (
            std::env::var(var).map_err(|_| {
                format!(
                    "set the ONTAP password in the environment variable {var}, or give a \
                     password file"
                )
            })?,
            format!("the environment variable {var}"),
        ),
    };
    if password.is_empty() {
        return Err(format!("the ONTAP password in {shown} is empty"));
    }
    Ok((password, shown))
}

/// How a cluster's certificate is checked.
fn tls_options(ca_cert: Option<&std::path::Path>, insecure: bool) -> Result<TlsOptions, String> {
    if insecure {
        tracing::warn!("TLS verification of the cluster's certificate is OFF");
    }
    Ok(TlsOptions {
        ca_cert_pem: match ca_cert {
            Some(path) => {
                Some(std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?)
            }
            None => None,
        },
        insecure_skip_verify: insecure,
    })
}

/// Starts the simulator on the seed cluster for `serve --simulate`, and the client settings that
/// reach it.
#[cfg(feature = "simulator")]
async fn embedded_simulator(args: &ServeArgs) -> Result<(ClientConfig, Simulator), String> {
    let simulator_config = SimulatorConfig {
        cifs_churn: cifs_churn(args.cifs_churn_per_minute)?,
        clock_start: args.clock_start,
        ..SimulatorConfig::default()
    };
    let credentials = simulator_config.credentials.clone();
    let cluster = Cluster::seed_with_cifs_connections(args.cifs_connections);
    let simulator = Simulator::start(simulator_config, cluster)
        .await
        .map_err(|e| format!("starting the simulator: {e}"))?;
    tracing::info!(url = %simulator.base_url(), "embedded ONTAP simulator serving the seed cluster");
    let mut config = match args.credentials {
        Some(CredentialMode::PassThrough) => ClientConfig::pass_through(simulator.base_url()),
        Some(CredentialMode::ServiceAccount) | None => ClientConfig::new(
            simulator.base_url(),
            credentials.username,
            credentials.password.expose_secret(),
        ),
    };
    config.max_in_flight = usize::from(args.max_in_flight);
    config.queue_timeout = Duration::from_millis(args.queue_timeout_ms);
    config.request_timeout = Duration::from_millis(args.request_timeout_ms);
    Ok((config, simulator))
}

#[cfg(feature = "simulator")]
async fn simulate(args: SimulateArgs) -> Result<(), String> {
    let shutdown = shutdown_signal()?;
    let simulator = Simulator::start(
        SimulatorConfig {
            listen: args.listen,
            credentials: Credentials {
                username: args.username,
                password: SecretString::from(args.password),
            },
            tls: args.tls,
            admin_listen: args.admin_listen,
            cifs_churn: cifs_churn(args.cifs_churn_per_minute)?,
            clock_start: args.clock_start,
            // More accounts come through the admin API (`POST /accounts`).
            accounts: Vec::new(),
        },
        Cluster::seed_with_cifs_connections(args.cifs_connections),
    )
    .await
    .map_err(|e| format!("starting the simulator on {}: {e}", args.listen))?;
    if let Some(addr) = simulator.admin_addr() {
        tracing::info!(%addr, "simulator admin API (faults, stats, clock, CIFS) listening");
    }
    if let (Some(path), Some(pem)) = (&args.write_ca_cert, simulator.ca_certificate_pem()) {
        std::fs::write(path, pem).map_err(|e| format!("writing {}: {e}", path.display()))?;
        tracing::info!(path = %path.display(), "wrote the simulator's self-signed certificate");
    }
    tracing::info!(url = %simulator.base_url(), "ONTAP REST simulator serving the seed cluster");
    simulator.run_until(shutdown).await;
    Ok(())
}

/// The simulator's CIFS churn at `per_minute`, with its default seed.
#[cfg(feature = "simulator")]
fn cifs_churn(per_minute: f64) -> Result<CifsChurn, String> {
    CifsChurn::new(per_minute, CifsChurn::DEFAULT_SEED)
        .map_err(|e| format!("--cifs-churn-per-minute: {e}"))
}

/// Why `serve --simulate` and `simulate` cannot run in a build without the simulator; the flags
/// stay in every build so the answer is this message rather than an unknown-argument error.
#[cfg(not(feature = "simulator"))]
const NO_SIMULATOR: &str =
    "this build has no ONTAP simulator: rebuild with the `simulator` feature (on by default)";

/// Stands in for the simulator in a build without it: the gateway never starts.
#[cfg(not(feature = "simulator"))]
async fn embedded_simulator(_: &ServeArgs) -> Result<(ClientConfig, NoSimulator), String> {
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

/// Resolves on SIGTERM or SIGINT. The handlers are installed when this is
/// called, not when first polled: a signal that arrives between the
/// listener opening and the server starting must still drain, not kill.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("installing the SIGTERM handler: {e}"))?;
    #[cfg(unix)]
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| format!("installing the SIGINT handler: {e}"))?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: draining in-flight calls");
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each flag of `subcommand` (help and version aside) and the variable it reads, if any.
    fn flag_variables(subcommand: &str) -> Vec<(String, Option<String>)> {
        let command = Cli::command();
        let found = command.find_subcommand(subcommand).expect("a subcommand");
        found
            .get_arguments()
            .filter(|arg| !matches!(arg.get_id().as_str(), "help" | "version"))
            .map(|arg| {
                let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
                (arg.get_id().to_string(), env)
            })
            .collect()
    }

    #[test]
    fn every_serve_flag_reads_an_ontap_gateway_variable_named_for_it() {
        for (id, env) in flag_variables("serve") {
            let expected = format!("ONTAP_GATEWAY_{}", id.to_uppercase());
            assert_eq!(env.as_deref(), Some(expected.as_str()), "--{id}");
        }
    }

    #[test]
    fn every_simulate_flag_reads_an_ontap_simulator_variable_named_for_it() {
        for (id, env) in flag_variables("simulate") {
            let expected = format!("ONTAP_SIMULATOR_{}", id.to_uppercase());
            assert_eq!(env.as_deref(), Some(expected.as_str()), "--{id}");
        }
    }

    #[test]
    fn an_http_upstream_is_refused_unless_allowed() {
        let why = check_upstream_url("http://cluster", false).unwrap_err();
        assert!(why.contains("clear text") && why.contains("--allow-plaintext-upstream"));
        assert!(check_upstream_url("HTTP://cluster", false).is_err());
        assert_eq!(check_upstream_url("http://cluster", true), Ok(true));
        assert_eq!(check_upstream_url("https://cluster", false), Ok(false));
    }

    #[test]
    fn an_upstream_without_a_scheme_is_told_to_add_https() {
        let why = check_upstream_url("cluster-mgmt", true).unwrap_err();
        assert!(why.contains("https://cluster-mgmt"), "{why}");
    }

    #[test]
    fn a_config_files_password_is_known_by_the_key_and_line_that_name_it() {
        let dir = tempfile::tempdir().unwrap();
        let password = dir.path().join("east-password");
        std::fs::write(&password, "s3cret\n").unwrap();
        let file = dir.path().join("clusters.toml");
        let text = format!(
            "[[cluster]]\nname = \"east\"\nurl = \"https://east.example\"\n\
             credentials = \"service-account\"\nusername = \"gw\"\npassword_file = {:?}\n",
            password.display().to_string()
        );
        std::fs::write(&file, text).unwrap();
        let configs = configs_from_file(&file).unwrap();
        assert_eq!(
            configs[0].password_origin.as_deref(),
            Some(
                format!(
                    "the file {}, which the password_file on {}:1 names",
                    password.display(),
                    file.display()
                )
                .as_str()
            )
        );
    }

    #[test]
    fn a_password_file_loses_one_line_ending_and_nothing_else() {
        let dir = std::env::temp_dir().join(format!("pw-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (text, password) in [
            ("s3cret\n", "s3cret"),
            ("s3cret\r\n", "s3cret"),
            ("s3cret", "s3cret"),
            (" spaced pass \n\n", " spaced pass \n"),
        ] {
            let file = dir.join("password");
            std::fs::write(&file, text).unwrap();
            assert_eq!(
                read_password_file(&file).as_deref(),
                Ok(password),
                "{text:?}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_unreadable_password_file_is_named() {
        let missing = std::path::Path::new("/nonexistent/ontap-password");
        let why = read_password_file(missing).unwrap_err();
        assert!(why.contains("/nonexistent/ontap-password"), "{why}");
    }

    #[test]
    fn listen_takes_ipv4_and_ipv6_addresses_as_given() {
        assert_eq!(
            listen_flag("0.0.0.0:50051"),
            Ok(([0, 0, 0, 0], 50051).into())
        );
        assert_eq!(
            listen_flag("[::1]:8080"),
            Ok(SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 8080)))
        );
    }

    #[test]
    fn listen_takes_localhost_as_127_0_0_1() {
        assert_eq!(listen_flag("localhost:0"), Ok(([127, 0, 0, 1], 0).into()));
    }

    #[test]
    fn listen_refuses_a_port_past_65535_naming_it() {
        let why = listen_flag("localhost:65536").unwrap_err();
        assert!(why.contains("`65536` is not a port"), "{why}");
        let why = listen_flag(":65536").unwrap_err();
        assert!(why.contains("`65536` is not a port"), "{why}");
    }

    #[test]
    fn listen_takes_a_bare_port_as_every_interface() {
        assert_eq!(listen_flag(":50051"), Ok(([0, 0, 0, 0], 50051).into()));
    }

    const NOBODY: CallerAuthentication = CallerAuthentication {
        mutual_tls: false,
        bearer_tokens: false,
        tls: false,
    };

    #[test]
    fn loopback_needs_no_client_authentication() {
        for listen in ["127.0.0.1:50051", "[::1]:50051"] {
            assert_eq!(
                check_exposure(listen.parse().unwrap(), &["admin"], false, NOBODY),
                Ok(())
            );
        }
    }

    #[test]
    fn every_interface_needs_client_authentication_and_says_how() {
        let why =
            check_exposure(([0, 0, 0, 0], 50051).into(), &["admin"], false, NOBODY).unwrap_err();
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
                check_exposure(every_interface, &["admin"], false, callers),
                Ok(()),
                "{callers:?}"
            );
        }
    }

    #[test]
    fn pass_through_on_every_interface_needs_tls_and_no_service_account_auth() {
        let every_interface = ([0, 0, 0, 0], 50051).into();
        let why = check_exposure(every_interface, &[], true, NOBODY).unwrap_err();
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
        let why = check_exposure(([127, 0, 0, 1], 50051).into(), &[], true, tokens).unwrap_err();
        assert!(why.contains("--client-ca"), "{why}");
    }

    #[test]
    fn a_mixed_fleet_names_every_service_account_it_would_expose() {
        let every_interface = ([0, 0, 0, 0], 50051).into();
        let tls = CallerAuthentication {
            tls: true,
            ..NOBODY
        };
        let why = check_exposure(every_interface, &["east-gw", "west-gw"], true, tls).unwrap_err();
        assert!(why.contains("`east-gw`, `west-gw`"), "{why}");
    }

    fn serve_args(flags: &[&str]) -> ServeArgs {
        let cli = Cli::try_parse_from(
            ["ontap-grpc-gateway", "serve", "--simulate"]
                .iter()
                .chain(flags),
        )
        .expect("flags parse");
        match cli.command {
            Command::Serve(args) => *args,
            Command::Simulate(_) => unreachable!("serve was given"),
        }
    }

    fn gateway_settings(flags: &[&str]) -> ClientConfig {
        let metrics = Arc::new(Metrics::default());
        let config = ClientConfig {
            name: "east".into(),
            ..ClientConfig::new("https://cluster", "u", "p")
        };
        let set = with_gateway_settings(config, &serve_args(flags), &metrics).unwrap();
        assert!(
            Arc::ptr_eq(&set.metrics, &metrics),
            "every cluster counts into one registry"
        );
        set
    }

    #[test]
    fn every_cluster_shares_reads_by_default_and_keeps_its_name() {
        let set = gateway_settings(&[]);
        assert!(set.coalesce_reads);
        assert_eq!(&*set.name, "east");
    }

    #[test]
    fn the_gateway_flags_reach_every_clusters_client() {
        let set = gateway_settings(&[
            "--no-coalesce",
            "--max-response-bytes",
            "2048",
            "--max-buffered-bytes",
            "4096",
            "--retries",
            "0",
            "--retry-base-delay",
            "7ms",
            "--retry-max-delay",
            "9ms",
            "--breaker-failures",
            "1",
            "--breaker-open-for",
            "3s",
        ]);
        assert!(!set.coalesce_reads);
        assert_eq!(set.max_response_bytes, 2048);
        assert_eq!(set.max_buffered_bytes, 4096);
        assert_eq!(
            set.retry,
            RetryPolicy {
                max_retries: 0,
                base_delay: Duration::from_millis(7),
                max_delay: Duration::from_millis(9),
            }
        );
        assert_eq!(
            set.breaker,
            BreakerConfig {
                failures_to_open: 1,
                open_for: Duration::from_secs(3),
            }
        );
    }

    #[test]
    fn a_ca_file_is_read_into_the_trust_and_insecure_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "PEM BYTES").unwrap();
        let tls = tls_options(Some(&ca), false).unwrap();
        assert_eq!(tls.ca_cert_pem.as_deref(), Some(&b"PEM BYTES"[..]));
        assert!(!tls.insecure_skip_verify);
        assert!(tls_options(None, true).unwrap().insecure_skip_verify);
    }

    #[test]
    fn an_unreadable_ca_file_is_named() {
        let missing = std::path::Path::new("/nonexistent/ca.pem");
        let why = tls_options(Some(missing), false).unwrap_err();
        assert!(why.contains("/nonexistent/ca.pem"), "{why}");
    }
}
