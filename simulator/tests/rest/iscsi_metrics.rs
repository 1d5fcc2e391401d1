//! End-to-end tests of an iSCSI service's performance history.

use std::time::Duration;

use super::*;

const SVM1: &str = "19d04b8e-94d7-11e8-8370-005056b48fd2";
const SVM2: &str = "25f617cf-94d7-11e8-8370-005056b48fd2";
const METRICS: &str =
    "/api/protocols/san/iscsi/services/25f617cf-94d7-11e8-8370-005056b48fd2/metrics";

/// A seeded simulator pinned 7 s past its start, so the newest 15-second sample is the start.
async fn pinned() -> Simulator {
    let simulator = seeded().await;
    simulator
        .cluster()
        .pin_clock(clock_start() + Duration::from_secs(7));
    simulator
}

fn records(body: &Value) -> &Vec<Value> {
    body["records"].as_array().expect("records")
}

fn timestamps(body: &Value) -> Vec<&str> {
    records(body)
        .iter()
        .map(|r| r["timestamp"].as_str().expect("timestamp"))
        .collect()
}

fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(
        reply.status,
        status,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.json()["error"]["code"], code);
}

#[tokio::test]
async fn default_is_the_last_hour_newest_first_with_every_field() {
    let simulator = pinned().await;
    let reply = get(&simulator, METRICS).await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["num_records"], 240);
    let first = &records(&body)[0];
    assert_eq!(first["timestamp"], "2026-01-01T00:00:00Z");
    assert_eq!(first["duration"], "PT15S");
    assert_eq!(first["status"], "ok");
    assert_eq!(first["svm"]["uuid"], SVM2);
    for group in ["iops", "latency"] {
        for class in ["read", "write", "other", "total"] {
            assert!(first[group][class].as_u64() > Some(0), "{group}.{class}");
        }
    }
    assert!(first["throughput"]["total"].as_u64() > Some(0));
    assert_eq!(
        first["_links"]["self"]["href"],
        format!("{METRICS}/2026-01-01T00:00:00Z")
    );
    assert_eq!(timestamps(&body)[239], "2025-12-31T23:00:15Z");
}

#[tokio::test]
async fn each_interval_has_ontap_sample_spacing() {
    let simulator = pinned().await;
    for (interval, count, duration, oldest) in [
        ("1h", 240, "PT15S", "2025-12-31T23:00:15Z"),
        ("1d", 288, "PT5M", "2025-12-31T00:05:00Z"),
        ("1w", 336, "PT30M", "2025-12-25T00:30:00Z"),
        ("1m", 360, "PT2H", "2025-12-02T02:00:00Z"),
        ("1y", 365, "P1D", "2025-01-02T00:00:00Z"),
    ] {
        let body = get(&simulator, &format!("{METRICS}?interval={interval}"))
            .await
            .json();
        assert_eq!(body["num_records"], count, "{interval}");
        assert!(
            records(&body).iter().all(|r| r["duration"] == duration),
            "{interval}"
        );
        assert_eq!(
            timestamps(&body).last().copied(),
            Some(oldest),
            "{interval}"
        );
    }
}

#[tokio::test]
async fn max_records_pages_a_day_with_next_links_keeping_the_interval() {
    let simulator = pinned().await;
    let body = get(&simulator, &format!("{METRICS}?interval=1d&max_records=3"))
        .await
        .json();
    assert_eq!(
        timestamps(&body),
        [
            "2026-01-01T00:00:00Z",
            "2025-12-31T23:55:00Z",
            "2025-12-31T23:50:00Z"
        ]
    );
    let next = body["_links"]["next"]["href"].as_str().expect("next");
    assert_eq!(
        next,
        format!("{METRICS}?interval=1d&max_records=3&start.timestamp=2025-12-31T23%3A50%3A00Z")
    );
    let second = get(&simulator, next).await.json();
    assert_eq!(timestamps(&second)[0], "2025-12-31T23:45:00Z");
    assert!(records(&second).iter().all(|r| r["duration"] == "PT5M"));
}

