//! The watch of any resource with keys (list-then-watch): one poller per
//! (filters, interval) lists the matching records page by page, diffs them
//! by key against the last list and publishes the changes; each watcher
//! starts from the poller's current list (ADDED each, then SYNCED) and
//! follows its changes (ADDED, REMOVED, MODIFIED). A Watch RPC of a
//! resource whose `.proto` names its collection and keys gets this watch
//! without code of its own.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::feed::{self, Lagging, Publisher, Updates};
use super::hub::{Hub, Scoped};
use super::poll::{self, PollFailed, Source};
use crate::deadline::Deadline;
use crate::translate::collection::{self, ListOf};
use crate::translate::resource::{ListedBy, RecordKey, Resource};
use crate::translate::{GatewayError, Upstream};

/// Records per upstream page: ONTAP's sets can be large, and one unbounded
/// response is what paging exists to avoid.
const PAGE_SIZE: i32 = 1000;

/// What identifies one upstream poll: its filters and interval.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PollKey {
    filters: Vec<(&'static str, String)>,
    interval: Duration,
}

/// What a poller publishes: each poll's changes.
pub struct KeyedFeed<T> {
    changes: Publisher<Arc<Vec<Change<T>>>>,
    /// The list as of the last poll; `None` before the first. Replaced under
    /// this lock together with sending its changes, so a watcher taking it
    /// and subscribing under the lock misses nothing and sees nothing twice.
    current: Mutex<Option<Arc<Current<T>>>>,
}

type Current<T> = BTreeMap<RecordKey, Arc<T>>;

/// A change to one record.
#[derive(Debug, PartialEq)]
pub enum Change<T> {
    /// New, or part of the initial list.
    Added(Arc<T>),
    /// Gone; its last state.
    Removed(Arc<T>),
    /// Changed; its new state.
    Modified(Arc<T>),
}

// Derived `Clone` would ask `T: Clone` of an `Arc<T>`.
impl<T> Clone for Change<T> {
    fn clone(&self) -> Self {
        match self {
            Self::Added(r) => Self::Added(Arc::clone(r)),
            Self::Removed(r) => Self::Removed(Arc::clone(r)),
            Self::Modified(r) => Self::Modified(Arc::clone(r)),
        }
    }
}

/// One message of a watch.
#[derive(Debug, Clone)]
pub enum Update<T> {
    /// A record changed.
    Change(Change<T>),
    /// The initial list is complete.
    Synced,
    /// A poll failed; the watch goes on.
    Failed(Arc<PollFailed>),
}

/// The watches of one resource, on every cluster: each joins the shared
/// poller of its client's scope and filters.
pub struct KeyedWatches<L: ListOf> {
    hub: Hub<Scoped<PollKey>, KeyedFeed<L::Resource>>,
    /// Polls a watcher may fall behind by before it is ended: past that it
    /// cannot know what changed.
    buffer: usize,
}

impl<L: ListOf> KeyedWatches<L> {
    pub(super) fn new(hub: Hub<Scoped<PollKey>, KeyedFeed<L::Resource>>, buffer: usize) -> Self {
        Self { hub, buffer }
    }

