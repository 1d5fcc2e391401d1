//! One gateway in front of several clusters (`serve --config FILE`): a call
//! picks one with `x-ontap-cluster` metadata, goes to the only one when it
//! names none, and each cluster keeps its own client, pollers and health.

use std::sync::Arc;
use std::time::Duration;

use crate::common::{
    Gateway, bad_fields, client_config, error_metadata, eventually_async, next_message, reason,
    simulator_with, with_metadata,
};
use ontap_grpc_gateway::proto::v1::{ListCifsConnectionsRequest, WatchCifsConnectionsRequest};
use ontap_grpc_gateway::server::ServeOptions;
use ontap_grpc_gateway::watch::Watches;
use ontap_simulator::{Cluster, Simulator, SimulatorConfig};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

fn list() -> ListCifsConnectionsRequest {
    ListCifsConnectionsRequest {
        page_size: 5,
        ..Default::default()
    }
}

async fn two_simulators() -> (Simulator, Simulator) {
    (
        simulator_with(Cluster::seed()).await,
        simulator_with(Cluster::seed()).await,
    )
}

async fn fronting(east: &Simulator, west: &Simulator, options: ServeOptions) -> Gateway {
    Gateway::start_fronting(
        vec![("east", client_config(east)), ("west", client_config(west))],
        options,
    )
    .await
}

#[tokio::test]
async fn x_ontap_cluster_picks_the_cluster_a_call_goes_to() {
    let (east, west) = two_simulators().await;
    let gateway = fronting(&east, &west, ServeOptions::default()).await;
    let mut cifs = gateway.cifs().await;

    for _ in 0..3 {
        let request = with_metadata(list(), "x-ontap-cluster", "west");
        cifs.list_cifs_connections(request).await.unwrap();
    }
    let request = with_metadata(list(), "x-ontap-cluster", "east");
    cifs.list_cifs_connections(request).await.unwrap();

    assert_eq!(west.stats().requests, 3);
    assert_eq!(east.stats().requests, 1);
    let metrics = gateway.upstream.client.metrics().render(0, 0);
    for counted in [
        r#"ontap_gateway_upstream_requests_total{cluster="west",method="GET",endpoint="/api/protocols/cifs/connections",status="200"} 3"#,
        r#"ontap_gateway_upstream_requests_total{cluster="east",method="GET",endpoint="/api/protocols/cifs/connections",status="200"} 1"#,
    ] {
        assert!(metrics.contains(counted), "{counted} in {metrics}");
    }
}

#[tokio::test]
async fn an_unknown_cluster_is_not_found_and_named() {
    let (east, west) = two_simulators().await;
    let gateway = fronting(&east, &west, ServeOptions::default()).await;
    let request = with_metadata(list(), "x-ontap-cluster", "north");
    let status = gateway.list_error(request).await;
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(reason(&status), "CLUSTER_UNKNOWN");
    assert_eq!(error_metadata(&status, "cluster").as_deref(), Some("north"));
    assert!(
        status.message().contains("`east`, `west`"),
        "{}",
        status.message()
    );
    assert_eq!(east.stats().requests + west.stats().requests, 0);
}

#[tokio::test]
async fn a_page_token_from_one_cluster_is_refused_on_another_before_anything_goes_upstream() {
    let (east, west) = two_simulators().await;
    let gateway = fronting(&east, &west, ServeOptions::default()).await;
    let mut cifs = gateway.cifs().await;
    let first = cifs
        .list_cifs_connections(with_metadata(list(), "x-ontap-cluster", "east"))
        .await
        .unwrap()
        .into_inner();
    assert!(!first.next_page_token.is_empty());

    let next = ListCifsConnectionsRequest {
        page_token: first.next_page_token,
        ..list()
    };
    let status = gateway
        .list_error(with_metadata(next, "x-ontap-cluster", "west"))
        .await;

    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["page_token"]);
    assert!(
        status.message().contains("another cluster"),
        "{}",
        status.message()
    );
    assert_eq!(west.stats().requests, 0);
}

