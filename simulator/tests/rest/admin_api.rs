//! The admin API over real loopback HTTP, as a test in any language drives it: faults posted as
//! JSON change the REST port's next responses, and the counters come back as JSON.

use std::net::SocketAddr;

use http_body_util::BodyExt;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;

const ISCSI: &str = "/api/protocols/san/iscsi/services";

pub(super) async fn with_admin() -> Simulator {
    let config = SimulatorConfig {
        admin_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        ..SimulatorConfig::default()
    };
    Simulator::start(config, Cluster::seed())
        .await
        .expect("start")
}

/// One admin request with a body (empty: none), on a fresh connection to the admin port.
pub(super) async fn admin_call(
    simulator: &Simulator,
    method: &str,
    target: &str,
    body: &str,
) -> Reply {
    let addr = simulator.admin_addr().expect("an admin API");
    let stream = TcpStream::connect(addr).await.expect("connect");
    let mut client = Client::over(stream).await;
    let headers = [("content-type", "application/json")];
    let pending = client.send(method, target, &headers, body).await;
    Reply::read(pending.await).await
}

/// Posts `fault` and returns its id.
async fn post_fault(simulator: &Simulator, fault: Value) -> u64 {
    let reply = admin_call(simulator, "POST", "/faults", &fault.to_string()).await;
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()["id"].as_u64().expect("an id")
}

async fn listed_faults(simulator: &Simulator) -> Value {
    let reply = admin_call(simulator, "GET", "/faults", "").await;
    assert_eq!(reply.status, 200);
    reply.json()
}

async fn admin_stats(simulator: &Simulator) -> Value {
    let reply = admin_call(simulator, "GET", "/stats", "").await;
    assert_eq!(reply.status, 200);
    reply.json()
}

/// An authenticated GET sent on `client`, with its response still to be read.
async fn send_get(client: &mut Client, target: &str) -> client::Pending {
    let auth = admin();
    client
        .send("GET", target, &[("Authorization", &auth)], "")
        .await
}

#[tokio::test]
async fn admin_api_is_off_unless_configured() {
    assert_eq!(seeded().await.admin_addr(), None);
}

#[tokio::test]
async fn posted_fault_applies_to_the_next_n_requests_then_stops() {
    let simulator = with_admin().await;
    post_fault(
        &simulator,
        json!({"kind": "error", "status": 503, "message": "busy", "times": 2}),
    )
    .await;
    let mut client = Client::connect(&simulator).await;
    assert_eq!(client.get(CIFS).await.status, 503);
    assert_eq!(client.get(CIFS).await.status, 503);
    assert_eq!(client.get(CIFS).await.status, 200);
    assert_eq!(listed_faults(&simulator).await, json!([]));
}

