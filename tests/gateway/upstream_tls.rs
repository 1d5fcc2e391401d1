//! TLS to the cluster: verification is on by default, a private CA can be
//! trusted explicitly, and skipping verification takes an explicit switch.

use crate::common::{Gateway, client_config, reason, trust};
use ontap_grpc_gateway::ontap::TlsOptions;
use ontap_grpc_gateway::proto::v1::ListCifsConnectionsRequest;
use ontap_simulator::{Cluster, Simulator, SimulatorConfig};
use tonic::Code;

async fn tls_simulator() -> Simulator {
    Simulator::start(
        SimulatorConfig {
            tls: true,
            ..SimulatorConfig::default()
        },
        Cluster::seed(),
    )
    .await
    .unwrap()
}

fn list() -> ListCifsConnectionsRequest {
    ListCifsConnectionsRequest {
        page_size: 3,
        ..Default::default()
    }
}

#[tokio::test]
async fn self_signed_cluster_certificate_is_refused_by_default() {
    let simulator = tls_simulator().await;
    assert!(simulator.base_url().starts_with("https://"));
    let gateway = Gateway::start(client_config(&simulator)).await;
    let status = gateway.list_error(list()).await;
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(reason(&status), "UPSTREAM_CERTIFICATE_UNTRUSTED");
    assert_eq!(simulator.stats().requests, 0);
}

#[tokio::test]
async fn trusted_ca_certificate_verifies_the_cluster() {
    let simulator = tls_simulator().await;
    let mut config = client_config(&simulator);
    config.tls = trust(&simulator);
    let gateway = Gateway::start(config).await;
    let page = gateway
        .cifs()
        .await
        .list_cifs_connections(list())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.cifs_connections.len(), 3);
}

#[tokio::test]
async fn explicit_insecure_skip_verify_accepts_any_certificate() {
    let simulator = tls_simulator().await;
    let mut config = client_config(&simulator);
    config.tls = TlsOptions {
        ca_cert_pem: None,
        insecure_skip_verify: true,
    };
    let gateway = Gateway::start(config).await;
    let page = gateway
        .cifs()
        .await
        .list_cifs_connections(list())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.cifs_connections.len(), 3);
}

#[tokio::test]
async fn certificate_from_an_untrusted_ca_is_refused() {
    let simulator = tls_simulator().await;
    let other = tls_simulator().await;
    let mut config = client_config(&simulator);
    config.tls = trust(&other);
    let gateway = Gateway::start(config).await;
    let status = gateway.list_error(list()).await;
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(reason(&status), "UPSTREAM_CERTIFICATE_UNTRUSTED");
}
