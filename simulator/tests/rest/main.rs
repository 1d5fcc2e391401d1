//! The simulator end to end, as a client sees it: real TCP (and TLS) connections to a running
//! simulator, through the crate's public API only.

mod accounts;
mod admin_api;
mod admin_cluster;
mod admin_collector;
mod cifs;
mod cifs_sessions;
mod cifs_sessions_close;
mod client;
mod clock_start;
mod cluster;
mod consistency;
mod iscsi;
mod iscsi_metrics;
mod iscsi_sessions;
mod server;
mod sizing;
mod statuses;
mod svms;

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
const CIFS_SESSIONS: &str = "/api/protocols/cifs/sessions";
const ISCSI_SESSIONS: &str = "/api/protocols/san/iscsi/sessions";

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

/// A seeded simulator whose clock stands at its start, 2026-01-01T00:00:00Z.
async fn pinned() -> Simulator {
    let simulator = seeded().await;
    simulator.cluster().pin_clock(clock_start());
    simulator
}

/// The members of a JSON object, sorted.
fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// Asserts an ONTAP error answer: the HTTP status, the ONTAP code and a message.
fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(
        reply.status,
        status,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.json()["error"]["code"], code);
    assert!(reply.json()["error"]["message"].is_string());
}

/// Every record a collection GET of `target` serves, following next links page by page on one
/// connection.
async fn all_records(simulator: &Simulator, target: &str) -> Vec<Value> {
    let mut client = Client::connect(simulator).await;
    let mut target = target.to_owned();
    let mut records = Vec::new();
    loop {
        let reply = client.get(&target).await;
        assert_eq!(reply.status, 200, "{target}");
        let body = reply.json();
        records.extend(body["records"].as_array().expect("records").iter().cloned());
        match body["_links"]["next"]["href"].as_str() {
            Some(next) => target = next.to_owned(),
            None => return records,
        }
    }
}

/// `num_records` of a collection GET of `target` with `return_records=false`.
async fn count(simulator: &Simulator, target: &str) -> u64 {
    let separator = if target.contains('?') { '&' } else { '?' };
    let reply = get(
        simulator,
        &format!("{target}{separator}return_records=false"),
    )
    .await;
    assert_eq!(reply.status, 200, "{target}");
    reply.json()["num_records"].as_u64().expect("a count")
}

/// The values at a dotted path of a record, looking through arrays; empty when absent.
fn field_values(record: &Value, path: &str) -> Vec<Value> {
    let mut current = vec![record.clone()];
    for segment in path.split('.') {
        current = current
            .into_iter()
            .flat_map(|value| match value {
                Value::Array(items) => items,
                other => vec![other],
            })
            .filter_map(|value| value.get(segment).cloned())
            .collect();
    }
    current
        .into_iter()
        .flat_map(|value| match value {
            Value::Array(items) => items,
            other => vec![other],
        })
        .collect()
}

/// A value as a filter operand, percent-encoded for the query.
fn operand(value: &Value) -> String {
    let text = match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    percent_encoding::utf8_percent_encode(&text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// For each field of `fields`, filters `collection` on the value of the first of its records
/// (all fields) that has one, and checks the answer is exactly the records whose field holds
/// that value, each record named by `key`.
async fn assert_each_filter_selects_its_matches(
    simulator: &Simulator,
    collection: &str,
    fields: &[&str],
    key: fn(&Value) -> String,
) {
    let all = all_records(simulator, &format!("{collection}?fields=*")).await;
    for field in fields {
        let value = all
            .iter()
            .find_map(|record| field_values(record, field).into_iter().next())
            .unwrap_or_else(|| panic!("no record has {field}"));
        let mut expected: Vec<String> = all
            .iter()
            .filter(|record| field_values(record, field).contains(&value))
            .map(key)
            .collect();
        let target = format!("{collection}?{field}={}", operand(&value));
        let mut served: Vec<String> = all_records(simulator, &target)
            .await
            .iter()
            .map(key)
            .collect();
        expected.sort();
        served.sort();
        assert!(!served.is_empty(), "{target}");
        assert_eq!(served, expected, "{target}");
    }
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
