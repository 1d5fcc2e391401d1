//! End-to-end tests of the iSCSI services collection and its objects.

use std::time::Duration;

use super::*;

const SERVICES: &str = "/api/protocols/san/iscsi/services";
const VS1: &str = "fc824aa8-4e60-11ea-afb1-0050568ec4e4";
const SVM1: &str = "19d04b8e-94d7-11e8-8370-005056b48fd2";
const SVM2: &str = "25f617cf-94d7-11e8-8370-005056b48fd2";
const SVM_STOPPED: &str = "3b1e5d2a-94d7-11e8-8370-005056b48fd2";
const SVM3: &str = "fd3a6b25-94d7-11e8-8370-005056b48fd2";

fn item(uuid: &str) -> String {
    format!("{SERVICES}/{uuid}")
}

/// The `message` of every error argument, in order; every argument carries the error's code.
fn arguments(reply: &Reply) -> Vec<String> {
    let body = reply.json();
    let code = body["error"]["code"].clone();
    body["error"]["arguments"]
        .as_array()
        .expect("arguments")
        .iter()
        .map(|argument| {
            assert_eq!(argument["code"], code, "{argument}");
            argument["message"].as_str().expect("message").to_owned()
        })
        .collect()
}

async fn create(simulator: &Simulator, body: &str) -> Reply {
    call(simulator, "POST", SERVICES, Some(body)).await
}

// --- GET collection -------------------------------------------------------------------------

#[tokio::test]
async fn listing_returns_svm_keys_and_hal_links_by_default() {
    let simulator = pinned().await;
    let reply = get(&simulator, SERVICES).await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["num_records"], 2);
    assert_eq!(body["_links"]["self"]["href"], SERVICES);
    for (record, (uuid, name)) in body["records"]
        .as_array()
        .expect("records")
        .iter()
        .zip([(SVM2, "svm2"), (SVM3, "svm3")])
    {
        assert_eq!(keys(record), ["_links", "svm"]);
        assert_eq!(record["_links"]["self"]["href"], item(uuid));
        assert_eq!(record["svm"]["name"], name);
        assert_eq!(record["svm"]["uuid"], uuid);
        assert_eq!(
            record["svm"]["_links"]["self"]["href"],
            format!("/api/svm/svms/{uuid}")
        );
    }
}

#[tokio::test]
async fn fields_star_returns_ordinary_fields_but_not_expensive_ones() {
    let simulator = pinned().await;
    let record = get(&simulator, &format!("{SERVICES}?fields=*"))
        .await
        .json()["records"][0]
        .clone();
    assert_eq!(keys(&record), ["_links", "enabled", "svm", "target"]);
    assert_eq!(record["enabled"], true);
    assert_eq!(record["target"]["alias"], "svm2");
    assert_eq!(
        record["target"]["name"],
        "iqn.1992-08.com.netapp:sn.25f617cf94d711e88370005056b48fd2:vs.4"
    );
}

#[tokio::test]
async fn fields_metric_returns_the_live_sample_with_its_link() {
    let simulator = pinned().await;
    let record = get(&simulator, &format!("{SERVICES}?fields=metric"))
        .await
        .json()["records"][0]
        .clone();
    let metric = &record["metric"];
    assert_eq!(metric["duration"], "PT15S");
    assert_eq!(metric["status"], "ok");
    assert_eq!(metric["timestamp"], "2026-01-01T00:00:00Z");
    assert!(metric["iops"]["read"].as_u64() > Some(0));
    assert!(metric["latency"]["total"].as_u64() > Some(0));
    assert!(metric["throughput"]["write"].as_u64() > Some(0));
    assert_eq!(
        metric["_links"]["self"]["href"],
        format!("{}/metrics", item(SVM2))
    );
    assert!(record.get("statistics").is_none());
}

#[tokio::test]
async fn a_single_expensive_leaf_can_be_asked_for() {
    let simulator = pinned().await;
    let record = get(
        &simulator,
        &format!("{SERVICES}?fields=statistics.iops_raw.read"),
    )
    .await
    .json()["records"][0]
        .clone();
    assert_eq!(keys(&record["statistics"]), ["iops_raw"]);
    assert_eq!(keys(&record["statistics"]["iops_raw"]), ["read"]);
}

#[tokio::test]
async fn double_star_returns_statistics_and_metric() {
    let simulator = pinned().await;
    let record = get(&simulator, &format!("{SERVICES}?fields=**"))
        .await
        .json()["records"][0]
        .clone();
    assert_eq!(
        keys(&record),
        ["_links", "enabled", "metric", "statistics", "svm", "target"]
    );
    let statistics = &record["statistics"];
    assert_eq!(statistics["status"], "ok");
    assert_eq!(statistics["timestamp"], "2026-01-01T00:00:00Z");
    assert_eq!(
        keys(&statistics["iops_raw"]),
        ["other", "read", "total", "write"]
    );
    assert_eq!(
        keys(&statistics["throughput_raw"]),
        ["read", "total", "write"]
    );
}

