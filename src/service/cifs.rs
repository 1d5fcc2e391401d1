//! `ontap.v1.CifsConnections`.

use std::sync::Arc;

use futures_util::TryStreamExt;
use tonic::{Request, Response, Status};

use super::watch::{Messages, messages, poll_failure};
use crate::proto::v1::cifs_connections_server::CifsConnections;
use crate::proto::v1::{
    CifsConnection, CifsConnectionEventType, ListCifsConnectionsRequest,
    ListCifsConnectionsResponse, StreamCifsConnectionsRequest, StreamCifsConnectionsResponse,
    WatchCifsConnectionsRequest, WatchCifsConnectionsResponse,
};
use crate::translate::Clusters;
use crate::translate::collection;
use crate::watch::{Change, Update, Watches};

/// Serves CIFS connections from the clusters the gateway fronts.
#[derive(Debug, Clone)]
pub struct CifsConnectionsService {
    clusters: Clusters,
    watches: Arc<Watches>,
}

impl CifsConnectionsService {
    /// A service backed by `clusters`, its watches sharing the
    /// pollers in `watches`.
    pub fn new(clusters: Clusters, watches: Arc<Watches>) -> Self {
        Self { clusters, watches }
    }
}

#[tonic::async_trait]
impl CifsConnections for CifsConnectionsService {
    async fn list_cifs_connections(
        &self,
        request: Request<ListCifsConnectionsRequest>,
    ) -> Result<Response<ListCifsConnectionsResponse>, Status> {
        super::call(&self.clusters, request, collection::list).await
    }

    type WatchCifsConnectionsStream = Messages<WatchCifsConnectionsResponse>;

    async fn watch_cifs_connections(
        &self,
        request: Request<WatchCifsConnectionsRequest>,
    ) -> Result<Response<Self::WatchCifsConnectionsStream>, Status> {
        let deadline = super::deadline_of(&request);
        let upstream = super::upstream_for(&self.clusters, &request)?;
        let updates = self
            .watches
            .keyed::<ListCifsConnectionsRequest>()
            .watch(&upstream, request.get_ref())
            .map_err(super::to_status)?;
        let closing = self.watches.closing();
        Ok(Response::new(messages(updates, deadline, closing, event)))
    }

    type StreamCifsConnectionsStream = Messages<StreamCifsConnectionsResponse>;

    async fn stream_cifs_connections(
        &self,
        request: Request<StreamCifsConnectionsRequest>,
    ) -> Result<Response<Self::StreamCifsConnectionsStream>, Status> {
        let deadline = super::deadline_of(&request);
        let upstream = super::upstream_for(&self.clusters, &request)?;
        let pages = collection::stream(&upstream, request.get_ref(), deadline)
            .map_err(super::to_status)?
            .map_err(|error| {
                super::status::log(&error);
                Arc::new(error)
            });
        Ok(Response::new(messages(
            pages,
            deadline,
            self.watches.closing(),
            |cifs_connections| StreamCifsConnectionsResponse { cifs_connections },
        )))
    }
}

/// One update of a connections watch as its message.
fn event(update: Update<CifsConnection>) -> WatchCifsConnectionsResponse {
    let change = |kind: CifsConnectionEventType, connection: Arc<_>| WatchCifsConnectionsResponse {
        r#type: kind as i32,
        cifs_connection: Some(Arc::unwrap_or_clone(connection)),
        poll_failure: None,
    };
    match update {
        Update::Change(Change::Added(c)) => change(CifsConnectionEventType::Added, c),
        Update::Change(Change::Removed(c)) => change(CifsConnectionEventType::Removed, c),
        Update::Change(Change::Modified(c)) => change(CifsConnectionEventType::Modified, c),
        Update::Synced => WatchCifsConnectionsResponse {
            r#type: CifsConnectionEventType::Synced as i32,
            ..WatchCifsConnectionsResponse::default()
        },
        Update::Failed(failure) => WatchCifsConnectionsResponse {
            poll_failure: Some(poll_failure(&failure)),
            ..WatchCifsConnectionsResponse::default()
        },
    }
}
