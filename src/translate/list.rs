//! What every List RPC shares: filters, read mask, ordering, paging,
//! count-only and return_timeout, translated onto an ONTAP collection GET.

use std::borrow::Cow;
use std::time::Duration;

use super::Upstream;
use super::expression;
use super::page_token::{self, PageTokenKey};
use super::schema::{Schema, Selection, ValueKind, filter_field_name};
use super::wire::{OntapJson, OntapRecord};
use super::{FieldViolation, GatewayError};
use crate::deadline::Deadline;
use crate::metrics::PageSizeChange;
use crate::ontap::{ApiPath, Collection, OntapError, Query};
pub use page::Page;
use page::{Fitted, page_of};

/// Records per page when the caller does not say.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// The most records one page holds, so one call cannot make ONTAP assemble
/// an unbounded response; a larger page_size is reduced to it (AIP-158).
pub const MAX_PAGE_SIZE: u32 = 1000;
/// ONTAP's documented ceiling for `return_timeout`.
pub const MAX_RETURN_TIMEOUT_SECONDS: u32 = 120;
/// The most fields one list may be ordered by.
pub const MAX_ORDER_TERMS: usize = 16;
/// The longest query string sent upstream: web servers in front of REST
/// APIs commonly refuse request lines past 8 KiB, and a longer one is a
/// caller's mistake to name, not an upstream failure to retry.
pub const MAX_QUERY_BYTES: usize = 8 * 1024;
/// ONTAP's documented default `return_timeout`.
const DEFAULT_RETURN_TIMEOUT_SECONDS: u64 = 15;

/// What the build derives for each List request from the descriptors
/// (`build/resources.rs`, generated into [`super::resources`]): the
/// resource it lists, which REST field each filter field filters, and the
/// response a page becomes.
pub trait ListRequestFields {
    /// The listed resource.
    type Resource: OntapRecord;
    /// The List response.
    type Response;
    /// The listed resource's fields.
    const SCHEMA: &'static Schema;
    /// `(REST path, expression)` per filter field; empty ones included.
    fn filters(&self) -> Vec<(&'static str, &str)>;
    /// The fields every List request has.
    fn shared(&self) -> SharedListFields<'_>;
    /// The response holding `page`.
    fn response(page: Page<Self::Resource>) -> Self::Response;
    /// Asks for the page `page_token` names, of `page_size` records.
    fn set_page(&mut self, page_size: i32, page_token: String);
    /// A response's records, and the token of the page after it (empty
    /// after the last).
    fn into_records(response: Self::Response) -> (Vec<Self::Resource>, String);
}

/// The fields every List request has, borrowed from the proto message.
#[derive(Debug, Default, Clone, Copy)]
pub struct SharedListFields<'a> {
    /// The read mask's paths; empty means every field.
    pub read_mask: &'a [String],
    /// `field [asc|desc]` entries.
    pub order_by: &'a [String],
    /// 0 means the default.
    pub page_size: i32,
    /// Empty for the first page.
    pub page_token: &'a str,
    /// How long ONTAP may iterate.
    pub return_timeout_seconds: Option<u32>,
    /// Count instead of listing.
    pub count_only: bool,
}

/// The list parameters of a request, borrowed from the proto message.
#[derive(Debug, Default)]
pub struct ListRequest<'a> {
    /// Parameters the resource itself needs (`interval` for metrics),
    /// already validated; part of the query a page token is bound to.
    pub extra: Vec<(&'static str, &'a str)>,
    /// `(REST path, expression)` for every filter field; empty ones are skipped.
    pub filters: Vec<(&'static str, &'a str)>,
    /// The fields every List request has.
    pub shared: SharedListFields<'a>,
}

impl<'a> ListRequest<'a> {
    /// The list parameters of `request`, with the resource's own `extra`.
    pub fn of<R: ListRequestFields>(request: &'a R, extra: Vec<(&'static str, &'a str)>) -> Self {
        Self {
            extra,
            filters: request.filters(),
            shared: request.shared(),
        }
    }
}

