//! How the gateway answers each way an upstream can misbehave, in one table
//! (the simulator's faults, which its admin API also offers over HTTP):
//! the gRPC code, the ErrorInfo reason, and that the answer comes by the
//! caller's deadline (never a hang). The bound checked is the deadline plus
//! a generous slack: a guard against hanging, not a speed measurement.

use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use crate::common::{Gateway, client_config, closed_port, reason, with_deadline};
use ontap_grpc_gateway::ontap::ClientConfig;
use ontap_grpc_gateway::proto::v1::ListCifsConnectionsRequest;
use ontap_simulator::{Cluster, Fault, FaultKind, Simulator, SimulatorConfig};
use tonic::Code;

/// The caller's deadline on every call.
const DEADLINE: Duration = Duration::from_secs(2);
/// Beyond the deadline, how late an answer may come before it counts as a hang.
const SLACK: Duration = Duration::from_secs(10);

/// Where the gateway's upstream is for a row.
enum Upstream {
    /// The simulator over HTTP, misbehaving with this fault.
    Faulty(FaultKind),
    /// The simulator over HTTPS, with a certificate the gateway does not trust.
    UntrustedTls,
    /// Nothing listening.
    Refused,
}

struct Row {
    behaviour: &'static str,
    upstream: Upstream,
    code: Code,
    reason: &'static str,
}

fn error(status: u16) -> FaultKind {
    FaultKind::Error {
        status,
        code: None,
        message: "simulated".into(),
        target: None,
    }
}

fn raw(status: u16, content_type: &str, body: &[u8]) -> FaultKind {
    FaultKind::Raw {
        status,
        content_type: content_type.into(),
        body: body.to_vec(),
    }
}

