//! The gRPC server: the API services plus what a good citizen of the gRPC
//! ecosystem serves (reflection v1 and v1alpha, grpc.health.v1), with
//! optional TLS and graceful shutdown.

mod connections;
mod handshakes;
pub(crate) mod metrics_endpoint;
mod opening;
mod probe;
mod tls;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use crate::layers::ConnectionInfo;
use connections::BoundedIncoming;
use handshakes::Handshakes;
pub use tls::{ClientCa, TlsIdentity, TlsSetupError};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tonic_web::GrpcWebLayer;
use tower::layer::util::{Identity, Stack};
use tower::util::{Either, MapResponseLayer};

use tokio::net::TcpListener;
use tonic::body::Body;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::identity::Authenticator;
use crate::layers;
use crate::layers::access_log::AccessLogBody;
use crate::policy::SharedPolicy;
use crate::routes::Routes;
use crate::service;
use crate::translate::Clusters;
use crate::watch::Watches;

/// A failure to start or run the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Reflection could not index the descriptor sets.
    #[error("building the reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The transport failed (the accept loop).
    #[error("gRPC transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The listener's TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
    /// Client certificates can only be asked for in a TLS handshake.
    #[error("a client CA (mutual TLS) needs the server's own certificate and key")]
    ClientCaWithoutTls,
}

/// How the server treats connections and shutdown. Every bound has a safe
/// default; `serve --help` lists the flags that set them.
#[derive(Debug)]
pub struct ServeOptions {
    /// Serve gRPC over TLS with this identity.
    pub tls: Option<TlsIdentity>,
    /// With `tls`: accept only clients presenting a certificate this CA
    /// signed (mutual TLS); others are refused at the handshake, and the
    /// refusal is logged with its reason.
    pub client_ca: Option<ClientCa>,
    /// Names each call's caller, refusing calls without the bearer
    /// credentials it asks for (health and reflection stay open); by
    /// default every call is admitted, named by its client certificate.
    pub authenticator: Authenticator,
    /// The policy each caller's calls are checked against; `None` lets an
    /// authenticated caller make every call.
    pub policy: Option<SharedPolicy>,
    /// After the shutdown signal, how long in-flight calls may finish
    /// before every connection is cut.
    pub drain_timeout: Duration,
    /// Open connections at once; past it a new one is closed at once.
    pub max_connections: usize,
    /// How long a new connection has, from accept, to finish its TLS
    /// handshake and its HTTP opening (the HTTP/2 preface and first
    /// SETTINGS, or an HTTP/1.1 request head); past it, it is closed.
    pub handshake_timeout: Duration,
    /// HTTP/2 streams (calls) at once on one connection.
    pub max_concurrent_streams: u32,
    /// How often an HTTP/2 PING checks an otherwise quiet connection.
    pub keepalive_interval: Duration,
    /// How long a PING may go unanswered before the connection is closed.
    pub keepalive_timeout: Duration,
    /// After this long a connection is asked to go away (GOAWAY), and is
    /// closed one `keepalive_timeout` later: idle connections do not pile up,
    /// and clients rebalance across replicas.
    pub max_connection_age: Duration,
    /// How long a call's request body may stall between frames.
    pub request_body_timeout: Duration,
    /// The largest request message accepted, in bytes.
    pub max_request_bytes: usize,
    /// The watches' shared pollers; whoever keeps a clone can read how many
    /// pollers and watchers are live.
    pub watches: Arc<Watches>,
    /// Also answer gRPC-Web (HTTP/1.1 or HTTP/2, `application/grpc-web*`),
    /// so a browser can call the gateway.
    pub grpc_web: bool,
    /// Serve the metrics (Prometheus text at `/metrics`) on this listener.
    pub metrics_listener: Option<TcpListener>,
    /// How often to ask the cluster whether it answers, which decides
    /// grpc.health.v1's status; `None` asks never, and health is SERVING
    /// while the gateway runs.
    pub cluster_probe: Option<Duration>,
}

