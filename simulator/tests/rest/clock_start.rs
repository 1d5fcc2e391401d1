//! A simulator whose clock starts at another instant than the default, as the gateway's
//! demonstration starts it at the wall-clock time: every date served follows the start.
//!
//! Tokio's clock is paused, so no real time passes while the clock runs: it reads its start
//! exactly, with nothing pinned.

use std::net::SocketAddr;

use ontap_simulator::parse_clock_start;

use super::admin_api::admin_call;
use super::*;

const START: &str = "2030-06-01T12:00:00Z";
const SVM2: &str = "/api/protocols/san/iscsi/services/25f617cf-94d7-11e8-8370-005056b48fd2";

/// A seeded simulator with the admin API, its clock started (and running) at [`START`].
async fn started_in_2030() -> Simulator {
    let config = SimulatorConfig {
        admin_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        clock_start: parse_clock_start(START).expect("a clock start"),
        ..SimulatorConfig::default()
    };
    Simulator::start(config, Cluster::seed())
        .await
        .expect("start")
}

fn timestamps(body: &Value) -> Vec<&str> {
    body["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["timestamp"].as_str().expect("timestamp"))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn admin_clock_reads_the_configured_start_running() {
    let simulator = started_in_2030().await;
    let reply = admin_call(&simulator, "GET", "/clock", "").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        serde_json::json!({"now": START, "pinned": false})
    );
    assert_eq!(simulator.cluster().now(), parse_clock_start(START).unwrap());
}

#[tokio::test(start_paused = true)]
async fn iscsi_metric_and_statistics_are_stamped_at_the_configured_start() {
    let simulator = started_in_2030().await;
    let reply = get(&simulator, &format!("{SVM2}?fields=metric,statistics")).await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["metric"]["timestamp"], START);
    assert_eq!(body["metric"]["status"], "ok");
    assert!(body["metric"]["iops"]["total"].as_u64() > Some(0));
    assert_eq!(body["statistics"]["timestamp"], START);
    assert!(body["statistics"]["iops_raw"]["total"].as_u64() > Some(0));
}

#[tokio::test(start_paused = true)]
async fn iscsi_history_ends_at_the_configured_start_in_every_interval() {
    let simulator = started_in_2030().await;
    for (interval, count, newest, oldest) in [
        ("1h", 240, START, "2030-06-01T11:00:15Z"),
        ("1d", 288, START, "2030-05-31T12:05:00Z"),
        ("1y", 365, "2030-06-01T00:00:00Z", "2029-06-02T00:00:00Z"),
    ] {
        let reply = get(&simulator, &format!("{SVM2}/metrics?interval={interval}")).await;
        assert_eq!(reply.status, 200, "{interval}");
        let body = reply.json();
        assert_eq!(body["num_records"], count, "{interval}");
        let stamps = timestamps(&body);
        assert_eq!(stamps.first(), Some(&newest), "{interval}");
        assert_eq!(stamps.last(), Some(&oldest), "{interval}");
    }
    let sample = get(&simulator, &format!("{SVM2}/metrics/{START}")).await;
    assert_eq!(sample.status, 200);
    assert_eq!(sample.json()["timestamp"], START);
}
