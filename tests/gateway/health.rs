//! grpc.health.v1 follows the cluster: NOT_SERVING until the gateway's
//! probe finds it answering, NOT_SERVING again while it fails, SERVING
//! once it is back, and NOT_SERVING as soon as the gateway shuts down.

use std::time::Duration;

use crate::common::{Gateway, client_config, next_message, simulator_with};
use ontap_grpc_gateway::server::ServeOptions;
use ontap_simulator::{Cluster, Fault, FaultKind, Simulator};
use tonic::Streaming;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

/// A gateway in front of `simulator` that probes it every 50 ms.
async fn probing_gateway(simulator: &Simulator) -> Gateway {
    let options = ServeOptions {
        cluster_probe: Some(Duration::from_millis(50)),
        drain_timeout: Duration::from_secs(1),
        ..ServeOptions::default()
    };
    Gateway::start_with_options(client_config(simulator), options).await
}

/// Health.Watch of `service`: its status now, then each change.
async fn watch(gateway: &Gateway, service: &str) -> Streaming<HealthCheckResponse> {
    HealthClient::new(gateway.channel().await)
        .watch(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// Reads `statuses` until one is `want`.
async fn until(statuses: &mut Streaming<HealthCheckResponse>, want: ServingStatus) {
    while next_message(statuses).await.status != want as i32 {}
}

/// A fault answering every probe with `status`.
fn cluster_answering(status: u16) -> Fault {
    Fault {
        path_prefix: Some("/api/cluster".into()),
        ..Fault::always(FaultKind::Error {
            status,
            code: None,
            message: "from the fault".into(),
            target: None,
        })
    }
}

#[tokio::test]
async fn health_is_serving_once_the_cluster_answers_the_probe() {
    let simulator = simulator_with(Cluster::seed()).await;
    let gateway = probing_gateway(&simulator).await;
    for service in ["", "ontap.v1.CifsConnections", "ontap.v1.IscsiServices"] {
        until(&mut watch(&gateway, service).await, ServingStatus::Serving).await;
    }
}

#[tokio::test]
async fn health_is_not_serving_while_the_cluster_fails_from_the_start() {
    let simulator = simulator_with(Cluster::seed()).await;
    simulator.faults().push(cluster_answering(503));
    let gateway = probing_gateway(&simulator).await;
    let mut statuses = watch(&gateway, "").await;
    crate::common::eventually("the probe has asked the cluster", || {
        crate::common::requests_to(&simulator, "/api/cluster") > 0
    })
    .await;
    let status = HealthClient::new(gateway.channel().await)
        .check(HealthCheckRequest::default())
        .await
        .unwrap()
        .into_inner()
        .status;
    assert_eq!(status, ServingStatus::NotServing as i32);
    simulator.faults().clear();
    until(&mut statuses, ServingStatus::Serving).await;
}

#[tokio::test]
async fn health_turns_not_serving_when_the_cluster_fails_and_back_when_it_recovers() {
    let simulator = simulator_with(Cluster::seed()).await;
    let gateway = probing_gateway(&simulator).await;
    let mut statuses = watch(&gateway, "ontap.v1.IscsiServices").await;
    until(&mut statuses, ServingStatus::Serving).await;
    simulator.faults().push(cluster_answering(503));
    until(&mut statuses, ServingStatus::NotServing).await;
    simulator.faults().clear();
    until(&mut statuses, ServingStatus::Serving).await;
}

#[tokio::test]
async fn shutdown_turns_health_not_serving_while_calls_drain() {
    let simulator = simulator_with(Cluster::seed()).await;
    let gateway = probing_gateway(&simulator).await;
    let mut statuses = watch(&gateway, "").await;
    until(&mut statuses, ServingStatus::Serving).await;
    // The watch is itself a call in flight: the gateway drains it, and
    // tells it first.
    let stopping = tokio::spawn(gateway.stop());
    until(&mut statuses, ServingStatus::NotServing).await;
    stopping.await.unwrap();
}

#[tokio::test]
async fn a_role_that_may_not_read_the_cluster_object_still_counts_as_answering() {
    crate::common::logs::logs();
    let simulator = simulator_with(Cluster::seed()).await;
    simulator.faults().push(cluster_answering(403));
    let gateway = probing_gateway(&simulator).await;
    until(&mut watch(&gateway, "").await, ServingStatus::Serving).await;
    let line = crate::common::logs::probe_answer(&simulator.base_url());
    assert!(line.contains("may not read /api/cluster"), "{line}");
}

#[tokio::test]
async fn a_failing_cluster_is_logged_once_however_many_probes_fail() {
    crate::common::logs::logs();
    let simulator = simulator_with(Cluster::seed()).await;
    // 500 is not retried, so each probe is one request.
    simulator.faults().push(cluster_answering(500));
    let _gateway = probing_gateway(&simulator).await;
    crate::common::eventually("three probes have failed", || {
        crate::common::requests_to(&simulator, "/api/cluster") >= 3
    })
    .await;
    let upstream = format!("upstream={}", simulator.base_url());
    let warnings = crate::common::logs::logged()
        .lines()
        .filter(|l| l.contains("health is NOT_SERVING") && l.contains(&upstream))
        .count();
    assert_eq!(warnings, 1);
}

#[tokio::test]
async fn shutdown_ends_server_streams_unavailable_instead_of_holding_the_drain() {
    let simulator = simulator_with(Cluster::seed()).await;
    let options = ServeOptions {
        // Far longer than the test's guard: only ending the stream lets the
        // gateway stop in time.
        drain_timeout: Duration::from_secs(3_600),
        ..ServeOptions::default()
    };
    let gateway = Gateway::start_with_options(client_config(&simulator), options).await;
    let request = ontap_grpc_gateway::proto::v1::WatchIscsiServiceMetricsRequest {
        svm_uuid: crate::common::SVM2_UUID.into(),
        poll_interval: Some(prost_types::Duration {
            seconds: 600,
            nanos: 0,
        }),
        // ONTAP's own samples: the first comes at once.
        source: ontap_grpc_gateway::proto::v1::WatchSource::OntapMetric as i32,
        ..Default::default()
    };
    let mut stream = gateway
        .iscsi()
        .await
        .watch_iscsi_service_metrics(request)
        .await
        .unwrap()
        .into_inner();
    next_message(&mut stream).await;
    let stopping = tokio::spawn(gateway.stop());
    let status = crate::common::final_status(&mut stream).await;
    assert_eq!(status.code(), tonic::Code::Unavailable);
    assert_eq!(crate::common::reason(&status), "GATEWAY_SHUTTING_DOWN");
    tokio::time::timeout(crate::common::GUARD, stopping)
        .await
        .expect("the gateway stops without waiting out the drain")
        .unwrap();
}
