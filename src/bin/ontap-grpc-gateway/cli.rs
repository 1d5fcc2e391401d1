//! The command line: every flag, the variable it may come from instead, and
//! its default, which is the constant beside whatever the flag configures,
//! so that `--help` and the library cannot disagree.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand};
use ontap_grpc_gateway::config::MAX_TIMEOUT;
use ontap_grpc_gateway::identity::jwt::DEFAULT_IDENTITY_CLAIM;
use ontap_grpc_gateway::ontap::{BreakerConfig, ClientConfig, RetryPolicy};
use ontap_grpc_gateway::server::ServeOptions;
use ontap_grpc_gateway::watch::DEFAULT_WATCH_BUFFER;

use crate::flag_values::{clock_start, duration, listen_address, timeout};
use crate::logging::LogFormat;

/// The simulator's CIFS churn by default: enough that a demo's connections
/// visibly change within a minute or two.
const DEMO_CIFS_CHURN_PER_MINUTE: f64 = 6.0;
/// The seed cluster's own CIFS connections: 36 on `vs1`, then 4 on `svm3`.
const SEED_CIFS_CONNECTIONS: u32 = 40;
/// The most CIFS connections a simulated cluster is given.
const MAX_CIFS_CONNECTIONS: u32 = 1_000_000;
/// The most iSCSI sessions a simulated cluster is sized to.
const MAX_ISCSI_SESSIONS: u32 = 1_000_000;
/// The longest timeout, in the milliseconds of the old `-ms` flags.
const MAX_TIMEOUT_MS: u64 = MAX_TIMEOUT.as_millis() as u64;

#[derive(Parser)]
#[command(version, about = "A typed gRPC gateway onto the NetApp ONTAP REST API")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the gRPC gateway.
    Serve(Box<ServeArgs>),
    /// Run the ONTAP REST simulator alone (for curl, or a third-party ONTAP client).
    Simulate(SimulateArgs),
}

#[derive(Args)]
pub struct ServeArgs {
    /// How log lines are written: text, or one JSON object a line.
    #[arg(
        long,
        env = "ONTAP_GATEWAY_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
    /// Address the gRPC server listens on: IP:PORT, localhost:PORT for 127.0.0.1, or :PORT for
    /// every interface (which needs --auth-tokens or --client-ca against a real cluster).
    #[arg(long, env = "ONTAP_GATEWAY_LISTEN", default_value = "127.0.0.1:50051", value_parser = listen_address)]
    pub listen: SocketAddr,
    /// Serve from an embedded ONTAP simulator (seeded demo cluster) instead of a real cluster.
    #[arg(long, env = "ONTAP_GATEWAY_SIMULATE", conflicts_with_all = ["ontap_url", "ca_cert", "insecure_skip_tls_verify"])]
    pub simulate: bool,
    /// A TOML file naming several clusters (name, url, ca_cert, credentials, timeouts; see
    /// docs/production.md); calls pick one with `x-ontap-cluster` metadata. Takes the
    /// place of --ontap-url and its credential and TLS flags.
    #[arg(long, env = "ONTAP_GATEWAY_CONFIG", conflicts_with_all = ["simulate", "ontap_url", "password_file", "ca_cert", "insecure_skip_tls_verify", "allow_plaintext_upstream", "credentials"])]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub cluster: ClusterFlags,
    #[command(flatten)]
    pub simulator: EmbeddedSimulatorFlags,
    #[command(flatten)]
    pub upstream: UpstreamFlags,
    /// File holding the key (at least 32 bytes) that signs page tokens; replicas behind one
    /// load balancer share it. Unset: a random key per process, so a token then works only on
    /// the replica that issued it.
    #[arg(long, env = "ONTAP_GATEWAY_PAGE_TOKEN_KEY_FILE")]
    pub page_token_key_file: Option<PathBuf>,
    #[command(flatten)]
    pub server: ServerFlags,
}

