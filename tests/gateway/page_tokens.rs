//! Page tokens are signed: a token continues only on a gateway holding the
//! key that issued it, carries nothing but where to start, and a forged or
//! foreign one is refused before anything goes upstream.

use crate::common::{Gateway, bad_fields, client_config, reason, simulator_with};
use ontap_grpc_gateway::deadline::Deadline;
use ontap_grpc_gateway::ontap::CollectionPath;
use ontap_grpc_gateway::translate::resource::Resource;

/// The collection the examples page through.
const CONNECTIONS: CollectionPath =
    <ontap_grpc_gateway::proto::v1::CifsConnection as Resource>::COLLECTION;
use ontap_grpc_gateway::ontap::{OntapClient, Query};
use ontap_grpc_gateway::proto::v1::ListCifsConnectionsRequest;
use ontap_grpc_gateway::translate::PageTokenKey;
use ontap_simulator::Cluster;
use tonic::Code;

fn first_page() -> ListCifsConnectionsRequest {
    ListCifsConnectionsRequest {
        page_size: 2,
        ..Default::default()
    }
}

fn next_page(token: String) -> ListCifsConnectionsRequest {
    ListCifsConnectionsRequest {
        page_size: 2,
        page_token: token,
        ..Default::default()
    }
}

/// The next-page token of the first page, as `gateway` issues it.
async fn issued_by(gateway: &Gateway) -> String {
    let page = gateway
        .cifs()
        .await
        .list_cifs_connections(first_page())
        .await
        .unwrap()
        .into_inner();
    assert!(!page.next_page_token.is_empty());
    page.next_page_token
}

#[tokio::test]
async fn a_token_from_a_gateway_with_another_key_is_invalid_argument_and_never_sent() {
    let simulator = simulator_with(Cluster::seed()).await;
    let issuer = Gateway::start(client_config(&simulator)).await;
    let other = Gateway::start(client_config(&simulator)).await;
    let token = issued_by(&issuer).await;
    let before = simulator.stats().requests;
    let status = other
        .cifs()
        .await
        .list_cifs_connections(next_page(token))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["page_token"]);
    assert_eq!(reason(&status), "INVALID_REQUEST");
    assert_eq!(simulator.stats().requests, before);
}

#[tokio::test]
async fn replicas_sharing_a_key_file_continue_each_others_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("page-token.key");
    std::fs::write(&path, "9xq3Jz0cQ2mJ8nYp4wL1vR7tK5bH6dF0aS2eU8iO3gM=\n").unwrap();
    let simulator = simulator_with(Cluster::seed()).await;
    let a = Gateway::start_with_key(
        client_config(&simulator),
        PageTokenKey::from_file(&path).unwrap(),
    )
    .await;
    let b = Gateway::start_with_key(
        client_config(&simulator),
        PageTokenKey::from_file(&path).unwrap(),
    )
    .await;
    let token = issued_by(&a).await;
    let second = b
        .cifs()
        .await
        .list_cifs_connections(next_page(token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.cifs_connections.len(), 2);
}

#[tokio::test]
async fn a_tampered_token_is_invalid_argument_and_never_sent() {
    let simulator = simulator_with(Cluster::seed()).await;
    let gateway = Gateway::start(client_config(&simulator)).await;
    let token = issued_by(&gateway).await;
    let (payload, tag) = token.split_once('.').unwrap();
    let mut payload = payload.to_owned().into_bytes();
    payload[10] = if payload[10] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{}.{tag}", String::from_utf8(payload).unwrap());
    let before = simulator.stats().requests;
    let status = gateway.list_error(next_page(tampered)).await;
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["page_token"]);
    assert_eq!(simulator.stats().requests, before);
}

#[tokio::test]
async fn a_token_used_with_other_filters_is_invalid_argument() {
    let simulator = simulator_with(Cluster::seed()).await;
    let gateway = Gateway::start(client_config(&simulator)).await;
    let token = issued_by(&gateway).await;
    let status = gateway
        .list_error(ListCifsConnectionsRequest {
            svm_name: "vs1".into(),
            ..next_page(token)
        })
        .await;
    assert_eq!(bad_fields(&status), ["page_token"]);
    assert!(
        status.message().contains("different query"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn parameters_in_ontaps_next_link_never_reach_the_following_page() {
    let simulator = simulator_with(Cluster::seed()).await;
    let gateway = Gateway::start(client_config(&simulator)).await;
    // ONTAP's real first page for `svm.name=vs1`, with its next link turned
    // into one that also filters on another SVM and asks for every record.
    let rest = OntapClient::new(client_config(&simulator)).unwrap();
    let mut query = Query::new();
    query
        .push("svm.name", "vs1")
        .push("fields", "*")
        .push("max_records", "2");
    let body = rest
        .get(&CONNECTIONS.path(), &query, Deadline::NONE)
        .await
        .unwrap()
        .body;
    let mut page: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let next = page["_links"]["next"]["href"].as_str().unwrap().to_owned();
    assert!(next.contains("svm.name=vs1"), "{next}");
    page["_links"]["next"]["href"] = next
        .replace("svm.name=vs1", "svm.name=svm1")
        .replace("max_records=2", "max_records=1000000000")
        .into();
    simulator.faults().push(ontap_simulator::Fault {
        times: Some(1),
        ..ontap_simulator::Fault::always(ontap_simulator::FaultKind::Raw {
            status: 200,
            content_type: "application/hal+json".into(),
            body: serde_json::to_vec(&page).unwrap(),
        })
    });
    let request = ListCifsConnectionsRequest {
        svm_name: "vs1".into(),
        ..first_page()
    };
    let mut client = gateway.cifs().await;
    let first = client
        .list_cifs_connections(request.clone())
        .await
        .unwrap()
        .into_inner();
    let second = client
        .list_cifs_connections(ListCifsConnectionsRequest {
            page_token: first.next_page_token,
            ..request
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.cifs_connections.len(), 2, "the request's page size");
    assert!(
        second
            .cifs_connections
            .iter()
            .all(|c| c.svm.as_ref().and_then(|s| s.name.as_deref()) == Some("vs1")),
        "the request's filter"
    );
}

#[tokio::test]
async fn a_next_link_without_a_continuation_is_a_malformed_response() {
    let simulator = simulator_with(Cluster::seed()).await;
    let gateway = Gateway::start(client_config(&simulator)).await;
    simulator.faults().push(ontap_simulator::Fault::always(
        ontap_simulator::FaultKind::Raw {
            status: 200,
            content_type: "application/hal+json".into(),
            body: br#"{"records": [], "num_records": 0,
                "_links": {"next": {"href": "/api/protocols/cifs/connections?max_records=5"}}}"#
                .to_vec(),
        },
    ));
    let status = gateway.list_error(first_page()).await;
    assert_eq!(status.code(), Code::Internal);
    assert_eq!(reason(&status), "UPSTREAM_MALFORMED_RESPONSE");
}
