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

/// An error code a reference page documents, with the page's description as the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Documented {
    /// ONTAP error code.
    pub code: &'static str,
    /// The page's description of it.
    pub message: &'static str,
}

/// Error codes documented on the iSCSI services page (`iscsi-services.txt`), worded as there.
/// The page gives no HTTP statuses; the endpoints choose them by ONTAP's conventions (400 bad
/// input, 404 missing path object, 409 conflicting state, 500 internal failure).
pub mod iscsi {
    use super::Documented;

    /// POST: the cluster has no iSCSI license.
    pub const NOT_LICENSED: Documented = Documented {
        code: "1115127",
        message: "The cluster lacks a valid iSCSI license.",
    };
    /// POST: the SVM named in the body does not exist.
    pub const SUPPLIED_SVM_MISSING: Documented = Documented {
        code: "2621462",
        message: "The supplied SVM does not exist.",
    };
    /// GET, PATCH, DELETE and metrics: the SVM in the path does not exist (same code as
    /// [`SUPPLIED_SVM_MISSING`], the page words it differently).
    pub const SVM_UUID_MISSING: Documented = Documented {
        code: "2621462",
        message: "An SVM with the specified UUID does not exist.",
    };
    /// POST: the SVM may not serve iSCSI.
    pub const PROTOCOL_NOT_ALLOWED: Documented = Documented {
        code: "2621507",
        message: "The iSCSI protocol is not allowed for the specified SVM.",
    };
    /// POST: `svm.uuid` and `svm.name` name different SVMs.
    pub const SVM_MISMATCH: Documented = Documented {
        code: "2621706",
        message: "The specified svm.uuid and svm.name do not refer to the same SVM.",
    };
    /// POST: neither `svm.uuid` nor `svm.name` was given.
    pub const SVM_NOT_SPECIFIED: Documented = Documented {
        code: "2621707",
        message: "No SVM was specified. Either svm.name or svm.uuid must be supplied.",
    };
    /// DELETE: the service is still enabled.
    pub const SERVICE_ENABLED: Documented = Documented {
        code: "5373960",
        message: "The iSCSI service is enabled. The iSCSI service must be disabled before it \
                  can be deleted.",
    };
    /// POST: the SVM is configured for NVMe.
    pub const SVM_HAS_NVME: Documented = Documented {
        code: "5373966",
        message: "An iSCSI service cannot be created in an SVM that is configured for NVMe.",
    };
    /// POST: the SVM already has a service.
    pub const SERVICE_EXISTS: Documented = Documented {
        code: "5374077",
        message: "An iSCSI service already exists for the specified SVM.",
    };
    /// GET, PATCH, DELETE and metrics: the SVM has no service.
    pub const NO_SERVICE: Documented = Documented {
        code: "5374078",
        message: "The SVM does not have an iSCSI service.",
    };
    /// POST: the SVM is stopped.
    pub const SVM_STOPPED: Documented = Documented {
        code: "5374893",
        message: "The SVM is stopped. The SVM must be running to create an iSCSI service.",
    };
    /// POST and DELETE on an ASA r2 cluster.
    pub const NOT_ON_ASA_R2: Documented = Documented {
        code: "5376452",
        message: "Service POST and DELETE are not supported on ASA r2.",
    };
    /// Metrics: no sample exists for the request.
    pub const NO_METRICS: Documented = Documented {
        code: "8585947",
        message: "No metrics are available for the requested object.",
    };
    /// Metrics: the samples could not be produced.
    pub const METRICS_FAILED: Documented = Documented {
        code: "8586225",
        message: "An unexpected error occurred retrieving metrics for the requested object.",
    };
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

    /// A documented error, blaming `target` when given.
    pub fn documented(status: StatusCode, error: Documented, target: Option<&str>) -> ApiError {
        ApiError {
            status,
            code: Some(error.code.to_owned()),
            message: error.message.to_owned(),
            target: target.map(str::to_owned),
        }
    }

    /// A request body field that exists but may not be given here (read-only, or not in a
    /// PATCH); ONTAP rejects it like an unknown field.
    pub fn field_not_settable(path: &str, why: &str) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: Some(codes::UNEXPECTED_ARGUMENT.to_owned()),
            message: format!("Field \"{path}\" {why}."),
            target: Some(path.to_owned()),
        }
    }

    /// A request body that is not a JSON object. No ONTAP code is documented for this; the
    /// invalid-value code is the closest (unverified against a real cluster).
    pub fn malformed_body(why: &str) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: Some(codes::INVALID_VALUE.to_owned()),
            message: format!("The request body is not a valid JSON object: {why}"),
            target: None,
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