#[tokio::test]
async fn filter_on_an_expensive_field_works_without_returning_it() {
    let simulator = pinned().await;
    let body = get(
        &simulator,
        &format!("{SERVICES}?statistics.iops_raw.total=%3E1000"),
    )
    .await
    .json();
    assert_eq!(body["num_records"], 2, "svm2's and svm3's");
    for record in body["records"].as_array().expect("records") {
        assert!(record.get("statistics").is_none());
    }
    let body = get(
        &simulator,
        &format!("{SERVICES}?metric.status=negative_delta"),
    )
    .await
    .json();
    assert_eq!(body["num_records"], 0);
}

#[tokio::test]
async fn filter_on_enabled_selects_by_state() {
    let simulator = pinned().await;
    create(&simulator, r#"{"svm": {"name": "svm1"}, "enabled": false}"#).await;
    let body = get(&simulator, &format!("{SERVICES}?enabled=false"))
        .await
        .json();
    assert_eq!(body["num_records"], 1);
    assert_eq!(body["records"][0]["svm"]["name"], "svm1");
}

#[tokio::test]
async fn filter_on_target_alias_accepts_wildcards() {
    let simulator = pinned().await;
    create(
        &simulator,
        r#"{"svm": {"name": "svm1"}, "target": {"alias": "lab-a"}}"#,
    )
    .await;
    let body = get(&simulator, &format!("{SERVICES}?target.alias=lab-*"))
        .await
        .json();
    assert_eq!(body["num_records"], 1);
    assert_eq!(body["records"][0]["svm"]["uuid"], SVM1);
}

#[tokio::test]
async fn target_filters_take_the_documented_1_to_128_characters() {
    let simulator = pinned().await;
    for field in ["target.name", "target.alias"] {
        let longest = get(
            &simulator,
            &format!("{SERVICES}?{field}={}", "a".repeat(128)),
        )
        .await;
        assert_eq!(longest.status, 200, "{field}");
        assert_eq!(longest.json()["num_records"], 0, "{field}");
        for value in [
            "a".repeat(129),
            String::new(),
            format!("svm2|{}", "é".repeat(129)),
        ] {
            let reply = get(&simulator, &format!("{SERVICES}?{field}={value}")).await;
            assert_error(&reply, 400, "262197");
            assert_eq!(reply.json()["error"]["target"], field);
            assert_eq!(arguments(&reply), [value.as_str(), field]);
        }
    }
}

#[tokio::test]
async fn filter_on_metric_timestamp_takes_rfc3339() {
    let simulator = pinned().await;
    let body = get(
        &simulator,
        &format!("{SERVICES}?metric.timestamp=2026-01-01T00:00:00Z&fields=metric.timestamp"),
    )
    .await
    .json();
    assert_eq!(body["num_records"], 2);
}

#[tokio::test]
async fn max_records_pages_by_svm_uuid_with_next_links() {
    let simulator = pinned().await;
    create(&simulator, r#"{"svm": {"name": "svm1"}}"#).await;
    create(&simulator, r#"{"svm": {"name": "vs1"}}"#).await;
    let mut target = format!("{SERVICES}?max_records=2&order_by=svm.name");
    let mut names = Vec::new();
    let mut client = Client::connect(&simulator).await;
    loop {
        let body = client.get(&target).await.json();
        for record in body["records"].as_array().expect("records") {
            names.push(record["svm"]["name"].as_str().expect("name").to_owned());
        }
        match body["_links"]["next"]["href"].as_str() {
            Some(next) => {
                assert!(next.contains("start.svm.name="), "{next}");
                target = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(names, ["svm1", "svm2", "svm3", "vs1"]);
}

#[tokio::test]
async fn return_records_false_counts_services() {
    let simulator = pinned().await;
    let body = get(&simulator, &format!("{SERVICES}?return_records=false"))
        .await
        .json();
    assert_eq!(body["num_records"], 2);
    assert!(body.get("records").is_none());
}

#[tokio::test]
async fn return_timeout_is_accepted_within_its_bounds() {
    let simulator = pinned().await;
    assert_eq!(
        get(&simulator, &format!("{SERVICES}?return_timeout=15"))
            .await
            .status,
        200
    );
    let reply = get(&simulator, &format!("{SERVICES}?return_timeout=121")).await;
    assert_error(&reply, 400, "262197");
    assert_eq!(arguments(&reply), ["121", "return_timeout"]);
}

#[tokio::test]
async fn a_slow_services_listing_returns_one_service_a_page_when_one_exceeds_the_timeout() {
    let simulator = pinned().await;
    create(&simulator, r#"{"svm": {"name": "svm1"}}"#).await;
    create(&simulator, r#"{"svm": {"name": "vs1"}}"#).await;
    simulator
        .cluster()
        .set_iteration_cost(SERVICES, Duration::from_secs(20));
    let mut target = format!("{SERVICES}?order_by=svm.name");
    let mut names = Vec::new();
    loop {
        let body = get(&simulator, &target).await.json();
        assert_eq!(body["num_records"], 1);
        names.push(
            body["records"][0]["svm"]["name"]
                .as_str()
                .expect("name")
                .to_owned(),
        );
        match body["_links"]["next"]["href"].as_str() {
            Some(next) => target = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(names, ["svm1", "svm2", "svm3", "vs1"]);
}

#[tokio::test]
async fn unknown_filter_on_services_is_400_unexpected_argument() {
    let simulator = pinned().await;
    let reply = get(&simulator, &format!("{SERVICES}?target.colour=red")).await;
    assert_error(&reply, 400, "262179");
    assert_eq!(reply.json()["error"]["target"], "target.colour");
    assert_eq!(arguments(&reply), ["target.colour"]);
}

#[tokio::test]
async fn plain_json_listing_has_no_hal_links() {
    let simulator = pinned().await;
    let auth = admin();
    let reply = Client::connect(&simulator)
        .await
        .request(
            "GET",
            &format!("{SERVICES}?fields=metric"),
            &[("Authorization", &auth), ("Accept", "application/json")],
        )
        .await;
    let record = &reply.json()["records"][0];
    assert!(record.get("_links").is_none());
    assert!(record["svm"].get("_links").is_none());
    assert!(record["metric"].get("_links").is_none());
}

// --- GET one ----------------------------------------------------------------------------------

#[tokio::test]
async fn get_one_returns_every_ordinary_field() {
    let simulator = pinned().await;
    let reply = get(&simulator, &item(SVM2)).await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(keys(&body), ["_links", "enabled", "svm", "target"]);
    assert_eq!(body["_links"]["self"]["href"], item(SVM2));
    assert_eq!(
        body["svm"]["_links"]["self"]["href"],
        format!("/api/svm/svms/{SVM2}")
    );
}

#[tokio::test]
async fn get_one_with_fields_enabled_returns_keys_and_enabled() {
    let simulator = pinned().await;
    let body = get(&simulator, &format!("{}?fields=enabled", item(SVM2)))
        .await
        .json();
    assert_eq!(keys(&body), ["_links", "enabled", "svm"]);
    assert_eq!(keys(&body["svm"]), ["_links", "name", "uuid"]);
}

#[tokio::test]
async fn get_one_with_fields_statistics_returns_the_counters() {
    let simulator = pinned().await;
    let body = get(&simulator, &format!("{}?fields=statistics", item(SVM2)))
        .await
        .json();
    assert!(body["statistics"]["latency_raw"]["total"].as_u64() > Some(0));
    assert!(body.get("metric").is_none());
}

#[tokio::test]
async fn get_one_for_an_unknown_svm_is_404_2621462() {
    let simulator = pinned().await;
    let reply = get(&simulator, &item("00000000-0000-0000-0000-000000000000")).await;
    assert_error(&reply, 404, "2621462");
    assert_eq!(arguments(&reply), ["00000000-0000-0000-0000-000000000000"]);
    assert_eq!(
        reply.json()["error"]["message"],
        "An SVM with the specified UUID does not exist."
    );
}

#[tokio::test]
async fn get_one_for_an_svm_without_a_service_is_404_5374078() {
    let simulator = pinned().await;
    let reply = get(&simulator, &item(SVM1)).await;
    assert_error(&reply, 404, "5374078");
    assert_eq!(arguments(&reply), [SVM1]);
    assert_eq!(
        reply.json()["error"]["message"],
        "The SVM does not have an iSCSI service."
    );
}

#[tokio::test]
async fn get_one_with_a_collection_parameter_is_400() {
    let simulator = pinned().await;
    let reply = get(&simulator, &format!("{}?max_records=1", item(SVM2))).await;
    assert_error(&reply, 400, "262179");
}

#[tokio::test]
async fn get_one_with_an_unknown_field_is_400() {
    let simulator = pinned().await;
    let reply = get(&simulator, &format!("{}?fields=colour", item(SVM2))).await;
    assert_error(&reply, 400, "262197");
    assert_eq!(reply.json()["error"]["target"], "fields");
}

// --- POST -------------------------------------------------------------------------------------

#[tokio::test]
async fn create_with_return_records_returns_the_record_and_location() {
    let simulator = pinned().await;
    let reply = call(
        &simulator,
        "POST",
        &format!("{SERVICES}?return_records=true"),
        Some(r#"{"svm": {"name": "svm1"}}"#),
    )
    .await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.header("location"), Some(item(SVM1).as_str()));
    let body = reply.json();
    assert_eq!(body["num_records"], 1);
    let record = &body["records"][0];
    assert_eq!(keys(record), ["_links", "enabled", "svm", "target"]);
    assert_eq!(record["svm"]["uuid"], SVM1);
    assert_eq!(record["enabled"], true);
    assert_eq!(record["target"]["alias"], "svm1");
    assert_eq!(
        record["target"]["name"],
        "iqn.1992-08.com.netapp:sn.19d04b8e94d711e88370005056b48fd2:vs.3"
    );
    assert_eq!(record["_links"]["self"]["href"], item(SVM1));
}

#[tokio::test]
async fn create_without_return_records_answers_an_empty_object() {
    let simulator = pinned().await;
    let reply = create(&simulator, &format!(r#"{{"svm": {{"uuid": "{SVM1}"}}}}"#)).await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.json(), serde_json::json!({}));
    assert_eq!(get(&simulator, &item(SVM1)).await.status, 200);
}

#[tokio::test]
async fn create_takes_enabled_and_alias_from_the_body() {
    let simulator = pinned().await;
    create(
        &simulator,
        r#"{"svm": {"name": "svm1"}, "enabled": false, "target": {"alias": "lab1"}}"#,
    )
    .await;
    let body = get(&simulator, &item(SVM1)).await.json();
    assert_eq!(body["enabled"], false);
    assert_eq!(body["target"]["alias"], "lab1");
}

#[tokio::test]
async fn create_with_matching_name_and_uuid_succeeds() {
    let simulator = pinned().await;
    let reply = create(
        &simulator,
        &format!(r#"{{"svm": {{"name": "svm1", "uuid": "{SVM1}"}}}}"#),
    )
    .await;
    assert_eq!(reply.status, 201);
}

#[tokio::test]
async fn create_without_an_svm_is_400_2621707() {
    let simulator = pinned().await;
    let reply = create(&simulator, r#"{"enabled": true}"#).await;
    assert_error(&reply, 400, "2621707");
}

#[tokio::test]
async fn create_for_an_unknown_svm_is_400_2621462_targeting_the_field() {
    let simulator = pinned().await;
    let reply = create(&simulator, r#"{"svm": {"name": "nope"}}"#).await;
    assert_error(&reply, 400, "2621462");
    assert_eq!(arguments(&reply), ["nope"]);
    assert_eq!(reply.json()["error"]["target"], "svm.name");
    assert_eq!(
        reply.json()["error"]["message"],
        "The supplied SVM does not exist."
    );
}

#[tokio::test]
async fn create_with_name_and_uuid_of_different_svms_is_400_2621706() {
    let simulator = pinned().await;
    let reply = create(
        &simulator,
        &format!(r#"{{"svm": {{"name": "vs1", "uuid": "{SVM1}"}}}}"#),
    )
    .await;
    assert_error(&reply, 400, "2621706");
    assert_eq!(arguments(&reply), [SVM1, "vs1"]);
}

#[tokio::test]
async fn create_without_a_license_is_400_1115127() {
    let simulator = pinned().await;
    simulator.cluster().with(|c| c.iscsi_licensed = false);
    let reply = create(&simulator, r#"{"svm": {"name": "svm1"}}"#).await;
    assert_error(&reply, 400, "1115127");
}

#[tokio::test]
async fn create_where_iscsi_is_not_allowed_is_400_2621507() {
    let simulator = pinned().await;
    simulator.cluster().with(|c| {
        for svm in c.svms.iter_mut().filter(|s| s.uuid == SVM1) {
            svm.iscsi_allowed = false;
        }
    });
    let reply = create(&simulator, r#"{"svm": {"name": "svm1"}}"#).await;
    assert_error(&reply, 400, "2621507");
}

#[tokio::test]
async fn create_on_an_nvme_svm_is_400_5373966() {
    let simulator = pinned().await;
    simulator.cluster().with(|c| {
        for svm in c.svms.iter_mut().filter(|s| s.uuid == SVM1) {
            svm.nvme_configured = true;
        }
    });
    let reply = create(&simulator, r#"{"svm": {"name": "svm1"}}"#).await;
    assert_error(&reply, 400, "5373966");
}

#[tokio::test]
async fn create_on_a_stopped_svm_is_400_5374893() {
    let simulator = pinned().await;
    let reply = create(
        &simulator,
        &format!(r#"{{"svm": {{"uuid": "{SVM_STOPPED}"}}}}"#),
    )
    .await;
    assert_error(&reply, 400, "5374893");
    assert_eq!(arguments(&reply), ["svm_stopped"]);
}

#[tokio::test]
async fn create_on_asa_r2_is_400_5376452() {
    let simulator = pinned().await;
    simulator.cluster().with(|c| c.asa_r2 = true);
    let reply = create(&simulator, r#"{"svm": {"name": "svm1"}}"#).await;
    assert_error(&reply, 400, "5376452");
}

#[tokio::test]
async fn second_create_for_an_svm_is_409_5374077() {
    let simulator = pinned().await;
    let reply = create(&simulator, &format!(r#"{{"svm": {{"uuid": "{SVM2}"}}}}"#)).await;
    assert_error(&reply, 409, "5374077");
    assert_eq!(arguments(&reply), ["svm2"]);
}

#[tokio::test]
async fn create_with_an_unknown_body_field_is_400_262179() {
    let simulator = pinned().await;
    let reply = create(&simulator, r#"{"svm": {"name": "svm1"}, "colour": "red"}"#).await;
    assert_error(&reply, 400, "262179");
    assert_eq!(reply.json()["error"]["target"], "colour");
    assert_eq!(arguments(&reply), ["colour"]);
}

#[tokio::test]
async fn create_with_the_read_only_target_name_is_400_262179() {
    let simulator = pinned().await;
    let reply = create(
        &simulator,
        r#"{"svm": {"name": "svm1"}, "target": {"name": "iqn.x"}}"#,
    )
    .await;
    assert_error(&reply, 400, "262179");
    assert_eq!(reply.json()["error"]["target"], "target.name");
}

#[tokio::test]
async fn create_with_a_wrongly_typed_value_is_400_262197() {
    let simulator = pinned().await;
    let reply = create(&simulator, r#"{"svm": {"name": "svm1"}, "enabled": 1}"#).await;
    assert_error(&reply, 400, "262197");
    assert_eq!(reply.json()["error"]["target"], "enabled");
    assert_eq!(arguments(&reply), ["1", "enabled"]);
}

#[tokio::test]
async fn create_with_a_spaced_alias_is_400_262197() {
    let simulator = pinned().await;
    let reply = create(
        &simulator,
        r#"{"svm": {"name": "svm1"}, "target": {"alias": "my alias"}}"#,
    )
    .await;
    assert_error(&reply, 400, "262197");
    assert_eq!(reply.json()["error"]["target"], "target.alias");
    assert_eq!(arguments(&reply), ["my alias", "target.alias"]);
}

#[tokio::test]
async fn create_with_malformed_json_is_400() {
    let simulator = pinned().await;
    let reply = create(&simulator, r#"{"svm": {"name": "svm1""#).await;
    assert_eq!(reply.status, 400);
    assert!(reply.json()["error"]["message"].is_string());
}

#[tokio::test]
async fn create_with_an_unknown_query_parameter_is_400() {
    let simulator = pinned().await;
    let reply = call(
        &simulator,
        "POST",
        &format!("{SERVICES}?fields=enabled"),
        Some(r#"{"svm": {"name": "svm1"}}"#),
    )
    .await;
    assert_error(&reply, 400, "262179");
}

#[tokio::test]
async fn rejected_create_changes_nothing() {
    let simulator = pinned().await;
    let before = simulator.cluster().with(|c| c.clone());
    create(
        &simulator,
        r#"{"svm": {"name": "svm1"}, "target": {"alias": ""}}"#,
    )
    .await;
    assert_eq!(simulator.cluster().with(|c| c.clone()), before);
}

// --- PATCH ------------------------------------------------------------------------------------

#[tokio::test]
async fn patch_enabled_false_disables_the_service() {
    let simulator = pinned().await;
    let reply = call(
        &simulator,
        "PATCH",
        &item(SVM2),
        Some(r#"{"enabled": false}"#),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), serde_json::json!({}));
    let body = get(&simulator, &format!("{}?fields=enabled", item(SVM2)))
        .await
        .json();
    assert_eq!(body["enabled"], false);
}

#[tokio::test]
async fn patch_accepts_enabled_as_a_string_like_the_pages_example() {
    let simulator = pinned().await;
    let reply = call(
        &simulator,
        "PATCH",
        &item(SVM2),
        Some(r#"{ "enabled": "false" }"#),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(!simulator.cluster().with(|c| c.iscsi_services[0].enabled));
}

#[tokio::test]
async fn patch_sets_the_alias() {
    let simulator = pinned().await;
    call(
        &simulator,
        "PATCH",
        &item(SVM2),
        Some(r#"{"target": {"alias": "renamed"}}"#),
    )
    .await;
    let body = get(&simulator, &item(SVM2)).await.json();
    assert_eq!(body["target"]["alias"], "renamed");
}

#[tokio::test]
async fn patch_with_an_empty_alias_clears_it() {
    let simulator = pinned().await;
    let reply = call(
        &simulator,
        "PATCH",
        &item(SVM2),
        Some(r#"{"target": {"alias": ""}}"#),
    )
    .await;
    assert_eq!(reply.status, 200);
    let body = get(&simulator, &item(SVM2)).await.json();
    assert_eq!(keys(&body["target"]), ["name"]);
}

#[tokio::test]
async fn patch_with_svm_in_the_body_is_400() {
    let simulator = pinned().await;
    let reply = call(
        &simulator,
        "PATCH",
        &item(SVM2),
        Some(r#"{"svm": {"name": "x"}}"#),
    )
    .await;
    assert_error(&reply, 400, "262179");
    assert_eq!(reply.json()["error"]["target"], "svm.name");
    assert_eq!(arguments(&reply), ["svm.name"]);
}

#[tokio::test]
async fn patch_with_target_name_is_400() {
    let simulator = pinned().await;
    let reply = call(
        &simulator,
        "PATCH",
        &item(SVM2),
        Some(r#"{"target": {"name": "iqn"}}"#),
    )
    .await;
    assert_error(&reply, 400, "262179");
}

#[tokio::test]
async fn patch_with_an_overlong_alias_is_400_262197() {
    let simulator = pinned().await;
    let body = format!(r#"{{"target": {{"alias": "{}"}}}}"#, "a".repeat(129));
    let reply = call(&simulator, "PATCH", &item(SVM2), Some(&body)).await;
    assert_error(&reply, 400, "262197");
}

#[tokio::test]
async fn patch_with_a_no_break_space_in_the_alias_is_400_262197() {
    let simulator = pinned().await;
    let reply = call(
        &simulator,
        "PATCH",
        &item(SVM2),
        Some(r#"{"target": {"alias": "lab\u00a0a"}}"#),
    )
    .await;
    assert_error(&reply, 400, "262197");
    assert_eq!(reply.json()["error"]["target"], "target.alias");
    assert!(!is_valid_alias("lab\u{a0}a"));
}

#[tokio::test]
async fn patch_with_a_128_character_alias_sets_it() {
    let simulator = pinned().await;
    let alias = "ä".repeat(128);
    assert!(is_valid_alias(&alias));
    let body = format!(r#"{{"target": {{"alias": "{alias}"}}}}"#);
    assert_eq!(
        call(&simulator, "PATCH", &item(SVM2), Some(&body))
            .await
            .status,
        200
    );
    assert_eq!(
        get(&simulator, &item(SVM2)).await.json()["target"]["alias"],
        alias
    );
}

#[tokio::test]
async fn patch_for_an_unknown_svm_is_404_2621462() {
    let simulator = pinned().await;
    let reply = call(
        &simulator,
        "PATCH",
        &item("nope"),
        Some(r#"{"enabled": true}"#),
    )
    .await;
    assert_error(&reply, 404, "2621462");
    assert_eq!(arguments(&reply), ["nope"]);
}

#[tokio::test]
async fn patch_for_an_svm_without_a_service_is_404_5374078() {
    let simulator = pinned().await;
    let reply = call(
        &simulator,
        "PATCH",
        &item(SVM1),
        Some(r#"{"enabled": true}"#),
    )
    .await;
    assert_error(&reply, 404, "5374078");
}

// --- DELETE -----------------------------------------------------------------------------------

#[tokio::test]
async fn delete_of_an_enabled_service_is_409_5373960() {
    let simulator = pinned().await;
    let reply = call(&simulator, "DELETE", &item(SVM2), None).await;
    assert_error(&reply, 409, "5373960");
    assert_eq!(arguments(&reply), [SVM2]);
}

#[tokio::test]
async fn delete_of_a_disabled_service_removes_it() {
    let simulator = pinned().await;
    call(
        &simulator,
        "PATCH",
        &item(SVM2),
        Some(r#"{"enabled": false}"#),
    )
    .await;
    let reply = call(&simulator, "DELETE", &item(SVM2), None).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), serde_json::json!({}));
    assert_error(&get(&simulator, &item(SVM2)).await, 404, "5374078");
}

#[tokio::test]
async fn delete_for_an_svm_without_a_service_is_404_5374078() {
    let simulator = pinned().await;
    let reply = call(&simulator, "DELETE", &item(VS1), None).await;
    assert_error(&reply, 404, "5374078");
    assert_eq!(arguments(&reply), [VS1]);
}

#[tokio::test]
async fn delete_for_an_unknown_svm_is_404_2621462() {
    let simulator = pinned().await;
    let reply = call(&simulator, "DELETE", &item("nope"), None).await;
    assert_error(&reply, 404, "2621462");
}

#[tokio::test]
async fn delete_on_asa_r2_is_400_5376452() {
    let simulator = pinned().await;
    simulator.cluster().with(|c| c.asa_r2 = true);
    let reply = call(&simulator, "DELETE", &item(SVM2), None).await;
    assert_error(&reply, 400, "5376452");
}

#[tokio::test]
async fn wrong_method_on_a_service_is_405_with_allow() {
    let simulator = pinned().await;
    let reply = call(&simulator, "POST", &item(SVM2), Some("{}")).await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET, HEAD, PATCH, DELETE"));
}

// --- performance data -------------------------------------------------------------------------

async fn statistics(simulator: &Simulator) -> Value {
    get(
        simulator,
        &format!("{}?fields=statistics,metric", item(SVM2)),
    )
    .await
    .json()
}

fn raw(body: &Value, counter: &str, class: &str) -> u64 {
    body["statistics"][counter][class]
        .as_u64()
        .expect("counter")
}

#[tokio::test]
async fn statistics_timestamp_is_the_simulated_clock() {
    let simulator = pinned().await;
    simulator
        .cluster()
        .advance_clock(Duration::from_secs(3_723));
    let body = statistics(&simulator).await;
    assert_eq!(body["statistics"]["timestamp"], "2026-01-01T01:02:03Z");
    assert_eq!(body["metric"]["timestamp"], "2026-01-01T01:02:00Z");
}

#[tokio::test]
async fn every_timestamp_in_service_bodies_is_rfc3339_utc() {
    let simulator = pinned().await;
    simulator.cluster().advance_clock(Duration::from_secs(7));
    let listed = get(&simulator, &format!("{SERVICES}?fields=statistics,metric"))
        .await
        .json()["records"][0]
        .clone();
    let single = statistics(&simulator).await;
    for body in [&listed, &single] {
        assert_eq!(body["metric"]["timestamp"], "2026-01-01T00:00:00Z");
        assert_eq!(body["statistics"]["timestamp"], "2026-01-01T00:00:07Z");
    }
}

#[tokio::test]
async fn metric_equals_the_change_of_two_statistics_readings_15_s_apart() {
    let simulator = pinned().await;
    let before = statistics(&simulator).await;
    simulator.cluster().advance_clock(Duration::from_secs(15));
    let after = statistics(&simulator).await;
    let metric = &after["metric"];
    assert_eq!(metric["timestamp"], "2026-01-01T00:00:15Z");
    for class in ["read", "write", "other", "total"] {
        let ops = raw(&after, "iops_raw", class) - raw(&before, "iops_raw", class);
        let latency = raw(&after, "latency_raw", class) - raw(&before, "latency_raw", class);
        assert_eq!(metric["iops"][class], ops / 15, "{class}");
        assert_eq!(metric["latency"][class], latency / ops, "{class}");
    }
    for class in ["read", "write", "total"] {
        let bytes = raw(&after, "throughput_raw", class) - raw(&before, "throughput_raw", class);
        assert_eq!(metric["throughput"][class], bytes / 15, "{class}");
    }
}

#[tokio::test]
async fn counters_grow_as_the_clock_runs() {
    let simulator = pinned().await;
    let before = statistics(&simulator).await;
    simulator.cluster().advance_clock(Duration::from_secs(1));
    let after = statistics(&simulator).await;
    assert!(raw(&after, "iops_raw", "total") > raw(&before, "iops_raw", "total"));
    assert!(raw(&after, "throughput_raw", "read") > raw(&before, "throughput_raw", "read"));
}

#[tokio::test]
async fn counters_stand_still_while_the_service_is_disabled() {
    let simulator = pinned().await;
    call(
        &simulator,
        "PATCH",
        &item(SVM2),
        Some(r#"{"enabled": false}"#),
    )
    .await;
    let before = statistics(&simulator).await;
    simulator.cluster().advance_clock(Duration::from_secs(600));
    let after = statistics(&simulator).await;
    assert_eq!(
        after["statistics"]["iops_raw"],
        before["statistics"]["iops_raw"]
    );
    assert_eq!(after["metric"]["iops"]["total"], 0);
    assert_eq!(after["metric"]["status"], "ok");
}

#[tokio::test]
async fn counter_reset_makes_the_next_metric_a_negative_delta() {
    let simulator = pinned().await;
    simulator.cluster().advance_clock(Duration::from_secs(5));
    assert!(simulator.cluster().reset_iscsi_counters(SVM2));
    simulator.cluster().advance_clock(Duration::from_secs(10));
    let spanning = statistics(&simulator).await;
    assert_eq!(spanning["metric"]["status"], "negative_delta");
    assert_eq!(spanning["metric"]["iops"]["total"], 0);
    simulator.cluster().advance_clock(Duration::from_secs(15));
    let next = statistics(&simulator).await;
    assert_eq!(next["metric"]["status"], "ok");
    assert!(next["metric"]["iops"]["total"].as_u64() > Some(0));
}

#[tokio::test]
async fn counters_restart_from_zero_after_a_reset() {
    let simulator = pinned().await;
    let before = statistics(&simulator).await;
    simulator.cluster().reset_iscsi_counters(SVM2);
    let reset = statistics(&simulator).await;
    assert_eq!(raw(&reset, "iops_raw", "total"), 0);
    simulator.cluster().advance_clock(Duration::from_secs(60));
    let after = statistics(&simulator).await;
    assert!(raw(&after, "iops_raw", "total") > 0);
    assert!(raw(&after, "iops_raw", "total") < raw(&before, "iops_raw", "total"));
}

#[tokio::test]
async fn new_service_starts_with_zero_counters() {
    let simulator = pinned().await;
    create(&simulator, r#"{"svm": {"name": "svm1"}}"#).await;
    let body = get(&simulator, &format!("{}?fields=statistics", item(SVM1)))
        .await
        .json();
    assert_eq!(raw(&body, "iops_raw", "total"), 0);
    simulator.cluster().advance_clock(Duration::from_secs(30));
    let body = get(&simulator, &format!("{}?fields=statistics", item(SVM1)))
        .await
        .json();
    assert!(raw(&body, "iops_raw", "total") > 0);
}

#[tokio::test]
async fn set_iscsi_enabled_hook_reports_whether_a_service_exists() {
    let simulator = pinned().await;
    assert!(simulator.cluster().set_iscsi_enabled(SVM2, false));
    assert!(!simulator.cluster().set_iscsi_enabled(SVM1, false));
    assert!(!simulator.cluster().reset_iscsi_counters(SVM1));
    let body = get(&simulator, &format!("{}?fields=enabled", item(SVM2)))
        .await
        .json();
    assert_eq!(body["enabled"], false);
}

#[tokio::test]
async fn raw_counters_above_2_pow_63_are_served_as_unsigned_integers_and_filter_exactly() {
    let simulator = pinned().await;
    let plain = statistics(&simulator).await;
    let base: u64 = (1 << 63) + 12_345;
    assert!(simulator.cluster().set_iscsi_counter_base(SVM2, base));
    let based = statistics(&simulator).await;
    let total = raw(&based, "iops_raw", "total");
    assert_eq!(total, raw(&plain, "iops_raw", "total") + base);
    assert_eq!(
        raw(&based, "throughput_raw", "read"),
        raw(&plain, "throughput_raw", "read") + base
    );
    assert_eq!(based["metric"], plain["metric"]);
    for (filter, count) in [
        (format!("{total}"), 1),
        (format!("{}", total - 1), 0),
        ("%3E9223372036854775808".to_owned(), 1),
        // svm3's, which count from zero.
        ("%3C9223372036854775808".to_owned(), 1),
        (format!("%3E%3D{total}"), 1),
    ] {
        let body = get(
            &simulator,
            &format!("{SERVICES}?statistics.iops_raw.total={filter}"),
        )
        .await
        .json();
        assert_eq!(body["num_records"], count, "{filter}");
    }
}

#[tokio::test]
async fn counters_based_near_2_pow_64_wrap_without_disturbing_the_metric() {
    let simulator = pinned().await;
    let plain = statistics(&simulator).await;
    simulator.cluster().set_iscsi_counter_base(SVM2, u64::MAX);
    let wrapped = statistics(&simulator).await;
    assert_eq!(
        raw(&wrapped, "iops_raw", "total"),
        raw(&plain, "iops_raw", "total") - 1
    );
    assert_eq!(wrapped["metric"], plain["metric"]);
}

#[tokio::test]
async fn a_counter_reset_restarts_based_counters_from_zero() {
    let simulator = pinned().await;
    simulator.cluster().set_iscsi_counter_base(SVM2, 1 << 63);
    simulator.cluster().reset_iscsi_counters(SVM2);
    simulator.cluster().advance_clock(Duration::from_secs(30));
    let body = statistics(&simulator).await;
    assert!(raw(&body, "iops_raw", "total") < 1 << 32);
    assert!(!simulator.cluster().set_iscsi_counter_base(SVM1, 1));
}
