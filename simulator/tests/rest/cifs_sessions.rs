//! The CIFS sessions collection and its objects: default and requested fields, each of the 24
//! filters and the query operators, ordering and paging (u64 identifiers exact throughout), the
//! GET of one session, HAL links, and the errors. Closing sessions is in `cifs_sessions_close`.

use super::*;

const NODE1: &str = "1cd8a442-86d1-11e0-ae1c-123478563412";
const NODE2: &str = "1cd8a442-86d1-11e0-ae1c-123478563413";
const VS1: &str = "fc824aa8-4e60-11ea-afb1-0050568ec4e4";
/// The seed's session above 2^63 - 1, on connection 91869 of node 2.
pub(super) const BIG: u64 = 9_876_543_210_987_654_321;
pub(super) const BIG_CONNECTION: u32 = 91_869;

/// The path of one session.
pub(super) fn session_path(node: &str, svm: &str, identifier: u64, connection_id: u32) -> String {
    format!("{CIFS_SESSIONS}/{node}/{svm}/{identifier}/{connection_id}")
}

/// The path of the seed's session above 2^63 - 1.
pub(super) fn big_path() -> String {
    session_path(NODE2, VS1, BIG, BIG_CONNECTION)
}

/// A session named by its four keys.
pub(super) fn session_key(record: &Value) -> String {
    format!(
        "{}/{}/{}/{}",
        record["node"]["uuid"].as_str().expect("node"),
        record["svm"]["uuid"].as_str().expect("svm"),
        record["identifier"].as_u64().expect("identifier"),
        record["connection_id"].as_u64().expect("connection_id"),
    )
}

/// How many sessions the model holds.
pub(super) fn modelled(simulator: &Simulator) -> usize {
    simulator.cluster().with(|c| c.cifs_sessions().len())
}

/// Every field of a session record, as the page lists them (`_links` aside).
const RECORD_FIELDS: [&str; 21] = [
    "authentication",
    "client_ip",
    "connected_duration",
    "connection_count",
    "connection_id",
    "continuous_availability",
    "identifier",
    "idle_duration",
    "large_mtu",
    "mapped_unix_user",
    "node",
    "open_files",
    "open_other",
    "open_shares",
    "protocol",
    "server_ip",
    "smb_encryption",
    "smb_signing",
    "svm",
    "user",
    "volumes",
];

#[tokio::test]
async fn default_listing_returns_the_key_fields_and_self_links() {
    let simulator = pinned().await;
    let body = get(&simulator, CIFS_SESSIONS).await.json();
    assert_eq!(body["num_records"], modelled(&simulator));
    for record in body["records"].as_array().expect("records") {
        assert_eq!(
            keys(record),
            ["_links", "connection_id", "identifier", "node", "svm"]
        );
        assert_eq!(keys(&record["node"]), ["_links", "name", "uuid"]);
        assert_eq!(keys(&record["svm"]), ["_links", "name", "uuid"]);
        assert_eq!(
            record["_links"]["self"]["href"],
            format!("{CIFS_SESSIONS}/{}", session_key(record))
        );
    }
}

#[tokio::test]
async fn all_fields_return_every_documented_field() {
    let simulator = pinned().await;
    let records = all_records(&simulator, &format!("{CIFS_SESSIONS}?fields=*")).await;
    let mut seen = HashSet::new();
    for record in &records {
        for key in keys(record) {
            assert!(
                key == "_links" || RECORD_FIELDS.contains(&key),
                "{key} is not documented"
            );
            seen.insert(key.to_owned());
        }
        for always in ["authentication", "protocol", "idle_duration", "open_files"] {
            assert!(record.get(always).is_some(), "{always}: {record}");
        }
    }
    for field in RECORD_FIELDS {
        assert!(seen.contains(field), "no record has {field}");
    }
}

#[tokio::test]
async fn double_star_returns_what_star_returns_since_nothing_is_expensive() {
    let simulator = pinned().await;
    let star = get(&simulator, &format!("{CIFS_SESSIONS}?fields=*"))
        .await
        .json();
    let both = get(&simulator, &format!("{CIFS_SESSIONS}?fields=**"))
        .await
        .json();
    assert_eq!(star, {
        let mut both = both;
        both["_links"] = star["_links"].clone();
        both
    });
}

