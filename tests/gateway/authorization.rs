//! A policy (`--policy`) keeps each caller to its own SVMs: two tenants
//! share one gateway in service-account mode, and a call outside a
//! caller's rules is PERMISSION_DENIED `CALLER_NOT_PERMITTED`, naming the
//! identity, cluster, SVM and method, with nothing sent upstream.

use std::path::PathBuf;

use ontap_grpc_gateway::identity::{Authenticator, TokenHashes};
use ontap_grpc_gateway::policy::SharedPolicy;
use ontap_grpc_gateway::proto::api_methods;
use ontap_grpc_gateway::proto::v1::cifs_connections_client::CifsConnectionsClient;
use ontap_grpc_gateway::proto::v1::{
    CreateIscsiServiceRequest, GetIscsiServiceRequest, IscsiService, ListCifsConnectionsRequest,
    ListIscsiSessionsRequest, WatchCifsSessionsRequest, WatchIscsiSessionsRequest,
};
use ontap_grpc_gateway::server::{ClientCa, ServeOptions, TlsIdentity};
use ontap_simulator::{Cluster, Simulator};
use sha2::{Digest, Sha256};
use tonic::{Code, Request};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::common::raw_http::exchange;
use crate::common::{Gateway, client_config, error_metadata, reason, simulator_with, svm_named};
use crate::common::{SVM2_UUID, SVM3_UUID};
use crate::common::{TestCa, self_signed_identity};

/// Tenant A reads `vs1` and `svm3` and writes `svm1`; tenant B reads and
/// writes `svm2`. Each identity is its token's name.
const POLICY: &str = r#"
[[rule]]
callers = ["token:tenant-a"]
svms    = ["vs1", "svm3"]
access  = "read"

[[rule]]
callers = ["token:tenant-a-admin"]
svms    = ["svm1"]
access  = "write"

[[rule]]
callers = ["token:tenant-b"]
svms    = ["svm2"]
access  = "write"
"#;

const IDENTITIES: &[&str] = &["tenant-a", "tenant-a-admin", "tenant-b", "stranger"];

/// A gateway onto `simulator` taking one token per identity (the token is
/// the identity's name), with [`POLICY`] from a file a test may rewrite.
struct Tenants {
    gateway: Gateway,
    metrics: std::net::SocketAddr,
    policy: SharedPolicy,
    _dir: tempfile::TempDir,
    file: PathBuf,
}

