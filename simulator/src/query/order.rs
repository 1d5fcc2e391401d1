//! `order_by`, sort keys, and the `start.<field>` continuation keys of `_links.next`.
//!
//! The pages' rule, which the gateway applies too: `order_by=<field> [asc|desc]`, several
//! separated by commas, where the field is any field of the record (one inside an array too: the
//! pages list `sessions.identifier` among the connection's fields and exclude none from ordering)
//! and the direction is `asc` or `desc` as the pages write it, ascending when absent.
//!
//! Every sort ends with the collection's identity fields, so the order is total and a sort key
//! names exactly one position. A next link carries the last returned record's sort key, and the
//! next page starts strictly after it: records added or removed meanwhile neither repeat nor
//! shift the page boundary.

use std::cmp::Ordering as CmpOrdering;

use jiff::SignedDuration;
use serde_json::Value;

use crate::errors::{ApiError, Unexpected};
use crate::query::schema::{FieldSpec, FieldType, Schema, values_at};
use crate::time;

/// The parameter name, also the error target.
pub const PARAM: &str = "order_by";

/// Prefix of the continuation parameters in `_links.next`.
pub const START_PREFIX: &str = "start.";

/// Sort direction of one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Smallest first (the default).
    Asc,
    /// Largest first.
    Desc,
}

/// One field of the sort, with its direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SortField {
    /// The field sorted on.
    pub field: &'static FieldSpec,
    /// Its direction.
    pub direction: Direction,
}

/// The complete sort: requested fields, then the identity fields not already requested.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    fields: Vec<SortField>,
}

/// A field's value in a sort key; missing values sort first (ascending).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortValue {
    /// The field is absent or null.
    Null,
    /// An integer field.
    Int(i128),
    /// A string field.
    Str(String),
    /// A boolean field.
    Bool(bool),
    /// A timestamp field, in seconds since the epoch.
    Time(i64),
    /// A duration field.
    Duration(SignedDuration),
}

/// The values of a record's sort fields, in sort order.
pub type SortKey = Vec<SortValue>;

impl Order {
    /// Parses every `order_by` value (comma-separated, repeatable): `field [asc|desc]`, the
    /// direction in lowercase as the pages write it. Without any, the schema's default order
    /// applies.
    pub fn parse(schema: &Schema, values: &[String]) -> Result<Order, ApiError> {
        let requested = values
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .any(|item| !item.is_empty());
        let defaults: Vec<String>;
        let values = if requested {
            values
        } else {
            defaults = schema
                .default_order
                .iter()
                .map(|v| (*v).to_owned())
                .collect();
            &defaults
        };
        let mut fields: Vec<SortField> = Vec::new();
        for item in values.iter().flat_map(|v| v.split(',')).map(str::trim) {
            if item.is_empty() {
                continue;
            }
            let mut words = item.split_whitespace();
            let name = words.next().unwrap_or_default();
            let direction = match (words.next(), words.next()) {
                (None, _) | (Some("asc"), None) => Direction::Asc,
                (Some("desc"), None) => Direction::Desc,
                _ => {
                    return Err(ApiError::invalid_value(
                        PARAM,
                        item,
                        "expected \"<field> [asc|desc]\"",
                    ));
                }
            };
            let Some(field) = schema.field(name) else {
                return Err(ApiError::invalid_value(PARAM, name, "no such field"));
            };
            if !fields.iter().any(|f| f.field.path == field.path) {
                fields.push(SortField { field, direction });
            }
        }
        for path in schema.identity {
            if fields.iter().any(|f| f.field.path == *path) {
                continue;
            }
            if let Some(field) = schema.field(path) {
                fields.push(SortField {
                    field,
                    direction: Direction::Asc,
                });
            }
        }
        Ok(Order { fields })
    }

    /// The record's sort key. A field inside an array has one value per element; the record
    /// sorts by the one that comes first in the field's direction (the smallest ascending, the
    /// largest descending), so the record holding the first value comes first.
    pub fn key_of(&self, record: &Value) -> SortKey {
        self.fields
            .iter()
            .map(|f| {
                let values = values_at(record, f.field.path)
                    .into_iter()
                    .map(|v| sort_value(v, f.field.ty))
                    .filter(|v| *v != SortValue::Null);
                let first = match f.direction {
                    Direction::Asc => values.min(),
                    Direction::Desc => values.max(),
                };
                first.unwrap_or(SortValue::Null)
            })
            .collect()
    }

