//! CifsSessions through the real gateway onto the real simulator: listing
//! with ONTAP's filters, reading one session by its four keys, closing
//! sessions with ONTAP's wildcard zeros, streaming and watching. Expected
//! records are computed from the simulator's own model, with its clock
//! stopped where a duration is compared, so each test states the ONTAP
//! semantics it checks.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::common::{
    self, Harness, NODE1_UUID, NODE2_UUID, SVM1_UUID, VS1_UUID, bad_fields, error_metadata, mask,
    next_message, poll_every_second, reason, requests_to, simulator_status, with_metadata,
};
use ontap_grpc_gateway::proto::v1::{
    CifsSession, CifsSessionEventType as Event, DeleteCifsSessionRequest, GetCifsSessionRequest,
    ListCifsConnectionsRequest, ListCifsSessionsRequest, ListCifsSessionsResponse, NodeRef,
    SmbAuthentication, SmbContinuousAvailability, SmbEncryption, SmbProtocol,
    StreamCifsSessionsRequest, SvmRef, VolumeRef, WatchCifsSessionsRequest,
    WatchCifsSessionsResponse,
};
use ontap_simulator::{CifsSession as SimSession, Cluster};
use tonic::Code;

const SESSIONS: &str = "/api/protocols/cifs/sessions";
/// The seed's session whose identifier is above 2^63 - 1 (NetApp's own
/// example has one): the first of the two on connection 91869 of node 2.
const ABOVE_I64: u64 = 9_876_543_210_987_654_321;
/// The connection carrying [`ABOVE_I64`].
const ITS_CONNECTION: u32 = 91_869;

/// Node UUID, SVM UUID, identifier, connection: what names a session.
type Key = (String, String, u64, u32);

fn key_of(session: &CifsSession) -> Key {
    let uuid = |r: Option<&String>| r.cloned().unwrap_or_default();
    (
        uuid(session.node.as_ref().and_then(|n| n.uuid.as_ref())),
        uuid(session.svm.as_ref().and_then(|s| s.uuid.as_ref())),
        session.identifier.unwrap_or_default(),
        session.connection_id.unwrap_or_default(),
    )
}

fn model_key(session: &SimSession) -> Key {
    let key = &session.key;
    (
        key.node_uuid.clone(),
        key.svm_uuid.clone(),
        key.identifier,
        key.connection_id,
    )
}

/// The keys of the simulator's sessions that satisfy `pred`.
fn expected(h: &Harness, pred: impl Fn(&SimSession) -> bool) -> BTreeSet<Key> {
    h.simulator.cluster().with(|cluster| {
        cluster
            .cifs_sessions()
            .iter()
            .filter(|s| pred(s))
            .map(model_key)
            .collect()
    })
}

/// Stops the simulator's clock where it started, so every session's
/// `connected_duration` is the model's, exactly and for good.
fn stop_the_clock(h: &Harness) {
    h.simulator
        .cluster()
        .pin_clock(ontap_simulator::clock_start());
}

/// The proto value of an ONTAP enum word, by the proto's naming rule.
fn word<E: Into<i32>>(prefix: &str, word: &str, parse: fn(&str) -> Option<E>) -> Option<i32> {
    let name = format!("{prefix}_{}", word.to_ascii_uppercase());
    Some(
        parse(&name)
            .unwrap_or_else(|| panic!("{name} is in the contract"))
            .into(),
    )
}

fn seconds(duration: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: i64::try_from(duration.as_secs()).unwrap(),
        nanos: 0,
    }
}