#[tokio::test]
async fn with_several_clusters_a_call_that_names_none_is_told_to() {
    let (east, west) = two_simulators().await;
    let gateway = fronting(&east, &west, ServeOptions::default()).await;
    let status = gateway.list_error(list()).await;
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(reason(&status), "CLUSTER_NOT_CHOSEN");
    assert!(status.message().contains("x-ontap-cluster"));
}

#[tokio::test]
async fn the_only_cluster_takes_calls_that_name_none_or_name_it() {
    let east = simulator_with(Cluster::seed()).await;
    let gateway = Gateway::start(client_config(&east)).await;
    let mut cifs = gateway.cifs().await;
    cifs.list_cifs_connections(list()).await.unwrap();
    let named = with_metadata(list(), "x-ontap-cluster", "default");
    cifs.list_cifs_connections(named).await.unwrap();
    assert_eq!(east.stats().requests, 2);
}

#[tokio::test]
async fn the_same_watch_on_two_clusters_polls_each() {
    let (east, west) = two_simulators().await;
    let watches = Arc::new(Watches::default());
    let options = ServeOptions {
        watches: Arc::clone(&watches),
        ..ServeOptions::default()
    };
    let gateway = fronting(&east, &west, options).await;
    let mut cifs = gateway.cifs().await;
    let mut streams = Vec::new();
    for cluster in ["east", "west", "west"] {
        let request = with_metadata(
            WatchCifsConnectionsRequest {
                svm_name: "vs1".into(),
                ..Default::default()
            },
            "x-ontap-cluster",
            cluster,
        );
        let mut stream = cifs
            .watch_cifs_connections(request)
            .await
            .unwrap()
            .into_inner();
        next_message(&mut stream).await;
        streams.push(stream);
    }
    assert_eq!(watches.live().pollers(), 2, "one poller per cluster");
    assert!(east.stats().requests >= 1);
    assert!(west.stats().requests >= 1);
}

async fn health_of(gateway: &Gateway, service: &str) -> ServingStatus {
    let mut health = HealthClient::new(gateway.channel().await);
    let answer = health
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .unwrap();
    answer.into_inner().status()
}

#[tokio::test]
async fn health_serves_while_any_cluster_answers_and_names_each() {
    let (east, west) = two_simulators().await;
    let options = ServeOptions {
        cluster_probe: Some(Duration::from_millis(50)),
        ..ServeOptions::default()
    };
    let gateway = fronting(&east, &west, options).await;
    eventually_async("both clusters answer", async || {
        health_of(&gateway, "cluster/west").await == ServingStatus::Serving
            && health_of(&gateway, "cluster/east").await == ServingStatus::Serving
    })
    .await;

    let west_addr = west.local_addr();
    west.shutdown().await;
    eventually_async("west stops answering", async || {
        health_of(&gateway, "cluster/west").await == ServingStatus::NotServing
    })
    .await;
    assert_eq!(
        health_of(&gateway, "cluster/east").await,
        ServingStatus::Serving
    );
    assert_eq!(health_of(&gateway, "").await, ServingStatus::Serving);
    assert_eq!(
        health_of(&gateway, "ontap.v1.CifsConnections").await,
        ServingStatus::Serving
    );

    let config = SimulatorConfig {
        listen: west_addr,
        ..SimulatorConfig::default()
    };
    let _west = Simulator::start(config, Cluster::seed()).await.unwrap();
    eventually_async("west answers again once restarted", async || {
        health_of(&gateway, "cluster/west").await == ServingStatus::Serving
    })
    .await;
}

#[tokio::test]
async fn liveness_serves_whatever_the_clusters_do() {
    let east = simulator_with(Cluster::seed()).await;
    let options = ServeOptions {
        cluster_probe: Some(Duration::from_millis(50)),
        ..ServeOptions::default()
    };
    let gateway = Gateway::start_with_options(client_config(&east), options).await;
    east.shutdown().await;
    eventually_async("the cluster stops answering", async || {
        health_of(&gateway, "").await == ServingStatus::NotServing
    })
    .await;
    assert_eq!(
        health_of(&gateway, "liveness").await,
        ServingStatus::Serving
    );
}
