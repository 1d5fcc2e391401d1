//! StreamCifsConnections: every matching connection, paged through ONTAP
//! behind the scenes, one upstream page per message.

use std::collections::HashSet;

use crate::common::{Harness, bad_fields, final_status, mask, requests_to};
use ontap_grpc_gateway::proto::v1::{CifsConnection, StreamCifsConnectionsRequest};
use ontap_simulator::{Cluster, Fault, FaultKind};
use tonic::Code;

const CONNECTIONS: &str = "/api/protocols/cifs/connections";

async fn crowded(connections: u32) -> Harness {
    Harness::start_with(Cluster::seed_with_cifs_connections(connections), |_| {}).await
}

/// Every message of the stream of `request`, as pages.
async fn pages(h: &Harness, request: StreamCifsConnectionsRequest) -> Vec<Vec<CifsConnection>> {
    let mut stream = h
        .cifs()
        .await
        .stream_cifs_connections(request)
        .await
        .expect("the stream opens")
        .into_inner();
    let mut pages = Vec::new();
    while let Some(message) = stream.message().await.expect("the stream ends cleanly") {
        pages.push(message.cifs_connections);
    }
    pages
}

#[tokio::test]
async fn every_connection_streams_once_a_thousand_to_a_message() {
    let h = crowded(2_500).await;

    let pages = pages(&h, StreamCifsConnectionsRequest::default()).await;

    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [1_000, 1_000, 500]);
    let keys: HashSet<_> = pages
        .iter()
        .flatten()
        .map(|c| (c.node.clone().unwrap().uuid, c.identifier))
        .collect();
    assert_eq!(keys.len(), 2_500, "no connection twice");
    assert_eq!(requests_to(&h.simulator, CONNECTIONS), 3);
}

#[tokio::test]
async fn the_filters_order_and_mask_apply_to_every_page() {
    let h = crowded(2_500).await;

    let pages = pages(
        &h,
        StreamCifsConnectionsRequest {
            node_name: "node2".into(),
            order_by: vec!["identifier desc".into()],
            read_mask: mask(&["identifier"]),
            ..Default::default()
        },
    )
    .await;

    let connections: Vec<_> = pages.into_iter().flatten().collect();
    assert_eq!(connections.len(), 1_250);
    let identifiers: Vec<u32> = connections.iter().map(|c| c.identifier.unwrap()).collect();
    assert!(identifiers.windows(2).all(|w| w[0] > w[1]), "descending");
    assert!(
        connections
            .iter()
            .all(|c| c.client_ip.is_none() && c.node.is_none())
    );
}

#[tokio::test]
async fn no_match_ends_the_stream_without_a_message() {
    let h = crowded(40).await;
    let pages = pages(
        &h,
        StreamCifsConnectionsRequest {
            identifier: "1".into(),
            ..Default::default()
        },
    )
    .await;
    assert!(pages.is_empty(), "{pages:?}");
}

#[tokio::test]
async fn an_invalid_request_is_refused_before_anything_goes_upstream() {
    let h = crowded(40).await;
    let status = h
        .cifs()
        .await
        .stream_cifs_connections(StreamCifsConnectionsRequest {
            order_by: vec!["no_such_field".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["order_by[0]"]);
    assert_eq!(h.simulator.stats().requests, 0);
}

#[tokio::test]
async fn an_upstream_failure_ends_the_stream_with_its_status() {
    let h = crowded(40).await;
    h.simulator.faults().push(Fault::always(FaultKind::Error {
        status: 500,
        code: None,
        message: "boom".into(),
        target: None,
    }));
    let mut stream = h
        .cifs()
        .await
        .stream_cifs_connections(StreamCifsConnectionsRequest::default())
        .await
        .expect("the stream opens")
        .into_inner();
    let status = final_status(&mut stream).await;
    assert_eq!(status.code(), Code::Internal);
}