/// Where `serve` finds the clusters it fronts.
pub enum ClusterSource<'a> {
    /// `--simulate`.
    EmbeddedSimulator,
    /// `--config FILE`.
    File(&'a Path),
    /// `--ontap-url` and the flags that go with it.
    Flags(&'a str),
}

impl ServeArgs {
    /// Where the clusters are described; `None` when the flags name none.
    pub fn cluster_source(&self) -> Option<ClusterSource<'_>> {
        if self.simulate {
            Some(ClusterSource::EmbeddedSimulator)
        } else if let Some(path) = &self.config {
            Some(ClusterSource::File(path))
        } else {
            self.cluster.ontap_url.as_deref().map(ClusterSource::Flags)
        }
    }
}

/// The one cluster `--ontap-url` names, and how the gateway reaches it.
#[derive(Args)]
pub struct ClusterFlags {
    /// The cluster management URL, e.g. https://cluster-mgmt (or --simulate, or --config).
    #[arg(long, env = "ONTAP_GATEWAY_ONTAP_URL")]
    pub ontap_url: Option<String>,
    /// Whose credentials reach ONTAP: the gateway's own account (service-account: --username
    /// and a password), or each caller's `authorization: Basic` metadata (pass-through: ONTAP's
    /// RBAC decides per caller, and the gateway holds no secret).
    #[arg(long, env = "ONTAP_GATEWAY_CREDENTIALS", value_enum)]
    pub credentials: Option<CredentialMode>,
    /// ONTAP user name.
    #[arg(long, env = "ONTAP_GATEWAY_USERNAME", default_value = "admin")]
    pub username: String,
    /// A file holding the ONTAP password (one line; a trailing newline is dropped), e.g. a
    /// mounted secret. Takes the place of --password-env.
    #[arg(long, env = "ONTAP_GATEWAY_PASSWORD_FILE", conflicts_with = "simulate")]
    pub password_file: Option<PathBuf>,
    /// Name of the environment variable that holds the ONTAP password.
    #[arg(
        long,
        env = "ONTAP_GATEWAY_PASSWORD_ENV",
        default_value = "ONTAP_PASSWORD"
    )]
    pub password_env: String,
    /// PEM CA bundle to trust for the cluster's certificate (instead of the system store).
    #[arg(long, env = "ONTAP_GATEWAY_CA_CERT")]
    pub ca_cert: Option<PathBuf>,
    /// Allow an http:// --ontap-url, which sends the ONTAP password in clear text (a warning is
    /// logged). For a lab simulator on a trusted network only.
    #[arg(
        long,
        env = "ONTAP_GATEWAY_ALLOW_PLAINTEXT_UPSTREAM",
        conflicts_with = "simulate"
    )]
    pub allow_plaintext_upstream: bool,
    /// Accept any cluster certificate. For lab clusters only.
    #[arg(long, env = "ONTAP_GATEWAY_INSECURE_SKIP_TLS_VERIFY")]
    pub insecure_skip_tls_verify: bool,
    /// Bound on concurrent upstream requests, and so on open connections to the cluster (1-1024).
    #[arg(long, env = "ONTAP_GATEWAY_MAX_IN_FLIGHT", default_value_t = ClientConfig::DEFAULT_MAX_IN_FLIGHT, value_parser = clap::value_parser!(u16).range(1..=1024).map(usize::from))]
    pub max_in_flight: usize,
    /// How long a call without a shorter deadline waits for a free upstream slot (up to 1h).
    #[arg(long, env = "ONTAP_GATEWAY_QUEUE_TIMEOUT", default_value = "10s", value_parser = timeout)]
    queue_timeout: Duration,
    /// --queue-timeout in milliseconds, its spelling before durations took units: kept so that
    /// no deployment breaks, hidden so that none starts using it.
    #[arg(long, env = "ONTAP_GATEWAY_QUEUE_TIMEOUT_MS", hide = true, conflicts_with = "queue_timeout", value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_MS).map(Duration::from_millis))]
    queue_timeout_ms: Option<Duration>,
    /// Bound on one upstream request when the caller sets no shorter deadline (up to 1h).
    #[arg(long, env = "ONTAP_GATEWAY_REQUEST_TIMEOUT", default_value = "130s", value_parser = timeout)]
    request_timeout: Duration,
    /// --request-timeout in milliseconds, its spelling before durations took units: kept so
    /// that no deployment breaks, hidden so that none starts using it.
    #[arg(long, env = "ONTAP_GATEWAY_REQUEST_TIMEOUT_MS", hide = true, conflicts_with = "request_timeout", value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_MS).map(Duration::from_millis))]
    request_timeout_ms: Option<Duration>,
}

