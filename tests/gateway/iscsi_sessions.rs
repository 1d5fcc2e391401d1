//! IscsiSessions through the real gateway onto the real simulator: listing
//! with filters on nested array members, reading one session by its SVM,
//! portal group and TSIH, streaming, and the sessions ending when their
//! SVM's iSCSI service is disabled. Expected records are computed from the
//! simulator's own model.

use std::collections::{BTreeMap, BTreeSet};

use crate::common::{
    self, Harness, SVM2_UUID, SVM3_UUID, error_metadata, mask, next_message, poll_every_second,
    reason, set_enabled,
};
use ontap_grpc_gateway::proto::v1::{
    GetIscsiSessionRequest, IgroupRef, IpEndpoint, IscsiAuthenticationType, IscsiConnection,
    IscsiInitiator, IscsiInterface, IscsiSession, IscsiSessionEventType as Event,
    ListIscsiSessionsRequest, StreamIscsiSessionsRequest, SvmRef, WatchIscsiSessionsRequest,
    WatchIscsiSessionsResponse,
};
use ontap_simulator::{Cluster, ISCSI_PORT, IscsiSession as SimSession};
use tonic::Code;

/// SVM UUID, target portal group, TSIH: what names a session.
type Key = (String, String, u32);

fn key_of(session: &IscsiSession) -> Key {
    (
        session
            .svm
            .as_ref()
            .and_then(|s| s.uuid.clone())
            .unwrap_or_default(),
        session.target_portal_group.clone().unwrap_or_default(),
        session.tsih.unwrap_or_default(),
    )
}

fn model_key(session: &SimSession) -> Key {
    (
        session.svm_uuid.clone(),
        session.target_portal_group.clone(),
        u32::from(session.tsih),
    )
}

/// The keys of the sessions the simulator serves that satisfy `pred`.
fn expected(h: &Harness, pred: impl Fn(&SimSession) -> bool) -> BTreeSet<Key> {
    h.simulator.cluster().with(|cluster| {
        cluster
            .served_iscsi_sessions()
            .filter(|s| pred(s))
            .map(model_key)
            .collect()
    })
}

fn endpoint(address: &str, port: u16) -> Option<IpEndpoint> {
    Some(IpEndpoint {
        address: Some(address.to_owned()),
        port: Some(u32::from(port)),
    })
}

/// The session the simulator holds, as the gateway should serve it with
/// every field.
fn as_served(cluster: &Cluster, session: &SimSession) -> IscsiSession {
    let svm_name = cluster
        .svms
        .iter()
        .find(|s| s.uuid == session.svm_uuid)
        .map(|s| s.name.clone());
    IscsiSession {
        svm: Some(SvmRef {
            uuid: Some(session.svm_uuid.clone()),
            name: svm_name,
        }),
        target_portal_group: Some(session.target_portal_group.clone()),
        target_portal_group_tag: Some(session.target_portal_group_tag),
        tsih: Some(u32::from(session.tsih)),
        isid: Some(session.isid.clone()),
        initiator: Some(IscsiInitiator {
            name: Some(session.initiator.name.clone()),
            alias: session.initiator.alias.clone(),
            comment: session.initiator.comment.clone(),
        }),
        igroups: session
            .igroups
            .iter()
            .map(|g| IgroupRef {
                name: Some(g.name.clone()),
                uuid: Some(g.uuid.clone()),
            })
            .collect(),
        connections: session
            .connections
            .iter()
            .map(|c| {
                let name = format!(
                    "ISCSI_AUTHENTICATION_TYPE_{}",
                    c.authentication_type.as_str().to_ascii_uppercase()
                );
                let authentication = IscsiAuthenticationType::from_str_name(&name)
                    .unwrap_or_else(|| panic!("{name} is in the contract"));
                IscsiConnection {
                    cid: Some(u32::from(c.cid)),
                    authentication_type: Some(authentication.into()),
                    initiator_address: endpoint(&c.initiator_address, c.initiator_port),
                    interface: Some(IscsiInterface {
                        name: Some(c.interface.name.clone()),
                        uuid: Some(c.interface.uuid.clone()),
                        ip: endpoint(&c.interface.address, ISCSI_PORT),
                    }),
                }
            })
            .collect(),
    }
}

/// Every session the simulator serves, as served, by key.
fn served(h: &Harness) -> BTreeMap<Key, IscsiSession> {
    h.simulator.cluster().with(|cluster| {
        cluster
            .served_iscsi_sessions()
            .map(|s| (model_key(s), as_served(cluster, s)))
            .collect()
    })
}

