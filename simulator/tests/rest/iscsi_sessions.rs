//! The iSCSI sessions collection and its objects: default and requested fields, each of the 19
//! filters, ordering and paging, the GET of one session with its percent-decoded portal group,
//! HAL links, and the errors (2621462, 404, 405).

use super::*;

pub(super) const SVM1: &str = "19d04b8e-94d7-11e8-8370-005056b48fd2";
pub(super) const SVM2: &str = "25f617cf-94d7-11e8-8370-005056b48fd2";
pub(super) const SVM3: &str = "fd3a6b25-94d7-11e8-8370-005056b48fd2";
const LIF1: &str = "svm2_iscsi_lif1";

/// A session named by its three keys.
pub(super) fn iscsi_key(record: &Value) -> String {
    format!(
        "{}/{}/{}",
        record["svm"]["uuid"].as_str().expect("svm"),
        record["target_portal_group"]
            .as_str()
            .expect("portal group"),
        record["tsih"].as_u64().expect("tsih"),
    )
}

fn session_path(svm: &str, group: &str, tsih: u64) -> String {
    format!("{ISCSI_SESSIONS}/{svm}/{group}/{tsih}")
}

#[tokio::test]
async fn default_listing_returns_svm_portal_group_tsih_and_self_links() {
    let simulator = pinned().await;
    let body = get(&simulator, ISCSI_SESSIONS).await.json();
    assert_eq!(body["num_records"], 7);
    let records = body["records"].as_array().expect("records");
    let svms: Vec<&str> = records
        .iter()
        .map(|r| r["svm"]["uuid"].as_str().expect("svm"))
        .collect();
    assert_eq!(svms, [SVM2, SVM2, SVM2, SVM2, SVM3, SVM3, SVM3]);
    for record in records {
        assert_eq!(
            keys(record),
            ["_links", "svm", "target_portal_group", "tsih"]
        );
        assert_eq!(keys(&record["svm"]), ["_links", "name", "uuid"]);
        assert_eq!(
            record["svm"]["_links"]["self"]["href"],
            format!(
                "/api/svm/svms/{}",
                record["svm"]["uuid"].as_str().expect("svm")
            )
        );
        assert_eq!(
            record["_links"]["self"]["href"],
            format!("{ISCSI_SESSIONS}/{}", iscsi_key(record))
        );
    }
}