/// Lists one page of the collection at `path`: what a List RPC is, given
/// where its collection lives.
pub async fn list<R: ListRequestFields>(
    upstream: &Upstream,
    request: &R,
    path: &ApiPath,
    deadline: Deadline,
) -> Result<R::Response, GatewayError> {
    let request = ListRequest::of(request, Vec::new());
    let page = fetch_or_empty(upstream, R::SCHEMA, path, &request, deadline, |_| false).await?;
    Ok(R::response(page))
}

/// Checks `request` as [`list`] would, without calling ONTAP.
pub fn validate<R: ListRequestFields>(
    upstream: &Upstream,
    request: &R,
    path: &ApiPath,
) -> Result<(), GatewayError> {
    let request = ListRequest::of(request, Vec::new());
    let budget = upstream.client.request_timeout();
    let (tokens, cluster) = (&upstream.page_tokens, upstream.client.name());
    plan(tokens, cluster, R::SCHEMA, path, &request, budget).map(|_| ())
}

/// Validates `request`, fetches one page from the collection at `path`,
/// and decodes it. An ONTAP failure for which `means_empty` holds is an
/// empty page: some collections answer an error where they have no records
/// yet (a metrics history before its first sample). A page whose records
/// would not fit in one response is fetched again as many as fit, so that
/// ONTAP's own next link continues it.
pub async fn fetch_or_empty<T: OntapRecord>(
    upstream: &Upstream,
    schema: &Schema,
    path: &ApiPath,
    request: &ListRequest<'_>,
    deadline: Deadline,
    means_empty: impl Fn(&OntapError) -> bool,
) -> Result<Page<T>, GatewayError> {
    let collection_path = path.as_str();
    let sizes = &upstream.page_sizes;
    // A 504 means ONTAP could not gather the page in time: one retry, at
    // the halved size, while the deadline allows.
    let mut retried = false;
    // The records that fit in a response, once a page held more.
    let mut fitting = u32::MAX;
    loop {
        let budget = deadline.cap(upstream.client.request_timeout());
        let max_page = sizes.limit(collection_path).min(fitting);
        let plan = plan_within(
            &upstream.page_tokens,
            upstream.client.name(),
            schema,
            path,
            request,
            budget,
            max_page,
        )?;
        let response = match upstream.client.get(path, &plan.query, deadline).await {
            Ok(response) => response,
            Err(e) if means_empty(&e) => {
                let mut page = Page::empty();
                page.total_size = request.shared.count_only.then_some(0);
                return Ok(page);
            }
            Err(e) if is_gateway_timeout(&e) && !request.shared.count_only => {
                let shrank = sizes.cut_short(collection_path, plan.max_records, "HTTP 504");
                if shrank {
                    page_size_changed(upstream, path, PageSizeChange::Shrink);
                }
                if retried || !shrank || deadline.remaining().is_some_and(|left| left.is_zero()) {
                    return Err(blame(e, request));
                }
                retried = true;
                continue;
            }
            Err(e) => return Err(blame(e, request)),
        };
        let collection: Collection<OntapJson<T>> = response.collection(plan.max_records)?;
        if !request.shared.count_only {
            adapt_page_size(upstream, path, &collection, plan.max_records);
        }
        match page_of(
            upstream,
            schema,
            path,
            &plan,
            collection,
            request.shared.count_only,
        )? {
            Fitted::Whole(page) => return Ok(page),
            Fitted::Only(fit) => fitting = fit,
        }
    }
}

/// Tells the collection's adaptive page size how a page of `asked_for`
/// records went: fewer with more to come means `return_timeout` cut it
/// short.
fn adapt_page_size<T>(
    upstream: &Upstream,
    path: &ApiPath,
    collection: &Collection<T>,
    asked_for: u32,
) {
    let sizes = &upstream.page_sizes;
    let cut_short =
        collection.records.len() < asked_for as usize && collection.next_href().is_some();
    let changed = if cut_short {
        sizes
            .cut_short(path.as_str(), asked_for, "return_timeout")
            .then_some(PageSizeChange::Shrink)
    } else {
        sizes
            .gathered(path.as_str())
            .then_some(PageSizeChange::Grow)
    };
    if let Some(change) = changed {
        page_size_changed(upstream, path, change);
    }
}

