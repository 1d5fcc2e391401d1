//! Identical reads in flight at the same time share one upstream request:
//! what ONTAP serves is the number of distinct reads, not of callers. The
//! simulator holds requests until the test releases them, so every caller
//! has joined before the shared read answers.

use std::time::Duration;

use crate::common::{
    GUARD, Harness, SVM2_UUID, eventually, eventually_within, mask, reason, set_enabled,
    with_deadline,
};
use ontap_grpc_gateway::ontap::Coalescing;
use ontap_grpc_gateway::proto::v1::{GetIscsiServiceRequest, ListCifsConnectionsRequest};
use ontap_simulator::{Cluster, Fault, FaultKind};
use tonic::Code;

fn list(page_size: i32) -> ListCifsConnectionsRequest {
    ListCifsConnectionsRequest {
        page_size,
        ..Default::default()
    }
}

fn get_svm2() -> GetIscsiServiceRequest {
    GetIscsiServiceRequest {
        svm_uuid: SVM2_UUID.into(),
        read_mask: mask(&["target.name"]),
    }
}

/// Holds every upstream request until the faults are cleared.
/// The time a DEADLINE_EXCEEDED message says ONTAP was given ("did not
/// answer within 201.5ms, ...", a `Duration`'s Debug form).
fn stated_budget(message: &str) -> Duration {
    let stated = message
        .split_once("within ")
        .and_then(|(_, rest)| rest.split(',').next())
        .unwrap_or_else(|| panic!("no budget in {message:?}"));
    let split = stated
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(stated.len());
    let (number, unit) = stated.split_at(split);
    let seconds_per_unit = match unit {
        "s" => 1.0,
        "ms" => 1e-3,
        "µs" => 1e-6,
        "ns" => 1e-9,
        other => panic!("unit {other:?} in {message:?}"),
    };
    Duration::from_secs_f64(number.parse::<f64>().unwrap() * seconds_per_unit)
}

fn hold(h: &Harness) {
    h.simulator.faults().push(Fault::always(FaultKind::Hold));
}

/// Waits until the gateway has `flights` shared reads with `callers` in all.
async fn in_flight(h: &Harness, flights: usize, callers: usize) {
    let expected = Coalescing { flights, callers };
    eventually_within(GUARD, &format!("{expected:?}"), || {
        h.gateway.upstream.client.coalescing() == expected
    })
    .await;
}

#[tokio::test]
async fn identical_concurrent_reads_share_one_upstream_request() {
    let h = Harness::start().await;
    hold(&h);
    let client = h.cifs().await;
    let calls: Vec<_> = (0..100)
        .map(|_| {
            let mut client = client.clone();
            tokio::spawn(async move { client.list_cifs_connections(list(5)).await })
        })
        .collect();
    in_flight(&h, 1, 100).await;

    h.simulator.faults().clear();

    let mut pages = Vec::new();
    for call in calls {
        pages.push(
            call.await
                .unwrap()
                .expect("every caller is answered")
                .into_inner(),
        );
    }
    assert_eq!(pages[0].cifs_connections.len(), 5);
    assert!(pages.iter().all(|page| *page == pages[0]));
    assert_eq!(h.simulator.stats().requests, 1);
    assert_eq!(
        h.gateway.upstream.client.coalescing(),
        Coalescing {
            flights: 0,
            callers: 0
        }
    );
}

#[tokio::test]
async fn different_reads_each_go_upstream() {
    let h = Harness::start().await;
    hold(&h);
    let client = h.cifs().await;
    let calls: Vec<_> = [5, 6, 5, 6]
        .into_iter()
        .map(|size| {
            let mut client = client.clone();
            tokio::spawn(async move { client.list_cifs_connections(list(size)).await })
        })
        .collect();
    in_flight(&h, 2, 4).await;
    h.simulator.faults().clear();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(h.simulator.stats().requests, 2);
}

#[tokio::test]
async fn a_read_after_the_shared_one_answered_goes_upstream_again() {
    let h = Harness::start().await;
    let mut client = h.cifs().await;
    client.list_cifs_connections(list(5)).await.unwrap();
    client.list_cifs_connections(list(5)).await.unwrap();
    assert_eq!(h.simulator.stats().requests, 2, "nothing is cached");
}

