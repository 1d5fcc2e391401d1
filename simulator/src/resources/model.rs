//! The simulated cluster's state and its JSON rendering.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use crate::perf::MetricStatus;
use crate::perf::{COLLECTION_SECS, ceil_to};
use crate::resources::churn::{Churner, CifsChurn};
use crate::resources::iscsi::service::IscsiService;
use crate::resources::iscsi::session::IscsiSession;
use crate::time::clock::{Clock, clock_start, from_unix_secs, unix_secs};

/// Everything the simulator serves. Tests mutate it through [`SharedCluster`] while the
/// simulator runs, to prove the gateway sees changes and pages consistently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cluster {
    /// The cluster's name, as `GET /api/cluster` shows it.
    pub name: String,
    /// The cluster's UUID.
    pub uuid: String,
    /// The ONTAP release the cluster runs, which a client checks before relying on an endpoint.
    pub version: OntapVersion,
    /// Cluster nodes.
    pub nodes: Vec<Node>,
    /// Storage VMs.
    pub svms: Vec<Svm>,
    /// Established CIFS connections. Their `session_ids` are the cluster's CIFS sessions (see
    /// [`crate::CifsSession`]).
    pub cifs_connections: Vec<CifsConnection>,
    /// iSCSI services, at most one per SVM.
    pub iscsi_services: Vec<IscsiService>,
    /// iSCSI sessions; only those of SVMs with an enabled service are served (see
    /// [`crate::IscsiSession`]).
    pub iscsi_sessions: Vec<IscsiSession>,
    /// Whether the cluster holds an iSCSI license (creating a service needs one).
    pub iscsi_licensed: bool,
    /// Whether the cluster is an ASA r2 system, where services cannot be created or deleted.
    pub asa_r2: bool,
    /// Makes every metrics request fail with ONTAP's "unexpected error", for error-path tests.
    pub metrics_failure: bool,
    /// Periods in which a node did not answer the performance collector, oldest first.
    pub node_outages: Vec<NodeOutage>,
    /// Collection instants the performance collector missed and made up later.
    pub backfilled_collections: Vec<SystemTime>,
}

impl Default for Cluster {
    /// Empty, licensed for iSCSI, not ASA r2, metrics working; named `cluster1`, running ONTAP
    /// 9.14.1 (the seed's identity, so a cluster a test builds answers `GET /api/cluster` too).
    fn default() -> Cluster {
        Cluster {
            name: DEFAULT_NAME.to_owned(),
            uuid: DEFAULT_UUID.to_owned(),
            version: OntapVersion::default(),
            nodes: Vec::new(),
            svms: Vec::new(),
            cifs_connections: Vec::new(),
            iscsi_services: Vec::new(),
            iscsi_sessions: Vec::new(),
            iscsi_licensed: true,
            asa_r2: false,
            metrics_failure: false,
            node_outages: Vec::new(),
            backfilled_collections: Vec::new(),
        }
    }
}

/// The reference pages' example cluster name.
const DEFAULT_NAME: &str = "cluster1";
/// Shaped like the seed's node UUIDs, as the UUIDs of one cluster's objects are.
const DEFAULT_UUID: &str = "1cd8a442-86d1-11e0-ae1c-123478563411";

/// An ONTAP release, as the `version` of `GET /api/cluster` reports it. On a cluster whose nodes
/// run different releases it is the lowest, so it tells a client what every node supports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OntapVersion {
    /// The whole release string, `NetApp Release 9.14.1: Mon Jan 01 00:00:00 UTC 2024`; a patch
    /// release shows only here (`9.14.1P3`).
    pub full: String,
    /// The `9` of 9.14.1.
    pub generation: u32,
    /// The `14` of 9.14.1.
    pub major: u32,
    /// The `1` of 9.14.1.
    pub minor: u32,
}