/// The validated query for one page.
#[derive(Debug)]
struct Plan {
    query: Query,
    selection: Selection,
    fingerprint: String,
    /// The most records the page may hold.
    max_records: u32,
}

/// The query for one page of `request`; a page token must have been
/// signed with `tokens` for `cluster`.
fn plan(
    tokens: &PageTokenKey,
    cluster: &str,
    schema: &Schema,
    path: &ApiPath,
    request: &ListRequest<'_>,
    budget: Duration,
) -> Result<Plan, GatewayError> {
    plan_within(
        tokens,
        cluster,
        schema,
        path,
        request,
        budget,
        MAX_PAGE_SIZE,
    )
}

/// [`plan`], asking for at most `max_page` records whatever the request's
/// page size: what the collection's adaptive page size allows.
fn plan_within(
    tokens: &PageTokenKey,
    cluster: &str,
    schema: &Schema,
    path: &ApiPath,
    request: &ListRequest<'_>,
    budget: Duration,
    max_page: u32,
) -> Result<Plan, GatewayError> {
    let mut violations = Vec::new();
    let filters = checked_filters(schema, request, &mut violations);
    let filters: Vec<(&str, &str)> = filters.iter().map(|(f, e)| (*f, e.as_ref())).collect();
    let selection = schema.selection(request.shared.read_mask, "read_mask", &mut violations);
    let order_by = order_by(schema, request.shared.order_by, &mut violations);
    let page_size = checked_paging(&request.shared, &mut violations);

    let fields = selection.fields_param();
    let fingerprint = page_token::fingerprint(
        request
            .extra
            .iter()
            .chain(&filters)
            .copied()
            .chain([("fields", fields.as_str()), ("order_by", order_by.as_str())]),
    );

    let token = request.shared.page_token;
    let start = if token.is_empty() {
        Vec::new()
    } else {
        page_token::decode(tokens, token, cluster, path, &fingerprint)
            .and_then(|start| check_start(schema, start))
            .unwrap_or_else(|why| {
                violations.push(FieldViolation::new("page_token", why));
                Vec::new()
            })
    };
    if !violations.is_empty() {
        return Err(GatewayError::InvalidRequest(violations));
    }

    let max_records = page_size.unwrap_or(DEFAULT_PAGE_SIZE).min(max_page);
    // Always the query this request asks for; a token adds only where to start.
    let mut query = Query::new();
    for &(key, value) in request.extra.iter().chain(&filters) {
        query.push(key, value);
    }
    if !request.shared.count_only {
        query.push("fields", fields);
    }
    if !order_by.is_empty() {
        query.push("order_by", order_by);
    }
    if request.shared.count_only {
        query.push("return_records", "false");
    } else {
        query.push("max_records", max_records.to_string());
    }
    for (key, value) in start {
        query.push(key, value);
    }
    if let Some(seconds) = return_timeout(request.shared.return_timeout_seconds, budget) {
        query.push("return_timeout", seconds.to_string());
    }
    check_query_length(&query, &filters)?;

    Ok(Plan {
        query,
        selection,
        fingerprint,
        max_records,
    })
}

/// The request's filters, each checked against the kind of field it
/// filters and spelled as ONTAP takes it; each that fails is a violation.
fn checked_filters<'r>(
    schema: &Schema,
    request: &ListRequest<'r>,
    violations: &mut Vec<FieldViolation>,
) -> Vec<(&'r str, Cow<'r, str>)> {
    let mut filters = Vec::new();
    for &(field, expression) in &request.filters {
        if expression.is_empty() {
            continue;
        }
        let kind = schema.field(field).map_or(ValueKind::Text, |f| f.kind);
        match expression::normalize(kind, expression) {
            Ok(normalized) => filters.push((field, normalized)),
            Err(why) => violations.push(FieldViolation::new(filter_field_name(field), why)),
        }
    }
    filters
}

