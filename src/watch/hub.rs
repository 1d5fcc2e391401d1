//! The registry of shared pollers: every watcher of the same upstream query
//! joins the one poller polling it, the first starts it, and the last to
//! leave stops it.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use tokio_util::sync::{CancellationToken, DropGuard};

use crate::ontap::ClientScope;

/// A poller's key within the scope it polls for: one cluster, and in
/// pass-through mode one caller's credentials, so that no watcher reads
/// what another identity's poll fetched.
pub type Scoped<K> = (ClientScope, K);

/// How many pollers and watchers are live, for logs and the gateway's own
/// metrics.
#[derive(Debug, Default)]
pub struct LiveCounts {
    pollers: AtomicUsize,
    watchers: AtomicUsize,
}

impl LiveCounts {
    /// Upstream pollers running now.
    pub fn pollers(&self) -> usize {
        self.pollers.load(Ordering::Relaxed)
    }

    /// Watch streams open now.
    pub fn watchers(&self) -> usize {
        self.watchers.load(Ordering::Relaxed)
    }

    fn changed(&self, what: &'static str) {
        tracing::debug!(
            pollers = self.pollers(),
            watchers = self.watchers(),
            "watch {what}"
        );
    }
}

/// One running poller: its shared state `S` (what it publishes), and the
/// task polling for it, stopped when the last watcher drops this.
pub struct Poller<K: Eq + Hash, S> {
    /// What the poller publishes, which its watchers read.
    pub state: Arc<S>,
    key: K,
    registry: Weak<Registry<K, S>>,
    counts: Arc<LiveCounts>,
    _stop: DropGuard,
}

impl<K: Eq + Hash, S> Drop for Poller<K, S> {
    fn drop(&mut self) {
        if let Some(registry) = self.registry.upgrade() {
            let mut pollers = registry.lock().expect("no code panics holding it");
            // A watcher may have started a new poller for the key while this
            // one was dying; that one stays.
            if pollers
                .get(&self.key)
                .is_some_and(|entry| entry.strong_count() == 0)
            {
                pollers.remove(&self.key);
            }
        }
        self.counts.pollers.fetch_sub(1, Ordering::Relaxed);
        self.counts.changed("poller stopped");
    }
}

/// A watcher's hold on its poller: counted while it lives.
pub struct Membership<K: Eq + Hash, S> {
    /// The poller watched.
    pub poller: Arc<Poller<K, S>>,
}

impl<K: Eq + Hash, S> Drop for Membership<K, S> {
    fn drop(&mut self) {
        self.poller.counts.watchers.fetch_sub(1, Ordering::Relaxed);
        self.poller.counts.changed("watcher left");
    }
}

type Registry<K, S> = Mutex<HashMap<K, Weak<Poller<K, S>>>>;

/// The pollers of one kind of watch, by the upstream query they poll.
pub struct Hub<K: Eq + Hash, S> {
    pollers: Arc<Registry<K, S>>,
    counts: Arc<LiveCounts>,
}

impl<K: Eq + Hash + Clone, S> Hub<K, S> {
    /// An empty hub counting into `counts`.
    pub fn new(counts: Arc<LiveCounts>) -> Self {
        Self {
            pollers: Arc::default(),
            counts,
        }
    }

    /// Joins the poller of `key`, starting it when none runs: `start`
    /// builds its state and spawns its task, which must end when the token
    /// is cancelled (when the last member leaves).
    pub fn join(
        &self,
        key: &K,
        start: impl FnOnce(CancellationToken) -> Arc<S>,
    ) -> Membership<K, S> {
        let mut pollers = self.pollers.lock().expect("no code panics holding it");
        let poller = match pollers.get(key).and_then(Weak::upgrade) {
            Some(poller) => poller,
            None => {
                let stop = CancellationToken::new();
                let state = start(stop.clone());
                let poller = Arc::new(Poller {
                    state,
                    key: key.clone(),
                    registry: Arc::downgrade(&self.pollers),
                    counts: Arc::clone(&self.counts),
                    _stop: stop.drop_guard(),
                });
                pollers.insert(key.clone(), Arc::downgrade(&poller));
                self.counts.pollers.fetch_add(1, Ordering::Relaxed);
                self.counts.changed("poller started");
                poller
            }
        };
        drop(pollers);
        self.counts.watchers.fetch_add(1, Ordering::Relaxed);
        self.counts.changed("watcher joined");
        Membership { poller }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub() -> (Hub<&'static str, u32>, Arc<LiveCounts>) {
        let counts = Arc::new(LiveCounts::default());
        (Hub::new(Arc::clone(&counts)), counts)
    }

    #[test]
    fn watchers_of_one_key_share_one_poller() {
        let (hub, counts) = hub();
        let mut started = 0;
        let a = hub.join(&"svm1", |_| {
            started += 1;
            Arc::new(1)
        });
        let b = hub.join(&"svm1", |_| {
            started += 1;
            Arc::new(2)
        });
        assert_eq!(started, 1);
        assert!(Arc::ptr_eq(&a.poller, &b.poller));
        assert_eq!((counts.pollers(), counts.watchers()), (1, 2));
    }

    #[test]
    fn different_keys_get_different_pollers() {
        let (hub, counts) = hub();
        let _a = hub.join(&"svm1", |_| Arc::new(1));
        let _b = hub.join(&"svm2", |_| Arc::new(2));
        assert_eq!((counts.pollers(), counts.watchers()), (2, 2));
    }

    #[test]
    fn the_last_watcher_leaving_stops_the_poller() {
        let (hub, counts) = hub();
        let mut token = None;
        let a = hub.join(&"svm1", |t| {
            token = Some(t);
            Arc::new(1)
        });
        let b = hub.join(&"svm1", |_| unreachable!("already running"));
        let token = token.unwrap();
        drop(a);
        assert!(!token.is_cancelled(), "one watcher is left");
        drop(b);
        assert!(token.is_cancelled());
        assert_eq!((counts.pollers(), counts.watchers()), (0, 0));
    }

    #[test]
    fn every_change_is_logged_at_debug_with_the_live_counts() {
        let logged = crate::test_logs::captured(tracing::Level::DEBUG, || {
            let (hub, _) = hub();
            drop(hub.join(&"svm1", |_| Arc::new(1)));
        });
        let changes: Vec<_> = logged
            .lines()
            .map(|l| l.split_once(": ").unwrap().1)
            .collect();
        assert_eq!(
            changes,
            [
                "watch poller started pollers=1 watchers=0",
                "watch watcher joined pollers=1 watchers=1",
                "watch watcher left pollers=1 watchers=0",
                "watch poller stopped pollers=0 watchers=0",
            ]
        );
        assert!(logged.lines().all(|l| l.contains("DEBUG")), "{logged}");
    }

    #[test]
    fn a_stopped_poller_leaves_nothing_behind() {
        let (hub, _) = hub();
        drop(hub.join(&"svm1", |_| Arc::new(1)));
        assert!(hub.pollers.lock().unwrap().is_empty());
    }

    #[test]
    fn a_watcher_after_the_last_left_starts_a_new_poller() {
        let (hub, counts) = hub();
        drop(hub.join(&"svm1", |_| Arc::new(1)));
        let again = hub.join(&"svm1", |_| Arc::new(2));
        assert_eq!(*again.poller.state, 2);
        assert_eq!((counts.pollers(), counts.watchers()), (1, 1));
    }
}