#[tokio::test]
async fn enum_and_duration_fields_take_their_documented_forms() {
    let simulator = pinned().await;
    let records = all_records(&simulator, &format!("{CIFS_SESSIONS}?fields=*")).await;
    let words = |field: &str| -> HashSet<String> {
        records
            .iter()
            .filter_map(|r| r[field].as_str().map(str::to_owned))
            .collect()
    };
    let allowed: [(&str, &[&str]); 4] = [
        (
            "authentication",
            &["none", "ntlmv1", "ntlmv2", "kerberos", "anonymous"],
        ),
        ("protocol", &["smb1", "smb2", "smb2_1", "smb3", "smb3_1"]),
        (
            "continuous_availability",
            &["unavailable", "available", "partial"],
        ),
        (
            "smb_encryption",
            &["unencrypted", "encrypted", "partially_encrypted"],
        ),
    ];
    for (field, documented) in allowed {
        let found = words(field);
        assert!(!found.is_empty(), "{field}");
        assert!(
            found.iter().all(|w| documented.contains(&w.as_str())),
            "{field}: {found:?}"
        );
    }
    for record in &records {
        for field in ["connected_duration", "idle_duration"] {
            let text = record[field].as_str().expect("a duration");
            assert!(text.starts_with('P'), "{field}: {text}");
        }
    }
}

#[tokio::test]
async fn durations_grow_with_the_simulated_clock() {
    let simulator = pinned().await;
    let target = format!("{}?fields=connected_duration", big_path());
    let before = get(&simulator, &target).await.json()["connected_duration"].clone();
    simulator
        .cluster()
        .advance_clock(std::time::Duration::from_secs(3_600));
    let after = get(&simulator, &target).await.json()["connected_duration"].clone();
    assert_ne!(before, after);
    let seconds = |d: &Value| {
        d.as_str()
            .expect("a duration")
            .parse::<jiff::SignedDuration>()
            .expect("ISO 8601 within a day")
            .as_secs()
    };
    assert_eq!(seconds(&after) - seconds(&before), 3_600);
}

#[tokio::test]
async fn each_of_the_24_documented_filters_selects_what_its_field_matches() {
    let simulator = pinned().await;
    assert_each_filter_selects_its_matches(
        &simulator,
        CIFS_SESSIONS,
        &[
            "node.name",
            "node.uuid",
            "svm.name",
            "svm.uuid",
            "identifier",
            "connection_id",
            "server_ip",
            "client_ip",
            "authentication",
            "user",
            "mapped_unix_user",
            "protocol",
            "continuous_availability",
            "smb_signing",
            "smb_encryption",
            "large_mtu",
            "connected_duration",
            "idle_duration",
            "connection_count",
            "open_files",
            "open_other",
            "open_shares",
            "volumes.name",
            "volumes.uuid",
        ],
        session_key,
    )
    .await;
}

#[tokio::test]
async fn a_wildcard_selects_dialects_by_prefix() {
    let simulator = pinned().await;
    let records = all_records(
        &simulator,
        &format!("{CIFS_SESSIONS}?protocol=smb3*&fields=protocol"),
    )
    .await;
    assert!(!records.is_empty());
    assert!(records.iter().all(|r| {
        r["protocol"]
            .as_str()
            .expect("protocol")
            .starts_with("smb3")
    }));
    let all = count(&simulator, CIFS_SESSIONS).await;
    let others = count(&simulator, &format!("{CIFS_SESSIONS}?protocol=!smb3*")).await;
    assert_eq!(records.len() as u64 + others, all);
}

#[tokio::test]
async fn alternatives_and_negation_combine() {
    let simulator = pinned().await;
    let either = count(
        &simulator,
        &format!("{CIFS_SESSIONS}?authentication=kerberos%7Cntlmv2"),
    )
    .await;
    let kerberos = count(
        &simulator,
        &format!("{CIFS_SESSIONS}?authentication=kerberos"),
    )
    .await;
    let ntlmv2 = count(
        &simulator,
        &format!("{CIFS_SESSIONS}?authentication=ntlmv2"),
    )
    .await;
    assert_eq!(either, kerberos + ntlmv2);
    let neither = count(
        &simulator,
        &format!("{CIFS_SESSIONS}?authentication=!kerberos&authentication=!ntlmv2"),
    )
    .await;
    assert_eq!(either + neither, count(&simulator, CIFS_SESSIONS).await);
}

#[tokio::test]
async fn comparisons_and_ranges_compare_counters_as_numbers() {
    let simulator = pinned().await;
    let records = all_records(&simulator, &format!("{CIFS_SESSIONS}?fields=open_files")).await;
    let files = |r: &Value| r["open_files"].as_u64().expect("open_files");
    let expected =
        |pred: &dyn Fn(u64) -> bool| records.iter().filter(|r| pred(files(r))).count() as u64;
    assert_eq!(
        count(&simulator, &format!("{CIFS_SESSIONS}?open_files=%3E5")).await,
        expected(&|n| n > 5)
    );
    assert_eq!(
        count(&simulator, &format!("{CIFS_SESSIONS}?open_files=%3C%3D2")).await,
        expected(&|n| n <= 2)
    );
    assert_eq!(
        count(&simulator, &format!("{CIFS_SESSIONS}?open_files=3..10")).await,
        expected(&|n| (3..=10).contains(&n))
    );
}

