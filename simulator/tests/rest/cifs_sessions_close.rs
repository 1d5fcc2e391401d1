//! Closing CIFS sessions: DELETE of one path with its wildcards and refusals, and the
//! query-based DELETE of the collection.

use super::cifs_sessions::{BIG, BIG_CONNECTION, big_path, modelled, session_key, session_path};
use super::*;

const NODE1: &str = "1cd8a442-86d1-11e0-ae1c-123478563412";
const NODE2: &str = "1cd8a442-86d1-11e0-ae1c-123478563413";
const VS1: &str = "fc824aa8-4e60-11ea-afb1-0050568ec4e4";
const SVM3: &str = "fd3a6b25-94d7-11e8-8370-005056b48fd2";

async fn delete(simulator: &Simulator, target: &str) -> Reply {
    call(simulator, "DELETE", target, None).await
}

/// The keys of every session served now.
async fn served(simulator: &Simulator) -> HashSet<String> {
    all_records(simulator, CIFS_SESSIONS)
        .await
        .iter()
        .map(session_key)
        .collect()
}

/// The session IDs the model holds on a connection of node 1, with its identifier.
fn node1_connection_with_sessions(simulator: &Simulator, at_least: usize) -> (u32, Vec<u64>) {
    simulator.cluster().with(|c| {
        let connection = c
            .cifs_connections
            .iter()
            .find(|c| c.node_uuid == NODE1 && c.session_ids.len() >= at_least)
            .expect("a connection with enough sessions");
        (connection.identifier, connection.session_ids.clone())
    })
}

#[tokio::test]
async fn deleting_one_session_answers_200_with_an_empty_object() {
    let simulator = pinned().await;
    let reply = delete(&simulator, &big_path()).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), serde_json::json!({}));
}

#[tokio::test]
async fn the_session_above_2_63_is_read_and_closed_exactly() {
    let simulator = pinned().await;
    let neighbour = session_path(NODE2, VS1, BIG - 1, BIG_CONNECTION);
    assert_error(&delete(&simulator, &neighbour).await, 404, "4");
    assert_eq!(get(&simulator, &big_path()).await.status, 200);
    assert_eq!(delete(&simulator, &big_path()).await.status, 200);
    assert_error(&get(&simulator, &big_path()).await, 404, "4");
    let ids = simulator.cluster().with(|c| {
        c.cifs_connections
            .iter()
            .flat_map(|c| c.session_ids.clone())
            .collect::<Vec<u64>>()
    });
    assert!(!ids.contains(&BIG));
}

#[tokio::test]
async fn deleting_one_session_closes_only_that_one() {
    let simulator = pinned().await;
    let before = served(&simulator).await;
    assert_eq!(delete(&simulator, &big_path()).await.status, 200);
    let after = served(&simulator).await;
    let gone: Vec<_> = before.difference(&after).collect();
    assert_eq!(gone, [&format!("{NODE2}/{VS1}/{BIG}/{BIG_CONNECTION}")]);
    assert!(after.is_subset(&before));
}

#[tokio::test]
async fn zero_and_zero_close_every_session_of_the_svm_on_the_node() {
    let simulator = pinned().await;
    let on_node2 = |svm: &str| format!("{CIFS_SESSIONS}?node.uuid={NODE2}&svm.uuid={svm}");
    let vs1_on_node2 = count(&simulator, &on_node2(VS1)).await;
    // svm3's two connections on node 2 carry three sessions.
    assert_eq!(count(&simulator, &on_node2(SVM3)).await, 3);
    let total = count(&simulator, CIFS_SESSIONS).await;
    assert_eq!(
        delete(&simulator, &session_path(NODE2, VS1, 0, 0))
            .await
            .status,
        200
    );
    assert_eq!(count(&simulator, &on_node2(VS1)).await, 0);
    assert_eq!(
        count(&simulator, &on_node2(SVM3)).await,
        3,
        "the node's sessions of another SVM stay"
    );
    assert_eq!(count(&simulator, CIFS_SESSIONS).await, total - vs1_on_node2);
}