/// The session the simulator holds, as the gateway should serve it with
/// every field, the clock stopped at its start ([`stop_the_clock`]).
fn as_served(cluster: &Cluster, session: &SimSession) -> CifsSession {
    let key = &session.key;
    let node_name = cluster
        .nodes
        .iter()
        .find(|n| n.uuid == key.node_uuid)
        .map(|n| n.name.clone());
    let svm_name = cluster
        .svms
        .iter()
        .find(|s| s.uuid == key.svm_uuid)
        .map(|s| s.name.clone());
    CifsSession {
        identifier: Some(key.identifier),
        node: Some(NodeRef {
            uuid: Some(key.node_uuid.clone()),
            name: node_name,
        }),
        svm: Some(SvmRef {
            uuid: Some(key.svm_uuid.clone()),
            name: svm_name,
        }),
        connection_id: Some(key.connection_id),
        server_ip: Some(session.server_ip.clone()),
        client_ip: Some(session.client_ip.clone()),
        authentication: word(
            "SMB_AUTHENTICATION",
            session.authentication.as_str(),
            SmbAuthentication::from_str_name,
        ),
        user: session.user.clone(),
        mapped_unix_user: Some(session.mapped_unix_user.clone()),
        protocol: word(
            "SMB_PROTOCOL",
            session.protocol.as_str(),
            SmbProtocol::from_str_name,
        ),
        continuous_availability: word(
            "SMB_CONTINUOUS_AVAILABILITY",
            session.continuous_availability.as_str(),
            SmbContinuousAvailability::from_str_name,
        ),
        smb_signing: Some(session.smb_signing),
        smb_encryption: word(
            "SMB_ENCRYPTION",
            session.smb_encryption.as_str(),
            SmbEncryption::from_str_name,
        ),
        large_mtu: Some(session.large_mtu),
        connected_duration: Some(seconds(session.connected_duration(Duration::ZERO))),
        idle_duration: Some(seconds(session.idle)),
        connection_count: Some(u64::from(session.connection_count)),
        open_files: Some(u64::from(session.open_files)),
        open_other: Some(u64::from(session.open_other)),
        open_shares: Some(u64::from(session.open_shares)),
        volumes: session
            .volumes
            .iter()
            .map(|v| VolumeRef {
                name: Some(v.name.clone()),
                uuid: Some(v.uuid.clone()),
            })
            .collect(),
    }
}

/// Every session of the simulator, as served, by key.
fn served(h: &Harness) -> BTreeMap<Key, CifsSession> {
    h.simulator.cluster().with(|cluster| {
        cluster
            .cifs_sessions()
            .iter()
            .map(|s| (model_key(s), as_served(cluster, s)))
            .collect()
    })
}

/// One page for `request`, which must succeed.
async fn one_page(h: &Harness, request: ListCifsSessionsRequest) -> ListCifsSessionsResponse {
    h.cifs_sessions()
        .await
        .list_cifs_sessions(request)
        .await
        .expect("list succeeds")
        .into_inner()
}

/// Every session the gateway returns for `request`, following page tokens.
async fn list_all(h: &Harness, request: ListCifsSessionsRequest) -> Vec<CifsSession> {
    let client = h.cifs_sessions().await;
    common::list_all(request, |r| {
        let mut client = client.clone();
        async move { client.list_cifs_sessions(r).await }
    })
    .await
}

async fn keys(h: &Harness, request: ListCifsSessionsRequest) -> BTreeSet<Key> {
    list_all(h, request).await.iter().map(key_of).collect()
}

/// Asserts `got` is `want`, a proper, non-empty part of every session: a
/// filter that matched nothing or everything would prove nothing.
fn assert_selects(h: &Harness, got: &BTreeSet<Key>, want: &BTreeSet<Key>) {
    assert!(!want.is_empty(), "the seed has a match");
    assert!(want.len() < expected(h, |_| true).len(), "and a non-match");
    assert_eq!(got, want);
}

fn get(key: (&str, &str, u64, u32)) -> GetCifsSessionRequest {
    let (node_uuid, svm_uuid, identifier, connection_id) = key;
    GetCifsSessionRequest {
        node_uuid: node_uuid.into(),
        svm_uuid: svm_uuid.into(),
        identifier,
        connection_id,
        read_mask: None,
    }
}

