//! Embedded ONTAP REST simulator.
//!
//! Serves a small, deterministic slice of the ONTAP REST API with ONTAP's collection semantics
//! (query expressions, `fields`, `order_by`, paging with continuation keys, HAL links, error
//! bodies), so the gateway can be tested end to end and demonstrated without a cluster. Every date
//! it serves follows a simulated clock, which starts at a fixed instant so every run serves the
//! same ones, or wherever [`SimulatorConfig::clock_start`] says. Tests reach into it while it runs:
//! mutate the cluster, inject faults, read connection counters, pin or advance the simulated clock
//! that iSCSI performance data is computed from, make the performance collector miss collections or
//! nodes stop answering (or force any sample status), start raw counters above 2^63, and make
//! collections slow enough for `return_timeout` to cut pages short (all through [`SharedCluster`]).
//! CIFS connections and their sessions can open and close by themselves over simulated time,
//! deterministically ([`CifsChurn`]), for clients that watch them. A connection's `session_ids`
//! are the CIFS sessions (`/api/protocols/cifs/sessions`, closed by DELETE), so the two
//! collections always agree; iSCSI sessions (`/api/protocols/san/iscsi/sessions`) exist only
//! while their SVM's iSCSI service is enabled. [`SimulatorConfig`] can grow the cluster to
//! thousands of CIFS connections and iSCSI sessions. Besides the admin user it accepts [`Account`]s
//! whose [`Role`] may forbid writes (403, as ONTAP's RBAC answers), and it counts authenticated
//! requests by SVM and user ([`Simulator::requests_by_svm`]), so clients sharing a cluster, each
//! with its own account, can be told apart. Tests in other languages reach the faults, the
//! counters, the clock, forced sample statuses, silent nodes, back-filled collections, counter
//! bases, slow collections, the CIFS connections and their churn through the admin API, a small
//! JSON API on a listener of its own ([`SimulatorConfig::admin_listen`]).
//!
//! It is its own crate so the compiler holds the rule that it depends on nothing of the gateway;
//! the gateway's binary embeds it behind the `simulator` feature, and the gateway's tests and
//! benches drive it.
//!
//! The modules follow a request inward: `http` accepts connections and runs the middleware
//! (stats, authentication, per-SVM counts, authorization, faults), `resources` holds the cluster
//! model and its endpoints, which use `query` for ONTAP's collection semantics and [`perf`] for
//! performance data, all on the simulated clock of `time`. `accounts` holds who may do what;
//! `errors` holds every ONTAP error code the simulator answers with; `admin` is the admin API,
//! beside all of this rather than in front of it.

mod accounts;
mod admin;
mod errors;
mod faults;
mod http;
pub mod perf;
mod query;
mod resources;
mod time;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::SystemTime;

use tokio::net::TcpListener;

pub use crate::http::stats::{PathStats, RequestTrace, StatsSnapshot};
pub use accounts::{Account, AccountExists, Role};
pub use faults::{Fault, FaultKind, Faults};
pub use perf::MetricStatus;
pub use resources::churn::{CifsChurn, InvalidChurnRate};
pub use resources::cifs_sessions::session::{
    CifsSession, CifsSessionKey, ContinuousAvailability, SmbAuthentication, SmbEncryption,
    SmbProtocol, VolumeRef,
};
pub use resources::iscsi::bodies::{ALIAS_MAX_CHARS, is_valid_alias};
pub use resources::iscsi::service::{IscsiEvent, IscsiEventKind, IscsiService};
pub use resources::iscsi::session::{
    ISCSI_PORT, IgroupRef, IscsiAuthentication, IscsiConnection, IscsiInitiator, IscsiInterface,
    IscsiSession, IscsiSessionError,
};
pub use resources::model::{
    CifsConnection, CifsConnectionError, Cluster, Node, NodeOutage, OntapVersion, SharedCluster,
    Svm, SvmState,
};
pub use resources::seed::sizing::SizingError;
/// Re-exported so a caller can build and read [`Credentials`] without depending on `secrecy`.
pub use secrecy::{ExposeSecret, SecretString};
pub use time::clock::{CLOCK_START_UNIX_SECS, clock_start, parse_clock_start};

use crate::accounts::Accounts;
use crate::http::server::Server;
use crate::http::stats::Stats;
use crate::http::tls::Tls;

/// The admin user the simulator accepts (ONTAP uses HTTP Basic authentication); other users are
/// [`Account`]s. The password is a [`SecretString`], so it stays out of `Debug` output and logs.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// User name.
    pub username: String,
    /// Password.
    pub password: SecretString,
}

