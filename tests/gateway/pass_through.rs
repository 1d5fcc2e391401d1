//! Pass-through credentials (`--credentials pass-through`): each call
//! carries its caller's own `authorization: Basic` metadata to ONTAP, so
//! ONTAP's RBAC decides per caller and the gateway holds no secret. What
//! one identity read is never handed to another, whether a shared read or
//! a watch's poller.

use std::sync::Arc;
use std::time::Duration;

use crate::common::{
    GUARD, Gateway, SVM1_UUID, as_user, eventually_async, eventually_within, next_message, reason,
    simulator_with_accounts, svm_named,
};
use ontap_grpc_gateway::ontap::{ClientConfig, Coalescing};
use ontap_grpc_gateway::proto::v1::{
    CreateIscsiServiceRequest, IscsiService, ListCifsConnectionsRequest, ListIscsiServicesRequest,
    WatchCifsConnectionsRequest,
};
use ontap_grpc_gateway::server::ServeOptions;
use ontap_grpc_gateway::watch::Watches;
use ontap_simulator::{Fault, FaultKind, Role, Simulator};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const ALICE: (&str, &str) = ("alice", "alice-readonly-pw");
const BOB: (&str, &str) = ("bob", "bob-admin-pw");

async fn simulator() -> Simulator {
    simulator_with_accounts(&[
        (ALICE.0, ALICE.1, Role::Readonly),
        (BOB.0, BOB.1, Role::Admin),
    ])
    .await
}

async fn pass_through_gateway(simulator: &Simulator) -> (Gateway, Arc<Watches>) {
    let watches = Arc::new(Watches::default());
    let options = ServeOptions {
        watches: Arc::clone(&watches),
        ..ServeOptions::default()
    };
    let gateway =
        Gateway::start_with_options(ClientConfig::pass_through(simulator.base_url()), options)
            .await;
    (gateway, watches)
}

fn create_svm1() -> CreateIscsiServiceRequest {
    CreateIscsiServiceRequest {
        iscsi_service: Some(IscsiService {
            svm: svm_named("svm1"),
            ..Default::default()
        }),
    }
}

fn list_vs1() -> ListCifsConnectionsRequest {
    ListCifsConnectionsRequest {
        svm_name: "vs1".into(),
        page_size: 5,
        ..Default::default()
    }
}

#[tokio::test]
async fn the_health_probe_asks_without_credentials_and_takes_a_401_as_the_cluster_answering() {
    crate::common::logs::logs();
    let simulator = simulator().await;
    let options = ServeOptions {
        cluster_probe: Some(Duration::from_millis(50)),
        ..ServeOptions::default()
    };
    let gateway =
        Gateway::start_with_options(ClientConfig::pass_through(simulator.base_url()), options)
            .await;
    let mut health = HealthClient::new(gateway.channel().await);
    eventually_async("health is SERVING", async || {
        let answer = health.check(HealthCheckRequest::default()).await.unwrap();
        answer.into_inner().status() == ServingStatus::Serving
    })
    .await;
    let line = crate::common::logs::probe_answer(&simulator.base_url());
    assert!(line.contains("asked without credentials"), "{line}");
    assert!(line.contains("INFO"), "{line}");
}

#[tokio::test]
async fn ontaps_rbac_decides_per_caller() {
    let simulator = simulator().await;
    let (gateway, _) = pass_through_gateway(&simulator).await;
    let mut iscsi = gateway.iscsi().await;

    let listed = iscsi
        .list_iscsi_services(as_user(
            ListIscsiServicesRequest::default(),
            ALICE.0,
            ALICE.1,
        ))
        .await;
    assert!(listed.is_ok(), "a readonly user reads: {listed:?}");
    let refused = iscsi
        .create_iscsi_service(as_user(create_svm1(), ALICE.0, ALICE.1))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let created = iscsi
        .create_iscsi_service(as_user(create_svm1(), BOB.0, BOB.1))
        .await
        .expect("an admin user writes");
    let svm = created.into_inner().svm.unwrap();
    assert_eq!(svm.uuid.as_deref(), Some(SVM1_UUID));
}

