//! Prometheus metrics on their own listener: each call counted and timed
//! by service, method and code; each request to ONTAP by method, endpoint
//! (never an identifier) and status; the live watches as gauges.

use std::io::ErrorKind;

use crate::common::raw_http::{exchange, read_until_closed};
use crate::common::{GUARD, Gateway, SVM2_UUID, client_config, eventually_async, simulator_with};
use ontap_grpc_gateway::proto::v1::{
    GetIscsiServiceRequest, ListCifsConnectionsRequest, WatchIscsiServiceMetricsRequest,
};
use ontap_grpc_gateway::server::ServeOptions;
use ontap_simulator::{Cluster, Simulator};
use tokio::net::{TcpListener, TcpStream};

/// A gateway onto `simulator` serving metrics, and where they are.
async fn gateway_with_metrics(simulator: &Simulator) -> (Gateway, std::net::SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = ServeOptions {
        metrics_listener: Some(listener),
        ..ServeOptions::default()
    };
    let gateway = Gateway::start_with_options(client_config(simulator), options).await;
    (gateway, addr)
}

/// One HTTP/1.1 request to the metrics listener: (status line, body).
async fn http_get(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    http_request(addr, "GET", path).await
}

async fn http_request(addr: std::net::SocketAddr, method: &str, path: &str) -> (String, String) {
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: metrics\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let response = exchange(addr, request.as_bytes()).await.text;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (
        head.lines().next().unwrap_or("").to_owned(),
        body.to_owned(),
    )
}

/// Scrapes until the exposition has every one of `lines`.
async fn until_scraped(addr: std::net::SocketAddr, lines: &[&str]) {
    eventually_async("the metrics show it", async || {
        let (_, text) = http_get(addr, "/metrics").await;
        lines.iter().all(|line| text.contains(line))
    })
    .await;
}

#[tokio::test]
async fn each_call_is_counted_by_service_method_and_code() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (gateway, metrics) = gateway_with_metrics(&simulator).await;
    let mut cifs = gateway.cifs().await;
    cifs.list_cifs_connections(ListCifsConnectionsRequest::default())
        .await
        .unwrap();
    let invalid = ListCifsConnectionsRequest {
        page_size: -1,
        ..Default::default()
    };
    cifs.list_cifs_connections(invalid).await.unwrap_err();
    until_scraped(
        metrics,
        &[
            r#"ontap_gateway_rpc_requests_total{service="ontap.v1.CifsConnections",method="ListCifsConnections",code="Ok"} 1"#,
            r#"ontap_gateway_rpc_requests_total{service="ontap.v1.CifsConnections",method="ListCifsConnections",code="InvalidArgument"} 1"#,
            r#"ontap_gateway_rpc_duration_seconds_count{service="ontap.v1.CifsConnections",method="ListCifsConnections",code="Ok"} 1"#,
        ],
    )
    .await;
}

