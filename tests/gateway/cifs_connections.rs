//! ListCifsConnections through the real gateway onto the real simulator.
//! Expected results are computed from the simulator's own model, so each
//! test states the ONTAP semantics it checks.

use std::collections::BTreeSet;

use crate::common::{
    self, Harness, NODE1_UUID, VS1_UUID, bad_fields, reason, requests_to, simulator_status,
};
use ontap_grpc_gateway::proto::v1::{
    CifsConnection, ListCifsConnectionsRequest, ListCifsConnectionsResponse,
};
use ontap_simulator::{CifsConnection as SimConnection, Cluster};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use prost_types::FieldMask;
use tonic::Code;

const CONNECTIONS: &str = "/api/protocols/cifs/connections";

type Key = (String, u32);

fn key_of(c: &CifsConnection) -> Key {
    (
        c.node
            .as_ref()
            .and_then(|n| n.uuid.clone())
            .unwrap_or_default(),
        c.identifier.unwrap_or_default(),
    )
}

/// The keys of the simulator's connections that satisfy `pred`.
fn expected(h: &Harness, pred: impl Fn(&SimConnection) -> bool) -> BTreeSet<Key> {
    h.simulator.cluster().with(|cluster| {
        cluster
            .cifs_connections
            .iter()
            .filter(|c| pred(c))
            .map(|c| (c.node_uuid.clone(), c.identifier))
            .collect()
    })
}

/// Every connection the gateway returns for `request`, following page tokens.
async fn list_all(h: &Harness, request: ListCifsConnectionsRequest) -> Vec<CifsConnection> {
    let client = h.cifs().await;
    common::list_all(request, |r| {
        let mut client = client.clone();
        async move { client.list_cifs_connections(r).await }
    })
    .await
}

/// One page for `request`, which must succeed.
async fn one_page(h: &Harness, request: ListCifsConnectionsRequest) -> ListCifsConnectionsResponse {
    h.cifs()
        .await
        .list_cifs_connections(request)
        .await
        .expect("list succeeds")
        .into_inner()
}

async fn keys(h: &Harness, request: ListCifsConnectionsRequest) -> BTreeSet<Key> {
    list_all(h, request).await.iter().map(key_of).collect()
}

