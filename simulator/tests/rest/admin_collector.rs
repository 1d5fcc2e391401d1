//! The admin API's hold on the performance collector and on collection iteration, over real
//! loopback HTTP, as a test in any language drives it: forced sample statuses, nodes that stop
//! answering the collector, back-filled collections, raw counters started high, and collections
//! slow enough for `return_timeout` to cut pages short. Each shows up in the next REST response.

use serde_json::json;

use super::admin_api::with_admin;
use super::admin_cluster::{admin_ok, admin_refusal};
use super::*;

const ISCSI: &str = "/api/protocols/san/iscsi/services";
const SVM1: &str = "19d04b8e-94d7-11e8-8370-005056b48fd2";
const SVM2: &str = "25f617cf-94d7-11e8-8370-005056b48fd2";
const NODE2: &str = "1cd8a442-86d1-11e0-ae1c-123478563413";

/// A seeded simulator with the admin API, pinned 7 s past its start: the newest 15-second sample
/// ends at the start.
async fn pinned_with_admin() -> Simulator {
    let simulator = with_admin().await;
    simulator
        .cluster()
        .pin_clock(clock_start() + Duration::from_secs(7));
    simulator
}

/// `metric.status` and `statistics.status` of svm2's service now.
async fn live(simulator: &Simulator) -> (String, String) {
    let body = get(
        simulator,
        &format!("{ISCSI}/{SVM2}?fields=metric,statistics"),
    )
    .await
    .json();
    let word = |v: &Value| v.as_str().expect("a status").to_owned();
    (
        word(&body["metric"]["status"]),
        word(&body["statistics"]["status"]),
    )
}

/// The status of svm2's newest sample of the last hour.
async fn newest_sample(simulator: &Simulator) -> String {
    let body = get(
        simulator,
        &format!("{ISCSI}/{SVM2}/metrics?fields=status&max_records=1"),
    )
    .await
    .json();
    body["records"][0]["status"]
        .as_str()
        .expect("a status")
        .to_owned()
}

fn pair(metric: &str, statistics: &str) -> (String, String) {
    (metric.to_owned(), statistics.to_owned())
}

#[tokio::test]
async fn a_status_put_over_http_shows_in_every_sample_until_deleted() {
    let simulator = pinned_with_admin().await;
    let target = format!("/iscsi/services/{SVM2}/status");
    for word in ["partial_no_uuid", "status_from_the_future"] {
        let body = json!({ "status": word }).to_string();
        assert_eq!(
            admin_ok(&simulator, "PUT", &target, &body, 200).await,
            json!({ "status": word })
        );
        assert_eq!(live(&simulator).await, pair(word, word));
        assert_eq!(newest_sample(&simulator).await, word);
    }
    assert_eq!(
        admin_ok(&simulator, "DELETE", &target, "", 204).await,
        Value::Null
    );
    assert_eq!(live(&simulator).await, pair("ok", "ok"));
}

