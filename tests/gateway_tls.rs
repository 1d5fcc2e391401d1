//! gRPC over TLS: with `--tls-cert`/`--tls-key` the gateway serves only
//! TLS, and a client that trusts its certificate gets answers.

mod common;

use common::{Gateway, client_config, self_signed_identity, simulator_with};
use ontap_grpc_gateway::proto::v1::ListCifsConnectionsRequest;
use ontap_grpc_gateway::proto::v1::cifs_connections_client::CifsConnectionsClient;
use ontap_simulator::{Cluster, Simulator};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

/// The simulator (kept alive by the caller), a TLS gateway onto it, and the
/// gateway's certificate.
async fn tls_gateway() -> (Simulator, Gateway, String) {
    let simulator = simulator_with(Cluster::seed()).await;
    let (cert, key) = self_signed_identity();
    let gateway = Gateway::start_serving(
        client_config(&simulator),
        Some(Identity::from_pem(&cert, &key)),
    )
    .await;
    (simulator, gateway, cert)
}

#[tokio::test]
async fn client_trusting_the_certificate_is_served_over_tls() {
    let (_simulator, gateway, cert) = tls_gateway().await;
    let channel = Channel::from_shared(format!("https://{}", gateway.addr))
        .unwrap()
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(cert))
                .domain_name("localhost"),
        )
        .unwrap()
        .connect()
        .await
        .unwrap();
    let page = CifsConnectionsClient::new(channel)
        .list_cifs_connections(ListCifsConnectionsRequest {
            page_size: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.cifs_connections.len(), 2);
}

#[tokio::test]
async fn plaintext_client_is_refused_by_a_tls_gateway() {
    let (_simulator, gateway, _) = tls_gateway().await;
    let result = async {
        let channel = Channel::from_shared(format!("http://{}", gateway.addr))
            .unwrap()
            .connect()
            .await?;
        CifsConnectionsClient::new(channel)
            .list_cifs_connections(ListCifsConnectionsRequest::default())
            .await
            .map_err(|s| Box::new(s) as Box<dyn std::error::Error + Send + Sync>)?;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    }
    .await;
    assert!(result.is_err());
}
