//! gRPC-Web: with `grpc_web` on, a plain HTTP/1.1 client speaking the
//! gRPC-Web wire format (what a browser's grpc-web library sends) gets the
//! same answers as a gRPC client, status in a trailer frame of the body.

mod common;

use common::{Gateway, client_config, simulator_with};
use ontap_grpc_gateway::proto::v1::{ListCifsConnectionsRequest, ListCifsConnectionsResponse};
use ontap_grpc_gateway::server::ServeOptions;
use ontap_simulator::Cluster;
use prost::Message;

const LIST: &str = "ontap.v1.CifsConnections/ListCifsConnections";

/// A message in gRPC's length-prefixed frame, as gRPC-Web carries it.
fn framed(message: &impl Message) -> Vec<u8> {
    let body = message.encode_to_vec();
    let mut frame = vec![0];
    frame.extend_from_slice(&u32::try_from(body.len()).unwrap().to_be_bytes());
    frame.extend_from_slice(&body);
    frame
}

/// The frames of a gRPC-Web response body: (flag, payload) each.
fn frames(mut body: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut frames = Vec::new();
    while !body.is_empty() {
        let length = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
        frames.push((body[0], body[5..5 + length].to_vec()));
        body = &body[5 + length..];
    }
    frames
}

/// POSTs `request` to `path` as gRPC-Web with curl over HTTP/1.1, as a
/// browser would: (HTTP status, response headers, response frames).
async fn call_grpc_web(
    gateway: &Gateway,
    path: &str,
    request: &impl Message,
) -> (u16, String, Vec<(u8, Vec<u8>)>) {
    let dir = tempfile::tempdir().unwrap();
    let (sent, received) = (dir.path().join("request"), dir.path().join("response"));
    let headers = dir.path().join("headers");
    std::fs::write(&sent, framed(request)).unwrap();
    let url = format!("http://{}/{path}", gateway.addr);
    let mut curl = std::process::Command::new("curl");
    curl.args(["--silent", "--http1.1", "--output"])
        .arg(&received)
        .arg("--dump-header")
        .arg(&headers)
        .args(["--write-out", "%{http_code}", "--data-binary"])
        .arg(format!("@{}", sent.display()))
        .args(["-H", "content-type: application/grpc-web+proto"])
        .args(["-H", "x-grpc-web: 1", &url]);
    // The gateway answers on this runtime while curl runs.
    let output = tokio::task::spawn_blocking(move || curl.output().unwrap())
        .await
        .unwrap();
    let status = String::from_utf8_lossy(&output.stdout).parse().unwrap_or(0);
    let body = std::fs::read(&received).unwrap_or_default();
    let headers = std::fs::read_to_string(&headers).unwrap_or_default();
    (status, headers, frames(&body))
}

async fn web_gateway(grpc_web: bool) -> (ontap_simulator::Simulator, Gateway) {
    let simulator = simulator_with(Cluster::seed()).await;
    let options = ServeOptions {
        grpc_web,
        ..ServeOptions::default()
    };
    let gateway = Gateway::start_with_options(client_config(&simulator), options).await;
    (simulator, gateway)
}

#[tokio::test]
async fn a_grpc_web_call_over_http1_gets_the_records_and_an_ok_trailer() {
    let (_simulator, gateway) = web_gateway(true).await;
    let request = ListCifsConnectionsRequest {
        svm_name: "vs1".into(),
        page_size: 3,
        ..Default::default()
    };
    let (status, _, frames) = call_grpc_web(&gateway, LIST, &request).await;
    assert_eq!(status, 200);
    let page = ListCifsConnectionsResponse::decode(frames[0].1.as_slice()).unwrap();
    assert_eq!(page.cifs_connections.len(), 3);
    let (flag, trailer) = frames.last().unwrap();
    assert_eq!(flag & 0x80, 0x80, "the last frame holds the trailers");
    assert!(String::from_utf8_lossy(trailer).contains("grpc-status:0"));
}

#[tokio::test]
async fn a_grpc_web_call_failing_before_any_message_carries_its_code_in_the_headers() {
    let (_simulator, gateway) = web_gateway(true).await;
    let request = ListCifsConnectionsRequest {
        page_size: -1,
        ..Default::default()
    };
    // An error before any message is "trailers-only": the status comes
    // in the HTTP headers.
    let (status, headers, frames) = call_grpc_web(&gateway, LIST, &request).await;
    assert_eq!(status, 200);
    assert!(headers.contains("grpc-status: 3"), "{headers}");
    assert!(frames.is_empty());
}

#[tokio::test]
async fn without_grpc_web_an_http1_call_is_not_served() {
    let (_simulator, gateway) = web_gateway(false).await;
    let (status, _, frames) =
        call_grpc_web(&gateway, LIST, &ListCifsConnectionsRequest::default()).await;
    assert_ne!(status, 200);
    assert!(frames.is_empty());
}
