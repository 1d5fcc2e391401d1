//! Query-based DELETE on a collection, as the pages' general rule describes it: ONTAP runs the
//! GET the filters describe and deletes each match, one at a time, for as long as
//! `return_timeout` allows; what is left is linked with `_links.next`, to be followed with
//! DELETE.
//!
//! What the simulator makes of the parameters, where the pages leave it open:
//! - at least one field filter is required (400, code 2), since none would delete everything;
//! - `return_timeout` (default 15 s, 0 to 120) cuts a call short only when the collection has an
//!   iteration cost (as for GET): a call then deletes what fits, at least one match, and its next
//!   link repeats the request as sent, since what it deleted no longer matches;
//! - `return_records` defaults to `false`, as the general rule says for every method but GET;
//!   `true` adds `records`, the key fields of what was deleted (no links: they are gone);
//! - `continue_on_failure` and `serial_records` are read (booleans, default `false`) and change
//!   nothing: matches are deleted one at a time, in identity order, under the one lock that
//!   found them, so none can fail half way;
//! - a body with a non-empty `records` array asks for a record-based delete, which ONTAP runs as
//!   a job; the simulator serves no jobs and refuses it (400, code 262198, see
//!   [`ApiError::records_not_supported`]). An empty body, `{}` or `{"records": []}` (what
//!   generated clients send for a query-based delete) is accepted.
//!
//! The answer is 200 with `{"num_records": n}`, `n` the number deleted by this call (0 when
//! nothing matched).

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::errors::{ApiError, Unexpected};
use crate::query::collection::{
    RETURN_RECORDS, RETURN_TIMEOUT, RETURN_TIMEOUT_DEFAULT, fitting_in, parse_bool,
    parse_return_timeout,
};
use crate::query::fields::Selection;
use crate::query::filter::Filters;
use crate::query::order::Order;
use crate::query::schema::Schema;

/// Keep going when one record fails.
pub const CONTINUE_ON_FAILURE: &str = "continue_on_failure";
/// Process the records in order, one at a time.
pub const SERIAL_RECORDS: &str = "serial_records";
/// The body member of a record-based delete.
const RECORDS: &str = "records";

/// A validated query-based DELETE.
#[derive(Debug)]
pub struct DeleteRequest {
    filters: Filters,
    return_timeout: Duration,
    return_records: bool,
}

impl DeleteRequest {
    /// Validates the query (filters and the parameters above, in request order, then that there
    /// is a filter) and the body, before anything is deleted.
    pub fn parse(
        schema: &Schema,
        pairs: &[(String, String)],
        body: &[u8],
    ) -> Result<DeleteRequest, ApiError> {
        let mut request = DeleteRequest {
            filters: Filters::default(),
            return_timeout: RETURN_TIMEOUT_DEFAULT,
            return_records: false,
        };
        for (name, value) in pairs {
            match name.as_str() {
                RETURN_TIMEOUT => request.return_timeout = parse_return_timeout(value)?,
                RETURN_RECORDS => request.return_records = parse_bool(RETURN_RECORDS, value)?,
                // Validated only: nothing can fail part way, and deletion is serial anyway.
                CONTINUE_ON_FAILURE | SERIAL_RECORDS => {
                    parse_bool(name, value)?;
                }
                _ => {
                    if !request.filters.add(schema, name, value)? {
                        return Err(ApiError::unexpected_argument(name, Unexpected::Unknown));
                    }
                }
            }
        }
        if request.filters.is_empty() {
            return Err(ApiError::filter_required());
        }
        check_body(body)?;
        Ok(request)
    }

    /// The matches one call deletes, out of `records` (each a handle for deleting it, and the
    /// record rendered with every field): those matching every filter, in identity order, as
    /// many as fit in `return_timeout` at `cost` each. The flag says whether matches are left.
    pub fn select<T>(
        &self,
        schema: &Schema,
        records: Vec<(T, Value)>,
        cost: Duration,
    ) -> Result<(Vec<(T, Value)>, bool), ApiError> {
        let order = Order::parse(schema, &[])?;
        let mut matched: Vec<_> = records
            .into_iter()
            .filter(|(_, record)| self.filters.matches(record))
            .map(|(handle, record)| (order.key_of(&record), handle, record))
            .collect();
        matched.sort_by(|(a, _, _), (b, _, _)| order.compare(a, b));
        let batch = fitting_in(self.return_timeout, cost);
        let more = matched.len() > batch;
        matched.truncate(batch);
        let selected = matched
            .into_iter()
            .map(|(_, handle, record)| (handle, record))
            .collect();
        Ok((selected, more))
    }

    /// The answer once `deleted` (rendered with every field) are gone: their count, their key
    /// fields when `return_records=true`, and a next link repeating `target` (the request's
    /// path and query) when `more` matches are left.
    pub fn respond(&self, schema: &Schema, deleted: &[Value], more: bool, target: &str) -> Value {
        let mut body = Map::new();
        body.insert("num_records".to_owned(), json!(deleted.len()));
        if self.return_records {
            let keys = Selection::parse_or(schema, &[], &[]).map(|selection| {
                deleted
                    .iter()
                    .map(|record| selection.project(record))
                    .collect::<Vec<_>>()
            });
            if let Ok(keys) = keys {
                body.insert("records".to_owned(), Value::Array(keys));
            }
        }
        if more {
            body.insert("_links".to_owned(), json!({ "next": { "href": target } }));
        }
        Value::Object(body)
    }
}

