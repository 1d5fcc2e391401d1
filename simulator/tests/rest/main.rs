//! The simulator end to end, as a client sees it: real TCP (and TLS) connections to a running
//! simulator, through the crate's public API only.

mod accounts;
mod admin_api;
mod admin_cluster;
mod admin_collector;
mod cifs;
mod client;
mod clock_start;
mod cluster;
mod iscsi;
mod iscsi_metrics;
mod server;
mod statuses;

use std::collections::HashSet;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ontap_simulator::{
    CifsConnection, Cluster, Fault, FaultKind, MetricStatus, Simulator, SimulatorConfig,
    StatsSnapshot, clock_start, is_valid_alias,
};
use serde_json::Value;

use client::{Client, Reply};

const CIFS: &str = "/api/protocols/cifs/connections";

/// How long a test waits for a state the simulator should reach at once, before failing instead
/// of hanging.
const STATE_TIMEOUT: Duration = Duration::from_secs(10);

/// `Authorization` for HTTP Basic.
fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

/// `Authorization` for the default `admin` / `netapp1!`.
fn admin() -> String {
    basic("admin", "netapp1!")
}

async fn seeded() -> Simulator {
    Simulator::start(SimulatorConfig::default(), Cluster::seed())
        .await
        .expect("start")
}

/// One authenticated GET on a fresh connection.
async fn get(simulator: &Simulator, target: &str) -> Reply {
    Client::connect(simulator).await.get(target).await
}

/// One authenticated request with an optional JSON body, on a fresh connection.
async fn call(simulator: &Simulator, method: &str, target: &str, body: Option<&str>) -> Reply {
    Client::connect(simulator)
        .await
        .call(method, target, body)
        .await
}

/// The simulator's counters once `condition` holds, woken by each change rather than polled.
async fn stats_reach(
    simulator: &Simulator,
    what: &str,
    condition: impl FnMut(&StatsSnapshot) -> bool,
) -> StatsSnapshot {
    tokio::time::timeout(STATE_TIMEOUT, simulator.wait_for_stats(condition))
        .await
        .unwrap_or_else(|_| panic!("the simulator never reached: {what}"))
}

/// `YYYY-MM-DDTHH:MM:SSZ`, the only timestamp form responses carry: RFC 3339 in UTC, whole
/// seconds, exactly as jiff writes the instant it reads.
fn is_rfc3339_utc(text: &str) -> bool {
    text.parse::<jiff::Timestamp>()
        .is_ok_and(|instant| instant.to_string() == text)
}