impl Default for Credentials {
    /// The lab-default `admin` / `netapp1!`, which the docs' examples use.
    fn default() -> Credentials {
        Credentials {
            username: "admin".to_owned(),
            password: SecretString::from("netapp1!"),
        }
    }
}

/// How to run the simulator.
#[derive(Clone, Debug)]
pub struct SimulatorConfig {
    /// Address to bind; port 0 picks a free port (see [`Simulator::local_addr`]).
    pub listen: SocketAddr,
    /// The accepted admin user.
    pub credentials: Credentials,
    /// Further users, each with a role: a client passing its callers' own credentials through
    /// meets an ONTAP that refuses some of them writes. User names must differ from each other
    /// and from [`SimulatorConfig::credentials`]. More can be added while the simulator runs
    /// ([`Simulator::add_account`], or the admin API's `POST /accounts`).
    pub accounts: Vec<Account>,
    /// Serve HTTPS with a freshly generated self-signed certificate.
    pub tls: bool,
    /// Where to serve the admin API (faults and counters over HTTP, for tests not written in
    /// Rust); `None`, the default, serves none. It is plain HTTP without authentication, so
    /// anyone who can reach it can break the simulator: bind it to loopback.
    pub admin_listen: Option<SocketAddr>,
    /// How the CIFS connections open and close by themselves, from the instant the simulated
    /// clock starts; off by default, so the served connections are exactly the cluster's until
    /// something changes them.
    pub cifs_churn: CifsChurn,
    /// Where the simulated clock starts (then running with real time), which decides the dates of
    /// every timestamp served, and the instant the CIFS churn counts from. The default, the fixed
    /// [`clock_start`], makes every run serve the same dates, as tests need; a demonstration
    /// starts it at `SystemTime::now()` so its data looks current ([`parse_clock_start`] reads
    /// a pinned one from a flag). The seed's iSCSI services were created on 2024-12-01, so from a
    /// start on 2025-12-01 or later every metrics interval has a full series.
    pub clock_start: SystemTime,
    /// How many CIFS connections to serve, and so how many CIFS sessions (one to three per
    /// connection, its `session_ids`). `None`, the default, serves the cluster's own (the seed's
    /// 40, on `vs1` and `svm3`). `Some(n)` grows the cluster given to [`Simulator::start`] to `n` with connections
    /// generated as the seed's are, or keeps its first `n`: on [`Cluster::seed`] that is exactly
    /// [`Cluster::seed_with_cifs_connections`]`(n)` (see [`Cluster::resize_cifs_connections`]).
    /// For a big cluster (the gateway's `--cifs-connections`).
    pub cifs_connections: Option<usize>,
    /// How many iSCSI sessions to serve. `None`, the default, serves the cluster's own (the
    /// seed's seven: four on `svm2`, three on `svm3`). `Some(n)` grows the cluster given to [`Simulator::start`] to `n`
    /// with sessions generated round-robin over the SVMs whose iSCSI service is enabled, or
    /// keeps its first `n` (see [`Cluster::resize_iscsi_sessions`]). For a big cluster (the
    /// gateway's `--iscsi-sessions`).
    pub iscsi_sessions: Option<usize>,
}