#[tokio::test]
async fn posting_a_fault_answers_201_with_its_id_and_location() {
    let simulator = with_admin().await;
    for expected in [1, 2] {
        let reply = admin_call(&simulator, "POST", "/faults", r#"{"kind": "reset"}"#).await;
        assert_eq!(reply.status, 201);
        assert_eq!(reply.json(), json!({"id": expected}));
        let location = format!("/faults/{expected}");
        assert_eq!(reply.header("location"), Some(location.as_str()));
    }
}

#[tokio::test]
async fn listed_faults_show_their_scope_and_what_is_left_of_them() {
    let simulator = with_admin().await;
    post_fault(
        &simulator,
        json!({"kind": "delay", "delay_ms": 1, "method": "get", "path_prefix": "/api/protocols/cifs", "times": 3}),
    )
    .await;
    post_fault(
        &simulator,
        json!({"kind": "truncate", "path_prefix": "/api/never"}),
    )
    .await;
    assert_eq!(get(&simulator, CIFS).await.status, 200);
    assert_eq!(
        listed_faults(&simulator).await,
        json!([
            {"id": 1, "kind": "delay", "delay_ms": 1, "method": "GET",
             "path_prefix": "/api/protocols/cifs", "times": 2},
            {"id": 2, "kind": "truncate", "path_prefix": "/api/never"},
        ])
    );
}

#[tokio::test]
async fn deleting_the_faults_clears_them() {
    let simulator = with_admin().await;
    post_fault(
        &simulator,
        json!({"kind": "error", "status": 500, "message": "boom"}),
    )
    .await;
    assert_eq!(get(&simulator, CIFS).await.status, 500);
    let reply = admin_call(&simulator, "DELETE", "/faults", "").await;
    assert_eq!(reply.status, 204);
    assert_eq!(get(&simulator, CIFS).await.status, 200);
    assert_eq!(listed_faults(&simulator).await, json!([]));
}

#[tokio::test]
async fn deleting_one_fault_by_id_leaves_the_others() {
    let simulator = with_admin().await;
    let first = post_fault(
        &simulator,
        json!({"kind": "error", "status": 500, "message": "first"}),
    )
    .await;
    post_fault(
        &simulator,
        json!({"kind": "error", "status": 502, "message": "second"}),
    )
    .await;
    let reply = admin_call(&simulator, "DELETE", &format!("/faults/{first}"), "").await;
    assert_eq!(reply.status, 204);
    assert_eq!(get(&simulator, CIFS).await.status, 502);
}

#[tokio::test]
async fn deleting_an_unknown_fault_is_a_404_naming_it() {
    let simulator = with_admin().await;
    for id in ["7", "seven"] {
        let reply = admin_call(&simulator, "DELETE", &format!("/faults/{id}"), "").await;
        assert_eq!(reply.status, 404);
        let message = reply.json()["error"]
            .as_str()
            .expect("a message")
            .to_owned();
        assert!(message.contains(id), "{message}");
    }
}

#[tokio::test]
async fn method_and_path_prefix_restrict_a_fault() {
    let simulator = with_admin().await;
    post_fault(
        &simulator,
        json!({"kind": "error", "status": 503, "message": "busy", "method": "GET", "path_prefix": ISCSI}),
    )
    .await;
    assert_eq!(get(&simulator, CIFS).await.status, 200);
    let post = call(&simulator, "POST", ISCSI, Some("{}")).await;
    assert_ne!(post.status, 503);
    assert_eq!(get(&simulator, ISCSI).await.status, 503);
}

#[tokio::test]
async fn delay_fault_is_followed_by_the_normal_response() {
    let simulator = with_admin().await;
    let normal = get(&simulator, CIFS).await;
    post_fault(
        &simulator,
        json!({"kind": "delay", "delay_ms": 1, "times": 1}),
    )
    .await;
    let delayed = get(&simulator, CIFS).await;
    assert_eq!(delayed.status, 200);
    assert_eq!(delayed.body, normal.body);
}

#[tokio::test]
async fn delay_fault_holds_the_request_until_the_client_gives_up() {
    let simulator = with_admin().await;
    post_fault(
        &simulator,
        json!({"kind": "delay", "delay_ms": 600_000, "times": 1}),
    )
    .await;
    let mut client = Client::connect(&simulator).await;
    let pending = send_get(&mut client, CIFS).await;
    stats_reach(&simulator, "the request in flight", |s| s.in_flight == 1).await;
    drop(pending);
    drop(client);
    let stats = stats_reach(&simulator, "the request aborted", |s| {
        s.aborted_requests == 1
    })
    .await;
    assert_eq!(stats.in_flight, 0);
}

#[tokio::test]
async fn error_fault_answers_an_ontap_error_body() {
    let simulator = with_admin().await;
    post_fault(
        &simulator,
        json!({"kind": "error", "status": 409, "code": "2621507", "message": "in use",
               "target": "svm.uuid", "times": 1}),
    )
    .await;
    let reply = get(&simulator, CIFS).await;
    assert_eq!(reply.status, 409);
    let error = &reply.json()["error"];
    assert_eq!(error["code"], "2621507");
    assert_eq!(error["message"], "in use");
    assert_eq!(error["target"], "svm.uuid");
}

#[tokio::test]
async fn raw_fault_sends_the_given_status_content_type_and_body() {
    let simulator = with_admin().await;
    post_fault(
        &simulator,
        json!({"kind": "raw", "status": 502, "content_type": "text/html",
               "body": "<html>Bad Gateway</html>", "times": 1}),
    )
    .await;
    let reply = get(&simulator, CIFS).await;
    assert_eq!(reply.status, 502);
    assert_eq!(reply.header("content-type"), Some("text/html"));
    assert_eq!(reply.body, b"<html>Bad Gateway</html>");
}

#[tokio::test]
async fn reset_fault_resets_the_connection_without_a_response() {
    let simulator = with_admin().await;
    post_fault(&simulator, json!({"kind": "reset", "times": 1})).await;
    let mut stream = TcpStream::connect(simulator.local_addr())
        .await
        .expect("connect");
    let request = format!(
        "GET {CIFS} HTTP/1.1\r\nHost: simulator\r\nAuthorization: {}\r\n\r\n",
        admin()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("request sent");
    let mut received = Vec::new();
    let read = tokio::time::timeout(STATE_TIMEOUT, stream.read_to_end(&mut received))
        .await
        .expect("the connection ends");
    let error = read.expect_err("a reset, not a clean close");
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);
    assert!(received.is_empty(), "{received:?}");
    assert_eq!(get(&simulator, CIFS).await.status, 200);
}

#[tokio::test]
async fn truncate_fault_closes_the_connection_short_of_the_promised_length() {
    let simulator = with_admin().await;
    post_fault(&simulator, json!({"kind": "truncate", "times": 1})).await;
    let mut client = Client::connect(&simulator).await;
    let response = send_get(&mut client, CIFS).await.await;
    assert_eq!(response.status(), 200);
    let promised: usize = response.headers()[http::header::CONTENT_LENGTH]
        .to_str()
        .expect("content-length")
        .parse()
        .expect("a length");
    let mut body = response.into_body();
    let mut received = Vec::new();
    let cut_short = loop {
        match body.frame().await {
            Some(Ok(frame)) => received.extend_from_slice(frame.data_ref().expect("data")),
            Some(Err(_)) => break true,
            None => break false,
        }
    };
    assert!(cut_short, "the body ends in an error, not a clean end");
    assert!(!received.is_empty() && received.len() < promised);
}

#[tokio::test]
async fn drip_fault_delivers_the_whole_body_in_chunks_of_chunk_bytes() {
    let simulator = with_admin().await;
    let normal = get(&simulator, CIFS).await.body;
    let chunk_bytes = 256;
    post_fault(
        &simulator,
        json!({"kind": "drip", "chunk_bytes": chunk_bytes, "interval_ms": 1, "times": 1}),
    )
    .await;
    let mut client = Client::connect(&simulator).await;
    let response = send_get(&mut client, CIFS).await.await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()[http::header::TRANSFER_ENCODING],
        "chunked"
    );
    let mut body = response.into_body();
    let mut reads = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.expect("a whole body");
        reads.push(frame.into_data().expect("data"));
    }
    let received: Vec<u8> = reads.concat();
    assert_eq!(received, normal);
    assert!(
        reads.iter().all(|read| read.len() <= chunk_bytes),
        "no read spans two chunks"
    );
    assert!(
        reads.len() >= normal.len().div_ceil(chunk_bytes),
        "{} reads for {} bytes",
        reads.len(),
        normal.len()
    );
}

