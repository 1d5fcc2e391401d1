//! `ontap.v1.IscsiServices`.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use crate::proto::v1::iscsi_services_server::IscsiServices;
use crate::proto::v1::{
    CreateIscsiServiceRequest, DeleteIscsiServiceRequest, GetIscsiServiceMetricRequest,
    GetIscsiServiceRequest, IscsiService, ListIscsiServiceMetricsRequest,
    ListIscsiServiceMetricsResponse, ListIscsiServicesRequest, ListIscsiServicesResponse,
    PerformanceMetric, UpdateIscsiServiceRequest, WatchIscsiServiceMetricsRequest,
    WatchIscsiServiceMetricsResponse,
};
use crate::translate::Clusters;
use crate::translate::{collection, instance, iscsi};
use crate::watch::{MetricUpdate, Watches};

use super::watch::{Messages, messages, poll_failure};

/// Serves iSCSI services of the clusters the gateway fronts.
#[derive(Debug, Clone)]
pub struct IscsiServicesService {
    clusters: Clusters,
    watches: Arc<Watches>,
}

impl IscsiServicesService {
    /// A service backed by `clusters`, its watches sharing the
    /// pollers in `watches`.
    pub fn new(clusters: Clusters, watches: Arc<Watches>) -> Self {
        Self { clusters, watches }
    }
}

#[tonic::async_trait]
impl IscsiServices for IscsiServicesService {
    async fn list_iscsi_services(
        &self,
        request: Request<ListIscsiServicesRequest>,
    ) -> Result<Response<ListIscsiServicesResponse>, Status> {
        super::call(&self.clusters, request, collection::list).await
    }

    async fn get_iscsi_service(
        &self,
        request: Request<GetIscsiServiceRequest>,
    ) -> Result<Response<IscsiService>, Status> {
        super::call(&self.clusters, request, instance::get).await
    }

    async fn create_iscsi_service(
        &self,
        request: Request<CreateIscsiServiceRequest>,
    ) -> Result<Response<IscsiService>, Status> {
        super::call(&self.clusters, request, iscsi::create).await
    }

    async fn update_iscsi_service(
        &self,
        request: Request<UpdateIscsiServiceRequest>,
    ) -> Result<Response<IscsiService>, Status> {
        super::call(&self.clusters, request, iscsi::update).await
    }

    async fn delete_iscsi_service(
        &self,
        request: Request<DeleteIscsiServiceRequest>,
    ) -> Result<Response<()>, Status> {
        super::call(&self.clusters, request, instance::delete).await
    }

    async fn list_iscsi_service_metrics(
        &self,
        request: Request<ListIscsiServiceMetricsRequest>,
    ) -> Result<Response<ListIscsiServiceMetricsResponse>, Status> {
        super::call(&self.clusters, request, iscsi::list_metrics).await
    }

    async fn get_iscsi_service_metric(
        &self,
        request: Request<GetIscsiServiceMetricRequest>,
    ) -> Result<Response<PerformanceMetric>, Status> {
        super::call(&self.clusters, request, iscsi::get_metric).await
    }

    type WatchIscsiServiceMetricsStream = Messages<WatchIscsiServiceMetricsResponse>;

    async fn watch_iscsi_service_metrics(
        &self,
        mut request: Request<WatchIscsiServiceMetricsRequest>,
    ) -> Result<Response<Self::WatchIscsiServiceMetricsStream>, Status> {
        let deadline = super::deadline_of(&request);
        let upstream = super::upstream_for(&self.clusters, &mut request).await?;
        let updates = self
            .watches
            .metrics
            .watch(&upstream, request.get_ref(), deadline)
            .await
            .map_err(super::to_status)?;
        Ok(Response::new(messages(
            updates,
            deadline,
            self.watches.closing(),
            |update| match update {
                MetricUpdate::Sample {
                    metric,
                    missed_samples,
                    replayed,
                } => WatchIscsiServiceMetricsResponse {
                    metric: Some(Arc::unwrap_or_clone(metric)),
                    missed_samples,
                    replayed,
                    poll_failure: None,
                },
                MetricUpdate::Failed(failure) => WatchIscsiServiceMetricsResponse {
                    poll_failure: Some(poll_failure(&failure)),
                    ..WatchIscsiServiceMetricsResponse::default()
                },
            },
        )))
    }
}
