//! Embedded ONTAP REST simulator.
//!
//! Serves a small, deterministic slice of the ONTAP REST API with ONTAP's collection semantics
//! (query expressions, `fields`, `order_by`, paging with continuation keys, HAL links, error
//! bodies), so the gateway can be tested end to end and demonstrated without a cluster. Tests
//! reach into it while it runs: mutate the cluster, inject faults, read connection counters,
//! pin or advance the simulated clock that iSCSI performance data is computed from, make the
//! performance collector miss collections or nodes stop answering (or force any sample status),
//! start raw counters above 2^63, and make collections slow enough for `return_timeout` to cut
//! pages short (all through [`SharedCluster`]).
//!
//! It depends on nothing else in the crate; only the binary and tests depend on it.

mod auth;
mod cifs;
mod clock;
mod collection;
mod errors;
mod faults;
mod fields;
mod instance;
mod iscsi;
mod iscsi_body;
mod iscsi_metrics;
mod iscsi_model;
mod media;
mod metric_status;
mod model;
mod order;
mod params;
mod perf;
mod query;
mod router;
mod schema;
mod seed;
mod server;
mod stats;
mod time_format;
mod tls;
mod workload;

#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpListener;

pub use clock::{CLOCK_START_UNIX_SECS, clock_start};
pub use faults::{Fault, FaultKind, Faults};
pub use iscsi_body::{ALIAS_MAX_CHARS, is_valid_alias};
pub use iscsi_model::{IscsiEvent, IscsiEventKind, IscsiService};
pub use metric_status::MetricStatus;
pub use model::{CifsConnection, Cluster, Node, NodeOutage, SharedCluster, Svm, SvmState};
pub use stats::StatsSnapshot;

use server::Server;
use stats::Stats;
use tls::Tls;

/// The user the simulator accepts (ONTAP uses HTTP Basic authentication).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
}

impl Default for Credentials {
    /// The lab-default `admin` / `netapp1!`, which the README examples use.
    fn default() -> Credentials {
        Credentials {
            username: "admin".to_owned(),
            password: "netapp1!".to_owned(),
        }
    }
}

impl std::fmt::Debug for Credentials {
    /// Keeps the password out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// How to run the simulator.
#[derive(Clone, Debug)]
pub struct SimulatorConfig {
    /// Address to bind; port 0 picks a free port (see [`Simulator::local_addr`]).
    pub listen: SocketAddr,
    /// The accepted user.
    pub credentials: Credentials,
    /// Serve HTTPS with a freshly generated self-signed certificate.
    pub tls: bool,
}

impl Default for SimulatorConfig {
    /// Loopback, any free port, default credentials, plain HTTP.
    fn default() -> SimulatorConfig {
        SimulatorConfig {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            credentials: Credentials::default(),
            tls: false,
        }
    }
}

/// A running simulator. Dropping it stops the server in the background; [`Simulator::shutdown`]
/// also waits for in-flight requests to finish.
#[derive(Debug)]
pub struct Simulator {
    local_addr: SocketAddr,
    tls: Option<Tls>,
    cluster: SharedCluster,
    faults: Faults,
    stats: Arc<Stats>,
    server: Server,
}

impl Simulator {
    /// Binds, starts serving `cluster`, and returns once the socket is listening, so a client can
    /// connect immediately.
    pub async fn start(config: SimulatorConfig, cluster: Cluster) -> std::io::Result<Simulator> {
        let tls = if config.tls {
            Some(Tls::self_signed()?)
        } else {
            None
        };
        let listener = TcpListener::bind(config.listen).await?;
        let local_addr = listener.local_addr()?;
        let cluster = SharedCluster::new(cluster);
        let faults = Faults::default();
        let stats = Arc::new(Stats::default());
        let app = router::router(
            cluster.clone(),
            config.credentials,
            faults.clone(),
            Arc::clone(&stats),
        );
        let acceptor = tls.as_ref().map(|t| t.acceptor.clone());
        let server = Server::spawn(listener, app, acceptor, Arc::clone(&stats));
        tracing::info!(%local_addr, tls = config.tls, "ONTAP simulator listening");
        Ok(Simulator {
            local_addr,
            tls,
            cluster,
            faults,
            stats,
            server,
        })
    }

    /// The bound address (with the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://host:port` or `https://host:port`, no trailing slash. An unspecified bind address
    /// (`0.0.0.0`, `::`) is given as the matching loopback address, which clients can reach and
    /// the certificate names.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let ip = match self.local_addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("{scheme}://{}", SocketAddr::new(ip, self.local_addr.port()))
    }

    /// The self-signed certificate (PEM) when serving TLS, for a client to trust; its subject
    /// alternative names are 127.0.0.1, ::1 and localhost.
    pub fn ca_certificate_pem(&self) -> Option<String> {
        self.tls.as_ref().map(|t| t.certificate_pem.clone())
    }

    /// A handle on the served cluster; changes show up in the next response.
    pub fn cluster(&self) -> SharedCluster {
        self.cluster.clone()
    }

    /// A handle on the fault list.
    pub fn faults(&self) -> Faults {
        self.faults.clone()
    }

    /// The connection and request counters now.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// Stops accepting connections, lets in-flight requests finish, and returns when done.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }

    /// Serves until `signal` completes, then shuts down gracefully (for the standalone
    /// `simulate` subcommand, with e.g. Ctrl-C as the signal).
    pub async fn run_until(self, signal: impl Future<Output = ()>) {
        signal.await;
        self.shutdown().await;
    }
}
