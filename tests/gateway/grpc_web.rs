//! gRPC-Web: with `grpc_web` on, a plain HTTP/1.1 client speaking the
//! gRPC-Web wire format (what a browser's grpc-web library sends) gets the
//! same answers as a gRPC client, status in a trailer frame of the body.

use crate::common::raw_http::exchange;
use crate::common::{Gateway, client_config, simulator_with};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
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
    let (status, headers, body) = post(gateway, path, GRPC_WEB, framed(request)).await;
    (status, headers, frames(&body))
}

const GRPC_WEB: &str = "application/grpc-web+proto";
const GRPC_WEB_TEXT: &str = "application/grpc-web-text";

/// POSTs `body` to `path` as `content_type`, accepting the same, with curl
/// over HTTP/1.1: (HTTP status, response headers, response body).
async fn post(
    gateway: &Gateway,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, String, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let (sent, received) = (dir.path().join("request"), dir.path().join("response"));
    let headers = dir.path().join("headers");
    std::fs::write(&sent, body).unwrap();
    let url = format!("http://{}/{path}", gateway.addr);
    let mut curl = std::process::Command::new("curl");
    curl.args(["--silent", "--http1.1", "--output"])
        .arg(&received)
        .arg("--dump-header")
        .arg(&headers)
        .args(["--write-out", "%{http_code}", "--data-binary"])
        .arg(format!("@{}", sent.display()))
        .args(["-H", &format!("content-type: {content_type}")])
        .args(["-H", &format!("accept: {content_type}")])
        .args(["-H", "x-grpc-web: 1", &url]);
    // The gateway answers on this runtime while curl runs.
    let output = tokio::task::spawn_blocking(move || curl.output().unwrap())
        .await
        .unwrap();
    let status = String::from_utf8_lossy(&output.stdout).parse().unwrap_or(0);
    let body = std::fs::read(&received).unwrap_or_default();
    let headers = std::fs::read_to_string(&headers).unwrap_or_default();
    (status, headers, body)
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

/// gRPC-Web-text: each frame base64 on its own, padded, one after another.
/// Every four characters decode on their own, whatever frame they end.
fn from_base64(text: &[u8]) -> Vec<u8> {
    text.chunks(4)
        .flat_map(|quad| STANDARD.decode(quad).expect("base64"))
        .collect()
}

#[tokio::test]
async fn a_grpc_web_text_call_is_answered_in_base64() {
    let (_simulator, gateway) = web_gateway(true).await;
    let request = ListCifsConnectionsRequest {
        svm_name: "vs1".into(),
        page_size: 2,
        ..Default::default()
    };
    let body = STANDARD.encode(framed(&request)).into_bytes();
    let (status, headers, body) = post(&gateway, LIST, GRPC_WEB_TEXT, body).await;
    assert_eq!(status, 200);
    assert!(headers.contains("application/grpc-web-text"), "{headers}");
    let frames = frames(&from_base64(&body));
    let page = ListCifsConnectionsResponse::decode(frames[0].1.as_slice()).unwrap();
    assert_eq!(page.cifs_connections.len(), 2);
    assert!(String::from_utf8_lossy(&frames.last().unwrap().1).contains("grpc-status:0"));
}

#[tokio::test]
async fn grpc_web_text_that_is_not_base64_is_invalid_argument_saying_so() {
    let (simulator, gateway) = web_gateway(true).await;
    let (status, headers, _) = post(&gateway, LIST, GRPC_WEB_TEXT, b"!!!!AAAA".to_vec()).await;
    assert_eq!(status, 200);
    assert!(headers.contains("grpc-status: 3"), "{headers}");
    assert!(headers.contains("base64"), "{headers}");
    assert_eq!(simulator.stats().requests, 0);
}

/// A raw HTTP/1.1 gRPC-Web POST of one ListCifsConnections message, with
/// `extra` header lines (each ending in CRLF) and `body` as given.
fn raw_post(extra: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST /{LIST} HTTP/1.1\r\nHost: gateway\r\ncontent-type: {GRPC_WEB}\r\n\
         x-grpc-web: 1\r\n{extra}Connection: close\r\n\r\n"
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

fn one_request() -> Vec<u8> {
    framed(&ListCifsConnectionsRequest {
        page_size: 1,
        ..Default::default()
    })
}

#[tokio::test]
async fn a_200_kb_request_head_over_http1_is_refused() {
    let (simulator, gateway) = web_gateway(true).await;
    let body = one_request();
    let extra = format!(
        "x-padding: {}\r\nContent-Length: {}\r\n",
        "p".repeat(200 * 1024),
        body.len()
    );
    let answer = exchange(gateway.addr, &raw_post(&extra, &body)).await;
    assert_eq!(answer.status, Some(431), "{:.300}", answer.text);
    assert_eq!(simulator.stats().requests, 0);
}

#[tokio::test]
async fn a_request_framed_by_both_content_length_and_transfer_encoding_is_bad() {
    let (simulator, gateway) = web_gateway(true).await;
    let message = one_request();
    let mut chunked = format!("{:x}\r\n", message.len()).into_bytes();
    chunked.extend_from_slice(&message);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    for framing in [
        format!(
            "Content-Length: {}\r\nTransfer-Encoding: chunked\r\n",
            message.len()
        ),
        format!(
            "Transfer-Encoding: chunked\r\nContent-Length: {}\r\n",
            message.len()
        ),
    ] {
        let answer = exchange(gateway.addr, &raw_post(&framing, &chunked)).await;
        assert_eq!(answer.status, Some(400), "{framing}: {:.300}", answer.text);
    }
    assert_eq!(simulator.stats().requests, 0);
}
