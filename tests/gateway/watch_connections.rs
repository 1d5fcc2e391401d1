//! WatchCifsConnections through the real gateway onto the simulator: the
//! current list as ADDED and one SYNCED, then ADDED, REMOVED and MODIFIED as
//! connections come, go and change, from one shared poller.

use crate::common::{
    NODE1_UUID, VS1_UUID, bad_fields, eventually, failing_every_try, final_status, next_message,
    requests_to, simulator_with, watching_gateway,
};
use ontap_grpc_gateway::proto::v1::cifs_connections_client::CifsConnectionsClient;
use ontap_grpc_gateway::proto::v1::{
    CifsConnectionEventType as Event, WatchCifsConnectionsRequest, WatchCifsConnectionsResponse,
};
use ontap_simulator::{CifsConnection, Cluster, Fault, FaultKind};
use tonic::Code;
use tonic::transport::Channel;

const CONNECTIONS_PATH: &str = "/api/protocols/cifs/connections";

fn every_second() -> WatchCifsConnectionsRequest {
    WatchCifsConnectionsRequest {
        poll_interval: Some(prost_types::Duration {
            seconds: 1,
            nanos: 0,
        }),
        ..WatchCifsConnectionsRequest::default()
    }
}

fn kind(message: &WatchCifsConnectionsResponse) -> Event {
    Event::try_from(message.r#type).unwrap()
}

/// Opens a watch and reads its initial list: the identifiers it ADDED
/// before SYNCED.
async fn synced_watch(
    client: &mut CifsConnectionsClient<Channel>,
    request: WatchCifsConnectionsRequest,
) -> (tonic::Streaming<WatchCifsConnectionsResponse>, Vec<u32>) {
    let mut stream = client
        .watch_cifs_connections(request)
        .await
        .unwrap()
        .into_inner();
    let mut added = Vec::new();
    loop {
        let message = next_message(&mut stream).await;
        match kind(&message) {
            Event::Added => added.push(message.cifs_connection.unwrap().identifier.unwrap()),
            Event::Synced => return (stream, added),
            other => panic!("{other:?} before SYNCED"),
        }
    }
}

/// A connection on node 1 of `vs1` that the seed does not have.
fn new_connection(identifier: u32) -> CifsConnection {
    CifsConnection {
        node_uuid: NODE1_UUID.into(),
        svm_uuid: VS1_UUID.into(),
        identifier,
        network_context_id: 1,
        client_ip: "10.74.9.9".into(),
        client_port: 40_000,
        server_ip: "10.140.70.197".into(),
        session_ids: vec![77],
    }
}

#[tokio::test]
async fn the_current_connections_come_first_as_added_then_synced() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (gateway, _) = watching_gateway(&simulator).await;
    let (_stream, added) = synced_watch(&mut gateway.cifs().await, every_second()).await;
    let mut expected: Vec<u32> = simulator
        .cluster()
        .with(|c| c.cifs_connections.iter().map(|c| c.identifier).collect());
    let mut added = added;
    added.sort_unstable();
    expected.sort_unstable();
    assert_eq!(added, expected);
}

#[tokio::test]
async fn a_new_connection_is_added_and_a_closed_one_removed() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (gateway, _) = watching_gateway(&simulator).await;
    let (mut stream, _) = synced_watch(&mut gateway.cifs().await, every_second()).await;

    simulator
        .cluster()
        .add_cifs_connection(new_connection(5_000));
    let added = next_message(&mut stream).await;
    assert_eq!(kind(&added), Event::Added);
    let connection = added.cifs_connection.unwrap();
    assert_eq!(connection.identifier, Some(5_000));
    assert_eq!(connection.client_ip.as_deref(), Some("10.74.9.9"));

    simulator
        .cluster()
        .remove_cifs_connections(|c| c.identifier == 5_000);
    let removed = next_message(&mut stream).await;
    assert_eq!(kind(&removed), Event::Removed);
    assert_eq!(removed.cifs_connection.unwrap().identifier, Some(5_000));
}

#[tokio::test]
async fn a_failing_upstream_is_reported_and_the_watch_goes_on() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (gateway, _) = watching_gateway(&simulator).await;
    let (mut stream, _) = synced_watch(&mut gateway.cifs().await, every_second()).await;
    simulator
        .faults()
        .push(failing_every_try(503, "ONTAP is restarting"));

    let failed = next_message(&mut stream).await;
    assert_eq!(kind(&failed), Event::Unspecified, "no connection changed");
    assert!(failed.cifs_connection.is_none());
    let failure = failed.poll_failure.expect("the failure is reported");
    assert_eq!(failure.code, Code::Unavailable as i32);
    assert_eq!(failure.consecutive_failures, 1);

    simulator
        .cluster()
        .add_cifs_connection(new_connection(5_001));
    let added = next_message(&mut stream).await;
    assert_eq!(kind(&added), Event::Added);
    assert!(added.poll_failure.is_none());
}

