//! A bench, not a test: 64 callers list the same page over and over through
//! the gateway binary (a child process), in front of an in-process simulator
//! that takes 20 ms a request (a busy cluster), with read coalescing on and
//! then off (`--no-coalesce`). Reports calls, upstream requests and upstream
//! requests per call. Loopback only.
//!
//! `cargo bench --bench coalescing` runs each for 10 s; under `cargo test`,
//! 1 s each, as a smoke run.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ontap_grpc_gateway::proto::v1::ListCifsConnectionsRequest;
use ontap_grpc_gateway::proto::v1::cifs_connections_client::CifsConnectionsClient;
use ontap_simulator::{Cluster, Fault, FaultKind, Simulator, SimulatorConfig};

mod common;
use common::{channel, spawn_gateway};

const CALLERS: usize = 64;

#[tokio::main]
async fn main() {
    let benching = common::benching();
    let run_for = Duration::from_secs(if benching { 10 } else { 1 });
    println!(
        "| reads | callers | calls | upstream requests | upstream requests per call | calls/s |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for coalesce in [true, false] {
        let (calls, requests) = run(coalesce, run_for).await;
        println!(
            "| {} | {CALLERS} | {calls} | {requests} | {:.3} | {:.0} |",
            if coalesce {
                "coalesced"
            } else {
                "--no-coalesce"
            },
            requests as f64 / calls as f64,
            calls as f64 / run_for.as_secs_f64(),
        );
    }
}

/// Calls made and upstream requests sent in `run_for`.
async fn run(coalesce: bool, run_for: Duration) -> (u64, u64) {
    let simulator = Simulator::start(SimulatorConfig::default(), Cluster::seed())
        .await
        .unwrap();
    simulator
        .faults()
        .push(Fault::always(FaultKind::Delay(Duration::from_millis(20))));
    let flags: &[&str] = if coalesce { &[] } else { &["--no-coalesce"] };
    let (gateway, url) = spawn_gateway(&simulator, flags);
    let client = CifsConnectionsClient::new(channel(&url).await);
    let calls = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + run_for;
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (mut client, calls) = (client.clone(), Arc::clone(&calls));
            tokio::spawn(async move {
                while Instant::now() < until {
                    client
                        .list_cifs_connections(ListCifsConnectionsRequest {
                            page_size: 10,
                            ..Default::default()
                        })
                        .await
                        .expect("every call is answered");
                    calls.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for caller in callers {
        caller.await.unwrap();
    }
    let requests = simulator.stats().requests;
    drop(gateway);
    simulator.shutdown().await;
    (calls.load(Ordering::Relaxed), requests)
}