/// An empty body, or an object whose `records` is absent, null or empty, asks for nothing more
/// than the query; records ask for a record-based delete, which is refused; anything else in
/// the object is an unexpected argument, and a body that is not an object an invalid one.
fn check_body(body: &[u8]) -> Result<(), ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|error| ApiError::invalid_value(None, "", &error.to_string()))?;
    let Value::Object(members) = value else {
        return Err(ApiError::invalid_value(None, "", "expected a JSON object"));
    };
    for (name, member) in &members {
        if name != RECORDS {
            return Err(ApiError::unexpected_argument(name, Unexpected::Unknown));
        }
        match member {
            Value::Null => {}
            Value::Array(records) if records.is_empty() => {}
            Value::Array(_) => return Err(ApiError::records_not_supported()),
            _ => {
                return Err(ApiError::invalid_value(
                    RECORDS,
                    &member.to_string(),
                    "expected an array of records",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::params;
    use crate::query::schema::{FieldSpec, FieldType};

    const SCHEMA: Schema = Schema {
        path: "/api/things",
        fields: &[
            FieldSpec::new("node.uuid", FieldType::String),
            FieldSpec::new("identifier", FieldType::Integer),
            FieldSpec::new("colour", FieldType::String),
        ],
        key_fields: &["node.uuid", "identifier"],
        default_fields: &[],
        identity: &["node.uuid", "identifier"],
        default_order: &[],
        parameters: &[],
        links: &[],
        path_keys: &["node.uuid", "identifier"],
    };

    fn parse(query: &str, body: &str) -> Result<DeleteRequest, ApiError> {
        DeleteRequest::parse(&SCHEMA, &params::decode(Some(query)), body.as_bytes())
    }

    fn records() -> Vec<(u64, Value)> {
        (1..=5)
            .rev()
            .map(|i| {
                let colour = if i % 2 == 0 { "red" } else { "blue" };
                (
                    i,
                    json!({"node": {"uuid": "n"}, "identifier": i, "colour": colour}),
                )
            })
            .collect()
    }

    #[test]
    fn without_a_filter_a_delete_is_refused_with_code_2() {
        for query in ["", "return_timeout=5&serial_records=true"] {
            let error = parse(query, "").expect_err("no filter");
            assert_eq!(error.code.as_deref(), Some("2"), "{query}");
        }
    }

    #[test]
    fn the_matches_are_selected_in_identity_order() {
        let request = parse("colour=blue", "").expect("valid");
        let (selected, more) = request
            .select(&SCHEMA, records(), Duration::ZERO)
            .expect("valid");
        let handles: Vec<u64> = selected.iter().map(|(handle, _)| *handle).collect();
        assert_eq!(handles, [1, 3, 5]);
        assert!(!more);
    }

    #[test]
    fn a_slow_delete_takes_what_fits_in_return_timeout_and_says_more_are_left() {
        let request = parse("identifier=>0&return_timeout=2", "").expect("valid");
        let (selected, more) = request
            .select(&SCHEMA, records(), Duration::from_secs(1))
            .expect("valid");
        assert_eq!(selected.len(), 2);
        assert!(more);
        let body = request.respond(&SCHEMA, &[], more, "/api/things?identifier=%3E0");
        assert_eq!(
            body["_links"]["next"]["href"],
            "/api/things?identifier=%3E0"
        );
    }

    #[test]
    fn a_delete_whose_matches_all_fit_in_return_timeout_leaves_none() {
        let request = parse("identifier=>0&return_timeout=5", "").expect("valid");
        let (selected, more) = request
            .select(&SCHEMA, records(), Duration::from_secs(1))
            .expect("valid");
        assert_eq!(selected.len(), 5);
        assert!(!more);
    }

    #[test]
    fn return_records_adds_the_key_fields_of_what_was_deleted() {
        let request = parse("colour=red&return_records=true", "").expect("valid");
        let deleted = [json!({"node": {"uuid": "n"}, "identifier": 2, "colour": "red"})];
        let body = request.respond(&SCHEMA, &deleted, false, "/api/things");
        assert_eq!(
            body,
            json!({"num_records": 1, "records": [{"node": {"uuid": "n"}, "identifier": 2}]})
        );
        let quiet = parse("colour=red", "").expect("valid");
        assert_eq!(
            quiet.respond(&SCHEMA, &deleted, false, "/api/things"),
            json!({"num_records": 1})
        );
    }

    #[test]
    fn unknown_parameters_and_bad_booleans_are_refused() {
        let error = parse("colour=red&max_records=1", "").expect_err("not declared");
        assert_eq!(error.code.as_deref(), Some("262179"));
        let error = parse("colour=red&continue_on_failure=yes", "").expect_err("bad");
        assert_eq!(error.target.as_deref(), Some("continue_on_failure"));
    }

    #[test]
    fn an_empty_records_body_is_a_query_based_delete() {
        for body in ["", " ", "{}", r#"{"records": []}"#, r#"{"records": null}"#] {
            assert!(parse("colour=red", body).is_ok(), "{body}");
        }
    }

    #[test]
    fn a_record_based_delete_is_refused_naming_records() {
        let error = parse("colour=red", r#"{"records": [{"identifier": 1}]}"#).expect_err("job");
        assert_eq!(error.code.as_deref(), Some("262198"));
        assert_eq!(error.target.as_deref(), Some("records"));
        let error = parse("colour=red", r#"{"colour": "red"}"#).expect_err("extra");
        assert_eq!(error.code.as_deref(), Some("262179"));
        let error = parse("colour=red", "[]").expect_err("not an object");
        assert_eq!(error.code.as_deref(), Some("262197"));
    }
}