impl Tenants {
    async fn start(simulator: &Simulator) -> Self {
        let tokens: String = IDENTITIES
            .iter()
            .map(|name| format!("{name} {:x}\n", Sha256::digest(name)))
            .collect();
        let tokens = TokenHashes::parse(&tokens, "tokens").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("policy.toml");
        std::fs::write(&file, POLICY).unwrap();
        let policy =
            SharedPolicy::load(file.clone(), vec!["default".into()], api_methods()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let metrics = listener.local_addr().unwrap();
        let options = ServeOptions {
            authenticator: Authenticator::new(Some(tokens)),
            policy: Some(policy.clone()),
            metrics_listener: Some(listener),
            ..ServeOptions::default()
        };
        let gateway = Gateway::start_with_options(client_config(simulator), options).await;
        Self {
            gateway,
            metrics,
            policy,
            _dir: dir,
            file,
        }
    }
}

/// `message` as `identity` calls it.
fn as_caller<T>(identity: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    let bearer = format!("Bearer {identity}").parse().unwrap();
    request.metadata_mut().insert("authorization", bearer);
    request
}

fn list_of(svm: &str) -> ListCifsConnectionsRequest {
    ListCifsConnectionsRequest {
        svm_name: svm.into(),
        page_size: 1000,
        ..Default::default()
    }
}

async fn list(tenants: &Tenants, identity: &str, svm: &str) -> Result<Vec<String>, tonic::Status> {
    let page = tenants
        .gateway
        .cifs()
        .await
        .list_cifs_connections(as_caller(identity, list_of(svm)))
        .await?;
    let svms = page.into_inner().cifs_connections.into_iter();
    Ok(svms
        .map(|c| c.svm.and_then(|s| s.name).unwrap_or_default())
        .collect())
}

fn assert_refused(status: &tonic::Status, identity: &str, method: &str) {
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert_eq!(reason(status), "CALLER_NOT_PERMITTED");
    let identity = format!("token:{identity}");
    assert_eq!(
        error_metadata(status, "identity").as_deref(),
        Some(identity.as_str())
    );
    assert_eq!(error_metadata(status, "method").as_deref(), Some(method));
    assert_eq!(
        error_metadata(status, "cluster").as_deref(),
        Some("default")
    );
}

#[tokio::test]
async fn a_tenant_lists_its_own_svm() {
    let simulator = simulator_with(Cluster::seed()).await;
    let tenants = Tenants::start(&simulator).await;
    let svms = list(&tenants, "tenant-a", "vs1").await.unwrap();
    assert_eq!(svms.len(), 36);
    assert!(svms.iter().all(|svm| svm == "vs1"));
}

#[tokio::test]
async fn a_tenant_listing_another_tenants_svm_is_refused_and_nothing_goes_upstream() {
    let simulator = simulator_with(Cluster::seed()).await;
    let tenants = Tenants::start(&simulator).await;
    let status = list(&tenants, "tenant-b", "vs1").await.unwrap_err();
    assert_refused(&status, "tenant-b", "ListCifsConnections");
    assert_eq!(error_metadata(&status, "svm").as_deref(), Some("SVM `vs1`"));
    assert_eq!(simulator.stats().requests, 0);
}

#[tokio::test]
async fn a_tenant_asking_for_every_svm_sees_only_its_own() {
    let simulator = simulator_with(Cluster::seed()).await;
    let tenants = Tenants::start(&simulator).await;
    for (identity, svm, count) in [("tenant-a", "svm3", 3), ("tenant-b", "svm2", 4)] {
        for filter in ["", "*"] {
            let svms = iscsi_session_svms(&tenants, identity, filter)
                .await
                .unwrap();
            assert_eq!(svms.len(), count, "{identity} {filter:?}");
            assert!(
                svms.iter().all(|s| s == svm),
                "{identity} {filter:?}: {svms:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_narrowed_list_pages_with_its_tokens() {
    let simulator = simulator_with(Cluster::seed()).await;
    let tenants = Tenants::start(&simulator).await;
    let mut sessions = tenants.gateway.iscsi_sessions().await;
    let mut request = ListIscsiSessionsRequest {
        page_size: 3,
        ..Default::default()
    };
    let mut seen = Vec::new();
    loop {
        let page = sessions
            .list_iscsi_sessions(as_caller("tenant-b", request.clone()))
            .await
            .unwrap()
            .into_inner();
        seen.extend(
            page.iscsi_sessions
                .into_iter()
                .map(|s| s.svm.unwrap().name.unwrap()),
        );
        if page.next_page_token.is_empty() {
            break;
        }
        request.page_token = page.next_page_token;
    }
    assert_eq!(seen, ["svm2"; 4]);
}

#[tokio::test]
async fn a_tenants_pattern_or_negation_is_answered_with_its_own_svms_it_selects() {
    let simulator = simulator_with(Cluster::seed()).await;
    let tenants = Tenants::start(&simulator).await;
    for (filter, svm, count) in [
        ("!vs1", "svm3", 4),
        ("vs1|svm2", "vs1", 36),
        ("svm*", "svm3", 4),
    ] {
        let svms = list(&tenants, "tenant-a", filter).await.unwrap();
        assert_eq!(svms.len(), count, "{filter}");
        assert!(svms.iter().all(|s| s == svm), "{filter}: {svms:?}");
    }
}

#[tokio::test]
async fn a_filter_that_selects_none_of_a_tenants_svms_or_cannot_be_decided_is_refused() {
    let simulator = simulator_with(Cluster::seed()).await;
    let tenants = Tenants::start(&simulator).await;
    for filter in ["svm2|svm1", "vs1..vs9", ">svm"] {
        let status = list(&tenants, "tenant-a", filter).await.unwrap_err();
        assert_refused(&status, "tenant-a", "ListCifsConnections");
        assert!(
            status.message().contains("`vs1`, `svm3`"),
            "{}",
            status.message()
        );
    }
    assert_eq!(simulator.stats().requests, 0);
}

#[tokio::test]
async fn a_watch_of_every_svm_carries_only_the_callers_records() {
    let simulator = simulator_with(Cluster::seed()).await;
    let tenants = Tenants::start(&simulator).await;
    let watch = WatchIscsiSessionsRequest::default();
    let mut stream = tenants
        .gateway
        .iscsi_sessions()
        .await
        .watch_iscsi_sessions(as_caller("tenant-b", watch))
        .await
        .unwrap()
        .into_inner();
    let mut svms = Vec::new();
    while let Some(message) = stream.message().await.unwrap() {
        match message.iscsi_session {
            Some(session) => svms.push(session.svm.and_then(|s| s.name).unwrap_or_default()),
            None => break,
        }
    }
    assert_eq!(svms, ["svm2"; 4]);
}

/// The SVM of each iSCSI session `identity` lists with `filter` as its SVM.
async fn iscsi_session_svms(
    tenants: &Tenants,
    identity: &str,
    filter: &str,
) -> Result<Vec<String>, tonic::Status> {
    let request = ListIscsiSessionsRequest {
        svm_name: filter.into(),
        page_size: 1000,
        ..Default::default()
    };
    let page = tenants
        .gateway
        .iscsi_sessions()
        .await
        .list_iscsi_sessions(as_caller(identity, request))
        .await?;
    let sessions = page.into_inner().iscsi_sessions.into_iter();
    Ok(sessions
        .map(|s| s.svm.and_then(|s| s.name).unwrap_or_default())
        .collect())
}

#[tokio::test]
async fn a_create_on_another_tenants_svm_is_refused_and_nothing_goes_upstream() {
    let simulator = simulator_with(Cluster::seed()).await;
    let tenants = Tenants::start(&simulator).await;
    let create = CreateIscsiServiceRequest {
        iscsi_service: Some(IscsiService {
            svm: svm_named("svm1"),
            ..Default::default()
        }),
    };
    let mut iscsi = tenants.gateway.iscsi().await;
    let status = iscsi
        .create_iscsi_service(as_caller("tenant-b", create.clone()))
        .await
        .unwrap_err();
    assert_refused(&status, "tenant-b", "CreateIscsiService");
    assert_eq!(simulator.stats().requests, 0);
    let created = iscsi
        .create_iscsi_service(as_caller("tenant-a-admin", create))
        .await
        .unwrap();
    assert_eq!(
        created.into_inner().svm.unwrap().name.as_deref(),
        Some("svm1")
    );
}

#[tokio::test]
async fn a_limited_callers_create_naming_no_svm_is_refused_and_nothing_goes_upstream() {
    let simulator = simulator_with(Cluster::seed()).await;
    let tenants = Tenants::start(&simulator).await;
    let create = CreateIscsiServiceRequest {
        iscsi_service: Some(IscsiService::default()),
    };
    let status = tenants
        .gateway
        .iscsi()
        .await
        .create_iscsi_service(as_caller("tenant-a-admin", create))
        .await
        .unwrap_err();
    assert_refused(&status, "tenant-a-admin", "CreateIscsiService");
    assert_eq!(simulator.stats().requests, 0);
}

#[tokio::test]
async fn an_svm_uuid_the_cluster_does_not_know_is_refused() {
    let simulator = simulator_with(Cluster::seed()).await;
    let tenants = Tenants::start(&simulator).await;
    let get = GetIscsiServiceRequest {
        svm_uuid: "00000000-94d7-11e8-8370-005056b48fd2".into(),
        read_mask: None,
    };
    let status = tenants
        .gateway
        .iscsi()
        .await
        .get_iscsi_service(as_caller("tenant-a", get))
        .await
        .unwrap_err();
    assert_refused(&status, "tenant-a", "GetIscsiService");
}

#[tokio::test]
async fn a_read_only_identitys_write_is_refused() {
    let simulator = simulator_with(Cluster::seed()).await;
    let tenants = Tenants::start(&simulator).await;
    let create = CreateIscsiServiceRequest {
        iscsi_service: Some(IscsiService {
            svm: svm_named("svm3"),
            ..Default::default()
        }),
    };
    let status = tenants
        .gateway
        .iscsi()
        .await
        .create_iscsi_service(as_caller("tenant-a", create))
        .await
        .unwrap_err();
    assert_refused(&status, "tenant-a", "CreateIscsiService");
    assert_eq!(simulator.stats().requests, 0);
}

/// A GetIscsiService naming its SVM by `uuid` alone.
fn get_by_uuid(uuid: &str) -> GetIscsiServiceRequest {
    GetIscsiServiceRequest {
        svm_uuid: uuid.into(),
        read_mask: None,
    }
}

#[tokio::test]
async fn an_svm_named_by_uuid_is_decided_by_its_name_read_from_the_cluster() {
    let simulator = simulator_with(Cluster::seed()).await;
    let tenants = Tenants::start(&simulator).await;
    let mut iscsi = tenants.gateway.iscsi().await;
    let get = get_by_uuid(SVM3_UUID);
    let service = iscsi
        .get_iscsi_service(as_caller("tenant-a", get.clone()))
        .await
        .unwrap();
    assert_eq!(
        service.into_inner().svm.unwrap().name.as_deref(),
        Some("svm3")
    );
    let before = simulator.path_stats();
    let status = iscsi
        .get_iscsi_service(as_caller("tenant-b", get))
        .await
        .unwrap_err();
    assert_refused(&status, "tenant-b", "GetIscsiService");
    let after = simulator.path_stats();
    let service_path = format!("/api/protocols/san/iscsi/services/{SVM3_UUID}");
    let reads = |stats: &std::collections::BTreeMap<String, ontap_simulator::PathStats>| {
        stats.get(&service_path).map_or(0, |p| p.requests)
    };
    assert_eq!(
        reads(&after),
        reads(&before),
        "the service was not read for B"
    );
}

#[tokio::test]
async fn a_refusal_by_an_svm_uuid_read_before_sends_nothing_upstream() {
    let simulator = simulator_with(Cluster::seed()).await;
    let tenants = Tenants::start(&simulator).await;
    let mut iscsi = tenants.gateway.iscsi().await;
    let first = iscsi
        .get_iscsi_service(as_caller("tenant-b", get_by_uuid(SVM3_UUID)))
        .await
        .unwrap_err();
    assert_refused(&first, "tenant-b", "GetIscsiService");
    let before = simulator.stats().requests;
    let again = iscsi
        .get_iscsi_service(as_caller("tenant-b", get_by_uuid(SVM3_UUID)))
        .await
        .unwrap_err();
    assert_refused(&again, "tenant-b", "GetIscsiService");
    assert_eq!(simulator.stats().requests, before);
}

#[tokio::test]
async fn a_renamed_svm_is_decided_by_its_new_name_not_the_one_remembered() {
    let simulator = simulator_with(Cluster::seed()).await;
    let tenants = Tenants::start(&simulator).await;
    let mut iscsi = tenants.gateway.iscsi().await;
    iscsi
        .get_iscsi_service(as_caller("tenant-a", get_by_uuid(SVM3_UUID)))
        .await
        .unwrap();
    simulator.cluster().with(|cluster| {
        let svm3 = cluster.svms.iter_mut().find(|svm| svm.uuid == SVM3_UUID);
        svm3.unwrap().name = "tenant-b-now".to_owned();
    });
    let status = iscsi
        .get_iscsi_service(as_caller("tenant-a", get_by_uuid(SVM3_UUID)))
        .await
        .unwrap_err();
    assert_refused(&status, "tenant-a", "GetIscsiService");
}

#[tokio::test]
async fn a_uuid_of_another_svm_than_the_name_beside_it_is_refused() {
    let simulator = simulator_with(Cluster::seed()).await;
    let tenants = Tenants::start(&simulator).await;
    let list = ListCifsConnectionsRequest {
        svm_name: "vs1".into(),
        svm_uuid: SVM2_UUID.into(),
        ..Default::default()
    };
    let status = tenants
        .gateway
        .cifs()
        .await
        .list_cifs_connections(as_caller("tenant-a", list))
        .await
        .unwrap_err();
    assert_refused(&status, "tenant-a", "ListCifsConnections");
    assert!(
        status.message().contains("is SVM `svm2`, not `vs1`"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn a_watch_of_another_tenants_svm_is_refused_when_it_starts() {
    let simulator = simulator_with(Cluster::seed()).await;
    let tenants = Tenants::start(&simulator).await;
    let watch = WatchCifsSessionsRequest {
        svm_name: "svm3".into(),
        ..Default::default()
    };
    let status = tenants
        .gateway
        .cifs_sessions()
        .await
        .watch_cifs_sessions(as_caller("tenant-b", watch))
        .await
        .unwrap_err();
    assert_refused(&status, "tenant-b", "WatchCifsSessions");
    assert_eq!(simulator.stats().requests, 0);
}

#[tokio::test]
async fn a_caller_no_rule_names_is_refused_everything_but_health() {
    let simulator = simulator_with(Cluster::seed()).await;
    let tenants = Tenants::start(&simulator).await;
    let status = list(&tenants, "stranger", "vs1").await.unwrap_err();
    assert_refused(&status, "stranger", "ListCifsConnections");
    assert!(
        status.message().contains("no rule names"),
        "{}",
        status.message()
    );
    let health = HealthClient::new(tenants.gateway.channel().await)
        .check(HealthCheckRequest::default())
        .await;
    assert!(health.is_ok());
}

#[tokio::test]
async fn each_denial_is_counted_by_identity_kind_and_reason_never_by_identity() {
    let simulator = simulator_with(Cluster::seed()).await;
    let tenants = Tenants::start(&simulator).await;
    list(&tenants, "tenant-b", "vs1").await.unwrap_err();
    list(&tenants, "stranger", "vs1").await.unwrap_err();
    let scrape = b"GET /metrics HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n";
    let text = exchange(tenants.metrics, scrape).await.text;
    for line in [
        "ontap_gateway_denied_total{identity_kind=\"token\",reason=\"not_permitted\"} 1",
        "ontap_gateway_denied_total{identity_kind=\"token\",reason=\"unknown_caller\"} 1",
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }
    assert!(!text.contains("tenant-b") && !text.contains("stranger"));
}

#[tokio::test]
async fn a_reloaded_policy_decides_without_a_restart() {
    let simulator = simulator_with(Cluster::seed()).await;
    let tenants = Tenants::start(&simulator).await;
    std::fs::write(
        &tenants.file,
        POLICY.replace("\"svm2\"", "\"svm2\", \"vs1\""),
    )
    .unwrap();
    assert!(tenants.policy.reload(true).unwrap());
    assert_eq!(list(&tenants, "tenant-b", "vs1").await.unwrap().len(), 36);
}

#[tokio::test]
async fn a_broken_reload_keeps_the_policy_before_it() {
    let simulator = simulator_with(Cluster::seed()).await;
    let tenants = Tenants::start(&simulator).await;
    std::fs::write(&tenants.file, "[[rule]]\ncallers = [\"token:tenant-b\"]\n").unwrap();
    assert!(tenants.policy.reload(true).is_err());
    assert_eq!(list(&tenants, "tenant-a", "vs1").await.unwrap().len(), 36);
    let status = list(&tenants, "tenant-b", "vs1").await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn without_a_policy_every_authenticated_caller_may_call() {
    let simulator = simulator_with(Cluster::seed()).await;
    let gateway = Gateway::start(client_config(&simulator)).await;
    let page = gateway
        .cifs()
        .await
        .list_cifs_connections(list_of(""))
        .await
        .unwrap();
    assert_eq!(page.into_inner().cifs_connections.len(), 40);
}

/// A mesh's workload, named by the SPIFFE ID its mTLS certificate carries,
/// reads only the SVMs its rule names.
#[tokio::test]
async fn an_mtls_caller_is_its_spiffe_id_and_reads_only_its_svms() {
    let simulator = simulator_with(Cluster::seed()).await;
    let ca = TestCa::new();
    let (cert, key) = self_signed_identity();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    let rule = "[[rule]]\ncallers = [\"spiffe://cluster.local/ns/billing/*\"]\nsvms = [\"vs1\"]\naccess = \"read\"\n";
    std::fs::write(&file, rule).unwrap();
    let options = ServeOptions {
        tls: Some(TlsIdentity::from_pem(&cert, &key).unwrap()),
        client_ca: Some(ClientCa::from_pem(ca.pem()).unwrap()),
        policy: Some(SharedPolicy::load(file, vec!["default".into()], api_methods()).unwrap()),
        ..ServeOptions::default()
    };
    let gateway = Gateway::start_with_options(client_config(&simulator), options).await;
    let workload = ca.spiffe_identity("spiffe://cluster.local/ns/billing/sa/api");
    let tls = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(tonic::transport::Certificate::from_pem(&cert))
        .domain_name("localhost")
        .identity(workload);
    let channel = tonic::transport::Channel::from_shared(format!("https://{}", gateway.addr))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut cifs = CifsConnectionsClient::new(channel);
    let own = cifs.list_cifs_connections(list_of("vs1")).await.unwrap();
    assert_eq!(own.into_inner().cifs_connections.len(), 36);
    let status = cifs
        .list_cifs_connections(list_of("svm3"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(
        error_metadata(&status, "identity").as_deref(),
        Some("spiffe://cluster.local/ns/billing/sa/api")
    );
}
