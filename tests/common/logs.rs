//! Everything a test binary logs, captured for tests that pin a log line.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// Installs the capture (once per test binary) and returns its buffer.
pub fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&logs);
        tracing_subscriber::fmt()
            .with_env_filter(
                "warn,access=info,ontap_grpc_gateway::layers=info,ontap_grpc_gateway::server=info",
            )
            .with_ansi(false)
            .with_writer(move || Sink(Arc::clone(&sink)))
            .init();
        logs
    })
}

/// The line the cluster probe logged when the cluster at `upstream` first
/// answered.
pub fn probe_answer(upstream: &str) -> String {
    let needle = format!("upstream={upstream}");
    logged()
        .lines()
        .find(|l| l.contains("the ONTAP cluster answers") && l.contains(&needle))
        .expect("the answer is logged")
        .to_owned()
}

/// What was logged so far.
pub fn logged() -> String {
    String::from_utf8_lossy(&logs().lock().unwrap()).into_owned()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