#[tokio::test]
async fn oversized_fault_streams_the_requested_number_of_bytes() {
    let simulator = with_admin().await;
    post_fault(
        &simulator,
        json!({"kind": "oversized", "bytes": 300_000, "times": 1}),
    )
    .await;
    let reply = get(&simulator, CIFS).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body.len(), 300_000);
}

#[tokio::test]
async fn per_path_counters_count_requests_by_path_without_query() {
    let simulator = with_admin().await;
    let mut client = Client::connect(&simulator).await;
    client.get(CIFS).await;
    client.get(&format!("{CIFS}?fields=client_ip")).await;
    client.get(ISCSI).await;
    let stats = admin_stats(&simulator).await;
    assert_eq!(stats["requests"], 3);
    assert_eq!(
        stats["per_path"],
        json!({
            CIFS: {"requests": 2, "in_flight": 0, "peak_in_flight": 1},
            ISCSI: {"requests": 1, "in_flight": 0, "peak_in_flight": 1},
        })
    );
}

#[tokio::test]
async fn per_path_peak_in_flight_counts_overlapping_requests() {
    let simulator = with_admin().await;
    post_fault(
        &simulator,
        json!({"kind": "delay", "delay_ms": 600_000, "path_prefix": CIFS, "times": 2}),
    )
    .await;
    let mut first = Client::connect(&simulator).await;
    let mut second = Client::connect(&simulator).await;
    let _first_pending = send_get(&mut first, CIFS).await;
    let _second_pending = send_get(&mut second, CIFS).await;
    stats_reach(&simulator, "both requests in flight", |s| s.in_flight == 2).await;
    assert_eq!(get(&simulator, ISCSI).await.status, 200);
    let stats = admin_stats(&simulator).await;
    assert_eq!(stats["peak_open_connections"], 3);
    assert_eq!(
        stats["per_path"],
        json!({
            CIFS: {"requests": 2, "in_flight": 2, "peak_in_flight": 2},
            ISCSI: {"requests": 1, "in_flight": 0, "peak_in_flight": 1},
        })
    );
}

