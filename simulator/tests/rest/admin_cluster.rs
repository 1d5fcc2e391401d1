//! The admin API's hold on what the simulator serves, over real loopback HTTP: the simulated
//! clock, iSCSI counter resets, CIFS connections added and removed by hand, and their churn. Every
//! change shows up in the next REST response, with no real time waited for.

use ontap_simulator::CifsChurn;
use serde_json::json;

use super::admin_api::{admin_call, with_admin};
use super::*;

const ISCSI: &str = "/api/protocols/san/iscsi/services";
const SVM1: &str = "19d04b8e-94d7-11e8-8370-005056b48fd2";
const SVM2: &str = "25f617cf-94d7-11e8-8370-005056b48fd2";
const VS1: &str = "fc824aa8-4e60-11ea-afb1-0050568ec4e4";
const NODE1: &str = "1cd8a442-86d1-11e0-ae1c-123478563412";

/// A seeded simulator with the admin API, its clock standing at its start.
async fn pinned_with_admin() -> Simulator {
    let simulator = with_admin().await;
    simulator.cluster().pin_clock(clock_start());
    simulator
}

/// An admin request that must succeed with `status`; its JSON body, or null when it has none.
pub(super) async fn admin_ok(
    simulator: &Simulator,
    method: &str,
    target: &str,
    body: &str,
    status: u16,
) -> Value {
    let reply = admin_call(simulator, method, target, body).await;
    assert_eq!(
        reply.status,
        status,
        "{method} {target}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    if reply.body.is_empty() {
        Value::Null
    } else {
        reply.json()
    }
}

/// The `error` message of a refusal with `status`.
pub(super) async fn admin_refusal(
    simulator: &Simulator,
    method: &str,
    target: &str,
    body: &str,
    status: u16,
) -> String {
    let reply = admin_call(simulator, method, target, body).await;
    assert_eq!(reply.status, status, "{method} {target} {body}");
    reply.json()["error"]
        .as_str()
        .expect("a message")
        .to_owned()
}

/// `(node uuid, identifier)` of every connection the REST API serves.
async fn served_connections(simulator: &Simulator) -> HashSet<(String, u64)> {
    let reply = get(
        simulator,
        &format!("{CIFS}?fields=identifier&max_records=1000"),
    )
    .await;
    assert_eq!(reply.status, 200);
    reply.json()["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            (
                r["node"]["uuid"].as_str().expect("node").to_owned(),
                r["identifier"].as_u64().expect("identifier"),
            )
        })
        .collect()
}

/// A connection on node1 of vs1, in the admin API's form.
fn connection(identifier: u32) -> Value {
    json!({
        "node_uuid": NODE1, "svm_uuid": VS1, "identifier": identifier,
        "network_context_id": 4, "client_ip": "10.74.7.9", "client_port": 4000,
        "server_ip": "10.140.70.197", "session_ids": [7, 8],
    })
}

async fn iops_raw_total(simulator: &Simulator) -> u64 {
    let reply = get(simulator, &format!("{ISCSI}/{SVM2}?fields=statistics")).await;
    assert_eq!(reply.status, 200);
    reply.json()["statistics"]["iops_raw"]["total"]
        .as_u64()
        .expect("a counter")
}

#[tokio::test]
async fn clock_shows_the_simulated_time_and_whether_it_stands_still() {
    let simulator = with_admin().await;
    let running = admin_ok(&simulator, "GET", "/clock", "", 200).await;
    assert_eq!(running["pinned"], false);
    assert!(
        running["now"]
            .as_str()
            .is_some_and(|now| now.starts_with("2026-01-01T00:")),
        "{running}"
    );
    simulator.cluster().pin_clock(clock_start());
    assert_eq!(
        admin_ok(&simulator, "GET", "/clock", "", 200).await,
        json!({"now": "2026-01-01T00:00:00Z", "pinned": true})
    );
}

#[tokio::test]
async fn pinning_the_clock_stands_it_still_at_that_instant() {
    let simulator = with_admin().await;
    let pinned = admin_ok(
        &simulator,
        "POST",
        "/clock",
        r#"{"pin": "2026-03-01T12:00:00+02:00"}"#,
        200,
    )
    .await;
    assert_eq!(
        pinned,
        json!({"now": "2026-03-01T10:00:00Z", "pinned": true})
    );
    assert_eq!(admin_ok(&simulator, "GET", "/clock", "", 200).await, pinned);
}

#[tokio::test]
async fn advancing_the_clock_pins_it_that_much_later() {
    let simulator = pinned_with_admin().await;
    admin_ok(
        &simulator,
        "POST",
        "/clock",
        r#"{"advance_seconds": 15}"#,
        200,
    )
    .await;
    let advanced = admin_ok(
        &simulator,
        "POST",
        "/clock",
        r#"{"advance_seconds": 0.5}"#,
        200,
    )
    .await;
    assert_eq!(
        advanced,
        json!({"now": "2026-01-01T00:00:15.5Z", "pinned": true})
    );
}

