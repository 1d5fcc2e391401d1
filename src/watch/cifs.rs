//! WatchCifsConnections: one poller per (filters, interval) lists the
//! matching connections page by page, diffs them against the last list and
//! publishes the changes; each watcher starts from the poller's current list
//! (list-then-watch) and follows its changes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prost::Message;

use super::feed::{self, Lagging, Publisher, Updates};
use super::hub::{Hub, Scoped};
use super::poll::{self, PollFailed, Source};
use crate::deadline::Deadline;
use crate::proto::v1::{CifsConnection, ListCifsConnectionsRequest, WatchCifsConnectionsRequest};
use crate::translate::{GatewayError, ListRequestFields, Upstream, cifs};

/// Connections per upstream page: ONTAP's sets can be large, and one
/// unbounded response is what paging exists to avoid.
const PAGE_SIZE: i32 = 1000;

/// What identifies a connection: its node, its SVM and its identifier,
/// which is unique per node.
type Identity = (String, String, u32);

fn identity(c: &CifsConnection) -> Identity {
    let uuid = |r: Option<&String>| r.cloned().unwrap_or_default();
    (
        uuid(c.node.as_ref().and_then(|n| n.uuid.as_ref())),
        uuid(c.svm.as_ref().and_then(|s| s.uuid.as_ref())),
        c.identifier.unwrap_or_default(),
    )
}

/// What identifies one upstream poll: its filters and interval.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConnectionsKey {
    filters: Vec<(&'static str, String)>,
    interval: Duration,
}

/// What a connections poller publishes: each poll's changes.
pub struct ConnectionsFeed {
    changes: Publisher<Arc<Vec<Change>>>,
    /// The list as of the last poll; `None` before the first. Replaced under
    /// this lock together with sending its changes, so a watcher taking it
    /// and subscribing under the lock misses nothing and sees nothing twice.
    current: Mutex<Option<Arc<Current>>>,
}

type Current = BTreeMap<Identity, Arc<CifsConnection>>;

/// A change to one connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// New, or part of the initial list.
    Added(Arc<CifsConnection>),
    /// Gone; its last state.
    Removed(Arc<CifsConnection>),
    /// Changed; its new state.
    Modified(Arc<CifsConnection>),
}

/// One message of a connections watch.
#[derive(Debug, Clone)]
pub enum ConnectionUpdate {
    /// A connection changed.
    Change(Change),
    /// The initial list is complete.
    Synced,
    /// A poll failed; the watch goes on.
    Failed(Arc<PollFailed>),
}

/// One watcher's stream: the list as the poller last saw it, SYNCED, then
/// every change, ending with the poller's terminal failure or, if this
/// watcher fell too far behind, RESOURCE_EXHAUSTED.
pub type ConnectionUpdates = Updates<ConnectionUpdate>;

/// The connection watches of one cluster.
pub struct ConnectionsWatches {
    hub: Hub<Scoped<ConnectionsKey>, ConnectionsFeed>,
    /// Polls a watcher may fall behind by before it is ended: past that it
    /// cannot know what changed.
    buffer: usize,
}

impl ConnectionsWatches {
    pub(super) fn new(hub: Hub<Scoped<ConnectionsKey>, ConnectionsFeed>, buffer: usize) -> Self {
        Self { hub, buffer }
    }