fn close(key: (&str, &str, u64, u32)) -> DeleteCifsSessionRequest {
    let (node_uuid, svm_uuid, identifier, connection_id) = key;
    DeleteCifsSessionRequest {
        node_uuid: node_uuid.into(),
        svm_uuid: svm_uuid.into(),
        identifier,
        connection_id,
    }
}

/// The session above 2^63.
fn above_i64() -> (&'static str, &'static str, u64, u32) {
    (NODE2_UUID, VS1_UUID, ABOVE_I64, ITS_CONNECTION)
}

fn above_i64_key() -> Key {
    (
        NODE2_UUID.into(),
        VS1_UUID.into(),
        ABOVE_I64,
        ITS_CONNECTION,
    )
}

async fn get_error(h: &Harness, request: GetCifsSessionRequest) -> tonic::Status {
    h.cifs_sessions()
        .await
        .get_cifs_session(request)
        .await
        .unwrap_err()
}

async fn close_sessions(h: &Harness, request: DeleteCifsSessionRequest) {
    h.cifs_sessions()
        .await
        .delete_cifs_session(request)
        .await
        .expect("the sessions close");
}

// List.

#[tokio::test]
async fn a_page_holds_page_size_sessions_each_with_every_field_the_simulator_holds() {
    let h = Harness::start().await;
    stop_the_clock(&h);
    let page = one_page(
        &h,
        ListCifsSessionsRequest {
            user: "CIFSLAB*".into(),
            open_shares: ">0".into(),
            page_size: 5,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(page.cifs_sessions.len(), 5);
    assert_eq!(page.num_records, 5);
    assert!(!page.next_page_token.is_empty());
    let served = served(&h);
    for session in &page.cifs_sessions {
        assert!(session.user.is_some() && !session.volumes.is_empty());
        assert_eq!(Some(session), served.get(&key_of(session)));
    }
}

#[tokio::test]
async fn paging_visits_every_session_exactly_once() {
    let h = Harness::start().await;
    let all = list_all(
        &h,
        ListCifsSessionsRequest {
            page_size: 7,
            ..Default::default()
        },
    )
    .await;
    let unique: BTreeSet<Key> = all.iter().map(key_of).collect();
    assert_eq!(unique.len(), all.len(), "no session twice");
    assert_eq!(unique, expected(&h, |_| true), "none missing");
    assert!(all.len() > 7, "more than one page");
}

#[tokio::test]
async fn filter_on_svm_name_matches_that_svms_sessions() {
    let h = Harness::start_with_connections_on_three_svms().await;
    let got = keys(
        &h,
        ListCifsSessionsRequest {
            svm_name: "svm1".into(),
            ..Default::default()
        },
    )
    .await;
    assert_selects(&h, &got, &expected(&h, |s| s.key.svm_uuid == SVM1_UUID));
}

/// ONTAP's own example (`protocol=smb3*`, and the contract's first
/// example of a filter): a pattern over the dialects, digits and all.
#[tokio::test]
async fn filter_on_protocol_takes_an_ontap_pattern() {
    let h = Harness::start().await;
    let direct = simulator_status(&h.simulator, &format!("{SESSIONS}?protocol=smb3*")).await;
    assert_eq!(direct, 200, "ONTAP takes the pattern");
    let got = keys(
        &h,
        ListCifsSessionsRequest {
            protocol: "smb3*".into(),
            ..Default::default()
        },
    )
    .await;
    let want = expected(&h, |s| s.protocol.as_str().starts_with("smb3"));
    assert_selects(&h, &got, &want);
}

#[tokio::test]
async fn filter_on_protocol_takes_the_proto_enum_name() {
    let h = Harness::start().await;
    let got = keys(
        &h,
        ListCifsSessionsRequest {
            protocol: "SMB_PROTOCOL_SMB3_1".into(),
            ..Default::default()
        },
    )
    .await;
    assert_selects(&h, &got, &expected(&h, |s| s.protocol.as_str() == "smb3_1"));
}

#[tokio::test]
async fn filter_on_an_identifier_above_2_63_matches_exactly_that_session() {
    let h = Harness::start().await;
    let listed = list_all(
        &h,
        ListCifsSessionsRequest {
            identifier: ABOVE_I64.to_string(),
            ..Default::default()
        },
    )
    .await;
    let got: Vec<Key> = listed.iter().map(key_of).collect();
    assert_eq!(got, [above_i64_key()]);
}

#[tokio::test]
async fn filter_on_open_files_takes_a_range_with_both_ends_included() {
    let h = Harness::start().await;
    let got = keys(
        &h,
        ListCifsSessionsRequest {
            open_files: "1..10".into(),
            ..Default::default()
        },
    )
    .await;
    let want = expected(&h, |s| (1..=10).contains(&s.open_files));
    assert_selects(&h, &got, &want);
}

#[tokio::test]
async fn filter_on_connected_duration_compares_lengths_of_time() {
    let h = Harness::start().await;
    stop_the_clock(&h);
    let got = keys(
        &h,
        ListCifsSessionsRequest {
            connected_duration: ">PT1H".into(),
            ..Default::default()
        },
    )
    .await;
    let hour = Duration::from_secs(3600);
    let want = expected(&h, |s| s.connected_duration(Duration::ZERO) > hour);
    assert_selects(&h, &got, &want);
}

#[tokio::test]
async fn a_bad_filter_is_invalid_argument_naming_it_and_never_goes_upstream() {
    let h = Harness::start().await;
    let mut client = h.cifs_sessions().await;
    for (request, field) in [
        (
            ListCifsSessionsRequest {
                open_files: "a few".into(),
                ..Default::default()
            },
            "open_files",
        ),
        (
            ListCifsSessionsRequest {
                open_files: "1..many".into(),
                ..Default::default()
            },
            "open_files",
        ),
        (
            ListCifsSessionsRequest {
                identifier: "18446744073709551616".into(),
                ..Default::default()
            },
            "identifier",
        ),
        (
            ListCifsSessionsRequest {
                connected_duration: ">an hour".into(),
                ..Default::default()
            },
            "connected_duration",
        ),
        (
            ListCifsSessionsRequest {
                protocol: "smb4".into(),
                ..Default::default()
            },
            "protocol",
        ),
        (
            ListCifsSessionsRequest {
                smb_signing: "yes".into(),
                ..Default::default()
            },
            "smb_signing",
        ),
    ] {
        let status = client.list_cifs_sessions(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        assert_eq!(bad_fields(&status), [field]);
    }
    assert_eq!(h.simulator.stats().requests, 0, "nothing went upstream");
}

#[tokio::test]
async fn read_mask_returns_only_the_named_fields() {
    let h = Harness::start().await;
    let all = list_all(
        &h,
        ListCifsSessionsRequest {
            read_mask: mask(&["client_ip", "protocol", "volumes.name"]),
            page_size: 20,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(all.len(), expected(&h, |_| true).len());
    assert!(all.iter().any(|s| !s.volumes.is_empty()));
    for session in all {
        assert!(session.client_ip.is_some() && session.protocol.is_some());
        assert!(session.volumes.iter().all(|v| v.name.is_some()));
        assert_eq!(
            session,
            CifsSession {
                client_ip: session.client_ip.clone(),
                protocol: session.protocol,
                volumes: session
                    .volumes
                    .iter()
                    .map(|v| VolumeRef {
                        name: v.name.clone(),
                        uuid: None,
                    })
                    .collect(),
                ..Default::default()
            },
            "the key fields ONTAP adds stay absent"
        );
    }
}

#[tokio::test]
async fn order_by_connected_duration_desc_orders_every_page() {
    let h = Harness::start().await;
    stop_the_clock(&h);
    let listed = list_all(
        &h,
        ListCifsSessionsRequest {
            order_by: vec!["connected_duration desc".into()],
            page_size: 8,
            ..Default::default()
        },
    )
    .await;
    let durations: Vec<i64> = listed
        .iter()
        .map(|s| s.connected_duration.unwrap().seconds)
        .collect();
    assert!(durations.windows(2).all(|w| w[0] >= w[1]), "{durations:?}");
    let distinct: BTreeSet<Key> = listed.iter().map(key_of).collect();
    assert_eq!(distinct.len(), listed.len(), "no session twice");
    assert_eq!(distinct, expected(&h, |_| true));
}

#[tokio::test]
async fn count_only_returns_the_number_of_matches_and_no_records() {
    let h = Harness::start().await;
    let page = one_page(
        &h,
        ListCifsSessionsRequest {
            protocol: "smb3|smb3_1".into(),
            count_only: true,
            ..Default::default()
        },
    )
    .await;
    assert!(page.cifs_sessions.is_empty());
    assert!(page.next_page_token.is_empty());
    assert_eq!(page.num_records, 0);
    let matching = expected(&h, |s| s.protocol.as_str().starts_with("smb3")).len();
    assert!(matching > 0);
    assert_eq!(page.total_size, Some(i32::try_from(matching).unwrap()));
}

#[tokio::test]
async fn a_page_token_reused_with_other_filters_is_invalid_argument() {
    let h = Harness::start().await;
    let first = one_page(
        &h,
        ListCifsSessionsRequest {
            page_size: 2,
            ..Default::default()
        },
    )
    .await;
    assert!(!first.next_page_token.is_empty());
    let before = requests_to(&h.simulator, SESSIONS);
    let status = h
        .cifs_sessions()
        .await
        .list_cifs_sessions(ListCifsSessionsRequest {
            page_size: 2,
            svm_name: "vs1".into(),
            page_token: first.next_page_token,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["page_token"]);
    assert_eq!(requests_to(&h.simulator, SESSIONS), before);
}

#[tokio::test]
async fn svm_metadata_naming_another_svm_than_svm_name_is_invalid_argument() {
    let h = Harness::start().await;
    let request = ListCifsSessionsRequest {
        svm_name: "vs1".into(),
        ..Default::default()
    };
    let status = h
        .cifs_sessions()
        .await
        .list_cifs_sessions(with_metadata(request, "x-ontap-svm", "svm1"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["svm_name"]);
    assert_eq!(h.simulator.stats().requests, 0, "nothing went upstream");
}

// Get.

#[tokio::test]
async fn get_by_the_four_keys_returns_the_whole_record() {
    let h = Harness::start().await;
    stop_the_clock(&h);
    let (wanted, key) = h.simulator.cluster().with(|c| {
        let session = c
            .cifs_sessions()
            .into_iter()
            .find(|s| s.key.node_uuid == NODE1_UUID && s.user.is_some() && s.open_shares > 0)
            .expect("the seed has such a session");
        (as_served(c, &session), model_key(&session))
    });
    let got = h
        .cifs_sessions()
        .await
        .get_cifs_session(get((&key.0, &key.1, key.2, key.3)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, wanted);
}

#[tokio::test]
async fn get_round_trips_an_identifier_above_2_63_exactly() {
    let h = Harness::start().await;
    let got = h
        .cifs_sessions()
        .await
        .get_cifs_session(get(above_i64()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.identifier, Some(ABOVE_I64));
    assert_eq!(key_of(&got), above_i64_key());
}

#[tokio::test]
async fn get_with_a_read_mask_returns_only_those_fields() {
    let h = Harness::start().await;
    let wanted = served(&h).remove(&above_i64_key()).unwrap();
    let request = GetCifsSessionRequest {
        read_mask: mask(&["client_ip", "protocol"]),
        ..get(above_i64())
    };
    let got = h
        .cifs_sessions()
        .await
        .get_cifs_session(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        got,
        CifsSession {
            client_ip: wanted.client_ip,
            protocol: wanted.protocol,
            ..Default::default()
        }
    );
}

#[tokio::test]
async fn get_of_a_session_that_does_not_exist_is_not_found_with_ontap_code_4() {
    let h = Harness::start().await;
    let status = get_error(&h, get((NODE2_UUID, VS1_UUID, 1, ITS_CONNECTION))).await;
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert_eq!(reason(&status), "ENTRY_NOT_FOUND");
    assert_eq!(error_metadata(&status, "ontap_code").as_deref(), Some("4"));
}

#[tokio::test]
async fn get_with_a_node_uuid_that_is_not_a_uuid_is_invalid_argument_and_never_sent() {
    let h = Harness::start().await;
    let status = get_error(&h, get(("node2", VS1_UUID, ABOVE_I64, ITS_CONNECTION))).await;
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["node_uuid"]);
    assert_eq!(h.simulator.stats().requests, 0);
}

// Delete.

#[tokio::test]
async fn closing_a_session_ends_it_so_get_is_not_found() {
    let h = Harness::start().await;
    close_sessions(&h, close(above_i64())).await;
    let status = get_error(&h, get(above_i64())).await;
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert_eq!(reason(&status), "ENTRY_NOT_FOUND");
}

#[tokio::test]
async fn a_closed_session_leaves_its_connections_sessions_and_only_it() {
    let h = Harness::start().await;
    let others = expected(&h, |s| {
        s.key.connection_id == ITS_CONNECTION && s.key.identifier != ABOVE_I64
    });
    assert!(!others.is_empty(), "the connection carries another session");

    close_sessions(&h, close(above_i64())).await;

    let connections = h
        .cifs()
        .await
        .list_cifs_connections(ListCifsConnectionsRequest {
            node_uuid: NODE2_UUID.into(),
            identifier: ITS_CONNECTION.to_string(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .cifs_connections;
    assert_eq!(connections.len(), 1, "the connection stays with its others");
    let listed: BTreeSet<u64> = connections[0]
        .sessions
        .iter()
        .filter_map(|s| s.identifier)
        .collect();
    let left: BTreeSet<u64> = others.iter().map(|k| k.2).collect();
    assert_eq!(listed, left);
    let sessions = keys(
        &h,
        ListCifsSessionsRequest {
            node_uuid: NODE2_UUID.into(),
            connection_id: ITS_CONNECTION.to_string(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(sessions, others);
}

#[tokio::test]
async fn identifier_zero_closes_every_session_of_the_connection() {
    let h = Harness::start().await;
    let everything_else = expected(&h, |s| {
        !(s.key.node_uuid == NODE2_UUID && s.key.connection_id == ITS_CONNECTION)
    });

    close_sessions(&h, close((NODE2_UUID, VS1_UUID, 0, ITS_CONNECTION))).await;

    let left = keys(&h, ListCifsSessionsRequest::default()).await;
    assert_eq!(left, everything_else);
    let status = get_error(&h, get(above_i64())).await;
    assert_eq!(status.code(), Code::NotFound);
}

#[tokio::test]
async fn identifier_and_connection_zero_close_every_session_of_the_svm_on_the_node() {
    let h = Harness::start().await;
    let vs1_on_node2 = |s: &SimSession| s.key.node_uuid == NODE2_UUID && s.key.svm_uuid == VS1_UUID;
    let others = expected(&h, |s| !vs1_on_node2(s));
    assert!(!expected(&h, vs1_on_node2).is_empty());
    assert!(others.iter().any(|k| k.0 == NODE1_UUID), "node 1's");
    assert!(
        others.iter().any(|k| k.0 == NODE2_UUID),
        "another SVM's (svm3's) on node 2"
    );

    close_sessions(&h, close((NODE2_UUID, VS1_UUID, 0, 0))).await;

    let left = keys(&h, ListCifsSessionsRequest::default()).await;
    assert_eq!(
        left, others,
        "vs1's on node 2 are gone; node 1's and svm3's on node 2 untouched"
    );
}

#[tokio::test]
async fn a_session_identifier_with_connection_zero_is_refused_with_ontap_code_655503() {
    let h = Harness::start().await;
    let status = h
        .cifs_sessions()
        .await
        .delete_cifs_session(close((NODE2_UUID, VS1_UUID, ABOVE_I64, 0)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(reason(&status), "CIFS_SESSION_CONNECTION_REQUIRED");
    assert_eq!(
        error_metadata(&status, "ontap_code").as_deref(),
        Some("655503")
    );
    let still = h
        .cifs_sessions()
        .await
        .get_cifs_session(get(above_i64()))
        .await;
    assert!(still.is_ok(), "nothing was closed: {still:?}");
}

// Stream.

#[tokio::test]
async fn stream_returns_every_matching_session_across_pages_in_order() {
    let h = Harness::start().await;
    // ONTAP returns what it gathered in the return timeout: five a page.
    h.simulator
        .cluster()
        .set_iteration_cost(SESSIONS, Duration::from_secs(1));
    let mut stream = h
        .cifs_sessions()
        .await
        .stream_cifs_sessions(StreamCifsSessionsRequest {
            node_name: "node2".into(),
            order_by: vec!["identifier desc".into()],
            return_timeout_seconds: Some(5),
            ..Default::default()
        })
        .await
        .expect("the stream opens")
        .into_inner();
    let mut pages = Vec::new();
    while let Some(message) = stream.message().await.expect("the stream ends cleanly") {
        pages.push(message.cifs_sessions);
    }

    assert!(pages.len() > 1, "more than one upstream page");
    let streamed: Vec<Key> = pages.iter().flatten().map(key_of).collect();
    let mut want: Vec<Key> = expected(&h, |s| s.key.node_uuid == NODE2_UUID)
        .into_iter()
        .collect();
    want.sort_by_key(|k| std::cmp::Reverse(k.2));
    assert_eq!(streamed, want);
    assert_eq!(
        streamed.first(),
        Some(&above_i64_key()),
        "the largest first"
    );
}

// Watch.

fn kind(message: &WatchCifsSessionsResponse) -> Event {
    Event::try_from(message.r#type).unwrap()
}

/// Opens a watch polling every second and reads its initial list: the
/// sessions it ADDED before SYNCED.
async fn synced_watch(
    h: &Harness,
) -> (
    tonic::Streaming<WatchCifsSessionsResponse>,
    Vec<CifsSession>,
) {
    let mut stream = h
        .cifs_sessions()
        .await
        .watch_cifs_sessions(WatchCifsSessionsRequest {
            poll_interval: poll_every_second(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut added = Vec::new();
    loop {
        let message = next_message(&mut stream).await;
        match kind(&message) {
            Event::Added => added.push(message.cifs_session.expect("ADDED has the session")),
            Event::Synced => return (stream, added),
            other => panic!("{other:?} before SYNCED: {message:?}"),
        }
    }
}

#[tokio::test]
async fn watch_adds_every_current_session_then_syncs() {
    let h = Harness::start().await;
    let (_stream, added) = synced_watch(&h).await;
    let keys: Vec<Key> = added.iter().map(key_of).collect();
    let distinct: BTreeSet<Key> = keys.iter().cloned().collect();
    assert_eq!(distinct.len(), keys.len(), "no session twice");
    assert_eq!(distinct, expected(&h, |_| true));
}

#[tokio::test]
async fn watch_sees_a_session_closed_by_delete_as_removed_with_its_last_state() {
    let h = Harness::start().await;
    // Durations stand still, so the only change is the one made here.
    stop_the_clock(&h);
    let last_state = served(&h).remove(&above_i64_key()).unwrap();
    let (mut stream, _) = synced_watch(&h).await;

    close_sessions(&h, close(above_i64())).await;

    let removed = next_message(&mut stream).await;
    assert_eq!(kind(&removed), Event::Removed, "{removed:?}");
    assert_eq!(removed.cifs_session, Some(last_state));
    assert!(removed.poll_failure.is_none());
}