#[tokio::test]
async fn null_selects_sessions_without_a_user() {
    let simulator = pinned().await;
    let anonymous = all_records(
        &simulator,
        &format!("{CIFS_SESSIONS}?user=null&fields=user,authentication"),
    )
    .await;
    assert!(!anonymous.is_empty());
    for record in &anonymous {
        assert!(record.get("user").is_none());
        assert!(["anonymous", "none"].contains(&record["authentication"].as_str().expect("auth")));
    }
    let named = count(&simulator, &format!("{CIFS_SESSIONS}?user=!null")).await;
    assert_eq!(
        anonymous.len() as u64 + named,
        count(&simulator, CIFS_SESSIONS).await
    );
}

#[tokio::test]
async fn an_identifier_above_2_63_filters_exactly() {
    let simulator = pinned().await;
    let reply = get(&simulator, &format!("{CIFS_SESSIONS}?identifier={BIG}")).await;
    let text = String::from_utf8_lossy(&reply.body).into_owned();
    assert!(
        text.contains("\"identifier\":9876543210987654321"),
        "{text}"
    );
    let body = reply.json();
    assert_eq!(body["num_records"], 1);
    assert_eq!(body["records"][0]["identifier"].as_u64(), Some(BIG));
    assert_eq!(body["records"][0]["connection_id"], BIG_CONNECTION);
    for neighbour in [BIG - 1, BIG + 1] {
        let target = format!("{CIFS_SESSIONS}?identifier={neighbour}");
        assert_eq!(count(&simulator, &target).await, 0, "{neighbour}");
    }
    let above_i64 = format!("{CIFS_SESSIONS}?identifier=%3E9223372036854775807");
    assert_eq!(count(&simulator, &above_i64).await, 1);
}

#[tokio::test]
async fn order_by_identifier_descending_pages_past_the_u64_session_exactly() {
    let simulator = pinned().await;
    let served: Vec<u64> = all_records(
        &simulator,
        &format!("{CIFS_SESSIONS}?order_by=identifier%20desc&max_records=1"),
    )
    .await
    .iter()
    .map(|r| r["identifier"].as_u64().expect("identifier"))
    .collect();
    assert_eq!(served.len(), modelled(&simulator));
    assert_eq!(served[0], BIG);
    assert!(served.windows(2).all(|w| w[0] >= w[1]), "{served:?}");
}

#[tokio::test]
async fn order_by_an_enum_is_alphabetical() {
    let simulator = pinned().await;
    let served: Vec<String> = all_records(
        &simulator,
        &format!("{CIFS_SESSIONS}?order_by=authentication&fields=authentication"),
    )
    .await
    .iter()
    .map(|r| r["authentication"].as_str().expect("auth").to_owned())
    .collect();
    assert!(served.windows(2).all(|w| w[0] <= w[1]), "{served:?}");
}

#[tokio::test]
async fn max_records_pages_visit_every_session_once() {
    let simulator = pinned().await;
    let keys: Vec<String> = all_records(&simulator, &format!("{CIFS_SESSIONS}?max_records=7"))
        .await
        .iter()
        .map(session_key)
        .collect();
    assert_eq!(keys.len(), modelled(&simulator));
    assert_eq!(keys.iter().collect::<HashSet<_>>().len(), keys.len());
}

#[tokio::test]
async fn return_records_false_gives_only_the_count() {
    let simulator = pinned().await;
    let body = get(
        &simulator,
        &format!("{CIFS_SESSIONS}?return_records=false&max_records=1"),
    )
    .await
    .json();
    assert_eq!(body["num_records"], modelled(&simulator));
    assert!(body.get("records").is_none());
}

#[tokio::test]
async fn slow_iteration_returns_early_within_return_timeout() {
    let simulator = pinned().await;
    simulator
        .cluster()
        .set_iteration_cost(CIFS_SESSIONS, std::time::Duration::from_secs(1));
    let first = get(&simulator, &format!("{CIFS_SESSIONS}?return_timeout=5"))
        .await
        .json();
    assert_eq!(first["num_records"], 5);
    assert!(first["_links"]["next"]["href"].is_string());
    let all = all_records(&simulator, &format!("{CIFS_SESSIONS}?return_timeout=5")).await;
    assert_eq!(all.len(), modelled(&simulator));
}