impl Default for OntapVersion {
    /// 9.14.1, the oldest release serving everything the simulator does (the single metrics
    /// sample by timestamp came with it).
    fn default() -> OntapVersion {
        OntapVersion {
            full: "NetApp Release 9.14.1: Mon Jan 01 00:00:00 UTC 2024".to_owned(),
            generation: 9,
            major: 14,
            minor: 1,
        }
    }
}

/// A cluster node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Node UUID.
    pub uuid: String,
    /// Node name.
    pub name: String,
}

/// A period in which a node did not answer the performance collector. Every iSCSI service
/// aggregates over all nodes, so while it lasts every service's samples are partial
/// (`partial_no_response`), and the first sample after it spans a longer time on that node than
/// on the others (`inconsistent_delta_time`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeOutage {
    /// UUID of the silent node.
    pub node_uuid: String,
    /// When it stopped answering.
    pub from: SystemTime,
    /// When it answered again; `None` while it is still silent.
    pub until: Option<SystemTime>,
}

/// Whether an SVM is serving data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SvmState {
    /// Serving data.
    Running,
    /// Administratively stopped.
    Stopped,
}

/// A storage VM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Svm {
    /// SVM UUID.
    pub uuid: String,
    /// SVM name.
    pub name: String,
    /// Running or stopped.
    pub state: SvmState,
    /// Whether the SVM's allowed protocols include iSCSI.
    pub iscsi_allowed: bool,
    /// Whether the SVM is configured for NVMe, which rules out an iSCSI service.
    pub nvme_configured: bool,
}

impl Svm {
    /// An SVM that allows iSCSI and is not configured for NVMe.
    pub fn new(uuid: impl Into<String>, name: impl Into<String>, state: SvmState) -> Svm {
        Svm {
            uuid: uuid.into(),
            name: name.into(),
            state,
            iscsi_allowed: true,
            nvme_configured: false,
        }
    }
}

/// One established CIFS connection. Node and SVM are referenced by UUID so renaming them in a
/// test shows up in every connection; names are looked up when rendering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CifsConnection {
    /// UUID of the node holding the connection.
    pub node_uuid: String,
    /// UUID of the SVM serving it.
    pub svm_uuid: String,
    /// Connection ID, unique per node.
    pub identifier: u32,
    /// Network context ID.
    pub network_context_id: u32,
    /// Client address.
    pub client_ip: String,
    /// Client port.
    pub client_port: u32,
    /// Address of the SVM's LIF the client connected to.
    pub server_ip: String,
    /// SMB session identifiers on this connection: the cluster's CIFS sessions are exactly these,
    /// each with fields derived from its key (see [`crate::CifsSession`]), so adding or removing
    /// one here starts or ends that session.
    pub session_ids: Vec<u64>,
}

impl Cluster {
    /// A cluster with nothing in it.
    pub fn empty() -> Cluster {
        Cluster::default()
    }

    /// The node with this UUID.
    pub(crate) fn node(&self, uuid: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.uuid == uuid)
    }

    /// The SVM with this UUID.
    pub(crate) fn svm(&self, uuid: &str) -> Option<&Svm> {
        self.svms.iter().find(|s| s.uuid == uuid)
    }

    /// The SVM with this name.
    pub(crate) fn svm_named(&self, name: &str) -> Option<&Svm> {
        self.svms.iter().find(|s| s.name == name)
    }

    /// A CIFS connection as ONTAP renders it, with every field; names are omitted when the node
    /// or SVM is unknown.
    pub(crate) fn cifs_connection_json(&self, connection: &CifsConnection) -> Value {
        let node_name = self.node(&connection.node_uuid).map(|n| n.name.as_str());
        let svm_name = self.svm(&connection.svm_uuid).map(|s| s.name.as_str());
        let sessions: Vec<Value> = connection
            .session_ids
            .iter()
            .map(|id| json!({ "identifier": id }))
            .collect();
        json!({
            "client_ip": connection.client_ip,
            "client_port": connection.client_port,
            "identifier": connection.identifier,
            "network_context_id": connection.network_context_id,
            "node": reference(&connection.node_uuid, node_name),
            "server_ip": connection.server_ip,
            "sessions": sessions,
            "svm": reference(&connection.svm_uuid, svm_name),
        })
    }
}