    /// Validates `request` and joins the shared poller of its filters.
    pub fn watch(
        &self,
        upstream: &Upstream,
        request: &WatchCifsConnectionsRequest,
    ) -> Result<ConnectionUpdates, GatewayError> {
        let (list, interval) = as_list_request(request)?;
        cifs::validate_filters(upstream, &list)?;
        let key = ConnectionsKey {
            filters: list
                .filters()
                .into_iter()
                .filter(|(_, expression)| !expression.is_empty())
                .map(|(field, expression)| (field, expression.to_owned()))
                .collect(),
            interval,
        };
        let scoped = (upstream.client.scope(), key.clone());
        let membership = self.hub.join(&scoped, |stop| {
            let feed = Arc::new(ConnectionsFeed {
                changes: Publisher::new(self.buffer),
                current: Mutex::new(None),
            });
            let poller = ConnectionsPoller {
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
            .map(|c| ConnectionUpdate::Change(Change::Added(Arc::clone(c))))
            .chain(current.is_some().then_some(ConnectionUpdate::Synced))
            .collect();
        let mut synced = current.is_some();
        let live = subscription.watch(Lagging::EndTooSlow, membership);
        Ok(feed::updates(
            listed,
            live,
            ConnectionUpdate::Failed,
            // A watcher that joined before the first poll is SYNCED by it.
            move |changes: Arc<Vec<Change>>| {
                let first = !std::mem::replace(&mut synced, true);
                (0..changes.len())
                    .map(move |i| ConnectionUpdate::Change(changes[i].clone()))
                    .chain(first.then_some(ConnectionUpdate::Synced))
            },
        ))
    }
}

/// The List request with the watch's filters, and the poll interval. The
/// two requests share their filter fields' names and numbers (a test holds
/// them so), so decoding one as the other carries every filter over without
/// a hand-kept list; the validation is the List request's own.
fn as_list_request(
    request: &WatchCifsConnectionsRequest,
) -> Result<(ListCifsConnectionsRequest, Duration), GatewayError> {
    let mut violations = Vec::new();
    let interval = super::poll_interval(request.poll_interval.as_ref(), &mut violations);
    if !violations.is_empty() {
        return Err(GatewayError::InvalidRequest(violations));
    }
    let filters = WatchCifsConnectionsRequest {
        poll_interval: None,
        ..request.clone()
    };
    let list = ListCifsConnectionsRequest::decode(filters.encode_to_vec().as_slice())
        .expect("a WatchCifsConnectionsRequest's filters decode as a ListCifsConnectionsRequest");
    Ok((
        ListCifsConnectionsRequest {
            page_size: PAGE_SIZE,
            ..list
        },
        interval,
    ))
}

/// Lists the connections of one key and publishes what changed.
struct ConnectionsPoller {
    upstream: Upstream,
    request: ListCifsConnectionsRequest,
    feed: Arc<ConnectionsFeed>,
}

impl ConnectionsPoller {
    /// Every matching connection, a page at a time.
    async fn list(&self) -> Result<Current, GatewayError> {
        let mut request = self.request.clone();
        let mut connections = Current::new();
        loop {
            let page = cifs::list(&self.upstream, &request, Deadline::NONE).await?;
            for connection in page.cifs_connections {
                connections.insert(identity(&connection), Arc::new(connection));
            }
            if page.next_page_token.is_empty() {
                return Ok(connections);
            }
            request.page_token = page.next_page_token;
        }
    }
}

impl Source for ConnectionsPoller {
    async fn poll(&mut self) -> Result<(), GatewayError> {
        let next = self.list().await?;
        let mut current = self.feed.current.lock().expect("no code panics holding it");
        let first = current.is_none();
        let changes = diff(current.as_deref().unwrap_or(&Current::new()), &next);
        if first || !changes.is_empty() {
            *current = Some(Arc::new(next));
            self.feed.changes.publish(Arc::new(changes));
        }
        Ok(())
    }

    fn failed(&mut self, failure: PollFailed) {
        tracing::debug!(error = %failure.error, consecutive = failure.consecutive, "connections poll failed");
        self.feed.changes.failed(failure);
    }

    fn ended(&mut self, error: GatewayError) {
        tracing::debug!(%error, "connections watch ended");
        self.feed.changes.end(error);
    }
}

/// What changed from `before` to `after`: removals first, then additions
/// and modifications, each in identity order.
fn diff(before: &Current, after: &Current) -> Vec<Change> {
    let mut changes: Vec<Change> = before
        .iter()
        .filter(|(id, _)| !after.contains_key(*id))
        .map(|(_, c)| Change::Removed(Arc::clone(c)))
        .collect();
    for (id, connection) in after {
        match before.get(id) {
            None => changes.push(Change::Added(Arc::clone(connection))),
            Some(old) if old != connection => {
                changes.push(Change::Modified(Arc::clone(connection)))
            }
            Some(_) => {}
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::v1::{NodeRef, SvmRef};

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
                })
                .collect(),
            ..CifsConnection::default()
        })
    }

    fn set(connections: &[Arc<CifsConnection>]) -> Current {
        connections
            .iter()
            .map(|c| (identity(c), Arc::clone(c)))
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
        let (list, interval) = as_list_request(&request).unwrap();
        assert_eq!(list.svm_name, "vs1");
        assert_eq!(list.client_ip, "10.0.0.*");
        assert_eq!(list.sessions_identifier, ">5");
        assert_eq!(list.page_size, PAGE_SIZE);
        assert_eq!(interval, Duration::from_secs(15));
    }

    /// The decode in `as_list_request` relies on this.
    #[test]
    fn the_watch_and_list_requests_share_filter_names_and_numbers() {
        let pool =
            prost_reflect::DescriptorPool::decode(crate::proto::FILE_DESCRIPTOR_SET).unwrap();
        let message = |name: &str| pool.get_message_by_name(name).unwrap();
        let watch = message("ontap.v1.WatchCifsConnectionsRequest");
        let list = message("ontap.v1.ListCifsConnectionsRequest");
        for field in watch.fields().filter(|f| f.name() != "poll_interval") {
            let twin = list
                .get_field_by_name(field.name())
                .unwrap_or_else(|| panic!("List lacks {}", field.name()));
            assert_eq!(twin.number(), field.number(), "{}", field.name());
            assert_eq!(twin.kind(), field.kind(), "{}", field.name());
        }
        let poll_interval = watch.get_field_by_name("poll_interval").unwrap();
        assert!(list.fields().all(|f| f.number() != poll_interval.number()));
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
