//! End-to-end tests of the `status` of iSCSI samples: the ones the collector's history gives
//! them, and the ones a test forces.

use std::time::Duration;

use super::*;

const SVM1: &str = "19d04b8e-94d7-11e8-8370-005056b48fd2";
const SVM2: &str = "25f617cf-94d7-11e8-8370-005056b48fd2";
const SVM3: &str = "fd3a6b25-94d7-11e8-8370-005056b48fd2";
const NODE2: &str = "1cd8a442-86d1-11e0-ae1c-123478563413";
const SERVICES: &str = "/api/protocols/san/iscsi/services";

fn service(uuid: &str) -> String {
    format!("{SERVICES}/{uuid}?fields=statistics,metric")
}

fn metrics(uuid: &str) -> String {
    format!("{SERVICES}/{uuid}/metrics")
}

/// A seeded simulator pinned 7 s past its start: the newest 15-second sample ends at the start.
async fn pinned() -> Simulator {
    let simulator = seeded().await;
    simulator
        .cluster()
        .pin_clock(clock_start() + Duration::from_secs(7));
    simulator
}

/// `metric.status` and `statistics.status` of a service now.
async fn live(simulator: &Simulator, uuid: &str) -> (String, String) {
    let body = get(simulator, &service(uuid)).await.json();
    let word = |v: &Value| v.as_str().expect("status").to_owned();
    (
        word(&body["metric"]["status"]),
        word(&body["statistics"]["status"]),
    )
}

/// The statuses of the newest `n` samples of a series, newest first.
async fn newest(simulator: &Simulator, query: &str, n: usize) -> Vec<String> {
    let body = get(
        simulator,
        &format!("{}?{query}&max_records={n}", metrics(SVM2)),
    )
    .await
    .json();
    body["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["status"].as_str().expect("status").to_owned())
        .collect()
}

#[tokio::test]
async fn a_forced_status_shows_in_every_reading_and_sample_of_the_service() {
    let simulator = pinned().await;
    let mut words: Vec<String> = MetricStatus::DOCUMENTED
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    words.push("status_from_the_future".to_owned());
    for word in words {
        assert!(simulator.cluster().force_iscsi_status(SVM2, word.as_str()));
        assert_eq!(live(&simulator, SVM2).await, (word.clone(), word.clone()));
        for interval in ["1h", "1y"] {
            let body = get(
                &simulator,
                &format!("{}?interval={interval}", metrics(SVM2)),
            )
            .await
            .json();
            let records = body["records"].as_array().expect("records");
            assert!(!records.is_empty());
            assert!(
                records.iter().all(|r| r["status"] == word.as_str()),
                "{word}"
            );
        }
        let one = get(
            &simulator,
            &format!("{}/2025-06-01T00:00:00Z", metrics(SVM2)),
        )
        .await
        .json();
        assert_eq!(one["status"], word.as_str());
        let filtered = get(
            &simulator,
            &format!("{SERVICES}?metric.status={word}&statistics.status={word}"),
        )
        .await
        .json();
        // svm3's service, not forced, reports its own `ok`.
        let (expected, svms) = if word == "ok" {
            (2, vec![SVM2, SVM3])
        } else {
            (1, vec![SVM2])
        };
        assert_eq!(filtered["num_records"], expected, "{word}");
        assert_eq!(field_values(&filtered, "records.svm.uuid"), svms, "{word}");
    }
}

#[tokio::test]
async fn a_forced_status_keeps_the_computed_numbers() {
    let simulator = pinned().await;
    let before = get(&simulator, &service(SVM2)).await.json();
    simulator
        .cluster()
        .force_iscsi_status(SVM2, MetricStatus::Error);
    let after = get(&simulator, &service(SVM2)).await.json();
    assert_eq!(after["metric"]["iops"], before["metric"]["iops"]);
    assert_eq!(
        after["statistics"]["iops_raw"],
        before["statistics"]["iops_raw"]
    );
}

#[tokio::test]
async fn clearing_a_forced_status_brings_back_the_samples_own() {
    let simulator = pinned().await;
    simulator.cluster().force_iscsi_status(SVM2, "error");
    assert!(simulator.cluster().clear_iscsi_status(SVM2));
    assert_eq!(live(&simulator, SVM2).await, ("ok".into(), "ok".into()));
    assert_eq!(newest(&simulator, "interval=1d", 3).await, ["ok"; 3]);
}

#[tokio::test]
async fn a_forced_status_is_one_svms_only() {
    let simulator = pinned().await;
    call(
        &simulator,
        "POST",
        SERVICES,
        Some(r#"{"svm": {"name": "svm1"}}"#),
    )
    .await;
    simulator.cluster().force_iscsi_status(SVM2, "not_found");
    assert_eq!(live(&simulator, SVM1).await, ("ok".into(), "ok".into()));
}

#[tokio::test]
async fn forcing_or_clearing_the_status_of_an_svm_without_a_service_reports_false() {
    let simulator = pinned().await;
    assert!(!simulator.cluster().force_iscsi_status(SVM1, "ok"));
    assert!(!simulator.cluster().clear_iscsi_status(SVM1));
}

#[tokio::test]
async fn a_node_not_answering_makes_samples_partial_then_the_next_one_inconsistent() {
    let simulator = pinned().await;
    let cluster = simulator.cluster();
    assert!(cluster.set_node_responding(NODE2, false));
    assert_eq!(
        live(&simulator, SVM2).await,
        ("ok".into(), "partial_no_response".into())
    );
    cluster.advance_clock(Duration::from_secs(8));
    assert_eq!(
        live(&simulator, SVM2).await,
        ("partial_no_response".into(), "partial_no_response".into())
    );
    cluster.advance_clock(Duration::from_secs(20));
    assert_eq!(
        live(&simulator, SVM2).await,
        ("partial_no_response".into(), "partial_no_response".into())
    );
    assert!(cluster.set_node_responding(NODE2, true));
    assert_eq!(live(&simulator, SVM2).await.1, "ok");
    cluster.advance_clock(Duration::from_secs(10));
    assert_eq!(
        live(&simulator, SVM2).await,
        ("inconsistent_delta_time".into(), "ok".into())
    );
    cluster.advance_clock(Duration::from_secs(15));
    assert_eq!(live(&simulator, SVM2).await, ("ok".into(), "ok".into()));
    assert_eq!(
        newest(&simulator, "interval=1h", 5).await,
        [
            "ok",
            "inconsistent_delta_time",
            "partial_no_response",
            "partial_no_response",
            "ok"
        ]
    );
}

#[tokio::test]
async fn a_collection_made_up_later_is_backfilled_in_every_sample_holding_it() {
    let simulator = pinned().await;
    let cluster = simulator.cluster();
    let missed = cluster.backfill_next_collection();
    assert_eq!(missed, clock_start() + Duration::from_secs(15));
    cluster.advance_clock(Duration::from_secs(8));
    assert_eq!(
        live(&simulator, SVM2).await,
        ("backfilled_data".into(), "ok".into())
    );
    cluster.advance_clock(Duration::from_secs(15));
    assert_eq!(live(&simulator, SVM2).await.0, "ok");
    assert_eq!(
        newest(&simulator, "interval=1h", 3).await,
        ["ok", "backfilled_data", "ok"]
    );
    let one = get(
        &simulator,
        &format!("{}/2026-01-01T00:00:15Z", metrics(SVM2)),
    )
    .await
    .json();
    assert_eq!(one["status"], "backfilled_data");
    cluster.advance_clock(Duration::from_secs(300));
    assert_eq!(
        newest(&simulator, "interval=1d", 2).await,
        ["backfilled_data", "ok"]
    );
}
