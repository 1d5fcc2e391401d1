//! Adaptive paging: when ONTAP cannot gather a page in time (a 504, or a
//! page cut short by `return_timeout`), the gateway asks that collection for
//! half as many records, and grows the size back after full pages. The
//! caller's page tokens stay valid throughout.

use std::time::Duration;

use crate::common::{Harness, NODE1_UUID, VS1_UUID, reason};
use ontap_grpc_gateway::proto::v1::{ListCifsConnectionsRequest, ListCifsConnectionsResponse};
use ontap_grpc_gateway::translate::{FULL_PAGES_TO_GROW, PageSizeChanges};
use ontap_simulator::{CifsConnection, Cluster, Fault, FaultKind};
use tonic::Code;

const CONNECTIONS: &str = "/api/protocols/cifs/connections";

/// The seed cluster with 300 more connections on node 1 of `vs1`.
fn crowded() -> Cluster {
    let mut cluster = Cluster::seed();
    for identifier in 0..300 {
        cluster.cifs_connections.push(CifsConnection {
            node_uuid: NODE1_UUID.into(),
            svm_uuid: VS1_UUID.into(),
            identifier: 2_000_000 + identifier,
            network_context_id: 1,
            client_ip: "10.74.9.9".into(),
            client_port: 40_000,
            server_ip: "10.140.70.197".into(),
            session_ids: vec![1],
        });
    }
    cluster
}

fn page(page_size: i32, page_token: &str) -> ListCifsConnectionsRequest {
    ListCifsConnectionsRequest {
        page_size,
        page_token: page_token.to_owned(),
        ..Default::default()
    }
}

fn gateway_timeout(times: u32) -> Fault {
    Fault {
        times: Some(times),
        ..Fault::always(FaultKind::Error {
            status: 504,
            code: None,
            message: "Gateway Timeout".into(),
            target: None,
        })
    }
}

async fn list(h: &Harness, request: ListCifsConnectionsRequest) -> ListCifsConnectionsResponse {
    h.cifs()
        .await
        .list_cifs_connections(request)
        .await
        .expect("the page is listed")
        .into_inner()
}

/// The status a list that ONTAP fails gets.
async fn refused(h: &Harness, request: ListCifsConnectionsRequest) -> tonic::Status {
    h.cifs()
        .await
        .list_cifs_connections(request)
        .await
        .expect_err("the list fails")
}

fn limit(h: &Harness) -> u32 {
    h.gateway.upstream.page_sizes.limit(CONNECTIONS)
}

#[tokio::test]
async fn pages_cut_short_by_return_timeout_halve_the_following_pages_until_one_fits() {
    let h = Harness::start_with(crowded(), |_| {}).await;
    // 0.5 s a record in ONTAP's default 15 s return_timeout: 30 a page.
    h.simulator
        .cluster()
        .set_iteration_cost(CONNECTIONS, Duration::from_millis(500));

    let first = list(&h, page(100, "")).await;
    let second = list(&h, page(100, &first.next_page_token)).await;
    let third = list(&h, page(100, &second.next_page_token)).await;

    let sizes = [&first, &second, &third].map(|p| p.cifs_connections.len());
    assert_eq!(sizes, [30, 30, 25], "asked for 100, 50, then 25");
    assert_eq!(limit(&h), 25);
    assert!(!third.next_page_token.is_empty(), "the tokens stay valid");
}

#[tokio::test]
async fn a_504_is_retried_once_at_half_the_size() {
    let h = Harness::start_with(crowded(), |_| {}).await;
    h.simulator.faults().push(gateway_timeout(1));

    let listed = list(&h, page(100, "")).await;

    assert_eq!(listed.cifs_connections.len(), 50);
    assert_eq!(h.simulator.stats().requests, 2);
    assert_eq!(
        h.gateway.upstream.page_sizes.changes(),
        PageSizeChanges {
            shrinks: 1,
            grows: 0
        }
    );
}

