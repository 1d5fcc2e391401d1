//! A bench, not a test: many concurrent WatchIscsiServiceMetrics streams of
//! one SVM through the gateway binary (a child process, so its memory is its
//! own) in front of an in-process simulator. Reports the gateway's RSS per
//! stream and the upstream requests per poll interval, which one shared
//! poller should hold at one however many watch.
//!
//! `cargo bench --bench watch_streams` opens 10,000 streams (`WATCH_STREAMS`
//! sets another count); under `cargo test` it opens 100 and counts two
//! intervals, as a smoke run.
//! The streams compute rates from the counters, so every one gets a message
//! every second; `WATCH_SOURCE=ontap_metric` watches ONTAP's own 15-second
//! samples instead. Loopback only.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ontap_grpc_gateway::proto::v1::iscsi_services_client::IscsiServicesClient;
use ontap_grpc_gateway::proto::v1::{WatchIscsiServiceMetricsRequest, WatchSource};
use ontap_simulator::{Cluster, Simulator, SimulatorConfig};

mod common;
use common::{channel, count_messages, rss_kib, spawn_gateway};

const SVM2_UUID: &str = "25f617cf-94d7-11e8-8370-005056b48fd2";
/// Streams per HTTP/2 connection, as a client pool would spread them.
const STREAMS_PER_CONNECTION: usize = 100;

fn request(source: WatchSource) -> WatchIscsiServiceMetricsRequest {
    WatchIscsiServiceMetricsRequest {
        svm_uuid: SVM2_UUID.into(),
        poll_interval: Some(prost_types::Duration {
            seconds: 1,
            nanos: 0,
        }),
        source: source as i32,
        start_time: None,
    }
}

#[tokio::main]
async fn main() {
    let benching = common::benching();
    let streams: usize = std::env::var("WATCH_STREAMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if benching { 10_000 } else { 100 });
    // How many poll intervals upstream requests are counted for, and how
    // long the open streams settle before their memory is read.
    let (counted_intervals, settle) = if benching {
        (10, Duration::from_secs(2))
    } else {
        (2, Duration::from_millis(200))
    };
    let source = match std::env::var("WATCH_SOURCE").as_deref() {
        Ok("ontap_metric") => WatchSource::OntapMetric,
        _ => WatchSource::RatesFromCounters,
    };
    let simulator = Simulator::start(SimulatorConfig::default(), Cluster::seed())
        .await
        .unwrap();
    let (gateway, url) = spawn_gateway(&simulator, &[]);
    let pid = gateway.0.id();

    // One watch first, so the before figure holds a running poller.
    let warm = channel(&url).await;
    let mut first = IscsiServicesClient::new(warm.clone())
        .watch_iscsi_service_metrics(request(source))
        .await
        .expect("the gateway answers")
        .into_inner();
    first.message().await.unwrap().expect("a first sample");
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
        let mut stream = IscsiServicesClient::new(connections.last().unwrap().clone())
            .watch_iscsi_service_metrics(request(source))
            .await
            .expect("a watch opens")
            .into_inner();
        // Each starts with the poller's newest sample: it is open.
        stream.message().await.unwrap().expect("a first sample");
        readers.push(count_messages(stream, &received));
    }
    let opened_in = opening.elapsed();
    tokio::time::sleep(settle).await;
    let open = rss_kib(pid);

    simulator.reset_stats();
    received.store(0, Ordering::Relaxed);
    let counting = Instant::now();
    tokio::time::sleep(Duration::from_secs(counted_intervals)).await;
    let counted_for = counting.elapsed().as_secs_f64();
    let service_path = format!("/api/protocols/san/iscsi/services/{SVM2_UUID}");
    let requests = simulator
        .path_stats()
        .get(&service_path)
        .map_or(0, |s| s.requests);
    let total_requests = simulator.stats().requests;
    let messages = received.load(Ordering::Relaxed);

    println!(
        "| streams | source | opened in | gateway RSS before | with the streams | per stream | upstream requests per 1 s interval | messages in {counted_intervals} s |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    println!(
        "| {streams} on {} connections | {} | {:.1} s | {:.1} MiB | {:.1} MiB | {:.2} KiB | {:.2} ({requests} in {counted_for:.1} s; {total_requests} requests in all) | {messages} |",
        connections.len(),
        source.as_str_name(),
        opened_in.as_secs_f64(),
        before as f64 / 1024.0,
        open as f64 / 1024.0,
        (open as f64 - before as f64) / streams as f64,
        requests as f64 / counted_for,
    );
    for reader in readers {
        reader.abort();
    }
    drop(gateway);
    simulator.shutdown().await;
}