/// Every session the gateway returns for `request`, following page tokens.
async fn list_all(h: &Harness, request: ListIscsiSessionsRequest) -> Vec<IscsiSession> {
    let client = h.iscsi_sessions().await;
    common::list_all(request, |r| {
        let mut client = client.clone();
        async move { client.list_iscsi_sessions(r).await }
    })
    .await
}

async fn keys(h: &Harness, request: ListIscsiSessionsRequest) -> BTreeSet<Key> {
    list_all(h, request).await.iter().map(key_of).collect()
}

/// The seed with `total` iSCSI sessions, behind a gateway.
async fn with_sessions(total: usize) -> Harness {
    let mut cluster = Cluster::seed();
    cluster
        .resize_iscsi_sessions(total)
        .expect("the seed grows");
    Harness::start_with(cluster, |_| {}).await
}

fn get(svm_uuid: &str, target_portal_group: &str, tsih: u32) -> GetIscsiSessionRequest {
    GetIscsiSessionRequest {
        svm_uuid: svm_uuid.into(),
        target_portal_group: target_portal_group.into(),
        tsih,
        read_mask: None,
    }
}

async fn get_error(h: &Harness, request: GetIscsiSessionRequest) -> tonic::Status {
    h.iscsi_sessions()
        .await
        .get_iscsi_session(request)
        .await
        .unwrap_err()
}

/// Disables `svm2`'s iSCSI service through the gateway.
async fn disable_svm2_iscsi(h: &Harness) {
    let service = h
        .iscsi()
        .await
        .update_iscsi_service(set_enabled(SVM2_UUID, false))
        .await
        .expect("the service is disabled")
        .into_inner();
    assert_eq!(service.enabled, Some(false));
}

// List.

#[tokio::test]
async fn list_returns_every_session_with_every_field_the_simulator_holds() {
    let h = Harness::start().await;
    let listed = list_all(&h, ListIscsiSessionsRequest::default()).await;
    let served = served(&h);
    assert_eq!(listed.len(), served.len());
    for session in &listed {
        assert_eq!(Some(session), served.get(&key_of(session)));
    }
    let whole = listed.iter().find(|s| {
        let initiator = s.initiator.as_ref().unwrap();
        initiator.alias.is_some() && initiator.comment.is_some() && !s.igroups.is_empty()
    });
    assert!(whole.is_some(), "one session has every field: {listed:?}");
}

#[tokio::test]
async fn filter_on_a_connections_interface_name_matches_a_session_through_any_of_them() {
    let h = Harness::start().await;
    let got = keys(
        &h,
        ListIscsiSessionsRequest {
            connections_interface_name: "svm2_iscsi_lif2".into(),
            ..Default::default()
        },
    )
    .await;
    let want = expected(&h, |s| {
        s.connections
            .iter()
            .any(|c| c.interface.name == "svm2_iscsi_lif2")
    });
    assert!(!want.is_empty() && want.len() < expected(&h, |_| true).len());
    assert_eq!(got, want);
}

#[tokio::test]
async fn filter_on_igroups_name_matches_a_session_in_any_of_them() {
    let h = Harness::start().await;
    let got = keys(
        &h,
        ListIscsiSessionsRequest {
            igroups_name: "backup_ig".into(),
            ..Default::default()
        },
    )
    .await;
    let want = expected(&h, |s| s.igroups.iter().any(|g| g.name == "backup_ig"));
    assert_eq!(want.len(), 1, "the Windows host, in two igroups");
    assert_eq!(got, want);
}

