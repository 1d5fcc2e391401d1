//! The layers every call passes through, seen from outside: the request id
//! a caller sends comes back (or one is made up), and each call leaves one
//! access line with its outcome.
//!
//! This test binary installs a global tracing subscriber that writes into
//! memory; each test finds its own lines by the request id it sent.

use crate::common::logs::{logged, logs};
use crate::common::{Harness, SVM1_UUID, eventually};
use ontap_grpc_gateway::proto::v1::{GetIscsiServiceRequest, ListCifsConnectionsRequest};
use ontap_simulator::{Credentials, ExposeSecret, Fault, FaultKind};
use tonic::Code;
use tonic::metadata::MetadataValue;

/// The access lines logged for `request_id`.
fn access_lines(request_id: &str) -> Vec<String> {
    let needle = format!("request_id={request_id} ");
    logged()
        .lines()
        .filter(|l| l.contains(" access: ") && l.contains(&needle))
        .map(str::to_owned)
        .collect()
}

/// Waits for the one access line of `request_id`.
async fn access_line(request_id: &str) -> String {
    eventually(&format!("{request_id} is logged"), || {
        !access_lines(request_id).is_empty()
    })
    .await;
    let lines = access_lines(request_id);
    assert_eq!(lines.len(), 1, "{lines:?}");
    lines.into_iter().next().unwrap()
}

fn with_request_id<T>(message: T, id: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("x-request-id", MetadataValue::try_from(id).unwrap());
    request
}

#[tokio::test]
async fn successful_call_leaves_one_access_line() {
    logs();
    let h = Harness::start().await;
    h.cifs()
        .await
        .list_cifs_connections(with_request_id(
            ListCifsConnectionsRequest::default(),
            "ok-call",
        ))
        .await
        .unwrap();
    let line = access_line("ok-call").await;
    for field in [
        "service=\"ontap.v1.CifsConnections\"",
        "method=\"ListCifsConnections\"",
        "code=Ok",
        "duration_ms=",
        "cluster=default",
    ] {
        assert!(line.contains(field), "{field} in {line}");
    }
}

#[tokio::test]
async fn failed_call_logs_its_reason_upstream_status_and_ontap_code() {
    logs();
    let h = Harness::start().await;
    let status = h
        .iscsi()
        .await
        .get_iscsi_service(with_request_id(
            GetIscsiServiceRequest {
                svm_uuid: SVM1_UUID.into(),
                read_mask: None,
            },
            "not-found-call",
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let line = access_line("not-found-call").await;
    for field in [
        "method=\"GetIscsiService\"",
        "code=NotFound",
        "reason=ISCSI_SERVICE_NOT_FOUND",
        "upstream_status=404",
        "ontap_code=5374078",
    ] {
        assert!(line.contains(field), "{field} in {line}");
    }
}

#[tokio::test]
async fn rejected_request_logs_no_upstream() {
    logs();
    let h = Harness::start().await;
    h.cifs()
        .await
        .list_cifs_connections(with_request_id(
            ListCifsConnectionsRequest {
                page_size: -1,
                ..Default::default()
            },
            "rejected-call",
        ))
        .await
        .unwrap_err();
    let line = access_line("rejected-call").await;
    assert!(line.contains("code=InvalidArgument"), "{line}");
    assert!(line.contains("upstream_status=- ontap_code=-"), "{line}");
}

#[tokio::test]
async fn callers_request_id_comes_back() {
    let h = Harness::start().await;
    let response = h
        .cifs()
        .await
        .list_cifs_connections(with_request_id(
            ListCifsConnectionsRequest::default(),
            "echo-me",
        ))
        .await
        .unwrap();
    assert_eq!(response.metadata().get("x-request-id").unwrap(), "echo-me");
}

#[tokio::test]
async fn call_without_a_request_id_gets_a_uuid() {
    let h = Harness::start().await;
    let response = h
        .cifs()
        .await
        .list_cifs_connections(ListCifsConnectionsRequest::default())
        .await
        .unwrap();
    let id = response
        .metadata()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap();
    let groups: Vec<usize> = id.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12], "{id}");
}

