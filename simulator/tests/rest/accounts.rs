//! Accounts with roles and the per-SVM request counts, as clients with their own credentials see
//! them: a read-only account reads and is refused writes as ONTAP refuses them, and each
//! authenticated request is counted under its SVM and user.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::net::SocketAddr;

use ontap_simulator::{Account, AccountExists, Role, SecretString};
use serde_json::json;

use super::admin_api::{admin_call, with_admin};
use super::*;

const SERVICES: &str = "/api/protocols/san/iscsi/services";
const SVM2: &str = "25f617cf-94d7-11e8-8370-005056b48fd2";

fn account(username: &str, password: &str, role: Role) -> Account {
    Account {
        username: username.to_owned(),
        password: SecretString::from(password),
        role,
    }
}

/// The seed cluster with the admin API, and a read-only `viewer` / `look` configured.
async fn with_viewer() -> Simulator {
    let config = SimulatorConfig {
        admin_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        accounts: vec![account("viewer", "look", Role::Readonly)],
        ..SimulatorConfig::default()
    };
    Simulator::start(config, Cluster::seed())
        .await
        .expect("start")
}

/// One request as `user`, with a JSON body (empty: none), on a fresh connection.
async fn call_as(
    simulator: &Simulator,
    (user, password): (&str, &str),
    method: &str,
    target: &str,
    body: &str,
) -> Reply {
    let auth = basic(user, password);
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let mut client = Client::connect(simulator).await;
    let pending = client.send(method, target, &headers, body).await;
    Reply::read(pending.await).await
}

fn counts(entries: &[(&str, &[(&str, u64)])]) -> BTreeMap<String, BTreeMap<String, u64>> {
    entries
        .iter()
        .map(|(svm, users)| {
            let users = users.iter().map(|(u, n)| ((*u).to_owned(), *n)).collect();
            ((*svm).to_owned(), users)
        })
        .collect()
}

#[tokio::test]
async fn a_readonly_account_reads() {
    let simulator = with_viewer().await;
    let viewer = ("viewer", "look");
    for target in [CIFS, SERVICES, "/api/cluster"] {
        let reply = call_as(&simulator, viewer, "GET", target, "").await;
        assert_eq!(reply.status, 200, "{target}");
    }
    let head = call_as(&simulator, viewer, "HEAD", CIFS, "").await;
    assert_eq!(head.status, 200);
}