/// A node or SVM reference: its UUID, and its name when the cluster knows it.
pub(crate) fn reference(uuid: &str, name: Option<&str>) -> Value {
    match name {
        Some(name) => json!({ "name": name, "uuid": uuid }),
        None => json!({ "uuid": uuid }),
    }
}

/// Why a CIFS connection was not added.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CifsConnectionError {
    /// The cluster has no node with the connection's node UUID.
    #[error("no node has uuid {0:?}")]
    UnknownNode(String),
    /// The cluster has no SVM with the connection's SVM UUID.
    #[error("no SVM has uuid {0:?}")]
    UnknownSvm(String),
    /// The node already holds a connection with the identifier, which must be unique per node.
    #[error("node {node_uuid:?} already has a connection with identifier {identifier}")]
    IdentifierInUse {
        /// The node.
        node_uuid: String,
        /// The identifier.
        identifier: u32,
    },
}

/// A cheap, cloneable handle on the cluster the simulator serves, on its simulated clock, on the
/// churn of its CIFS connections, and on how long iterating its collections takes.
#[derive(Clone, Debug)]
pub struct SharedCluster {
    inner: Arc<Mutex<Served>>,
    clock: Arc<Clock>,
    /// Where the clock started, which CIFS session durations count from.
    clock_start: SystemTime,
    iteration_costs: Arc<Mutex<IterationCosts>>,
}

/// The cluster and the churn that changes it, under one lock so every reader sees the churn
/// applied up to its own time.
#[derive(Debug)]
struct Served {
    cluster: Cluster,
    churn: Churner,
}

impl Default for SharedCluster {
    /// An empty cluster, without churn.
    fn default() -> SharedCluster {
        SharedCluster::new(Cluster::default())
    }
}

/// Simulated time per record gathered while iterating a collection.
#[derive(Clone, Debug, Default)]
struct IterationCosts {
    default: Duration,
    by_path: BTreeMap<String, Duration>,
}

impl SharedCluster {
    /// Wraps a cluster for sharing; its clock starts now at 2026-01-01T00:00:00Z (see
    /// [`crate::CLOCK_START_UNIX_SECS`]) and runs with real time. Its CIFS connections do not
    /// churn until [`SharedCluster::set_cifs_churn`].
    pub fn new(cluster: Cluster) -> SharedCluster {
        SharedCluster::with_cifs_churn(cluster, CifsChurn::OFF)
    }

    /// Like [`SharedCluster::new`], with the CIFS connections churning as `churn` says from the
    /// instant the clock starts, so the churn the clock shows at any time is the same in every
    /// run, however long starting took in real time.
    pub fn with_cifs_churn(cluster: Cluster, churn: CifsChurn) -> SharedCluster {
        SharedCluster::starting_at(cluster, churn, clock_start())
    }

    /// Like [`SharedCluster::with_cifs_churn`], with the clock starting now at `clock_start`
    /// instead of 2026-01-01T00:00:00Z, and the churn counted from there: the churn a run shows
    /// depends only on how far its clock is past its start, so moving the start moves the
    /// connections' history with it.
    pub fn starting_at(
        cluster: Cluster,
        churn: CifsChurn,
        clock_start: SystemTime,
    ) -> SharedCluster {
        SharedCluster {
            inner: Arc::new(Mutex::new(Served {
                cluster,
                churn: Churner::new(churn, clock_start),
            })),
            clock: Arc::new(Clock::starting_at(clock_start)),
            clock_start,
            iteration_costs: Arc::default(),
        }
    }

    /// How far the simulated clock is past where it started (zero while before it): CIFS
    /// sessions have existed that much longer than they had then.
    pub(crate) fn since_clock_start(&self) -> Duration {
        self.now()
            .duration_since(self.clock_start)
            .unwrap_or(Duration::ZERO)
    }

