//! The edge of the standard streaming RPCs, for any resource that names its
//! collection and keys: a Stream's pages and a Watch's updates become the
//! messages the `.proto` declares, through impls the build derives from it.

use std::sync::Arc;

use futures_util::TryStreamExt;
use tonic::{Request, Response, Status};

use super::SvmScoped;
use super::watch::{Messages, messages, poll_failure};
use crate::proto::v1::PollFailure;
use crate::translate::collection::{self, ListOf};
use crate::translate::resource::ListedBy;
use crate::translate::{Clusters, ListRequestFields};
use crate::watch::{Change, Update, Watches};

/// A Watch's response message.
pub trait WatchMessage: prost::Message + Send + 'static {
    /// The watched resource.
    type Record;
    /// A message of `event` (the number of its event enum's value), with
    /// the record it happened to or the poll that failed.
    fn new(event: i32, record: Option<Self::Record>, poll_failure: Option<PollFailure>) -> Self;
}

/// A Stream's response message.
pub trait StreamMessage: prost::Message + Send + 'static {
    /// The streamed resource.
    type Record;
    /// The message holding one page's `records`.
    fn new(records: Vec<Self::Record>) -> Self;
}

/// The event numbers every Watch's enum gives its values (the build checks
/// each enum against them).
mod event {
    pub const ADDED: i32 = 1;
    pub const REMOVED: i32 = 2;
    pub const MODIFIED: i32 = 3;
    pub const SYNCED: i32 = 4;
}

/// The records of the resource `S`'s List lists.
type Record<S> = <<S as ListedBy>::List as ListRequestFields>::Resource;

/// A Stream RPC: every record its request matches, a page per message.
pub async fn stream<S, M>(
    clusters: &Clusters,
    watches: &Watches,
    mut request: Request<S>,
) -> Result<Response<Messages<M>>, Status>
where
    S: ListedBy<List: ListOf> + SvmScoped,
    M: StreamMessage<Record = Record<S>>,
{
    let deadline = super::deadline_of(&request);
    let upstream = super::upstream_for(clusters, &mut request).await?;
    let pages = collection::stream(&upstream, request.get_ref(), deadline)
        .map_err(super::to_status)?
        .map_err(|error| {
            super::status::log(&error);
            Arc::new(error)
        });
    Ok(Response::new(messages(
        pages,
        deadline,
        watches.closing(),
        M::new,
    )))
}

/// A Watch RPC: the matching records as ADDED, SYNCED, then each change.
pub async fn watch<W, M>(
    clusters: &Clusters,
    watches: &Watches,
    mut request: Request<W>,
) -> Result<Response<Messages<M>>, Status>
where
    W: ListedBy<List: ListOf> + SvmScoped,
    M: WatchMessage<Record = Record<W>>,
{
    let deadline = super::deadline_of(&request);
    let upstream = super::upstream_for(clusters, &mut request).await?;
    let updates = watches
        .keyed::<W::List>()
        .watch(&upstream, request.get_ref())
        .map_err(super::to_status)?;
    Ok(Response::new(messages(
        updates,
        deadline,
        watches.closing(),
        message,
    )))
}

/// One update of a watch as its message.
fn message<M: WatchMessage<Record: Clone>>(update: Update<M::Record>) -> M {
    let change =
        |event, record: Arc<M::Record>| M::new(event, Some(Arc::unwrap_or_clone(record)), None);
    match update {
        Update::Change(Change::Added(r)) => change(event::ADDED, r),
        Update::Change(Change::Removed(r)) => change(event::REMOVED, r),
        Update::Change(Change::Modified(r)) => change(event::MODIFIED, r),
        Update::Synced => M::new(event::SYNCED, None, None),
        Update::Failed(failure) => M::new(0, None, Some(poll_failure(&failure))),
    }
}