#[tokio::test]
async fn requests_to_ontap_are_counted_by_endpoint_and_status() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (gateway, metrics) = gateway_with_metrics(&simulator).await;
    let mut iscsi = gateway.iscsi().await;
    iscsi
        .get_iscsi_service(GetIscsiServiceRequest {
            svm_uuid: SVM2_UUID.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    iscsi
        .get_iscsi_service(GetIscsiServiceRequest {
            svm_uuid: "00000000-0000-0000-0000-000000000000".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    until_scraped(
        metrics,
        &[
            r#"ontap_gateway_upstream_requests_total{cluster="default",method="GET",endpoint="/api/protocols/san/iscsi/services/{svm.uuid}",status="200"} 1"#,
            r#"ontap_gateway_upstream_requests_total{cluster="default",method="GET",endpoint="/api/protocols/san/iscsi/services/{svm.uuid}",status="404"} 1"#,
            r#"ontap_gateway_upstream_duration_seconds_count{cluster="default",method="GET",endpoint="/api/protocols/san/iscsi/services/{svm.uuid}",status="200"} 1"#,
        ],
    )
    .await;
}

#[tokio::test]
async fn live_watchers_and_pollers_are_gauges() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (gateway, metrics) = gateway_with_metrics(&simulator).await;
    let request = WatchIscsiServiceMetricsRequest {
        svm_uuid: SVM2_UUID.into(),
        poll_interval: Some(prost_types::Duration {
            seconds: 600,
            nanos: 0,
        }),
        ..Default::default()
    };
    let mut iscsi = gateway.iscsi().await;
    let _first = iscsi
        .watch_iscsi_service_metrics(request.clone())
        .await
        .unwrap();
    let _second = iscsi.watch_iscsi_service_metrics(request).await.unwrap();
    until_scraped(
        metrics,
        &["ontap_gateway_watchers 2", "ontap_gateway_pollers 1"],
    )
    .await;
}

#[tokio::test]
async fn only_get_metrics_is_served() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (_gateway, metrics) = gateway_with_metrics(&simulator).await;
    let (status, _) = http_get(metrics, "/other").await;
    assert!(status.contains(" 404 "), "{status}");
    let (status, _) = http_request(metrics, "POST", "/metrics").await;
    assert!(status.contains(" 405 "), "{status}");
    let (status, body) = http_get(metrics, "/metrics").await;
    assert!(status.contains(" 200 "), "{status}");
    assert!(
        body.contains("# TYPE ontap_gateway_watchers gauge"),
        "{body}"
    );
    assert!(body.ends_with("# EOF\n"), "{body}");
}

/// The metrics listener's connection cap (`metrics_endpoint::MAX_CONNECTIONS`).
const MAX_CONNECTIONS: usize = 16;

#[tokio::test]
async fn past_the_connection_cap_a_new_connection_is_closed_at_once() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (_gateway, metrics) = gateway_with_metrics(&simulator).await;
    let mut held = Vec::new();
    for _ in 0..MAX_CONNECTIONS {
        held.push(TcpStream::connect(metrics).await.unwrap());
    }
    let mut extra = TcpStream::connect(metrics).await.unwrap();
    let closed = read_until_closed(&mut extra, GUARD).await;
    assert!(closed.is_some(), "the connection past the cap is held open");
    // Closed at once, not after a timeout: the ones within the cap, which
    // have sent nothing either, are all still open.
    for stream in &held {
        let still_open =
            matches!(stream.try_read(&mut [0; 1]), Err(e) if e.kind() == ErrorKind::WouldBlock);
        assert!(still_open, "a connection within the cap was closed first");
    }
    drop(held);
    eventually_async(
        "a scrape is served once the held connections close",
        async || http_get(metrics, "/metrics").await.0.contains(" 200 "),
    )
    .await;
}

#[tokio::test]
async fn a_200_kb_request_header_is_refused() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (_gateway, metrics) = gateway_with_metrics(&simulator).await;
    let request = format!(
        "GET /metrics HTTP/1.1\r\nHost: metrics\r\nX-Padding: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(200 * 1024)
    );
    let answer = exchange(metrics, request.as_bytes()).await;
    assert!(
        matches!(answer.status, None | Some(431)),
        "{:?}",
        answer.status
    );
}

#[tokio::test]
async fn a_request_framed_by_both_content_length_and_transfer_encoding_is_bad() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (_gateway, metrics) = gateway_with_metrics(&simulator).await;
    for framing in [
        "Content-Length: 5\r\nTransfer-Encoding: chunked",
        "Transfer-Encoding: chunked\r\nContent-Length: 5",
    ] {
        let request = format!(
            "GET /metrics HTTP/1.1\r\nHost: metrics\r\n{framing}\r\nConnection: close\r\n\r\n0\r\n\r\n"
        );
        let answer = exchange(metrics, request.as_bytes()).await;
        assert_eq!(answer.status, Some(400), "{framing}: {}", answer.text);
    }
}