impl ServeOptions {
    /// How long in-flight calls may finish after the shutdown signal.
    pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
    /// Open connections at once.
    pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
    /// From accept to the end of a connection's TLS and HTTP opening.
    pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
    /// Calls at once on one connection.
    pub const DEFAULT_MAX_CONCURRENT_STREAMS: u32 = 128;
    /// How often an HTTP/2 PING checks a quiet connection.
    pub const DEFAULT_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(60);
    /// How long a PING may go unanswered.
    pub const DEFAULT_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);
    /// When a connection is asked to go away.
    pub const DEFAULT_MAX_CONNECTION_AGE: Duration = Duration::from_secs(30 * 60);
    /// How long a request body may stall between frames.
    pub const DEFAULT_REQUEST_BODY_TIMEOUT: Duration = Duration::from_secs(10);
    /// The largest request message accepted.
    pub const DEFAULT_MAX_REQUEST_BYTES: usize = 1024 * 1024;
    /// How often the binary asks each cluster whether it answers
    /// (`cluster_probe`), which the library leaves off unless asked.
    pub const DEFAULT_CLUSTER_PROBE_INTERVAL: Duration = Duration::from_secs(10);
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            tls: None,
            client_ca: None,
            authenticator: Authenticator::default(),
            policy: None,
            drain_timeout: Self::DEFAULT_DRAIN_TIMEOUT,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            handshake_timeout: Self::DEFAULT_HANDSHAKE_TIMEOUT,
            max_concurrent_streams: Self::DEFAULT_MAX_CONCURRENT_STREAMS,
            keepalive_interval: Self::DEFAULT_KEEPALIVE_INTERVAL,
            keepalive_timeout: Self::DEFAULT_KEEPALIVE_TIMEOUT,
            max_connection_age: Self::DEFAULT_MAX_CONNECTION_AGE,
            request_body_timeout: Self::DEFAULT_REQUEST_BODY_TIMEOUT,
            max_request_bytes: Self::DEFAULT_MAX_REQUEST_BYTES,
            watches: Arc::default(),
            grpc_web: false,
            metrics_listener: None,
            cluster_probe: None,
        }
    }
}

/// The HTTP/2 receive settings the server advertises. They pace what
/// clients send; what the server sends (a 120 KB page) is paced by the
/// client's own windows, which only the client can raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowWindows {
    /// Bytes one call may send before the server acknowledges them.
    pub stream: u32,
    /// Bytes all calls of one connection may send before acknowledgement.
    pub connection: u32,
    /// The largest frame a client may send.
    pub max_frame: u32,
}

impl FlowWindows {
    /// The fewest calls of the largest request that stream at once on one
    /// connection without waiting for the connection's window.
    const LARGEST_REQUESTS_AT_ONCE: u32 = 4;
    /// Four times HTTP/2's 16 KiB default: a 1 MiB request is 16 frames
    /// instead of 64.
    const MAX_FRAME: u32 = 64 * 1024;

    /// Windows in which a request message of `max_request_bytes`, with its
    /// 5-byte gRPC prefix, arrives without one WINDOW_UPDATE round trip, and
    /// never less than hyper's 1 MiB default.
    pub fn for_requests_of(max_request_bytes: usize) -> Self {
        const GRPC_PREFIX: usize = 5;
        const HYPER_DEFAULT: u32 = 1024 * 1024;
        let stream = u32::try_from(max_request_bytes.saturating_add(GRPC_PREFIX))
            .unwrap_or(u32::MAX)
            .clamp(HYPER_DEFAULT, MAX_WINDOW);
        Self {
            stream,
            connection: stream
                .saturating_mul(Self::LARGEST_REQUESTS_AT_ONCE)
                .min(MAX_WINDOW),
            max_frame: Self::MAX_FRAME,
        }
    }
}

/// HTTP/2's largest flow-control window, 2^31 - 1.
const MAX_WINDOW: u32 = (1 << 31) - 1;

