//! The ONTAP error body and every error code the simulator emits.
//!
//! Clients branch on the ONTAP `code` rather than the HTTP status, so the codes live here, in one
//! place, where they are easy to correct once checked against a real cluster.

use axum::response::Response;
use http::StatusCode;
use serde_json::{Map, Value, json};

use crate::http::media::Media;

/// ONTAP error codes the simulator puts in error bodies.
///
/// [`ENTRY_DOESNT_EXIST`] is documented on every reference page, and the CIFS and iSCSI sessions
/// pages' table of codes any endpoint may return documents [`INVALID_FIELD`],
/// [`NOT_SUPPORTED`] and [`BODY_NOT_ALLOWED`] with their statuses; the others come from captured
/// responses of real clusters and are *unverified* against the ONTAP versions the gateway
/// targets.
pub mod codes {
    /// "Invalid, missing or extra field" (400), documented in the sessions pages' common table.
    pub const INVALID_FIELD: &str = "2";
    /// "Operation not supported" (405), documented in the sessions pages' common table.
    pub const NOT_SUPPORTED: &str = "3";
    /// A request body on GET, HEAD or DELETE (400), documented in the sessions pages' common
    /// table.
    pub const BODY_NOT_ALLOWED: &str = "262198";
    /// The account's role does not allow the request (RBAC). Unverified against a real cluster:
    /// the notes give only the status, 403.
    pub const NOT_AUTHORIZED: &str = "6";
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

/// Error codes documented on the CIFS sessions page (`cifs-sessions.md`).
pub mod cifs {
    use super::Documented;

    /// Instance DELETE with a session ID and connection ID 0, which the page rejects (its
    /// wording; the page gives no HTTP status).
    pub const CONNECTION_ID_ZERO: Documented = Documented {
        code: "655503",
        message: "A connection ID of 0 is not allowed when a session ID is given.",
    };
}

/// One entry of an error body's `arguments`: a value the message was built from, so a client can
/// show or act on it without parsing the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorArgument {
    /// Argument code.
    pub code: String,
    /// The argument's value.
    pub message: String,
}

/// An error answered with an ONTAP error body.
///
/// Every ONTAP code the simulator sends has exactly one constructor below, which decides the HTTP
/// status, message, target and arguments of that code, so a body is the same wherever the error
/// arises.
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
    /// The values the message names, in the order it names them; left out of the body when empty.
    pub arguments: Vec<ErrorArgument>,
}

/// Why a named argument (query parameter or body field) is unexpected: ONTAP answers all three
/// with the same code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unexpected {
    /// The endpoint has no such parameter or field.
    Unknown,
    /// The field exists but ONTAP generates it.
    ReadOnly,
    /// The field exists but may not be given in a PATCH.
    NotInPatch,
}