#[tokio::test]
async fn forcing_the_status_of_an_svm_without_a_service_is_a_404_naming_it() {
    let simulator = with_admin().await;
    for svm in [SVM1, "no-such-svm"] {
        let target = format!("/iscsi/services/{svm}/status");
        let message =
            admin_refusal(&simulator, "PUT", &target, r#"{"status": "error"}"#, 404).await;
        assert!(message.contains(svm), "{message}");
        let message = admin_refusal(&simulator, "DELETE", &target, "", 404).await;
        assert!(message.contains(svm), "{message}");
    }
}

#[tokio::test]
async fn a_malformed_status_is_a_400_and_changes_nothing() {
    let simulator = pinned_with_admin().await;
    let target = format!("/iscsi/services/{SVM2}/status");
    for (body, named) in [
        ("{}", "status"),
        (r#"{"status": ""}"#, "status"),
        (r#"{"status": "two words"}"#, "status"),
        (r#"{"status": 5}"#, "status"),
        (r#"{"status": "error", "until": 5}"#, "until"),
        ("not json", "expected"),
    ] {
        let message = admin_refusal(&simulator, "PUT", &target, body, 400).await;
        assert!(message.contains(named), "{body}: {message}");
    }
    assert_eq!(live(&simulator).await, pair("ok", "ok"));
}

#[tokio::test]
async fn a_node_silenced_over_http_makes_samples_partial_until_it_answers_again() {
    let simulator = pinned_with_admin().await;
    let target = format!("/collector/nodes/{NODE2}");
    assert_eq!(
        admin_ok(&simulator, "PUT", &target, r#"{"responding": false}"#, 200).await,
        json!({ "node_uuid": NODE2, "responding": false })
    );
    assert_eq!(live(&simulator).await.1, "partial_no_response");
    simulator.cluster().advance_clock(Duration::from_secs(15));
    assert_eq!(
        live(&simulator).await,
        pair("partial_no_response", "partial_no_response")
    );
    assert_eq!(
        admin_ok(&simulator, "PUT", &target, r#"{"responding": true}"#, 200).await,
        json!({ "node_uuid": NODE2, "responding": true })
    );
    assert_eq!(live(&simulator).await.1, "ok");
}

#[tokio::test]
async fn silencing_an_unknown_node_is_a_404_and_a_malformed_body_a_400() {
    let simulator = with_admin().await;
    let message = admin_refusal(
        &simulator,
        "PUT",
        "/collector/nodes/no-such-node",
        r#"{"responding": false}"#,
        404,
    )
    .await;
    assert!(message.contains("no-such-node"), "{message}");
    let target = format!("/collector/nodes/{NODE2}");
    for (body, named) in [
        ("{}", "responding"),
        (r#"{"responding": "no"}"#, "responding"),
        (r#"{"responding": false, "for": 5}"#, "for"),
    ] {
        let message = admin_refusal(&simulator, "PUT", &target, body, 400).await;
        assert!(message.contains(named), "{body}: {message}");
    }
}

#[tokio::test]
async fn a_backfill_posted_over_http_marks_the_next_collection() {
    let simulator = pinned_with_admin().await;
    assert_eq!(
        admin_ok(&simulator, "POST", "/collector/backfill", "", 200).await,
        json!({ "collection": "2026-01-01T00:00:15Z" })
    );
    simulator.cluster().advance_clock(Duration::from_secs(8));
    assert_eq!(live(&simulator).await, pair("backfilled_data", "ok"));
    assert_eq!(newest_sample(&simulator).await, "backfilled_data");
}

#[tokio::test]
async fn a_counter_base_put_over_http_starts_the_raw_counters_there() {
    let simulator = pinned_with_admin().await;
    let base = 1_u64 << 63;
    let target = format!("/iscsi/services/{SVM2}/counters/base");
    let body = json!({ "base": base }).to_string();
    assert_eq!(
        admin_ok(&simulator, "PUT", &target, &body, 200).await,
        json!({ "base": base })
    );
    let reply = get(&simulator, &format!("{ISCSI}/{SVM2}?fields=statistics")).await;
    let total = reply.json()["statistics"]["iops_raw"]["total"]
        .as_u64()
        .expect("a counter");
    assert!(total > base, "{total}");
    let target = format!("/iscsi/services/{SVM1}/counters/base");
    let message = admin_refusal(&simulator, "PUT", &target, &body, 404).await;
    assert!(message.contains(SVM1), "{message}");
    let target = format!("/iscsi/services/{SVM2}/counters/base");
    let message = admin_refusal(&simulator, "PUT", &target, r#"{"base": -1}"#, 400).await;
    assert!(message.contains("base"), "{message}");
}

/// The number of records on each page of `target`, following next links.
async fn page_sizes(simulator: &Simulator, target: &str) -> Vec<usize> {
    let mut client = client::Client::connect(simulator).await;
    let mut target = target.to_owned();
    let mut sizes = Vec::new();
    loop {
        let body = client.get(&target).await.json();
        sizes.push(body["records"].as_array().expect("records").len());
        match body["_links"]["next"]["href"].as_str() {
            Some(next) => target = next.to_owned(),
            None => return sizes,
        }
    }
}

#[tokio::test]
async fn an_iteration_cost_put_over_http_cuts_pages_short_at_the_return_timeout() {
    let simulator = with_admin().await;
    let costs = admin_ok(
        &simulator,
        "PUT",
        "/iteration-costs",
        &json!({ "path": CIFS, "per_record_ms": 1000 }).to_string(),
        200,
    )
    .await;
    assert_eq!(costs, json!({ "default_ms": 0, "paths": { CIFS: 1000 } }));
    assert_eq!(
        page_sizes(&simulator, &format!("{CIFS}?return_timeout=10")).await,
        [10, 10, 10, 10]
    );
    assert_eq!(
        admin_ok(&simulator, "GET", "/iteration-costs", "", 200).await,
        costs
    );
}

#[tokio::test]
async fn a_default_iteration_cost_applies_to_collections_without_their_own() {
    let simulator = with_admin().await;
    admin_ok(
        &simulator,
        "PUT",
        "/iteration-costs",
        r#"{"per_record_ms": 1500}"#,
        200,
    )
    .await;
    assert_eq!(page_sizes(&simulator, CIFS).await, [10, 10, 10, 10]);
    let costs = admin_ok(
        &simulator,
        "PUT",
        "/iteration-costs",
        &json!({ "path": CIFS, "per_record_ms": 0 }).to_string(),
        200,
    )
    .await;
    assert_eq!(costs, json!({ "default_ms": 1500, "paths": { CIFS: 0 } }));
    assert_eq!(page_sizes(&simulator, CIFS).await, [40]);
}

#[tokio::test]
async fn a_malformed_iteration_cost_is_a_400_and_changes_nothing() {
    let simulator = with_admin().await;
    for (body, named) in [
        ("{}", "per_record_ms"),
        (r#"{"per_record_ms": -1}"#, "per_record_ms"),
        (r#"{"per_record_ms": 5, "path": "api/x"}"#, "path"),
        (r#"{"per_record_ms": 5, "paths": "/api/x"}"#, "paths"),
    ] {
        let message = admin_refusal(&simulator, "PUT", "/iteration-costs", body, 400).await;
        assert!(message.contains(named), "{body}: {message}");
    }
    assert_eq!(
        admin_ok(&simulator, "GET", "/iteration-costs", "", 200).await,
        json!({ "default_ms": 0, "paths": {} })
    );
}