    /// Validates `request` and joins the shared poller of its filters. The
    /// stream is the list as the poller last saw it, SYNCED, then every
    /// change, ending with the poller's terminal failure or, if this watcher
    /// fell too far behind, RESOURCE_EXHAUSTED.
    pub fn watch<W: ListedBy<List = L>>(
        &self,
        upstream: &Upstream,
        request: &W,
    ) -> Result<Updates<Update<L::Resource>>, GatewayError> {
        let mut violations = Vec::new();
        let interval = super::poll_interval(request.poll_interval(), &mut violations);
        if !violations.is_empty() {
            return Err(GatewayError::InvalidRequest(violations));
        }
        let mut list = request.list_request();
        list.set_page(PAGE_SIZE, String::new());
        collection::validate(upstream, &list)?;
        let key = PollKey {
            filters: list
                .filters()
                .into_iter()
                .filter(|(_, expression)| !expression.is_empty())
                .map(|(field, expression)| (field, expression.to_owned()))
                .collect(),
            interval,
        };
        let scoped = (upstream.client.scope(), key);
        let membership = self.hub.join(&scoped, |stop| {
            let feed = Arc::new(KeyedFeed {
                changes: Publisher::new(self.buffer),
                current: Mutex::new(None),
            });
            let poller = Poller {
                upstream: upstream.clone(),
                request: list,
                feed: Arc::clone(&feed),
            };
            tokio::spawn(poll::run(poller, interval, stop));
            feed
        });
        let state = &membership.poller.state;
        let (subscription, current) = {
            let current = state.current.lock().expect("no code panics holding it");
            (state.changes.subscribe(), current.clone())
        };
        let listed: Vec<_> = current
            .iter()
            .flat_map(|current| current.values())
            .map(|r| Update::Change(Change::Added(Arc::clone(r))))
            .chain(current.is_some().then_some(Update::Synced))
            .collect();
        let mut synced = current.is_some();
        let live = subscription.watch(Lagging::EndTooSlow, membership);
        Ok(feed::updates(
            listed,
            live,
            Update::Failed,
            // A watcher that joined before the first poll is SYNCED by it.
            move |changes: Arc<Vec<Change<L::Resource>>>| {
                let first = !std::mem::replace(&mut synced, true);
                (0..changes.len())
                    .map(move |i| Update::Change(changes[i].clone()))
                    .chain(first.then_some(Update::Synced))
            },
        ))
    }
}

/// Lists the records of one key and publishes what changed.
struct Poller<L: ListOf> {
    upstream: Upstream,
    request: L,
    feed: Arc<KeyedFeed<L::Resource>>,
}

impl<L: ListOf> Poller<L> {
    /// Every matching record, a page at a time.
    async fn list(&self) -> Result<Current<L::Resource>, GatewayError> {
        let mut request = self.request.clone();
        let mut records = Current::new();
        loop {
            let page = collection::list(&self.upstream, &request, Deadline::NONE).await?;
            let (page, token) = L::into_records(page);
            for record in page {
                records.insert(record.key(), Arc::new(record));
            }
            if token.is_empty() {
                return Ok(records);
            }
            request.set_page(PAGE_SIZE, token);
        }
    }
}

impl<L: ListOf> Source for Poller<L> {
    async fn poll(&mut self) -> Result<(), GatewayError> {
        let next = self.list().await?;
        let mut current = self.feed.current.lock().expect("no code panics holding it");
        let first = current.is_none();
        let changes = diff(current.as_deref().unwrap_or(&Current::new()), &next);
        // Kept even without changes, for the volatile fields' newest values.
        *current = Some(Arc::new(next));
        if first || !changes.is_empty() {
            self.feed.changes.publish(Arc::new(changes));
        }
        Ok(())
    }

    fn failed(&mut self, failure: PollFailed) {
        tracing::debug!(
            collection = L::Resource::COLLECTION.path().as_str(),
            error = %failure.error,
            consecutive = failure.consecutive,
            "watch poll failed"
        );
        self.feed.changes.failed(failure);
    }

    fn ended(&mut self, error: GatewayError) {
        tracing::debug!(
            collection = L::Resource::COLLECTION.path().as_str(),
            %error,
            "watch ended"
        );
        self.feed.changes.end(error);
    }
}

