//! The generic collection GET engine: filters, `fields`, `order_by`, paging, `return_records`,
//! `num_records` and `_links`, over records rendered as JSON.
//!
//! Parsing is separate from answering so a bad request is rejected before any cluster state is
//! touched.

use std::time::Duration;

use axum::response::Response;
use http::{HeaderMap, StatusCode, Uri};
use serde_json::{Map, Value, json};

use crate::errors::{ApiError, Unexpected};
use crate::http::media::Media;
use crate::http::params;
use crate::query::fields::{self, Selection};
use crate::query::filter::Filters;
use crate::query::order::{self, Order, START_PREFIX, SortKey};
use crate::query::schema::{LinkSpec, Schema};

const MAX_RECORDS: &str = "max_records";
/// The parameter name, also the error target.
pub const RETURN_TIMEOUT: &str = "return_timeout";
/// The parameter name, also the error target.
pub const RETURN_RECORDS: &str = "return_records";
/// Documented bounds of `return_timeout`, in seconds.
const RETURN_TIMEOUT_MAX: u64 = 120;
/// Documented default of `return_timeout`.
pub const RETURN_TIMEOUT_DEFAULT: Duration = Duration::from_secs(15);

/// Answers a collection GET end to end, so an endpoint is just a schema plus its records. The
/// query is validated before `records` runs, so a bad request never touches cluster state.
/// `record_cost` is the simulated time iterating one record takes (see
/// [`CollectionRequest::with_record_cost`]).
pub fn get(
    schema: &Schema,
    uri: &Uri,
    headers: &HeaderMap,
    record_cost: Duration,
    records: impl FnOnce() -> Vec<Value>,
) -> Response {
    get_with(schema, uri, headers, record_cost, || Ok(records()))
}

/// [`get`] for a collection that may fail once the query is known to be valid (its parent
/// object does not exist, its data cannot be produced).
pub fn get_with(
    schema: &Schema,
    uri: &Uri,
    headers: &HeaderMap,
    record_cost: Duration,
    records: impl FnOnce() -> Result<Vec<Value>, ApiError>,
) -> Response {
    let media = Media::from_headers(headers);
    let request = match CollectionRequest::parse(schema, &params::decode(uri.query())) {
        Ok(request) => request.with_record_cost(record_cost),
        Err(error) => return error.into_response_as(media),
    };
    let records = match records() {
        Ok(records) => records,
        Err(error) => return error.into_response_as(media),
    };
    let target = uri.path_and_query().map_or(schema.path, |pq| pq.as_str());
    let body = request.respond(schema, records, target, media);
    media.respond(StatusCode::OK, &body)
}

/// A validated collection GET.
#[derive(Debug)]
pub struct CollectionRequest {
    filters: Filters,
    selection: Selection,
    order: Order,
    start: Option<SortKey>,
    max_records: Option<usize>,
    return_timeout: Duration,
    record_cost: Duration,
    return_records: bool,
    /// The request's parameters except `start.*`, carried into `_links.next` as they came.
    carried: Vec<(String, String)>,
}

impl CollectionRequest {
    /// Validates decoded query parameters against the schema and reports the first problem:
    /// parameters and filters in request order, then `fields`, `order_by` and `start.*` (which
    /// depend on all their values, or on the sort).
    pub fn parse(
        schema: &Schema,
        pairs: &[(String, String)],
    ) -> Result<CollectionRequest, ApiError> {
        let mut filters = Filters::default();
        let mut field_values = Vec::new();
        let mut order_values = Vec::new();
        let mut start = Vec::new();
        let mut max_records = None;
        let mut return_timeout = RETURN_TIMEOUT_DEFAULT;
        let mut return_records = true;
        let mut carried = Vec::new();
        for (name, value) in pairs {
            match name.as_str() {
                fields::PARAM => field_values.push(value.clone()),
                order::PARAM => order_values.push(value.clone()),
                MAX_RECORDS => max_records = Some(parse_max_records(value)?),
                RETURN_TIMEOUT => return_timeout = parse_return_timeout(value)?,
                RETURN_RECORDS => return_records = parse_bool(RETURN_RECORDS, value)?,
                _ if schema.parameters.contains(&name.as_str()) => {}
                _ => {
                    if let Some(path) = name.strip_prefix(START_PREFIX) {
                        start.push((path.to_owned(), value.clone()));
                        continue;
                    }
                    if !filters.add(schema, name, value)? {
                        return Err(ApiError::unexpected_argument(name, Unexpected::Unknown));
                    }
                }
            }
            carried.push((name.clone(), value.clone()));
        }
        let selection = Selection::parse(schema, &field_values)?;
        let order = Order::parse(schema, &order_values)?;
        let start = order.parse_start(&start)?;
        Ok(CollectionRequest {
            filters,
            selection,
            order,
            start,
            max_records,
            return_timeout,
            record_cost: Duration::ZERO,
            return_records,
            carried,
        })
    }