impl ClusterFlags {
    /// `--queue-timeout`, in whichever spelling it was given.
    pub fn queue_timeout(&self) -> Duration {
        self.queue_timeout_ms.unwrap_or(self.queue_timeout)
    }

    /// `--request-timeout`, in whichever spelling it was given.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout_ms.unwrap_or(self.request_timeout)
    }
}

/// `--credentials`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CredentialMode {
    /// The gateway's own ONTAP account, for every caller.
    ServiceAccount,
    /// Each caller's own Basic credentials, forwarded.
    PassThrough,
}

/// The seeded demo cluster `--simulate` serves.
#[derive(Args)]
pub struct EmbeddedSimulatorFlags {
    /// With --simulate: average CIFS connection events (open, close, session change) per
    /// minute in the embedded simulator; 0 turns the churn off.
    #[arg(
        long,
        env = "ONTAP_GATEWAY_CIFS_CHURN_PER_MINUTE",
        default_value_t = DEMO_CIFS_CHURN_PER_MINUTE,
        requires = "simulate"
    )]
    pub cifs_churn_per_minute: f64,
    /// With --simulate: CIFS connections in the embedded simulator's cluster (the seed's 40
    /// first; up to 1,000,000).
    #[arg(long, env = "ONTAP_GATEWAY_CIFS_CONNECTIONS", default_value_t = SEED_CIFS_CONNECTIONS, requires = "simulate", value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_CIFS_CONNECTIONS)))]
    pub cifs_connections: u32,
    /// With --simulate: iSCSI sessions in the embedded simulator's cluster, spread over the SVMs
    /// whose iSCSI service is enabled (unset: the seed's; up to 1,000,000).
    #[arg(long, env = "ONTAP_GATEWAY_ISCSI_SESSIONS", requires = "simulate", value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_ISCSI_SESSIONS)))]
    pub iscsi_sessions: Option<u32>,
    /// With --simulate: when the simulated clock starts, `now` or an RFC 3339 time such as
    /// 2026-01-01T00:00:00Z (the same dates in every run).
    #[arg(long, env = "ONTAP_GATEWAY_CLOCK_START", default_value = "now", requires = "simulate", value_parser = clock_start)]
    pub clock_start: SystemTime,
}

/// How every cluster's client reads, retries, and backs off.
#[derive(Args)]
pub struct UpstreamFlags {
    /// Send every read upstream, even while an identical one is in flight (by default they
    /// share it). For measuring.
    #[arg(long, env = "ONTAP_GATEWAY_NO_COALESCE")]
    pub no_coalesce: bool,
    /// Retries of a read that ONTAP answered 429 or 503 (after its `Retry-After`) or that could
    /// not connect (0-5; 0: none). Writes are never retried.
    #[arg(long, env = "ONTAP_GATEWAY_RETRIES", default_value_t = RetryPolicy::DEFAULT_MAX_RETRIES, value_parser = clap::value_parser!(u32).range(0..=5))]
    pub retries: u32,
    /// The most the first retry waits (a random wait from half of it to all of it, doubled for each retry
    /// after).
    #[arg(long, env = "ONTAP_GATEWAY_RETRY_BASE_DELAY", default_value = "100ms", value_parser = duration)]
    pub retry_base_delay: Duration,
    /// The most any retry waits, unless ONTAP's `Retry-After` asks for longer.
    #[arg(long, env = "ONTAP_GATEWAY_RETRY_MAX_DELAY", default_value = "2s", value_parser = duration)]
    pub retry_max_delay: Duration,
    /// Failures of the cluster in a row after which calls fail at once (UNAVAILABLE
    /// UPSTREAM_CIRCUIT_OPEN) until a probe succeeds (0-1000; 0: never).
    #[arg(long, env = "ONTAP_GATEWAY_BREAKER_FAILURES", default_value_t = BreakerConfig::DEFAULT_FAILURES_TO_OPEN, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub breaker_failures: u32,
    /// How long the circuit stays open before one call probes the cluster.
    #[arg(long, env = "ONTAP_GATEWAY_BREAKER_OPEN_FOR", default_value = "10s", value_parser = duration)]
    pub breaker_open_for: Duration,
    /// Largest upstream response accepted (bytes, 1 KiB to 1 GiB).
    #[arg(long, env = "ONTAP_GATEWAY_MAX_RESPONSE_BYTES", default_value_t = ClientConfig::DEFAULT_MAX_RESPONSE_BYTES, value_parser = clap::value_parser!(u64).range(1024..=1 << 30).try_map(usize::try_from))]
    pub max_response_bytes: usize,
    /// Bytes all upstream responses being read at once may hold (at least --max-response-bytes,
    /// up to 4 GiB).
    #[arg(long, env = "ONTAP_GATEWAY_MAX_BUFFERED_BYTES", default_value_t = ClientConfig::DEFAULT_MAX_BUFFERED_BYTES, value_parser = clap::value_parser!(u64).range(1024..=4 << 30).try_map(usize::try_from))]
    pub max_buffered_bytes: usize,
}