#[tokio::test]
async fn following_every_next_link_visits_the_whole_series_once() {
    let simulator = pinned().await;
    let mut client = Client::connect(&simulator).await;
    let mut target = format!("{METRICS}?interval=1w&max_records=100&fields=timestamp");
    let mut seen = Vec::new();
    loop {
        let body = client.get(&target).await.json();
        seen.extend(timestamps(&body).iter().map(|t| (*t).to_owned()));
        match body["_links"]["next"]["href"].as_str() {
            Some(next) => target = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 336);
    assert!(seen.windows(2).all(|w| w[0] > w[1]));
}

#[tokio::test]
async fn a_slow_history_returns_early_and_its_next_links_visit_every_sample_once() {
    let simulator = pinned().await;
    simulator
        .cluster()
        .set_iteration_cost(METRICS, Duration::from_secs(1));
    let mut client = Client::connect(&simulator).await;
    let mut target = format!("{METRICS}?interval=1h&return_timeout=100&fields=timestamp");
    let (mut seen, mut pages) = (Vec::new(), Vec::new());
    loop {
        let body = client.get(&target).await.json();
        pages.push(body["num_records"].as_u64().expect("count"));
        seen.extend(timestamps(&body).iter().map(|t| (*t).to_owned()));
        match body["_links"]["next"]["href"].as_str() {
            Some(next) => target = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, [100, 100, 40]);
    assert_eq!(seen.len(), 240);
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "newest first, no repeats"
    );
}

#[tokio::test]
async fn unknown_interval_is_400_262197() {
    let simulator = pinned().await;
    let reply = get(&simulator, &format!("{METRICS}?interval=2h")).await;
    assert_error(&reply, 400, "262197");
    assert_eq!(reply.json()["error"]["target"], "interval");
}

#[tokio::test]
async fn timestamp_filter_takes_rfc3339_and_ontap_forms() {
    let simulator = pinned().await;
    let body = get(
        &simulator,
        &format!("{METRICS}?timestamp=%3E2025-12-31T23:58:00Z"),
    )
    .await
    .json();
    assert_eq!(body["num_records"], 8);
    let body = get(
        &simulator,
        &format!("{METRICS}?timestamp=2025-12-31%2023%3A59%3A45%20%2B0000"),
    )
    .await
    .json();
    assert_eq!(timestamps(&body), ["2025-12-31T23:59:45Z"]);
}

#[tokio::test]
async fn every_timestamp_in_a_series_body_is_rfc3339_utc() {
    let simulator = pinned().await;
    for interval in ["1h", "1d", "1w", "1m", "1y"] {
        let body = get(&simulator, &format!("{METRICS}?interval={interval}"))
            .await
            .json();
        for timestamp in timestamps(&body) {
            assert!(is_rfc3339_utc(timestamp), "{interval}: {timestamp}");
        }
    }
}

#[tokio::test]
async fn timestamp_order_and_filters_compare_instants_across_offsets() {
    let simulator = pinned().await;
    let body = get(
        &simulator,
        &format!(
            "{METRICS}?order_by=timestamp%20asc&fields=timestamp\
             &timestamp=%3E2025-12-31T19:59:00-04:00"
        ),
    )
    .await
    .json();
    assert_eq!(
        timestamps(&body),
        [
            "2025-12-31T23:59:15Z",
            "2025-12-31T23:59:30Z",
            "2025-12-31T23:59:45Z",
            "2026-01-01T00:00:00Z"
        ]
    );
}

#[tokio::test]
async fn filters_and_order_by_apply_to_sample_values() {
    let simulator = pinned().await;
    let body = get(
        &simulator,
        &format!("{METRICS}?order_by=iops.total%20desc&status=ok&duration=PT15S&fields=iops.total"),
    )
    .await
    .json();
    let totals: Vec<u64> = records(&body)
        .iter()
        .map(|r| r["iops"]["total"].as_u64().expect("total"))
        .collect();
    assert_eq!(totals.len(), 240);
    assert!(totals.windows(2).all(|w| w[0] >= w[1]));
    let threshold = totals[9];
    let body = get(
        &simulator,
        &format!("{METRICS}?iops.total=%3E%3D{threshold}&return_records=false"),
    )
    .await
    .json();
    assert!(body["num_records"].as_u64() >= Some(10));
}

/// How many samples of `interval` match `filter`.
async fn matching(simulator: &Simulator, interval: &str, filter: &str) -> u64 {
    let reply = get(
        simulator,
        &format!("{METRICS}?interval={interval}&{filter}&return_records=false"),
    )
    .await;
    assert_eq!(
        reply.status,
        200,
        "{filter}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()["num_records"].as_u64().expect("a count")
}

#[tokio::test]
async fn duration_filters_compare_durations_not_text() {
    let simulator = pinned().await;
    let month = matching(&simulator, "1m", "duration=PT2H").await;
    assert!(month > 0);
    for filter in [
        "duration=%3EPT30M",
        "duration=PT120M",
        "duration=%3C%3DPT7200S",
        "duration=%3CP1D",
        "duration=%21PT15S",
    ] {
        assert_eq!(matching(&simulator, "1m", filter).await, month, "{filter}");
    }
    for filter in ["duration=%3CPT30M", "duration=%3EPT2H", "duration=P1D"] {
        assert_eq!(matching(&simulator, "1m", filter).await, 0, "{filter}");
    }
    let year = matching(&simulator, "1y", "duration=P1D").await;
    assert!(year > 0);
    assert_eq!(matching(&simulator, "1y", "duration=%3EPT23H").await, year);
    assert_eq!(matching(&simulator, "1y", "duration=PT24H").await, year);
}

#[tokio::test]
async fn a_duration_filter_that_is_not_a_duration_is_400_invalid_value() {
    let simulator = pinned().await;
    for operand in ["%3Esoon", "PT", "2H"] {
        let reply = get(&simulator, &format!("{METRICS}?duration={operand}")).await;
        assert_error(&reply, 400, "262197");
        assert_eq!(reply.json()["error"]["target"], "duration");
    }
}

#[tokio::test]
async fn fields_restrict_samples_to_keys_and_the_named_fields() {
    let simulator = pinned().await;
    let body = get(
        &simulator,
        &format!("{METRICS}?fields=latency.read&max_records=1"),
    )
    .await
    .json();
    let record = &records(&body)[0];
    let mut keys: Vec<&String> = record.as_object().expect("record").keys().collect();
    keys.sort_unstable();
    assert_eq!(keys, ["_links", "latency", "svm", "timestamp"]);
    assert_eq!(record["latency"].as_object().map(|m| m.len()), Some(1));
}

#[tokio::test]
async fn return_records_false_counts_samples() {
    let simulator = pinned().await;
    let body = get(
        &simulator,
        &format!("{METRICS}?interval=1y&return_records=false"),
    )
    .await
    .json();
    assert_eq!(body["num_records"], 365);
    assert!(body.get("records").is_none());
}

#[tokio::test]
async fn disabled_period_shows_as_zero_samples() {
    let simulator = pinned().await;
    simulator.cluster().set_iscsi_enabled(SVM2, false);
    simulator.cluster().advance_clock(Duration::from_secs(300));
    let body = get(&simulator, &format!("{METRICS}?max_records=3"))
        .await
        .json();
    for record in records(&body) {
        assert_eq!(record["iops"]["total"], 0);
        assert_eq!(record["status"], "ok");
    }
}

#[tokio::test]
async fn a_year_of_history_reads_the_same_each_time_while_the_clock_stands_still() {
    let simulator = pinned().await;
    let mut client = Client::connect(&simulator).await;
    let first = client.get(&format!("{METRICS}?interval=1y")).await;
    let again = client.get(&format!("{METRICS}?interval=1y")).await;
    assert_eq!(first.status, 200);
    assert_eq!(records(&first.json()).len(), 365);
    assert_eq!(first.body, again.body);
}

#[tokio::test]
async fn metrics_of_an_unknown_svm_are_404_2621462() {
    let simulator = pinned().await;
    let reply = get(&simulator, "/api/protocols/san/iscsi/services/nope/metrics").await;
    assert_error(&reply, 404, "2621462");
}

#[tokio::test]
async fn metrics_of_an_svm_without_a_service_are_404_5374078() {
    let simulator = pinned().await;
    let reply = get(
        &simulator,
        &format!("/api/protocols/san/iscsi/services/{SVM1}/metrics"),
    )
    .await;
    assert_error(&reply, 404, "5374078");
}

#[tokio::test]
async fn metrics_of_a_service_created_just_now_are_404_8585947() {
    let simulator = pinned().await;
    call(
        &simulator,
        "POST",
        "/api/protocols/san/iscsi/services",
        Some(r#"{"svm": {"name": "svm1"}}"#),
    )
    .await;
    let target = format!("/api/protocols/san/iscsi/services/{SVM1}/metrics");
    let reply = get(&simulator, &target).await;
    assert_error(&reply, 404, "8585947");
    assert_eq!(
        reply.json()["error"]["message"],
        "No metrics are available for the requested object."
    );
    simulator.cluster().advance_clock(Duration::from_secs(15));
    assert_eq!(get(&simulator, &target).await.json()["num_records"], 1);
}

#[tokio::test]
async fn a_new_service_has_no_metrics_at_any_interval_until_its_first_sample() {
    let simulator = pinned().await;
    call(
        &simulator,
        "POST",
        "/api/protocols/san/iscsi/services",
        Some(r#"{"svm": {"name": "svm1"}}"#),
    )
    .await;
    let series = format!("/api/protocols/san/iscsi/services/{SVM1}/metrics");
    for interval in ["1h", "1d", "1w", "1m", "1y"] {
        let reply = get(&simulator, &format!("{series}?interval={interval}")).await;
        assert_error(&reply, 404, "8585947");
    }
    let at_creation = get(&simulator, &format!("{series}/2026-01-01T00:00:15Z")).await;
    assert_error(&at_creation, 404, "8585947");
    simulator.cluster().advance_clock(Duration::from_secs(8));
    assert_eq!(
        get(&simulator, &format!("{series}?interval=1h"))
            .await
            .json()["num_records"],
        1
    );
    let day = get(&simulator, &format!("{series}?interval=1d")).await;
    assert_error(&day, 404, "8585947");
}

#[tokio::test]
async fn metrics_failure_switch_makes_metrics_500_8586225() {
    let simulator = pinned().await;
    simulator.cluster().with(|c| c.metrics_failure = true);
    assert_error(&get(&simulator, METRICS).await, 500, "8586225");
    let sample = format!("{METRICS}/2026-01-01T00:00:00Z");
    assert_error(&get(&simulator, &sample).await, 500, "8586225");
}

#[tokio::test]
async fn one_sample_is_found_by_its_rfc3339_timestamp() {
    let simulator = pinned().await;
    let listed = records(
        &get(&simulator, &format!("{METRICS}?max_records=1"))
            .await
            .json(),
    )[0]
    .clone();
    let reply = get(&simulator, &format!("{METRICS}/2026-01-01T00:00:00Z")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), listed);
}

#[tokio::test]
async fn one_sample_accepts_offsets_the_pages_form_and_pythons_quote_plus() {
    let simulator = pinned().await;
    for timestamp in [
        "2026-01-01T00:00:00%2B00:00",
        "2026-01-01T01:00:00+01:00",
        "2026-01-01%2000:00:00%20%2B0000",
        "2026-01-01+00%3A00%3A00%2B00%3A00",
    ] {
        let reply = get(&simulator, &format!("{METRICS}/{timestamp}")).await;
        assert_eq!(reply.status, 200, "{timestamp}");
        assert_eq!(reply.json()["timestamp"], "2026-01-01T00:00:00Z");
    }
}

#[tokio::test]
async fn one_sample_comes_from_the_finest_series_holding_it() {
    let simulator = pinned().await;
    let day = get(&simulator, &format!("{METRICS}/2025-12-31T12:05:00Z"))
        .await
        .json();
    assert_eq!(day["duration"], "PT5M");
    let year = get(&simulator, &format!("{METRICS}/2025-06-01T00:00:00Z"))
        .await
        .json();
    assert_eq!(year["duration"], "P1D");
}

#[tokio::test]
async fn one_sample_honours_fields() {
    let simulator = pinned().await;
    let body = get(
        &simulator,
        &format!("{METRICS}/2026-01-01T00:00:00Z?fields=status"),
    )
    .await
    .json();
    let mut keys: Vec<&String> = body.as_object().expect("record").keys().collect();
    keys.sort_unstable();
    assert_eq!(keys, ["_links", "status", "svm", "timestamp"]);
}

#[tokio::test]
async fn a_timestamp_off_every_series_is_404_8585947() {
    let simulator = pinned().await;
    let reply = get(&simulator, &format!("{METRICS}/2025-12-31T12:05:07Z")).await;
    assert_error(&reply, 404, "8585947");
    let future = get(&simulator, &format!("{METRICS}/2026-01-01T00:00:15Z")).await;
    assert_error(&future, 404, "8585947");
}

#[tokio::test]
async fn a_malformed_sample_timestamp_is_400_262197() {
    let simulator = pinned().await;
    let reply = get(&simulator, &format!("{METRICS}/yesterday")).await;
    assert_error(&reply, 400, "262197");
    assert_eq!(reply.json()["error"]["target"], "timestamp");
}