    /// The simulated time now, which performance data and CIFS churn are computed for.
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// Whether the simulated clock stands still (pinned or advanced, and not resumed since).
    pub fn clock_pinned(&self) -> bool {
        self.clock.is_pinned()
    }

    /// Makes the CIFS connections churn as `churn` says from now (the simulated time); the churn
    /// due up to now under the previous setting is applied first. [`CifsChurn::OFF`] stops it.
    /// The schedule restarts from the new seed, so setting the same churn at the same simulated
    /// time always leads to the same connections.
    pub fn set_cifs_churn(&self, churn: CifsChurn) {
        let now = self.now();
        self.caught_up_to(now).churn.restart(churn, now);
    }

    /// How the CIFS connections churn.
    pub fn cifs_churn(&self) -> CifsChurn {
        self.lock().churn.setting()
    }

    /// How many churn events have been applied up to now (each opened or closed a connection, or
    /// started or ended a session in one), for a test to know whether anything happened.
    pub fn cifs_churn_events(&self) -> u64 {
        self.caught_up().churn.applied()
    }

    /// Stops the simulated clock at `at`, so readings are exact and repeatable.
    pub fn pin_clock(&self, at: SystemTime) {
        self.clock.pin(at);
    }

    /// Pins the simulated clock `by` after the time it shows now.
    pub fn advance_clock(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Lets a pinned clock run with real time again, from the time it shows.
    pub fn resume_clock(&self) {
        self.clock.resume();
    }

    /// Makes iterating the collection at `collection_path` (a request path as sent, without the
    /// query: `/api/protocols/cifs/connections`, or a metrics history such as
    /// `/api/protocols/san/iscsi/services/<svm uuid>/metrics`) take `per_record` of simulated time
    /// per record gathered. A page then holds only what fits in the request's `return_timeout`
    /// (default 15 s), at least one record, and links the rest with `_links.next`, as ONTAP
    /// returns early; no real time passes. It overrides the default
    /// ([`SharedCluster::set_default_iteration_cost`]) for that path, `Duration::ZERO` included.
    pub fn set_iteration_cost(&self, collection_path: &str, per_record: Duration) {
        self.costs()
            .by_path
            .insert(collection_path.to_owned(), per_record);
    }

    /// The iteration cost of every collection without one of its own (initially zero: pages are
    /// never cut short).
    pub fn set_default_iteration_cost(&self, per_record: Duration) {
        self.costs().default = per_record;
    }

    /// The default iteration cost, and each collection path's own.
    pub(crate) fn iteration_costs(&self) -> (Duration, BTreeMap<String, Duration>) {
        let costs = self.costs();
        (costs.default, costs.by_path.clone())
    }

    /// The simulated time one record of the collection at `path` takes to gather.
    pub(crate) fn iteration_cost(&self, path: &str) -> Duration {
        let costs = self.costs();
        costs.by_path.get(path).copied().unwrap_or(costs.default)
    }

    /// Plain values, so usable after a panic elsewhere.
    fn costs(&self) -> MutexGuard<'_, IterationCosts> {
        self.iteration_costs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Enables or disables an SVM's iSCSI service now, as a PATCH would (counters stop growing
    /// while it is disabled, and disabling ends the SVM's iSCSI sessions). `false` when the SVM
    /// has no service.
    pub fn set_iscsi_enabled(&self, svm_uuid: &str, enabled: bool) -> bool {
        let now = self.now();
        self.with(|cluster| cluster.set_iscsi_enabled_at(svm_uuid, enabled, now))
    }

    /// Resets an SVM's iSCSI counters to zero now; the metric sample spanning the reset reports
    /// `negative_delta`. `false` when the SVM has no service.
    pub fn reset_iscsi_counters(&self, svm_uuid: &str) -> bool {
        let now = self.now();
        self.with(|cluster| {
            cluster
                .iscsi_service_mut(svm_uuid)
                .map(|service| service.reset_counters(now))
                .is_some()
        })
    }

    /// Makes a node stop (`false`) or resume (`true`) answering the performance collector now
    /// (see [`NodeOutage`]). `false` when there is no such node; asking for the state the node is
    /// already in changes nothing.
    pub fn set_node_responding(&self, node_uuid: &str, responding: bool) -> bool {
        let now = self.now();
        self.with(|cluster| {
            if cluster.node(node_uuid).is_none() {
                return false;
            }
            let open = cluster
                .node_outages
                .iter_mut()
                .find(|o| o.node_uuid == node_uuid && o.until.is_none());
            match (open, responding) {
                (Some(outage), true) => outage.until = Some(now),
                (None, false) => cluster.node_outages.push(NodeOutage {
                    node_uuid: node_uuid.to_owned(),
                    from: now,
                    until: None,
                }),
                _ => {}
            }
            true
        })
    }

    /// Makes the performance collector miss the collection due at the next 15-second boundary
    /// after now and make it up later, so every sample holding that instant reports
    /// `backfilled_data`. Returns the instant.
    pub fn backfill_next_collection(&self) -> SystemTime {
        let next = from_unix_secs(ceil_to(unix_secs(self.now()) + 1, COLLECTION_SECS));
        self.with(|cluster| cluster.backfilled_collections.push(next));
        next
    }

    /// Makes every sample of an SVM's iSCSI service (`metric`, each metrics history record, the
    /// sample at a timestamp) and its `statistics` report `status` instead of their own, until
    /// [`SharedCluster::clear_iscsi_status`]. Any word works, documented or not: `"ok"`,
    /// [`MetricStatus::PartialNoUuid`], `"some_future_status"`. The numbers stay as computed.
    /// `false` when the SVM has no service.
    pub fn force_iscsi_status(&self, svm_uuid: &str, status: impl Into<MetricStatus>) -> bool {
        let status = status.into();
        self.with(|cluster| {
            cluster
                .iscsi_service_mut(svm_uuid)
                .map(|service| service.forced_status = Some(status))
                .is_some()
        })
    }

    /// Lets an SVM's iSCSI samples report their own status again. `false` when the SVM has no
    /// service.
    pub fn clear_iscsi_status(&self, svm_uuid: &str) -> bool {
        self.with(|cluster| {
            cluster
                .iscsi_service_mut(svm_uuid)
                .map(|service| service.forced_status = None)
                .is_some()
        })
    }

    /// Makes an SVM's raw iSCSI counters (`statistics.*_raw`, totals included) count from `base`
    /// instead of zero, for every reading until the next counter reset, which restarts them from
    /// zero. The counters are unsigned 64-bit and wrap past `u64::MAX`; rates and samples are
    /// unchanged. `false` when the SVM has no service.
    pub fn set_iscsi_counter_base(&self, svm_uuid: &str, base: u64) -> bool {
        self.with(|cluster| {
            cluster
                .iscsi_service_mut(svm_uuid)
                .map(|service| service.counter_base = base)
                .is_some()
        })
    }

    /// Adds a connection, as if a client had just connected. Nothing is checked, so a test can
    /// add one on an unknown node or SVM; [`SharedCluster::try_add_cifs_connection`] checks.
    pub fn add_cifs_connection(&self, c: CifsConnection) {
        self.with(|cluster| cluster.cifs_connections.push(c));
    }

    /// Adds a connection if its node and SVM exist and its identifier is not in use on its node.
    pub fn try_add_cifs_connection(&self, c: CifsConnection) -> Result<(), CifsConnectionError> {
        self.with(|cluster| {
            if cluster.node(&c.node_uuid).is_none() {
                return Err(CifsConnectionError::UnknownNode(c.node_uuid));
            }
            if cluster.svm(&c.svm_uuid).is_none() {
                return Err(CifsConnectionError::UnknownSvm(c.svm_uuid));
            }
            let in_use = cluster
                .cifs_connections
                .iter()
                .any(|other| other.node_uuid == c.node_uuid && other.identifier == c.identifier);
            if in_use {
                return Err(CifsConnectionError::IdentifierInUse {
                    node_uuid: c.node_uuid,
                    identifier: c.identifier,
                });
            }
            cluster.cifs_connections.push(c);
            Ok(())
        })
    }

    /// Removes the connection with `identifier` on the node with `node_uuid`, as if its client had
    /// disconnected; `false` when there is none.
    pub fn remove_cifs_connection(&self, node_uuid: &str, identifier: u32) -> bool {
        self.remove_cifs_connections(|c| c.node_uuid == node_uuid && c.identifier == identifier) > 0
    }

    /// Removes the connections matching `pred`, returning how many went.
    pub fn remove_cifs_connections(&self, pred: impl Fn(&CifsConnection) -> bool) -> usize {
        self.with(|cluster| {
            let before = cluster.cifs_connections.len();
            cluster.cifs_connections.retain(|c| !pred(c));
            before - cluster.cifs_connections.len()
        })
    }

    /// Runs `f` with exclusive access to the cluster, with the CIFS churn due up to now applied.
    pub fn with<R>(&self, f: impl FnOnce(&mut Cluster) -> R) -> R {
        f(&mut self.caught_up().cluster)
    }

    /// The served state with the churn due up to now applied.
    fn caught_up(&self) -> MutexGuard<'_, Served> {
        self.caught_up_to(self.now())
    }