/// Serves the gateway on `listener` until `shutdown` resolves, then stops
/// accepting (the listening socket closes), lets in-flight calls finish for
/// up to the drain timeout, and returns, cutting whatever is left.
///
/// Every cluster's client should count into one [`Metrics`](crate::metrics::Metrics):
/// the first cluster's is the one served.
pub async fn serve(
    listener: TcpListener,
    clusters: impl Into<Clusters>,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let clusters = clusters.into();
    let (health, health_service) = tonic_health::server::health_reporter();
    let probing = start_probes(&clusters, &health, options.cluster_probe).await;
    // The probes end with the server, however they end.
    let _probing = probing.clone().drop_guard();
    let metrics = clusters
        .iter()
        .next()
        .map(|(_, upstream)| Arc::clone(upstream.client.metrics()))
        .expect("a gateway fronts at least one cluster");
    let server = transport(&options);
    let tls = match (options.tls, options.client_ca) {
        (Some(identity), client_ca) => Some(tls::acceptor(identity, client_ca, options.grpc_web)?),
        (None, Some(_)) => return Err(ServeError::ClientCaWithoutTls),
        (None, None) => None,
    };
    let watches = options.watches;
    let scraping = CancellationToken::new();
    if let Some(listener) = options.metrics_listener {
        tokio::spawn(metrics_endpoint::serve(
            listener,
            Arc::clone(&metrics),
            Arc::clone(&watches),
            scraping.clone(),
        ));
    }
    // Scrapes end with the server, however it ends.
    let _scraping = scraping.drop_guard();
    // Access lines name the cluster when there is only one to name.
    let cluster = clusters
        .only()
        .map_or_else(|| Arc::from("-"), |only| Arc::clone(only.client.name()));
    let routes = api_routes(clusters, Arc::clone(&watches))?.with(health_service);
    let calls = layers::call_stack(
        routes,
        &cluster,
        metrics,
        options.authenticator,
        options.policy,
        options.request_body_timeout,
        options.max_request_bytes,
    );
    let cut = CancellationToken::new();
    let listening = listener.local_addr().ok();
    let incoming = Handshakes::new(
        BoundedIncoming::new(incoming(listener), options.max_connections, cut.clone()),
        tls,
        options.handshake_timeout,
        listening,
    );
    let (signalled, draining) = oneshot::channel();
    let serving = server.serve_with_incoming_shutdown(calls, incoming, async {
        shutdown.await;
        // Health says so first, so that a balancer watching it moves
        // callers elsewhere while the calls in flight drain.
        probing.cancel();
        report(&health, false).await;
        // Streams would hold the drain for its whole timeout: they end now,
        // UNAVAILABLE, so their callers reconnect elsewhere.
        watches.close();
        let _ = signalled.send(());
    });
    tokio::select! {
        served = serving => served?,
        () = drain_timeout(draining, options.drain_timeout) => {
            tracing::warn!(
                drain_timeout = ?options.drain_timeout,
                "calls still in flight after the drain timeout; closing their connections"
            );
            cut.cancel();
        }
    }
    Ok(())
}

/// Reports liveness, and readiness as each cluster's probe (every
/// `interval`) finds it, or at once when there is no probe; the probes
/// stop when the returned token is cancelled.
async fn start_probes(
    clusters: &Clusters,
    health: &HealthReporter,
    interval: Option<Duration>,
) -> CancellationToken {
    // Kubernetes restarts a pod whose liveness fails: that must not follow
    // the cluster, which a restart cannot bring back.
    health
        .set_service_status(LIVENESS, ServingStatus::Serving)
        .await;
    let probing = CancellationToken::new();
    let Some(interval) = interval else {
        report(health, true).await;
        return probing;
    };
    let answering = Arc::new(probe::Answering::new(clusters, health.clone()));
    answering.report().await;
    for (_, upstream) in clusters.iter() {
        tokio::spawn(probe::run(
            upstream.client.clone(),
            interval,
            Arc::clone(&answering),
            probing.clone(),
        ));
    }
    probing
}