    /// Compares two sort keys taking each field's direction into account.
    pub fn compare(&self, a: &SortKey, b: &SortKey) -> CmpOrdering {
        for ((field, x), y) in self.fields.iter().zip(a).zip(b) {
            let ordering = match field.direction {
                Direction::Asc => x.cmp(y),
                Direction::Desc => y.cmp(x),
            };
            if ordering != CmpOrdering::Equal {
                return ordering;
            }
        }
        CmpOrdering::Equal
    }

    /// Reads the `start.<field>` parameters (field path, value) back into a sort key; `None`
    /// when there are none. A sort field without a start parameter was null.
    pub fn parse_start(&self, start: &[(String, String)]) -> Result<Option<SortKey>, ApiError> {
        if start.is_empty() {
            return Ok(None);
        }
        for (path, _) in start {
            if !self.fields.iter().any(|f| f.field.path == path) {
                return Err(ApiError::unexpected_argument(
                    &format!("{START_PREFIX}{path}"),
                    Unexpected::Unknown,
                ));
            }
        }
        self.fields
            .iter()
            .map(|f| {
                let Some((_, text)) = start.iter().rev().find(|(path, _)| path == f.field.path)
                else {
                    return Ok(SortValue::Null);
                };
                parse_sort_value(text, f.field.ty).ok_or_else(|| {
                    ApiError::invalid_value(
                        format!("{START_PREFIX}{}", f.field.path).as_str(),
                        text,
                        "not a value of that field",
                    )
                })
            })
            .collect::<Result<_, _>>()
            .map(Some)
    }

    /// The `start.<field>` parameters that continue after a record with this key.
    pub fn start_params(&self, key: &SortKey) -> Vec<(String, String)> {
        self.fields
            .iter()
            .zip(key)
            .filter_map(|(f, value)| {
                let text = match value {
                    SortValue::Null => return None,
                    SortValue::Int(i) => i.to_string(),
                    SortValue::Str(s) => s.clone(),
                    SortValue::Bool(b) => b.to_string(),
                    SortValue::Time(t) => time::format_rfc3339(*t),
                    SortValue::Duration(d) => d.to_string(),
                };
                Some((format!("{START_PREFIX}{}", f.field.path), text))
            })
            .collect()
    }
}

fn sort_value(value: &Value, ty: FieldType) -> SortValue {
    match (ty, value) {
        (_, Value::Null) => SortValue::Null,
        (FieldType::Integer, Value::Number(n)) => n
            .as_u64()
            .map(i128::from)
            .or_else(|| n.as_i64().map(i128::from))
            .map_or(SortValue::Null, SortValue::Int),
        (FieldType::Boolean, Value::Bool(b)) => SortValue::Bool(*b),
        (FieldType::DateTime, Value::String(s)) => {
            time::parse_timestamp(s).map_or(SortValue::Null, SortValue::Time)
        }
        (FieldType::Duration, Value::String(s)) => {
            time::parse_duration(s).map_or(SortValue::Null, SortValue::Duration)
        }
        (_, Value::String(s)) => SortValue::Str(s.clone()),
        (_, other) => SortValue::Str(other.to_string()),
    }
}

