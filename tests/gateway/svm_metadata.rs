//! `x-ontap-svm` metadata: the key a load balancer hashes so that every
//! watcher of one SVM lands on the replica polling it. The gateway checks
//! it names the SVM the request concerns, as the request names it, so a
//! client cannot route by one SVM and ask about another.

use crate::common::{Harness, SVM2_UUID, bad_fields, mask, with_metadata};
use ontap_grpc_gateway::proto::v1::{GetIscsiServiceRequest, ListCifsConnectionsRequest};
use tonic::Code;

fn list_vs1() -> ListCifsConnectionsRequest {
    ListCifsConnectionsRequest {
        svm_name: "vs1".into(),
        page_size: 5,
        ..Default::default()
    }
}

fn get_svm2() -> GetIscsiServiceRequest {
    GetIscsiServiceRequest {
        svm_uuid: SVM2_UUID.into(),
        read_mask: mask(&["enabled"]),
    }
}

/// The status of a list call that must be refused INVALID_ARGUMENT.
async fn refused_list(
    h: &Harness,
    request: tonic::Request<ListCifsConnectionsRequest>,
) -> tonic::Status {
    let status = h.list_error(request).await;
    assert_eq!(status.code(), Code::InvalidArgument);
    status
}

#[tokio::test]
async fn svm_metadata_naming_the_requests_svm_is_served() {
    let h = Harness::start().await;
    let by_name = with_metadata(list_vs1(), "x-ontap-svm", "vs1");
    h.cifs().await.list_cifs_connections(by_name).await.unwrap();
    let by_uuid = with_metadata(get_svm2(), "x-ontap-svm", SVM2_UUID);
    h.iscsi().await.get_iscsi_service(by_uuid).await.unwrap();
}

#[tokio::test]
async fn svm_metadata_naming_another_svm_is_refused_naming_the_field() {
    let h = Harness::start().await;
    let status = refused_list(&h, with_metadata(list_vs1(), "x-ontap-svm", "vs2")).await;
    assert_eq!(bad_fields(&status), ["svm_name"]);
    assert!(
        status.message().contains("x-ontap-svm"),
        "{}",
        status.message()
    );
    assert_eq!(h.simulator.stats().requests, 0, "nothing went upstream");
}

#[tokio::test]
async fn svm_metadata_on_a_request_for_every_svm_is_refused() {
    let h = Harness::start().await;
    let every_svm = ListCifsConnectionsRequest {
        page_size: 5,
        ..Default::default()
    };
    let status = refused_list(&h, with_metadata(every_svm, "x-ontap-svm", "vs1")).await;
    assert_eq!(bad_fields(&status), ["x-ontap-svm"]);
}

#[tokio::test]
async fn an_svm_named_by_uuid_must_be_routed_by_its_uuid() {
    let h = Harness::start().await;
    let request = with_metadata(get_svm2(), "x-ontap-svm", "svm2");
    let status = h
        .iscsi()
        .await
        .get_iscsi_service(request)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["svm_uuid"]);
}
