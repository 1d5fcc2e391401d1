//! Every row of the error table, reached through the simulator: ONTAP error
//! bodies and statuses, transport failures, and requests the gateway
//! rejects before anything goes upstream.

use std::time::Duration;

use crate::common::{
    Gateway, Harness, SVM2_UUID, bad_fields, client_config, closed_port, error_metadata, reason,
    unanswering_port, with_deadline,
};
use ontap_grpc_gateway::ontap::ClientConfig;
use ontap_grpc_gateway::proto::v1::{GetIscsiServiceRequest, ListCifsConnectionsRequest};
use ontap_simulator::{Cluster, Fault, FaultKind};
use tonic::Code;

fn list() -> ListCifsConnectionsRequest {
    ListCifsConnectionsRequest {
        svm_name: "vs1".into(),
        page_size: 5,
        ..Default::default()
    }
}

/// Calls ListCifsConnections once with `fault` injected upstream.
async fn call_with_fault(kind: FaultKind) -> (Harness, tonic::Status) {
    let h = Harness::start().await;
    h.simulator.faults().push(Fault::always(kind));
    let status = h.list_error(list()).await;
    (h, status)
}

fn ontap_error(status: u16, code: Option<&str>) -> FaultKind {
    FaultKind::Error {
        status,
        code: code.map(str::to_owned),
        message: "simulated failure".into(),
        target: None,
    }
}

macro_rules! maps {
    ($name:ident, $http:expr, $ontap:expr, $code:expr, $reason:expr) => {
        #[tokio::test]
        async fn $name() {
            let (_h, status) = call_with_fault(ontap_error($http, $ontap)).await;
            assert_eq!(status.code(), $code, "{status:?}");
            assert_eq!(reason(&status), $reason);
            assert_eq!(
                error_metadata(&status, "http_status"),
                Some($http.to_string())
            );
            let ontap: Option<&str> = $ontap;
            assert_eq!(error_metadata(&status, "ontap_code").as_deref(), ontap);
        }
    };
}

/// One test per row of the error table reachable by an ONTAP error body.
#[rustfmt::skip]
mod rows {
    use super::*;