    /// Makes iterating each record take `cost` of simulated time, as on a busy cluster: a page
    /// then holds only the records gathered within `return_timeout` (at least one, so paging
    /// always progresses) and links the rest with `_links.next`, as ONTAP returns early. No real
    /// time passes. The cost is per record gathered (matching the filters, after `start.*`);
    /// `return_records=false` still counts every record.
    pub fn with_record_cost(self, cost: Duration) -> CollectionRequest {
        CollectionRequest {
            record_cost: cost,
            ..self
        }
    }

    /// How many records iterating can gather before `return_timeout` runs out.
    fn gathered_in_time(&self) -> usize {
        fitting_in(self.return_timeout, self.record_cost)
    }

    /// Answers the request over `records` (each rendered with every field, expensive included).
    /// `target` is the request's path and query: echoed as `_links.self` for HAL clients, and
    /// its path starts `_links.next` (a collection's path may hold its parent's key).
    pub fn respond(
        &self,
        schema: &Schema,
        records: Vec<Value>,
        target: &str,
        media: Media,
    ) -> Value {
        let mut rows: Vec<(SortKey, Value)> = records
            .into_iter()
            .filter(|record| self.matches(record))
            .map(|record| (self.order.key_of(&record), record))
            .collect();
        rows.sort_by(|(a, _), (b, _)| self.order.compare(a, b));
        if let Some(start) = &self.start {
            rows.retain(|(key, _)| self.order.compare(key, start).is_gt());
        }

        let mut links = Map::new();
        if media.hal() {
            links.insert("self".to_owned(), json!({ "href": target }));
        }
        let mut body = Map::new();
        if !self.return_records {
            body.insert("num_records".to_owned(), json!(rows.len()));
            insert_links(&mut body, links);
            return Value::Object(body);
        }

        let limit = self
            .max_records
            .unwrap_or(usize::MAX)
            .min(self.gathered_in_time());
        if rows.len() > limit {
            rows.truncate(limit);
            if let Some((last, _)) = rows.last() {
                let path = target.split('?').next().unwrap_or(schema.path);
                links.insert(
                    "next".to_owned(),
                    json!({ "href": self.next_href(path, last) }),
                );
            }
        }
        let records: Vec<Value> = rows
            .iter()
            .map(|(_, record)| render(schema, &self.selection, record, media))
            .collect();
        body.insert("num_records".to_owned(), json!(records.len()));
        body.insert("records".to_owned(), Value::Array(records));
        insert_links(&mut body, links);
        Value::Object(body)
    }

    fn matches(&self, record: &Value) -> bool {
        self.filters.matches(record)
    }

    fn next_href(&self, path: &str, last: &SortKey) -> String {
        let mut pairs = self.carried.clone();
        pairs.extend(self.order.start_params(last));
        format!("{path}?{}", params::encode(&pairs))
    }
}

/// How many records iterating at `cost` each gathers before `timeout` runs out: all when it
/// costs nothing, else at least one, so a caller always makes progress.
pub fn fitting_in(timeout: Duration, cost: Duration) -> usize {
    if cost.is_zero() {
        return usize::MAX;
    }
    let fit = timeout.as_nanos() / cost.as_nanos();
    usize::try_from(fit).unwrap_or(usize::MAX).max(1)
}

