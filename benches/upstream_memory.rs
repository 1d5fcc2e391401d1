//! A bench, not a test: what a large upstream page costs the gateway's
//! memory. The gateway binary runs as a child process (so its peak RSS,
//! `VmHWM`, is its own) with its default `--max-response-bytes` (64 MiB) and
//! `--max-buffered-bytes` (256 MiB), in front of an in-process simulator that
//! answers ListCifsConnections (which asks for 100 records) with one of
//! three crafted pages:
//!
//! - too many records: a complete, well-formed page of ~190,000 records, sent
//!   with a `Content-Length`;
//! - the simulator's `oversized` fault: the same records streamed in chunked
//!   encoding, cut off mid-record;
//! - nested: one record whose `sessions` array holds the page's size in
//!   `{}`, each of which decodes to a 16-byte session.
//!
//! Each page is read once, then by 4 callers at once (distinct filters, so
//! none share a read), each run in a fresh gateway. Reports what the calls
//! answered and the gateway's RSS when idle, its peak, and the peak above
//! idle as a multiple of one page's size.
//!
//! `cargo bench --bench upstream_memory` sends 60 MiB pages
//! (`UPSTREAM_MEMORY_MIB` sets another size); under `cargo test`, 1 MiB
//! pages, as a smoke run. Loopback only.

use std::collections::BTreeMap;
use std::time::Duration;

use ontap_grpc_gateway::proto::v1::ListCifsConnectionsRequest;
use ontap_grpc_gateway::proto::v1::cifs_connections_client::CifsConnectionsClient;
use ontap_simulator::{Cluster, Fault, FaultKind, Simulator, SimulatorConfig};
use tonic_types::StatusExt;

mod common;
use common::{channel, spawn_gateway};

/// One CIFS connection as ONTAP sends it (`fields=*`, without HAL links).
const RECORD: &str = concat!(
    r#"{"client_ip":"10.74.7.182","client_port":12345,"identifier":91842,"#,
    r#""network_context_id":3,"#,
    r#""node":{"name":"node1","uuid":"1cd8a442-86d1-11e0-ae1c-123478563412"},"#,
    r#""server_ip":"10.140.70.197","sessions":[{"identifier":625718873227788312}],"#,
    r#""svm":{"name":"vs1","uuid":"fc824aa8-4e60-11ea-afb1-0050568ec4e4"}}"#,
);

/// The crafted pages.
#[derive(Clone, Copy)]
enum Shape {
    TooManyRecords,
    Oversized,
    Nested,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::TooManyRecords => "too many records (Content-Length)",
            Shape::Oversized => "`oversized` fault (chunked, cut off)",
            Shape::Nested => "one record, the page in `sessions: [{}, ...]`",
        }
    }

    /// What the simulator answers with, `bytes` long.
    fn fault(self, bytes: usize) -> FaultKind {
        let raw = |body: String| FaultKind::Raw {
            status: 200,
            content_type: "application/hal+json".into(),
            body: body.into_bytes(),
        };
        match self {
            Shape::TooManyRecords => {
                let count = bytes.saturating_sub(40) / (RECORD.len() + 1);
                let records = vec![RECORD; count].join(",");
                raw(format!(
                    r#"{{"records":[{records}],"num_records":{count}}}"#
                ))
            }
            Shape::Oversized => FaultKind::Oversized { bytes },
            Shape::Nested => {
                let sessions = vec!["{}"; bytes.saturating_sub(80) / 3].join(",");
                raw(format!(
                    r#"{{"records":[{{"identifier":1,"sessions":[{sessions}]}}],"num_records":1}}"#
                ))
            }
        }
    }
}

/// The `VmRSS:` or `VmHWM:` line of `pid`'s status, in KiB.
fn status_kib(pid: u32, line: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(line))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let benching = common::benching();
    let mib: usize = std::env::var("UPSTREAM_MEMORY_MIB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if benching { 60 } else { 1 });
    let bytes = mib * 1024 * 1024;
    println!("| page ({mib} MiB) | callers | answers | idle RSS | peak RSS | peak above idle |");
    println!("| --- | --- | --- | --- | --- | --- |");
    // Time for the warm-up's garbage to be returned before idle is read.
    let settle = Duration::from_millis(if benching { 1000 } else { 100 });
    for shape in [Shape::TooManyRecords, Shape::Oversized, Shape::Nested] {
        for callers in [1, 4] {
            run(shape, callers, bytes, settle).await;
        }
    }
}

/// One run: a fresh gateway, `callers` calls at once, each answered from
/// its own `shape` page of `bytes`.
async fn run(shape: Shape, callers: u32, bytes: usize, settle: Duration) {
    let simulator = Simulator::start(SimulatorConfig::default(), Cluster::seed())
        .await
        .unwrap();
    let (gateway, url) = spawn_gateway(&simulator, &[]);
    let pid = gateway.0.id();
    let client = CifsConnectionsClient::new(channel(&url).await);
    client
        .clone()
        .list_cifs_connections(ListCifsConnectionsRequest::default())
        .await
        .expect("the gateway answers");
    tokio::time::sleep(settle).await;
    let idle = status_kib(pid, "VmRSS:");

    simulator.faults().push(Fault {
        path_prefix: Some("/api/protocols/cifs/connections".into()),
        times: Some(callers),
        ..Fault::always(shape.fault(bytes))
    });
    let calls: Vec<_> = (1..=callers)
        .map(|i| {
            let mut client = client.clone();
            tokio::spawn(async move {
                let request = ListCifsConnectionsRequest {
                    svm_name: format!("vs{i}"),
                    ..Default::default()
                };
                match client.list_cifs_connections(request).await {
                    Ok(_) => "OK".to_owned(),
                    Err(status) => {
                        let reason = status
                            .get_details_error_info()
                            .map(|info| info.reason)
                            .unwrap_or_default();
                        format!("{:?} {reason}", status.code())
                    }
                }
            })
        })
        .collect();
    let mut answers = BTreeMap::<String, u32>::new();
    for call in calls {
        *answers.entry(call.await.unwrap()).or_default() += 1;
    }
    let peak = status_kib(pid, "VmHWM:");
    let above = peak.saturating_sub(idle) as f64 * 1024.0;
    println!(
        "| {} | {callers} | {} | {:.1} MiB | {:.1} MiB | {:.1} MiB ({:.2}x the page) |",
        shape.name(),
        answers
            .iter()
            .map(|(answer, n)| format!("{n} {answer}"))
            .collect::<Vec<_>>()
            .join(", "),
        idle as f64 / 1024.0,
        peak as f64 / 1024.0,
        above / (1024.0 * 1024.0),
        above / bytes as f64,
    );
    drop(gateway);
    simulator.shutdown().await;
}