#[tokio::test]
async fn zero_and_a_connection_close_every_session_it_carries() {
    let simulator = pinned().await;
    let (connection, sessions) = node1_connection_with_sessions(&simulator, 2);
    let total = count(&simulator, CIFS_SESSIONS).await;
    assert_eq!(
        delete(&simulator, &session_path(NODE1, VS1, 0, connection))
            .await
            .status,
        200
    );
    let left = format!("{CIFS_SESSIONS}?node.uuid={NODE1}&connection_id={connection}");
    assert_eq!(count(&simulator, &left).await, 0);
    assert_eq!(
        count(&simulator, CIFS_SESSIONS).await,
        total - sessions.len() as u64
    );
}

#[tokio::test]
async fn a_session_with_connection_zero_is_refused_with_655503_and_closes_nothing() {
    let simulator = pinned().await;
    let before = served(&simulator).await;
    let reply = delete(&simulator, &session_path(NODE2, VS1, BIG, 0)).await;
    assert_error(&reply, 400, "655503");
    assert_eq!(reply.json()["error"]["target"], "connection_id");
    assert_eq!(served(&simulator).await, before);
}

#[tokio::test]
async fn deleting_what_matches_no_session_is_404_code_4() {
    let simulator = pinned().await;
    for path in [
        session_path(NODE1, VS1, BIG, BIG_CONNECTION),
        session_path(NODE2, VS1, 1, BIG_CONNECTION),
        session_path(NODE2, VS1, 0, 1),
        session_path("no-such-node", VS1, 0, 0),
        session_path(NODE2, "no-such-svm", 0, 0),
    ] {
        assert_error(&delete(&simulator, &path).await, 404, "4");
    }
    assert_eq!(served(&simulator).await.len(), modelled(&simulator));
}

#[tokio::test]
async fn a_body_on_delete_is_400_code_262198() {
    let simulator = pinned().await;
    let reply = call(
        &simulator,
        "DELETE",
        &big_path(),
        Some(r#"{"records": []}"#),
    )
    .await;
    assert_error(&reply, 400, "262198");
    assert_eq!(get(&simulator, &big_path()).await.status, 200);
}

#[tokio::test]
async fn an_empty_json_object_on_delete_is_no_body_as_netapp_ontap_sends_it() {
    let simulator = pinned().await;
    let reply = call(&simulator, "DELETE", &big_path(), Some(" { } ")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(get(&simulator, &big_path()).await.status, 404);
}

#[tokio::test]
async fn a_query_parameter_on_delete_is_an_unexpected_argument() {
    let simulator = pinned().await;
    let reply = delete(&simulator, &format!("{}?fields=*", big_path())).await;
    assert_error(&reply, 400, "262179");
    assert_eq!(get(&simulator, &big_path()).await.status, 200);
}

#[tokio::test]
async fn a_read_only_account_may_not_close_a_session() {
    let simulator = pinned().await;
    simulator
        .add_account(ontap_simulator::Account {
            username: "watcher".to_owned(),
            password: ontap_simulator::SecretString::from("w"),
            role: ontap_simulator::Role::Readonly,
        })
        .expect("a new account");
    let auth = basic("watcher", "w");
    let reply = Client::connect(&simulator)
        .await
        .request("DELETE", &big_path(), &[("Authorization", &auth)])
        .await;
    assert_error(&reply, 403, "6");
    assert_eq!(get(&simulator, &big_path()).await.status, 200);
}

#[tokio::test]
async fn a_query_delete_closes_every_match_and_counts_them() {
    let simulator = pinned().await;
    let query = format!("{CIFS_SESSIONS}?protocol=smb1%7Csmb2");
    let matching = count(&simulator, &query).await;
    assert!(matching > 0);
    let total = count(&simulator, CIFS_SESSIONS).await;
    let reply = delete(&simulator, &query).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), serde_json::json!({"num_records": matching}));
    assert_eq!(count(&simulator, &query).await, 0);
    assert_eq!(count(&simulator, CIFS_SESSIONS).await, total - matching);
}

