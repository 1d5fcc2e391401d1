//! The key of one record, read from its instance path as the schema's [`Schema::path_keys`]
//! describe it, so finding a record by its path is the same for every resource that has one.
//!
//! Each segment is percent-decoded (`lif%5Fa` is `lif_a`, an encoded `/` stays inside its
//! segment) and read as its field's type: integers exactly as `i128`, so every u64 session
//! identifier survives; anything else as text.

use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::errors::ApiError;
use crate::query::schema::{FieldSpec, FieldType, Schema, values_at};

/// One key field's value from a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyValue {
    /// An integer field's value.
    Int(i128),
    /// Any other field's value.
    Text(String),
}

/// The key fields of one record, in path order, with the values the path gives them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    parts: Vec<(&'static FieldSpec, KeyValue)>,
}

impl Key {
    /// Reads the key from a request path (as sent, still percent-encoded). The router only
    /// routes paths with the right number of segments here; a segment that is not valid
    /// UTF-8 once decoded, or not an integer where the field is one, is an invalid value of
    /// its field (400), since no record could have it.
    pub fn parse(schema: &Schema, path: &str) -> Result<Key, ApiError> {
        let rest = path
            .strip_prefix(schema.path)
            .and_then(|rest| rest.strip_prefix('/'))
            .ok_or_else(ApiError::not_found)?;
        let segments: Vec<&str> = rest.split('/').collect();
        if segments.len() != schema.path_keys.len() {
            return Err(ApiError::not_found());
        }
        let parts = schema
            .path_keys
            .iter()
            .zip(segments)
            .map(|(name, segment)| {
                let field = schema.field(name).ok_or_else(ApiError::not_found)?;
                Ok((field, read(field, segment)?))
            })
            .collect::<Result<_, ApiError>>()?;
        Ok(Key { parts })
    }

    /// The text a string key field was given; `None` for an integer or undeclared field.
    pub fn text(&self, field: &str) -> Option<&str> {
        self.value(field).and_then(|value| match value {
            KeyValue::Text(text) => Some(text.as_str()),
            KeyValue::Int(_) => None,
        })
    }

    /// The number an integer key field was given; `None` for a string or undeclared field.
    pub fn int(&self, field: &str) -> Option<i128> {
        self.value(field).and_then(|value| match value {
            KeyValue::Int(number) => Some(*number),
            KeyValue::Text(_) => None,
        })
    }

    fn value(&self, field: &str) -> Option<&KeyValue> {
        self.parts
            .iter()
            .find(|(spec, _)| spec.path == field)
            .map(|(_, value)| value)
    }

    /// Whether `record` (a full, rendered record) has exactly this key.
    pub fn matches(&self, record: &Value) -> bool {
        self.parts.iter().all(|(field, wanted)| {
            let found = values_at(record, field.path);
            match (found.first(), wanted) {
                (Some(Value::String(text)), KeyValue::Text(wanted)) => text == wanted,
                (Some(Value::Number(number)), KeyValue::Int(wanted)) => {
                    number
                        .as_u64()
                        .map(i128::from)
                        .or_else(|| number.as_i64().map(i128::from))
                        == Some(*wanted)
                }
                _ => false,
            }
        })
    }

    /// The one record among `records` with this key.
    pub fn find(&self, records: impl IntoIterator<Item = Value>) -> Option<Value> {
        records.into_iter().find(|record| self.matches(record))
    }
}

fn read(field: &FieldSpec, segment: &str) -> Result<KeyValue, ApiError> {
    let text = percent_decode_str(segment)
        .decode_utf8()
        .map_err(|_| ApiError::invalid_value(field.path, segment, "not UTF-8 once decoded"))?;
    match field.ty {
        FieldType::Integer => text
            .parse::<i128>()
            .map(KeyValue::Int)
            .map_err(|_| ApiError::invalid_value(field.path, &text, "expected an integer")),
        _ => Ok(KeyValue::Text(text.into_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SCHEMA: Schema = Schema {
        path: "/api/things",
        fields: &[
            FieldSpec::new("svm.uuid", FieldType::String),
            FieldSpec::new("group", FieldType::String),
            FieldSpec::new("tsih", FieldType::Integer),
        ],
        key_fields: &[],
        default_fields: &[],
        identity: &[],
        default_order: &[],
        parameters: &[],
        links: &[],
        path_keys: &["svm.uuid", "group", "tsih"],
    };

    #[test]
    fn segments_are_percent_decoded_and_read_as_their_fields_type() {
        let key =
            Key::parse(&SCHEMA, "/api/things/s1/lif%5Fa%2Fb/18446744073709551615").expect("valid");
        assert_eq!(key.text("svm.uuid"), Some("s1"));
        assert_eq!(key.text("group"), Some("lif_a/b"));
        assert_eq!(key.int("tsih"), Some(i128::from(u64::MAX)));
        assert_eq!(key.int("group"), None);
    }

    #[test]
    fn a_non_integer_where_an_integer_belongs_is_an_invalid_value_of_that_field() {
        let error = Key::parse(&SCHEMA, "/api/things/s1/g/ten").expect_err("not an integer");
        assert_eq!(error.code.as_deref(), Some("262197"));
        assert_eq!(error.target.as_deref(), Some("tsih"));
    }

    #[test]
    fn a_record_matches_only_with_every_key_field_equal() {
        let key = Key::parse(&SCHEMA, "/api/things/s1/g/7").expect("valid");
        assert!(key.matches(&json!({"svm": {"uuid": "s1"}, "group": "g", "tsih": 7})));
        assert!(!key.matches(&json!({"svm": {"uuid": "s1"}, "group": "g", "tsih": 8})));
        assert!(!key.matches(&json!({"svm": {"uuid": "s1"}, "group": "g", "tsih": "7"})));
        assert!(!key.matches(&json!({"group": "g", "tsih": 7})));
    }

    #[test]
    fn a_path_with_another_number_of_segments_names_nothing() {
        let error = Key::parse(&SCHEMA, "/api/things/s1/g").expect_err("short");
        assert_eq!(error.code.as_deref(), Some("4"));
    }
}
