//! Inputs of any size get a small, clear INVALID_ARGUMENT: bounded lists,
//! a bounded upstream query, and statuses that stay small enough for every
//! client's metadata limit. Metadata too: too much of it is a readable
//! RESOURCE_EXHAUSTED, and an entry the gateway acts on sent twice is
//! INVALID_ARGUMENT naming it.

use crate::common::{Harness, bad_fields, error_metadata, mask, reason};
use ontap_grpc_gateway::proto::v1::{GetIscsiServiceRequest, ListCifsConnectionsRequest};
use tonic::Code;
use tonic_types::StatusExt;

/// The error a list with `request`'s fields gets from a fresh gateway, and
/// the number of requests that reached the upstream.
async fn refused_list(request: ListCifsConnectionsRequest) -> (tonic::Status, u64) {
    let h = Harness::start().await;
    let status = h.list_error(request).await;
    (status, h.simulator.stats().requests)
}

/// Fails unless the status (its message and its encoded details) is under 4 KiB.
fn assert_small(status: &tonic::Status) {
    let bytes = status.message().len() + status.details().len();
    assert!(bytes < 4096, "{bytes} bytes");
}

#[tokio::test]
async fn a_read_mask_of_thousands_of_paths_is_invalid_argument_naming_it() {
    let paths = vec!["client_ip"; 5000];
    let (status, upstream) = refused_list(ListCifsConnectionsRequest {
        read_mask: mask(&paths),
        ..Default::default()
    })
    .await;
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["read_mask"]);
    assert_eq!(upstream, 0);
}

#[tokio::test]
async fn an_order_by_of_thousands_of_entries_is_invalid_argument_naming_it() {
    let (status, upstream) = refused_list(ListCifsConnectionsRequest {
        order_by: vec!["identifier desc".to_owned(); 5000],
        ..Default::default()
    })
    .await;
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["order_by"]);
    assert_eq!(upstream, 0);
}

#[tokio::test]
async fn thousands_of_unknown_read_mask_paths_keep_the_status_under_4_kib() {
    let paths: Vec<String> = (0..60)
        .map(|i| format!("no_such_field_{i}_{}", "x".repeat(200)))
        .collect();
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    let (status, _) = refused_list(ListCifsConnectionsRequest {
        read_mask: mask(&paths),
        ..Default::default()
    })
    .await;
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_small(&status);
}

