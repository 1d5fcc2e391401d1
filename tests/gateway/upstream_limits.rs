//! Protecting the cluster: the bound on connections and in-flight requests,
//! deadlines, and cancellation reaching the upstream request.

use std::time::Duration;

use crate::common::{Harness, SVM2_UUID, eventually, reason, set_enabled, with_deadline};
use ontap_grpc_gateway::proto::v1::ListCifsConnectionsRequest;
use ontap_simulator::{Cluster, Fault, FaultKind};
use tonic::Code;

fn list() -> ListCifsConnectionsRequest {
    list_of(5)
}

/// A list of `page_size` records: calls of different sizes are different
/// reads, so each goes upstream rather than sharing one in flight.
fn list_of(page_size: i32) -> ListCifsConnectionsRequest {
    ListCifsConnectionsRequest {
        page_size,
        ..Default::default()
    }
}

#[tokio::test]
async fn concurrent_calls_never_open_more_connections_than_the_bound() {
    let h = Harness::start_with(Cluster::seed(), |c| c.max_in_flight = 2).await;
    h.simulator
        .faults()
        .push(Fault::always(FaultKind::Delay(Duration::from_millis(100))));
    let client = h.cifs().await;
    let calls = (1..=12).map(|size| {
        let mut client = client.clone();
        tokio::spawn(async move { client.list_cifs_connections(list_of(size)).await })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await
            .unwrap()
            .expect("every call succeeds by waiting its turn");
    }
    let stats = h.simulator.stats();
    assert_eq!(stats.requests, 12);
    assert!(stats.peak_open_connections <= 2, "{stats:?}");
    assert!(stats.peak_in_flight <= 2, "{stats:?}");
}

#[tokio::test]
async fn call_whose_deadline_passes_while_queued_is_deadline_exceeded_and_never_sent() {
    let h = Harness::start_with(Cluster::seed(), |c| c.max_in_flight = 1).await;
    h.simulator
        .faults()
        .push(Fault::once(FaultKind::Delay(Duration::from_secs(2))));
    let mut slow = h.cifs().await;
    let hog = tokio::spawn(async move { slow.list_cifs_connections(list()).await });
    eventually("the first call holds the only upstream slot", || {
        h.simulator.stats().in_flight == 1
    })
    .await;
    let status = h
        .list_error(with_deadline(list_of(6), Duration::from_millis(300)))
        .await;
    assert_eq!(status.code(), Code::DeadlineExceeded);
    assert_eq!(reason(&status), "QUEUED_PAST_DEADLINE");
    assert!(
        status.message().contains("nothing was sent"),
        "{}",
        status.message()
    );
    assert_eq!(h.simulator.stats().requests, 1, "only the first call's");
    hog.await.unwrap().expect("the first call completes");
}

#[tokio::test]
async fn a_write_whose_deadline_passes_while_queued_is_never_sent() {
    let h = Harness::start_with(Cluster::seed(), |c| c.max_in_flight = 1).await;
    h.simulator.faults().push(Fault::always(FaultKind::Hold));
    let mut slow = h.cifs().await;
    let hog = tokio::spawn(async move { slow.list_cifs_connections(list()).await });
    eventually("the first call holds the only upstream slot", || {
        h.simulator.stats().in_flight == 1
    })
    .await;
    let update = set_enabled(SVM2_UUID, true);
    let status = h
        .iscsi()
        .await
        .update_iscsi_service(with_deadline(update, Duration::from_millis(300)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded);
    assert_eq!(reason(&status), "QUEUED_PAST_DEADLINE");
    h.simulator.faults().clear();
    hog.await.unwrap().unwrap();
    assert_eq!(h.simulator.stats().requests, 1, "only the first call's");
}

#[tokio::test]
async fn call_without_deadline_waits_at_most_the_queue_timeout() {
    let h = Harness::start_with(Cluster::seed(), |c| {
        c.max_in_flight = 1;
        c.queue_timeout = Duration::from_millis(200);
    })
    .await;
    h.simulator
        .faults()
        .push(Fault::once(FaultKind::Delay(Duration::from_secs(2))));
    let mut slow = h.cifs().await;
    let hog = tokio::spawn(async move { slow.list_cifs_connections(list()).await });
    eventually("the first call holds the only upstream slot", || {
        h.simulator.stats().in_flight == 1
    })
    .await;
    let status = h.list_error(list_of(6)).await;
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert_eq!(reason(&status), "UPSTREAM_CONCURRENCY_LIMIT");
    hog.await.unwrap().unwrap();
}

#[tokio::test]
async fn expired_deadline_cancels_the_upstream_request() {
    let h = Harness::start().await;
    h.simulator
        .faults()
        .push(Fault::always(FaultKind::Delay(Duration::from_secs(5))));
    let status = h
        .list_error(with_deadline(list(), Duration::from_millis(200)))
        .await;
    assert_eq!(status.code(), Code::DeadlineExceeded);
    eventually("the simulator sees the upstream request abandoned", || {
        h.simulator.stats().aborted_requests >= 1
    })
    .await;
}

#[tokio::test]
async fn client_going_away_cancels_the_upstream_request() {
    let h = Harness::start().await;
    h.simulator
        .faults()
        .push(Fault::always(FaultKind::Delay(Duration::from_secs(5))));
    let mut client = h.cifs().await;
    let call = tokio::spawn(async move { client.list_cifs_connections(list()).await });
    eventually("the request reaches the simulator", || {
        h.simulator.stats().in_flight == 1
    })
    .await;
    call.abort();
    eventually("the upstream request ends with the call", || {
        h.simulator.stats().aborted_requests >= 1
    })
    .await;
}

#[tokio::test]
async fn connections_are_reused_across_calls() {
    let h = Harness::start().await;
    let mut client = h.cifs().await;
    for _ in 0..5 {
        client.list_cifs_connections(list()).await.unwrap();
    }
    assert_eq!(h.simulator.stats().connections_accepted, 1);
}

#[tokio::test]
async fn responses_past_the_memory_budget_fail_until_one_is_released() {
    use ontap_grpc_gateway::deadline::Deadline;
    use ontap_grpc_gateway::ontap::CollectionPath;
    use ontap_grpc_gateway::translate::resource::Resource;

    /// The collection the examples page through.
    const CONNECTIONS: CollectionPath =
        <ontap_grpc_gateway::proto::v1::CifsConnection as Resource>::COLLECTION;
    use ontap_grpc_gateway::ontap::{OntapClient, OntapError, Query};
    let simulator = crate::common::simulator_with(Cluster::seed()).await;
    let mut config = crate::common::client_config(&simulator);
    config.max_response_bytes = 30 * 1024;
    config.max_buffered_bytes = 30 * 1024;
    let client = OntapClient::new(config).unwrap();
    let mut query = Query::new();
    query.push("fields", "*").push("max_records", "36");
    let path = CONNECTIONS.path();
    let page = || client.get(&path, &query, Deadline::NONE);
    let held = page().await.expect("the first page fits the budget");
    assert!(held.body.len() > 15 * 1024, "{} bytes", held.body.len());
    let refused = page().await.unwrap_err();
    assert!(
        matches!(refused, OntapError::MemoryBudget { .. }),
        "{refused:?}"
    );
    drop(held);
    page()
        .await
        .expect("the budget is back once the first page is dropped");
}

#[tokio::test]
async fn a_budget_smaller_than_one_response_is_refused_at_start() {
    let simulator = crate::common::simulator_with(Cluster::seed()).await;
    let mut config = crate::common::client_config(&simulator);
    config.max_buffered_bytes = config.max_response_bytes - 1;
    assert!(ontap_grpc_gateway::ontap::OntapClient::new(config).is_err());
}
