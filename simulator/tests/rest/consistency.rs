//! One cluster behind every collection: a CIFS connection's `sessions[]` are exactly the CIFS
//! sessions it carries, whoever changes them (a DELETE, the admin API, the churn), and iSCSI
//! sessions live only as long as their SVM's iSCSI service is enabled.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use ontap_simulator::{
    CifsChurn, IscsiAuthentication, IscsiConnection, IscsiInitiator, IscsiInterface, IscsiSession,
    IscsiSessionError,
};
use serde_json::json;

use super::admin_api::{admin_call, with_admin};
use super::cifs_sessions::{BIG, BIG_CONNECTION, big_path};
use super::iscsi_sessions::{SVM1, SVM2, SVM3, iscsi_key};
use super::*;

const NODE1: &str = "1cd8a442-86d1-11e0-ae1c-123478563412";
const VS1: &str = "fc824aa8-4e60-11ea-afb1-0050568ec4e4";
const SERVICES: &str = "/api/protocols/san/iscsi/services";

/// (node, SVM, connection) and the session IDs on it.
type BySession = BTreeMap<(String, String, u64), BTreeSet<u64>>;

/// The sessions each connection lists, by the connections collection.
async fn listed_by_connections(simulator: &Simulator) -> BySession {
    let records = all_records(simulator, &format!("{CIFS}?fields=sessions")).await;
    records
        .iter()
        .map(|r| {
            let ids = field_values(r, "sessions.identifier")
                .iter()
                .map(|id| id.as_u64().expect("a u64"))
                .collect();
            (connection_of(r, "identifier"), ids)
        })
        .collect()
}

/// The sessions each connection carries, by the sessions collection.
async fn carried_by_sessions(simulator: &Simulator) -> BySession {
    let mut by_connection = BySession::new();
    for r in all_records(simulator, CIFS_SESSIONS).await {
        by_connection
            .entry(connection_of(&r, "connection_id"))
            .or_default()
            .insert(r["identifier"].as_u64().expect("a u64"));
    }
    by_connection
}

fn connection_of(record: &Value, id_field: &str) -> (String, String, u64) {
    (
        record["node"]["uuid"].as_str().expect("node").to_owned(),
        record["svm"]["uuid"].as_str().expect("svm").to_owned(),
        record[id_field].as_u64().expect("connection id"),
    )
}

async fn assert_collections_agree(simulator: &Simulator) {
    let listed = listed_by_connections(simulator).await;
    let carried = carried_by_sessions(simulator).await;
    let listed_with_sessions: BySession = listed
        .into_iter()
        .filter(|(_, ids)| !ids.is_empty())
        .collect();
    assert_eq!(listed_with_sessions, carried);
}

#[tokio::test]
async fn a_connections_sessions_are_exactly_the_sessions_it_carries() {
    let simulator = pinned().await;
    assert_collections_agree(&simulator).await;
}

#[tokio::test]
async fn sessions_share_their_connections_addresses() {
    let simulator = pinned().await;
    let connections: BTreeMap<(String, String, u64), (Value, Value)> =
        all_records(&simulator, &format!("{CIFS}?fields=client_ip,server_ip"))
            .await
            .iter()
            .map(|r| {
                (
                    connection_of(r, "identifier"),
                    (r["client_ip"].clone(), r["server_ip"].clone()),
                )
            })
            .collect();
    for session in all_records(
        &simulator,
        &format!("{CIFS_SESSIONS}?fields=client_ip,server_ip"),
    )
    .await
    {
        let (client, server) = &connections[&connection_of(&session, "connection_id")];
        assert_eq!(
            (&session["client_ip"], &session["server_ip"]),
            (client, server)
        );
    }
}

#[tokio::test]
async fn closing_a_session_removes_it_from_its_connection() {
    let simulator = pinned().await;
    let connection = format!("{CIFS}?identifier={BIG_CONNECTION}&fields=sessions");
    let before = get(&simulator, &connection).await.json()["records"][0]["sessions"].clone();
    assert_eq!(before.as_array().map(Vec::len), Some(2));
    assert_eq!(
        call(&simulator, "DELETE", &big_path(), None).await.status,
        200
    );
    let after = get(&simulator, &connection).await.json();
    let ids = field_values(&after["records"][0], "sessions.identifier");
    assert_eq!(ids.len(), 1);
    assert_ne!(ids[0].as_u64(), Some(BIG));
    assert_collections_agree(&simulator).await;
}