#[tokio::test]
async fn a_refusal_polling_cannot_cure_ends_the_watch_with_its_status() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (gateway, watches) = watching_gateway(&simulator).await;
    let (mut stream, _) = synced_watch(&mut gateway.cifs().await, every_second()).await;
    simulator.faults().push(Fault::always(FaultKind::Error {
        status: 403,
        code: None,
        message: "not allowed".into(),
        target: None,
    }));

    let status = final_status(&mut stream).await;

    assert_eq!(status.code(), Code::PermissionDenied);
    eventually("the poller stops", || watches.live().pollers() == 0).await;
}

#[tokio::test]
async fn a_connection_whose_sessions_change_is_modified() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (gateway, _) = watching_gateway(&simulator).await;
    let (mut stream, _) = synced_watch(&mut gateway.cifs().await, every_second()).await;

    let identifier = simulator.cluster().with(|c| {
        let connection = &mut c.cifs_connections[0];
        connection.session_ids.push(4_242);
        connection.identifier
    });

    let modified = next_message(&mut stream).await;
    assert_eq!(kind(&modified), Event::Modified);
    let connection = modified.cifs_connection.unwrap();
    assert_eq!(connection.identifier, Some(identifier));
    assert!(
        connection
            .sessions
            .iter()
            .any(|s| s.identifier == Some(4_242))
    );
}

#[tokio::test]
async fn watches_of_the_same_filter_with_other_values_poll_separately() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (gateway, watches) = watching_gateway(&simulator).await;
    let mut client = gateway.cifs().await;
    let one = WatchCifsConnectionsRequest {
        identifier: "91842".into(),
        ..every_second()
    };
    let none = WatchCifsConnectionsRequest {
        identifier: "1".into(),
        ..every_second()
    };
    let (_one, listed_one) = synced_watch(&mut client, one).await;
    let (_none, listed_none) = synced_watch(&mut client, none).await;
    assert_eq!(listed_one, [91_842]);
    assert_eq!(listed_none, Vec::<u32>::new());
    assert_eq!(watches.live().pollers(), 2);
}

#[tokio::test]
async fn the_watch_sees_only_what_its_filters_match() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (gateway, _) = watching_gateway(&simulator).await;
    let request = WatchCifsConnectionsRequest {
        identifier: "91842".into(),
        node_uuid: NODE1_UUID.into(),
        ..every_second()
    };
    let (mut stream, added) = synced_watch(&mut gateway.cifs().await, request).await;
    assert_eq!(added, [91_842]);

    simulator
        .cluster()
        .add_cifs_connection(new_connection(5_001));
    simulator.cluster().with(|c| {
        let seed = c
            .cifs_connections
            .iter_mut()
            .find(|c| c.identifier == 91_842)
            .unwrap();
        seed.session_ids.push(4_243);
    });
    let next = next_message(&mut stream).await;
    assert_eq!(
        kind(&next),
        Event::Modified,
        "the new connection does not match"
    );
}

#[tokio::test]
async fn a_second_watcher_starts_from_the_current_list_of_the_same_poller() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (gateway, watches) = watching_gateway(&simulator).await;
    let mut client = gateway.cifs().await;
    let (_first, first_list) = synced_watch(&mut client, every_second()).await;
    let (_second, second_list) = synced_watch(&mut client, every_second()).await;
    assert_eq!(second_list.len(), first_list.len());
    assert_eq!(
        (watches.live().pollers(), watches.live().watchers()),
        (1, 2)
    );
}

#[tokio::test]
async fn a_set_larger_than_a_page_is_listed_page_by_page() {
    let simulator = simulator_with(Cluster::seed()).await;
    simulator.cluster().with(|c| {
        for identifier in 0..1_500 {
            c.cifs_connections
                .push(new_connection(1_000_000 + identifier));
        }
    });
    let (gateway, _) = watching_gateway(&simulator).await;
    let request = WatchCifsConnectionsRequest {
        poll_interval: Some(prost_types::Duration {
            seconds: 600,
            nanos: 0,
        }),
        ..WatchCifsConnectionsRequest::default()
    };
    let (_stream, added) = synced_watch(&mut gateway.cifs().await, request).await;
    assert_eq!(added.len(), 1_540);
    // 1,540 connections (the seed's 40 and 1,500 more) at 1,000 a page.
    assert_eq!(requests_to(&simulator, CONNECTIONS_PATH), 2);
}

#[tokio::test]
async fn an_invalid_filter_or_interval_is_refused_before_anything_goes_upstream() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (gateway, _) = watching_gateway(&simulator).await;
    let mut client = gateway.cifs().await;
    for (request, field) in [
        (
            WatchCifsConnectionsRequest {
                client_port: "a lot".into(),
                ..every_second()
            },
            "client_port",
        ),
        (
            WatchCifsConnectionsRequest {
                poll_interval: Some(prost_types::Duration {
                    seconds: 601,
                    nanos: 0,
                }),
                ..WatchCifsConnectionsRequest::default()
            },
            "poll_interval",
        ),
    ] {
        let status = client.watch_cifs_connections(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{field}");
        assert_eq!(bad_fields(&status), [field]);
    }
    assert_eq!(simulator.stats().requests, 0);
}