/// The page size the request asks for (`None`: the default), with the
/// paging fields checked.
fn checked_paging(
    fields: &SharedListFields<'_>,
    violations: &mut Vec<FieldViolation>,
) -> Option<u32> {
    let page_size = match u32::try_from(fields.page_size) {
        Ok(0) => None,
        Ok(n) => Some(n.min(MAX_PAGE_SIZE)),
        Err(_) => {
            violations.push(FieldViolation::new("page_size", "must not be negative"));
            None
        }
    };
    if fields
        .return_timeout_seconds
        .is_some_and(|s| s > MAX_RETURN_TIMEOUT_SECONDS)
    {
        violations.push(FieldViolation::new(
            "return_timeout_seconds",
            format!("must be between 0 and {MAX_RETURN_TIMEOUT_SECONDS}"),
        ));
    }
    if fields.count_only && !fields.page_token.is_empty() {
        violations.push(FieldViolation::new(
            "page_token",
            "cannot be combined with count_only",
        ));
    }
    page_size
}

/// Refuses a query longer than ONTAP is sent, blaming the longest filter
/// (or the read mask, when there is none).
fn check_query_length(query: &Query, filters: &[(&str, &str)]) -> Result<(), GatewayError> {
    let length = query.encode().len();
    if length <= MAX_QUERY_BYTES {
        return Ok(());
    }
    let longest = filters
        .iter()
        .max_by_key(|(_, expression)| expression.len())
        .map_or_else(|| "read_mask".to_owned(), |(f, _)| filter_field_name(f));
    Err(GatewayError::InvalidRequest(vec![FieldViolation::new(
        longest,
        format!(
            "the filters, read_mask and order_by make a {length}-byte query; \
             ONTAP is sent at most {MAX_QUERY_BYTES}"
        ),
    )]))
}

/// A token's continuation, checked against the collection as if the key
/// that signed it had leaked: each key a `start.` followed by a field the
/// collection can be ordered by, at most once, each value one that field
/// can hold.
fn check_start(
    schema: &Schema,
    start: Vec<(String, String)>,
) -> Result<Vec<(String, String)>, String> {
    let mut seen = Vec::with_capacity(start.len());
    for (key, value) in &start {
        let field = page_token::start_field(key)
            .and_then(|path| schema.field(path))
            .filter(|field| field.kind != ValueKind::Object)
            .filter(|field| !seen.contains(&field.path))
            .ok_or_else(|| format!("continues at `{key}`, which this collection does not"))?;
        seen.push(field.path);
        expression::check_literal(field.kind, value)
            .map_err(|why| format!("continues at `{key}` {why}"))?;
    }
    Ok(start)
}

/// Validates `field [asc|desc]` entries (an entry may itself hold several,
/// comma-separated) and joins them the way ONTAP takes them.
fn order_by(schema: &Schema, entries: &[String], violations: &mut Vec<FieldViolation>) -> String {
    let count: usize = entries.iter().map(|e| e.split(',').count()).sum();
    if count > MAX_ORDER_TERMS {
        violations.push(FieldViolation::new(
            "order_by",
            format!("orders by {count} fields; at most {MAX_ORDER_TERMS}"),
        ));
        return String::new();
    }
    let mut terms = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        for term in entry.split(',') {
            let mut words = term.split_whitespace();
            let (Some(path), direction, None) = (words.next(), words.next(), words.next()) else {
                violations.push(FieldViolation::new(
                    format!("order_by[{i}]"),
                    format!("`{term}` is not `<field> [asc|desc]`"),
                ));
                continue;
            };
            match schema.field(path) {
                Some(field) if field.kind != ValueKind::Object => {}
                _ => {
                    violations.push(FieldViolation::new(
                        format!("order_by[{i}]"),
                        format!("`{path}` is not a field this resource can be ordered by"),
                    ));
                    continue;
                }
            }
            match direction {
                None => terms.push(path.to_owned()),
                Some(d @ ("asc" | "desc")) => terms.push(format!("{path} {d}")),
                Some(other) => violations.push(FieldViolation::new(
                    format!("order_by[{i}]"),
                    format!("direction `{other}` is neither asc nor desc"),
                )),
            }
        }
    }
    terms.join(",")
}

