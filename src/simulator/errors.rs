//! The ONTAP error body and every error code the simulator emits.
//!
//! Clients branch on the ONTAP `code` rather than the HTTP status, so the codes live here, in one
//! place, where they are easy to correct once checked against a real cluster.

use axum::response::Response;
use http::StatusCode;
use serde_json::{Map, Value, json};

use super::media::Media;

/// ONTAP error codes the simulator puts in error bodies.
///
/// Only [`ENTRY_DOESNT_EXIST`] is documented on the reference pages; the other two come from
/// captured responses of real clusters and are *unverified* against the ONTAP versions the
/// gateway targets.
pub mod codes {
    /// Generic "entry doesn't exist" (documented on the reference pages).
    pub const ENTRY_DOESNT_EXIST: &str = "4";
    /// A query parameter the endpoint does not know. Unverified against a real cluster.
    pub const UNEXPECTED_ARGUMENT: &str = "262179";
    /// A query parameter or filter with a value the endpoint cannot accept. Unverified against a
    /// real cluster.
    pub const INVALID_VALUE: &str = "262197";
}

/// An error answered with an ONTAP error body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status of the response.
    pub status: StatusCode,
    /// ONTAP error code; `None` leaves `code` out of the body (as ONTAP does for 401).
    pub code: Option<String>,
    /// Human-readable message.
    pub message: String,
    /// The parameter or field to blame, when there is one.
    pub target: Option<String>,
}

impl ApiError {
    /// A request naming a query parameter the endpoint does not have.
    pub fn unexpected_argument(name: &str) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: Some(codes::UNEXPECTED_ARGUMENT.to_owned()),
            message: format!("Unexpected argument \"{name}\"."),
            target: Some(name.to_owned()),
        }
    }

    /// A parameter whose value cannot be used; `why` says what is wrong with it.
    pub fn invalid_value(parameter: &str, value: &str, why: &str) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: Some(codes::INVALID_VALUE.to_owned()),
            message: format!("\"{value}\" is an invalid value for field \"{parameter}\": {why}"),
            target: Some(parameter.to_owned()),
        }
    }

    /// A path that names no API.
    pub fn not_found() -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: Some(codes::ENTRY_DOESNT_EXIST.to_owned()),
            message: "entry doesn't exist".to_owned(),
            target: None,
        }
    }

    /// A method the resource does not support. No ONTAP code is known for this, so none is sent.
    pub fn method_not_allowed(method: &http::Method) -> ApiError {
        ApiError {
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: None,
            message: format!("The method \"{method}\" is not supported on this resource."),
            target: None,
        }
    }

    /// Failed or missing Basic authentication; ONTAP sends a message and no code.
    pub fn unauthorized() -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: None,
            message: "User is not authorized.".to_owned(),
            target: None,
        }
    }

    /// The JSON body: `{"error": {"message", "code"?, "target"?}}`.
    pub fn body(&self) -> Value {
        let mut error = Map::new();
        if let Some(code) = &self.code {
            error.insert("code".to_owned(), json!(code));
        }
        error.insert("message".to_owned(), json!(self.message));
        if let Some(target) = &self.target {
            error.insert("target".to_owned(), json!(target));
        }
        json!({ "error": error })
    }

    /// Renders the error in the media type the client negotiated.
    pub fn into_response_as(self, media: Media) -> Response {
        media.respond(self.status, &self.body())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unexpected_argument_names_the_parameter_in_message_and_target() {
        let body = ApiError::unexpected_argument("foo").body();
        assert_eq!(body["error"]["code"], "262179");
        assert_eq!(body["error"]["message"], "Unexpected argument \"foo\".");
        assert_eq!(body["error"]["target"], "foo");
    }

    #[test]
    fn unauthorized_body_has_a_message_and_no_code() {
        let body = ApiError::unauthorized().body();
        assert!(body["error"]["message"].is_string());
        assert!(body["error"].get("code").is_none());
    }
}