#[tokio::test]
async fn closing_the_last_session_of_a_connection_removes_the_connection() {
    let simulator = pinned().await;
    let connections = count(&simulator, CIFS).await;
    let target = format!("{CIFS_SESSIONS}/{NODE1}/{VS1}/625718873227788312/91842");
    assert_eq!(call(&simulator, "DELETE", &target, None).await.status, 200);
    assert_eq!(
        count(&simulator, &format!("{CIFS}?identifier=91842")).await,
        0
    );
    assert_eq!(count(&simulator, CIFS).await, connections - 1);
    assert_collections_agree(&simulator).await;
}

#[tokio::test]
async fn a_connection_posted_through_the_admin_api_brings_its_sessions() {
    let simulator = with_admin().await;
    let connection = json!({
        "node_uuid": NODE1, "svm_uuid": VS1, "identifier": 5, "network_context_id": 4,
        "client_ip": "10.74.7.9", "client_port": 4000, "server_ip": "10.140.70.197",
        "session_ids": [18_446_744_073_709_551_615_u64, 8],
    });
    let reply = admin_call(
        &simulator,
        "POST",
        "/cifs/connections",
        &connection.to_string(),
    )
    .await;
    assert_eq!(reply.status, 201);
    let sessions = all_records(
        &simulator,
        &format!("{CIFS_SESSIONS}?connection_id=5&fields=*"),
    )
    .await;
    let ids: BTreeSet<u64> = sessions
        .iter()
        .map(|s| s["identifier"].as_u64().expect("a u64"))
        .collect();
    assert_eq!(ids, BTreeSet::from([u64::MAX, 8]));
    for session in &sessions {
        assert_eq!(session["client_ip"], "10.74.7.9");
        assert_eq!(session["svm"]["name"], "vs1");
        assert!(
            session["protocol"]
                .as_str()
                .is_some_and(|p| p.starts_with("smb"))
        );
    }
}

#[tokio::test]
async fn deleting_a_connection_through_the_admin_api_ends_its_sessions() {
    let simulator = with_admin().await;
    let target = format!("/cifs/connections/{NODE1}/92080");
    assert_eq!(
        admin_call(&simulator, "DELETE", &target, "").await.status,
        204
    );
    let left = format!("{CIFS_SESSIONS}?node.uuid={NODE1}&connection_id=92080");
    assert_eq!(count(&simulator, &left).await, 0);
    assert_collections_agree(&simulator).await;
}

#[tokio::test]
async fn churned_connections_and_sessions_agree_at_every_step() {
    let simulator = pinned().await;
    let cluster = simulator.cluster();
    cluster.set_cifs_churn(CifsChurn::new(30.0, 3).expect("a valid rate"));
    let before = carried_by_sessions(&simulator).await;
    for _ in 0..5 {
        cluster.advance_clock(Duration::from_secs(60));
        assert_collections_agree(&simulator).await;
    }
    assert!(cluster.cifs_churn_events() > 0);
    assert_ne!(carried_by_sessions(&simulator).await, before);
}