#[tokio::test]
async fn an_undocumented_enum_value_in_a_filter_is_400_invalid_value() {
    let simulator = pinned().await;
    let reply = get(&simulator, &format!("{CIFS_SESSIONS}?protocol=smb4")).await;
    assert_error(&reply, 400, "262197");
    assert_eq!(reply.json()["error"]["target"], "protocol");
}

#[tokio::test]
async fn one_session_is_returned_whole_with_its_self_link() {
    let simulator = pinned().await;
    let reply = get(&simulator, &big_path()).await;
    assert_eq!(reply.status, 200);
    let record = reply.json();
    assert_eq!(record["identifier"].as_u64(), Some(BIG));
    assert_eq!(record["_links"]["self"]["href"], big_path());
    let listed = get(
        &simulator,
        &format!("{CIFS_SESSIONS}?identifier={BIG}&fields=*"),
    )
    .await
    .json();
    assert_eq!(record, listed["records"][0]);
}

#[tokio::test]
async fn one_session_honours_fields() {
    let simulator = pinned().await;
    let record = get(
        &simulator,
        &format!("{}?fields=protocol,node.name", big_path()),
    )
    .await
    .json();
    assert_eq!(
        keys(&record),
        [
            "_links",
            "connection_id",
            "identifier",
            "node",
            "protocol",
            "svm"
        ]
    );
    let volumes = get(
        &simulator,
        &format!("{CIFS_SESSIONS}?fields=volumes.name&volumes.name=!null"),
    )
    .await
    .json();
    let volume = &volumes["records"][0]["volumes"][0];
    assert_eq!(keys(volume), ["_links", "name"]);
}

#[tokio::test]
async fn an_unknown_session_is_404_code_4() {
    let simulator = pinned().await;
    for path in [
        session_path(NODE2, VS1, BIG - 1, BIG_CONNECTION),
        session_path(NODE1, VS1, BIG, BIG_CONNECTION),
        session_path(NODE2, VS1, BIG, BIG_CONNECTION + 1),
        session_path(NODE2, VS1, 0, 0),
        format!("{CIFS_SESSIONS}/{NODE2}/{VS1}/18446744073709551616/{BIG_CONNECTION}"),
    ] {
        assert_error(&get(&simulator, &path).await, 404, "4");
    }
}

#[tokio::test]
async fn a_non_integer_identifier_in_the_path_is_400_invalid_value() {
    let simulator = pinned().await;
    let reply = get(
        &simulator,
        &format!("{CIFS_SESSIONS}/{NODE2}/{VS1}/abc/{BIG_CONNECTION}"),
    )
    .await;
    assert_error(&reply, 400, "262197");
    assert_eq!(reply.json()["error"]["target"], "identifier");
}

#[tokio::test]
async fn nested_objects_link_to_their_own_endpoints() {
    let simulator = pinned().await;
    let record = get(&simulator, &big_path()).await.json();
    assert_eq!(
        record["node"]["_links"]["self"]["href"],
        format!("/api/cluster/nodes/{NODE2}")
    );
    assert_eq!(
        record["svm"]["_links"]["self"]["href"],
        format!("/api/svm/svms/{VS1}")
    );
    let records = all_records(&simulator, &format!("{CIFS_SESSIONS}?fields=volumes")).await;
    let volumes: Vec<&Value> = records
        .iter()
        .flat_map(|r| r["volumes"].as_array().into_iter().flatten())
        .collect();
    assert!(!volumes.is_empty());
    for volume in volumes {
        assert_eq!(
            volume["_links"]["self"]["href"],
            format!(
                "/api/storage/volumes/{}",
                volume["uuid"].as_str().expect("uuid")
            )
        );
    }
}

#[tokio::test]
async fn plain_json_has_no_hal_links() {
    let simulator = pinned().await;
    let auth = admin();
    let reply = Client::connect(&simulator)
        .await
        .request(
            "GET",
            &big_path(),
            &[("Authorization", &auth), ("Accept", "application/json")],
        )
        .await;
    let record = reply.json();
    assert!(record.get("_links").is_none());
    assert!(record["node"].get("_links").is_none());
}

#[tokio::test]
async fn other_methods_are_405_code_3_with_allow() {
    let simulator = pinned().await;
    for (method, target, allow) in [
        ("PATCH", big_path(), "GET, HEAD, DELETE"),
        ("POST", CIFS_SESSIONS.to_owned(), "GET, HEAD, DELETE"),
    ] {
        let reply = call(&simulator, method, &target, Some("{}")).await;
        assert_error(&reply, 405, "3");
        assert_eq!(reply.header("allow"), Some(allow), "{method} {target}");
    }
}
