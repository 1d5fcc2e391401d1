//! `ontap.v1.IscsiServices`.

use tonic::{Request, Response, Status};

use crate::ontap::OntapClient;
use crate::proto::v1::iscsi_services_server::IscsiServices;
use crate::proto::v1::{
    CreateIscsiServiceRequest, DeleteIscsiServiceRequest, GetIscsiServiceMetricRequest,
    GetIscsiServiceRequest, IscsiService, ListIscsiServiceMetricsRequest,
    ListIscsiServiceMetricsResponse, ListIscsiServicesRequest, ListIscsiServicesResponse,
    PerformanceMetric, UpdateIscsiServiceRequest,
};
use crate::translate::iscsi;

/// Serves iSCSI services of one cluster.
#[derive(Debug, Clone)]
pub struct IscsiServicesService {
    client: OntapClient,
}

impl IscsiServicesService {
    /// A service backed by `client`'s cluster.
    pub fn new(client: OntapClient) -> Self {
        Self { client }
    }
}

#[tonic::async_trait]
impl IscsiServices for IscsiServicesService {
    async fn list_iscsi_services(
        &self,
        request: Request<ListIscsiServicesRequest>,
    ) -> Result<Response<ListIscsiServicesResponse>, Status> {
        super::call(&self.client, request, iscsi::list).await
    }

    async fn get_iscsi_service(
        &self,
        request: Request<GetIscsiServiceRequest>,
    ) -> Result<Response<IscsiService>, Status> {
        super::call(&self.client, request, iscsi::get).await
    }

    async fn create_iscsi_service(
        &self,
        request: Request<CreateIscsiServiceRequest>,
    ) -> Result<Response<IscsiService>, Status> {
        super::call(&self.client, request, iscsi::create).await
    }

    async fn update_iscsi_service(
        &self,
        request: Request<UpdateIscsiServiceRequest>,
    ) -> Result<Response<IscsiService>, Status> {
        super::call(&self.client, request, iscsi::update).await
    }

    async fn delete_iscsi_service(
        &self,
        request: Request<DeleteIscsiServiceRequest>,
    ) -> Result<Response<()>, Status> {
        super::call(&self.client, request, iscsi::delete).await
    }

    async fn list_iscsi_service_metrics(
        &self,
        request: Request<ListIscsiServiceMetricsRequest>,
    ) -> Result<Response<ListIscsiServiceMetricsResponse>, Status> {
        super::call(&self.client, request, iscsi::list_metrics).await
    }

    async fn get_iscsi_service_metric(
        &self,
        request: Request<GetIscsiServiceMetricRequest>,
    ) -> Result<Response<PerformanceMetric>, Status> {
        super::call(&self.client, request, iscsi::get_metric).await
    }
}