async fn patch_enabled(simulator: &Simulator, enabled: bool) {
    let body = format!(r#"{{"enabled": {enabled}}}"#);
    let reply = call(
        simulator,
        "PATCH",
        &format!("{SERVICES}/{SVM2}"),
        Some(&body),
    )
    .await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn disabling_the_iscsi_service_ends_its_sessions_and_enabling_brings_none_back() {
    let simulator = pinned().await;
    let on = |svm: &str| format!("{ISCSI_SESSIONS}?svm.uuid={svm}");
    assert_eq!(count(&simulator, &on(SVM2)).await, 4);
    assert_eq!(count(&simulator, &on(SVM3)).await, 3);
    patch_enabled(&simulator, false).await;
    assert_eq!(count(&simulator, &on(SVM2)).await, 0);
    assert_eq!(count(&simulator, ISCSI_SESSIONS).await, 3, "svm3's stay");
    let one = format!("{ISCSI_SESSIONS}/{SVM2}/svm2_iscsi_lif1/10");
    assert_error(&get(&simulator, &one).await, 404, "4");
    patch_enabled(&simulator, true).await;
    assert_eq!(count(&simulator, &on(SVM2)).await, 0);
    assert_eq!(count(&simulator, ISCSI_SESSIONS).await, 3);
}

#[tokio::test]
async fn a_disabled_service_blocks_new_sessions() {
    let simulator = pinned().await;
    patch_enabled(&simulator, false).await;
    assert_eq!(
        simulator.cluster().add_iscsi_session(new_session(SVM2, 77)),
        Err(IscsiSessionError::ServiceDisabled(SVM2.to_owned()))
    );
    patch_enabled(&simulator, true).await;
    assert_eq!(
        simulator.cluster().add_iscsi_session(new_session(SVM2, 77)),
        Ok(())
    );
    let on_svm2 = all_records(&simulator, &format!("{ISCSI_SESSIONS}?svm.uuid={SVM2}")).await;
    assert_eq!(
        on_svm2.iter().map(iscsi_key).collect::<Vec<_>>(),
        [format!("{SVM2}/lif_new/77")]
    );
    assert_eq!(count(&simulator, ISCSI_SESSIONS).await, 1 + 3, "and svm3's");
}

#[tokio::test]
async fn an_initiator_logging_out_ends_only_its_session() {
    let simulator = pinned().await;
    let one = format!("{ISCSI_SESSIONS}/{SVM2}/svm2_iscsi_lif1/10");
    assert_eq!(get(&simulator, &one).await.status, 200);
    let ended = simulator
        .cluster()
        .remove_iscsi_sessions(|s| s.svm_uuid == SVM2 && s.tsih == 10);
    assert_eq!(ended, 1);
    assert_error(&get(&simulator, &one).await, 404, "4");
    assert_eq!(count(&simulator, ISCSI_SESSIONS).await, 4 - 1 + 3);
    let none = simulator.cluster().remove_iscsi_sessions(|s| s.tsih == 10);
    assert_eq!(none, 0);
}

#[tokio::test]
async fn a_deleted_iscsi_service_has_no_sessions() {
    let simulator = pinned().await;
    patch_enabled(&simulator, false).await;
    let reply = call(&simulator, "DELETE", &format!("{SERVICES}/{SVM2}"), None).await;
    assert_eq!(reply.status, 200);
    assert_eq!(count(&simulator, ISCSI_SESSIONS).await, 3, "svm3's");
    assert!(
        simulator
            .cluster()
            .with(|c| c.iscsi_sessions.iter().all(|s| s.svm_uuid == SVM3))
    );
    let one = format!("{ISCSI_SESSIONS}/{SVM2}/svm2_iscsi_lif1/10");
    assert_error(&get(&simulator, &one).await, 404, "4");
}

#[tokio::test]
async fn sessions_on_another_svm_are_told_apart_by_svm_filters() {
    let simulator = pinned().await;
    let created = call(
        &simulator,
        "POST",
        SERVICES,
        Some(r#"{"svm": {"name": "svm1"}}"#),
    )
    .await;
    assert_eq!(created.status, 201);
    simulator
        .cluster()
        .add_iscsi_session(new_session(SVM1, 1))
        .expect("svm1 serves iSCSI now");
    let on_svm1 = all_records(&simulator, &format!("{ISCSI_SESSIONS}?svm.name=svm1")).await;
    assert_eq!(
        on_svm1.iter().map(iscsi_key).collect::<Vec<_>>(),
        [format!("{SVM1}/lif_new/1")]
    );
    assert_eq!(
        count(&simulator, &format!("{ISCSI_SESSIONS}?svm.name=svm2")).await,
        4
    );
    assert_eq!(
        count(&simulator, &format!("{ISCSI_SESSIONS}?svm.name=svm3")).await,
        3
    );
    assert_eq!(
        count(&simulator, &format!("{ISCSI_SESSIONS}?svm.name=!svm2")).await,
        1 + 3,
        "svm1's and svm3's"
    );
}

fn new_session(svm_uuid: &str, tsih: u16) -> IscsiSession {
    IscsiSession {
        svm_uuid: svm_uuid.to_owned(),
        target_portal_group: "lif_new".to_owned(),
        target_portal_group_tag: 1040,
        tsih,
        isid: "40:00:01:37:00:99".to_owned(),
        initiator: IscsiInitiator {
            name: "iqn.1994-05.com.example:late".to_owned(),
            alias: None,
            comment: None,
        },
        igroups: Vec::new(),
        connections: vec![IscsiConnection {
            cid: 0,
            authentication_type: IscsiAuthentication::Chap,
            initiator_address: "192.0.2.9".to_owned(),
            initiator_port: 50_000,
            interface: IscsiInterface {
                name: "lif_new".to_owned(),
                uuid: "9e1d2c3b-5d12-11ef-8b0e-005056a7c0ff".to_owned(),
                address: "198.51.100.9".to_owned(),
            },
        }],
    }
}

#[tokio::test]
async fn the_seeds_u64_session_is_listed_by_its_connection() {
    let simulator = pinned().await;
    let body = get(
        &simulator,
        &format!("{CIFS}?sessions.identifier={BIG}&fields=sessions"),
    )
    .await
    .json();
    assert_eq!(body["num_records"], 1);
    assert_eq!(body["records"][0]["identifier"], BIG_CONNECTION);
}