/// How the gateway's own server treats connections, callers and shutdown.
#[derive(Args)]
pub struct ServerFlags {
    /// After SIGTERM/SIGINT, how long in-flight calls may finish before every connection is cut
    /// (`30s`, `500ms`, `2m`).
    #[arg(long, env = "ONTAP_GATEWAY_DRAIN_TIMEOUT", default_value = "30s", value_parser = duration)]
    pub drain_timeout: Duration,
    /// How often the gateway asks the cluster whether it answers (`GET /api/cluster`), for
    /// grpc.health.v1: NOT_SERVING while it does not; after a failure it asks sooner, backing
    /// off from 1s to this.
    #[arg(long, env = "ONTAP_GATEWAY_HEALTH_PROBE_INTERVAL", default_value = "10s", value_parser = duration)]
    pub health_probe_interval: Duration,
    /// Open gRPC connections at once; past it a new connection is closed at once (1-100000).
    #[arg(long, env = "ONTAP_GATEWAY_MAX_CONNECTIONS", default_value_t = ServeOptions::DEFAULT_MAX_CONNECTIONS, value_parser = clap::value_parser!(u32).range(1..=100_000).try_map(usize::try_from))]
    pub max_connections: usize,
    /// How long a new connection has, from accept, to finish its TLS handshake and its HTTP
    /// opening (the HTTP/2 preface and first SETTINGS, or an HTTP/1.1 request head).
    #[arg(long, env = "ONTAP_GATEWAY_HANDSHAKE_TIMEOUT", default_value = "10s", value_parser = duration)]
    pub handshake_timeout: Duration,
    /// Calls (HTTP/2 streams) at once on one connection (1-10000).
    #[arg(long, env = "ONTAP_GATEWAY_MAX_CONCURRENT_STREAMS", default_value_t = ServeOptions::DEFAULT_MAX_CONCURRENT_STREAMS, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_concurrent_streams: u32,
    /// How often an HTTP/2 PING checks a connection.
    #[arg(long, env = "ONTAP_GATEWAY_KEEPALIVE_INTERVAL", default_value = "60s", value_parser = duration)]
    pub keepalive_interval: Duration,
    /// How long a PING may go unanswered before the connection is closed.
    #[arg(long, env = "ONTAP_GATEWAY_KEEPALIVE_TIMEOUT", default_value = "20s", value_parser = duration)]
    pub keepalive_timeout: Duration,
    /// After this long a connection is asked to go away (GOAWAY), so idle connections do not pile
    /// up and clients rebalance across replicas.
    #[arg(long, env = "ONTAP_GATEWAY_MAX_CONNECTION_AGE", default_value = "30m", value_parser = duration)]
    pub max_connection_age: Duration,
    /// How long a call's request body may stall between frames.
    #[arg(long, env = "ONTAP_GATEWAY_REQUEST_BODY_TIMEOUT", default_value = "10s", value_parser = duration)]
    pub request_body_timeout: Duration,
    /// The largest request message accepted (bytes, 1 KiB to 4 MiB).
    #[arg(long, env = "ONTAP_GATEWAY_MAX_REQUEST_BYTES", default_value_t = ServeOptions::DEFAULT_MAX_REQUEST_BYTES, value_parser = clap::value_parser!(u32).range(1024..=4 * 1024 * 1024).try_map(usize::try_from))]
    pub max_request_bytes: usize,
    /// Polls each watch poller keeps for watchers that fall behind, shared by all its watchers
    /// (1-4096): a metrics watcher further behind skips samples, a connections watcher is ended.
    #[arg(long, env = "ONTAP_GATEWAY_WATCH_BUFFER", default_value_t = DEFAULT_WATCH_BUFFER, value_parser = clap::value_parser!(u32).range(1..=4096).try_map(usize::try_from))]
    pub watch_buffer: usize,
    /// PEM certificate chain to serve gRPC over TLS (with --tls-key).
    #[arg(long, env = "ONTAP_GATEWAY_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key to serve gRPC over TLS (with --tls-cert).
    #[arg(long, env = "ONTAP_GATEWAY_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA bundle: accept only gRPC clients presenting a certificate it signed (mutual TLS;
    /// with --tls-cert and --tls-key).
    #[arg(long, env = "ONTAP_GATEWAY_CLIENT_CA", requires = "tls_cert")]
    pub client_ca: Option<PathBuf>,
    /// Serve Prometheus metrics at http://ADDR/metrics (calls, requests to ONTAP, live
    /// watches), e.g. 127.0.0.1:9464. Off unless given.
    #[arg(long, env = "ONTAP_GATEWAY_METRICS_LISTEN", value_parser = listen_address)]
    pub metrics_listen: Option<SocketAddr>,
    /// Also answer gRPC-Web (tonic-web), so a browser can call the gateway through a page of the
    /// same origin or a proxy that sets CORS headers.
    #[arg(long, env = "ONTAP_GATEWAY_GRPC_WEB")]
    pub grpc_web: bool,
    /// A file of SHA-256 hashes (hex, one a line, each after its token's name: `NAME HASH`) of
    /// the bearer tokens callers may present (`authorization: Bearer <token>` metadata); other
    /// calls are refused UNAUTHENTICATED. Health and reflection stay open.
    #[arg(long, env = "ONTAP_GATEWAY_AUTH_TOKENS")]
    pub auth_tokens: Option<PathBuf>,
    /// Which caller may call what, on which clusters and SVMs (TOML rules; see
    /// docs/production.md). Once given, a caller no rule names is refused everything but health
    /// and reflection. Read again on SIGHUP or when it changes; a file that does not parse
    /// leaves the policy before it in force.
    #[arg(long, env = "ONTAP_GATEWAY_POLICY")]
    pub policy: Option<PathBuf>,
    /// A JWK set (JSON, RS256 and ES256 keys) that verifies callers' JWTs (`authorization: Bearer
    /// <JWT>`), re-read when it changes; needs --jwt-issuer and --jwt-audience.
    #[arg(long, env = "ONTAP_GATEWAY_JWKS", requires_all = ["jwt_issuer", "jwt_audience"])]
    pub jwks: Option<PathBuf>,
    /// The `iss` every JWT must carry.
    #[arg(long, env = "ONTAP_GATEWAY_JWT_ISSUER", requires = "jwks")]
    pub jwt_issuer: Option<String>,
    /// The audience every JWT's `aud` must name.
    #[arg(long, env = "ONTAP_GATEWAY_JWT_AUDIENCE", requires = "jwks")]
    pub jwt_audience: Option<String>,
    /// The JWT claim that names the caller (`jwt:<value>`).
    #[arg(long, env = "ONTAP_GATEWAY_JWT_IDENTITY_CLAIM", default_value = DEFAULT_IDENTITY_CLAIM)]
    pub jwt_identity_claim: String,
}

