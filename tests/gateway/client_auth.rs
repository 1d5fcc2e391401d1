//! Callers authenticate before anything goes upstream: with bearer tokens
//! (`--auth-tokens`) or JWTs (`--jwks`) a call without an accepted one is
//! UNAUTHENTICATED;
//! with a client CA (`--client-ca`) a client without a certificate it
//! signed is refused at the TLS handshake.

use crate::common::{
    Gateway, TestCa, bad_fields, client_config, error_metadata, jwt, list_over_tls, reason,
    self_signed_identity, simulator_with,
};
use ontap_grpc_gateway::identity::{Authenticator, TokenHashes};
use ontap_grpc_gateway::proto::v1::ListCifsConnectionsRequest;
use ontap_grpc_gateway::server::{ClientCa, ServeOptions, TlsIdentity};
use ontap_simulator::{Cluster, Simulator};
use sha2::{Digest, Sha256};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

const TOKEN: &str = "correct horse battery staple";

/// A gateway onto `simulator` that accepts only [`TOKEN`].
async fn token_gateway(simulator: &Simulator) -> Gateway {
    let hashes = format!("# the test's one token\n{:x}\n", Sha256::digest(TOKEN));
    let options = ServeOptions {
        authenticator: Authenticator::new(Some(TokenHashes::parse(&hashes, "tokens").unwrap())),
        ..ServeOptions::default()
    };
    Gateway::start_with_options(client_config(simulator), options).await
}

/// One ListCifsConnections with `authorization` metadata, if any.
async fn list(gateway: &Gateway, authorization: Option<&str>) -> Result<usize, tonic::Status> {
    let mut request = tonic::Request::new(ListCifsConnectionsRequest {
        page_size: 1,
        ..Default::default()
    });
    if let Some(value) = authorization {
        request
            .metadata_mut()
            .insert("authorization", value.parse().unwrap());
    }
    let page = gateway.cifs().await.list_cifs_connections(request).await?;
    Ok(page.into_inner().cifs_connections.len())
}

/// A gateway onto `simulator` that takes JWTs from `issuer`.
async fn jwt_gateway(simulator: &Simulator, issuer: &jwt::Issuer) -> Gateway {
    let options = ServeOptions {
        authenticator: Authenticator::default().with_jwt(issuer.verifier()),
        ..ServeOptions::default()
    };
    Gateway::start_with_options(client_config(simulator), options).await
}

#[tokio::test]
async fn a_call_bearing_a_valid_jwt_is_served() {
    let simulator = simulator_with(Cluster::seed()).await;
    let issuer = jwt::Issuer::new();
    let gateway = jwt_gateway(&simulator, &issuer).await;
    let bearer = format!("Bearer {}", issuer.token("svc-billing", 0));
    assert_eq!(list(&gateway, Some(&bearer)).await.unwrap(), 1);
}