#[tokio::test]
async fn resuming_the_clock_lets_it_run_from_the_time_shown() {
    let simulator = pinned_with_admin().await;
    let resumed = admin_ok(&simulator, "POST", "/clock", r#"{"resume": true}"#, 200).await;
    assert_eq!(resumed["pinned"], false);
    assert!(simulator.cluster().now() >= clock_start());
}

#[tokio::test]
async fn malformed_clock_change_is_a_400_and_leaves_the_clock_alone() {
    let simulator = pinned_with_admin().await;
    for (body, named) in [
        ("{}", "exactly one"),
        (r#"{"pin": "noon"}"#, "noon"),
        (r#"{"advance_seconds": -15}"#, "non-negative"),
        (r#"{"resume": false}"#, "only true"),
        (r#"{"advance": 15}"#, "advance"),
        ("{", "EOF"),
    ] {
        let message = admin_refusal(&simulator, "POST", "/clock", body, 400).await;
        assert!(message.contains(named), "{body}: {message}");
    }
    assert_eq!(simulator.cluster().now(), clock_start());
}

#[tokio::test]
async fn advancing_the_clock_makes_the_next_iscsi_sample() {
    let simulator = pinned_with_admin().await;
    let metric = |reply: Reply| reply.json()["metric"]["timestamp"].clone();
    let target = format!("{ISCSI}/{SVM2}?fields=metric");
    assert_eq!(
        metric(get(&simulator, &target).await),
        "2026-01-01T00:00:00Z"
    );
    admin_ok(
        &simulator,
        "POST",
        "/clock",
        r#"{"advance_seconds": 15}"#,
        200,
    )
    .await;
    assert_eq!(
        metric(get(&simulator, &target).await),
        "2026-01-01T00:00:15Z"
    );
}

#[tokio::test]
async fn counter_reset_makes_the_next_statistics_reading_lower() {
    let simulator = pinned_with_admin().await;
    let before = iops_raw_total(&simulator).await;
    let reset = format!("/iscsi/services/{SVM2}/counters/reset");
    assert_eq!(
        admin_ok(&simulator, "POST", &reset, "", 204).await,
        Value::Null
    );
    admin_ok(
        &simulator,
        "POST",
        "/clock",
        r#"{"advance_seconds": 15}"#,
        200,
    )
    .await;
    let after = iops_raw_total(&simulator).await;
    assert!(0 < after && after < before, "{after} after {before}");
}

#[tokio::test]
async fn counter_reset_without_an_iscsi_service_is_a_404_naming_the_svm() {
    let simulator = with_admin().await;
    for svm in [SVM1, "no-such-svm"] {
        let target = format!("/iscsi/services/{svm}/counters/reset");
        let message = admin_refusal(&simulator, "POST", &target, "", 404).await;
        assert!(message.contains(svm), "{message}");
    }
}

#[tokio::test]
async fn cifs_connections_list_the_model_with_uuids() {
    let simulator = with_admin().await;
    let listed = admin_ok(&simulator, "GET", "/cifs/connections", "", 200).await;
    let listed = listed.as_array().expect("an array");
    assert_eq!(listed.len(), 40);
    let first = listed
        .iter()
        .find(|c| c["identifier"] == 91842)
        .expect("the page's example");
    assert_eq!(
        *first,
        json!({
            "node_uuid": NODE1, "svm_uuid": VS1, "identifier": 91842,
            "network_context_id": 3, "client_ip": "10.74.7.182", "client_port": 12345,
            "server_ip": "10.140.70.197", "session_ids": [625_718_873_227_788_312_u64],
        })
    );
}

#[tokio::test]
async fn posted_connection_is_served_and_listed() {
    let simulator = with_admin().await;
    let reply = admin_call(
        &simulator,
        "POST",
        "/cifs/connections",
        &connection(5).to_string(),
    )
    .await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.json(), connection(5));
    let location = format!("/cifs/connections/{NODE1}/5");
    assert_eq!(reply.header("location"), Some(location.as_str()));
    let served = get(&simulator, &format!("{CIFS}?identifier=5&fields=sessions")).await;
    assert_eq!(served.json()["num_records"], 1);
    assert_eq!(
        served.json()["records"][0]["sessions"],
        json!([{"identifier": 7}, {"identifier": 8}])
    );
    let listed = admin_ok(&simulator, "GET", "/cifs/connections", "", 200).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(41));
}

#[tokio::test]
async fn posting_a_connection_is_refused_for_an_unknown_node_or_svm_or_an_identifier_in_use() {
    let simulator = with_admin().await;
    let mut unknown_node = connection(5);
    unknown_node["node_uuid"] = json!("no-such-node");
    let mut unknown_svm = connection(5);
    unknown_svm["svm_uuid"] = json!("no-such-svm");
    for (body, named) in [
        (unknown_node.to_string(), "no-such-node"),
        (unknown_svm.to_string(), "no-such-svm"),
        (connection(91842).to_string(), "91842"),
        (r#"{"node_uuid": "x"}"#.to_owned(), "svm_uuid"),
        ("[]".to_owned(), "a CIFS connection"),
    ] {
        let message = admin_refusal(&simulator, "POST", "/cifs/connections", &body, 400).await;
        assert!(message.contains(named), "{body}: {message}");
    }
    assert_eq!(served_connections(&simulator).await.len(), 40);
}

#[tokio::test]
async fn deleting_a_connection_takes_it_out_of_the_collection() {
    let simulator = with_admin().await;
    let target = format!("/cifs/connections/{NODE1}/91842");
    assert_eq!(
        admin_ok(&simulator, "DELETE", &target, "", 204).await,
        Value::Null
    );
    let served = served_connections(&simulator).await;
    assert_eq!(served.len(), 39);
    assert!(!served.contains(&(NODE1.to_owned(), 91842)));
}

#[tokio::test]
async fn deleting_an_unknown_connection_is_a_404_naming_it() {
    let simulator = with_admin().await;
    for identifier in ["91842", "1", "abc"] {
        let node = if identifier == "91842" { SVM1 } else { NODE1 };
        let target = format!("/cifs/connections/{node}/{identifier}");
        let message = admin_refusal(&simulator, "DELETE", &target, "", 404).await;
        assert!(message.contains(identifier), "{message}");
    }
    assert_eq!(served_connections(&simulator).await.len(), 40);
}

#[tokio::test]
async fn churn_is_off_by_default() {
    let simulator = with_admin().await;
    assert_eq!(
        admin_ok(&simulator, "GET", "/cifs/churn", "", 200).await,
        json!({"per_minute": 0.0, "seed": CifsChurn::DEFAULT_SEED, "events": 0})
    );
}

#[tokio::test]
async fn putting_a_churn_rate_makes_connections_come_and_go_as_the_clock_advances() {
    let simulator = pinned_with_admin().await;
    let seeded = served_connections(&simulator).await;
    let set = admin_ok(
        &simulator,
        "PUT",
        "/cifs/churn",
        r#"{"per_minute": 60, "seed": 3}"#,
        200,
    )
    .await;
    assert_eq!(set, json!({"per_minute": 60.0, "seed": 3, "events": 0}));
    assert_eq!(served_connections(&simulator).await, seeded);
    admin_ok(
        &simulator,
        "POST",
        "/clock",
        r#"{"advance_seconds": 600}"#,
        200,
    )
    .await;
    let churned = served_connections(&simulator).await;
    assert!(churned.difference(&seeded).count() > 0, "some opened");
    assert!(seeded.difference(&churned).count() > 0, "some closed");
    let read = admin_ok(&simulator, "GET", "/cifs/churn", "", 200).await;
    assert!(read["events"].as_u64() > Some(0), "{read}");
}

#[tokio::test]
async fn putting_churn_off_stops_the_changes() {
    let simulator = pinned_with_admin().await;
    admin_ok(
        &simulator,
        "PUT",
        "/cifs/churn",
        r#"{"per_minute": 60}"#,
        200,
    )
    .await;
    admin_ok(
        &simulator,
        "POST",
        "/clock",
        r#"{"advance_seconds": 60}"#,
        200,
    )
    .await;
    admin_ok(
        &simulator,
        "PUT",
        "/cifs/churn",
        r#"{"per_minute": 0}"#,
        200,
    )
    .await;
    let stopped = served_connections(&simulator).await;
    admin_ok(
        &simulator,
        "POST",
        "/clock",
        r#"{"advance_seconds": 3600}"#,
        200,
    )
    .await;
    assert_eq!(served_connections(&simulator).await, stopped);
}

#[tokio::test]
async fn bad_churn_rate_is_a_400_and_changes_nothing() {
    let simulator = with_admin().await;
    for (body, named) in [
        (r#"{"per_minute": -1}"#, "-1"),
        (r#"{"per_minute": 1e400}"#, "per_minute"),
        (r#"{"per_minute": "fast"}"#, "per_minute"),
        (r#"{"seed": 4}"#, "per_minute"),
    ] {
        let message = admin_refusal(&simulator, "PUT", "/cifs/churn", body, 400).await;
        assert!(message.contains(named), "{body}: {message}");
    }
    assert_eq!(simulator.cluster().cifs_churn(), CifsChurn::OFF);
}

/// The connections a simulator started with churn serves `minutes` after its clock started.
async fn churning_at(minutes: u64) -> HashSet<(String, u64)> {
    let config = SimulatorConfig {
        cifs_churn: CifsChurn::new(6.0, CifsChurn::DEFAULT_SEED).expect("a valid rate"),
        ..SimulatorConfig::default()
    };
    let simulator = Simulator::start(config, Cluster::seed())
        .await
        .expect("start");
    simulator
        .cluster()
        .pin_clock(clock_start() + Duration::from_secs(60 * minutes));
    served_connections(&simulator).await
}

#[tokio::test]
async fn churn_configured_at_start_is_the_same_in_every_run() {
    let first = churning_at(30).await;
    assert_eq!(churning_at(30).await, first);
    let seed = seeded().await;
    assert_ne!(first, served_connections(&seed).await);
}