/// The HTTP/2 (and, for gRPC-Web, HTTP/1.1) server as `options` bound it.
fn transport(options: &ServeOptions) -> Server<Stack<GrpcWebChoice, Identity>> {
    let windows = FlowWindows::for_requests_of(options.max_request_bytes);
    Server::builder()
        .initial_stream_window_size(windows.stream)
        .initial_connection_window_size(windows.connection)
        .max_frame_size(windows.max_frame)
        // Above the metadata bound, so that a call past it is told why.
        .http2_max_header_list_size(layers::MAX_HEADER_LIST_BYTES)
        .max_concurrent_streams(options.max_concurrent_streams)
        .http2_keepalive_interval(Some(options.keepalive_interval))
        .http2_keepalive_timeout(Some(options.keepalive_timeout))
        .max_connection_age(options.max_connection_age)
        .max_connection_age_grace(options.keepalive_timeout)
        .accept_http1(options.grpc_web)
        // Outermost: a gRPC-Web call becomes a gRPC call before anything
        // else sees it.
        .layer(grpc_web_layer(options.grpc_web))
}

/// Reflection and the API services.
fn api_routes(clusters: Clusters, watches: Arc<Watches>) -> Result<Routes, ServeError> {
    let routes = Routes::default()
        .with(reflection().build_v1()?)
        .with(reflection().build_v1alpha()?);
    Ok(service::register(routes, &clusters, &watches))
}

/// Resolves `drain_timeout` after the drain began (when `draining` fires);
/// never, if the server ended before it did.
async fn drain_timeout(draining: oneshot::Receiver<()>, drain_timeout: Duration) {
    match draining.await {
        Ok(()) => tokio::time::sleep(drain_timeout).await,
        Err(_) => std::future::pending().await,
    }
}

/// The stack's responses as the gRPC-Web layer's: both sides of the
/// choice must answer the same type.
type AsBody = fn(http::Response<AccessLogBody<Body>>) -> http::Response<Body>;

/// Translating gRPC-Web, or only re-typing the body.
type GrpcWebChoice = Either<GrpcWebLayer, MapResponseLayer<AsBody>>;

/// Translates gRPC-Web when `enabled`; otherwise only re-types the body.
fn grpc_web_layer(enabled: bool) -> GrpcWebChoice {
    if enabled {
        Either::Left(GrpcWebLayer::new())
    } else {
        let as_body: AsBody = |response| response.map(Body::new);
        Either::Right(MapResponseLayer::new(as_body))
    }
}

/// The health service name that is SERVING for as long as the process
/// runs, whatever the clusters do: for liveness probes.
pub const LIVENESS: &str = "liveness";

/// Sets the overall health (service "") and each API service's to SERVING
/// or NOT_SERVING.
async fn report(health: &HealthReporter, serving: bool) {
    let status = if serving {
        ServingStatus::Serving
    } else {
        ServingStatus::NotServing
    };
    for service in std::iter::once("").chain(service::API_SERVICES.iter().copied()) {
        health.set_service_status(service, status).await;
    }
}

/// Accepted connections with Nagle's algorithm off: a unary reply is one
/// small write, and delaying it for an ACK costs the caller ~40 ms.
fn incoming(listener: TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .with_keepalive(Some(std::time::Duration::from_secs(60)))
}

/// Reflection over our API, the error-detail types our statuses carry (so
/// grpcurl can print them), and health.
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_request_fits_the_stream_window_with_its_grpc_prefix() {
        let windows = FlowWindows::for_requests_of(4 * 1024 * 1024);
        assert_eq!(windows.stream, 4 * 1024 * 1024 + 5);
        assert_eq!(windows.connection, 4 * windows.stream);
    }

    #[test]
    fn small_request_limits_keep_hypers_one_mebibyte_windows() {
        let windows = FlowWindows::for_requests_of(1024);
        assert_eq!(windows.stream, 1024 * 1024);
        assert_eq!(windows.connection, 4 * 1024 * 1024);
    }

    #[test]
    fn windows_stop_at_the_http2_maximum() {
        let windows = FlowWindows::for_requests_of(usize::MAX);
        assert_eq!(windows.stream, 2_147_483_647, "2^31 - 1 (RFC 9113, 6.9.1)");
        assert_eq!(windows.connection, 2_147_483_647);
    }

    #[test]
    fn clients_may_send_frames_of_64_kib() {
        assert_eq!(FlowWindows::for_requests_of(1024).max_frame, 64 * 1024);
    }
}