#[tokio::test]
async fn a_504_on_the_retry_too_reaches_the_caller() {
    let h = Harness::start_with(crowded(), |_| {}).await;
    h.simulator.faults().push(gateway_timeout(2));

    let status = refused(&h, page(100, "")).await;

    assert_eq!(status.code(), Code::DeadlineExceeded);
    assert_eq!(reason(&status), "GATEWAY_TIMEOUT");
    assert_eq!(h.simulator.stats().requests, 2, "one retry, no more");
    assert_eq!(limit(&h), 25);
}

#[tokio::test]
async fn full_pages_grow_the_size_back() {
    let h = Harness::start_with(crowded(), |_| {}).await;
    h.simulator.faults().push(gateway_timeout(1));
    // The retry's page, at the halved size, is the first full one.
    assert_eq!(list(&h, page(100, "")).await.cifs_connections.len(), 50);
    assert_eq!(limit(&h), 50);

    for _ in 1..FULL_PAGES_TO_GROW {
        assert_eq!(list(&h, page(100, "")).await.cifs_connections.len(), 50);
    }

    assert_eq!(list(&h, page(100, "")).await.cifs_connections.len(), 100);
    assert_eq!(h.gateway.upstream.page_sizes.changes().grows, 1);
}

#[tokio::test]
async fn each_page_size_change_is_counted_in_the_metrics() {
    let h = Harness::start_with(crowded(), |_| {}).await;
    h.simulator.faults().push(gateway_timeout(1));
    for _ in 0..=FULL_PAGES_TO_GROW {
        list(&h, page(100, "")).await;
    }
    let metrics = h.gateway.upstream.client.metrics().render(0, 0);
    for counted in [
        r#"ontap_gateway_page_size_changes_total{cluster="default",endpoint="/api/protocols/cifs/connections",direction="shrink"} 1"#,
        r#"ontap_gateway_page_size_changes_total{cluster="default",endpoint="/api/protocols/cifs/connections",direction="grow"} 1"#,
    ] {
        assert!(metrics.contains(counted), "{counted} in {metrics}");
    }
}

#[tokio::test]
async fn count_only_is_never_resized() {
    let h = Harness::start_with(crowded(), |_| {}).await;
    h.simulator.faults().push(gateway_timeout(1));
    let status = refused(
        &h,
        ListCifsConnectionsRequest {
            count_only: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(status.code(), Code::DeadlineExceeded);
    assert_eq!(h.simulator.stats().requests, 1);
    assert_eq!(limit(&h), 1000);
}

#[tokio::test]
async fn a_504_for_a_page_already_at_the_smallest_size_reaches_the_caller_at_once() {
    let h = Harness::start_with(crowded(), |_| {}).await;
    h.simulator.faults().push(gateway_timeout(1));

    let status = refused(&h, page(10, "")).await;

    assert_eq!(status.code(), Code::DeadlineExceeded);
    assert_eq!(h.simulator.stats().requests, 1, "no smaller page to retry");
    assert_eq!(limit(&h), 1000);
}

#[tokio::test]
async fn other_upstream_errors_neither_shrink_the_page_nor_retry() {
    let h = Harness::start_with(crowded(), |_| {}).await;
    h.simulator.faults().push(Fault {
        times: Some(1),
        ..Fault::always(FaultKind::Error {
            status: 500,
            code: None,
            message: "boom".into(),
            target: None,
        })
    });

    let status = refused(&h, page(100, "")).await;

    assert_eq!(status.code(), Code::Internal);
    assert_eq!(h.simulator.stats().requests, 1);
    assert_eq!(limit(&h), 1000);
}

#[tokio::test]
async fn return_timeout_leaves_the_request_timeout_a_margin_to_send_the_page() {
    let h = Harness::start_with(crowded(), |c| {
        c.request_timeout = Duration::from_millis(4_000);
    })
    .await;
    // A second a record: the page holds one record per second of the
    // return_timeout ONTAP was sent.
    h.simulator
        .cluster()
        .set_iteration_cost(CONNECTIONS, Duration::from_secs(1));

    let listed = list(&h, page(100, "")).await;

    assert_eq!(
        listed.cifs_connections.len(),
        3,
        "return_timeout=3 for a 4 s request timeout"
    );
}
