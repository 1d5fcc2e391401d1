//! The SVMs collection, by which a client tells an SVM's name from its UUID: default and
//! requested fields, filters both ways, the GET of one SVM, and an unknown UUID.

use super::*;
use iscsi_sessions::{SVM2, SVM3};

const SVMS: &str = "/api/svm/svms";

#[tokio::test]
async fn default_listing_returns_each_svms_name_uuid_and_self_link() {
    let simulator = pinned().await;
    let body = get(&simulator, SVMS).await.json();
    assert_eq!(body["num_records"], 5);
    let records = body["records"].as_array().expect("records");
    let names: Vec<&str> = records
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    for name in ["vs1", "svm1", "svm2", "svm_stopped", "svm3"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    for record in records {
        assert_eq!(keys(record), ["_links", "name", "uuid"]);
        let uuid = record["uuid"].as_str().unwrap();
        assert_eq!(record["_links"]["self"]["href"], format!("{SVMS}/{uuid}"));
    }
}

#[tokio::test]
async fn a_uuid_filter_names_the_svm_and_a_name_filter_its_uuid() {
    let simulator = pinned().await;
    let by_uuid = get(&simulator, &format!("{SVMS}?uuid={SVM3}")).await.json();
    assert_eq!(by_uuid["records"][0]["name"], "svm3");
    assert_eq!(by_uuid["num_records"], 1);
    let by_name = get(&simulator, &format!("{SVMS}?name=svm2")).await.json();
    assert_eq!(by_name["records"][0]["uuid"], SVM2);
}

#[tokio::test]
async fn one_svm_is_read_by_its_uuid_with_its_state() {
    let simulator = pinned().await;
    let reply = get(&simulator, &format!("{SVMS}/{SVM2}?fields=state")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["state"], "running");
    let stopped = get(&simulator, &format!("{SVMS}?name=svm_stopped&fields=state")).await;
    assert_eq!(stopped.json()["records"][0]["state"], "stopped");
}

#[tokio::test]
async fn an_unknown_uuid_is_404_code_4() {
    let simulator = pinned().await;
    let reply = get(&simulator, &format!("{SVMS}/no-such-svm")).await;
    assert_error(&reply, 404, "4");
}
