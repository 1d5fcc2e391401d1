//! The one table from ONTAP failures to gRPC codes.
//!
//! A failure is matched by its ONTAP error code first (the code is more
//! specific than the HTTP status and is what ONTAP documents clients should
//! branch on), then by its HTTP status, then by the kind of transport
//! failure. Every row has a stable `reason` for `google.rpc.ErrorInfo`; the
//! table in `docs/errors.md` is this table, and a test keeps them in step.

use tonic::Code;

use super::GatewayError;
use crate::ontap::OntapError;

/// What a row matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// ONTAP's `error.code`, whatever the HTTP status.
    OntapCode(&'static str),
    /// The HTTP status of an ONTAP error response without a listed code.
    HttpStatus(u16),
    /// An HTTP error status no other row lists.
    OtherHttpStatus,
    /// The request was invalid before anything went upstream.
    InvalidRequest,
    /// ONTAP answered 401 to the gateway's own credentials.
    CredentialsRejected,
    /// ONTAP answered 401 to the caller's own credentials (pass-through).
    CallerRejected,
    /// A pass-through call brought no Basic credentials to forward.
    CallerCredentialsMissing,
    /// The gateway's policy does not let the caller make the call.
    CallerNotPermitted,
    /// `x-ontap-cluster` names no configured cluster.
    UnknownCluster,
    /// Several clusters are configured and the call named none.
    ClusterNotChosen,
    /// The cluster's TLS certificate did not verify.
    CertificateRejected,
    /// Connection refused, DNS or TLS failure.
    Unreachable,
    /// The connection broke mid-exchange.
    ConnectionLost,
    /// No answer within the deadline or the client's bound.
    Timeout,
    /// The gateway's bound on in-flight requests stayed full.
    Overloaded,
    /// The caller's deadline passed while waiting for an upstream slot.
    QueuedPastDeadline,
    /// The response exceeded the gateway's size limit.
    ResponseTooLarge,
    /// Responses in flight would exceed the gateway's memory budget.
    MemoryBudget,
    /// The response was not the documented JSON.
    Malformed,
    /// A watcher fell too far behind its watch.
    WatchTooSlow,
    /// One record is larger than a response may be.
    RecordTooLarge,
    /// The cluster's circuit breaker is open.
    CircuitOpen,
    /// The gateway is shutting down.
    ShuttingDown,
    /// The call's metadata is over the gateway's limit.
    MetadataTooLarge,
    /// The call carried no bearer token the gateway accepts.
    CallerUnauthenticated,
    /// The request message is over the gateway's limit.
    RequestTooLarge,
    /// A unary method's request held more or fewer than one message.
    RequestCardinality,
    /// The request's gRPC framing (or gRPC-Web-text base64) is broken.
    MalformedRequest,
    /// The request body failed before it was whole.
    RequestBodyUnreadable,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// What the row matches.
    pub matches: Match,
    /// The gRPC code returned.
    pub code: Code,
    /// `google.rpc.ErrorInfo.reason`: stable, UPPER_SNAKE_CASE.
    pub reason: &'static str,
    /// What the failure means, from the ONTAP pages.
    pub meaning: &'static str,
}

const fn row(matches: Match, code: Code, reason: &'static str, meaning: &'static str) -> Row {
    Row {
        matches,
        code,
        reason,
        meaning,
    }
}

