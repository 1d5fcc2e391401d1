//! `ontap.v1.CifsConnections`.

use tonic::{Request, Response, Status};

use crate::ontap::OntapClient;
use crate::proto::v1::cifs_connections_server::CifsConnections;
use crate::proto::v1::{ListCifsConnectionsRequest, ListCifsConnectionsResponse};
use crate::translate::cifs;

/// Serves CIFS connections from one cluster.
#[derive(Debug, Clone)]
pub struct CifsConnectionsService {
    client: OntapClient,
}

impl CifsConnectionsService {
    /// A service backed by `client`'s cluster.
    pub fn new(client: OntapClient) -> Self {
        Self { client }
    }
}

#[tonic::async_trait]
impl CifsConnections for CifsConnectionsService {
    async fn list_cifs_connections(
        &self,
        request: Request<ListCifsConnectionsRequest>,
    ) -> Result<Response<ListCifsConnectionsResponse>, Status> {
        super::call(&self.client, request, cifs::list).await
    }
}