/// How a request named the SVM that does not exist; decides status, wording and target of code
/// 2621462.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SvmNamed<'a> {
    /// By UUID in the URL path (GET, PATCH, DELETE, metrics of an iSCSI service; GET of an
    /// iSCSI session, whose page gives no status for the code): 404, as for a missing path
    /// object.
    InPath(&'a str),
    /// By `svm.uuid` in a POST body: 400.
    ByUuid(&'a str),
    /// By `svm.name` in a POST body: 400.
    ByName(&'a str),
}

impl ApiError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: Some(code.to_owned()),
            message: message.into(),
            target: None,
            arguments: Vec::new(),
        }
    }

    fn documented(status: StatusCode, error: Documented) -> ApiError {
        ApiError::new(status, error.code, error.message)
    }

    fn targeting(mut self, target: &str) -> ApiError {
        self.target = Some(target.to_owned());
        self
    }

    /// Adds arguments, coded with the error's own code. *Unverified*: the reference pages show
    /// the shape (`{"code", "message"}`) but not which code a cluster puts in an argument; this
    /// is the one place to change once that is checked.
    fn with_arguments(mut self, values: &[&str]) -> ApiError {
        let code = self.code.clone().unwrap_or_default();
        self.arguments = values
            .iter()
            .map(|value| ErrorArgument {
                code: code.clone(),
                message: (*value).to_owned(),
            })
            .collect();
        self
    }

    /// 4, 404: a path that names no API. ONTAP sends no arguments with it.
    pub fn not_found() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            codes::ENTRY_DOESNT_EXIST,
            "entry doesn't exist",
        )
    }

    /// 262179, 400: an argument (query parameter or body field, named by its dotted path) the
    /// request may not give. Argument: the name.
    pub fn unexpected_argument(name: &str, why: Unexpected) -> ApiError {
        let message = match why {
            Unexpected::Unknown => format!("Unexpected argument \"{name}\"."),
            Unexpected::ReadOnly => format!("Field \"{name}\" is read-only."),
            Unexpected::NotInPatch => {
                format!("Field \"{name}\" cannot be specified in a PATCH method.")
            }
        };
        ApiError::new(StatusCode::BAD_REQUEST, codes::UNEXPECTED_ARGUMENT, message)
            .targeting(name)
            .with_arguments(&[name])
    }

    /// 262197, 400: a value that cannot be used; `why` says what is wrong with it. `field` names
    /// the parameter or body field; `None` means the request body as a whole, which is not a JSON
    /// object (no ONTAP code is documented for that; this is the closest, unverified).
    /// Arguments: the value, then the field, in the message's order.
    pub fn invalid_value<'a>(
        field: impl Into<Option<&'a str>>,
        value: &str,
        why: &str,
    ) -> ApiError {
        match field.into() {
            Some(field) => ApiError::new(
                StatusCode::BAD_REQUEST,
                codes::INVALID_VALUE,
                format!("\"{value}\" is an invalid value for field \"{field}\": {why}"),
            )
            .targeting(field)
            .with_arguments(&[value, field]),
            None => ApiError::new(
                StatusCode::BAD_REQUEST,
                codes::INVALID_VALUE,
                format!("The request body is not a valid JSON object: {why}"),
            )
            .with_arguments(&[why]),
        }
    }

    /// 2, 400: a query-based DELETE on a collection without any field filter, which would
    /// delete everything; the pages' general rule requires at least one. Nothing to name in
    /// arguments.
    pub fn filter_required() -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::INVALID_FIELD,
            "A DELETE on a collection needs at least one field filter in the query.",
        )
    }

    /// 262198, 400: a body on a DELETE of one record, which takes none (documented in the
    /// sessions pages' common table).
    pub fn body_not_allowed() -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::BODY_NOT_ALLOWED,
            "A request body is not allowed on GET, HEAD and DELETE.",
        )
    }

    /// 262198, 400: a record-based DELETE on a collection (`{"records": [...]}`). ONTAP runs it
    /// as a job (202 and a job link); the simulator serves no jobs, so it takes no records and
    /// says how to get the same done. Target: `records`.
    pub fn records_not_supported() -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::BODY_NOT_ALLOWED,
            "Record-based DELETE runs as a job, which this simulator does not serve: delete by \
             query instead, with the records' fields as filters.",
        )
        .targeting("records")
    }

    /// 655503, 400: a CIFS session DELETE naming a session with connection ID 0 (the page
    /// documents the code, not the status; 400 is ONTAP's status for a request it refuses as
    /// given). Argument: the session ID.
    pub fn connection_id_zero(identifier: &str) -> ApiError {
        ApiError::documented(StatusCode::BAD_REQUEST, cifs::CONNECTION_ID_ZERO)
            .targeting("connection_id")
            .with_arguments(&[identifier])
    }

    /// 1115127, 400: POST on a cluster without an iSCSI license.
    pub fn not_licensed() -> ApiError {
        ApiError::documented(StatusCode::BAD_REQUEST, iscsi::NOT_LICENSED)
    }

    /// 2621462: the SVM does not exist. Argument: the UUID or name the request gave.
    pub fn svm_does_not_exist(named: SvmNamed<'_>) -> ApiError {
        let (error, status, target, value) = match named {
            SvmNamed::InPath(uuid) => (
                iscsi::SVM_UUID_MISSING,
                StatusCode::NOT_FOUND,
                "svm.uuid",
                uuid,
            ),
            SvmNamed::ByUuid(uuid) => (
                iscsi::SUPPLIED_SVM_MISSING,
                StatusCode::BAD_REQUEST,
                "svm.uuid",
                uuid,
            ),
            SvmNamed::ByName(name) => (
                iscsi::SUPPLIED_SVM_MISSING,
                StatusCode::BAD_REQUEST,
                "svm.name",
                name,
            ),
        };
        ApiError::documented(status, error)
            .targeting(target)
            .with_arguments(&[value])
    }

    /// 2621507, 400: the SVM's allowed protocols exclude iSCSI. Argument: the SVM's name.
    pub fn protocol_not_allowed(svm_name: &str) -> ApiError {
        ApiError::documented(StatusCode::BAD_REQUEST, iscsi::PROTOCOL_NOT_ALLOWED)
            .with_arguments(&[svm_name])
    }

    /// 2621706, 400: `svm.uuid` and `svm.name` name different SVMs. Arguments: both, as given.
    pub fn svm_mismatch(svm_uuid: &str, svm_name: &str) -> ApiError {
        ApiError::documented(StatusCode::BAD_REQUEST, iscsi::SVM_MISMATCH)
            .with_arguments(&[svm_uuid, svm_name])
    }

    /// 2621707, 400: POST naming no SVM; there is nothing to name in arguments.
    pub fn svm_not_specified() -> ApiError {
        ApiError::documented(StatusCode::BAD_REQUEST, iscsi::SVM_NOT_SPECIFIED)
    }

    /// 5373960, 409: DELETE of an enabled service. Argument: the SVM's UUID from the path.
    pub fn service_enabled(svm_uuid: &str) -> ApiError {
        ApiError::documented(StatusCode::CONFLICT, iscsi::SERVICE_ENABLED)
            .with_arguments(&[svm_uuid])
    }

    /// 5373966, 400: POST on an SVM configured for NVMe. Argument: the SVM's name.
    pub fn svm_has_nvme(svm_name: &str) -> ApiError {
        ApiError::documented(StatusCode::BAD_REQUEST, iscsi::SVM_HAS_NVME)
            .with_arguments(&[svm_name])
    }

    /// 5374077, 409: POST for an SVM that has a service. Argument: the SVM's name.
    pub fn service_exists(svm_name: &str) -> ApiError {
        ApiError::documented(StatusCode::CONFLICT, iscsi::SERVICE_EXISTS)
            .with_arguments(&[svm_name])
    }

    /// 5374078, 404: the SVM in the path has no service. Argument: the SVM's UUID.
    pub fn no_service(svm_uuid: &str) -> ApiError {
        ApiError::documented(StatusCode::NOT_FOUND, iscsi::NO_SERVICE)
            .targeting("svm.uuid")
            .with_arguments(&[svm_uuid])
    }

    /// 5374893, 400: POST on a stopped SVM. Argument: the SVM's name.
    pub fn svm_stopped(svm_name: &str) -> ApiError {
        ApiError::documented(StatusCode::BAD_REQUEST, iscsi::SVM_STOPPED)
            .with_arguments(&[svm_name])
    }

    /// 5376452, 400: POST or DELETE on an ASA r2 cluster.
    pub fn not_on_asa_r2() -> ApiError {
        ApiError::documented(StatusCode::BAD_REQUEST, iscsi::NOT_ON_ASA_R2)
    }

    /// 8585947, 404: no sample exists for the request (a brand-new service, a timestamp on no
    /// series).
    pub fn no_metrics() -> ApiError {
        ApiError::documented(StatusCode::NOT_FOUND, iscsi::NO_METRICS)
    }

    /// 8586225, 500: the samples could not be produced.
    pub fn metrics_failed() -> ApiError {
        ApiError::documented(StatusCode::INTERNAL_SERVER_ERROR, iscsi::METRICS_FAILED)
    }

    /// 3, 405: a method the resource does not support ("operation not supported", as the
    /// sessions pages' common table documents it). Nothing to name in arguments.
    pub fn method_not_allowed(method: &http::Method) -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            codes::NOT_SUPPORTED,
            format!("The method \"{method}\" is not supported on this resource."),
        )
    }

    /// 401: failed or missing Basic authentication; ONTAP sends a message and no code.
    pub fn unauthorized() -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: None,
            message: "User is not authorized.".to_owned(),
            target: None,
            arguments: Vec::new(),
        }
    }

    /// 6, 403: the account authenticated, but its role does not allow the request (a read-only
    /// account sending a write).
    pub fn not_authorized() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            codes::NOT_AUTHORIZED,
            "not authorized for that command",
        )
    }

    /// The JSON body: `{"error": {"message", "code"?, "target"?, "arguments"?}}`.
    pub fn body(&self) -> Value {
        let mut error = Map::new();
        if let Some(code) = &self.code {
            error.insert("code".to_owned(), json!(code));
        }
        error.insert("message".to_owned(), json!(self.message));
        if let Some(target) = &self.target {
            error.insert("target".to_owned(), json!(target));
        }
        if !self.arguments.is_empty() {
            let arguments: Vec<Value> = self
                .arguments
                .iter()
                .map(|a| json!({ "code": a.code, "message": a.message }))
                .collect();
            error.insert("arguments".to_owned(), Value::Array(arguments));
        }
        json!({ "error": error })
    }

    /// Renders the error in the media type the client negotiated.
    pub fn into_response_as(self, media: Media) -> Response {
        media.respond(self.status, &self.body())
    }
}