impl Default for SimulatorConfig {
    /// Loopback, any free port, default credentials and no other accounts, plain HTTP, no admin
    /// API, no CIFS churn, the clock starting at 2026-01-01T00:00:00Z, the cluster's own sizes.
    fn default() -> SimulatorConfig {
        SimulatorConfig {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            credentials: Credentials::default(),
            accounts: Vec::new(),
            tls: false,
            admin_listen: None,
            cifs_churn: CifsChurn::OFF,
            clock_start: clock_start(),
            cifs_connections: None,
            iscsi_sessions: None,
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
    accounts: Accounts,
    server: Server,
    admin: Option<(SocketAddr, Server)>,
}

impl Simulator {
    /// Binds, starts serving `cluster` (brought to the configured sizes), and returns once the
    /// socket is listening, so a client can connect immediately. Refused (`InvalidInput`) if two
    /// accounts share a user name, or if the cluster cannot grow to a configured size (see
    /// [`SizingError`]).
    pub async fn start(config: SimulatorConfig, cluster: Cluster) -> std::io::Result<Simulator> {
        let accounts = Accounts::new(config.credentials, config.accounts)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let cluster = sized(cluster, config.cifs_connections, config.iscsi_sessions)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let tls = if config.tls {
            Some(Tls::self_signed()?)
        } else {
            None
        };
        let listener = TcpListener::bind(config.listen).await?;
        let local_addr = listener.local_addr()?;
        let admin_listener = match config.admin_listen {
            Some(addr) => Some(TcpListener::bind(addr).await?),
            None => None,
        };
        let cluster = SharedCluster::starting_at(cluster, config.cifs_churn, config.clock_start);
        let faults = Faults::default();
        let stats = Arc::new(Stats::default());
        let app = crate::http::router::router(
            cluster.clone(),
            accounts.clone(),
            faults.clone(),
            Arc::clone(&stats),
        );
        let acceptor = tls.as_ref().map(|t| t.acceptor.clone());
        let admin = match admin_listener {
            Some(listener) => {
                let addr = listener.local_addr()?;
                let app = admin::router(
                    faults.clone(),
                    Arc::clone(&stats),
                    cluster.clone(),
                    accounts.clone(),
                );
                Some((addr, Server::spawn(listener, app, None, None)))
            }
            None => None,
        };
        let server = Server::spawn(listener, app, acceptor, Some(Arc::clone(&stats)));
        tracing::info!(%local_addr, tls = config.tls, "ONTAP simulator listening");
        Ok(Simulator {
            local_addr,
            tls,
            cluster,
            faults,
            stats,
            accounts,
            server,
            admin,
        })
    }

    /// The bound address (with the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The admin API's bound address, if [`SimulatorConfig::admin_listen`] asked for one (with
    /// the real port when port 0 was asked for).
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().map(|(addr, _)| *addr)
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

    /// The request id and trace context headers of the latest requests (up to 256), oldest
    /// first.
    pub fn request_traces(&self) -> Vec<RequestTrace> {
        self.stats.traces()
    }

    /// The request counters of each request path (without its query) requested since start or
    /// the last [`Simulator::reset_stats`].
    pub fn path_stats(&self) -> BTreeMap<String, PathStats> {
        self.stats.paths()
    }

    /// The authenticated requests since start or the last [`Simulator::reset_stats`], by the SVM
    /// each concerned (its `svm.name` query parameter, else `svm.uuid`, else the SVM UUID in the
    /// path of an iSCSI service or a CIFS or iSCSI session) and then by user name, so a test can
    /// tell which of several clients, each with its own account, asked about which SVM.
    /// Requests about no one SVM are not counted here.
    pub fn requests_by_svm(&self) -> BTreeMap<String, BTreeMap<String, u64>> {
        self.stats.svm_requests().snapshot()
    }

    /// Accepts `account` from the next request on; refused if its user name is taken (by the
    /// configured credentials too).
    pub fn add_account(&self, account: Account) -> Result<(), AccountExists> {
        self.accounts.add(account)
    }

    /// Starts counting afresh, so a test can count only what one step did: totals go to zero,
    /// peaks down to what is open or in flight now, which stays counted; the per-SVM counts are
    /// forgotten.
    pub fn reset_stats(&self) {
        self.stats.reset();
    }

    /// The counters once `condition` holds for them (for example, once a request is in flight,
    /// or once a client's connection has closed). Every change wakes the check, so a test waits
    /// exactly as long as the state takes to arrive, with no polling; bound it with
    /// `tokio::time::timeout` if the state might never come.
    pub async fn wait_for_stats(
        &self,
        condition: impl FnMut(&StatsSnapshot) -> bool,
    ) -> StatsSnapshot {
        self.stats.wait_until(condition).await
    }

    /// Stops accepting connections (on the admin API too), lets in-flight requests finish, and
    /// returns when done.
    pub async fn shutdown(self) {
        let admin = async {
            if let Some((_, admin)) = self.admin {
                admin.shutdown().await;
            }
        };
        tokio::join!(self.server.shutdown(), admin);
    }

    /// Serves until `signal` completes, then shuts down gracefully (for the standalone
    /// `simulate` subcommand, with e.g. Ctrl-C as the signal).
    pub async fn run_until(self, signal: impl Future<Output = ()>) {
        signal.await;
        self.shutdown().await;
    }
}

/// `cluster` with the CIFS connections and iSCSI sessions a configuration asks for.
fn sized(
    mut cluster: Cluster,
    cifs_connections: Option<usize>,
    iscsi_sessions: Option<usize>,
) -> Result<Cluster, SizingError> {
    if let Some(total) = cifs_connections {
        cluster.resize_cifs_connections(total)?;
    }
    if let Some(total) = iscsi_sessions {
        cluster.resize_iscsi_sessions(total)?;
    }
    Ok(cluster)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_keep_the_password_out_of_debug_output() {
        let credentials = Credentials {
            username: "admin".to_owned(),
            password: SecretString::from("hunter2"),
        };
        let debug = format!("{credentials:?}");
        assert!(debug.contains("admin"), "{debug}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }
}