#[tokio::test]
async fn an_upstream_error_echoing_the_credentials_is_logged_scrubbed() {
    use base64::Engine;
    logs();
    let h = Harness::start().await;
    let credentials = Credentials::default();
    let password = credentials.password.expose_secret().to_owned();
    let token = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{password}", credentials.username));
    h.simulator.faults().push(Fault::always(FaultKind::Error {
        status: 500,
        code: None,
        message: format!("bad Authorization: Basic {token} ({password})\nINFO forged"),
        target: None,
    }));
    h.cifs()
        .await
        .list_cifs_connections(with_request_id(
            ListCifsConnectionsRequest::default(),
            "echoing-upstream",
        ))
        .await
        .unwrap_err();
    access_line("echoing-upstream").await;
    let logged = String::from_utf8_lossy(&logs().lock().unwrap()).into_owned();
    let warned: Vec<&str> = logged
        .lines()
        .filter(|l| l.contains("echoing-upstream") && l.contains("WARN"))
        .collect();
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(warned[0].contains("[REDACTED]"), "{}", warned[0]);
    assert!(!logged.contains(&token), "the token is logged");
    assert!(!logged.contains(&password), "the password is logged");
    assert!(!logged.lines().any(|l| l.starts_with("INFO forged")));
}

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// A ListCifsConnections of `svm` (distinct per test: identical reads in
/// flight share one upstream request) carrying `metadata`.
fn traced_list(
    svm: &str,
    metadata: &[(&'static str, &str)],
) -> tonic::Request<ListCifsConnectionsRequest> {
    let mut request = tonic::Request::new(ListCifsConnectionsRequest {
        svm_name: svm.into(),
        ..Default::default()
    });
    for (key, value) in metadata {
        request
            .metadata_mut()
            .insert(*key, MetadataValue::try_from(*value).unwrap());
    }
    request
}

/// The tracing headers ONTAP received with the request id `id`.
fn sent_upstream(h: &Harness, id: &str) -> ontap_simulator::RequestTrace {
    h.simulator
        .request_traces()
        .into_iter()
        .find(|t| t.request_id.as_deref() == Some(id))
        .unwrap_or_else(|| panic!("no request reached ONTAP with id {id}"))
}

#[tokio::test]
async fn the_callers_request_id_and_traceparent_reach_ontap() {
    let h = Harness::start().await;
    h.cifs()
        .await
        .list_cifs_connections(traced_list(
            "vs1",
            &[
                ("x-request-id", "follow-me-1"),
                ("traceparent", TRACEPARENT),
            ],
        ))
        .await
        .unwrap();
    let sent = sent_upstream(&h, "follow-me-1");
    assert_eq!(sent.path, "/api/protocols/cifs/connections");
    assert_eq!(sent.traceparent.as_deref(), Some(TRACEPARENT));
}

#[tokio::test]
async fn a_generated_request_id_reaches_ontap_as_the_caller_sees_it() {
    let h = Harness::start().await;
    let response = h
        .cifs()
        .await
        .list_cifs_connections(traced_list("vs2", &[]))
        .await
        .unwrap();
    let id = response
        .metadata()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(
        sent_upstream(&h, id).path,
        "/api/protocols/cifs/connections"
    );
}

#[tokio::test]
async fn a_malformed_traceparent_is_not_forwarded() {
    let h = Harness::start().await;
    h.cifs()
        .await
        .list_cifs_connections(traced_list(
            "vs3",
            &[
                ("x-request-id", "follow-me-2"),
                ("traceparent", "not-a-trace"),
            ],
        ))
        .await
        .unwrap();
    let sent = sent_upstream(&h, "follow-me-2");
    assert_eq!(sent.traceparent, None);
}

#[tokio::test]
async fn the_access_line_names_the_callers_trace_id() {
    logs();
    let h = Harness::start().await;
    h.cifs()
        .await
        .list_cifs_connections(traced_list(
            "vs4",
            &[
                ("x-request-id", "traced-call"),
                ("traceparent", TRACEPARENT),
            ],
        ))
        .await
        .unwrap();
    let line = access_line("traced-call").await;
    assert!(
        line.contains("trace_id=4bf92f3577b34da6a3ce929d0e0e4736"),
        "{line}"
    );
}
