//! `ontap.v1.CifsConnections`.

use tonic::{Request, Response, Status};

use crate::proto::v1::cifs_connections_server::CifsConnections;
use crate::proto::v1::{ListCifsConnectionsRequest, ListCifsConnectionsResponse};
use crate::translate::Upstream;
use crate::translate::cifs;

/// Serves CIFS connections from one cluster.
#[derive(Debug, Clone)]
pub struct CifsConnectionsService {
    upstream: Upstream,
}

impl CifsConnectionsService {
    /// A service backed by `upstream`'s cluster.
    pub fn new(upstream: Upstream) -> Self {
        Self { upstream }
    }
}

#[tonic::async_trait]
impl CifsConnections for CifsConnectionsService {
    async fn list_cifs_connections(
        &self,
        request: Request<ListCifsConnectionsRequest>,
    ) -> Result<Response<ListCifsConnectionsResponse>, Status> {
        super::call(&self.upstream, request, cifs::list).await
    }
}