/// The `return_timeout` to send: the caller's, or ONTAP's default, cut to
/// what `budget` (the time the request may take: the deadline's, or the
/// gateway's request timeout) leaves once [`return_margin`] is set aside,
/// so that ONTAP answers the records it has before anyone gives up on it.
/// Never below a second, ONTAP's smallest wait that still gathers.
fn return_timeout(requested: Option<u32>, budget: Duration) -> Option<u32> {
    let seconds = budget
        .saturating_sub(return_margin(budget))
        .as_secs()
        .clamp(1, u64::from(MAX_RETURN_TIMEOUT_SECONDS));
    let by_budget = u32::try_from(seconds).expect("clamped to 120");
    match requested {
        Some(r) => Some(r.min(by_budget)),
        None if u64::from(by_budget) < DEFAULT_RETURN_TIMEOUT_SECONDS => Some(by_budget),
        None => None,
    }
}

/// The part of a budget kept for after ONTAP stops gathering: it still
/// sends the page, and the gateway reads and decodes it. A second, or a
/// tenth of a longer budget, since a cluster slow enough to need the
/// timeout is slow to send too.
fn return_margin(budget: Duration) -> Duration {
    (budget / 10).max(Duration::from_secs(1))
}

/// ONTAP's answer when it could not gather a page in time.
/// Counts a change of `path`'s page size in the cluster's metrics.
fn page_size_changed(upstream: &Upstream, path: &ApiPath, change: PageSizeChange) {
    let client = &upstream.client;
    client
        .metrics()
        .page_size_changed(client.name(), path.endpoint(), change);
}

fn is_gateway_timeout(error: &OntapError) -> bool {
    matches!(error, OntapError::Api { status: 504, .. })
}

/// Names the request field an ONTAP 400 blames, for `google.rpc.BadRequest`.
fn blame(source: OntapError, request: &ListRequest<'_>) -> GatewayError {
    GatewayError::upstream(source, |target| match target {
        "fields" => Some("read_mask".to_owned()),
        "order_by" => Some("order_by".to_owned()),
        "max_records" => Some("page_size".to_owned()),
        "return_timeout" => Some("return_timeout_seconds".to_owned()),
        other => request
            .filters
            .iter()
            .find(|(path, _)| *path == other)
            .map(|(path, _)| filter_field_name(path)),
    })
}