#[tokio::test]
async fn a_huge_uuid_is_echoed_as_a_short_prefix() {
    let h = Harness::start().await;
    let uuid = "a".repeat(5000);
    let status = h
        .iscsi()
        .await
        .get_iscsi_service(GetIscsiServiceRequest {
            svm_uuid: uuid.clone(),
            read_mask: None,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["svm_uuid"]);
    assert!(
        !status.message().contains(&uuid[..200]),
        "{}",
        status.message()
    );
    assert_small(&status);
}

#[tokio::test]
async fn a_megabyte_value_produces_a_small_status() {
    let (status, _) = refused_list(ListCifsConnectionsRequest {
        svm_uuid: "z".repeat(1_000_000),
        ..Default::default()
    })
    .await;
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_small(&status);
}

#[tokio::test]
async fn control_characters_in_a_caller_value_are_escaped_in_the_status() {
    let h = Harness::start().await;
    let status = h
        .iscsi()
        .await
        .get_iscsi_service(GetIscsiServiceRequest {
            svm_uuid: "x\r\nInjected: yes".into(),
            read_mask: None,
        })
        .await
        .unwrap_err();
    let violations = status.get_details_bad_request().unwrap().field_violations;
    assert!(
        !status.message().contains(['\r', '\n']),
        "{}",
        status.message()
    );
    assert!(
        violations
            .iter()
            .all(|v| !v.description.contains(['\r', '\n'])),
        "{violations:?}"
    );
    assert!(
        violations[0].description.contains("\\r\\n"),
        "{violations:?}"
    );
}

/// What the gateway's first frames on a new HTTP/2 connection advertise:
/// its SETTINGS, and the connection window after its first WINDOW_UPDATE.
struct Advertised {
    settings: std::collections::HashMap<u16, u32>,
    connection_window: u32,
}

/// Opens a raw HTTP/2 connection to `addr` and reads the server's SETTINGS
/// and its connection-level WINDOW_UPDATE.
async fn advertised(addr: std::net::SocketAddr) -> Advertised {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const SETTINGS: u8 = 0x4;
    const WINDOW_UPDATE: u8 = 0x8;
    const ACK: u8 = 0x1;
    /// The window every HTTP/2 connection starts with (RFC 9113, 6.9.2).
    const INITIAL_CONNECTION_WINDOW: u32 = 65_535;
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .await
        .unwrap();
    let mut settings = None;
    let mut connection_window = None;
    while settings.is_none() || connection_window.is_none() {
        let mut header = [0; 9];
        socket.read_exact(&mut header).await.unwrap();
        let length = u32::from_be_bytes([0, header[0], header[1], header[2]]) as usize;
        let mut payload = vec![0; length];
        socket.read_exact(&mut payload).await.unwrap();
        let stream = u32::from_be_bytes([header[5], header[6], header[7], header[8]]);
        match header[3] {
            SETTINGS if header[4] & ACK == 0 => {
                settings = Some(
                    payload
                        .chunks_exact(6)
                        .map(|s| {
                            let id = u16::from_be_bytes([s[0], s[1]]);
                            (id, u32::from_be_bytes([s[2], s[3], s[4], s[5]]))
                        })
                        .collect(),
                );
            }
            WINDOW_UPDATE if stream == 0 => {
                let increment = u32::from_be_bytes(payload[..4].try_into().unwrap());
                connection_window = Some(INITIAL_CONNECTION_WINDOW + increment);
            }
            _ => {}
        }
    }
    Advertised {
        settings: settings.unwrap(),
        connection_window: connection_window.unwrap(),
    }
}

#[tokio::test]
async fn a_stream_window_holds_the_largest_request_message_and_its_grpc_prefix() {
    const INITIAL_WINDOW_SIZE: u16 = 0x4;
    let h = Harness::start().await;
    let largest = ontap_grpc_gateway::server::ServeOptions::default().max_request_bytes;
    let advertised = advertised(h.gateway.addr).await;
    let window = advertised.settings[&INITIAL_WINDOW_SIZE];
    assert!(window as usize >= largest + 5, "{window}");
}

#[tokio::test]
async fn the_connection_window_holds_four_largest_requests_at_once() {
    let h = Harness::start().await;
    let largest = ontap_grpc_gateway::server::ServeOptions::default().max_request_bytes;
    let advertised = advertised(h.gateway.addr).await;
    assert!(
        advertised.connection_window as usize >= 4 * (largest + 5),
        "{}",
        advertised.connection_window
    );
}

#[tokio::test]
async fn clients_may_send_frames_of_64_kib() {
    const MAX_FRAME_SIZE: u16 = 0x5;
    let h = Harness::start().await;
    let advertised = advertised(h.gateway.addr).await;
    assert_eq!(advertised.settings[&MAX_FRAME_SIZE], 64 * 1024);
}

#[tokio::test]
async fn a_second_x_ontap_cluster_is_invalid_argument_naming_it() {
    let h = Harness::start().await;
    let mut request = tonic::Request::new(ListCifsConnectionsRequest::default());
    for cluster in ["default", "elsewhere"] {
        request
            .metadata_mut()
            .append("x-ontap-cluster", cluster.parse().unwrap());
    }
    let status = h.list_error(request).await;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(bad_fields(&status), ["x-ontap-cluster"]);
    assert_eq!(h.simulator.stats().requests, 0);
}

#[tokio::test]
async fn metadata_over_the_limit_is_resource_exhausted_naming_its_largest_entry() {
    let h = Harness::start().await;
    let mut request = tonic::Request::new(ListCifsConnectionsRequest::default());
    request
        .metadata_mut()
        .insert("x-padding", "p".repeat(20 * 1024).parse().unwrap());
    let status = h.list_error(request).await;
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(reason(&status), "METADATA_TOO_LARGE");
    assert_eq!(
        error_metadata(&status, "metadata_key").as_deref(),
        Some("x-padding")
    );
    assert_small(&status);
}
