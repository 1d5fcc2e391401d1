//! Typed gateway errors become `tonic::Status` here and nowhere else, with
//! `google.rpc.ErrorInfo` always and `google.rpc.BadRequest` when a request
//! field is to blame.

use std::collections::HashMap;

use tonic::Status;
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

use crate::ontap::OntapError;
use crate::translate::GatewayError;
use crate::translate::error_table;

/// `google.rpc.ErrorInfo.domain` of every error the gateway returns.
pub const ERROR_DOMAIN: &str = "ontap-grpc-gateway";

/// The status a failed call answers with.
pub fn to_status(err: GatewayError) -> Status {
    let row = error_table::classify(&err);
    let mut metadata = HashMap::new();
    let mut violations = Vec::new();
    match &err {
        GatewayError::InvalidRequest(list) => {
            violations.extend(
                list.iter()
                    .map(|v| FieldViolation::new(v.field.clone(), v.description.clone())),
            );
        }
        GatewayError::Upstream { source, field } => {
            if let OntapError::Api { status, error } = source {
                metadata.insert("http_status".to_owned(), status.to_string());
                if let Some(code) = &error.code {
                    metadata.insert("ontap_code".to_owned(), code.clone());
                }
                if let Some(target) = &error.target {
                    metadata.insert("target".to_owned(), target.clone());
                }
                for (i, argument) in error.arguments.iter().enumerate() {
                    if let Some(message) = &argument.message {
                        metadata.insert(format!("argument_{i}"), message.clone());
                    }
                    if let Some(code) = argument.code.as_deref().filter(|c| !c.is_empty()) {
                        metadata.insert(format!("argument_{i}_code"), code.to_owned());
                    }
                }
                if let Some(field) = field {
                    violations.push(FieldViolation::new(field.clone(), error.message.clone()));
                }
            }
        }
    }
    // Failures on the way to ONTAP are the operator's concern; a caller's
    // bad request is the caller's, so it is logged quietly.
    match &err {
        GatewayError::InvalidRequest(_) => tracing::debug!(reason = row.reason, "{err}"),
        GatewayError::Upstream { .. } => {
            tracing::warn!(reason = row.reason, code = ?row.code, "{err}")
        }
    }
    let mut details = ErrorDetails::new();
    details.set_error_info(row.reason, ERROR_DOMAIN, metadata);
    if !violations.is_empty() {
        details.set_bad_request(violations);
    }
    Status::with_error_details(row.code, err.to_string(), details)
}

#[cfg(test)]
mod tests {
    use tonic_types::StatusExt;

    use super::*;
    use crate::ontap::{ApiError, ApiErrorArgument};

    #[test]
    fn ontap_arguments_become_numbered_error_info_metadata() {
        let err = GatewayError::from(OntapError::Api {
            status: 400,
            error: Box::new(ApiError {
                code: Some("262197".into()),
                message: "invalid value".into(),
                target: None,
                arguments: vec![
                    ApiErrorArgument {
                        code: Some(String::new()),
                        message: Some("vs9".into()),
                    },
                    ApiErrorArgument {
                        code: Some("7".into()),
                        message: None,
                    },
                ],
            }),
        });
        let info = to_status(err).get_details_error_info().unwrap();
        let get = |k: &str| info.metadata.get(k).map(String::as_str);
        assert_eq!(get("argument_0"), Some("vs9"));
        assert_eq!(get("argument_0_code"), None, "an empty code is left out");
        assert_eq!(get("argument_1"), None);
        assert_eq!(get("argument_1_code"), Some("7"));
    }
}
