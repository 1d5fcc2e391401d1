//! What code logs, captured for unit tests that pin a log line.
//!
//! One subscriber, installed once for the whole test binary, takes every
//! event and writes it to the capture of the thread that logged it, if that
//! thread is capturing its level. Nothing is filtered before the writer, so
//! tracing's per-callsite interest cache, shared by every thread, never
//! decides what a capture sees: with scoped subscribers registered and
//! dropped by tests running at once, a callsite registered meanwhile could
//! be cached as uninteresting and a line lost (about one run in twelve).

use std::cell::RefCell;
use std::sync::Once;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

thread_local! {
    /// The level this thread captures at and what it captured so far.
    static CAPTURE: RefCell<Option<(tracing::Level, Vec<u8>)>> = const { RefCell::new(None) };
}

/// Runs `f`, recording every event it logs on this thread at `level` or
/// above, without time or colour, and returns the lines.
pub fn captured(level: tracing::Level, f: impl FnOnce()) -> String {
    install();
    CAPTURE.with(|capture| *capture.borrow_mut() = Some((level, Vec::new())));
    f();
    let (_, bytes) = CAPTURE
        .with(|capture| capture.borrow_mut().take())
        .expect("the capture started above");
    String::from_utf8(bytes).expect("log lines are UTF-8")
}

fn install() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .without_time()
            .with_writer(ThreadCapture)
            .finish()
            .try_init()
            .expect("no other test sets a global subscriber");
    });
}

/// Writes an event to the capture of the thread that logged it, when that
/// thread captures the event's level.
struct ThreadCapture;

impl<'a> MakeWriter<'a> for ThreadCapture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Capture {
        Capture { wanted: false }
    }

    fn make_writer_for(&'a self, metadata: &tracing::Metadata<'_>) -> Capture {
        let wanted = CAPTURE.with(|capture| {
            capture
                .borrow()
                .as_ref()
                .is_some_and(|(level, _)| metadata.level() <= level)
        });
        Capture { wanted }
    }
}

/// One event's line, kept if its thread wants it.
struct Capture {
    wanted: bool,
}

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.wanted {
            CAPTURE.with(|capture| {
                if let Some((_, bytes)) = capture.borrow_mut().as_mut() {
                    bytes.extend_from_slice(buf);
                }
            });
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
