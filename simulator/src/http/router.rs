//! Routes and the middleware stack: stats (outermost, so 401s count too), then authentication,
//! then the per-SVM counts of authenticated requests, then authorization (so a refused write
//! still counts), then faults (so a fault never masks a 401 or a 403), then the endpoints.

use std::sync::Arc;

use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::Response;
use axum::routing::{MethodRouter, get};
use http::{HeaderMap, HeaderValue, Method, header};

use crate::accounts::Accounts;
use crate::errors::ApiError;
use crate::faults::{self, Faults};
use crate::http::auth;
use crate::http::media::Media;
use crate::http::stats::{self, Stats};
use crate::http::svm_requests;
use crate::query::schema::Schema;
use crate::resources::cifs_sessions::{self, close as cifs_close};
use crate::resources::iscsi::{self, metrics as iscsi_metrics, sessions as iscsi_sessions};
use crate::resources::{cifs, cluster, model::SharedCluster, svms};

/// The complete application.
pub fn router(
    cluster: SharedCluster,
    accounts: Accounts,
    faults: Faults,
    stats: Arc<Stats>,
) -> Router {
    Router::new()
        .route(cluster::PATH, allowing(get(cluster::get), "GET, HEAD"))
        .route(cifs::PATH, allowing(get(cifs::list), "GET, HEAD"))
        .route(
            cifs_sessions::PATH,
            allowing(
                get(cifs_sessions::list).delete(cifs_close::delete_matching),
                "GET, HEAD, DELETE",
            ),
        )
        .route(
            &instance_route(&cifs_sessions::SCHEMA),
            allowing(
                get(cifs_sessions::get).delete(cifs_close::delete),
                "GET, HEAD, DELETE",
            ),
        )
        .route(
            iscsi::PATH,
            allowing(get(iscsi::list).post(iscsi::create), "GET, HEAD, POST"),
        )
        .route(
            iscsi::ITEM_PATH,
            allowing(
                get(iscsi::get).patch(iscsi::update).delete(iscsi::delete),
                "GET, HEAD, PATCH, DELETE",
            ),
        )
        .route(
            iscsi_sessions::PATH,
            allowing(get(iscsi_sessions::list), "GET, HEAD"),
        )
        .route(
            &instance_route(&iscsi_sessions::SCHEMA),
            allowing(get(iscsi_sessions::get), "GET, HEAD"),
        )
        .route(
            iscsi_metrics::PATH,
            allowing(get(iscsi_metrics::list), "GET, HEAD"),
        )
        .route(
            iscsi_metrics::SAMPLE_PATH,
            allowing(get(iscsi_metrics::get), "GET, HEAD"),
        )
        .route(svms::PATH, allowing(get(svms::list), "GET, HEAD"))
        .route(
            &instance_route(&svms::SCHEMA),
            allowing(get(svms::get), "GET, HEAD"),
        )
        .fallback(not_found)
        .with_state(cluster)
        .layer(from_fn_with_state(faults, faults::apply))
        .layer(from_fn(auth::authorize))
        .layer(from_fn_with_state(Arc::clone(&stats), svm_requests::record))
        .layer(from_fn_with_state(accounts, auth::authenticate))
        .layer(from_fn_with_state(stats, stats::track))
}

/// The route of one record of a keyed collection (see [`Schema::path_keys`]). Only schemas with
/// path keys are routed so; one without is a programming error that every start reveals.
fn instance_route(schema: &Schema) -> String {
    schema
        .instance_route()
        .expect("a schema routed by its records' paths has path keys")
}

async fn not_found(headers: HeaderMap) -> Response {
    ApiError::not_found().into_response_as(Media::from_headers(&headers))
}

/// Answers any other method with 405, an ONTAP error body, and `Allow: allow`.
fn allowing(
    methods: MethodRouter<SharedCluster>,
    allow: &'static str,
) -> MethodRouter<SharedCluster> {
    methods.fallback(move |method: Method, headers: HeaderMap| async move {
        let mut response =
            ApiError::method_not_allowed(&method).into_response_as(Media::from_headers(&headers));
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(allow));
        response
    })
}