#[tokio::test]
async fn an_upstream_error_reaches_every_caller_of_the_shared_read() {
    let h = Harness::start().await;
    hold(&h);
    h.simulator.faults().push(Fault::always(FaultKind::Error {
        status: 500,
        code: None,
        message: "busy".into(),
        target: None,
    }));
    let client = h.iscsi().await;
    let calls: Vec<_> = (0..3)
        .map(|_| {
            let mut client = client.clone();
            tokio::spawn(async move { client.get_iscsi_service(get_svm2()).await })
        })
        .collect();
    in_flight(&h, 1, 3).await;
    h.simulator.faults().release();
    for call in calls {
        let status = call.await.unwrap().unwrap_err();
        assert_eq!(status.code(), Code::Internal, "{status:?}");
    }
    assert_eq!(h.simulator.stats().requests, 1);
}

#[tokio::test]
async fn a_caller_whose_deadline_passes_leaves_the_read_to_the_others() {
    let h = Harness::start().await;
    hold(&h);
    let mut patient = h.iscsi().await;
    let waiting = tokio::spawn(async move { patient.get_iscsi_service(get_svm2()).await });
    in_flight(&h, 1, 1).await;
    eventually_within(GUARD, "the shared read reached ONTAP", || {
        h.simulator.stats().requests == 1
    })
    .await;

    let status = h
        .iscsi()
        .await
        .get_iscsi_service(with_deadline(get_svm2(), Duration::from_secs(2)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded);
    assert_eq!(reason(&status), "UPSTREAM_TIMEOUT", "the read was sent");
    // The read went out before this caller came: the time ONTAP is said to
    // have had runs from then to the caller's deadline, about 2 s (a second
    // of margin for a loaded machine's scheduling).
    assert!(
        stated_budget(status.message()) >= Duration::from_secs(1),
        "{}",
        status.message()
    );

    h.simulator.faults().clear();
    let service = waiting
        .await
        .unwrap()
        .expect("the other caller is answered");
    assert!(service.into_inner().target.is_some());
    assert_eq!(h.simulator.stats().requests, 1);
    assert_eq!(h.simulator.stats().aborted_requests, 0);
}

#[tokio::test]
async fn a_caller_whose_deadline_passes_while_the_shared_read_waits_for_a_slot_was_never_sent() {
    let h = Harness::start_with(Cluster::seed(), |c| c.max_in_flight = 1).await;
    hold(&h);
    let mut hog = h.cifs().await;
    let hogging = tokio::spawn(async move { hog.list_cifs_connections(list(5)).await });
    eventually("the first read holds the only slot", || {
        h.simulator.stats().in_flight == 1
    })
    .await;
    let mut patient = h.iscsi().await;
    let waiting = tokio::spawn(async move { patient.get_iscsi_service(get_svm2()).await });
    in_flight(&h, 2, 2).await;

    let status = h
        .iscsi()
        .await
        .get_iscsi_service(with_deadline(get_svm2(), Duration::from_millis(200)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded);
    assert_eq!(reason(&status), "QUEUED_PAST_DEADLINE");

    h.simulator.faults().clear();
    hogging.await.unwrap().unwrap();
    waiting.await.unwrap().expect("the queued read goes on");
    assert_eq!(h.simulator.stats().requests, 2);
}

#[tokio::test]
async fn writes_are_never_shared() {
    let h = Harness::start().await;
    hold(&h);
    let update = set_enabled(SVM2_UUID, true);
    let client = h.iscsi().await;
    let calls: Vec<_> = (0..2)
        .map(|_| {
            let mut client = client.clone();
            let update = update.clone();
            tokio::spawn(async move { client.update_iscsi_service(update).await })
        })
        .collect();
    eventually("both writes reach ONTAP", || {
        h.simulator.stats().in_flight == 2
    })
    .await;
    h.simulator.faults().clear();
    for call in calls {
        call.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn with_coalescing_off_every_read_goes_upstream() {
    let h = Harness::start_with(Cluster::seed(), |c| c.coalesce_reads = false).await;
    hold(&h);
    let client = h.cifs().await;
    let calls: Vec<_> = (0..3)
        .map(|_| {
            let mut client = client.clone();
            tokio::spawn(async move { client.list_cifs_connections(list(5)).await })
        })
        .collect();
    eventually("every read reaches ONTAP", || {
        h.simulator.stats().in_flight == 3
    })
    .await;
    h.simulator.faults().clear();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(h.simulator.stats().requests, 3);
}