#[tokio::test]
async fn stats_reset_starts_counting_afresh() {
    let simulator = with_admin().await;
    let mut client = Client::connect(&simulator).await;
    client.get(CIFS).await;
    client.get(ISCSI).await;
    drop(client);
    stats_reach(&simulator, "the connection closed", |s| {
        s.open_connections == 0
    })
    .await;
    let reply = admin_call(&simulator, "POST", "/stats/reset", "").await;
    assert_eq!(reply.status, 204);
    assert_eq!(
        admin_stats(&simulator).await,
        json!({
            "connections_accepted": 0, "open_connections": 0, "peak_open_connections": 0,
            "requests": 0, "in_flight": 0, "peak_in_flight": 0, "aborted_requests": 0,
            "per_path": {},
        })
    );
    assert_eq!(get(&simulator, CIFS).await.status, 200);
    assert_eq!(
        admin_stats(&simulator).await["per_path"][CIFS]["requests"],
        1
    );
}

#[tokio::test]
async fn admin_requests_are_not_counted() {
    let simulator = with_admin().await;
    admin_call(&simulator, "GET", "/faults", "").await;
    admin_call(&simulator, "GET", "/stats", "").await;
    let stats = admin_stats(&simulator).await;
    assert_eq!(stats["connections_accepted"], 0);
    assert_eq!(stats["requests"], 0);
}

#[tokio::test]
async fn malformed_fault_is_a_400_naming_the_problem() {
    let simulator = with_admin().await;
    for (body, named) in [
        (r#"{"kind": "explode"}"#, "explode"),
        (r#"{"kind": "delay"}"#, "delay_ms"),
        (
            r#"{"kind": "drip", "chunk_bytes": 16, "interval": 5}"#,
            "interval",
        ),
        (r#"{"kind": "reset", "times": 0}"#, "times"),
        (
            r#"{"kind": "error", "status": 42, "message": "x"}"#,
            "status",
        ),
        ("{", "EOF"),
    ] {
        let reply = admin_call(&simulator, "POST", "/faults", body).await;
        assert_eq!(reply.status, 400, "{body}");
        let message = reply.json()["error"]
            .as_str()
            .expect("a message")
            .to_owned();
        assert!(message.contains(named), "{body}: {message}");
    }
    assert_eq!(listed_faults(&simulator).await, json!([]));
}

#[tokio::test]
async fn unknown_admin_path_is_a_404_listing_the_endpoints() {
    let simulator = with_admin().await;
    let reply = admin_call(&simulator, "GET", "/fault", "").await;
    assert_eq!(reply.status, 404);
    let message = reply.json()["error"]
        .as_str()
        .expect("a message")
        .to_owned();
    assert!(message.contains("/faults"), "{message}");
}

#[tokio::test]
async fn admin_api_is_not_reachable_on_the_rest_port() {
    let simulator = with_admin().await;
    assert_ne!(simulator.admin_addr(), Some(simulator.local_addr()));
    for (method, target) in [("GET", "/faults"), ("GET", "/stats"), ("POST", "/faults")] {
        let body = (method == "POST").then_some(r#"{"kind": "reset"}"#);
        let reply = call(&simulator, method, target, body).await;
        assert_eq!(reply.status, 404, "{method} {target}");
        assert_eq!(reply.json()["error"]["code"], "4", "an ONTAP error body");
    }
    assert_eq!(listed_faults(&simulator).await, json!([]));
}

#[tokio::test]
async fn shutdown_closes_the_admin_listener() {
    let simulator = with_admin().await;
    let admin_addr = simulator.admin_addr().expect("an admin API");
    simulator.shutdown().await;
    assert!(TcpStream::connect(admin_addr).await.is_err());
}

#[tokio::test]
async fn a_held_request_is_answered_once_released() {
    let simulator = with_admin().await;
    post_fault(&simulator, json!({"kind": "hold", "times": 1})).await;
    let mut client = Client::connect(&simulator).await;
    let held = send_get(&mut client, CIFS).await;
    let stats = stats_reach(&simulator, "the request held", |s| s.in_flight == 1).await;
    assert_eq!(stats.requests, 1, "received, and not answered");

    let reply = admin_call(&simulator, "POST", "/faults/release", "").await;
    assert_eq!(reply.status, 204);
    assert_eq!(Reply::read(held.await).await.status, 200);
}

#[tokio::test]
async fn a_busy_fault_answers_the_queue_full_error_with_retry_after() {
    let simulator = with_admin().await;
    post_fault(
        &simulator,
        json!({"kind": "busy", "status": 503, "retry_after_s": 3, "times": 1}),
    )
    .await;
    let reply = get(&simulator, CIFS).await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header("retry-after"), Some("3"));
    assert!(reply.json()["error"]["message"].is_string());
    assert_eq!(get(&simulator, CIFS).await.status, 200);
}