#[cfg(any(fuzzing, test))]
mod fuzz_target;
mod page;
#[cfg(any(fuzzing, test))]
pub(crate) use fuzz_target::check_planned_query;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::ontap::CollectionPath;
    use crate::translate::resource::Resource;

    /// The collection the examples page through.
    const CONNECTIONS: CollectionPath = <crate::proto::v1::CifsConnection as Resource>::COLLECTION;
    use crate::translate::resources::CIFS_CONNECTION as SCHEMA;
    use crate::translate::schema::MAX_MASK_PATHS;

    /// The budget of a call without a deadline: the default request timeout.
    const NO_DEADLINE: Duration = Duration::from_secs(130);

    const CLUSTER: &str = "east";

    fn key() -> PageTokenKey {
        PageTokenKey::from_bytes(&[1; 32])
    }

    fn violations(request: ListRequest<'_>) -> Vec<String> {
        match plan(
            &key(),
            CLUSTER,
            &SCHEMA,
            &CONNECTIONS.path(),
            &request,
            NO_DEADLINE,
        ) {
            Err(GatewayError::InvalidRequest(v)) => v.into_iter().map(|v| v.field).collect(),
            other => panic!("expected violations, got {other:?}"),
        }
    }

    fn query(request: ListRequest<'_>) -> Query {
        plan(
            &key(),
            CLUSTER,
            &SCHEMA,
            &CONNECTIONS.path(),
            &request,
            NO_DEADLINE,
        )
        .unwrap()
        .query
    }

    /// A token continuing the first page of an unfiltered `fields=*` list at `start`.
    fn token(start: &[(&str, &str)]) -> String {
        let first = plan(
            &key(),
            CLUSTER,
            &SCHEMA,
            &CONNECTIONS.path(),
            &ListRequest::default(),
            NO_DEADLINE,
        )
        .unwrap();
        let start = start
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        page_token::encode(
            &key(),
            CLUSTER,
            &CONNECTIONS.path(),
            &first.fingerprint,
            start,
        )
    }

    fn continued(token: &str) -> ListRequest<'_> {
        with(SharedListFields {
            page_token: token,
            ..SharedListFields::default()
        })
    }

    /// A request with these shared fields and no filters.
    fn with(shared: SharedListFields<'_>) -> ListRequest<'_> {
        ListRequest {
            shared,
            ..ListRequest::default()
        }
    }

    #[test]
    fn a_token_adds_only_where_to_start() {
        let token = token(&[
            ("start.svm.uuid", "fc824aa8-4e60-11ea-afb1-0050568ec4e4"),
            ("start.identifier", "91968"),
        ]);
        assert_eq!(
            query(continued(&token)).encode(),
            "fields=%2A&max_records=100&start.svm.uuid=fc824aa8-4e60-11ea-afb1-0050568ec4e4\
             &start.identifier=91968"
        );
    }

    #[test]
    fn a_continuation_at_a_field_the_collection_lacks_is_refused() {
        for start in [
            ("start.max_records", "1000000000"),
            ("fields", "**"),
            ("start.node", "x"),
            ("start.svm.name", "vs1\r\nX-Injected: 1"),
            ("start.identifier", "1|2"),
            ("start.svm.uuid", "not-a-uuid"),
        ] {
            let token = token(&[start]);
            assert_eq!(violations(continued(&token)), ["page_token"], "{start:?}");
        }
    }

    #[test]
    fn a_continuation_naming_a_field_twice_is_refused() {
        let token = token(&[("start.identifier", "1"), ("start.identifier", "2")]);
        assert_eq!(violations(continued(&token)), ["page_token"]);
    }

    #[test]
    fn a_token_for_another_query_is_refused() {
        let token = token(&[("start.identifier", "1")]);
        let mut request = continued(&token);
        request.filters = vec![("svm.name", "vs1")];
        assert_eq!(violations(request), ["page_token"]);
    }

    #[test]
    fn first_page_sends_filters_fields_order_and_default_page_size() {
        let order = ["client_ip desc".to_owned()];
        let q = query(ListRequest {
            shared: SharedListFields {
                order_by: &order,
                ..SharedListFields::default()
            },
            filters: vec![("svm.name", "vs1"), ("client_ip", "")],
            ..ListRequest::default()
        });
        assert_eq!(
            q.encode(),
            "svm.name=vs1&fields=%2A&order_by=client_ip%20desc&max_records=100"
        );
    }

    #[test]
    fn read_mask_becomes_fields() {
        let mask = ["client_ip".to_owned(), "node.name".to_owned()];
        let q = query(ListRequest {
            shared: SharedListFields {
                read_mask: &mask,
                ..SharedListFields::default()
            },
            ..ListRequest::default()
        });
        assert_eq!(q.get("fields"), Some("client_ip,node.name"));
    }

    #[test]
    fn count_only_asks_for_no_records() {
        let q = query(ListRequest {
            shared: SharedListFields {
                count_only: true,
                ..SharedListFields::default()
            },
            ..ListRequest::default()
        });
        assert_eq!(q.encode(), "return_records=false");
    }

    #[test]
    fn every_invalid_field_is_named_at_once() {
        let mask = ["client_ip".to_owned(), "nope".to_owned()];
        let order = ["identifier sideways".to_owned()];
        let fields = violations(ListRequest {
            shared: SharedListFields {
                read_mask: &mask,
                order_by: &order,
                page_size: -1,
                return_timeout_seconds: Some(121),
                ..SharedListFields::default()
            },
            filters: vec![("client_port", ">abc"), ("svm.uuid", "zz")],
            ..ListRequest::default()
        });
        assert_eq!(
            fields,
            [
                "client_port",
                "svm_uuid",
                "read_mask.paths[1]",
                "order_by[0]",
                "page_size",
                "return_timeout_seconds"
            ]
        );
    }

    #[test]
    fn repeated_read_mask_paths_are_sent_once() {
        let mask = ["client_ip", "node.name", "client_ip"].map(str::to_owned);
        let q = query(with(SharedListFields {
            read_mask: &mask,
            ..SharedListFields::default()
        }));
        assert_eq!(q.get("fields"), Some("client_ip,node.name"));
    }

    #[test]
    fn a_read_mask_past_the_limit_is_one_violation() {
        let mask = vec!["client_ip".to_owned(); MAX_MASK_PATHS + 1];
        let fields = violations(with(SharedListFields {
            read_mask: &mask,
            ..SharedListFields::default()
        }));
        assert_eq!(fields, ["read_mask"]);
    }

    #[test]
    fn ordering_by_more_fields_than_the_limit_is_refused() {
        let order = vec!["identifier".to_owned(); MAX_ORDER_TERMS + 1];
        let fields = violations(with(SharedListFields {
            order_by: &order,
            ..SharedListFields::default()
        }));
        assert_eq!(fields, ["order_by"]);
    }

    #[test]
    fn ordering_by_exactly_the_limit_is_sent() {
        let order = vec!["identifier".to_owned(); MAX_ORDER_TERMS];
        let q = query(with(SharedListFields {
            order_by: &order,
            ..SharedListFields::default()
        }));
        let sent = q.get("order_by").unwrap();
        assert_eq!(sent.split(',').count(), MAX_ORDER_TERMS);
    }

    #[test]
    fn a_query_of_exactly_the_limit_is_sent() {
        // Percent-encoded, `%` and `*` are three bytes each; a filter value
        // is at most 1,024 characters, so three filters reach the limit.
        let (node, client) = ("%".repeat(1000), "*".repeat(700));
        let request = |svm: &str| -> Query {
            query(ListRequest {
                filters: vec![
                    ("node.name", node.as_str()),
                    ("client_ip", client.as_str()),
                    ("svm.name", svm),
                ],
                ..ListRequest::default()
            })
        };
        let short = request("a").encode().len();
        let missing = MAX_QUERY_BYTES - short;
        let svm = format!("a{}{}", "%".repeat(missing / 3), "a".repeat(missing % 3));
        assert_eq!(request(&svm).encode().len(), MAX_QUERY_BYTES);
        let one_more = format!("{svm}a");
        let fields = violations(ListRequest {
            filters: vec![
                ("node.name", node.as_str()),
                ("client_ip", client.as_str()),
                ("svm.name", one_more.as_str()),
            ],
            ..ListRequest::default()
        });
        assert_eq!(fields, ["svm_name"]);
    }

    #[test]
    fn a_query_past_the_limit_names_the_longest_filter() {
        // Each character below is percent-encoded into three bytes.
        let (longest, long) = ("%".repeat(1010), "%".repeat(1000));
        let stars = "*".repeat(1000);
        let fields = violations(ListRequest {
            filters: vec![
                ("node.name", long.as_str()),
                ("svm.name", longest.as_str()),
                ("client_ip", stars.as_str()),
            ],
            ..ListRequest::default()
        });
        assert_eq!(fields, ["svm_name"]);
    }

    #[test]
    fn page_size_above_the_maximum_is_reduced_to_it() {
        let q = query(ListRequest {
            shared: SharedListFields {
                page_size: 1001,
                ..SharedListFields::default()
            },
            ..ListRequest::default()
        });
        assert_eq!(q.get("max_records"), Some("1000"));
    }

    #[test]
    fn page_size_at_the_maximum_is_kept() {
        let q = query(ListRequest {
            shared: SharedListFields {
                page_size: 1000,
                ..SharedListFields::default()
            },
            ..ListRequest::default()
        });
        assert_eq!(q.get("max_records"), Some("1000"));
    }

    #[test]
    fn negative_page_size_is_rejected() {
        assert_eq!(
            violations(ListRequest {
                shared: SharedListFields {
                    page_size: -1,
                    ..SharedListFields::default()
                },
                ..ListRequest::default()
            }),
            ["page_size"]
        );
    }

    #[test]
    fn ordering_by_an_object_is_rejected() {
        let order = ["node".to_owned()];
        assert_eq!(
            violations(ListRequest {
                shared: SharedListFields {
                    order_by: &order,
                    ..SharedListFields::default()
                },
                ..ListRequest::default()
            }),
            ["order_by[0]"]
        );
    }

    #[test]
    fn a_short_budget_shortens_return_timeout_to_a_second_below_it() {
        assert_eq!(return_timeout(None, Duration::from_secs(4)), Some(3));
        assert_eq!(return_timeout(None, Duration::from_millis(4500)), Some(3));
        assert_eq!(return_timeout(Some(4), Duration::from_secs(4)), Some(3));
        assert_eq!(return_timeout(None, Duration::from_secs(2)), Some(1));
    }

    #[test]
    fn a_longer_budget_keeps_a_tenth_of_itself() {
        assert_eq!(return_timeout(Some(30), Duration::from_secs(20)), Some(18));
        assert_eq!(
            return_timeout(Some(120), Duration::from_secs(130)),
            Some(117)
        );
        assert_eq!(
            return_timeout(None, Duration::from_secs(DEFAULT_RETURN_TIMEOUT_SECONDS)),
            Some(13),
            "ONTAP's default would take the whole budget"
        );
    }

    #[test]
    fn return_timeout_is_never_below_a_second() {
        assert_eq!(return_timeout(None, Duration::from_millis(10)), Some(1));
        assert_eq!(return_timeout(None, Duration::from_secs(1)), Some(1));
        assert_eq!(return_timeout(Some(5), Duration::ZERO), Some(1));
    }

    #[test]
    fn a_long_budget_leaves_return_timeout_as_asked() {
        assert_eq!(return_timeout(Some(10), Duration::from_secs(60)), Some(10));
        assert_eq!(return_timeout(Some(0), Duration::from_secs(60)), Some(0));
        assert_eq!(return_timeout(None, Duration::from_secs(60)), None);
        assert_eq!(
            return_timeout(None, Duration::from_secs(17)),
            None,
            "ONTAP's default already leaves the margin"
        );
        assert_eq!(return_timeout(None, Duration::from_secs(130)), None);
    }

    proptest::proptest! {
        #[test]
        fn return_timeout_ends_a_second_before_any_budget_of_two_seconds_or_more(
            budget_ms in 2_000u64..200_000,
            requested in proptest::option::of(0u32..=MAX_RETURN_TIMEOUT_SECONDS),
        ) {
            let budget = Duration::from_millis(budget_ms);
            let waits = return_timeout(requested, budget)
                .map_or(DEFAULT_RETURN_TIMEOUT_SECONDS, u64::from);
            proptest::prop_assert!(Duration::from_secs(waits + 1) <= budget);
        }

        #[test]
        fn the_query_holds_only_what_the_request_asked_for_all_encoded(
            filters in proptest::collection::vec(".{0,40}", 9),
            mask in proptest::collection::vec("[a-z_.]{0,16}|client_ip|node.name|svm", 0..4),
            order in proptest::collection::vec(".{0,24}|identifier desc|client_ip", 0..3),
            page_size in -5i32..2000,
            return_timeout in proptest::option::of(0u32..200),
            count_only in proptest::bool::ANY,
        ) {
            let paths = ["client_ip", "client_port", "identifier", "network_context_id",
                "node.name", "node.uuid", "server_ip", "svm.name", "svm.uuid"];
            let request = ListRequest {
                extra: Vec::new(),
                filters: paths.iter().copied().zip(filters.iter().map(String::as_str)).collect(),
                shared: SharedListFields {
                    read_mask: &mask,
                    order_by: &order,
                    page_size,
                    page_token: "",
                    return_timeout_seconds: return_timeout,
                    count_only,
                },
            };
            let Ok(plan) = plan(&key(), CLUSTER, &SCHEMA, &CONNECTIONS.path(), &request, NO_DEADLINE) else {
                return Ok(());
            };
            let encoded = plan.query.encode();
            proptest::prop_assert!(
                encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%=&".contains(&b)),
                "{}", encoded
            );
            for pair in encoded.split('&') {
                let key = pair.split('=').next().unwrap();
                let asked = paths.contains(&key)
                    || ["fields", "order_by", "max_records", "return_records", "return_timeout"]
                        .contains(&key);
                proptest::prop_assert!(asked, "`{}` in {}", key, encoded);
            }
            if let Some(max) = plan.query.get("max_records") {
                proptest::prop_assert!(max.parse::<u32>().unwrap() <= MAX_PAGE_SIZE);
            }
        }
    }
}