    /// The served state with the churn due up to `now` applied.
    fn caught_up_to(&self, now: SystemTime) -> MutexGuard<'_, Served> {
        let mut served = self.lock();
        let Served { cluster, churn } = &mut *served;
        churn.catch_up(cluster, now);
        served
    }

    /// A panic in some other holder must not take the simulator down with it: the data is plain
    /// values, so it is still usable.
    fn lock(&self) -> MutexGuard<'_, Served> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> Cluster {
        Cluster {
            nodes: vec![Node {
                uuid: "n1".into(),
                name: "node1".into(),
            }],
            svms: vec![Svm::new("s1", "vs1", SvmState::Running)],
            ..Cluster::empty()
        }
    }

    fn connection(identifier: u32) -> CifsConnection {
        CifsConnection {
            node_uuid: "n1".into(),
            svm_uuid: "s1".into(),
            identifier,
            network_context_id: 3,
            client_ip: "10.74.7.182".into(),
            client_port: 12345,
            server_ip: "10.140.70.197".into(),
            session_ids: vec![625_718_873_227_788_312],
        }
    }

    #[test]
    fn connection_renders_in_the_documented_shape() {
        let rendered = cluster().cifs_connection_json(&connection(91842));
        assert_eq!(
            rendered,
            json!({
                "client_ip": "10.74.7.182",
                "client_port": 12345,
                "identifier": 91842,
                "network_context_id": 3,
                "node": {"name": "node1", "uuid": "n1"},
                "server_ip": "10.140.70.197",
                "sessions": [{"identifier": 625_718_873_227_788_312_u64}],
                "svm": {"name": "vs1", "uuid": "s1"},
            })
        );
    }

    #[test]
    fn unknown_node_renders_without_a_name() {
        let mut c = connection(1);
        c.node_uuid = "gone".into();
        assert_eq!(
            cluster().cifs_connection_json(&c)["node"],
            json!({"uuid": "gone"})
        );
    }

    #[test]
    fn node_outage_opens_and_closes_at_the_simulated_time() {
        let shared = SharedCluster::new(cluster());
        let start = crate::time::clock::clock_start();
        shared.pin_clock(start);
        assert!(shared.set_node_responding("n1", false));
        assert!(shared.set_node_responding("n1", false));
        shared.advance_clock(Duration::from_secs(40));
        assert!(shared.set_node_responding("n1", true));
        assert!(!shared.set_node_responding("nope", false));
        assert_eq!(
            shared.with(|c| c.node_outages.clone()),
            [NodeOutage {
                node_uuid: "n1".into(),
                from: start,
                until: Some(start + Duration::from_secs(40)),
            }]
        );
    }

    #[test]
    fn backfilled_collection_is_the_next_boundary_strictly_after_now() {
        let shared = SharedCluster::new(cluster());
        let start = crate::time::clock::clock_start();
        shared.pin_clock(start);
        assert_eq!(
            shared.backfill_next_collection(),
            start + Duration::from_secs(15)
        );
        shared.advance_clock(Duration::from_secs(16));
        assert_eq!(
            shared.backfill_next_collection(),
            start + Duration::from_secs(30)
        );
    }

    const MINUTE: Duration = Duration::from_secs(60);

    fn churn(per_minute: f64) -> CifsChurn {
        CifsChurn::new(per_minute, 11).expect("a valid rate")
    }

    fn connections(shared: &SharedCluster) -> Vec<CifsConnection> {
        shared.with(|c| c.cifs_connections.clone())
    }

    #[test]
    fn churn_is_off_unless_set() {
        let shared = SharedCluster::new(Cluster::seed());
        shared.pin_clock(crate::time::clock::clock_start());
        shared.advance_clock(MINUTE * 600);
        assert_eq!(connections(&shared), Cluster::seed().cifs_connections);
        assert_eq!(shared.cifs_churn_events(), 0);
        assert!(shared.cifs_churn().is_off());
    }

    #[test]
    fn churn_from_the_clock_start_is_the_same_in_every_run() {
        let runs: Vec<Vec<CifsConnection>> = (0..2)
            .map(|_| {
                let shared = SharedCluster::with_cifs_churn(Cluster::seed(), churn(6.0));
                shared.pin_clock(crate::time::clock::clock_start() + MINUTE * 30);
                connections(&shared)
            })
            .collect();
        assert_eq!(runs[0], runs[1]);
        assert_ne!(runs[0], Cluster::seed().cifs_connections);
    }

    #[test]
    fn a_later_clock_start_moves_the_churn_with_it() {
        let later = crate::time::clock::clock_start() + MINUTE * 60 * 24 * 1_000;
        let shifted = SharedCluster::starting_at(Cluster::seed(), churn(6.0), later);
        shifted.pin_clock(later);
        assert_eq!(connections(&shifted), Cluster::seed().cifs_connections);
        shifted.pin_clock(later + MINUTE * 30);
        let default = SharedCluster::with_cifs_churn(Cluster::seed(), churn(6.0));
        default.pin_clock(crate::time::clock::clock_start() + MINUTE * 30);
        assert_eq!(connections(&shifted), connections(&default));
        assert_eq!(shifted.cifs_churn_events(), default.cifs_churn_events());
    }

    #[tokio::test(start_paused = true)]
    async fn clock_starts_at_the_instant_given() {
        let later = crate::time::clock::clock_start() + MINUTE * 60 * 24 * 1_000;
        let shared = SharedCluster::starting_at(cluster(), CifsChurn::OFF, later);
        assert_eq!(shared.now(), later);
        assert!(!shared.clock_pinned());
    }

    #[test]
    fn churn_set_at_run_time_starts_from_the_simulated_time_then() {
        let shared = SharedCluster::new(Cluster::seed());
        let start = crate::time::clock::clock_start();
        shared.pin_clock(start + MINUTE * 1_000);
        shared.set_cifs_churn(churn(6.0));
        assert_eq!(connections(&shared), Cluster::seed().cifs_connections);
        shared.advance_clock(MINUTE * 30);
        assert_ne!(connections(&shared), Cluster::seed().cifs_connections);
        assert!(shared.cifs_churn_events() > 0);
        assert_eq!(shared.cifs_churn(), churn(6.0));
    }

    #[test]
    fn turning_churn_off_applies_what_was_due_and_then_nothing() {
        let shared = SharedCluster::new(Cluster::seed());
        shared.pin_clock(crate::time::clock::clock_start());
        shared.set_cifs_churn(churn(60.0));
        shared.advance_clock(MINUTE * 10);
        shared.set_cifs_churn(CifsChurn::OFF);
        let events = shared.cifs_churn_events();
        assert!(events > 0);
        let then = connections(&shared);
        shared.advance_clock(MINUTE * 100);
        assert_eq!(connections(&shared), then);
        assert_eq!(shared.cifs_churn_events(), events);
    }

    #[test]
    fn try_add_refuses_an_unknown_node_or_svm_and_an_identifier_in_use() {
        let shared = SharedCluster::new(cluster());
        assert_eq!(shared.try_add_cifs_connection(connection(1)), Ok(()));
        let mut elsewhere = connection(2);
        elsewhere.node_uuid = "n9".into();
        assert_eq!(
            shared.try_add_cifs_connection(elsewhere),
            Err(CifsConnectionError::UnknownNode("n9".into()))
        );
        let mut other_svm = connection(2);
        other_svm.svm_uuid = "s9".into();
        assert_eq!(
            shared.try_add_cifs_connection(other_svm),
            Err(CifsConnectionError::UnknownSvm("s9".into()))
        );
        assert_eq!(
            shared.try_add_cifs_connection(connection(1)),
            Err(CifsConnectionError::IdentifierInUse {
                node_uuid: "n1".into(),
                identifier: 1,
            })
        );
        assert_eq!(connections(&shared), [connection(1)]);
    }

    #[test]
    fn remove_cifs_connection_goes_by_node_and_identifier() {
        let shared = SharedCluster::new(cluster());
        shared.add_cifs_connection(connection(1));
        shared.add_cifs_connection(connection(2));
        assert!(!shared.remove_cifs_connection("n2", 1));
        assert!(shared.remove_cifs_connection("n1", 1));
        assert!(!shared.remove_cifs_connection("n1", 1));
        assert_eq!(connections(&shared), [connection(2)]);
    }

    #[test]
    fn counter_reset_makes_the_next_statistics_reading_lower() {
        let shared = SharedCluster::new(Cluster::seed());
        let svm = shared.with(|c| c.iscsi_services[0].svm_uuid.clone());
        let total = |shared: &SharedCluster| {
            let now = unix_secs(shared.now());
            shared.with(|c| {
                let json = c.iscsi_service_json(&c.iscsi_services[0], now);
                json["statistics"]["iops_raw"]["total"]
                    .as_u64()
                    .expect("a counter")
            })
        };
        shared.pin_clock(crate::time::clock::clock_start() + MINUTE * 60);
        let before = total(&shared);
        assert!(shared.reset_iscsi_counters(&svm));
        assert_eq!(total(&shared), 0);
        shared.advance_clock(Duration::from_secs(15));
        let after = total(&shared);
        assert!(0 < after && after < before, "{after} after {before}");
        assert!(!shared.reset_iscsi_counters("no-such-svm"));
    }

    #[test]
    fn clock_reports_whether_it_is_pinned() {
        let shared = SharedCluster::new(cluster());
        assert!(!shared.clock_pinned());
        shared.advance_clock(Duration::from_secs(1));
        assert!(shared.clock_pinned());
        shared.resume_clock();
        assert!(!shared.clock_pinned());
    }

    #[test]
    fn remove_cifs_connections_reports_how_many_went() {
        let shared = SharedCluster::new(cluster());
        shared.add_cifs_connection(connection(1));
        shared.add_cifs_connection(connection(2));
        shared.add_cifs_connection(connection(3));
        assert_eq!(shared.remove_cifs_connections(|c| c.identifier >= 2), 2);
        assert_eq!(shared.with(|c| c.cifs_connections.len()), 1);
    }
}
