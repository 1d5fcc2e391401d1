//! Adaptive page sizes. A cluster that cannot gather a page in time answers
//! 504, or a page cut short by `return_timeout`; asking that collection for
//! fewer records next time keeps a struggling cluster answering instead of
//! timing out again (what NetApp Harvest learned to do in the field), and
//! pages gathered in full grow the size back.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::list::MAX_PAGE_SIZE;

/// The smallest page the gateway shrinks to.
pub const MIN_ADAPTIVE_PAGE_SIZE: u32 = 10;
/// Pages gathered in full, in a row, before a shrunk size doubles.
pub const FULL_PAGES_TO_GROW: u32 = 4;

/// The page size each collection of one cluster is asked for at most.
#[derive(Debug, Default)]
pub struct PageSizes {
    /// Only collections whose size is shrunk: the map stays as small as
    /// the set of collections in trouble.
    shrunk: Mutex<HashMap<String, Shrunk>>,
    shrinks: AtomicU64,
    grows: AtomicU64,
}

#[derive(Debug, Clone, Copy)]
struct Shrunk {
    limit: u32,
    full_pages: u32,
}

/// How often page sizes changed, for the gateway's own metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSizeChanges {
    /// Times a collection's page size was halved.
    pub shrinks: u64,
    /// Times a shrunk page size doubled.
    pub grows: u64,
}

impl PageSizes {
    /// The most records to ask `collection` for.
    pub fn limit(&self, collection: &str) -> u32 {
        self.lock()
            .get(collection)
            .map_or(MAX_PAGE_SIZE, |shrunk| shrunk.limit)
    }

    /// ONTAP could not gather `asked` records of `collection` in time
    /// (`why`): the next pages ask for half as many. True when the size
    /// shrank (it is not already at the minimum).
    pub fn cut_short(&self, collection: &str, asked: u32, why: &str) -> bool {
        let halved = (asked / 2).max(MIN_ADAPTIVE_PAGE_SIZE);
        let mut shrunk = self.lock();
        let current = shrunk.get(collection).map_or(MAX_PAGE_SIZE, |s| s.limit);
        if halved >= current.min(asked) {
            return false;
        }
        shrunk.insert(
            collection.to_owned(),
            Shrunk {
                limit: halved,
                full_pages: 0,
            },
        );
        drop(shrunk);
        self.shrinks.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            collection,
            page_size = halved,
            asked,
            "ONTAP did not gather a page in time ({why}); asking for fewer records"
        );
        true
    }

    /// ONTAP gathered a page of `collection` in full: after
    /// [`FULL_PAGES_TO_GROW`] in a row a shrunk size doubles. True when it
    /// grew.
    pub fn gathered(&self, collection: &str) -> bool {
        let mut shrunk = self.lock();
        let Some(entry) = shrunk.get_mut(collection) else {
            return false;
        };
        entry.full_pages += 1;
        if entry.full_pages < FULL_PAGES_TO_GROW {
            return false;
        }
        let grown = entry.limit.saturating_mul(2).min(MAX_PAGE_SIZE);
        if grown == MAX_PAGE_SIZE {
            shrunk.remove(collection);
        } else {
            *entry = Shrunk {
                limit: grown,
                full_pages: 0,
            };
        }
        drop(shrunk);
        self.grows.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            collection,
            page_size = grown,
            "ONTAP gathered {FULL_PAGES_TO_GROW} pages in full; asking for more records again"
        );
        true
    }

    /// How often sizes changed so far.
    pub fn changes(&self) -> PageSizeChanges {
        PageSizeChanges {
            shrinks: self.shrinks.load(Ordering::Relaxed),
            grows: self.grows.load(Ordering::Relaxed),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Shrunk>> {
        self.shrunk.lock().expect("no code panics holding it")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CIFS: &str = "/api/protocols/cifs/connections";

    #[test]
    fn a_collection_never_cut_short_is_asked_for_the_most() {
        assert_eq!(PageSizes::default().limit(CIFS), MAX_PAGE_SIZE);
    }

    #[test]
    fn a_page_cut_short_halves_what_was_asked_for_that_collection_only() {
        let sizes = PageSizes::default();
        assert!(sizes.cut_short(CIFS, 100, "504"));
        assert_eq!(sizes.limit(CIFS), 50);
        assert_eq!(
            sizes.limit("/api/protocols/san/iscsi/services"),
            MAX_PAGE_SIZE
        );
        assert_eq!(
            sizes.changes(),
            PageSizeChanges {
                shrinks: 1,
                grows: 0
            }
        );
    }

    #[test]
    fn the_size_never_shrinks_below_the_minimum() {
        let sizes = PageSizes::default();
        assert!(sizes.cut_short(CIFS, 15, "504"));
        assert_eq!(sizes.limit(CIFS), MIN_ADAPTIVE_PAGE_SIZE);
        assert!(!sizes.cut_short(CIFS, MIN_ADAPTIVE_PAGE_SIZE, "504"));
        assert_eq!(sizes.limit(CIFS), MIN_ADAPTIVE_PAGE_SIZE);
        assert_eq!(sizes.changes().shrinks, 1);
    }

    #[test]
    fn a_small_page_cut_short_does_not_grow_a_smaller_limit() {
        let sizes = PageSizes::default();
        sizes.cut_short(CIFS, 100, "504");
        assert!(!sizes.cut_short(CIFS, 1000, "a caller asking for more"));
        assert_eq!(sizes.limit(CIFS), 50);
    }

    #[test]
    fn full_pages_in_a_row_double_the_size_back_to_the_most() {
        let sizes = PageSizes::default();
        sizes.cut_short(CIFS, 1000, "504");
        assert_eq!(sizes.limit(CIFS), 500);
        for _ in 1..FULL_PAGES_TO_GROW {
            assert!(!sizes.gathered(CIFS));
        }
        assert_eq!(sizes.limit(CIFS), 500, "not yet");
        assert!(sizes.gathered(CIFS), "it grew");
        assert_eq!(sizes.limit(CIFS), MAX_PAGE_SIZE);
        assert!(!sizes.gathered(CIFS), "nothing left to grow");
        assert_eq!(
            sizes.changes(),
            PageSizeChanges {
                shrinks: 1,
                grows: 1
            }
        );
    }

    #[test]
    fn growing_starts_counting_again_after_each_doubling() {
        let sizes = PageSizes::default();
        sizes.cut_short(CIFS, 100, "504");
        for _ in 0..FULL_PAGES_TO_GROW {
            sizes.gathered(CIFS);
        }
        assert_eq!(sizes.limit(CIFS), 100);
        sizes.gathered(CIFS);
        assert_eq!(sizes.limit(CIFS), 100);
    }

    #[test]
    fn a_cut_between_full_pages_restarts_the_count() {
        let sizes = PageSizes::default();
        sizes.cut_short(CIFS, 400, "504");
        sizes.gathered(CIFS);
        sizes.cut_short(CIFS, 200, "return_timeout");
        for _ in 1..FULL_PAGES_TO_GROW {
            sizes.gathered(CIFS);
        }
        assert_eq!(sizes.limit(CIFS), 100);
    }
}