#[derive(Args)]
pub struct SimulateArgs {
    /// How log lines are written: text, or one JSON object a line.
    #[arg(
        long,
        env = "ONTAP_SIMULATOR_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
    /// Address the simulator's REST API listens on: IP:PORT, or localhost:PORT.
    #[arg(long, env = "ONTAP_SIMULATOR_LISTEN", default_value = "127.0.0.1:8080", value_parser = listen_address)]
    pub listen: SocketAddr,
    /// User name the simulator accepts.
    #[arg(long, env = "ONTAP_SIMULATOR_USERNAME", default_value = "admin")]
    pub username: String,
    /// Password the simulator accepts.
    #[arg(
        long,
        env = "ONTAP_SIMULATOR_PASSWORD",
        hide_env_values = true,
        default_value = "netapp1!"
    )]
    pub password: String,
    /// Serve HTTPS with a freshly generated self-signed certificate.
    #[arg(long, env = "ONTAP_SIMULATOR_TLS")]
    pub tls: bool,
    /// Write the self-signed certificate (PEM) here, for `curl --cacert` or `serve --ca-cert`.
    #[arg(long, env = "ONTAP_SIMULATOR_WRITE_CA_CERT", requires = "tls")]
    pub write_ca_cert: Option<PathBuf>,
    /// Also serve the admin API (inject faults, read counters, drive the clock, the iSCSI
    /// counters and the CIFS connections; plain HTTP, no authentication) here, e.g.
    /// 127.0.0.1:8081. Off unless given.
    #[arg(long, env = "ONTAP_SIMULATOR_ADMIN_LISTEN", value_parser = listen_address)]
    pub admin_listen: Option<SocketAddr>,
    /// Average CIFS connection events (open, close, session change) per simulated minute;
    /// 0 turns the churn off.
    #[arg(
        long,
        env = "ONTAP_SIMULATOR_CIFS_CHURN_PER_MINUTE",
        default_value_t = DEMO_CIFS_CHURN_PER_MINUTE
    )]
    pub cifs_churn_per_minute: f64,
    /// CIFS connections in the cluster (the seed's 40 first; up to 1,000,000).
    #[arg(long, env = "ONTAP_SIMULATOR_CIFS_CONNECTIONS", default_value_t = SEED_CIFS_CONNECTIONS, value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_CIFS_CONNECTIONS)))]
    pub cifs_connections: u32,
    /// iSCSI sessions in the cluster, spread over the SVMs whose iSCSI service is enabled
    /// (unset: the seed's; up to 1,000,000).
    #[arg(long, env = "ONTAP_SIMULATOR_ISCSI_SESSIONS", value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_ISCSI_SESSIONS)))]
    pub iscsi_sessions: Option<u32>,
    /// When the simulated clock starts: `now`, or an RFC 3339 time such as
    /// 2026-01-01T00:00:00Z (the same dates in every run).
    #[arg(long, env = "ONTAP_SIMULATOR_CLOCK_START", default_value = "now", value_parser = clock_start)]
    pub clock_start: SystemTime,
}

