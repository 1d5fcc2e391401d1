//! A bench, not a test: many concurrent WatchCifsSessions streams of one
//! SVM through the gateway binary (a child process, so its memory is its
//! own) in front of an in-process simulator whose churn opens and closes
//! sessions. The generic list-then-watch (`watch::keyed`) behind every
//! Watch of a resource with keys: the gateway's RSS per stream, and the
//! upstream requests per poll interval, which one shared poller should hold
//! at one however many watch.
//!
//! `cargo bench --bench watch_sessions` opens 10,000 streams (`WATCH_STREAMS`
//! sets another count, `CIFS_CHURN_PER_MINUTE` the churn); under `cargo test` it opens 100 and counts two
//! intervals, as a smoke run. Loopback only.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ontap_grpc_gateway::proto::v1::cifs_sessions_client::CifsSessionsClient;
use ontap_grpc_gateway::proto::v1::{CifsSessionEventType, WatchCifsSessionsRequest};
use ontap_simulator::{CifsChurn, Cluster, Simulator, SimulatorConfig};
use tonic::Streaming;
use tonic::transport::Channel;

mod common;
use common::{channel, count_messages, rss_kib, spawn_gateway};

/// Streams per HTTP/2 connection, as a client pool would spread them.
const STREAMS_PER_CONNECTION: usize = 100;
/// Where the watched sessions live.
const COLLECTION: &str = "/api/protocols/cifs/sessions";

/// The watched SVM: `vs1` (71 sessions) unless `WATCH_SVM` names another
/// (`svm3` has 5).
fn request() -> WatchCifsSessionsRequest {
    WatchCifsSessionsRequest {
        svm_name: std::env::var("WATCH_SVM").unwrap_or_else(|_| "vs1".into()),
        poll_interval: Some(prost_types::Duration {
            seconds: 1,
            nanos: 0,
        }),
        ..WatchCifsSessionsRequest::default()
    }
}

/// Opens one watch and reads its initial list, through SYNCED.
async fn open(
    channel: Channel,
) -> Streaming<ontap_grpc_gateway::proto::v1::WatchCifsSessionsResponse> {
    let mut stream = CifsSessionsClient::new(channel)
        .watch_cifs_sessions(request())
        .await
        .expect("a watch opens")
        .into_inner();
    loop {
        let message = stream.message().await.unwrap().expect("the initial list");
        if message.r#type == CifsSessionEventType::Synced as i32 {
            return stream;
        }
    }
}

#[tokio::main]
async fn main() {
    let benching = common::benching();
    let streams: usize = std::env::var("WATCH_STREAMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if benching { 10_000 } else { 100 });
    let (counted_intervals, settle) = if benching {
        (10, Duration::from_secs(2))
    } else {
        (2, Duration::from_millis(200))
    };
    // Sessions open and close every second or so (`CIFS_CHURN_PER_MINUTE`
    // sets another rate; 0 turns it off), so the streams carry changes
    // while they are counted.
    let per_minute: f64 = std::env::var("CIFS_CHURN_PER_MINUTE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60.0);
    let config = SimulatorConfig {
        cifs_churn: CifsChurn::new(per_minute, 7).expect("a valid churn rate"),
        ..SimulatorConfig::default()
    };
    let simulator = Simulator::start(config, Cluster::seed()).await.unwrap();
    let (gateway, url) = spawn_gateway(&simulator, &[]);
    let pid = gateway.0.id();

    // One watch first, so the before figure holds a running poller.
    let _first = open(channel(&url).await).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = rss_kib(pid);

    let received = Arc::new(AtomicU64::new(0));
    let opening = Instant::now();
    let mut readers = Vec::with_capacity(streams);
    let mut connections = Vec::new();
    for i in 0..streams {
        if i % STREAMS_PER_CONNECTION == 0 {
            connections.push(channel(&url).await);
        }
        let stream = open(connections.last().unwrap().clone()).await;
        readers.push(count_messages(stream, &received));
    }
    let opened_in = opening.elapsed();
    tokio::time::sleep(settle).await;
    let open_rss = rss_kib(pid);

    simulator.reset_stats();
    received.store(0, Ordering::Relaxed);
    let counting = Instant::now();
    tokio::time::sleep(Duration::from_secs(counted_intervals)).await;
    let counted_for = counting.elapsed().as_secs_f64();
    let requests = simulator
        .path_stats()
        .get(COLLECTION)
        .map_or(0, |s| s.requests);
    let total_requests = simulator.stats().requests;
    let messages = received.load(Ordering::Relaxed);

    println!(
        "| streams | opened in | gateway RSS before | with the streams | per stream | upstream requests per 1 s interval | changes in {counted_intervals} s |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    println!(
        "| {streams} on {} connections | {:.1} s | {:.1} MiB | {:.1} MiB | {:.2} KiB | {:.2} ({requests} in {counted_for:.1} s; {total_requests} requests in all) | {messages} |",
        connections.len(),
        opened_in.as_secs_f64(),
        before as f64 / 1024.0,
        open_rss as f64 / 1024.0,
        (open_rss as f64 - before as f64) / streams as f64,
        requests as f64 / counted_for,
    );
    assert!(requests > 0, "the shared poller polled");
    for reader in readers {
        reader.abort();
    }
    drop(gateway);
    simulator.shutdown().await;
}
