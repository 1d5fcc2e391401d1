//! The cluster object, `GET /api/cluster`: the one call a client makes to learn the cluster's name
//! and ONTAP release, with ONTAP's `fields`, errors, authentication and injected faults.

use super::*;

const CLUSTER: &str = "/api/cluster";

#[tokio::test]
async fn version_and_name_fields_return_exactly_those_with_the_self_link() {
    let simulator = seeded().await;
    let reply = get(&simulator, &format!("{CLUSTER}?fields=version,name")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/hal+json"));
    assert_eq!(
        reply.json(),
        serde_json::json!({
            "name": "cluster1",
            "version": {
                "full": "NetApp Release 9.14.1: Mon Jan 01 00:00:00 UTC 2024",
                "generation": 9,
                "major": 14,
                "minor": 1,
            },
            "_links": {"self": {"href": "/api/cluster"}},
        })
    );
}

#[tokio::test]
async fn without_fields_the_cluster_has_its_name_uuid_and_version() {
    let simulator = seeded().await;
    let body = get(&simulator, CLUSTER).await.json();
    assert_eq!(keys(&body), ["_links", "name", "uuid", "version"]);
    assert_eq!(body["uuid"], "1cd8a442-86d1-11e0-ae1c-123478563411");
    assert_eq!(
        keys(&body["version"]),
        ["full", "generation", "major", "minor"]
    );
}

#[tokio::test]
async fn star_fields_return_every_field() {
    let simulator = seeded().await;
    let star = get(&simulator, &format!("{CLUSTER}?fields=*")).await.json();
    assert_eq!(star, get(&simulator, CLUSTER).await.json());
}

#[tokio::test]
async fn one_version_part_returns_only_that_part() {
    let simulator = seeded().await;
    let body = get(&simulator, &format!("{CLUSTER}?fields=version.major"))
        .await
        .json();
    assert_eq!(keys(&body), ["_links", "version"]);
    assert_eq!(body["version"], serde_json::json!({"major": 14}));
}

#[tokio::test]
async fn unknown_field_is_400_262197_naming_it() {
    let simulator = seeded().await;
    let reply = get(&simulator, &format!("{CLUSTER}?fields=name,contact")).await;
    assert_eq!(reply.status, 400);
    let error = &reply.json()["error"];
    assert_eq!(error["code"], "262197");
    assert_eq!(error["target"], "fields");
    assert!(
        error["message"]
            .as_str()
            .expect("a message")
            .contains("contact"),
        "{error}"
    );
}

#[tokio::test]
async fn collection_parameter_is_400_262179() {
    let simulator = seeded().await;
    let reply = get(&simulator, &format!("{CLUSTER}?max_records=1")).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"]["code"], "262179");
    assert_eq!(reply.json()["error"]["target"], "max_records");
}

#[tokio::test]
async fn plain_json_has_no_self_link() {
    let simulator = seeded().await;
    let auth = admin();
    let reply = Client::connect(&simulator)
        .await
        .request(
            "GET",
            CLUSTER,
            &[("Authorization", &auth), ("Accept", "application/json")],
        )
        .await;
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(keys(&reply.json()), ["name", "uuid", "version"]);
}

#[tokio::test]
async fn head_answers_200_without_a_body() {
    let simulator = seeded().await;
    let auth = admin();
    let reply = Client::connect(&simulator)
        .await
        .request("HEAD", CLUSTER, &[("Authorization", &auth)])
        .await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.is_empty());
}

#[tokio::test]
async fn a_renamed_cluster_shows_in_the_next_response() {
    let simulator = seeded().await;
    simulator.cluster().with(|c| {
        c.name = "lab-east".to_owned();
        c.version.major = 16;
    });
    let body = get(&simulator, &format!("{CLUSTER}?fields=name,version.major"))
        .await
        .json();
    assert_eq!(body["name"], "lab-east");
    assert_eq!(body["version"]["major"], 16);
}

#[tokio::test]
async fn wrong_credentials_get_401() {
    let simulator = seeded().await;
    let auth = basic("admin", "nope");
    let reply = Client::connect(&simulator)
        .await
        .request("GET", CLUSTER, &[("Authorization", &auth)])
        .await;
    assert_eq!(reply.status, 401);
    assert!(reply.json()["error"]["message"].is_string());
}

#[tokio::test]
async fn post_is_405_with_allow() {
    let simulator = seeded().await;
    let reply = call(&simulator, "POST", CLUSTER, Some("{}")).await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET, HEAD"));
    assert!(reply.json()["error"]["message"].is_string());
}

#[tokio::test]
async fn a_fault_on_the_cluster_path_fails_its_get_and_leaves_other_paths_alone() {
    let simulator = seeded().await;
    simulator.faults().push(Fault {
        path_prefix: Some(CLUSTER.to_owned()),
        ..Fault::once(FaultKind::Busy {
            status: 503,
            retry_after: None,
        })
    });
    assert_eq!(get(&simulator, CIFS).await.status, 200);
    assert_eq!(
        get(&simulator, &format!("{CLUSTER}?fields=version,name"))
            .await
            .status,
        503
    );
    assert_eq!(get(&simulator, CLUSTER).await.status, 200);
}