    maps!(ontap_code_4_is_not_found, 404, Some("4"), Code::NotFound, "ENTRY_NOT_FOUND");
    maps!(ontap_code_655503_is_invalid_argument, 400, Some("655503"), Code::InvalidArgument, "CIFS_SESSION_CONNECTION_REQUIRED");
    maps!(ontap_code_1115127_is_failed_precondition, 400, Some("1115127"), Code::FailedPrecondition, "ISCSI_LICENSE_MISSING");
    maps!(ontap_code_2621462_is_not_found, 404, Some("2621462"), Code::NotFound, "SVM_NOT_FOUND");
    maps!(ontap_code_2621507_is_failed_precondition, 400, Some("2621507"), Code::FailedPrecondition, "PROTOCOL_NOT_ALLOWED");
    maps!(ontap_code_2621706_is_invalid_argument, 400, Some("2621706"), Code::InvalidArgument, "SVM_UUID_NAME_MISMATCH");
    maps!(ontap_code_2621707_is_invalid_argument, 400, Some("2621707"), Code::InvalidArgument, "SVM_NOT_SPECIFIED");
    maps!(ontap_code_5373960_is_failed_precondition, 409, Some("5373960"), Code::FailedPrecondition, "ISCSI_SERVICE_ENABLED");
    maps!(ontap_code_5373966_is_failed_precondition, 400, Some("5373966"), Code::FailedPrecondition, "SVM_CONFIGURED_FOR_NVME");
    maps!(ontap_code_5374077_is_already_exists, 409, Some("5374077"), Code::AlreadyExists, "ISCSI_SERVICE_EXISTS");
    maps!(ontap_code_5374078_is_not_found, 404, Some("5374078"), Code::NotFound, "ISCSI_SERVICE_NOT_FOUND");
    maps!(ontap_code_5374893_is_failed_precondition, 400, Some("5374893"), Code::FailedPrecondition, "SVM_STOPPED");
    maps!(ontap_code_5376452_is_unimplemented, 405, Some("5376452"), Code::Unimplemented, "NOT_SUPPORTED_ON_ASA_R2");
    maps!(ontap_code_8585947_is_not_found, 404, Some("8585947"), Code::NotFound, "METRICS_NOT_AVAILABLE");
    maps!(ontap_code_8586225_is_internal, 500, Some("8586225"), Code::Internal, "METRICS_RETRIEVAL_FAILED");
    maps!(ontap_code_262179_is_invalid_argument, 400, Some("262179"), Code::InvalidArgument, "UNEXPECTED_ARGUMENT");
    maps!(ontap_code_262197_is_invalid_argument, 400, Some("262197"), Code::InvalidArgument, "INVALID_ARGUMENT_VALUE");
    maps!(ontap_code_2_is_invalid_argument, 400, Some("2"), Code::InvalidArgument, "INVALID_FIELD");
    maps!(ontap_code_3_is_unimplemented, 405, Some("3"), Code::Unimplemented, "OPERATION_NOT_SUPPORTED");
    maps!(ontap_code_6_is_permission_denied, 403, Some("6"), Code::PermissionDenied, "ONTAP_PERMISSION_DENIED");
    maps!(ontap_code_7_is_resource_exhausted, 429, Some("7"), Code::ResourceExhausted, "ONTAP_RESOURCE_LIMIT");
    maps!(ontap_code_8_is_aborted, 409, Some("8"), Code::Aborted, "RESOURCE_IN_USE");
    maps!(ontap_code_65541_is_unavailable, 500, Some("65541"), Code::Unavailable, "ONTAP_RPC_TIMEOUT");
    maps!(ontap_code_65552_is_unavailable, 500, Some("65552"), Code::Unavailable, "ONTAP_RPC_FAILED");
    maps!(ontap_code_65562_is_internal, 500, Some("65562"), Code::Internal, "ONTAP_RPC_INTERNAL_ERROR");
    maps!(ontap_code_262145_is_internal, 500, Some("262145"), Code::Internal, "ONTAP_UNEXPECTED_EXCEPTION");
    maps!(ontap_code_262160_is_resource_exhausted, 429, Some("262160"), Code::ResourceExhausted, "ONTAP_TOO_MANY_REQUESTS");
    maps!(ontap_code_262185_is_invalid_argument, 400, Some("262185"), Code::InvalidArgument, "INVALID_VALUE");
    maps!(ontap_code_262198_is_invalid_argument, 400, Some("262198"), Code::InvalidArgument, "REQUEST_BODY_NOT_ALLOWED");
    maps!(ontap_code_262210_is_unavailable, 500, Some("262210"), Code::Unavailable, "ORDER_BY_TIMED_OUT");
    maps!(ontap_code_262247_is_invalid_argument, 400, Some("262247"), Code::InvalidArgument, "INVALID_FIELD_VALUE");
    maps!(ontap_code_262249_is_invalid_argument, 400, Some("262249"), Code::InvalidArgument, "FIELD_NOT_READABLE");
    maps!(ontap_code_262250_is_invalid_argument, 400, Some("262250"), Code::InvalidArgument, "FIELD_NOT_QUERYABLE");
    maps!(ontap_code_262268_is_invalid_argument, 400, Some("262268"), Code::InvalidArgument, "FIELD_NOT_ORDERABLE");
    maps!(ontap_code_262286_is_invalid_argument, 400, Some("262286"), Code::InvalidArgument, "UNBALANCED_FIELD_BRACES");
    maps!(ontap_code_6691623_is_permission_denied, 400, Some("6691623"), Code::PermissionDenied, "USER_NOT_AUTHORIZED");
    maps!(ontap_code_8586226_is_not_found, 400, Some("8586226"), Code::NotFound, "UUID_NOT_FOUND");
    maps!(http_400_is_invalid_argument, 400, None, Code::InvalidArgument, "BAD_REQUEST");
    maps!(http_401_is_the_gateways_credentials_rejected, 401, None, Code::Unavailable, "GATEWAY_CREDENTIALS_REJECTED");
    maps!(http_403_is_permission_denied, 403, None, Code::PermissionDenied, "PERMISSION_DENIED");
    maps!(http_404_is_not_found, 404, None, Code::NotFound, "NOT_FOUND");
    maps!(http_405_is_unimplemented, 405, None, Code::Unimplemented, "METHOD_NOT_ALLOWED");
    maps!(http_409_is_already_exists, 409, None, Code::AlreadyExists, "CONFLICT");
    maps!(http_429_is_resource_exhausted, 429, None, Code::ResourceExhausted, "TOO_MANY_REQUESTS");
    maps!(http_500_is_internal, 500, None, Code::Internal, "ONTAP_INTERNAL_ERROR");
    maps!(http_502_is_unavailable, 502, None, Code::Unavailable, "BAD_GATEWAY");
    maps!(http_503_is_unavailable, 503, None, Code::Unavailable, "SERVICE_UNAVAILABLE");
    maps!(http_504_is_deadline_exceeded, 504, None, Code::DeadlineExceeded, "GATEWAY_TIMEOUT");
    maps!(unlisted_http_status_is_unknown, 418, None, Code::Unknown, "UNEXPECTED_HTTP_STATUS");
}

