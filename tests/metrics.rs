//! Prometheus metrics on their own listener: each call counted and timed
//! by service, method and code; each request to ONTAP by method, endpoint
//! (never an identifier) and status; the live watches as gauges.

mod common;

use common::{Gateway, SVM2_UUID, client_config, eventually_async, simulator_with};
use ontap_grpc_gateway::proto::v1::{
    GetIscsiServiceRequest, ListCifsConnectionsRequest, WatchIscsiServiceMetricsRequest,
};
use ontap_grpc_gateway::server::ServeOptions;
use ontap_simulator::{Cluster, Simulator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
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
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: metrics\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
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
