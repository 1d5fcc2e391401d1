//! Every response fits the 4 MiB a gRPC client receives at its defaults
//! (tonic's, grpc-go's and grpc-java's limit), at the gateway's own limits:
//! a page of 1,000 CIFS connections whose sessions make it larger ends early
//! with a token that continues it, a Stream's messages do the same, a record
//! that alone is larger is refused with RECORD_TOO_LARGE, and so is a watch
//! of one.

use futures_util::StreamExt;
use ontap_grpc_gateway::proto::v1::{
    ListCifsConnectionsRequest, StreamCifsConnectionsRequest, WatchCifsConnectionsRequest,
};
use ontap_grpc_gateway::translate::message_size::{MAX_RESPONSE_BYTES, PAGE_RECORDS_BUDGET};
use ontap_simulator::{CifsConnection, Cluster};
use prost::Message;
use serde_json::Value;

use crate::common::tools::{generate_go_client, go_example, stdout_of};
use crate::common::{Harness, error_metadata, mask, poll_every_second, reason};

/// Session IDs above 2^63: each costs ten bytes on the wire, the most a
/// varint takes.
const FIRST_SESSION: u64 = 1 << 63;

/// The seed cluster plus `count` connections on vs1, each carrying
/// `sessions` CIFS sessions.
fn cluster_with_crowded_connections(count: u32, sessions: u64) -> Cluster {
    let mut cluster = Cluster::seed();
    let model = cluster.cifs_connections[0].clone();
    let crowded = (0..count).map(|i| CifsConnection {
        identifier: 2_000_000 + i,
        session_ids: (0..sessions)
            .map(|s| FIRST_SESSION + u64::from(i) * sessions + s)
            .collect(),
        ..model.clone()
    });
    cluster.cifs_connections.extend(crowded);
    cluster
}

/// `cluster` behind a gateway whose memory budget for upstream pages is
/// raised (`--max-buffered-bytes`), so that a page of hundreds of
/// thousands of nested objects, which the default budget charges past its
/// 256 MiB, is read and the response's size is what limits it.
async fn start_with_room(cluster: Cluster) -> Harness {
    Harness::start_with(cluster, |config| config.max_buffered_bytes = 4 << 30).await
}

/// Fourteen connections of 30,000 sessions: about 390 KB each, 5.5 MB in
/// all, so that no page holds them all.
async fn crowded() -> Harness {
    start_with_room(cluster_with_crowded_connections(14, 30_000)).await
}

fn largest_page() -> ListCifsConnectionsRequest {
    ListCifsConnectionsRequest {
        page_size: 1000,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_page_larger_than_a_default_client_reads_ends_early_and_its_token_continues_it() {
    let h = crowded().await;
    let total = h.simulator.cluster().with(|c| c.cifs_connections.len());
    let mut client = h.cifs().await;
    let (mut listed, mut pages, mut token) = (0, 0, String::new());
    loop {
        let request = ListCifsConnectionsRequest {
            page_token: token,
            ..largest_page()
        };
        let page = client.list_cifs_connections(request).await.unwrap();
        let page = page.into_inner();
        assert!(
            page.encoded_len() <= MAX_RESPONSE_BYTES,
            "{}",
            page.encoded_len()
        );
        listed += page.cifs_connections.len();
        pages += 1;
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(listed, total);
    assert!(pages >= 2, "{pages} pages");
}

#[tokio::test]
async fn a_stream_message_larger_than_a_default_client_reads_is_split() {
    let h = crowded().await;
    let total = h.simulator.cluster().with(|c| c.cifs_connections.len());
    let mut client = h.cifs().await;
    let mut stream = client
        .stream_cifs_connections(StreamCifsConnectionsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let (mut streamed, mut messages) = (0, 0);
    while let Some(message) = stream.next().await {
        let message = message.unwrap();
        assert!(message.encoded_len() <= MAX_RESPONSE_BYTES);
        streamed += message.cifs_connections.len();
        messages += 1;
    }
    assert_eq!(streamed, total);
    assert!(messages >= 2, "{messages} messages");
}

#[tokio::test]
async fn a_record_larger_than_a_response_is_refused_with_record_too_large() {
    // 400,000 sessions: 5.2 MB of one connection.
    let h = start_with_room(cluster_with_crowded_connections(1, 400_000)).await;
    let crowded = ListCifsConnectionsRequest {
        identifier: "2000000".to_owned(),
        ..largest_page()
    };
    let status = h
        .cifs()
        .await
        .list_cifs_connections(crowded.clone())
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
    assert_eq!(reason(&status), "RECORD_TOO_LARGE");
    let bytes: usize = error_metadata(&status, "bytes").unwrap().parse().unwrap();
    assert!(bytes > PAGE_RECORDS_BUDGET, "{bytes}");
    assert_eq!(
        error_metadata(&status, "limit"),
        Some(PAGE_RECORDS_BUDGET.to_string())
    );
    // Without its sessions, it fits.
    let without_sessions = ListCifsConnectionsRequest {
        read_mask: mask(&["identifier", "client_ip"]),
        ..crowded
    };
    let page = h
        .cifs()
        .await
        .list_cifs_connections(without_sessions)
        .await
        .unwrap();
    assert_eq!(page.into_inner().cifs_connections.len(), 1);
}

#[tokio::test]
async fn a_watch_of_a_record_larger_than_a_response_ends_with_record_too_large() {
    let h = start_with_room(cluster_with_crowded_connections(1, 400_000)).await;
    let watch = WatchCifsConnectionsRequest {
        identifier: "2000000".to_owned(),
        poll_interval: poll_every_second(),
        ..Default::default()
    };
    let mut events = h
        .cifs()
        .await
        .watch_cifs_connections(watch)
        .await
        .unwrap()
        .into_inner();
    let status = events.next().await.expect("a status").unwrap_err();
    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
    assert_eq!(reason(&status), "RECORD_TOO_LARGE");
}

#[tokio::test]
async fn the_go_client_at_its_defaults_reads_every_page_and_stream_message() {
    let h = crowded().await;
    let total = h.simulator.cluster().with(|c| c.cifs_connections.len());
    let gopath = tempfile::tempdir().unwrap();
    let addr = h.gateway.addr.to_string();
    let out = tokio::task::spawn_blocking(move || {
        stdout_of(&generate_go_client(gopath.path()));
        stdout_of(&go_example(gopath.path(), &["-drain", &addr]))
    })
    .await
    .unwrap();
    let summary: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(summary["listed"], total, "{out}");
    assert_eq!(summary["streamed"], total, "{out}");
    let largest = summary["largest_message_bytes"].as_u64().unwrap();
    // Most of the budget is used: the pages end at it, not far short of it.
    assert!(largest > (MAX_RESPONSE_BYTES / 2) as u64, "{out}");
    assert!(largest <= MAX_RESPONSE_BYTES as u64, "{out}");
}