/// What a gateway taking `issuer`'s JWTs answers a call bearing `token`,
/// checked to be UNAUTHENTICATED with nothing sent upstream.
async fn jwt_refusal(issuer: &jwt::Issuer, token: &str) -> tonic::Status {
    let simulator = simulator_with(Cluster::seed()).await;
    let gateway = jwt_gateway(&simulator, issuer).await;
    let bearer = format!("Bearer {token}");
    let status = list(&gateway, Some(&bearer)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert_eq!(reason(&status), "CALLER_UNAUTHENTICATED");
    assert_eq!(simulator.stats().requests, 0);
    status
}

#[tokio::test]
async fn an_expired_jwt_is_unauthenticated_saying_so_and_nothing_goes_upstream() {
    let issuer = jwt::Issuer::new();
    let status = jwt_refusal(&issuer, &issuer.token("svc-billing", -3600)).await;
    assert!(status.message().contains("expired"), "{}", status.message());
}

#[tokio::test]
async fn a_jwt_not_yet_valid_is_unauthenticated_saying_so() {
    let issuer = jwt::Issuer::new();
    let status = jwt_refusal(&issuer, &issuer.token("svc-billing", 3600)).await;
    let message = status.message();
    assert!(message.contains("not valid before"), "{message}");
}

#[tokio::test]
async fn an_unsigned_jwt_alg_none_is_unauthenticated() {
    use base64::Engine;
    let issuer = jwt::Issuer::new();
    let signed = issuer.token("svc-billing", 0);
    let claims = signed.split('.').nth(1).unwrap();
    let none =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let status = jwt_refusal(&issuer, &format!("{none}.{claims}.")).await;
    assert!(status.message().contains("`none`"), "{}", status.message());
}

#[tokio::test]
async fn a_jwt_of_another_issuer_is_unauthenticated() {
    let stranger = jwt::Issuer::new();
    let token = stranger.token("svc-billing", 0);
    let status = jwt_refusal(&jwt::Issuer::new(), &token).await;
    let message = status.message();
    assert!(message.contains("signature"), "{message}");
}

#[tokio::test]
async fn a_call_bearing_an_accepted_token_is_served() {
    let simulator = simulator_with(Cluster::seed()).await;
    let gateway = token_gateway(&simulator).await;
    let bearer = format!("Bearer {TOKEN}");
    assert_eq!(list(&gateway, Some(&bearer)).await.unwrap(), 1);
}

#[tokio::test]
async fn a_call_without_a_token_is_unauthenticated_and_nothing_goes_upstream() {
    let simulator = simulator_with(Cluster::seed()).await;
    let gateway = token_gateway(&simulator).await;
    let status = list(&gateway, None).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(reason(&status), "CALLER_UNAUTHENTICATED");
    assert_eq!(simulator.stats().requests, 0);
}

#[tokio::test]
async fn a_wrong_token_is_unauthenticated_and_never_echoed() {
    let simulator = simulator_with(Cluster::seed()).await;
    let gateway = token_gateway(&simulator).await;
    let status = list(&gateway, Some("Bearer guessed-token-123"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(!format!("{status:?}").contains("guessed-token-123"));
    assert_eq!(simulator.stats().requests, 0);
}

#[tokio::test]
async fn a_40_kb_authorization_is_resource_exhausted_naming_it_and_the_limit() {
    let simulator = simulator_with(Cluster::seed()).await;
    let gateway = token_gateway(&simulator).await;
    let huge = format!("Bearer {}", "t".repeat(40 * 1024));
    let status = list(&gateway, Some(&huge)).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(reason(&status), "METADATA_TOO_LARGE");
    let key = error_metadata(&status, "metadata_key");
    assert_eq!(key.as_deref(), Some("authorization"));
    assert_eq!(
        error_metadata(&status, "limit_bytes").as_deref(),
        Some("16384")
    );
    assert!(!status.message().contains("tttt"), "{}", status.message());
    assert_eq!(simulator.stats().requests, 0);
}

#[tokio::test]
async fn a_second_authorization_is_invalid_argument_naming_it() {
    let simulator = simulator_with(Cluster::seed()).await;
    let gateway = token_gateway(&simulator).await;
    let mut request = tonic::Request::new(ListCifsConnectionsRequest::default());
    for value in [format!("Bearer {TOKEN}"), "Bearer someone-else".to_owned()] {
        request
            .metadata_mut()
            .append("authorization", value.parse().unwrap());
    }
    let status = gateway.list_error(request).await;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(bad_fields(&status), ["authorization"]);
    assert!(!format!("{status:?}").contains(TOKEN));
    assert_eq!(simulator.stats().requests, 0);
}

#[tokio::test]
async fn health_needs_no_token_so_kubernetes_probes_work() {
    let simulator = simulator_with(Cluster::seed()).await;
    let gateway = token_gateway(&simulator).await;
    HealthClient::new(gateway.channel().await)
        .check(HealthCheckRequest::default())
        .await
        .unwrap();
}

/// A TLS gateway onto `simulator` asking clients for a certificate `ca`
/// signed, and the gateway's own certificate.
async fn mutual_tls_gateway(simulator: &Simulator, ca: &TestCa) -> (Gateway, String) {
    let (cert, key) = self_signed_identity();
    let options = ServeOptions {
        tls: Some(TlsIdentity::from_pem(&cert, &key).unwrap()),
        client_ca: Some(ClientCa::from_pem(ca.pem()).unwrap()),
        ..ServeOptions::default()
    };
    let gateway = Gateway::start_with_options(client_config(simulator), options).await;
    (gateway, cert)
}

#[tokio::test]
async fn a_client_certificate_the_ca_signed_is_served() {
    let simulator = simulator_with(Cluster::seed()).await;
    let ca = TestCa::new();
    let (gateway, cert) = mutual_tls_gateway(&simulator, &ca).await;
    let listed = list_over_tls(gateway.addr, &cert, Some(ca.client_identity())).await;
    assert_eq!(listed.unwrap(), 1);
}

#[tokio::test]
async fn a_client_without_a_certificate_is_refused_and_nothing_goes_upstream() {
    let simulator = simulator_with(Cluster::seed()).await;
    let ca = TestCa::new();
    let (gateway, cert) = mutual_tls_gateway(&simulator, &ca).await;
    assert!(list_over_tls(gateway.addr, &cert, None).await.is_err());
    assert_eq!(simulator.stats().requests, 0);
}

#[tokio::test]
async fn a_client_certificate_from_another_ca_is_refused() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (gateway, cert) = mutual_tls_gateway(&simulator, &TestCa::new()).await;
    let stranger = TestCa::new().client_identity();
    assert!(
        list_over_tls(gateway.addr, &cert, Some(stranger))
            .await
            .is_err()
    );
    assert_eq!(simulator.stats().requests, 0);
}
