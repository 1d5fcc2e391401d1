//! Backing off an overloaded cluster: reads that meet a full request queue
//! (429, 503) are retried at most twice, after ONTAP's `Retry-After`, within
//! the caller's deadline; writes never are. A cluster that keeps failing
//! trips the breaker: calls fail at once until one probe finds it back.

use std::time::Duration;

use crate::common::{
    GUARD, Gateway, Harness, SVM2_UUID, closed_port, error_metadata, eventually_async, mask,
    reason, set_enabled, with_deadline,
};
use ontap_grpc_gateway::ontap::{BreakerConfig, ClientConfig, RetryPolicy};
use ontap_grpc_gateway::proto::v1::{GetIscsiServiceRequest, ListCifsConnectionsRequest};
use ontap_simulator::{Cluster, Fault, FaultKind};
use tonic::Code;

fn busy(status: u16, retry_after: Option<Duration>, times: Option<u32>) -> Fault {
    Fault {
        times,
        ..Fault::always(FaultKind::Busy {
            status,
            retry_after,
        })
    }
}

fn failing(status: u16) -> Fault {
    Fault::always(FaultKind::Error {
        status,
        code: None,
        message: "failing".into(),
        target: None,
    })
}

/// Retries at once, so the tests never wait on a backoff.
fn quick_retries(config: &mut ontap_grpc_gateway::ontap::ClientConfig) {
    config.retry = RetryPolicy {
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(1),
        ..RetryPolicy::default()
    };
}

fn get_svm2() -> GetIscsiServiceRequest {
    GetIscsiServiceRequest {
        svm_uuid: SVM2_UUID.into(),
        read_mask: mask(&["enabled"]),
    }
}

#[tokio::test]
async fn a_read_that_meets_a_full_queue_is_retried_and_answered() {
    let h = Harness::start_with(Cluster::seed(), quick_retries).await;
    h.simulator.faults().push(busy(429, None, Some(1)));
    h.simulator.faults().push(busy(503, None, Some(1)));

    let listed = h
        .cifs()
        .await
        .list_cifs_connections(ListCifsConnectionsRequest::default())
        .await
        .expect("the third try is answered");

    assert!(!listed.into_inner().cifs_connections.is_empty());
    assert_eq!(h.simulator.stats().requests, 3);
}

#[tokio::test]
async fn a_read_is_retried_at_most_twice() {
    let h = Harness::start_with(Cluster::seed(), quick_retries).await;
    h.simulator.faults().push(busy(503, None, None));

    let status = h
        .iscsi()
        .await
        .get_iscsi_service(get_svm2())
        .await
        .unwrap_err();

    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(reason(&status), "SERVICE_UNAVAILABLE");
    assert_eq!(h.simulator.stats().requests, 3);
}

#[tokio::test]
async fn a_retry_after_longer_than_the_deadline_leaves_allows_is_not_waited_for() {
    let h = Harness::start().await;
    h.simulator
        .faults()
        .push(busy(503, Some(Duration::from_secs(30)), None));

    let status = h
        .iscsi()
        .await
        .get_iscsi_service(with_deadline(get_svm2(), Duration::from_secs(5)))
        .await
        .unwrap_err();

    assert_eq!(status.code(), Code::Unavailable, "ONTAP's answer, at once");
    assert_eq!(h.simulator.stats().requests, 1);
}

#[tokio::test]
async fn a_write_is_never_retried() {
    let h = Harness::start_with(Cluster::seed(), quick_retries).await;
    h.simulator.faults().push(busy(503, None, Some(1)));
    let status = h
        .iscsi()
        .await
        .update_iscsi_service(set_enabled(SVM2_UUID, true))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(h.simulator.stats().requests, 1);
}

#[tokio::test]
async fn failures_in_a_row_open_the_circuit_and_calls_fail_at_once() {
    let h = Harness::start_with(Cluster::seed(), |c| {
        c.retry.max_retries = 0;
        c.breaker = BreakerConfig {
            failures_to_open: 3,
            open_for: Duration::from_secs(600),
        };
    })
    .await;
    h.simulator.faults().push(failing(500));
    let mut client = h.iscsi().await;
    for _ in 0..3 {
        let status = client.get_iscsi_service(get_svm2()).await.unwrap_err();
        assert_eq!(status.code(), Code::Internal);
    }

    let status = client.get_iscsi_service(get_svm2()).await.unwrap_err();

    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(reason(&status), "UPSTREAM_CIRCUIT_OPEN");
    assert_eq!(h.simulator.stats().requests, 3, "nothing more was sent");
}

#[tokio::test]
async fn once_the_pause_is_over_one_probe_that_succeeds_closes_the_circuit() {
    let h = Harness::start_with(Cluster::seed(), |c| {
        c.retry.max_retries = 0;
        c.breaker = BreakerConfig {
            failures_to_open: 1,
            open_for: Duration::from_millis(200),
        };
    })
    .await;
    h.simulator.faults().push(failing(503));
    let mut client = h.iscsi().await;
    client.get_iscsi_service(get_svm2()).await.unwrap_err();
    h.simulator.faults().clear();

    let probing = client.clone();
    tokio::time::timeout(
        GUARD,
        eventually_async("a probe is let through and answered", async || {
            probing.clone().get_iscsi_service(get_svm2()).await.is_ok()
        }),
    )
    .await
    .unwrap();

    client.get_iscsi_service(get_svm2()).await.expect("closed");
    assert_eq!(
        h.simulator.stats().requests,
        3,
        "the failure, the probe and the call after"
    );
}

#[tokio::test]
async fn an_open_circuit_names_the_refused_connection_behind_it() {
    let addr = closed_port().await;
    let mut config = ClientConfig::new(format!("http://{addr}"), "admin", "hunter2-secret");
    config.retry.max_retries = 0;
    config.breaker = BreakerConfig {
        failures_to_open: 3,
        open_for: Duration::from_secs(600),
    };
    let gateway = Gateway::start(config).await;
    for _ in 0..3 {
        let status = gateway
            .list_error(ListCifsConnectionsRequest::default())
            .await;
        assert_eq!(reason(&status), "UPSTREAM_UNREACHABLE");
    }

    let status = gateway
        .list_error(ListCifsConnectionsRequest::default())
        .await;

    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(reason(&status), "UPSTREAM_CIRCUIT_OPEN");
    assert_eq!(
        error_metadata(&status, "last_failure_reason").as_deref(),
        Some("UPSTREAM_UNREACHABLE")
    );
    let last = error_metadata(&status, "last_failure").unwrap_or_default();
    assert!(last.contains("Connection refused"), "{last}");
    assert!(
        status.message().contains("Connection refused"),
        "{}",
        status.message()
    );
    assert!(!format!("{status:?}").contains("hunter2-secret"));
}