/// One record cut down to `selection`, with the schema's HAL links on the objects that remain
/// and the record's own link when it has a path (for HAL clients only).
pub fn render(schema: &Schema, selection: &Selection, record: &Value, media: Media) -> Value {
    let mut projected = selection.project(record);
    if media.hal() {
        if let (Some(href), Value::Object(target)) = (schema.instance_href(record), &mut projected)
        {
            target.insert("_links".to_owned(), self_link(href));
        }
        for link in schema.links {
            let path: Vec<&str> = link.object.split('.').filter(|s| !s.is_empty()).collect();
            insert_link(link, record, record, &mut projected, &path);
        }
    }
    projected
}

fn self_link(href: String) -> Value {
    json!({ "self": { "href": href } })
}

/// Walks `path` through `original` and `projected` in step, looking through arrays element by
/// element (a projection keeps every element, in order), and links each object it reaches that
/// the projection kept.
fn insert_link(
    link: &LinkSpec,
    record: &Value,
    original: &Value,
    projected: &mut Value,
    path: &[&str],
) {
    match (original, projected) {
        (Value::Array(originals), Value::Array(projections)) => {
            for (original, projected) in originals.iter().zip(projections) {
                insert_link(link, record, original, projected, path);
            }
        }
        (_, Value::Object(target)) if path.is_empty() => {
            if let Some(href) = (link.href)(record, original) {
                target.insert("_links".to_owned(), self_link(href));
            }
        }
        (Value::Object(originals), Value::Object(projections)) => {
            let (Some(key), rest) = (path.first(), path.get(1..).unwrap_or_default()) else {
                return;
            };
            if let (Some(original), Some(projected)) =
                (originals.get(*key), projections.get_mut(*key))
            {
                insert_link(link, record, original, projected, rest);
            }
        }
        _ => {}
    }
}

fn insert_links(body: &mut Map<String, Value>, links: Map<String, Value>) {
    if !links.is_empty() {
        body.insert("_links".to_owned(), Value::Object(links));
    }
}

fn parse_max_records(value: &str) -> Result<usize, ApiError> {
    match value.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(ApiError::invalid_value(
            MAX_RECORDS,
            value,
            "expected a positive integer",
        )),
    }
}

/// Reads `return_timeout`: whole seconds from 0 to 120.
pub fn parse_return_timeout(value: &str) -> Result<Duration, ApiError> {
    match value.parse::<u64>() {
        Ok(n) if n <= RETURN_TIMEOUT_MAX => Ok(Duration::from_secs(n)),
        _ => Err(ApiError::invalid_value(
            RETURN_TIMEOUT,
            value,
            "expected an integer from 0 to 120",
        )),
    }
}