#[tokio::test]
async fn a_query_delete_matching_nothing_closes_nothing() {
    let simulator = pinned().await;
    let reply = delete(&simulator, &format!("{CIFS_SESSIONS}?identifier=1")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["num_records"], 0);
    assert_eq!(
        count(&simulator, CIFS_SESSIONS).await as usize,
        modelled(&simulator)
    );
}

#[tokio::test]
async fn a_query_delete_without_a_filter_is_400_code_2() {
    let simulator = pinned().await;
    for target in [
        CIFS_SESSIONS.to_owned(),
        format!("{CIFS_SESSIONS}?serial_records=true&continue_on_failure=true"),
    ] {
        assert_error(&delete(&simulator, &target).await, 400, "2");
    }
    assert_eq!(
        count(&simulator, CIFS_SESSIONS).await as usize,
        modelled(&simulator)
    );
}

#[tokio::test]
async fn a_record_based_delete_is_refused_with_262198() {
    let simulator = pinned().await;
    let body = format!(
        r#"{{"records": [{{"node": {{"uuid": "{NODE2}"}}, "svm": {{"uuid": "{VS1}"}},
            "identifier": {BIG}, "connection_id": {BIG_CONNECTION}}}]}}"#
    );
    let reply = call(
        &simulator,
        "DELETE",
        &format!("{CIFS_SESSIONS}?identifier={BIG}"),
        Some(&body),
    )
    .await;
    assert_error(&reply, 400, "262198");
    assert_eq!(reply.json()["error"]["target"], "records");
    assert_eq!(get(&simulator, &big_path()).await.status, 200);
}

#[tokio::test]
async fn a_query_delete_with_an_empty_records_body_is_query_based() {
    let simulator = pinned().await;
    let reply = call(
        &simulator,
        "DELETE",
        &format!("{CIFS_SESSIONS}?identifier={BIG}"),
        Some(r#"{"records": []}"#),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["num_records"], 1);
}

#[tokio::test]
async fn return_records_lists_the_keys_of_the_closed_sessions() {
    let simulator = pinned().await;
    let reply = delete(
        &simulator,
        &format!("{CIFS_SESSIONS}?identifier={BIG}&return_records=true"),
    )
    .await;
    let body = reply.json();
    assert_eq!(body["num_records"], 1);
    let record = &body["records"][0];
    assert_eq!(keys(record), ["connection_id", "identifier", "node", "svm"]);
    assert_eq!(record["identifier"].as_u64(), Some(BIG));
}

#[tokio::test]
async fn a_slow_query_delete_stops_at_return_timeout_and_its_next_link_finishes_it() {
    let simulator = pinned().await;
    simulator
        .cluster()
        .set_iteration_cost(CIFS_SESSIONS, std::time::Duration::from_secs(1));
    let query = format!("{CIFS_SESSIONS}?node.uuid={NODE1}&return_timeout=3");
    let matching = count(&simulator, &format!("{CIFS_SESSIONS}?node.uuid={NODE1}")).await;
    assert!(matching > 6);
    let mut target = query;
    let mut closed = 0;
    let mut calls = 0;
    loop {
        let body = delete(&simulator, &target).await.json();
        calls += 1;
        closed += body["num_records"].as_u64().expect("a count");
        match body["_links"]["next"]["href"].as_str() {
            Some(next) => target = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(closed, matching);
    assert_eq!(calls, matching.div_ceil(3));
    assert_eq!(
        count(&simulator, &format!("{CIFS_SESSIONS}?node.uuid={NODE1}")).await,
        0
    );
}
