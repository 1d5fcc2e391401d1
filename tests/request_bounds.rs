//! Inputs of any size get a small, clear INVALID_ARGUMENT: bounded lists,
//! a bounded upstream query, and statuses that stay small enough for every
//! client's metadata limit.

mod common;

use common::{Harness, bad_fields, mask};
use ontap_grpc_gateway::proto::v1::{GetIscsiServiceRequest, ListCifsConnectionsRequest};
use tonic::Code;
use tonic_types::StatusExt;

/// The error a list with `request`'s fields gets from a fresh gateway, and
/// the number of requests that reached the upstream.
async fn refused_list(request: ListCifsConnectionsRequest) -> (tonic::Status, u64) {
    let h = Harness::start().await;
    let status = h
        .cifs()
        .await
        .list_cifs_connections(request)
        .await
        .unwrap_err();
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
