//! The gRPC server: the API services plus what a good citizen of the gRPC
//! ecosystem serves (reflection v1 and v1alpha, grpc.health.v1), with
//! optional TLS and graceful shutdown.

use std::future::Future;

use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Identity, Server, ServerTlsConfig};

use crate::layers;
use crate::proto::v1::cifs_connections_server::CifsConnectionsServer;
use crate::proto::v1::iscsi_services_server::IscsiServicesServer;
use crate::routes::Routes;
use crate::service::{CifsConnectionsService, IscsiServicesService};
use crate::translate::Upstream;

/// A failure to start or run the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Reflection could not index the descriptor sets.
    #[error("building the reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The transport failed (TLS configuration, accept loop).
    #[error("gRPC transport: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Serves the gateway on `listener` until `shutdown` resolves, then drains
/// in-flight calls.
pub async fn serve(
    listener: TcpListener,
    upstream: Upstream,
    tls: Option<Identity>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<CifsConnectionsServer<CifsConnectionsService>>()
        .await;
    health
        .set_serving::<IscsiServicesServer<IscsiServicesService>>()
        .await;

    let mut builder = Server::builder().layer(layers::stack(upstream.client.base_url()));
    if let Some(identity) = tls {
        builder = builder.tls_config(ServerTlsConfig::new().identity(identity))?;
    }
    let routes = Routes::default()
        .with(health_service)
        .with(reflection().build_v1()?)
        .with(reflection().build_v1alpha()?)
        .with(CifsConnectionsServer::new(CifsConnectionsService::new(
            upstream.clone(),
        )))
        .with(IscsiServicesServer::new(IscsiServicesService::new(
            upstream,
        )));
    builder
        .serve_with_incoming_shutdown(routes, incoming(listener), shutdown)
        .await?;
    Ok(())
}

/// Accepted connections with Nagle's algorithm off: a unary reply is one
/// small write, and delaying it for an ACK costs the caller ~40 ms.
fn incoming(listener: TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .with_keepalive(Some(std::time::Duration::from_secs(60)))
}

/// Reflection over our API, the error-detail types our statuses carry (so
/// grpcurl can print them), and health.
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
}
