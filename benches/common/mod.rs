//! What the benches share: the gateway binary as a child process, its
//! memory, a channel that waits for it to listen, and readers that count
//! what its streams send.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ontap_simulator::{Credentials, ExposeSecret, Simulator};
use tonic::transport::Channel;

/// Whether `cargo bench` runs this main (it passes `--bench`); under
/// `cargo test --all-targets` a bench main runs as a smoke run, at a size
/// that proves it still works without costing the test run its full length.
pub fn benching() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// Stops the gateway when the run ends, however it ends.
pub struct Gateway(pub Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The release gateway binary serving on a free loopback port in front of
/// `simulator`, with `extra` flags, and the URL it serves.
pub fn spawn_gateway(simulator: &Simulator, extra: &[&str]) -> (Gateway, String) {
    let port = free_port();
    let credentials = Credentials::default();
    let child = Command::new(env!("CARGO_BIN_EXE_ontap-grpc-gateway"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args([
            "--ontap-url",
            &simulator.base_url(),
            "--allow-plaintext-upstream",
        ])
        .args(extra)
        .env("ONTAP_PASSWORD", credentials.password.expose_secret())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the gateway binary starts");
    (Gateway(child), format!("http://127.0.0.1:{port}"))
}

/// Resident memory of `pid`, in KiB, from /proc.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn channel(url: &str) -> Channel {
    for _ in 0..400 {
        if let Ok(channel) = Channel::from_shared(url.to_owned())
            .unwrap()
            .connect()
            .await
        {
            return channel;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the gateway never listened on {url}");
}

/// Reads `stream` to its end in a task of its own, adding each message to
/// `received`: the watchers of a watch bench, which only count.
pub fn count_messages<T: Send + 'static>(
    mut stream: tonic::Streaming<T>,
    received: &Arc<AtomicU64>,
) -> tokio::task::JoinHandle<()> {
    let received = Arc::clone(received);
    tokio::spawn(async move {
        while let Ok(Some(_)) = stream.message().await {
            received.fetch_add(1, Ordering::Relaxed);
        }
    })
}