#[cfg(test)]
pub mod tests {
    use clap::CommandFactory;

    use super::*;

    /// `serve --simulate` with `flags` after it, as clap reads them.
    pub fn serve_args(flags: &[&str]) -> ServeArgs {
        let simulate = ["--simulate"].iter().chain(flags).copied();
        try_serve(&simulate.collect::<Vec<_>>()).expect("flags parse")
    }

    /// `serve` with `flags`, as clap reads them.
    pub fn try_serve(flags: &[&str]) -> Result<ServeArgs, clap::Error> {
        let cli = Cli::try_parse_from(["ontap-grpc-gateway", "serve"].iter().chain(flags))?;
        match cli.command {
            Command::Serve(args) => Ok(*args),
            Command::Simulate(_) => unreachable!("serve was given"),
        }
    }

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
    fn every_default_is_the_constant_beside_what_it_configures() {
        let args = serve_args(&[]);
        let client = ClientConfig::pass_through("https://cluster");
        assert_eq!(args.cluster.max_in_flight, client.max_in_flight);
        assert_eq!(args.cluster.queue_timeout(), client.queue_timeout);
        assert_eq!(args.cluster.request_timeout(), client.request_timeout);
        let upstream = &args.upstream;
        assert_eq!(upstream.max_response_bytes, client.max_response_bytes);
        assert_eq!(upstream.max_buffered_bytes, client.max_buffered_bytes);
        let retry = RetryPolicy::default();
        assert_eq!(upstream.retries, retry.max_retries);
        assert_eq!(upstream.retry_base_delay, retry.base_delay);
        assert_eq!(upstream.retry_max_delay, retry.max_delay);
        let breaker = BreakerConfig::default();
        assert_eq!(upstream.breaker_failures, breaker.failures_to_open);
        assert_eq!(upstream.breaker_open_for, breaker.open_for);
        let server = &args.server;
        let options = ServeOptions::default();
        assert_eq!(server.drain_timeout, options.drain_timeout);
        assert_eq!(
            server.health_probe_interval,
            ServeOptions::DEFAULT_CLUSTER_PROBE_INTERVAL
        );
        assert_eq!(server.max_connections, options.max_connections);
        assert_eq!(server.handshake_timeout, options.handshake_timeout);
        assert_eq!(
            server.max_concurrent_streams,
            options.max_concurrent_streams
        );
        assert_eq!(server.keepalive_interval, options.keepalive_interval);
        assert_eq!(server.keepalive_timeout, options.keepalive_timeout);
        assert_eq!(server.max_connection_age, options.max_connection_age);
        assert_eq!(server.request_body_timeout, options.request_body_timeout);
        assert_eq!(server.max_request_bytes, options.max_request_bytes);
        assert_eq!(server.watch_buffer, DEFAULT_WATCH_BUFFER);
    }