#[tokio::test]
async fn ontap_error_target_is_reported_as_the_request_field() {
    let (_h, status) = call_with_fault(FaultKind::Error {
        status: 400,
        code: Some("262197".into()),
        message: "Invalid value for field \"svm.name\"".into(),
        target: Some("svm.name".into()),
    })
    .await;
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        error_metadata(&status, "target").as_deref(),
        Some("svm.name")
    );
    assert_eq!(bad_fields(&status), ["svm_name"]);
}

#[tokio::test]
async fn html_error_page_from_a_proxy_still_maps_by_status() {
    let (_h, status) = call_with_fault(FaultKind::Raw {
        status: 502,
        content_type: "text/html".into(),
        body: b"<html><body>Bad Gateway</body></html>".to_vec(),
    })
    .await;
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(reason(&status), "BAD_GATEWAY");
}

#[tokio::test]
async fn wrong_gateway_credentials_are_unavailable_not_the_callers_fault_and_never_echoed() {
    let simulator = crate::common::simulator_with(Cluster::seed()).await;
    let config = ClientConfig::new(simulator.base_url(), "admin", "hunter2-wrong");
    let gateway = Gateway::start(config).await;
    let status = gateway.list_error(list()).await;
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(reason(&status), "GATEWAY_CREDENTIALS_REJECTED");
    assert!(!format!("{status:?}").contains("hunter2-wrong"));
}

#[tokio::test]
async fn malformed_json_is_internal() {
    let (_h, status) = call_with_fault(FaultKind::Raw {
        status: 200,
        content_type: "application/hal+json".into(),
        body: br#"{"records": [{"client_ip": "10.0.0.1""#.to_vec(),
    })
    .await;
    assert_eq!(status.code(), Code::Internal);
    assert_eq!(reason(&status), "UPSTREAM_MALFORMED_RESPONSE");
}

