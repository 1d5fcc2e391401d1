//! A soak run, not a test: the gateway binary as a child process, so its
//! memory is its own, in front of an in-process simulator, under 64 callers
//! for a minute beside 1,000 idle connections and one burst of 10,000
//! calls on one connection. Prints calls, errors by code, latency
//! percentiles and the gateway's RSS before, at peak and after.
//!
//! `cargo bench --bench soak` (`SOAK_SECONDS` shortens the minute); under
//! `cargo test`, one second beside 20 idle connections and a burst of 200,
//! as a smoke run. Loopback only.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ontap_grpc_gateway::proto::v1::ListCifsConnectionsRequest;
use ontap_grpc_gateway::proto::v1::cifs_connections_client::CifsConnectionsClient;
use ontap_simulator::{Cluster, Simulator, SimulatorConfig};
use tokio::sync::Mutex;

mod common;
use common::{channel, rss_kib, spawn_gateway};
use tonic::transport::Channel;

const CALLERS: usize = 64;
const CALLER_CHANNELS: usize = 4;

/// How big a run is: the soak under `cargo bench`, a smoke run otherwise.
struct Size {
    seconds: u64,
    idle_connections: usize,
    burst: usize,
    /// How long the gateway is left to give memory back before "after".
    settle: Duration,
}

impl Size {
    fn of_this_run() -> Self {
        if common::benching() {
            Self {
                seconds: std::env::var("SOAK_SECONDS")
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(60),
                idle_connections: 1000,
                burst: 10_000,
                settle: Duration::from_secs(5),
            }
        } else {
            Self {
                seconds: 1,
                idle_connections: 20,
                burst: 200,
                settle: Duration::from_millis(100),
            }
        }
    }
}

/// Open file descriptors of `pid` (its sockets, mostly).
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

fn request() -> ListCifsConnectionsRequest {
    ListCifsConnectionsRequest {
        page_size: 10,
        ..Default::default()
    }
}

/// One call: when it started, and its outcome's code.
async fn timed_call(
    client: &mut CifsConnectionsClient<Channel>,
) -> (Instant, Result<(), tonic::Code>) {
    let started = Instant::now();
    let outcome = client
        .list_cifs_connections(request())
        .await
        .map(drop)
        .map_err(|s| s.code());
    (started, outcome)
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    codes: BTreeMap<String, u64>,
}

impl Tally {
    fn record(&mut self, started: Instant, outcome: Result<(), tonic::Code>) {
        self.latencies_us.push(started.elapsed().as_micros() as u64);
        let code = match outcome {
            Ok(()) => "OK".to_owned(),
            Err(code) => format!("{code:?}"),
        };
        *self.codes.entry(code).or_default() += 1;
    }

    /// `(p50, p99)` in milliseconds.
    fn percentiles_ms(&mut self) -> (f64, f64) {
        if self.latencies_us.is_empty() {
            return (0.0, 0.0);
        }
        self.latencies_us.sort_unstable();
        let at = |p: f64| {
            let i = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
            self.latencies_us[i] as f64 / 1000.0
        };
        (at(0.50), at(0.99))
    }
}

#[tokio::main]
async fn main() {
    let Size {
        seconds,
        idle_connections,
        burst,
        settle,
    } = Size::of_this_run();
    let simulator = Simulator::start(SimulatorConfig::default(), Cluster::seed())
        .await
        .unwrap();
    let (gateway, url) = spawn_gateway(&simulator, &["--max-connections", "2000"]);
    let pid = gateway.0.id();
    let warm = channel(&url).await;
    CifsConnectionsClient::new(warm.clone())
        .list_cifs_connections(request())
        .await
        .expect("the gateway answers");
    let before = rss_kib(pid);
    let fds_before = open_fds(pid);

    let peak = Arc::new(AtomicU64::new(before));
    let sampler = {
        let peak = Arc::clone(&peak);
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };

    let mut idle = Vec::with_capacity(idle_connections);
    for _ in 0..idle_connections {
        idle.push(channel(&url).await);
    }

    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut channels = Vec::new();
    for _ in 0..CALLER_CHANNELS {
        channels.push(channel(&url).await);
    }
    let until = Instant::now() + Duration::from_secs(seconds);
    let callers: Vec<_> = (0..CALLERS)
        .map(|i| {
            let mut client = CifsConnectionsClient::new(channels[i % CALLER_CHANNELS].clone());
            let tally = Arc::clone(&tally);
            tokio::spawn(async move {
                while Instant::now() < until {
                    let (started, outcome) = timed_call(&mut client).await;
                    tally.lock().await.record(started, outcome);
                }
            })
        })
        .collect();
    for caller in callers {
        caller.await.unwrap();
    }
    let mut steady = std::mem::take(&mut *tally.lock().await);

    let burst_channel = channel(&url).await;
    let burst_calls: Vec<_> = (0..burst)
        .map(|_| {
            let mut client = CifsConnectionsClient::new(burst_channel.clone());
            tokio::spawn(async move { timed_call(&mut client).await })
        })
        .collect();
    let mut burst_tally = Tally::default();
    for call in burst_calls {
        let (started, outcome) = call.await.unwrap();
        burst_tally.record(started, outcome);
    }

    drop(idle);
    drop(channels);
    drop(burst_channel);
    tokio::time::sleep(settle).await;
    sampler.abort();
    let after = rss_kib(pid);
    let fds_after = open_fds(pid);
    let peak = peak.load(Ordering::Relaxed);

    let calls: u64 = steady.codes.values().sum();
    let (steady_p50, steady_p99) = steady.percentiles_ms();
    let (burst_p50, burst_p99) = burst_tally.percentiles_ms();
    println!("| phase | calls | by code | p50 | p99 |");
    println!("| --- | --- | --- | --- | --- |");
    println!(
        "| {CALLERS} callers, {seconds} s, beside {idle_connections} idle connections | {calls} ({:.0}/s) | {:?} | {:.2} ms | {:.2} ms |",
        calls as f64 / seconds as f64,
        steady.codes,
        steady_p50,
        steady_p99,
    );
    println!(
        "| burst of {burst} calls on one connection | {} | {:?} | {:.2} ms | {:.2} ms |",
        burst_tally.codes.values().sum::<u64>(),
        burst_tally.codes,
        burst_p50,
        burst_p99,
    );
    println!();
    println!(
        "gateway RSS: before {:.1} MiB, peak {:.1} MiB, {settle:?} after {:.1} MiB ({:+.0}% of before)",
        before as f64 / 1024.0,
        peak as f64 / 1024.0,
        after as f64 / 1024.0,
        (after as f64 - before as f64) * 100.0 / before as f64,
    );
    println!("gateway open file descriptors: before {fds_before}, {settle:?} after {fds_after}");
    drop(gateway);
    simulator.shutdown().await;
}
