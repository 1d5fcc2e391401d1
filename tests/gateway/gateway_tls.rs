//! gRPC over TLS: with `--tls-cert`/`--tls-key` the gateway serves only
//! TLS, and a client that trusts its certificate gets answers. A client
//! must finish its TLS handshake and its HTTP opening within the handshake
//! timeout, and a refused handshake is logged with its reason.

use std::time::Duration;

use crate::common::{
    Gateway, TestCa, client_config, closed_by_server, eventually, list_over_tls, logs,
    self_signed_identity, simulator_with, tls_handshake,
};
use ontap_grpc_gateway::proto::v1::ListCifsConnectionsRequest;
use ontap_grpc_gateway::proto::v1::cifs_connections_client::CifsConnectionsClient;
use ontap_grpc_gateway::server::{ClientCa, ServeOptions, TlsIdentity};
use ontap_simulator::{Cluster, Simulator};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

/// The simulator (kept alive by the caller), a TLS gateway onto it, and the
/// gateway's certificate.
async fn tls_gateway() -> (Simulator, Gateway, String) {
    let simulator = simulator_with(Cluster::seed()).await;
    let (cert, key) = self_signed_identity();
    let gateway = Gateway::start_serving(
        client_config(&simulator),
        Some(TlsIdentity::from_pem(&cert, &key).unwrap()),
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

/// A TLS gateway whose connections have 200 ms to open, asking clients
/// for a certificate `client_ca` signed when given; and its certificate.
async fn tls_gateway_opening_quickly(
    simulator: &Simulator,
    client_ca: Option<&TestCa>,
) -> (Gateway, String) {
    let (cert, key) = self_signed_identity();
    let options = ServeOptions {
        tls: Some(TlsIdentity::from_pem(&cert, &key).unwrap()),
        client_ca: client_ca.map(|ca| ClientCa::from_pem(ca.pem()).unwrap()),
        handshake_timeout: Duration::from_millis(200),
        ..ServeOptions::default()
    };
    let gateway = Gateway::start_with_options(client_config(simulator), options).await;
    (gateway, cert)
}

#[tokio::test]
async fn a_client_that_stops_mid_tls_handshake_is_closed() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (gateway, _) = tls_gateway_opening_quickly(&simulator, None).await;
    let mut stream = TcpStream::connect(gateway.addr).await.unwrap();
    // The first bytes of a TLS record carrying a ClientHello.
    stream.write_all(&[0x16, 0x03, 0x01, 0x02]).await.unwrap();
    assert!(closed_by_server(stream).await);
}

#[tokio::test]
async fn a_client_that_sends_one_byte_after_the_tls_handshake_is_closed() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (gateway, cert) = tls_gateway_opening_quickly(&simulator, None).await;
    let mut stream = tls_handshake(gateway.addr, &cert).await;
    stream.write_all(b"P").await.unwrap();
    stream.flush().await.unwrap();
    assert!(closed_by_server(stream).await);
}

#[tokio::test]
async fn a_refused_client_certificate_is_logged_once_with_its_reason() {
    logs::logs();
    let simulator = simulator_with(Cluster::seed()).await;
    let ca = TestCa::new();
    let (gateway, cert) = tls_gateway_opening_quickly(&simulator, Some(&ca)).await;
    for _ in 0..2 {
        let refused = list_over_tls(gateway.addr, &cert, Some(ca.server_only_identity())).await;
        assert!(refused.is_err(), "a server-only certificate is refused");
    }
    // Other tests in this binary refuse certificates too, on their own
    // gateways: this one's lines name its listener.
    let listener = format!("listener={}", gateway.addr);
    let refusals = || {
        logs::logged()
            .lines()
            .filter(|line| line.contains(&listener) && line.contains("invalid peer certificate"))
            .filter(|line| line.contains("WARN"))
            .count()
    };
    eventually("the refusal is logged", || refusals() > 0).await;
    let line = logs::logged()
        .lines()
        .find(|line| line.contains(&listener) && line.contains("invalid peer certificate"))
        .unwrap()
        .to_owned();
    assert!(line.contains("TLS handshake"), "{line}");
    assert!(line.contains("127.0.0.1"), "{line}");
    assert_eq!(
        refusals(),
        1,
        "the second refusal from the same address is not"
    );
}