#[tokio::test]
async fn wrong_field_type_is_internal_and_names_the_field() {
    let (_h, status) = call_with_fault(FaultKind::Raw {
        status: 200,
        content_type: "application/hal+json".into(),
        body:
            br#"{"records": [{"identifier": 1}, {"client_port": "not a port"}], "num_records": 2}"#
                .to_vec(),
    })
    .await;
    assert_eq!(status.code(), Code::Internal);
    assert!(
        status.message().contains("records[1].client_port"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn oversized_response_is_resource_exhausted() {
    let h = Harness::start_with(Cluster::seed(), |c| c.max_response_bytes = 64 * 1024).await;
    h.simulator
        .faults()
        .push(Fault::always(FaultKind::Oversized { bytes: 1024 * 1024 }));
    let status = h.list_error(list()).await;
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert_eq!(reason(&status), "UPSTREAM_RESPONSE_TOO_LARGE");
}

#[tokio::test]
async fn upstream_down_is_unavailable() {
    let addr = closed_port().await;
    let gateway = Gateway::start(ClientConfig::new(format!("http://{addr}"), "admin", "pw")).await;
    let status = gateway.list_error(list()).await;
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(reason(&status), "UPSTREAM_UNREACHABLE");
}

#[tokio::test]
async fn connect_timeout_is_unavailable_whatever_the_deadline() {
    let (_guard, addr) = unanswering_port().await;
    let mut config = ClientConfig::new(format!("http://{addr}"), "admin", "pw");
    config.connect_timeout = Duration::from_millis(300);
    let gateway = Gateway::start(config).await;
    let status = gateway
        .list_error(with_deadline(list(), Duration::from_secs(30)))
        .await;
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(reason(&status), "UPSTREAM_UNREACHABLE");
    assert!(
        status.message().to_lowercase().contains("connect"),
        "{}",
        status.message()
    );
    assert!(!status.message().contains("0ns"), "{}", status.message());
}

#[tokio::test]
async fn upstream_slower_than_the_deadline_is_deadline_exceeded() {
    let (h, _) = (Harness::start().await, ());
    h.simulator
        .faults()
        .push(Fault::always(FaultKind::Delay(Duration::from_secs(5))));
    let status = h
        .list_error(with_deadline(list(), Duration::from_millis(300)))
        .await;
    assert_eq!(status.code(), Code::DeadlineExceeded);
    assert_eq!(reason(&status), "UPSTREAM_TIMEOUT");
    assert!(
        status.message().contains("before the call's deadline"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn upstream_slower_than_the_request_timeout_is_deadline_exceeded() {
    let h = Harness::start_with(Cluster::seed(), |c| {
        c.request_timeout = Duration::from_millis(200)
    })
    .await;
    h.simulator
        .faults()
        .push(Fault::always(FaultKind::Delay(Duration::from_secs(5))));
    let status = h.list_error(list()).await;
    assert_eq!(status.code(), Code::DeadlineExceeded);
    assert!(
        status.message().contains("request timeout"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn invalid_request_names_every_bad_field_and_never_goes_upstream() {
    let h = Harness::start().await;
    let status = h
        .list_error(ListCifsConnectionsRequest {
            client_port: ">abc".into(),
            svm_uuid: "not-a-uuid".into(),
            page_size: -1,
            read_mask: Some(prost_types::FieldMask {
                paths: vec!["nope".into()],
            }),
            order_by: vec!["client_ip sideways".into()],
            return_timeout_seconds: Some(500),
            ..Default::default()
        })
        .await;
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(reason(&status), "INVALID_REQUEST");
    assert_eq!(
        bad_fields(&status),
        [
            "svm_uuid",
            "client_port",
            "read_mask.paths[0]",
            "order_by[0]",
            "page_size",
            "return_timeout_seconds"
        ]
    );
    assert_eq!(h.simulator.stats().requests, 0);
}

#[tokio::test]
async fn gateway_with_wrong_base_url_scheme_refuses_to_start() {
    let simulator = crate::common::simulator_with(Cluster::seed()).await;
    let mut config = client_config(&simulator);
    config.base_url = "ftp://127.0.0.1:1".into();
    assert!(ontap_grpc_gateway::ontap::OntapClient::new(config).is_err());
}

#[tokio::test]
async fn connection_dropped_mid_response_is_unavailable() {
    let (_h, status) = call_with_fault(FaultKind::Disconnect).await;
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(reason(&status), "UPSTREAM_CONNECTION_LOST");
}

#[tokio::test]
async fn ontap_error_arguments_are_carried_in_error_info() {
    let (_h, status) = call_with_fault(FaultKind::Raw {
        status: 400,
        content_type: "application/hal+json".into(),
        body: br#"{"error": {"message": "\"vs9\" is an invalid value for field \"svm.name\"",
            "code": "262197", "target": "svm.name",
            "arguments": [{"code": "", "message": "vs9"}, {"code": "7", "message": "svm.name"}]}}"#
            .to_vec(),
    })
    .await;
    assert_eq!(
        error_metadata(&status, "argument_0").as_deref(),
        Some("vs9")
    );
    assert_eq!(error_metadata(&status, "argument_0_code"), None);
    assert_eq!(
        error_metadata(&status, "argument_1").as_deref(),
        Some("svm.name")
    );
    assert_eq!(
        error_metadata(&status, "argument_1_code").as_deref(),
        Some("7")
    );
}

#[tokio::test]
async fn an_upstream_error_echoing_the_credentials_reaches_the_caller_scrubbed() {
    use base64::Engine;
    let credentials = ontap_simulator::Credentials::default();
    let password = ontap_simulator::ExposeSecret::expose_secret(&credentials.password).to_owned();
    let token = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{password}", credentials.username));
    let (_h, status) = call_with_fault(FaultKind::Error {
        status: 400,
        code: Some("262197".into()),
        message: format!("header Authorization: Basic {token} is invalid\r\nX-Forged: 1"),
        target: Some(format!("password={password}")),
    })
    .await;
    let shown = format!("{status:?}");
    assert!(!shown.contains(&token), "{shown}");
    assert!(!shown.contains(&password), "{shown}");
    assert!(
        status.message().contains("[REDACTED]"),
        "{}",
        status.message()
    );
    assert!(
        !status.message().contains(['\r', '\n']),
        "{}",
        status.message()
    );
    assert_eq!(
        error_metadata(&status, "target").as_deref(),
        Some("password=[REDACTED]")
    );
}

#[tokio::test]
async fn a_200_that_is_not_a_collection_is_malformed() {
    for body in [
        "{}",
        "[]",
        "[[],3]",
        r#"{"error": {"message": "x", "code": "4"}}"#,
    ] {
        let (h, status) = call_with_fault(FaultKind::Raw {
            status: 200,
            content_type: "application/hal+json".into(),
            body: body.as_bytes().to_vec(),
        })
        .await;
        assert_eq!(status.code(), Code::Internal, "{body}");
        assert_eq!(reason(&status), "UPSTREAM_MALFORMED_RESPONSE", "{body}");
        drop(h);
    }
}

#[tokio::test]
async fn more_records_than_the_page_asked_for_is_malformed() {
    let h = Harness::start().await;
    let records: Vec<String> = (0..5)
        .map(|i| format!(r#"{{"identifier": {i}}}"#))
        .collect();
    h.simulator.faults().push(Fault::always(FaultKind::Raw {
        status: 200,
        content_type: "application/hal+json".into(),
        body: format!(
            r#"{{"records": [{}], "num_records": 5}}"#,
            records.join(",")
        )
        .into_bytes(),
    }));
    let status = h
        .list_error(ListCifsConnectionsRequest {
            page_size: 2,
            ..Default::default()
        })
        .await;
    assert_eq!(status.code(), Code::Internal);
    assert!(
        status.message().contains("max_records"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn an_empty_object_for_one_service_is_malformed() {
    let h = Harness::start().await;
    h.simulator.faults().push(Fault::always(FaultKind::Raw {
        status: 200,
        content_type: "application/hal+json".into(),
        body: b"{}".to_vec(),
    }));
    let status = h
        .iscsi()
        .await
        .get_iscsi_service(GetIscsiServiceRequest {
            svm_uuid: SVM2_UUID.into(),
            read_mask: None,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Internal);
    assert_eq!(reason(&status), "UPSTREAM_MALFORMED_RESPONSE");
}

/// A 200 with `body` as ONTAP's answer to every request.
fn page(body: &str) -> FaultKind {
    FaultKind::Raw {
        status: 200,
        content_type: "application/hal+json".into(),
        body: body.as_bytes().to_vec(),
    }
}

#[tokio::test]
async fn more_records_than_asked_for_are_refused_without_decoding_the_rest() {
    let h = Harness::start().await;
    // Decoding past the third record would meet the cut-off end and fail
    // on that instead.
    h.simulator.faults().push(Fault::always(page(
        r#"{"records": [{"identifier": 1}, {"identifier": 2}, {"identifier": 3}, {"identifier": "#,
    )));
    let status = h
        .list_error(ListCifsConnectionsRequest {
            page_size: 2,
            ..Default::default()
        })
        .await;
    assert_eq!(status.code(), Code::Internal);
    assert_eq!(reason(&status), "UPSTREAM_MALFORMED_RESPONSE");
    assert!(
        status
            .message()
            .contains("more than 2 records where `max_records` asked for at most 2"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn a_page_that_would_decode_past_the_memory_budget_is_refused() {
    let h = Harness::start_with(Cluster::seed(), |c| {
        c.max_response_bytes = 64 * 1024;
        c.max_buffered_bytes = 256 * 1024;
    })
    .await;
    // 60 KB of text, each `{}` a session decoded: more than four times the
    // budget once decoded.
    let sessions = vec!["{}"; 20_000].join(",");
    h.simulator.faults().push(Fault::always(page(&format!(
        r#"{{"records": [{{"identifier": 1, "sessions": [{sessions}]}}], "num_records": 1}}"#
    ))));
    let status = h.list_error(list()).await;
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert_eq!(reason(&status), "UPSTREAM_MEMORY_BUDGET");
}

#[tokio::test]
async fn what_decoding_a_page_was_charged_is_returned_once_it_is_answered() {
    let h = Harness::start_with(Cluster::seed(), |c| {
        c.max_response_bytes = 32 * 1024;
        c.max_buffered_bytes = 64 * 1024;
    })
    .await;
    let mut client = h.cifs().await;
    for _ in 0..20 {
        client
            .list_cifs_connections(list())
            .await
            .expect("the budget holds one page at a time");
    }
}

#[tokio::test]
async fn a_count_beyond_the_records_present_is_malformed() {
    let (_h, status) =
        call_with_fault(page(r#"{"records": [], "num_records": 1099511627776}"#)).await;
    assert_eq!(status.code(), Code::Internal);
    assert_eq!(reason(&status), "UPSTREAM_MALFORMED_RESPONSE");
    assert!(
        status.message().contains("`num_records` is 1099511627776"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn a_page_holding_records_twice_is_malformed() {
    let (_h, status) = call_with_fault(page(
        r#"{"records": [{"identifier": 1}], "records": [], "num_records": 0}"#,
    ))
    .await;
    assert_eq!(status.code(), Code::Internal);
    assert_eq!(reason(&status), "UPSTREAM_MALFORMED_RESPONSE");
    assert!(
        status.message().contains("duplicate field `records`"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn a_next_link_with_a_line_break_in_where_it_starts_is_malformed_at_once() {
    for href in [
        "/api/protocols/cifs/connections?start.svm.name=vs1%0D%0AX-Injected:%201",
        "/api/protocols/cifs/connections?start.svm.name=vs1\\r\\nX-Injected: 1",
    ] {
        let (_h, status) = call_with_fault(page(&format!(
            r#"{{"records": [{{"identifier": 1}}], "num_records": 1,
                "_links": {{"next": {{"href": "{href}"}}}}}}"#
        )))
        .await;
        assert_eq!(status.code(), Code::Internal, "{href}");
        assert_eq!(reason(&status), "UPSTREAM_MALFORMED_RESPONSE", "{href}");
        assert!(
            status.message().contains("`_links.next`"),
            "{href}: {}",
            status.message()
        );
    }
}
