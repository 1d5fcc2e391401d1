//! Single flight: identical reads in flight at the same time share one
//! upstream request. Many services poll the same collections through the
//! gateway, often on the same schedule, and each would otherwise cost ONTAP
//! a request of its own. Nothing is cached: a read that starts after the
//! shared one answered sends its own.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use futures_util::future::{BoxFuture, FutureExt, Shared, WeakShared};

use super::body::Response;
use super::client::Deadline;
use super::error::{OntapError, TimeBound};

/// One upstream request, awaited by every caller that joined it.
type Exchange = Shared<BoxFuture<'static, Result<Response, OntapError>>>;

/// The reads in flight on one cluster's client, by URL. The client is per
/// cluster and credentials, so a URL never joins another identity's read.
#[derive(Default)]
pub struct Flights {
    by_url: Arc<Mutex<HashMap<String, Entry>>>,
    next_id: AtomicU64,
    callers: Arc<AtomicUsize>,
}

struct Entry {
    id: u64,
    exchange: WeakShared<BoxFuture<'static, Result<Response, OntapError>>>,
    progress: Arc<Progress>,
}

/// How far a shared read has got, so that a caller whose own deadline
/// passes first is told what it was waiting for.
#[derive(Debug, Default)]
pub struct Progress {
    sent: OnceLock<Instant>,
    /// The latest deadline of the callers that joined: how long an answer
    /// is still of use to someone (a retry worth waiting for).
    wanted_until: Mutex<Option<Deadline>>,
}

impl Progress {
    /// Marks the request as holding an upstream slot and sent.
    pub fn sent(&self) {
        let _ = self.sent.set(Instant::now());
    }

    /// The latest deadline of the callers so far.
    pub fn wanted_until(&self) -> Deadline {
        self.wanted().unwrap_or(Deadline::NONE)
    }

    fn wanted_by(&self, deadline: Deadline) {
        let mut wanted = self.wanted();
        *wanted = Some(wanted.map_or(deadline, |until| until.later(deadline)));
    }

    fn wanted(&self) -> std::sync::MutexGuard<'_, Option<Deadline>> {
        self.wanted_until.lock().expect("no code panics holding it")
    }
}

/// Reads in flight now, for tests and the gateway's own metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coalescing {
    /// Upstream reads in flight that callers share.
    pub flights: usize,
    /// Callers waiting on them.
    pub callers: usize,
}

impl Flights {
    /// Joins the read of `url` in flight, or starts it with `start`, which
    /// must report through the [`Progress`] it is given.
    pub fn join(
        &self,
        url: &str,
        deadline: Deadline,
        start: impl FnOnce(Arc<Progress>) -> BoxFuture<'static, Result<Response, OntapError>>,
    ) -> Joined {
        let mut by_url = self.by_url.lock().expect("no code panics holding it");
        let running = by_url
            .get(url)
            .and_then(|entry| Some((entry.exchange.upgrade()?, Arc::clone(&entry.progress))));
        let (exchange, progress) = match running {
            Some(running) => running,
            None => {
                let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                let progress = Arc::new(Progress::default());
                let exchange = start(Arc::clone(&progress));
                let landing = Landing {
                    by_url: Arc::clone(&self.by_url),
                    url: url.to_owned(),
                    id,
                };
                let exchange = async move {
                    // Dropped when the read answers or its last caller
                    // leaves: either way, later reads start afresh.
                    let _landing = landing;
                    exchange.await
                }
                .boxed()
                .shared();
                let weak = exchange
                    .downgrade()
                    .expect("not yet polled, so not complete");
                by_url.insert(
                    url.to_owned(),
                    Entry {
                        id,
                        exchange: weak,
                        progress: Arc::clone(&progress),
                    },
                );
                (exchange, progress)
            }
        };
        drop(by_url);
        progress.wanted_by(deadline);
        self.callers.fetch_add(1, Ordering::Relaxed);
        Joined {
            exchange,
            progress,
            joined: Instant::now(),
            callers: Arc::clone(&self.callers),
        }
    }

    /// What is in flight now.
    pub fn coalescing(&self) -> Coalescing {
        Coalescing {
            flights: self.by_url.lock().expect("no code panics holding it").len(),
            callers: self.callers.load(Ordering::Relaxed),
        }
    }
}

/// Removes a finished or abandoned read from the map, unless a newer read
/// of the same URL has already taken its place.
struct Landing {
    by_url: Arc<Mutex<HashMap<String, Entry>>>,
    url: String,
    id: u64,
}

impl Drop for Landing {
    fn drop(&mut self) {
        let mut by_url = self.by_url.lock().expect("no code panics holding it");
        if by_url
            .get(&self.url)
            .is_some_and(|entry| entry.id == self.id)
        {
            by_url.remove(&self.url);
        }
    }
}

/// One caller's place in a shared read.
pub struct Joined {
    exchange: Exchange,
    progress: Arc<Progress>,
    joined: Instant,
    callers: Arc<AtomicUsize>,
}

impl Drop for Joined {
    fn drop(&mut self) {
        self.callers.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Joined {
    /// The shared answer, or, when `deadline` passes first, what the
    /// caller ran out of time waiting for: a slot (nothing was sent for it
    /// yet) or ONTAP's answer. `limit` is the client's bound on slots.
    pub async fn answer(self, deadline: Deadline, limit: usize) -> Result<Response, OntapError> {
        let Some(left) = deadline.remaining() else {
            return self.exchange.clone().await;
        };
        let until = Instant::now() + left;
        match tokio::time::timeout(left, self.exchange.clone()).await {
            Ok(answer) => answer,
            Err(_) => Err(match self.progress.sent.get() {
                None => OntapError::QueuedPastDeadline {
                    limit,
                    waited: self.joined.elapsed(),
                },
                Some(sent) => OntapError::Timeout {
                    budget: until.saturating_duration_since(*sent),
                    bound: TimeBound::CallerDeadline,
                },
            }),
        }
    }
}
