//! Routes and the middleware stack: stats (outermost, so 401s count too), then authentication,
//! then faults (so a fault never masks a 401), then the endpoints.

use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use axum::routing::get;
use http::{HeaderMap, HeaderValue, Method, header};

use super::errors::ApiError;
use super::faults::{self, Faults};
use super::media::Media;
use super::model::SharedCluster;
use super::stats::{self, Stats};
use super::{Credentials, auth, cifs};

/// The complete application.
pub fn router(
    cluster: SharedCluster,
    credentials: Credentials,
    faults: Faults,
    stats: Arc<Stats>,
) -> Router {
    Router::new()
        .route(cifs::PATH, get(cifs::list).fallback(method_not_allowed))
        .fallback(not_found)
        .with_state(cluster)
        .layer(from_fn_with_state(faults, faults::apply))
        .layer(from_fn_with_state(Arc::new(credentials), auth::require))
        .layer(from_fn_with_state(stats, stats::track))
}

async fn not_found(headers: HeaderMap) -> Response {
    ApiError::not_found().into_response_as(Media::from_headers(&headers))
}

async fn method_not_allowed(method: Method, headers: HeaderMap) -> Response {
    let mut response =
        ApiError::method_not_allowed(&method).into_response_as(Media::from_headers(&headers));
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    response
}