    #[test]
    fn timeouts_take_durations() {
        let args = serve_args(&["--queue-timeout", "1500ms", "--request-timeout", "2m"]);
        assert_eq!(args.cluster.queue_timeout(), Duration::from_millis(1500));
        assert_eq!(args.cluster.request_timeout(), Duration::from_secs(120));
    }

    #[test]
    fn timeouts_still_take_milliseconds_in_their_old_spelling() {
        let args = serve_args(&["--queue-timeout-ms", "1500", "--request-timeout-ms", "2000"]);
        assert_eq!(args.cluster.queue_timeout(), Duration::from_millis(1500));
        assert_eq!(args.cluster.request_timeout(), Duration::from_secs(2));
    }

    #[test]
    fn a_timeout_in_both_spellings_at_once_is_refused_naming_both() {
        for (new, old) in [
            (["--queue-timeout", "1s"], ["--queue-timeout-ms", "1000"]),
            (
                ["--request-timeout", "1s"],
                ["--request-timeout-ms", "1000"],
            ),
        ] {
            let why = try_serve(&["--simulate", new[0], new[1], old[0], old[1]])
                .err()
                .expect("refused")
                .to_string();
            assert!(why.contains(new[0]) && why.contains(old[0]), "{why}");
        }
    }

    #[test]
    fn a_timeout_past_an_hour_is_refused_in_either_spelling() {
        for flags in [
            ["--queue-timeout", "61m"],
            ["--request-timeout-ms", "3600001"],
        ] {
            let why = try_serve(&flags).err().expect("refused").to_string();
            assert!(why.contains(flags[0]), "{why}");
        }
    }

    #[test]
    fn the_millisecond_spellings_are_not_in_help() {
        let mut command = Cli::command();
        let help = command
            .find_subcommand_mut("serve")
            .expect("serve")
            .render_long_help()
            .to_string();
        assert!(help.contains("--queue-timeout <"), "{help}");
        assert!(help.contains("ONTAP_GATEWAY_REQUEST_TIMEOUT="), "{help}");
        assert!(!help.contains("timeout-ms"), "{help}");
        assert!(!help.contains("TIMEOUT_MS"), "{help}");
    }
}