/// The table, most specific rows first.
#[rustfmt::skip]
pub const TABLE: &[Row] = &[
    // ONTAP error codes (cifs-connections.txt, iscsi-services.txt).
    row(Match::OntapCode("4"), Code::NotFound, "ENTRY_NOT_FOUND", "entry doesn't exist"),
    row(Match::OntapCode("655503"), Code::InvalidArgument, "CIFS_SESSION_CONNECTION_REQUIRED", "closing one SMB session needs its connection's identifier (connection_id 0 closes by connection only with identifier 0)"),
    row(Match::OntapCode("1115127"), Code::FailedPrecondition, "ISCSI_LICENSE_MISSING", "the cluster lacks a valid iSCSI license"),
    row(Match::OntapCode("2621462"), Code::NotFound, "SVM_NOT_FOUND", "the SVM does not exist"),
    row(Match::OntapCode("2621507"), Code::FailedPrecondition, "PROTOCOL_NOT_ALLOWED", "the iSCSI protocol is not allowed for the SVM"),
    row(Match::OntapCode("2621706"), Code::InvalidArgument, "SVM_UUID_NAME_MISMATCH", "svm.uuid and svm.name do not refer to the same SVM"),
    row(Match::OntapCode("2621707"), Code::InvalidArgument, "SVM_NOT_SPECIFIED", "neither svm.name nor svm.uuid was supplied"),
    row(Match::OntapCode("5373960"), Code::FailedPrecondition, "ISCSI_SERVICE_ENABLED", "the iSCSI service must be disabled before it can be deleted"),
    row(Match::OntapCode("5373966"), Code::FailedPrecondition, "SVM_CONFIGURED_FOR_NVME", "an iSCSI service cannot be created in an SVM configured for NVMe"),
    row(Match::OntapCode("5374077"), Code::AlreadyExists, "ISCSI_SERVICE_EXISTS", "an iSCSI service already exists for the SVM"),
    row(Match::OntapCode("5374078"), Code::NotFound, "ISCSI_SERVICE_NOT_FOUND", "the SVM does not have an iSCSI service"),
    row(Match::OntapCode("5374893"), Code::FailedPrecondition, "SVM_STOPPED", "the SVM is stopped and must be running"),
    row(Match::OntapCode("5376452"), Code::Unimplemented, "NOT_SUPPORTED_ON_ASA_R2", "service POST and DELETE are not supported on ASA r2"),
    row(Match::OntapCode("8585947"), Code::NotFound, "METRICS_NOT_AVAILABLE", "no metrics are available for the requested object"),
    row(Match::OntapCode("8586225"), Code::Internal, "METRICS_RETRIEVAL_FAILED", "an unexpected error occurred retrieving metrics"),
    // Common request errors ONTAP answers with 400. Unverified against a
    // real cluster: the codes come from ONTAP's general error catalogue.
    row(Match::OntapCode("262179"), Code::InvalidArgument, "UNEXPECTED_ARGUMENT", "an unexpected request argument"),
    row(Match::OntapCode("262197"), Code::InvalidArgument, "INVALID_ARGUMENT_VALUE", "an invalid value for a request argument"),
    // Codes any endpoint may return (the pages' common error table).
    row(Match::OntapCode("2"), Code::InvalidArgument, "INVALID_FIELD", "an invalid, missing or extra field"),
    row(Match::OntapCode("3"), Code::Unimplemented, "OPERATION_NOT_SUPPORTED", "the operation is not supported"),
    row(Match::OntapCode("6"), Code::PermissionDenied, "ONTAP_PERMISSION_DENIED", "ONTAP denied permission for the operation"),
    row(Match::OntapCode("7"), Code::ResourceExhausted, "ONTAP_RESOURCE_LIMIT", "a resource limit in ONTAP was exceeded"),
    row(Match::OntapCode("8"), Code::Aborted, "RESOURCE_IN_USE", "the resource is in use; try again once it is free"),
    row(Match::OntapCode("65541"), Code::Unavailable, "ONTAP_RPC_TIMEOUT", "an RPC inside the cluster timed out"),
    row(Match::OntapCode("65552"), Code::Unavailable, "ONTAP_RPC_FAILED", "an RPC inside the cluster failed"),
    row(Match::OntapCode("65562"), Code::Internal, "ONTAP_RPC_INTERNAL_ERROR", "an internal RPC error inside the cluster"),
    row(Match::OntapCode("262145"), Code::Internal, "ONTAP_UNEXPECTED_EXCEPTION", "an unexpected exception in ONTAP's application code"),
    row(Match::OntapCode("262160"), Code::ResourceExhausted, "ONTAP_TOO_MANY_REQUESTS", "too many requests in progress in ONTAP; retry shortly"),
    row(Match::OntapCode("262185"), Code::InvalidArgument, "INVALID_VALUE", "an invalid value; ONTAP's message names the value and field"),
    row(Match::OntapCode("262198"), Code::InvalidArgument, "REQUEST_BODY_NOT_ALLOWED", "a request body on GET, HEAD or DELETE"),
    row(Match::OntapCode("262210"), Code::Unavailable, "ORDER_BY_TIMED_OUT", "ONTAP could not complete order_by within the timeout under its current load"),
    row(Match::OntapCode("262247"), Code::InvalidArgument, "INVALID_FIELD_VALUE", "an invalid value for a field"),
    row(Match::OntapCode("262249"), Code::InvalidArgument, "FIELD_NOT_READABLE", "a field that cannot be read, so cannot be requested"),
    row(Match::OntapCode("262250"), Code::InvalidArgument, "FIELD_NOT_QUERYABLE", "a field that cannot be read, so cannot be queried"),
    row(Match::OntapCode("262268"), Code::InvalidArgument, "FIELD_NOT_ORDERABLE", "a field that cannot be used in order_by"),
    row(Match::OntapCode("262286"), Code::InvalidArgument, "UNBALANCED_FIELD_BRACES", "unbalanced braces in fields"),
    row(Match::OntapCode("6691623"), Code::PermissionDenied, "USER_NOT_AUTHORIZED", "ONTAP's user is not authorized for the operation"),
    row(Match::OntapCode("8586226"), Code::NotFound, "UUID_NOT_FOUND", "the specified UUID was not found"),
    // HTTP statuses (ontap-rest-notes.md).
    row(Match::HttpStatus(400), Code::InvalidArgument, "BAD_REQUEST", "the request input is not recognised or inappropriate"),
    row(Match::HttpStatus(403), Code::PermissionDenied, "PERMISSION_DENIED", "ONTAP's RBAC denied the call"),
    row(Match::HttpStatus(404), Code::NotFound, "NOT_FOUND", "the resource in the path does not exist"),
    row(Match::HttpStatus(405), Code::Unimplemented, "METHOD_NOT_ALLOWED", "the method is not supported on the resource"),
    row(Match::HttpStatus(409), Code::AlreadyExists, "CONFLICT", "the object already exists"),
    row(Match::HttpStatus(429), Code::ResourceExhausted, "TOO_MANY_REQUESTS", "ONTAP's request queue is full"),
    row(Match::HttpStatus(500), Code::Internal, "ONTAP_INTERNAL_ERROR", "a general internal error in ONTAP"),
    row(Match::HttpStatus(502), Code::Unavailable, "BAD_GATEWAY", "a proxy in front of ONTAP failed"),
    row(Match::HttpStatus(503), Code::Unavailable, "SERVICE_UNAVAILABLE", "ONTAP is unavailable"),
    row(Match::HttpStatus(504), Code::DeadlineExceeded, "GATEWAY_TIMEOUT", "a proxy in front of ONTAP timed out"),
    row(Match::OtherHttpStatus, Code::Unknown, "UNEXPECTED_HTTP_STATUS", "an HTTP error status ONTAP does not document"),
    // Failures on the way to ONTAP.
    row(Match::InvalidRequest, Code::InvalidArgument, "INVALID_REQUEST", "the gateway rejected the request before calling ONTAP"),
    row(Match::CallerCredentialsMissing, Code::Unauthenticated, "CALLER_CREDENTIALS_MISSING", "the cluster takes each caller's own ONTAP credentials (pass-through) and the call carried no `authorization: Basic` metadata; nothing was sent"),
    row(Match::CallerRejected, Code::Unauthenticated, "CALLER_CREDENTIALS_REJECTED", "ONTAP refused the caller's own credentials (HTTP 401, pass-through)"),
    row(Match::CallerNotPermitted, Code::PermissionDenied, "CALLER_NOT_PERMITTED", "the gateway's policy (--policy) does not let the caller make this call on this SVM and cluster; metadata names the identity, cluster, SVM and method, and nothing was sent"),
    row(Match::UnknownCluster, Code::NotFound, "CLUSTER_UNKNOWN", "`x-ontap-cluster` names no cluster the gateway fronts"),
    row(Match::ClusterNotChosen, Code::InvalidArgument, "CLUSTER_NOT_CHOSEN", "the gateway fronts several clusters and the call named none with `x-ontap-cluster`"),
    row(Match::CredentialsRejected, Code::Unavailable, "GATEWAY_CREDENTIALS_REJECTED", "ONTAP refused the gateway's configured credentials (HTTP 401): the operator's to fix, not the caller's"),
    row(Match::CertificateRejected, Code::Unavailable, "UPSTREAM_CERTIFICATE_UNTRUSTED", "the cluster's TLS certificate did not verify against the CAs the gateway trusts (--ca-cert)"),
    row(Match::Unreachable, Code::Unavailable, "UPSTREAM_UNREACHABLE", "connection refused, DNS or TLS failure"),
    row(Match::ConnectionLost, Code::Unavailable, "UPSTREAM_CONNECTION_LOST", "the connection to ONTAP broke mid-exchange"),
    row(Match::Timeout, Code::DeadlineExceeded, "UPSTREAM_TIMEOUT", "ONTAP did not answer within the deadline or the gateway's request timeout"),
    row(Match::QueuedPastDeadline, Code::DeadlineExceeded, "QUEUED_PAST_DEADLINE", "the caller's deadline passed while every upstream request slot was busy; nothing was sent"),
    row(Match::Overloaded, Code::ResourceExhausted, "UPSTREAM_CONCURRENCY_LIMIT", "every upstream request slot stayed busy for the queue timeout"),
    row(Match::ResponseTooLarge, Code::ResourceExhausted, "UPSTREAM_RESPONSE_TOO_LARGE", "ONTAP's response exceeded the gateway's size limit"),
    row(Match::MemoryBudget, Code::ResourceExhausted, "UPSTREAM_MEMORY_BUDGET", "responses being read at once would pass the gateway's memory budget"),
    row(Match::Malformed, Code::Internal, "UPSTREAM_MALFORMED_RESPONSE", "ONTAP's response was not the documented JSON"),
    row(Match::CircuitOpen, Code::Unavailable, "UPSTREAM_CIRCUIT_OPEN", "ONTAP failed so many times in a row that calls fail at once until a probe finds it back"),
    // Failures of the gateway's own making.
    row(Match::ShuttingDown, Code::Unavailable, "GATEWAY_SHUTTING_DOWN", "the gateway is shutting down and ended the stream; call again, on another replica if there is one"),
    row(Match::RecordTooLarge, Code::ResourceExhausted, "RECORD_TOO_LARGE", "one record is larger than the 4 MiB message a gRPC client receives at its defaults; `bytes` and `limit` say by how much, and a read_mask with fewer fields makes it fit"),
    row(Match::WatchTooSlow, Code::ResourceExhausted, "WATCH_TOO_SLOW", "a watcher read so much more slowly than its watch changed that it can no longer know what changed"),
    // Refused by the call layers, before any handler ran.
    row(Match::MetadataTooLarge, Code::ResourceExhausted, "METADATA_TOO_LARGE", "the call's metadata is over the gateway's limit (16 KiB); `metadata_key` names its largest entry"),
    row(Match::CallerUnauthenticated, Code::Unauthenticated, "CALLER_UNAUTHENTICATED", "the gateway takes bearer tokens (--auth-tokens) or JWTs (--jwks) and the call brought none it accepts"),
    row(Match::RequestTooLarge, Code::ResourceExhausted, "REQUEST_TOO_LARGE", "the request message is over the gateway's limit (--max-request-bytes)"),
    row(Match::RequestCardinality, Code::Unimplemented, "REQUEST_CARDINALITY", "a method that takes one request message got none, or several"),
    row(Match::MalformedRequest, Code::InvalidArgument, "MALFORMED_REQUEST", "the request's gRPC framing is broken (truncated, a bad flag byte, gRPC-Web-text that is not base64) or its message does not decode"),
    row(Match::RequestBodyUnreadable, Code::Cancelled, "REQUEST_BODY_UNREADABLE", "the request body failed (the caller reset the stream, or it stalled past --request-body-timeout) before it was whole"),
];