/// What a PATCH or DELETE that returns no job answers: `200 {}` when it was done, else its
/// error, both in the media type the client negotiated.
pub fn done_or_error(result: Result<(), ApiError>, media: Media) -> Response {
    match result {
        Ok(()) => media.respond(StatusCode::OK, &json!({})),
        Err(error) => error.into_response_as(media),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arguments(error: &ApiError) -> Value {
        error.body()["error"]["arguments"].clone()
    }

    #[test]
    fn unexpected_argument_names_the_parameter_in_message_target_and_arguments() {
        let body = ApiError::unexpected_argument("foo", Unexpected::Unknown).body();
        assert_eq!(body["error"]["code"], "262179");
        assert_eq!(body["error"]["message"], "Unexpected argument \"foo\".");
        assert_eq!(body["error"]["target"], "foo");
        assert_eq!(
            body["error"]["arguments"],
            json!([{"code": "262179", "message": "foo"}])
        );
    }

    #[test]
    fn invalid_value_arguments_are_the_value_then_the_field() {
        let error = ApiError::invalid_value("max_records", "ten", "expected a positive integer");
        assert_eq!(
            arguments(&error),
            json!([
                {"code": "262197", "message": "ten"},
                {"code": "262197", "message": "max_records"},
            ])
        );
        assert_eq!(error.target.as_deref(), Some("max_records"));
    }

    #[test]
    fn malformed_body_blames_no_field() {
        let error = ApiError::invalid_value(None, "", "expected an object");
        assert_eq!(error.code.as_deref(), Some("262197"));
        assert_eq!(error.target, None);
    }

    #[test]
    fn svm_does_not_exist_wording_status_and_target_follow_how_the_svm_was_named() {
        let path = ApiError::svm_does_not_exist(SvmNamed::InPath("u1"));
        assert_eq!(path.status, StatusCode::NOT_FOUND);
        assert_eq!(
            path.message,
            "An SVM with the specified UUID does not exist."
        );
        assert_eq!(path.target.as_deref(), Some("svm.uuid"));
        assert_eq!(
            arguments(&path),
            json!([{"code": "2621462", "message": "u1"}])
        );
        let by_name = ApiError::svm_does_not_exist(SvmNamed::ByName("vs9"));
        assert_eq!(by_name.status, StatusCode::BAD_REQUEST);
        assert_eq!(by_name.message, "The supplied SVM does not exist.");
        assert_eq!(by_name.target.as_deref(), Some("svm.name"));
        assert_eq!(
            arguments(&by_name),
            json!([{"code": "2621462", "message": "vs9"}])
        );
    }

    #[test]
    fn errors_with_nothing_to_name_have_no_arguments_member() {
        for error in [
            ApiError::not_found(),
            ApiError::svm_not_specified(),
            ApiError::no_metrics(),
            ApiError::filter_required(),
            ApiError::body_not_allowed(),
        ] {
            assert!(
                error.body()["error"].get("arguments").is_none(),
                "{error:?}"
            );
        }
    }

    #[test]
    fn connection_id_zero_is_a_400_with_the_pages_code_naming_the_session() {
        let error = ApiError::connection_id_zero("42");
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(error.code.as_deref(), Some("655503"));
        assert_eq!(error.target.as_deref(), Some("connection_id"));
        assert_eq!(
            arguments(&error),
            json!([{"code": "655503", "message": "42"}])
        );
    }

    #[test]
    fn method_not_allowed_is_a_405_with_code_3() {
        let error = ApiError::method_not_allowed(&http::Method::PUT);
        assert_eq!(error.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(error.code.as_deref(), Some("3"));
        assert!(error.message.contains("PUT"), "{}", error.message);
    }

    #[test]
    fn unauthorized_body_has_a_message_and_no_code() {
        let body = ApiError::unauthorized().body();
        assert!(body["error"]["message"].is_string());
        assert!(body["error"].get("code").is_none());
    }

    #[test]
    fn not_authorized_is_a_403_with_code_6_and_nothing_to_name() {
        let error = ApiError::not_authorized();
        assert_eq!(error.status, StatusCode::FORBIDDEN);
        assert_eq!(
            error.body(),
            json!({"error": {"code": "6", "message": "not authorized for that command"}})
        );
    }
}