#[tokio::test]
async fn all_fields_return_the_documented_record_with_nested_links() {
    let simulator = pinned().await;
    let body = get(&simulator, &format!("{ISCSI_SESSIONS}?fields=*&tsih=12"))
        .await
        .json();
    let record = &body["records"][0];
    assert_eq!(
        keys(record),
        [
            "_links",
            "connections",
            "igroups",
            "initiator",
            "isid",
            "svm",
            "target_portal_group",
            "target_portal_group_tag",
            "tsih"
        ]
    );
    let connection = &record["connections"][0];
    assert_eq!(
        keys(connection),
        [
            "authentication_type",
            "cid",
            "initiator_address",
            "interface"
        ]
    );
    assert_eq!(keys(&connection["initiator_address"]), ["address", "port"]);
    assert_eq!(connection["interface"]["ip"]["port"], 3260);
    assert_eq!(
        connection["interface"]["_links"]["self"]["href"],
        format!(
            "/api/network/ip/interfaces/{}",
            connection["interface"]["uuid"].as_str().expect("uuid")
        )
    );
    for igroup in record["igroups"].as_array().expect("igroups") {
        assert_eq!(
            igroup["_links"]["self"]["href"],
            format!(
                "/api/protocols/san/igroups/{}",
                igroup["uuid"].as_str().expect("uuid")
            )
        );
    }
    assert_eq!(record["connections"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn double_star_returns_what_star_returns_since_nothing_is_expensive() {
    let simulator = pinned().await;
    let star = all_records(&simulator, &format!("{ISCSI_SESSIONS}?fields=*")).await;
    let both = all_records(&simulator, &format!("{ISCSI_SESSIONS}?fields=**")).await;
    assert_eq!(star, both);
}

#[tokio::test]
async fn each_of_the_19_documented_filters_selects_what_its_field_matches() {
    let simulator = pinned().await;
    assert_each_filter_selects_its_matches(
        &simulator,
        ISCSI_SESSIONS,
        &[
            "svm.name",
            "svm.uuid",
            "target_portal_group",
            "target_portal_group_tag",
            "tsih",
            "isid",
            "initiator.name",
            "initiator.alias",
            "initiator.comment",
            "igroups.name",
            "igroups.uuid",
            "connections.cid",
            "connections.authentication_type",
            "connections.initiator_address.address",
            "connections.initiator_address.port",
            "connections.interface.name",
            "connections.interface.uuid",
            "connections.interface.ip.address",
            "connections.interface.ip.port",
        ],
        iscsi_key,
    )
    .await;
}

#[tokio::test]
async fn a_filter_on_connections_matches_a_session_when_any_connection_matches() {
    let simulator = pinned().await;
    let body = get(&simulator, &format!("{ISCSI_SESSIONS}?connections.cid=1"))
        .await
        .json();
    assert_eq!(body["num_records"], 1);
    assert_eq!(body["records"][0]["tsih"], 12);
    let sessions_without = count(&simulator, &format!("{ISCSI_SESSIONS}?igroups.name=null")).await;
    assert_eq!(sessions_without, 1);
}

#[tokio::test]
async fn filters_outside_the_documented_values_and_bounds_are_400() {
    let simulator = pinned().await;
    for (query, target) in [
        (
            "connections.authentication_type=deny",
            "connections.authentication_type",
        ),
        (
            "connections.interface.ip.port=70000",
            "connections.interface.ip.port",
        ),
        ("igroups.name=", "igroups.name"),
        ("tsih=ten", "tsih"),
    ] {
        let reply = get(&simulator, &format!("{ISCSI_SESSIONS}?{query}")).await;
        assert_error(&reply, 400, "262197");
        assert_eq!(reply.json()["error"]["target"], target, "{query}");
    }
}

#[tokio::test]
async fn order_by_tsih_descending_orders_the_sessions() {
    let simulator = pinned().await;
    let tsihs: Vec<u64> = all_records(
        &simulator,
        &format!("{ISCSI_SESSIONS}?order_by=tsih%20desc"),
    )
    .await
    .iter()
    .map(|r| r["tsih"].as_u64().expect("tsih"))
    .collect();
    assert_eq!(tsihs, [22, 21, 20, 13, 12, 11, 10]);
}

#[tokio::test]
async fn max_records_pages_visit_every_session_once() {
    let simulator = pinned().await;
    let mut client = Client::connect(&simulator).await;
    let first = client
        .get(&format!("{ISCSI_SESSIONS}?max_records=3"))
        .await
        .json();
    assert_eq!(first["num_records"], 3);
    let next = first["_links"]["next"]["href"].as_str().expect("next");
    let second = client.get(next).await.json();
    assert_eq!(second["num_records"], 3);
    let next = second["_links"]["next"]["href"].as_str().expect("next");
    let third = client.get(next).await.json();
    assert_eq!(third["num_records"], 1);
    assert!(third["_links"].get("next").is_none());
    let keys: HashSet<String> = [first, second, third]
        .iter()
        .flat_map(|page| page["records"].as_array().into_iter().flatten())
        .map(iscsi_key)
        .collect();
    assert_eq!(keys.len(), 7);
}

#[tokio::test]
async fn one_session_is_returned_whole_with_its_self_link() {
    let simulator = pinned().await;
    let path = session_path(SVM2, LIF1, 10);
    let reply = get(&simulator, &path).await;
    assert_eq!(reply.status, 200);
    let record = reply.json();
    assert_eq!(record["_links"]["self"]["href"], path);
    assert_eq!(record["initiator"]["name"], "iqn.1994-05.com.redhat:host1");
    assert_eq!(record["initiator"]["comment"], "rack 4, db tier");
    let listed = get(&simulator, &format!("{ISCSI_SESSIONS}?tsih=10&fields=*"))
        .await
        .json();
    assert_eq!(record, listed["records"][0]);
}

#[tokio::test]
async fn one_session_honours_fields() {
    let simulator = pinned().await;
    let record = get(
        &simulator,
        &format!("{}?fields=initiator.alias", session_path(SVM2, LIF1, 10)),
    )
    .await
    .json();
    assert_eq!(
        keys(&record),
        ["_links", "initiator", "svm", "target_portal_group", "tsih"]
    );
    assert_eq!(keys(&record["initiator"]), ["alias"]);
}

#[tokio::test]
async fn the_portal_group_in_the_path_is_percent_decoded() {
    let simulator = pinned().await;
    let reply = get(&simulator, &session_path(SVM2, "svm2%5Fiscsi%5Flif1", 10)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["target_portal_group"], LIF1);
}

#[tokio::test]
async fn an_unknown_svm_in_the_path_is_404_code_2621462() {
    let simulator = pinned().await;
    let reply = get(&simulator, &session_path("no-such-svm", LIF1, 10)).await;
    assert_error(&reply, 404, "2621462");
    assert_eq!(reply.json()["error"]["target"], "svm.uuid");
}

#[tokio::test]
async fn a_known_svm_without_that_session_is_404_code_4() {
    let simulator = pinned().await;
    for path in [
        session_path(SVM2, LIF1, 11),
        session_path(SVM2, "no_such_group", 10),
        session_path(SVM2, LIF1, 99),
        session_path(SVM1, LIF1, 10),
    ] {
        assert_error(&get(&simulator, &path).await, 404, "4");
    }
}

#[tokio::test]
async fn methods_other_than_get_are_405_code_3_with_allow() {
    let simulator = pinned().await;
    let one = session_path(SVM2, LIF1, 10);
    for (method, target) in [
        ("POST", ISCSI_SESSIONS),
        ("DELETE", ISCSI_SESSIONS),
        ("PATCH", one.as_str()),
        ("DELETE", one.as_str()),
    ] {
        let reply = call(&simulator, method, target, None).await;
        assert_error(&reply, 405, "3");
        assert_eq!(
            reply.header("allow"),
            Some("GET, HEAD"),
            "{method} {target}"
        );
    }
    assert_eq!(count(&simulator, ISCSI_SESSIONS).await, 7);
}
