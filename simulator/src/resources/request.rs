//! What endpoints check of a request the same way, whatever the resource: a write that takes no
//! query parameters, and a body that could not be read.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use http::Uri;

use crate::errors::{ApiError, Unexpected};
use crate::http::params;

/// A PATCH or DELETE of one object takes no query parameters: the first is unexpected.
pub fn no_parameters(uri: &Uri) -> Result<(), ApiError> {
    match params::decode(uri.query()).first() {
        Some((name, _)) => Err(ApiError::unexpected_argument(name, Unexpected::Unknown)),
        None => Ok(()),
    }
}

/// The body, or an invalid value of the body as a whole when it could not be read.
pub fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| ApiError::invalid_value(None, "", &rejection.body_text()))
}