/// A page of `count` records.
fn records(count: usize) -> Vec<u8> {
    let records = vec![r#"{"identifier": 1}"#; count].join(",");
    format!(r#"{{"records": [{records}], "num_records": {count}}}"#).into_bytes()
}

/// One record whose sessions decode into about 16 times the page's size.
fn nested_sessions() -> Vec<u8> {
    let sessions = vec!["{}"; 300_000].join(",");
    format!(r#"{{"records": [{{"sessions": [{sessions}]}}], "num_records": 1}}"#).into_bytes()
}

fn table() -> Vec<Row> {
    let html = b"<html><body>proxy error</body></html>";
    let json = "application/hal+json";
    let row = |behaviour, upstream, code, reason| Row {
        behaviour,
        upstream,
        code,
        reason,
    };
    vec![
        row(
            "connection refused",
            Upstream::Refused,
            Code::Unavailable,
            "UPSTREAM_UNREACHABLE",
        ),
        row(
            "TLS with an unknown CA",
            Upstream::UntrustedTls,
            Code::Unavailable,
            "UPSTREAM_CERTIFICATE_UNTRUSTED",
        ),
        row(
            "accepts and never answers",
            Upstream::Faulty(FaultKind::Delay(Duration::from_secs(600))),
            Code::DeadlineExceeded,
            "UPSTREAM_TIMEOUT",
        ),
        row(
            "500 with JSON",
            Upstream::Faulty(error(500)),
            Code::Internal,
            "ONTAP_INTERNAL_ERROR",
        ),
        row(
            "502 with JSON",
            Upstream::Faulty(error(502)),
            Code::Unavailable,
            "BAD_GATEWAY",
        ),
        row(
            "503 with JSON",
            Upstream::Faulty(error(503)),
            Code::Unavailable,
            "SERVICE_UNAVAILABLE",
        ),
        row(
            "504 with JSON",
            Upstream::Faulty(error(504)),
            Code::DeadlineExceeded,
            "GATEWAY_TIMEOUT",
        ),
        row(
            "500 with HTML",
            Upstream::Faulty(raw(500, "text/html", html)),
            Code::Internal,
            "ONTAP_INTERNAL_ERROR",
        ),
        row(
            "502 with HTML",
            Upstream::Faulty(raw(502, "text/html", html)),
            Code::Unavailable,
            "BAD_GATEWAY",
        ),
        row(
            "503 with HTML",
            Upstream::Faulty(raw(503, "text/html", html)),
            Code::Unavailable,
            "SERVICE_UNAVAILABLE",
        ),
        row(
            "504 with HTML",
            Upstream::Faulty(raw(504, "text/html", html)),
            Code::DeadlineExceeded,
            "GATEWAY_TIMEOUT",
        ),
        row(
            "truncated JSON",
            Upstream::Faulty(raw(
                200,
                "application/hal+json",
                br#"{"records": [{"client_ip": "10."#,
            )),
            Code::Internal,
            "UPSTREAM_MALFORMED_RESPONSE",
        ),
        row(
            "wrong types",
            Upstream::Faulty(raw(
                200,
                "application/hal+json",
                br#"{"records": [{"identifier": "x"}]}"#,
            )),
            Code::Internal,
            "UPSTREAM_MALFORMED_RESPONSE",
        ),
        row(
            "oversize",
            Upstream::Faulty(FaultKind::Oversized {
                bytes: 4 * 1024 * 1024,
            }),
            Code::ResourceExhausted,
            "UPSTREAM_RESPONSE_TOO_LARGE",
        ),
        row(
            "more records than max_records asked for",
            Upstream::Faulty(raw(200, json, &records(101))),
            Code::Internal,
            "UPSTREAM_MALFORMED_RESPONSE",
        ),
        row(
            "num_records beyond the records present",
            Upstream::Faulty(raw(
                200,
                json,
                br#"{"records": [], "num_records": 1099511627776}"#,
            )),
            Code::Internal,
            "UPSTREAM_MALFORMED_RESPONSE",
        ),
        row(
            "records given twice",
            Upstream::Faulty(raw(
                200,
                json,
                br#"{"records": [{"identifier": 1}], "records": [], "num_records": 0}"#,
            )),
            Code::Internal,
            "UPSTREAM_MALFORMED_RESPONSE",
        ),
        row(
            "a next link starting at a value with CR/LF",
            Upstream::Faulty(raw(
                200,
                json,
                br#"{"records": [{"identifier": 1}], "num_records": 1, "_links": {"next":
                    {"href": "/api/protocols/cifs/connections?start.svm.name=a%0D%0AX:%201"}}}"#,
            )),
            Code::Internal,
            "UPSTREAM_MALFORMED_RESPONSE",
        ),
        row(
            "a page decoding past the memory budget",
            Upstream::Faulty(raw(200, json, &nested_sessions())),
            Code::ResourceExhausted,
            "UPSTREAM_MEMORY_BUDGET",
        ),
        row(
            "redirect",
            Upstream::Faulty(raw(302, "text/html", b"moved")),
            Code::Unknown,
            "UNEXPECTED_HTTP_STATUS",
        ),
        row(
            "slow drip",
            Upstream::Faulty(FaultKind::Drip {
                chunk_bytes: NonZeroUsize::new(16).unwrap(),
                interval: Duration::from_millis(250),
            }),
            Code::DeadlineExceeded,
            "UPSTREAM_TIMEOUT",
        ),
        row(
            "connection reset without a response",
            Upstream::Faulty(FaultKind::Reset),
            Code::Unavailable,
            "UPSTREAM_CONNECTION_LOST",
        ),
        row(
            "connection reset mid-body",
            Upstream::Faulty(FaultKind::Disconnect),
            Code::Unavailable,
            "UPSTREAM_CONNECTION_LOST",
        ),
    ]
}

/// A gateway onto `upstream`, and the simulator behind it (kept alive).
async fn gateway_onto(upstream: Upstream) -> (Gateway, Option<Simulator>) {
    let tls = matches!(upstream, Upstream::UntrustedTls);
    let simulator = match upstream {
        Upstream::Refused => None,
        _ => Some(
            Simulator::start(
                SimulatorConfig {
                    tls,
                    ..SimulatorConfig::default()
                },
                Cluster::seed(),
            )
            .await
            .unwrap(),
        ),
    };
    let mut config = match &simulator {
        Some(simulator) => client_config(simulator),
        None => ClientConfig::new(format!("http://{}", closed_port().await), "admin", "pw"),
    };
    config.max_response_bytes = 1024 * 1024;
    config.max_buffered_bytes = 4 * 1024 * 1024;
    if let (Upstream::Faulty(kind), Some(simulator)) = (upstream, &simulator) {
        simulator.faults().push(Fault::always(kind));
    }
    (Gateway::start(config).await, simulator)
}

#[tokio::test]
async fn every_upstream_misbehaviour_gets_its_code_and_reason_by_the_deadline() {
    let mut wrong = Vec::new();
    for row in table() {
        let (gateway, _simulator) = gateway_onto(row.upstream).await;
        let started = Instant::now();
        let answer = gateway
            .cifs()
            .await
            .list_cifs_connections(with_deadline(
                ListCifsConnectionsRequest::default(),
                DEADLINE,
            ))
            .await;
        let took = started.elapsed();
        let (code, why) = match &answer {
            Ok(_) => (Code::Ok, String::new()),
            Err(status) => (status.code(), reason(status)),
        };
        if code != row.code || why != row.reason || took > DEADLINE + SLACK {
            wrong.push(format!(
                "{}: got {code:?} {why} after {took:?}, want {:?} {} by the deadline",
                row.behaviour, row.code, row.reason
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