/// Reads a boolean parameter: `true` or `false`, as ONTAP writes them.
pub fn parse_bool(name: &str, value: &str) -> Result<bool, ApiError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ApiError::invalid_value(
            name,
            value,
            "expected true or false",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::schema::{FieldSpec, FieldType};

    const FIELDS: &[FieldSpec] = &[
        FieldSpec::new("node.uuid", FieldType::String),
        FieldSpec::new("identifier", FieldType::Integer),
        FieldSpec::new("client_ip", FieldType::String),
        FieldSpec::new("sessions.identifier", FieldType::Integer).repeated(),
    ];

    fn node_href(_: &Value, node: &Value) -> Option<String> {
        Some(format!("/api/nodes/{}", node.get("uuid")?.as_str()?))
    }

    fn session_href(record: &Value, session: &Value) -> Option<String> {
        Some(format!(
            "/api/nodes/{}/sessions/{}",
            record.get("node")?.get("uuid")?.as_str()?,
            session.get("identifier")?
        ))
    }

    const SCHEMA: Schema = Schema {
        path: "/api/things",
        fields: FIELDS,
        key_fields: &["node.uuid", "identifier"],
        default_fields: &[],
        identity: &["node.uuid", "identifier"],
        default_order: &[],
        parameters: &["colour"],
        links: &[
            LinkSpec {
                object: "node",
                href: node_href,
            },
            LinkSpec {
                object: "sessions",
                href: session_href,
            },
        ],
        path_keys: &[],
    };

    fn records() -> Vec<Value> {
        (1..=5)
            .map(|i| {
                json!({
                    "node": {"uuid": "n1"},
                    "identifier": i,
                    "client_ip": format!("10.0.0.{}", 6 - i),
                    "sessions": [{"identifier": 100 + i}],
                })
            })
            .collect()
    }

    fn get_as(query: &str, media: Media) -> Result<Value, ApiError> {
        let pairs = params::decode(Some(query));
        let request = CollectionRequest::parse(&SCHEMA, &pairs)?;
        Ok(request.respond(&SCHEMA, records(), &format!("/api/things?{query}"), media))
    }

    fn get(query: &str) -> Result<Value, ApiError> {
        get_as(query, Media::Hal)
    }

    fn identifiers(body: &Value) -> Vec<u64> {
        body["records"]
            .as_array()
            .expect("records")
            .iter()
            .map(|r| r["identifier"].as_u64().expect("identifier"))
            .collect()
    }

    fn next_query(body: &Value) -> Option<String> {
        let href = body["_links"]["next"]["href"].as_str()?;
        Some(href.strip_prefix("/api/things?").expect("path").to_owned())
    }

    #[test]
    fn filters_select_matching_records() {
        assert_eq!(identifiers(&get("identifier=>3").expect("ok")), [4, 5]);
    }

    #[test]
    fn filters_on_the_same_field_all_apply() {
        assert_eq!(
            identifiers(&get("identifier=>1&identifier=<4").expect("ok")),
            [2, 3]
        );
    }

    #[test]
    fn filter_on_an_array_element_matches_any_element() {
        assert_eq!(
            identifiers(&get("sessions.identifier=102").expect("ok")),
            [2]
        );
    }

    #[test]
    fn unknown_parameter_is_an_unexpected_argument() {
        let error = get("bogus=1").expect_err("unknown");
        assert_eq!(error.code.as_deref(), Some("262179"));
        assert_eq!(error.target.as_deref(), Some("bogus"));
    }

    #[test]
    fn malformed_filter_is_an_invalid_value_targeting_the_field() {
        let error = get("identifier=abc").expect_err("not an integer");
        assert_eq!(error.code.as_deref(), Some("262197"));
        assert_eq!(error.target.as_deref(), Some("identifier"));
        assert!(error.message.contains("abc"));
    }

    #[test]
    fn filter_operand_outside_a_fields_length_bounds_is_invalid() {
        const BOUNDED: &[FieldSpec] = &[
            FieldSpec::new("identifier", FieldType::Integer),
            FieldSpec::new("node.uuid", FieldType::String),
            FieldSpec::new("client_ip", FieldType::String).length(1, 4),
        ];
        let schema = Schema {
            fields: BOUNDED,
            links: &[],
            ..SCHEMA
        };
        let parse = |query: &str| CollectionRequest::parse(&schema, &params::decode(Some(query)));
        assert!(parse("client_ip=abcd|!wxyz|null").is_ok());
        for query in [
            "client_ip=abcde",
            "client_ip=a|abcde",
            "client_ip=",
            "client_ip=>abcde",
        ] {
            let error = parse(query).expect_err(query);
            assert_eq!(error.code.as_deref(), Some("262197"), "{query}");
            assert_eq!(error.target.as_deref(), Some("client_ip"), "{query}");
        }
    }

    #[test]
    fn non_numeric_max_records_is_invalid() {
        let error = get("max_records=ten").expect_err("invalid");
        assert_eq!(error.target.as_deref(), Some("max_records"));
    }

    #[test]
    fn return_timeout_above_120_is_invalid() {
        assert!(get("return_timeout=120").is_ok());
        let error = get("return_timeout=121").expect_err("invalid");
        assert_eq!(error.target.as_deref(), Some("return_timeout"));
    }

    #[test]
    fn bad_boolean_for_return_records_is_invalid() {
        let error = get("return_records=yes").expect_err("invalid");
        assert_eq!(error.target.as_deref(), Some("return_records"));
    }

    #[test]
    fn order_by_sorts_records() {
        assert_eq!(
            identifiers(&get("order_by=client_ip").expect("ok")),
            [5, 4, 3, 2, 1]
        );
    }

    #[test]
    fn max_records_limits_the_page_and_links_the_next() {
        let body = get("max_records=2").expect("ok");
        assert_eq!(identifiers(&body), [1, 2]);
        assert_eq!(body["num_records"], 2);
        assert!(next_query(&body).is_some());
    }

    #[test]
    fn last_page_has_no_next_link() {
        let body = get("max_records=5").expect("ok");
        assert_eq!(identifiers(&body).len(), 5);
        assert!(next_query(&body).is_none());
    }

    #[test]
    fn next_link_carries_parameters_and_start_keys() {
        let body = get(
            "client_ip=10.0.0.*&fields=client_ip&order_by=client_ip%20desc\
             &max_records=2&return_timeout=15",
        )
        .expect("ok");
        assert_eq!(
            next_query(&body).expect("next"),
            "client_ip=10.0.0.%2A&fields=client_ip&order_by=client_ip%20desc&max_records=2\
             &return_timeout=15&start.client_ip=10.0.0.4&start.node.uuid=n1&start.identifier=2"
        );
    }

    #[test]
    fn following_next_links_visits_every_record_once_in_order() {
        let mut query = "order_by=client_ip&max_records=2".to_owned();
        let mut seen = Vec::new();
        loop {
            let body = get(&query).expect("ok");
            seen.extend(identifiers(&body));
            match next_query(&body) {
                Some(next) => query = next,
                None => break,
            }
        }
        assert_eq!(seen, [5, 4, 3, 2, 1]);
    }

    fn slow_get(query: &str, cost_ms: u64) -> Value {
        let pairs = params::decode(Some(query));
        CollectionRequest::parse(&SCHEMA, &pairs)
            .expect("valid")
            .with_record_cost(Duration::from_millis(cost_ms))
            .respond(
                &SCHEMA,
                records(),
                &format!("/api/things?{query}"),
                Media::Json,
            )
    }

    #[test]
    fn slow_iteration_returns_what_fits_in_return_timeout_and_links_the_rest() {
        let body = slow_get("return_timeout=2", 1_000);
        assert_eq!(identifiers(&body), [1, 2]);
        assert_eq!(body["num_records"], 2);
        assert!(
            next_query(&body)
                .expect("next")
                .starts_with("return_timeout=2&start.")
        );
    }

    #[test]
    fn return_timeout_defaults_to_15_seconds() {
        assert_eq!(identifiers(&slow_get("", 4_000)), [1, 2, 3]);
    }

    #[test]
    fn a_page_holds_at_least_one_record_however_slow() {
        let body = slow_get("return_timeout=0", 60_000);
        assert_eq!(identifiers(&body), [1]);
        assert!(next_query(&body).is_some());
    }

    #[test]
    fn max_records_below_what_fits_in_time_wins() {
        assert_eq!(
            identifiers(&slow_get("return_timeout=4&max_records=1", 1_000)),
            [1]
        );
    }

    #[test]
    fn everything_fits_when_iteration_is_fast_enough() {
        let body = slow_get("return_timeout=5", 1_000);
        assert_eq!(identifiers(&body).len(), 5);
        assert!(next_query(&body).is_none());
    }

    #[test]
    fn following_early_returns_visits_every_record_once_in_order() {
        let mut query = "return_timeout=2&order_by=client_ip".to_owned();
        let mut seen = Vec::new();
        loop {
            let body = slow_get(&query, 1_000);
            seen.extend(identifiers(&body));
            match next_query(&body) {
                Some(next) => query = next,
                None => break,
            }
        }
        assert_eq!(seen, [5, 4, 3, 2, 1]);
    }

    #[test]
    fn counting_is_not_cut_short() {
        let body = slow_get("return_timeout=0&return_records=false", 60_000);
        assert_eq!(body["num_records"], 5);
    }

    #[test]
    fn continuation_starts_strictly_after_the_last_record_even_if_it_was_removed() {
        let pairs = params::decode(Some("start.node.uuid=n1&start.identifier=2&max_records=10"));
        let request = CollectionRequest::parse(&SCHEMA, &pairs).expect("valid");
        let remaining: Vec<Value> = records()
            .into_iter()
            .filter(|r| r["identifier"] != 2)
            .collect();
        let body = request.respond(&SCHEMA, remaining, "/", Media::Json);
        assert_eq!(identifiers(&body), [3, 4, 5]);
    }

    #[test]
    fn return_records_false_counts_every_match() {
        let body = get("return_records=false&max_records=1&identifier=>1").expect("ok");
        assert_eq!(body["num_records"], 4);
        assert!(body.get("records").is_none());
        assert!(body["_links"]["self"]["href"].is_string());
    }

    #[test]
    fn hal_adds_self_links_to_collection_and_nested_objects() {
        let body = get("max_records=1").expect("ok");
        assert_eq!(body["_links"]["self"]["href"], "/api/things?max_records=1");
        assert_eq!(
            body["records"][0]["node"]["_links"]["self"]["href"],
            "/api/nodes/n1"
        );
    }

    #[test]
    fn hal_links_each_element_of_an_array_from_the_element_and_the_record() {
        let body = get("max_records=1&fields=sessions").expect("ok");
        assert_eq!(
            body["records"][0]["sessions"][0]["_links"]["self"]["href"],
            "/api/nodes/n1/sessions/101"
        );
    }

    #[test]
    fn hal_adds_the_records_own_link_when_it_has_a_path() {
        let schema = Schema {
            path_keys: &["node.uuid", "identifier"],
            ..SCHEMA
        };
        let pairs = params::decode(Some("max_records=1"));
        let request = CollectionRequest::parse(&schema, &pairs).expect("valid");
        let body = request.respond(&schema, records(), "/api/things", Media::Hal);
        assert_eq!(
            body["records"][0]["_links"]["self"]["href"],
            "/api/things/n1/1"
        );
        let plain = request.respond(&schema, records(), "/api/things", Media::Json);
        assert!(plain["records"][0].get("_links").is_none());
    }

    #[test]
    fn plain_json_keeps_only_the_next_link() {
        let body = get_as("max_records=1", Media::Json).expect("ok");
        assert!(body["_links"].get("self").is_none());
        assert!(body["_links"]["next"]["href"].is_string());
        assert!(body["records"][0]["node"].get("_links").is_none());
    }

    #[test]
    fn plain_json_without_more_records_has_no_links() {
        let body = get_as("", Media::Json).expect("ok");
        assert!(body.get("_links").is_none());
    }

    #[test]
    fn endpoint_parameters_are_accepted_and_carried_into_next_links() {
        let body = get("colour=red&max_records=2").expect("ok");
        let next = next_query(&body).expect("next");
        assert!(
            next.starts_with("colour=red&max_records=2&start."),
            "{next}"
        );
    }

    #[test]
    fn next_link_keeps_the_request_path() {
        let pairs = params::decode(Some("max_records=1"));
        let request = CollectionRequest::parse(&SCHEMA, &pairs).expect("valid");
        let body = request.respond(
            &SCHEMA,
            records(),
            "/api/p/7/things?max_records=1",
            Media::Json,
        );
        let next = body["_links"]["next"]["href"].as_str().expect("next");
        assert!(
            next.starts_with("/api/p/7/things?max_records=1&start."),
            "{next}"
        );
    }

    #[test]
    fn start_key_outside_the_sort_is_an_unexpected_argument() {
        let error = get("start.client_ip=x").expect_err("unexpected");
        assert_eq!(error.code.as_deref(), Some("262179"));
    }
}