/// What changed from `before` to `after`: removals first, then additions
/// and modifications, each in key order. A record whose fields changed only
/// as time passes (its volatile ones) is not modified; the list keeps its
/// newest state, which the next change or watcher sees.
fn diff<T: Resource>(before: &Current<T>, after: &Current<T>) -> Vec<Change<T>> {
    let mut changes: Vec<Change<T>> = before
        .iter()
        .filter(|(key, _)| !after.contains_key(*key))
        .map(|(_, r)| Change::Removed(Arc::clone(r)))
        .collect();
    for (key, record) in after {
        match before.get(key) {
            None => changes.push(Change::Added(Arc::clone(record))),
            Some(old) if old.changed(record) => changes.push(Change::Modified(Arc::clone(record))),
            Some(_) => {}
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::v1::{
        CifsConnection, CifsSession, ListCifsConnectionsRequest, NodeRef, SvmRef,
        WatchCifsConnectionsRequest,
    };

    fn connection(node: &str, identifier: u32, sessions: &[u64]) -> Arc<CifsConnection> {
        Arc::new(CifsConnection {
            node: Some(NodeRef {
                uuid: Some(node.into()),
                name: None,
            }),
            svm: Some(SvmRef {
                uuid: Some("svm".into()),
                name: None,
            }),
            identifier: Some(identifier),
            sessions: sessions
                .iter()
                .map(|&id| crate::proto::v1::CifsSession {
                    identifier: Some(id),
                    ..Default::default()
                })
                .collect(),
            ..CifsConnection::default()
        })
    }

    fn set(connections: &[Arc<CifsConnection>]) -> Current<CifsConnection> {
        connections
            .iter()
            .map(|c| (c.key(), Arc::clone(c)))
            .collect()
    }

    #[test]
    fn a_new_connection_is_added_and_a_vanished_one_removed() {
        let (a, b) = (connection("n1", 1, &[]), connection("n1", 2, &[]));
        let changes = diff(
            &set(std::slice::from_ref(&a)),
            &set(std::slice::from_ref(&b)),
        );
        assert_eq!(changes, [Change::Removed(a), Change::Added(b)]);
    }

    #[test]
    fn a_connection_whose_sessions_changed_is_modified() {
        let before = connection("n1", 1, &[10]);
        let after = connection("n1", 1, &[10, 11]);
        assert_eq!(
            diff(&set(&[before]), &set(std::slice::from_ref(&after))),
            [Change::Modified(after)]
        );
    }

    fn session(user: &str, idle_seconds: i64) -> Arc<CifsSession> {
        Arc::new(CifsSession {
            identifier: Some(u64::MAX),
            user: Some(user.into()),
            idle_duration: Some(prost_types::Duration {
                seconds: idle_seconds,
                nanos: 0,
            }),
            ..CifsSession::default()
        })
    }

    fn sessions(list: &[Arc<CifsSession>]) -> Current<CifsSession> {
        list.iter().map(|s| (s.key(), Arc::clone(s))).collect()
    }

    #[test]
    fn a_record_whose_volatile_fields_alone_changed_is_not_modified() {
        let before = sessions(&[session("alice", 5)]);
        let after = sessions(&[session("alice", 65)]);
        assert!(diff(&before, &after).is_empty());
    }

    #[test]
    fn a_record_with_another_field_changed_is_modified_with_its_newest_state() {
        let before = sessions(&[session("alice", 5)]);
        let newest = session("bob", 65);
        let after = sessions(std::slice::from_ref(&newest));
        assert_eq!(diff(&before, &after), [Change::Modified(newest)]);
    }

    #[test]
    fn an_unchanged_list_has_no_changes() {
        let list = set(&[connection("n1", 1, &[10]), connection("n2", 1, &[])]);
        assert!(diff(&list, &list.clone()).is_empty());
    }

    #[test]
    fn the_same_identifier_on_two_nodes_is_two_connections() {
        let list = set(&[connection("n1", 7, &[]), connection("n2", 7, &[])]);
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn the_watch_request_carries_every_filter_of_the_list_request() {
        let request = WatchCifsConnectionsRequest {
            svm_name: "vs1".into(),
            client_ip: "10.0.0.*".into(),
            sessions_identifier: ">5".into(),
            ..WatchCifsConnectionsRequest::default()
        };
        let list: ListCifsConnectionsRequest = request.list_request();
        assert_eq!(list.svm_name, "vs1");
        assert_eq!(list.client_ip, "10.0.0.*");
        assert_eq!(list.sessions_identifier, ">5");
        assert_eq!(request.poll_interval(), None);
    }

    /// Every List filter of a watched resource is a Watch filter too.
    #[test]
    fn a_watch_request_has_every_filter_of_its_list_request() {
        let pool =
            prost_reflect::DescriptorPool::decode(crate::proto::FILE_DESCRIPTOR_SET).unwrap();
        let message = |name: &str| pool.get_message_by_name(name).unwrap();
        let watch = message("ontap.v1.WatchCifsConnectionsRequest");
        let list = message("ontap.v1.ListCifsConnectionsRequest");
        let filters = list
            .fields()
            .filter(|f| f.kind() == prost_reflect::Kind::String && !f.is_list())
            .filter(|f| f.name() != "page_token");
        for filter in filters {
            assert!(
                watch.get_field_by_name(filter.name()).is_some(),
                "the watch lacks the filter {}",
                filter.name()
            );
        }
    }
}
