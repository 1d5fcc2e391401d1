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
        handle!(self, request, iscsi::list)
    }

    async fn get_iscsi_service(
        &self,
        request: Request<GetIscsiServiceRequest>,
    ) -> Result<Response<IscsiService>, Status> {
        handle!(self, request, iscsi::get)
    }

    async fn create_iscsi_service(
        &self,
        request: Request<CreateIscsiServiceRequest>,
    ) -> Result<Response<IscsiService>, Status> {
        handle!(self, request, iscsi::create)
    }

    async fn update_iscsi_service(
        &self,
        request: Request<UpdateIscsiServiceRequest>,
    ) -> Result<Response<IscsiService>, Status> {
        handle!(self, request, iscsi::update)
    }

    async fn delete_iscsi_service(
        &self,
        request: Request<DeleteIscsiServiceRequest>,
    ) -> Result<Response<()>, Status> {
        handle!(self, request, iscsi::delete)
    }

    async fn list_iscsi_service_metrics(
        &self,
        request: Request<ListIscsiServiceMetricsRequest>,
    ) -> Result<Response<ListIscsiServiceMetricsResponse>, Status> {
        handle!(self, request, iscsi::list_metrics)
    }

    async fn get_iscsi_service_metric(
        &self,
        request: Request<GetIscsiServiceMetricRequest>,
    ) -> Result<Response<PerformanceMetric>, Status> {
        handle!(self, request, iscsi::get_metric)
    }
}