#[tokio::test]
async fn a_readonly_account_is_refused_writes_with_403_and_ontaps_body() {
    let simulator = with_viewer().await;
    let item = format!("{SERVICES}/{SVM2}");
    for (method, target, body) in [
        ("POST", SERVICES, r#"{"svm": {"name": "svm1"}}"#),
        ("PATCH", item.as_str(), r#"{"enabled": false}"#),
        ("DELETE", item.as_str(), ""),
    ] {
        let reply = call_as(&simulator, ("viewer", "look"), method, target, body).await;
        assert_eq!(reply.status, 403, "{method}");
        assert_eq!(
            reply.json(),
            json!({"error": {"code": "6", "message": "not authorized for that command"}}),
            "{method}"
        );
        assert_eq!(reply.header("content-type"), Some("application/hal+json"));
    }
    let unchanged = get(&simulator, &format!("{item}?fields=enabled")).await;
    assert_eq!(unchanged.json()["enabled"], true);
    let none_created = get(&simulator, &format!("{SERVICES}?svm.name=svm1")).await;
    assert_eq!(none_created.json()["num_records"], 0);
}

#[tokio::test]
async fn an_admin_account_writes() {
    let simulator = with_viewer().await;
    simulator
        .add_account(account("ops", "run", Role::Admin))
        .expect("a new name");
    let reply = call_as(
        &simulator,
        ("ops", "run"),
        "POST",
        SERVICES,
        r#"{"svm": {"name": "svm1"}}"#,
    )
    .await;
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
}

#[tokio::test]
async fn a_wrong_password_is_401_whoever_the_account() {
    let simulator = with_viewer().await;
    for credentials in [
        ("viewer", "netapp1!"),
        ("viewer", "LOOK"),
        ("admin", "look"),
        ("nobody", "look"),
    ] {
        let reply = call_as(&simulator, credentials, "GET", CIFS, "").await;
        assert_eq!(reply.status, 401, "{credentials:?}");
        assert_eq!(
            reply.header("www-authenticate"),
            Some("Basic realm=\"ONTAP\"")
        );
        assert!(reply.json()["error"].get("code").is_none());
    }
}

#[tokio::test]
async fn an_account_name_is_taken_once() {
    let simulator = with_viewer().await;
    for taken in ["viewer", "admin"] {
        assert_eq!(
            simulator.add_account(account(taken, "x", Role::Admin)),
            Err(AccountExists(taken.to_owned()))
        );
    }
    let still = call_as(&simulator, ("viewer", "look"), "POST", SERVICES, "{}").await;
    assert_eq!(still.status, 403);
}

#[tokio::test]
async fn an_account_added_at_run_time_is_accepted_from_the_next_request() {
    let simulator = with_viewer().await;
    let before = call_as(&simulator, ("late", "pw"), "GET", CIFS, "").await;
    assert_eq!(before.status, 401);
    simulator
        .add_account(account("late", "pw", Role::Readonly))
        .expect("a new name");
    let after = call_as(&simulator, ("late", "pw"), "GET", CIFS, "").await;
    assert_eq!(after.status, 200);
}

#[tokio::test]
async fn configured_accounts_sharing_a_name_refuse_to_start() {
    let config = SimulatorConfig {
        accounts: vec![account("admin", "other", Role::Readonly)],
        ..SimulatorConfig::default()
    };
    let error = Simulator::start(config, Cluster::seed())
        .await
        .expect_err("two accounts named admin");
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(error.to_string().contains("admin"), "{error}");
}

#[tokio::test]
async fn authenticated_requests_are_counted_by_svm_and_user() {
    let simulator = with_viewer().await;
    let viewer = ("viewer", "look");
    let admin = ("admin", "netapp1!");
    call_as(
        &simulator,
        viewer,
        "GET",
        &format!("{CIFS}?svm.name=vs1"),
        "",
    )
    .await;
    call_as(
        &simulator,
        viewer,
        "GET",
        &format!("{CIFS}?svm.name=vs1"),
        "",
    )
    .await;
    call_as(
        &simulator,
        admin,
        "GET",
        &format!("{CIFS}?svm.name=vs1"),
        "",
    )
    .await;
    call_as(
        &simulator,
        admin,
        "GET",
        &format!("{CIFS}?svm.uuid=u-9"),
        "",
    )
    .await;
    let metrics = format!("{SERVICES}/{SVM2}/metrics");
    call_as(&simulator, viewer, "GET", &metrics, "").await;
    call_as(
        &simulator,
        viewer,
        "DELETE",
        &format!("{SERVICES}/{SVM2}"),
        "",
    )
    .await;
    // About no one SVM, or not authenticated: not counted.
    call_as(&simulator, admin, "GET", "/api/cluster", "").await;
    call_as(&simulator, admin, "GET", CIFS, "").await;
    call_as(
        &simulator,
        ("viewer", "x"),
        "GET",
        &format!("{CIFS}?svm.name=vs1"),
        "",
    )
    .await;
    assert_eq!(
        simulator.requests_by_svm(),
        counts(&[
            ("vs1", &[("admin", 1), ("viewer", 2)]),
            ("u-9", &[("admin", 1)]),
            (SVM2, &[("viewer", 2)]),
        ])
    );
}

#[tokio::test]
async fn svm_request_counts_read_over_the_admin_api_and_reset_with_the_stats() {
    let simulator = with_viewer().await;
    call_as(
        &simulator,
        ("viewer", "look"),
        "GET",
        &format!("{CIFS}?svm.name=vs1"),
        "",
    )
    .await;
    get(&simulator, &format!("{CIFS}?svm.name=vs2")).await;
    let reply = admin_call(&simulator, "GET", "/stats/svm-requests", "").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!({"vs1": {"viewer": 1}, "vs2": {"admin": 1}})
    );
    let reset = admin_call(&simulator, "POST", "/stats/reset", "").await;
    assert_eq!(reset.status, 204);
    assert!(simulator.requests_by_svm().is_empty());
    let after = admin_call(&simulator, "GET", "/stats/svm-requests", "").await;
    assert_eq!(after.json(), json!({}));
}

#[tokio::test]
async fn reset_stats_forgets_the_svm_request_counts() {
    let simulator = with_viewer().await;
    get(&simulator, &format!("{CIFS}?svm.name=vs1")).await;
    assert_eq!(simulator.requests_by_svm().len(), 1);
    simulator.reset_stats();
    assert!(simulator.requests_by_svm().is_empty());
}

#[tokio::test]
async fn a_posted_account_is_201_and_authenticates_with_its_role() {
    let simulator = with_admin().await;
    for (username, role) in [("replica1", "admin"), ("auditor", "readonly")] {
        let body = json!({"username": username, "password": "pw", "role": role});
        let reply = admin_call(&simulator, "POST", "/accounts", &body.to_string()).await;
        assert_eq!(
            reply.status,
            201,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_eq!(reply.json(), json!({"username": username, "role": role}));
    }
    let write = r#"{"svm": {"name": "svm1"}}"#;
    let refused = call_as(&simulator, ("auditor", "pw"), "POST", SERVICES, write).await;
    assert_eq!(refused.status, 403);
    let read = call_as(&simulator, ("auditor", "pw"), "GET", SERVICES, "").await;
    assert_eq!(read.status, 200);
    let created = call_as(&simulator, ("replica1", "pw"), "POST", SERVICES, write).await;
    assert_eq!(created.status, 201);
}

#[tokio::test]
async fn posting_a_taken_account_name_is_409() {
    let simulator = with_admin().await;
    let body = json!({"username": "admin", "password": "pw", "role": "readonly"}).to_string();
    let reply = admin_call(&simulator, "POST", "/accounts", &body).await;
    assert_eq!(reply.status, 409);
    assert!(
        reply.json()["error"]
            .as_str()
            .expect("a message")
            .contains("admin")
    );
    assert_eq!(get(&simulator, SERVICES).await.status, 200);
}

#[tokio::test]
async fn a_malformed_account_is_400_naming_the_field() {
    let simulator = with_admin().await;
    let body = r#"{"username": "r", "password": "pw", "role": "superuser"}"#;
    let reply = admin_call(&simulator, "POST", "/accounts", body).await;
    assert_eq!(reply.status, 400);
    let message = reply.json()["error"]
        .as_str()
        .expect("a message")
        .to_owned();
    assert!(message.contains("role"), "{message}");
}