#[tokio::test]
async fn first_page_holds_page_size_connections_with_every_field_and_a_token() {
    let h = Harness::start().await;
    let page = one_page(
        &h,
        ListCifsConnectionsRequest {
            svm_name: "vs1".into(),
            page_size: 5,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(page.cifs_connections.len(), 5);
    assert_eq!(page.num_records, 5);
    assert!(!page.next_page_token.is_empty());
    let c = &page.cifs_connections[0];
    assert!(c.client_ip.is_some() && c.client_port.is_some() && c.server_ip.is_some());
    assert!(c.identifier.is_some() && c.network_context_id.is_some());
    assert!(!c.sessions.is_empty() && c.sessions.iter().all(|s| s.identifier.is_some()));
    let node = c.node.as_ref().unwrap();
    assert!(node.name.is_some() && node.uuid.is_some());
    let svm = c.svm.as_ref().unwrap();
    assert_eq!(svm.name.as_deref(), Some("vs1"));
    assert_eq!(svm.uuid.as_deref(), Some(VS1_UUID));
}

#[tokio::test]
async fn paging_visits_every_connection_exactly_once() {
    let h = Harness::start().await;
    let all = list_all(
        &h,
        ListCifsConnectionsRequest {
            page_size: 7,
            ..Default::default()
        },
    )
    .await;
    let unique: BTreeSet<Key> = all.iter().map(key_of).collect();
    assert_eq!(unique.len(), all.len(), "no connection twice");
    assert_eq!(unique, expected(&h, |_| true));
}

#[tokio::test]
async fn filter_on_svm_name_accepts_alternatives() {
    let h = Harness::start_with_connections_on_three_svms().await;
    let got = keys(
        &h,
        ListCifsConnectionsRequest {
            svm_name: "nosuch|vs1".into(),
            ..Default::default()
        },
    )
    .await;
    assert!(!got.is_empty());
    assert_eq!(got, expected(&h, |c| c.svm_uuid == VS1_UUID), "not svm1's");
}

#[tokio::test]
async fn filter_on_svm_uuid_with_negation_excludes_it() {
    let h = Harness::start_with_connections_on_three_svms().await;
    let got = keys(
        &h,
        ListCifsConnectionsRequest {
            svm_uuid: format!("!{VS1_UUID}"),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        got.len(),
        8,
        "svm1's four connections and svm3's, and only those"
    );
    assert_eq!(got, expected(&h, |c| c.svm_uuid != VS1_UUID));
}

#[tokio::test]
async fn filter_on_node_name_matches_one_node() {
    let h = Harness::start().await;
    let got = keys(
        &h,
        ListCifsConnectionsRequest {
            node_name: "node1".into(),
            ..Default::default()
        },
    )
    .await;
    assert!(!got.is_empty());
    assert_eq!(got, expected(&h, |c| c.node_uuid == NODE1_UUID));
}

#[tokio::test]
async fn filter_on_node_uuid_matches_one_node() {
    let h = Harness::start().await;
    let got = keys(
        &h,
        ListCifsConnectionsRequest {
            node_uuid: NODE1_UUID.into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(got, expected(&h, |c| c.node_uuid == NODE1_UUID));
}

#[tokio::test]
async fn filter_on_client_ip_supports_wildcards() {
    let h = Harness::start().await;
    let got = keys(
        &h,
        ListCifsConnectionsRequest {
            client_ip: "10.74.*".into(),
            ..Default::default()
        },
    )
    .await;
    let want = expected(&h, |c| c.client_ip.starts_with("10.74."));
    assert!(!want.is_empty());
    assert_eq!(got, want);
}

#[tokio::test]
async fn filter_on_client_port_compares_numerically() {
    let h = Harness::start().await;
    let got = keys(
        &h,
        ListCifsConnectionsRequest {
            client_port: ">20000".into(),
            ..Default::default()
        },
    )
    .await;
    let want = expected(&h, |c| c.client_port > 20000);
    assert!(!want.is_empty());
    assert_eq!(got, want);
}

#[tokio::test]
async fn filter_on_identifier_supports_less_or_equal() {
    let h = Harness::start().await;
    let got = keys(
        &h,
        ListCifsConnectionsRequest {
            identifier: "<=92000".into(),
            ..Default::default()
        },
    )
    .await;
    let want = expected(&h, |c| c.identifier <= 92000);
    assert!(!want.is_empty());
    assert_eq!(got, want);
}

#[tokio::test]
async fn filter_on_network_context_id_supports_not_equal() {
    let h = Harness::start().await;
    let got = keys(
        &h,
        ListCifsConnectionsRequest {
            network_context_id: "!3".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(got, expected(&h, |c| c.network_context_id != 3));
}

#[tokio::test]
async fn filter_on_server_ip_matches_one_interface() {
    let h = Harness::start().await;
    let got = keys(
        &h,
        ListCifsConnectionsRequest {
            server_ip: "10.140.70.198".into(),
            ..Default::default()
        },
    )
    .await;
    let want = expected(&h, |c| c.server_ip == "10.140.70.198");
    assert!(!want.is_empty());
    assert_eq!(got, want);
}

#[tokio::test]
async fn filter_on_sessions_identifier_matches_any_session() {
    let h = Harness::start().await;
    let session = h.simulator.cluster().with(|c| {
        c.cifs_connections
            .iter()
            .find(|c| c.session_ids.len() > 1)
            .unwrap()
            .session_ids[1]
    });
    let got = keys(
        &h,
        ListCifsConnectionsRequest {
            sessions_identifier: session.to_string(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(got, expected(&h, |c| c.session_ids.contains(&session)));
    assert_eq!(got.len(), 1);
}

#[tokio::test]
async fn filter_on_null_matches_nothing_that_is_set() {
    let h = Harness::start().await;
    let got = keys(
        &h,
        ListCifsConnectionsRequest {
            client_ip: "null".into(),
            ..Default::default()
        },
    )
    .await;
    assert!(got.is_empty());
}

#[tokio::test]
async fn filter_values_are_encoded_never_spliced_into_the_query() {
    let h = Harness::start().await;
    let got = keys(
        &h,
        ListCifsConnectionsRequest {
            svm_name: "nosuch&svm.name=vs1".into(),
            ..Default::default()
        },
    )
    .await;
    assert!(got.is_empty(), "the `&` stayed inside the svm.name value");
}

#[tokio::test]
async fn read_mask_returns_only_the_named_fields() {
    let h = Harness::start().await;
    let all = list_all(
        &h,
        ListCifsConnectionsRequest {
            read_mask: Some(FieldMask {
                paths: vec!["client_ip".into()],
            }),
            page_size: 10,
            ..Default::default()
        },
    )
    .await;
    assert!(!all.is_empty());
    for c in all {
        assert!(c.client_ip.is_some());
        assert_eq!(
            c,
            CifsConnection {
                client_ip: c.client_ip.clone(),
                ..Default::default()
            },
            "key fields ONTAP adds stay absent"
        );
    }
}

#[tokio::test]
async fn read_mask_on_a_nested_leaf_keeps_only_that_leaf() {
    let h = Harness::start().await;
    let page = one_page(
        &h,
        ListCifsConnectionsRequest {
            read_mask: Some(FieldMask {
                paths: vec!["node.name".into(), "sessions".into()],
            }),
            page_size: 3,
            ..Default::default()
        },
    )
    .await;
    for c in page.cifs_connections {
        let node = c.node.expect("node carries its name");
        assert!(node.name.is_some());
        assert_eq!(node.uuid, None);
        assert!(!c.sessions.is_empty());
        assert_eq!(c.svm, None);
        assert_eq!(c.client_port, None);
    }
}

#[tokio::test]
async fn order_by_client_port_desc_orders_every_page() {
    let h = Harness::start().await;
    let ports: Vec<u32> = list_all(
        &h,
        ListCifsConnectionsRequest {
            order_by: vec!["client_port desc".into()],
            page_size: 8,
            ..Default::default()
        },
    )
    .await
    .iter()
    .map(|c| c.client_port.unwrap())
    .collect();
    let mut sorted = ports.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ports, sorted);
    assert_eq!(ports.len(), expected(&h, |_| true).len());
}

/// One rule from the pages (`order_by=<field> [asc|desc]`, any field of
/// the record, the direction as the pages write it): what the gateway
/// sends, the simulator takes; what the gateway refuses never goes upstream
/// and the simulator refuses too.
#[tokio::test]
async fn gateway_and_simulator_agree_on_which_order_by_terms_are_valid() {
    let h = Harness::start().await;
    for (term, valid) in [
        ("client_ip", true),
        ("client_ip asc", true),
        ("client_port desc", true),
        ("node.name desc", true),
        ("svm.uuid", true),
        ("sessions.identifier", true),
        ("sessions.identifier desc", true),
        ("client_ip DESC", false),
        ("client_ip Asc", false),
        ("client_ip sideways", false),
        ("client_ip asc desc", false),
        ("node", false),
        ("sessions", false),
        ("no_such_field", false),
    ] {
        let before = requests_to(&h.simulator, CONNECTIONS);
        let through_gateway = h
            .cifs()
            .await
            .list_cifs_connections(ListCifsConnectionsRequest {
                order_by: vec![term.into()],
                page_size: 5,
                ..Default::default()
            })
            .await;
        match through_gateway {
            Ok(page) => {
                assert!(valid, "the gateway accepted `{term}`");
                assert_eq!(page.into_inner().cifs_connections.len(), 5, "{term}");
            }
            Err(status) => {
                assert!(!valid, "the gateway refused `{term}`: {status:?}");
                assert_eq!(status.code(), Code::InvalidArgument, "{term}");
                assert_eq!(bad_fields(&status), ["order_by[0]"], "{term}");
                assert_eq!(requests_to(&h.simulator, CONNECTIONS), before, "{term}");
            }
        }
        let encoded = utf8_percent_encode(term, NON_ALPHANUMERIC);
        let direct = simulator_status(
            &h.simulator,
            &format!("{CONNECTIONS}?order_by={encoded}&max_records=5"),
        )
        .await;
        assert_eq!(
            direct == 200,
            valid,
            "the simulator answered `{term}` {direct}"
        );
    }
}

#[tokio::test]
async fn order_by_a_session_identifier_pages_through_every_connection_once() {
    let h = Harness::start().await;
    let listed = list_all(
        &h,
        ListCifsConnectionsRequest {
            order_by: vec!["sessions.identifier desc".into()],
            page_size: 7,
            ..Default::default()
        },
    )
    .await;
    let largest: Vec<u64> = listed
        .iter()
        .map(|c| {
            c.sessions
                .iter()
                .filter_map(|s| s.identifier)
                .max()
                .unwrap()
        })
        .collect();
    assert!(largest.windows(2).all(|w| w[0] >= w[1]), "{largest:?}");
    let keys: BTreeSet<Key> = listed.iter().map(key_of).collect();
    assert_eq!(keys.len(), listed.len(), "no connection twice");
    assert_eq!(keys, expected(&h, |_| true));
}

#[tokio::test]
async fn order_by_several_fields_orders_by_each_in_turn() {
    let h = Harness::start().await;
    let rows: Vec<(String, u32)> = list_all(
        &h,
        ListCifsConnectionsRequest {
            order_by: vec!["node.name".into(), "identifier desc".into()],
            ..Default::default()
        },
    )
    .await
    .iter()
    .map(|c| {
        (
            c.node.as_ref().unwrap().name.clone().unwrap(),
            c.identifier.unwrap(),
        )
    })
    .collect();
    let mut sorted = rows.clone();
    sorted.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    assert_eq!(rows, sorted);
}

#[tokio::test]
async fn count_only_returns_the_number_of_matches_and_no_records() {
    let h = Harness::start().await;
    let page = one_page(
        &h,
        ListCifsConnectionsRequest {
            client_ip: "10.74.*".into(),
            count_only: true,
            ..Default::default()
        },
    )
    .await;
    assert!(page.cifs_connections.is_empty());
    assert!(page.next_page_token.is_empty());
    assert_eq!(page.num_records, 0, "no records on this page");
    let matching = expected(&h, |c| c.client_ip.starts_with("10.74.")).len();
    assert_eq!(page.total_size, Some(i32::try_from(matching).unwrap()));
}

#[tokio::test]
async fn a_page_of_records_carries_no_total_size() {
    let h = Harness::start().await;
    let page = one_page(
        &h,
        ListCifsConnectionsRequest {
            page_size: 3,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(page.num_records, 3);
    assert_eq!(page.total_size, None);
}

#[tokio::test]
async fn page_size_above_the_maximum_is_served_at_the_maximum() {
    let mut cluster = Cluster::seed();
    let template = cluster.cifs_connections[0].clone();
    cluster
        .cifs_connections
        .extend((0..1001).map(|i| SimConnection {
            identifier: 500_000 + i,
            ..template.clone()
        }));
    let h = Harness::start_with(cluster, |_| {}).await;
    let page = one_page(
        &h,
        ListCifsConnectionsRequest {
            page_size: i32::MAX,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(page.cifs_connections.len(), 1000);
    assert!(!page.next_page_token.is_empty());
}

#[tokio::test]
async fn connections_added_and_removed_upstream_show_in_the_next_list() {
    let h = Harness::start_with(Cluster::seed(), |_| {}).await;
    let new = h.simulator.cluster().with(|c| {
        let mut new = c.cifs_connections[0].clone();
        new.identifier = 4_000_000_000;
        new
    });
    h.simulator.cluster().add_cifs_connection(new);
    let got = keys(
        &h,
        ListCifsConnectionsRequest {
            identifier: "4000000000".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(got.len(), 1);
    h.simulator
        .cluster()
        .remove_cifs_connections(|c| c.identifier == 4_000_000_000);
    let got = keys(
        &h,
        ListCifsConnectionsRequest {
            identifier: "4000000000".into(),
            ..Default::default()
        },
    )
    .await;
    assert!(got.is_empty());
}

#[tokio::test]
async fn page_token_from_a_different_query_is_invalid_argument() {
    let h = Harness::start().await;
    let mut client = h.cifs().await;
    let first = client
        .list_cifs_connections(ListCifsConnectionsRequest {
            page_size: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let err = client
        .list_cifs_connections(ListCifsConnectionsRequest {
            page_size: 2,
            svm_name: "vs1".into(),
            page_token: first.next_page_token,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&err), ["page_token"]);
}

#[tokio::test]
async fn forged_page_token_pointing_elsewhere_is_invalid_argument_and_never_sent() {
    use base64::Engine;
    let h = Harness::start().await;
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(r#"{"v":1,"next":"/api/security/accounts?fields=*","query":"0"}"#);
    let err = h
        .list_error(ListCifsConnectionsRequest {
            page_token: forged,
            ..Default::default()
        })
        .await;
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(reason(&err), "INVALID_REQUEST");
    assert_eq!(h.simulator.stats().requests, 0);
}

#[tokio::test]
async fn page_size_may_change_between_pages() {
    let h = Harness::start().await;
    let mut client = h.cifs().await;
    let first = client
        .list_cifs_connections(ListCifsConnectionsRequest {
            page_size: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let second = client
        .list_cifs_connections(ListCifsConnectionsRequest {
            page_size: 4,
            page_token: first.next_page_token,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.cifs_connections.len(), 4);
    let firsts: BTreeSet<Key> = first.cifs_connections.iter().map(key_of).collect();
    assert!(
        second
            .cifs_connections
            .iter()
            .all(|c| !firsts.contains(&key_of(c)))
    );
}

/// Makes the simulator take a simulated second per connection it gathers.
fn one_second_per_connection(h: &Harness) {
    h.simulator.cluster().set_iteration_cost(
        "/api/protocols/cifs/connections",
        std::time::Duration::from_secs(1),
    );
}

#[tokio::test]
async fn slow_collection_returns_what_fits_in_return_timeout_with_a_token() {
    let h = Harness::start().await;
    one_second_per_connection(&h);
    let page = one_page(
        &h,
        ListCifsConnectionsRequest {
            page_size: 10,
            return_timeout_seconds: Some(3),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(page.cifs_connections.len(), 3, "ONTAP returned early");
    assert_eq!(page.num_records, 3);
    assert!(!page.next_page_token.is_empty());
}

#[tokio::test]
async fn slow_collection_without_return_timeout_stops_at_ontaps_default_of_15_seconds() {
    let h = Harness::start().await;
    one_second_per_connection(&h);
    let page = one_page(
        &h,
        ListCifsConnectionsRequest {
            page_size: 20,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(page.cifs_connections.len(), 15);
    assert!(!page.next_page_token.is_empty());
}

#[tokio::test]
async fn partial_pages_of_a_slow_collection_page_through_every_connection_once() {
    let h = Harness::start().await;
    one_second_per_connection(&h);
    let listed = list_all(
        &h,
        ListCifsConnectionsRequest {
            page_size: 10,
            return_timeout_seconds: Some(4),
            ..Default::default()
        },
    )
    .await;
    let keys: Vec<Key> = listed.iter().map(key_of).collect();
    let distinct: BTreeSet<Key> = keys.iter().cloned().collect();
    assert_eq!(keys.len(), distinct.len(), "no connection twice");
    assert_eq!(distinct, expected(&h, |_| true));
}
