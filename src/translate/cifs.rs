//! ListCifsConnections and StreamCifsConnections onto
//! `GET /api/protocols/cifs/connections`.

use futures_util::Stream;
use prost::Message;

use super::GatewayError;
use super::Upstream;
use super::list::{self, MAX_PAGE_SIZE};
use crate::deadline::Deadline;
use crate::ontap::cifs::CONNECTIONS;
use crate::proto::v1::{
    CifsConnection, ListCifsConnectionsRequest, ListCifsConnectionsResponse,
    StreamCifsConnectionsRequest,
};

/// Lists one page of CIFS connections.
pub async fn list(
    upstream: &Upstream,
    request: &ListCifsConnectionsRequest,
    deadline: Deadline,
) -> Result<ListCifsConnectionsResponse, GatewayError> {
    list::list(upstream, request, &CONNECTIONS.path(), deadline).await
}

/// Checks `request`'s filters as [`list`] would, without calling ONTAP.
pub fn validate_filters(
    upstream: &Upstream,
    request: &ListCifsConnectionsRequest,
) -> Result<(), GatewayError> {
    list::validate(upstream, request, &CONNECTIONS.path())
}

/// Every connection `request` matches, one non-empty upstream page at a
/// time. A page is fetched only when the stream is polled for it, so a
/// reader that stops reading stops the paging instead of the gateway
/// buffering the collection. The request is checked before anything goes
/// upstream.
pub fn stream(
    upstream: &Upstream,
    request: &StreamCifsConnectionsRequest,
    deadline: Deadline,
) -> Result<
    impl Stream<Item = Result<Vec<CifsConnection>, GatewayError>> + Send + 'static,
    GatewayError,
> {
    let first = as_list_request(request);
    validate_filters(upstream, &first)?;
    let upstream = upstream.clone();
    Ok(futures_util::stream::try_unfold(Some(first), move |next| {
        let upstream = upstream.clone();
        async move {
            let mut next = next;
            while let Some(request) = next {
                let page = list(&upstream, &request, deadline).await?;
                let more = !page.next_page_token.is_empty();
                next = more.then_some(ListCifsConnectionsRequest {
                    page_token: page.next_page_token,
                    ..request
                });
                if !page.cifs_connections.is_empty() {
                    return Ok(Some((page.cifs_connections, next)));
                }
            }
            Ok(None)
        }
    }))
}

/// The List request for the first page of a stream. The two requests share
/// their fields' names and numbers (a test holds them so), so decoding one
/// as the other carries every filter, the mask, the order and the return
/// timeout over without a hand-kept list.
fn as_list_request(request: &StreamCifsConnectionsRequest) -> ListCifsConnectionsRequest {
    let list = ListCifsConnectionsRequest::decode(request.encode_to_vec().as_slice())
        .expect("a StreamCifsConnectionsRequest decodes as a ListCifsConnectionsRequest");
    ListCifsConnectionsRequest {
        page_size: MAX_PAGE_SIZE as i32,
        ..list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_lists_by_the_largest_pages_with_every_field_of_its_request() {
        let request = StreamCifsConnectionsRequest {
            svm_name: "vs1".into(),
            client_port: ">1024".into(),
            read_mask: Some(prost_types::FieldMask {
                paths: vec!["client_ip".into()],
            }),
            order_by: vec!["client_ip desc".into()],
            return_timeout_seconds: Some(5),
            ..StreamCifsConnectionsRequest::default()
        };
        let list = as_list_request(&request);
        assert_eq!(list.svm_name, "vs1");
        assert_eq!(list.client_port, ">1024");
        assert_eq!(list.read_mask, request.read_mask);
        assert_eq!(list.order_by, request.order_by);
        assert_eq!(list.return_timeout_seconds, Some(5));
        assert_eq!(list.page_size, 1000);
        assert!(list.page_token.is_empty() && !list.count_only);
    }

    /// The decode in `as_list_request` relies on this.
    #[test]
    fn the_stream_and_list_requests_share_field_names_and_numbers() {
        let pool =
            prost_reflect::DescriptorPool::decode(crate::proto::FILE_DESCRIPTOR_SET).unwrap();
        let message = |name: &str| pool.get_message_by_name(name).unwrap();
        let stream = message("ontap.v1.StreamCifsConnectionsRequest");
        let list = message("ontap.v1.ListCifsConnectionsRequest");
        for field in stream.fields() {
            let twin = list
                .get_field_by_name(field.name())
                .unwrap_or_else(|| panic!("List lacks {}", field.name()));
            assert_eq!(twin.number(), field.number(), "{}", field.name());
            assert_eq!(twin.kind(), field.kind(), "{}", field.name());
            assert_eq!(twin.cardinality(), field.cardinality(), "{}", field.name());
        }
    }
}