#[tokio::test]
async fn read_mask_returns_only_the_named_fields() {
    let h = Harness::start().await;
    let listed = list_all(
        &h,
        ListIscsiSessionsRequest {
            read_mask: mask(&["isid", "initiator.name"]),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(listed.len(), expected(&h, |_| true).len());
    for session in listed {
        let name = session.initiator.as_ref().and_then(|i| i.name.clone());
        assert!(session.isid.is_some() && name.is_some(), "{session:?}");
        assert_eq!(
            session,
            IscsiSession {
                isid: session.isid.clone(),
                initiator: Some(IscsiInitiator {
                    name,
                    ..Default::default()
                }),
                ..Default::default()
            },
            "the key fields ONTAP adds stay absent"
        );
    }
}

#[tokio::test]
async fn paging_visits_every_session_exactly_once() {
    let h = with_sessions(25).await;
    let all = list_all(
        &h,
        ListIscsiSessionsRequest {
            page_size: 4,
            ..Default::default()
        },
    )
    .await;
    let unique: BTreeSet<Key> = all.iter().map(key_of).collect();
    assert_eq!(all.len(), 25);
    assert_eq!(unique.len(), all.len(), "no session twice");
    assert_eq!(unique, expected(&h, |_| true), "none missing");
}

// Get.

#[tokio::test]
async fn get_by_svm_portal_group_and_tsih_returns_the_whole_record() {
    let h = Harness::start().await;
    let (key, wanted) = served(&h)
        .into_iter()
        .find(|(_, s)| s.connections.len() > 1)
        .expect("the seed has a session of two connections");
    let got = h
        .iscsi_sessions()
        .await
        .get_iscsi_session(get(&key.0, &key.1, key.2))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, wanted);
}

#[tokio::test]
async fn get_on_an_svm_that_does_not_exist_is_not_found_with_ontap_code_2621462() {
    let h = Harness::start().await;
    let status = get_error(
        &h,
        get(
            "00000000-0000-0000-0000-000000000000",
            "svm2_iscsi_lif1",
            10,
        ),
    )
    .await;
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert_eq!(reason(&status), "SVM_NOT_FOUND");
    assert_eq!(
        error_metadata(&status, "ontap_code").as_deref(),
        Some("2621462")
    );
}

#[tokio::test]
async fn get_of_an_unknown_tsih_on_a_known_svm_is_not_found_entry_not_found() {
    let h = Harness::start().await;
    assert!(expected(&h, |s| s.tsih == 999).is_empty());
    let status = get_error(&h, get(SVM2_UUID, "svm2_iscsi_lif1", 999)).await;
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert_eq!(reason(&status), "ENTRY_NOT_FOUND");
    assert_eq!(error_metadata(&status, "ontap_code").as_deref(), Some("4"));
}

// The service.

#[tokio::test]
async fn disabling_the_svms_iscsi_service_ends_its_sessions() {
    let h = Harness::start().await;
    let of_svm = |uuid: &str| ListIscsiSessionsRequest {
        svm_uuid: uuid.into(),
        ..Default::default()
    };
    assert!(!keys(&h, of_svm(SVM2_UUID)).await.is_empty());
    let of_svm3 = keys(&h, of_svm(SVM3_UUID)).await;
    assert_eq!(of_svm3.len(), 3);

    disable_svm2_iscsi(&h).await;

    assert_eq!(keys(&h, of_svm(SVM2_UUID)).await, BTreeSet::new());
    assert_eq!(
        keys(&h, of_svm(SVM3_UUID)).await,
        of_svm3,
        "another SVM's sessions stay"
    );
}

fn kind(message: &WatchIscsiSessionsResponse) -> Event {
    Event::try_from(message.r#type).unwrap()
}

#[tokio::test]
async fn a_watch_sees_each_session_removed_when_the_service_is_disabled() {
    let h = Harness::start().await;
    let mut stream = h
        .iscsi_sessions()
        .await
        .watch_iscsi_sessions(WatchIscsiSessionsRequest {
            svm_uuid: SVM2_UUID.into(),
            poll_interval: poll_every_second(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut added = BTreeSet::new();
    loop {
        let message = next_message(&mut stream).await;
        match kind(&message) {
            Event::Added => added.insert(key_of(&message.iscsi_session.unwrap())),
            Event::Synced => break,
            other => panic!("{other:?} before SYNCED: {message:?}"),
        };
    }
    assert_eq!(added, expected(&h, |s| s.svm_uuid == SVM2_UUID));
    assert!(!added.is_empty());

    disable_svm2_iscsi(&h).await;

    let mut removed = BTreeSet::new();
    while removed.len() < added.len() {
        let message = next_message(&mut stream).await;
        assert_eq!(kind(&message), Event::Removed, "{message:?}");
        removed.insert(key_of(&message.iscsi_session.unwrap()));
    }
    assert_eq!(removed, added);
}

// Stream.

#[tokio::test]
async fn stream_returns_every_session() {
    let h = with_sessions(1_200).await;
    let mut stream = h
        .iscsi_sessions()
        .await
        .stream_iscsi_sessions(StreamIscsiSessionsRequest::default())
        .await
        .expect("the stream opens")
        .into_inner();
    let mut pages = Vec::new();
    while let Some(message) = stream.message().await.expect("the stream ends cleanly") {
        pages.push(message.iscsi_sessions);
    }

    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [1_000, 200], "one message per upstream page");
    let streamed: Vec<Key> = pages.iter().flatten().map(key_of).collect();
    let distinct: BTreeSet<Key> = streamed.iter().cloned().collect();
    assert_eq!(distinct.len(), streamed.len(), "no session twice");
    assert_eq!(distinct, expected(&h, |_| true));
}
