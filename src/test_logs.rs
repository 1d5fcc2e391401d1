//! What code logs, captured for unit tests that pin a log line.

use std::sync::{Arc, Mutex};

/// Runs `f` under a subscriber that records every event at `level` or above,
/// without time or colour, and returns the lines.
pub fn captured(level: tracing::Level, f: impl FnOnce()) -> String {
    // tracing caches each callsite's interest across every thread's
    // dispatchers; two captures registering and dropping theirs at once
    // can leave a callsite cached as uninteresting and lose a line, so
    // captures take turns, each with the cache rebuilt for its subscriber.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .without_time()
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        tracing::callsite::rebuild_interest_cache();
        f()
    });
    let bytes = lines.0.lock().expect("no test panics holding it").clone();
    String::from_utf8(bytes).expect("log lines are UTF-8")
}

#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("no test panics holding it")
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