fn parse_sort_value(text: &str, ty: FieldType) -> Option<SortValue> {
    match ty {
        FieldType::Integer => text.parse().ok().map(SortValue::Int),
        FieldType::String => Some(SortValue::Str(text.to_owned())),
        FieldType::Boolean => text.parse().ok().map(SortValue::Bool),
        FieldType::DateTime => time::parse_timestamp(text).map(SortValue::Time),
        FieldType::Duration => time::parse_duration(text).map(SortValue::Duration),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FIELDS: &[FieldSpec] = &[
        FieldSpec::new("node.uuid", FieldType::String),
        FieldSpec::new("identifier", FieldType::Integer),
        FieldSpec::new("client_ip", FieldType::String),
        FieldSpec::new("client_port", FieldType::Integer),
        FieldSpec::new("sessions.identifier", FieldType::Integer).repeated(),
    ];

    const SCHEMA: Schema = Schema {
        path: "/api/x",
        fields: FIELDS,
        key_fields: &["node.uuid", "identifier"],
        default_fields: &[],
        identity: &["node.uuid", "identifier"],
        default_order: &[],
        parameters: &[],
        links: &[],
        path_keys: &[],
    };

    fn order(values: &[&str]) -> Result<Order, ApiError> {
        let values: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
        Order::parse(&SCHEMA, &values)
    }

    fn paths(order: &Order) -> Vec<(&'static str, Direction)> {
        order
            .fields
            .iter()
            .map(|f| (f.field.path, f.direction))
            .collect()
    }

    fn record(node: &str, identifier: u64, ip: &str, port: u64) -> Value {
        json!({
            "node": {"uuid": node},
            "identifier": identifier,
            "client_ip": ip,
            "client_port": port,
        })
    }

    #[test]
    fn default_order_is_the_identity_fields_ascending() {
        assert_eq!(
            paths(&order(&[]).expect("valid")),
            [
                ("node.uuid", Direction::Asc),
                ("identifier", Direction::Asc)
            ]
        );
    }

    #[test]
    fn requested_fields_come_before_identity_fields() {
        assert_eq!(
            paths(&order(&["client_ip desc"]).expect("valid")),
            [
                ("client_ip", Direction::Desc),
                ("node.uuid", Direction::Asc),
                ("identifier", Direction::Asc)
            ]
        );
    }

    #[test]
    fn comma_separated_and_repeated_order_by_combine() {
        let order = order(&["client_ip,client_port desc", "identifier desc"]).expect("valid");
        assert_eq!(
            paths(&order),
            [
                ("client_ip", Direction::Asc),
                ("client_port", Direction::Desc),
                ("identifier", Direction::Desc),
                ("node.uuid", Direction::Asc)
            ]
        );
    }

    #[test]
    fn unknown_field_is_rejected() {
        let error = order(&["bogus"]).expect_err("unknown");
        assert_eq!(error.target.as_deref(), Some("order_by"));
        assert!(error.message.contains("bogus"));
    }

    #[test]
    fn bad_direction_is_rejected() {
        assert!(order(&["client_ip sideways"]).is_err());
        assert!(order(&["client_ip asc desc"]).is_err());
    }

    #[test]
    fn directions_are_lowercase_as_the_pages_write_them() {
        assert!(order(&["client_ip asc", "client_port desc"]).is_ok());
        for upper in ["client_ip DESC", "client_ip Asc", "client_ip ASC"] {
            let error = order(&[upper]).expect_err(upper);
            assert_eq!(error.target.as_deref(), Some("order_by"), "{upper}");
        }
    }

    fn with_sessions(identifier: u64, sessions: &[u64]) -> Value {
        let sessions: Vec<Value> = sessions
            .iter()
            .map(|id| json!({ "identifier": id }))
            .collect();
        json!({"node": {"uuid": "a"}, "identifier": identifier, "sessions": sessions})
    }

    #[test]
    fn array_field_orders_by_its_smallest_element_ascending() {
        let order = order(&["sessions.identifier"]).expect("orderable");
        let low = order.key_of(&with_sessions(1, &[9, 2]));
        let high = order.key_of(&with_sessions(2, &[5, 3]));
        assert_eq!(order.compare(&low, &high), CmpOrdering::Less);
        let none = order.key_of(&with_sessions(3, &[]));
        assert_eq!(order.compare(&none, &low), CmpOrdering::Less);
    }

    #[test]
    fn array_field_orders_by_its_largest_element_descending() {
        let order = order(&["sessions.identifier desc"]).expect("orderable");
        let high = order.key_of(&with_sessions(1, &[9, 2]));
        let low = order.key_of(&with_sessions(2, &[5, 8]));
        assert_eq!(order.compare(&high, &low), CmpOrdering::Less);
    }

    #[test]
    fn array_field_start_key_round_trips() {
        let order = order(&["sessions.identifier desc"]).expect("orderable");
        let key = order.key_of(&with_sessions(7, &[625_718_873_227_788_312, 4]));
        let params: Vec<(String, String)> = order
            .start_params(&key)
            .into_iter()
            .map(|(name, value)| (name[START_PREFIX.len()..].to_owned(), value))
            .collect();
        assert!(params.contains(&(
            "sessions.identifier".to_owned(),
            "625718873227788312".to_owned()
        )));
        assert_eq!(order.parse_start(&params).expect("valid"), Some(key));
    }

    const TIMED_FOR: Schema = Schema {
        path: "/api/x",
        fields: &[
            FieldSpec::new("duration", FieldType::Duration),
            FieldSpec::new("identifier", FieldType::Integer),
        ],
        key_fields: &["identifier"],
        default_fields: &[],
        identity: &["identifier"],
        default_order: &[],
        parameters: &[],
        links: &[],
        path_keys: &[],
    };

    #[test]
    fn durations_sort_by_length_and_round_trip_as_start_keys() {
        let order = Order::parse(&TIMED_FOR, &["duration".to_owned()]).expect("valid");
        let half_hour = order.key_of(&json!({"duration": "PT30M", "identifier": 1}));
        let two_hours = order.key_of(&json!({"duration": "PT2H", "identifier": 2}));
        assert_eq!(order.compare(&half_hour, &two_hours), CmpOrdering::Less);
        let params: Vec<(String, String)> = order
            .start_params(&two_hours)
            .into_iter()
            .map(|(name, value)| (name[START_PREFIX.len()..].to_owned(), value))
            .collect();
        assert_eq!(order.parse_start(&params).expect("valid"), Some(two_hours));
    }

    #[test]
    fn integer_fields_sort_numerically() {
        let order = order(&["client_port"]).expect("valid");
        let small = order.key_of(&record("a", 1, "x", 9));
        let large = order.key_of(&record("a", 2, "x", 10));
        assert_eq!(order.compare(&small, &large), CmpOrdering::Less);
    }

    #[test]
    fn descending_reverses_the_field() {
        let order = order(&["client_ip desc"]).expect("valid");
        let a = order.key_of(&record("a", 1, "10.1", 1));
        let b = order.key_of(&record("a", 2, "10.2", 1));
        assert_eq!(order.compare(&a, &b), CmpOrdering::Greater);
    }

    #[test]
    fn ties_are_broken_by_identity_fields() {
        let order = order(&["client_ip"]).expect("valid");
        let a = order.key_of(&record("a", 1, "same", 1));
        let b = order.key_of(&record("a", 2, "same", 1));
        assert_eq!(order.compare(&a, &b), CmpOrdering::Less);
    }

    #[test]
    fn start_params_round_trip_through_parse_start() {
        let order = order(&["client_port desc"]).expect("valid");
        let key = order.key_of(&record("n1", 625_718_873_227_788_312, "ip", 445));
        let params: Vec<(String, String)> = order
            .start_params(&key)
            .into_iter()
            .map(|(name, value)| (name[START_PREFIX.len()..].to_owned(), value))
            .collect();
        assert_eq!(order.parse_start(&params).expect("valid"), Some(key));
    }

    #[test]
    fn start_on_a_field_outside_the_sort_is_unexpected() {
        let order = order(&[]).expect("valid");
        let error = order
            .parse_start(&[("client_ip".to_owned(), "x".to_owned())])
            .expect_err("not a sort field");
        assert_eq!(error.target.as_deref(), Some("start.client_ip"));
    }

    #[test]
    fn start_with_a_non_integer_for_an_integer_field_is_invalid() {
        let order = order(&[]).expect("valid");
        let error = order
            .parse_start(&[("identifier".to_owned(), "x".to_owned())])
            .expect_err("bad value");
        assert_eq!(error.code.as_deref(), Some("262197"));
    }

    const TIMED: Schema = Schema {
        path: "/api/x",
        fields: &[FieldSpec::new("timestamp", FieldType::DateTime)],
        key_fields: &["timestamp"],
        default_fields: &[],
        identity: &["timestamp"],
        default_order: &["timestamp desc"],
        parameters: &[],
        links: &[],
        path_keys: &[],
    };

    #[test]
    fn default_order_applies_without_order_by() {
        let order = Order::parse(&TIMED, &[]).expect("valid");
        assert_eq!(paths(&order), [("timestamp", Direction::Desc)]);
        let order = Order::parse(&TIMED, &["timestamp".to_owned()]).expect("valid");
        assert_eq!(paths(&order), [("timestamp", Direction::Asc)]);
    }

    #[test]
    fn timestamps_sort_as_instants_and_round_trip_as_start_keys() {
        let order = Order::parse(&TIMED, &[]).expect("valid");
        let early = order.key_of(&json!({"timestamp": "2026-01-01T00:30:00Z"}));
        let late = order.key_of(&json!({"timestamp": "2026-01-01T00:00:15-01:00"}));
        assert_eq!(order.compare(&late, &early), CmpOrdering::Less);
        let params = order.start_params(&late);
        assert_eq!(
            params,
            [(
                "start.timestamp".to_owned(),
                "2026-01-01T01:00:15Z".to_owned()
            )]
        );
        let start = [("timestamp".to_owned(), params[0].1.clone())];
        assert_eq!(order.parse_start(&start).expect("valid"), Some(late));
    }

    #[test]
    fn missing_values_sort_first() {
        let order = order(&["client_ip"]).expect("valid");
        let missing = order.key_of(&json!({"node": {"uuid": "a"}, "identifier": 1}));
        let present = order.key_of(&record("a", 2, "10.0.0.1", 1));
        assert_eq!(order.compare(&missing, &present), CmpOrdering::Less);
    }
}
