//! Each way a request can be malformed on the wire gets the code the gRPC
//! spec gives it, with ErrorInfo: a second request message or none, an
//! oversized message, an undecodable one. Sent with a raw HTTP/2 client, as
//! no well-behaved gRPC client would send them.

use std::net::SocketAddr;

use crate::common::{Harness, h2_sender};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use ontap_grpc_gateway::proto::v1::ListCifsConnectionsRequest;
use tonic::{Code, Status};
use tonic_types::StatusExt;

const LIST: &str = "/ontap.v1.CifsConnections/ListCifsConnections";

/// `messages` framed as gRPC messages, uncompressed.
fn framed(messages: &[&[u8]]) -> Bytes {
    let mut body = Vec::new();
    for message in messages {
        body.push(0);
        body.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
        body.extend_from_slice(message);
    }
    body.into()
}

/// Sends `body` to `path` and returns the call's status.
async fn raw_call(addr: SocketAddr, path: &str, body: Bytes) -> Status {
    let mut sender = h2_sender(addr).await;
    let request = http::Request::post(format!("http://{addr}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(Full::new(body))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    if let Some(status) = Status::from_header_map(response.headers()) {
        return status;
    }
    let trailers = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .trailers()
        .cloned()
        .unwrap_or_default();
    Status::from_header_map(&trailers).expect("a grpc-status")
}

fn reason(status: &Status) -> String {
    status
        .get_details_error_info()
        .map(|info| info.reason)
        .unwrap_or_default()
}

fn a_request() -> Vec<u8> {
    prost::Message::encode_to_vec(&ListCifsConnectionsRequest {
        page_size: 1,
        ..Default::default()
    })
}

#[tokio::test]
async fn one_well_formed_message_is_served() {
    let h = Harness::start().await;
    let status = raw_call(h.gateway.addr, LIST, framed(&[&a_request()])).await;
    assert_eq!(status.code(), Code::Ok, "{status:?}");
}

#[tokio::test]
async fn two_request_messages_on_a_unary_call_are_unimplemented() {
    let h = Harness::start().await;
    let message = a_request();
    let status = raw_call(h.gateway.addr, LIST, framed(&[&message, &message])).await;
    assert_eq!(status.code(), Code::Unimplemented, "{status:?}");
    assert_eq!(reason(&status), "REQUEST_CARDINALITY");
    assert_eq!(h.simulator.stats().requests, 0);
}

#[tokio::test]
async fn no_request_message_is_unimplemented() {
    let h = Harness::start().await;
    let status = raw_call(h.gateway.addr, LIST, Bytes::new()).await;
    assert_eq!(status.code(), Code::Unimplemented, "{status:?}");
    assert_eq!(reason(&status), "REQUEST_CARDINALITY");
}

#[tokio::test]
async fn an_undecodable_message_is_invalid_argument_with_error_info() {
    let h = Harness::start().await;
    let status = raw_call(h.gateway.addr, LIST, framed(&[&[0xff, 0xff, 0xff]])).await;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(reason(&status), "MALFORMED_REQUEST");
    assert_eq!(h.simulator.stats().requests, 0);
}

#[tokio::test]
async fn a_truncated_message_is_invalid_argument() {
    let h = Harness::start().await;
    let status = raw_call(
        h.gateway.addr,
        LIST,
        Bytes::from_static(&[0, 0, 0, 0, 9, 1]),
    )
    .await;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(reason(&status), "MALFORMED_REQUEST");
}

#[tokio::test]
async fn an_oversized_message_is_resource_exhausted_with_error_info() {
    let h = Harness::start().await;
    let status = h
        .list_error(ListCifsConnectionsRequest {
            svm_name: "x".repeat(2 * 1024 * 1024),
            ..Default::default()
        })
        .await;
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(reason(&status), "REQUEST_TOO_LARGE");
}

#[tokio::test]
async fn a_frame_flag_other_than_0_or_1_is_invalid_argument() {
    let h = Harness::start().await;
    let mut body = framed(&[&a_request()]).to_vec();
    // gRPC-Web's trailer flag, which a request has no use for.
    body[0] = 0x80;
    let status = raw_call(h.gateway.addr, LIST, body.into()).await;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(reason(&status), "MALFORMED_REQUEST");
    assert_eq!(h.simulator.stats().requests, 0);
}
