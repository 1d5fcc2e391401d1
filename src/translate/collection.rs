//! List, validate and Stream for any resource that names its collection:
//! what each standard RPC of a generated service runs, the resource's
//! glue coming from its `.proto` (`super::resource`).

use futures_util::Stream;

use super::list::{self, MAX_PAGE_SIZE};
use super::resource::{ListedBy, Resource};
use super::{GatewayError, ListRequestFields, Upstream};
use crate::deadline::Deadline;

/// A List request whose records name their collection.
pub trait ListOf: ListRequestFields<Resource: Resource> + Clone + Send + Sync + 'static {}

impl<L> ListOf for L where L: ListRequestFields<Resource: Resource> + Clone + Send + Sync + 'static {}

/// The records of one page of `L`.
pub type Records<L> = Vec<<L as ListRequestFields>::Resource>;

/// Lists one page of `request`'s collection.
pub async fn list<L: ListOf>(
    upstream: &Upstream,
    request: &L,
    deadline: Deadline,
) -> Result<L::Response, GatewayError> {
    list::list(upstream, request, &L::Resource::COLLECTION.path(), deadline).await
}

/// Checks `request` as [`list`] would, without calling ONTAP.
pub fn validate<L: ListOf>(upstream: &Upstream, request: &L) -> Result<(), GatewayError> {
    list::validate(upstream, request, &L::Resource::COLLECTION.path())
}

/// Every record `request` matches, one non-empty upstream page at a time,
/// by the largest pages. A page is fetched only when the stream is polled
/// for it, so a reader that stops reading stops the paging instead of the
/// gateway buffering the collection. The request is checked before
/// anything goes upstream.
pub fn stream<S>(
    upstream: &Upstream,
    request: &S,
    deadline: Deadline,
) -> Result<impl Stream<Item = Result<Records<S::List>, GatewayError>> + Send + 'static, GatewayError>
where
    S: ListedBy<List: ListOf>,
{
    let mut first = request.list_request();
    first.set_page(MAX_PAGE_SIZE as i32, String::new());
    validate(upstream, &first)?;
    let upstream = upstream.clone();
    Ok(futures_util::stream::try_unfold(Some(first), move |next| {
        let upstream = upstream.clone();
        async move {
            let mut next = next;
            while let Some(mut request) = next {
                let page = list(&upstream, &request, deadline).await?;
                let (records, token) = S::List::into_records(page);
                next = (!token.is_empty()).then(|| {
                    request.set_page(MAX_PAGE_SIZE as i32, token);
                    request
                });
                if !records.is_empty() {
                    return Ok(Some((records, next)));
                }
            }
            Ok(None)
        }
    }))
}