/// The row for a failure.
pub fn classify(err: &GatewayError) -> &'static Row {
    let wanted = match err {
        GatewayError::InvalidRequest(_) => Match::InvalidRequest,
        GatewayError::WatchTooSlow { .. } => Match::WatchTooSlow,
        GatewayError::RecordTooLarge { .. } => Match::RecordTooLarge,
        GatewayError::ShuttingDown => Match::ShuttingDown,
        GatewayError::CallerUnauthenticated(_) => Match::CallerCredentialsMissing,
        GatewayError::NotPermitted(_) => Match::CallerNotPermitted,
        GatewayError::UnknownCluster { .. } => Match::UnknownCluster,
        GatewayError::ClusterNotChosen { .. } => Match::ClusterNotChosen,
        // A change whose read-back failed answers as the read failed.
        GatewayError::NotReadBack { source, .. } => {
            return classify(&GatewayError::from(source.clone()));
        }
        GatewayError::Upstream { source, .. } => match source {
            OntapError::Api { status, error } => {
                let by_code = error.code.as_deref().and_then(|code| {
                    TABLE
                        .iter()
                        .find(|row| matches!(row.matches, Match::OntapCode(c) if c == code))
                });
                if let Some(row) = by_code.or_else(|| find(Match::HttpStatus(*status))) {
                    return row;
                }
                Match::OtherHttpStatus
            }
            OntapError::CredentialsRejected { .. } => Match::CredentialsRejected,
            OntapError::CallerRejected { .. } => Match::CallerRejected,
            OntapError::CertificateRejected(_) => Match::CertificateRejected,
            OntapError::Unreachable(_) => Match::Unreachable,
            OntapError::ConnectionLost(_) => Match::ConnectionLost,
            OntapError::Timeout { .. } => Match::Timeout,
            OntapError::Overloaded { .. } => Match::Overloaded,
            OntapError::QueuedPastDeadline { .. } => Match::QueuedPastDeadline,
            OntapError::ResponseTooLarge { .. } => Match::ResponseTooLarge,
            OntapError::MemoryBudget { .. } => Match::MemoryBudget,
            OntapError::Malformed(_) => Match::Malformed,
            OntapError::CircuitOpen { .. } => Match::CircuitOpen,
        },
    };
    find(wanted).expect("every failure kind has a row")
}