#[tokio::test]
async fn a_call_without_basic_credentials_is_refused_before_anything_goes_upstream() {
    let simulator = simulator().await;
    let (gateway, _) = pass_through_gateway(&simulator).await;
    let mut cifs = gateway.cifs().await;

    let bare = cifs.list_cifs_connections(list_vs1()).await.unwrap_err();
    assert_eq!(bare.code(), Code::Unauthenticated);
    assert_eq!(reason(&bare), "CALLER_CREDENTIALS_MISSING");
    let mut bearer = tonic::Request::new(list_vs1());
    bearer
        .metadata_mut()
        .insert("authorization", "Bearer abc".parse().unwrap());
    let bearer = cifs.list_cifs_connections(bearer).await.unwrap_err();
    assert_eq!(bearer.code(), Code::Unauthenticated);
    assert!(bearer.message().contains("Basic"), "{}", bearer.message());
    assert_eq!(simulator.stats().requests, 0, "nothing reached ONTAP");
}

#[tokio::test]
async fn a_refused_password_is_the_callers_to_fix_and_never_opens_the_circuit() {
    let simulator = simulator().await;
    let (gateway, _) = pass_through_gateway(&simulator).await;
    let mut cifs = gateway.cifs().await;

    // More refusals than the breaker's default five failures in a row.
    for _ in 0..8 {
        let refused = cifs
            .list_cifs_connections(as_user(list_vs1(), ALICE.0, "wrong-password"))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::Unauthenticated);
        assert_eq!(reason(&refused), "CALLER_CREDENTIALS_REJECTED");
        assert!(!refused.message().contains("wrong-password"));
    }
    let answered = cifs
        .list_cifs_connections(as_user(list_vs1(), BOB.0, BOB.1))
        .await;
    assert!(
        answered.is_ok(),
        "another caller still gets through: {answered:?}"
    );
}

#[tokio::test]
async fn identical_reads_are_shared_only_among_the_same_credentials() {
    let simulator = simulator().await;
    let (gateway, _) = pass_through_gateway(&simulator).await;
    simulator.faults().push(Fault::always(FaultKind::Hold));
    let client = gateway.cifs().await;
    let calls: Vec<_> = [ALICE, ALICE, ALICE, BOB, BOB]
        .into_iter()
        .map(|(user, password)| {
            let mut client = client.clone();
            tokio::spawn(async move {
                client
                    .list_cifs_connections(as_user(list_vs1(), user, password))
                    .await
            })
        })
        .collect();
    let expected = Coalescing {
        flights: 2,
        callers: 5,
    };
    eventually_within(GUARD, "one shared read per identity", || {
        gateway.upstream.client.coalescing() == expected
    })
    .await;
    simulator.faults().clear();
    for call in calls {
        assert!(call.await.unwrap().is_ok());
    }
}

#[tokio::test]
async fn watchers_with_different_credentials_get_pollers_of_their_own() {
    let simulator = simulator().await;
    let (gateway, watches) = pass_through_gateway(&simulator).await;
    let mut cifs = gateway.cifs().await;
    let watch = || WatchCifsConnectionsRequest {
        svm_name: "vs1".into(),
        ..Default::default()
    };
    let mut streams = Vec::new();
    for (user, password) in [ALICE, ALICE, BOB] {
        let mut stream = cifs
            .watch_cifs_connections(as_user(watch(), user, password))
            .await
            .expect("the watch opens")
            .into_inner();
        next_message(&mut stream).await;
        streams.push(stream);
    }
    assert_eq!(watches.live().watchers(), 3);
    assert_eq!(
        watches.live().pollers(),
        2,
        "alice's two watches share one poller"
    );
}
