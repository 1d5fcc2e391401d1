//! A bench, not a test: StreamCifsConnections through the gateway binary (a
//! child process, so its memory is its own) over a simulator holding 100,000
//! CIFS connections (in this process). Reports the connections and messages
//! streamed, the time, and the gateway's RSS before, at its peak (sampled
//! every 10 ms) and after: paging with backpressure should keep it flat.
//!
//! `cargo bench --bench stream_connections` streams 100,000 (`STREAM_CONNECTIONS`
//! sets another count); under `cargo test` it streams 5,000, as a smoke run.
//! Loopback only.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ontap_grpc_gateway::proto::v1::StreamCifsConnectionsRequest;
use ontap_grpc_gateway::proto::v1::cifs_connections_client::CifsConnectionsClient;
use ontap_simulator::{Cluster, Simulator, SimulatorConfig};

mod common;
use common::{channel, rss_kib, spawn_gateway};

#[tokio::main]
async fn main() {
    let benching = common::benching();
    let total: u32 = std::env::var("STREAM_CONNECTIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if benching { 100_000 } else { 5_000 });
    let simulator = Simulator::start(
        SimulatorConfig::default(),
        Cluster::seed_with_cifs_connections(total),
    )
    .await
    .unwrap();
    let (gateway, url) = spawn_gateway(&simulator, &[]);
    let pid = gateway.0.id();
    let mut client = CifsConnectionsClient::new(channel(&url).await);

    // One short stream first, so the before figure holds a warm gateway.
    let mut warm = client
        .stream_cifs_connections(StreamCifsConnectionsRequest {
            identifier: "91842".into(),
            ..Default::default()
        })
        .await
        .expect("the gateway answers")
        .into_inner();
    while warm.message().await.unwrap().is_some() {}
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = rss_kib(pid);

    let peak = Arc::new(AtomicU64::new(before));
    let streaming = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, streaming) = (Arc::clone(&peak), Arc::clone(&streaming));
        tokio::spawn(async move {
            while streaming.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let started = Instant::now();
    let mut stream = client
        .stream_cifs_connections(StreamCifsConnectionsRequest::default())
        .await
        .expect("the stream opens")
        .into_inner();
    let (mut messages, mut connections) = (0_u64, 0_u64);
    while let Some(page) = stream.message().await.expect("the stream ends cleanly") {
        messages += 1;
        connections += page.cifs_connections.len() as u64;
    }
    let took = started.elapsed();
    streaming.store(false, Ordering::Relaxed);
    sampler.await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid);
    assert_eq!(connections, u64::from(total), "every connection, once");

    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "| connections | messages | time | connections/s | gateway RSS before | peak | after |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    println!(
        "| {connections} | {messages} | {:.1} s | {:.0} | {:.1} MiB | {:.1} MiB | {:.1} MiB |",
        took.as_secs_f64(),
        connections as f64 / took.as_secs_f64(),
        mib(before),
        mib(peak.load(Ordering::Relaxed)),
        mib(after),
    );
    drop(gateway);
    simulator.shutdown().await;
}