fn find(wanted: Match) -> Option<&'static Row> {
    TABLE.iter().find(|row| row.matches == wanted)
}

/// The row of a refusal the call layers make themselves.
pub fn refusal_row(refusal: Match) -> &'static Row {
    find(refusal).expect("every refusal the layers make has a row")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::ontap::{ApiError, TimeBound};

    fn api(status: u16, code: Option<&str>) -> GatewayError {
        OntapError::Api {
            status,
            error: Box::new(ApiError {
                code: code.map(str::to_owned),
                message: "m".into(),
                ..ApiError::default()
            }),
        }
        .into()
    }

    fn classified(err: GatewayError) -> (Code, &'static str) {
        let row = classify(&err);
        (row.code, row.reason)
    }

    /// One test per row, and the list of reasons they cover.
    macro_rules! row_tests {
        ($($name:ident, $err:expr, $code:expr, $reason:expr;)*) => {
            $(
                #[test]
                fn $name() {
                    assert_eq!(classified($err), ($code, $reason));
                }
            )*

            /// The reasons the tests above reach.
            pub const TESTED: &[&str] = &[$($reason),*];
        };
    }

    /// One test per row of the table.
    #[rustfmt::skip]
    mod rows {
        use super::*;

        row_tests! {
            code_4_is_not_found, api(404, Some("4")), Code::NotFound, "ENTRY_NOT_FOUND";
            code_655503_is_invalid_argument, api(400, Some("655503")), Code::InvalidArgument, "CIFS_SESSION_CONNECTION_REQUIRED";
            code_1115127_is_failed_precondition, api(400, Some("1115127")), Code::FailedPrecondition, "ISCSI_LICENSE_MISSING";
            code_2621462_is_not_found, api(404, Some("2621462")), Code::NotFound, "SVM_NOT_FOUND";
            code_2621507_is_failed_precondition, api(400, Some("2621507")), Code::FailedPrecondition, "PROTOCOL_NOT_ALLOWED";
            code_2621706_is_invalid_argument, api(400, Some("2621706")), Code::InvalidArgument, "SVM_UUID_NAME_MISMATCH";
            code_2621707_is_invalid_argument, api(400, Some("2621707")), Code::InvalidArgument, "SVM_NOT_SPECIFIED";
            code_5373960_is_failed_precondition, api(409, Some("5373960")), Code::FailedPrecondition, "ISCSI_SERVICE_ENABLED";
            code_5373966_is_failed_precondition, api(400, Some("5373966")), Code::FailedPrecondition, "SVM_CONFIGURED_FOR_NVME";
            code_5374077_is_already_exists, api(409, Some("5374077")), Code::AlreadyExists, "ISCSI_SERVICE_EXISTS";
            code_5374078_is_not_found, api(404, Some("5374078")), Code::NotFound, "ISCSI_SERVICE_NOT_FOUND";
            code_5374893_is_failed_precondition, api(400, Some("5374893")), Code::FailedPrecondition, "SVM_STOPPED";
            code_5376452_is_unimplemented, api(405, Some("5376452")), Code::Unimplemented, "NOT_SUPPORTED_ON_ASA_R2";
            code_8585947_is_not_found, api(404, Some("8585947")), Code::NotFound, "METRICS_NOT_AVAILABLE";
            code_8586225_is_internal, api(500, Some("8586225")), Code::Internal, "METRICS_RETRIEVAL_FAILED";
            code_262179_is_invalid_argument, api(400, Some("262179")), Code::InvalidArgument, "UNEXPECTED_ARGUMENT";
            code_262197_is_invalid_argument, api(400, Some("262197")), Code::InvalidArgument, "INVALID_ARGUMENT_VALUE";
            code_2_is_invalid_argument, api(400, Some("2")), Code::InvalidArgument, "INVALID_FIELD";
            code_3_is_unimplemented, api(405, Some("3")), Code::Unimplemented, "OPERATION_NOT_SUPPORTED";
            code_6_is_permission_denied, api(403, Some("6")), Code::PermissionDenied, "ONTAP_PERMISSION_DENIED";
            code_7_is_resource_exhausted, api(429, Some("7")), Code::ResourceExhausted, "ONTAP_RESOURCE_LIMIT";
            code_8_is_aborted, api(409, Some("8")), Code::Aborted, "RESOURCE_IN_USE";
            code_65541_is_unavailable, api(500, Some("65541")), Code::Unavailable, "ONTAP_RPC_TIMEOUT";
            code_65552_is_unavailable, api(500, Some("65552")), Code::Unavailable, "ONTAP_RPC_FAILED";
            code_65562_is_internal, api(500, Some("65562")), Code::Internal, "ONTAP_RPC_INTERNAL_ERROR";
            code_262145_is_internal, api(500, Some("262145")), Code::Internal, "ONTAP_UNEXPECTED_EXCEPTION";
            code_262160_is_resource_exhausted, api(429, Some("262160")), Code::ResourceExhausted, "ONTAP_TOO_MANY_REQUESTS";
            code_262185_is_invalid_argument, api(400, Some("262185")), Code::InvalidArgument, "INVALID_VALUE";
            code_262198_is_invalid_argument, api(400, Some("262198")), Code::InvalidArgument, "REQUEST_BODY_NOT_ALLOWED";
            code_262210_is_unavailable, api(500, Some("262210")), Code::Unavailable, "ORDER_BY_TIMED_OUT";
            code_262247_is_invalid_argument, api(400, Some("262247")), Code::InvalidArgument, "INVALID_FIELD_VALUE";
            code_262249_is_invalid_argument, api(400, Some("262249")), Code::InvalidArgument, "FIELD_NOT_READABLE";
            code_262250_is_invalid_argument, api(400, Some("262250")), Code::InvalidArgument, "FIELD_NOT_QUERYABLE";
            code_262268_is_invalid_argument, api(400, Some("262268")), Code::InvalidArgument, "FIELD_NOT_ORDERABLE";
            code_262286_is_invalid_argument, api(400, Some("262286")), Code::InvalidArgument, "UNBALANCED_FIELD_BRACES";
            code_6691623_is_permission_denied, api(400, Some("6691623")), Code::PermissionDenied, "USER_NOT_AUTHORIZED";
            code_8586226_is_not_found, api(400, Some("8586226")), Code::NotFound, "UUID_NOT_FOUND";
            http_400_is_invalid_argument, api(400, None), Code::InvalidArgument, "BAD_REQUEST";
            http_403_is_permission_denied, api(403, None), Code::PermissionDenied, "PERMISSION_DENIED";
            http_404_is_not_found, api(404, None), Code::NotFound, "NOT_FOUND";
            http_405_is_unimplemented, api(405, None), Code::Unimplemented, "METHOD_NOT_ALLOWED";
            http_409_is_already_exists, api(409, None), Code::AlreadyExists, "CONFLICT";
            http_429_is_resource_exhausted, api(429, None), Code::ResourceExhausted, "TOO_MANY_REQUESTS";
            http_500_is_internal, api(500, None), Code::Internal, "ONTAP_INTERNAL_ERROR";
            http_502_is_unavailable, api(502, None), Code::Unavailable, "BAD_GATEWAY";
            http_503_is_unavailable, api(503, None), Code::Unavailable, "SERVICE_UNAVAILABLE";
            http_504_is_deadline_exceeded, api(504, None), Code::DeadlineExceeded, "GATEWAY_TIMEOUT";
            unlisted_http_status_is_unknown, api(418, None), Code::Unknown, "UNEXPECTED_HTTP_STATUS";
            unlisted_ontap_code_falls_back_to_http_status, api(404, Some("999999")), Code::NotFound, "NOT_FOUND";
            invalid_request_is_invalid_argument, GatewayError::InvalidRequest(vec![]), Code::InvalidArgument, "INVALID_REQUEST";
            missing_caller_credentials_are_unauthenticated, GatewayError::CallerUnauthenticated(crate::ontap::CallerCredentialsError::Missing), Code::Unauthenticated, "CALLER_CREDENTIALS_MISSING";
            refused_caller_credentials_are_unauthenticated, OntapError::CallerRejected { error: Box::default() }.into(), Code::Unauthenticated, "CALLER_CREDENTIALS_REJECTED";
            a_call_the_policy_refuses_is_permission_denied, GatewayError::NotPermitted(Box::default()), Code::PermissionDenied, "CALLER_NOT_PERMITTED";
            an_unknown_cluster_is_not_found, GatewayError::UnknownCluster { name: "x".into(), known: "`a`".into() }, Code::NotFound, "CLUSTER_UNKNOWN";
            an_unchosen_cluster_is_invalid_argument, GatewayError::ClusterNotChosen { known: "`a`, `b`".into() }, Code::InvalidArgument, "CLUSTER_NOT_CHOSEN";
            credentials_rejected_is_unavailable, OntapError::CredentialsRejected { error: Box::default() }.into(), Code::Unavailable, "GATEWAY_CREDENTIALS_REJECTED";
            untrusted_certificate_is_unavailable, OntapError::CertificateRejected("UnknownIssuer".into()).into(), Code::Unavailable, "UPSTREAM_CERTIFICATE_UNTRUSTED";
            unreachable_is_unavailable, OntapError::Unreachable("refused".into()).into(), Code::Unavailable, "UPSTREAM_UNREACHABLE";
            connection_lost_is_unavailable, OntapError::ConnectionLost("reset".into()).into(), Code::Unavailable, "UPSTREAM_CONNECTION_LOST";
            timeout_is_deadline_exceeded, OntapError::Timeout { budget: Duration::from_secs(1), bound: TimeBound::CallerDeadline }.into(), Code::DeadlineExceeded, "UPSTREAM_TIMEOUT";
            queued_past_deadline_is_deadline_exceeded, OntapError::QueuedPastDeadline { limit: 1, waited: Duration::ZERO }.into(), Code::DeadlineExceeded, "QUEUED_PAST_DEADLINE";
            overloaded_is_resource_exhausted, OntapError::Overloaded { limit: 1, waited: Duration::ZERO } .into(), Code::ResourceExhausted, "UPSTREAM_CONCURRENCY_LIMIT";
            too_large_is_resource_exhausted, OntapError::ResponseTooLarge { limit: 1 }.into(), Code::ResourceExhausted, "UPSTREAM_RESPONSE_TOO_LARGE";
            memory_budget_is_resource_exhausted, OntapError::MemoryBudget { budget: 1 }.into(), Code::ResourceExhausted, "UPSTREAM_MEMORY_BUDGET";
            malformed_is_internal, OntapError::Malformed("x".into()).into(), Code::Internal, "UPSTREAM_MALFORMED_RESPONSE";
            shutting_down_is_unavailable, GatewayError::ShuttingDown, Code::Unavailable, "GATEWAY_SHUTTING_DOWN";
            a_record_too_large_for_a_response_is_resource_exhausted, GatewayError::RecordTooLarge { bytes: 2, limit: 1 }, Code::ResourceExhausted, "RECORD_TOO_LARGE";
            watch_too_slow_is_resource_exhausted, GatewayError::WatchTooSlow { missed: 3 }, Code::ResourceExhausted, "WATCH_TOO_SLOW";
            circuit_open_is_unavailable, OntapError::CircuitOpen { failures: 5, retry_in: Duration::from_secs(1), last_failure: None }.into(), Code::Unavailable, "UPSTREAM_CIRCUIT_OPEN";
        }
    }

    /// One test per row of a refusal the call layers make.
    macro_rules! refusal_tests {
        ($($name:ident, $refusal:expr, $code:expr, $reason:expr;)*) => {
            $(
                #[test]
                fn $name() {
                    let row = refusal_row($refusal);
                    assert_eq!((row.code, row.reason), ($code, $reason));
                }
            )*

            /// The reasons the tests above reach.
            pub const TESTED: &[&str] = &[$($reason),*];
        };
    }

    #[rustfmt::skip]
    mod refusals {
        use super::*;

        refusal_tests! {
            oversized_metadata_is_resource_exhausted, Match::MetadataTooLarge, Code::ResourceExhausted, "METADATA_TOO_LARGE";
            no_accepted_token_is_unauthenticated, Match::CallerUnauthenticated, Code::Unauthenticated, "CALLER_UNAUTHENTICATED";
            an_oversized_request_is_resource_exhausted, Match::RequestTooLarge, Code::ResourceExhausted, "REQUEST_TOO_LARGE";
            not_one_request_message_is_unimplemented, Match::RequestCardinality, Code::Unimplemented, "REQUEST_CARDINALITY";
            broken_framing_is_invalid_argument, Match::MalformedRequest, Code::InvalidArgument, "MALFORMED_REQUEST";
            a_failed_request_body_is_cancelled, Match::RequestBodyUnreadable, Code::Cancelled, "REQUEST_BODY_UNREADABLE";
        }
    }

    #[test]
    fn every_row_has_a_test_above() {
        for row in TABLE {
            assert!(
                rows::TESTED.contains(&row.reason) || refusals::TESTED.contains(&row.reason),
                "row {} has no test",
                row.reason
            );
        }
    }

    /// `NotFound` -> `NOT_FOUND`, as gRPC names its codes.
    fn grpc_name(code: Code) -> String {
        let mut name = String::new();
        for (i, c) in format!("{code:?}").chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                name.push('_');
            }
            name.push(c.to_ascii_uppercase());
        }
        name
    }

    /// The error table of `docs/errors.md`: (what matches, gRPC code,
    /// reason) per row.
    fn documented_rows() -> Vec<(String, String, String)> {
        include_str!("../../docs/errors.md")
            .lines()
            .skip_while(|l| !l.starts_with("| matches |"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
                assert_eq!(cells.len(), 3, "{l}");
                let reason = cells[2].trim_matches('`');
                (cells[0].to_owned(), cells[1].to_owned(), reason.to_owned())
            })
            .collect()
    }

    #[test]
    fn documented_table_is_this_table() {
        let documented = documented_rows();
        assert_eq!(
            documented.len(),
            TABLE.len(),
            "one documented row per table row"
        );
        for ((matches, code, reason), row) in documented.iter().zip(TABLE) {
            assert_eq!(reason, row.reason);
            assert_eq!(*code, grpc_name(row.code), "{reason}");
            let says = match row.matches {
                Match::OntapCode(c) => Some(format!("ONTAP code {c} ")),
                Match::HttpStatus(s) => Some(format!("HTTP {s}")),
                _ => None,
            };
            if let Some(says) = says {
                assert!(matches.starts_with(&says), "{reason}: `{matches}`");
            }
        }
    }

    #[test]
    fn reasons_are_unique() {
        let mut reasons: Vec<_> = TABLE.iter().map(|r| r.reason).collect();
        reasons.sort_unstable();
        reasons.dedup();
        assert_eq!(reasons.len(), TABLE.len());
    }

    #[test]
    fn a_change_not_read_back_answers_as_the_read_failed() {
        let read = OntapError::Timeout {
            budget: Duration::from_secs(1),
            bound: TimeBound::RequestTimeout,
        };
        let err = GatewayError::NotReadBack {
            resource: "the iSCSI service of SVM `u`".into(),
            written: crate::translate::Written::Created,
            source: read.clone(),
        };
        assert_eq!(classify(&err), classify(&read.into()));
    }
}
