//! The list_query fuzz target's check of the planner, kept beside it for
//! the private parts it reaches, and out of the planner's own file.

use std::time::Duration;

use super::{ListRequest, ListRequestFields, MAX_PAGE_SIZE, MAX_QUERY_BYTES, plan};
use crate::ontap::Query;
use crate::translate::{PageTokenKey, page_token};

/// Plans a ListCifsConnections request and checks the query against what
/// the gateway may send, for the fuzz targets. `request.page_token` is read
/// as a query string of continuation pairs and signed into a token with the
/// planner's key, as if that key had leaked, so that the checks behind the
/// signature are what get fuzzed.
pub(crate) fn check_planned_query(mut request: crate::proto::v1::ListCifsConnectionsRequest) {
    use crate::ontap::CollectionPath;
    use crate::translate::resource::Resource;

    /// The collection the examples page through.
    const CONNECTIONS: CollectionPath = <crate::proto::v1::CifsConnection as Resource>::COLLECTION;

    const CLUSTER: &str = "default";
    let key = PageTokenKey::from_bytes(&[7; 32]);
    let schema = <crate::proto::v1::ListCifsConnectionsRequest as ListRequestFields>::SCHEMA;
    let path = CONNECTIONS.path();
    let budget = Duration::from_secs(130);
    let continuation = std::mem::take(&mut request.page_token);
    if !continuation.is_empty() {
        let first = ListRequest::of(&request, Vec::new());
        let Ok(first) = plan(&key, CLUSTER, schema, &path, &first, budget) else {
            return;
        };
        let start = Query::parse(&continuation)
            .pairs()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        request.page_token = page_token::encode(&key, CLUSTER, &path, &first.fingerprint, start);
    }
    let filters: Vec<&str> = request.filters().iter().map(|(field, _)| *field).collect();
    let list = ListRequest::of(&request, Vec::new());
    let Ok(plan) = plan(&key, CLUSTER, schema, &path, &list, budget) else {
        return;
    };
    let encoded = plan.query.encode();
    assert!(
        encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%=&".contains(&b)),
        "an unencoded byte in {encoded}"
    );
    assert!(encoded.len() <= MAX_QUERY_BYTES);
    for (name, value) in plan.query.pairs() {
        let issued = filters.contains(&name)
            || [
                "fields",
                "order_by",
                "max_records",
                "return_records",
                "return_timeout",
            ]
            .contains(&name)
            || page_token::start_field(name).is_some_and(|field| schema.field(field).is_some());
        assert!(issued, "`{name}` is not a parameter the gateway issues");
        if name == "max_records" {
            assert!(value.parse::<u32>().is_ok_and(|n| n <= MAX_PAGE_SIZE));
        }
    }
}
