//! GET of one object: the collection's schema, `fields` and HAL links, without the collection
//! envelope. ONTAP answers it with every ordinary field unless `fields` says otherwise.
//!
//! For a collection whose records have paths of their own ([`Schema::path_keys`]),
//! [`get_keyed`] reads the key from the path, so a resource only says how to find a record by
//! its key; a key that names no record is ONTAP's 404 "entry doesn't exist" (code 4).

use axum::response::Response;
use http::{HeaderMap, StatusCode, Uri};
use serde_json::Value;

use crate::errors::{ApiError, Unexpected};
use crate::http::media::Media;
use crate::http::params;
use crate::query::collection;
use crate::query::fields::{self, Selection};
use crate::query::key::Key;
use crate::query::schema::Schema;

/// What a GET of one object returns without `fields`.
const DEFAULT_FIELDS: &[&str] = &["*"];

/// Answers a GET of one object. `fields` is the only query parameter, validated before `record`
/// runs; `record` renders the object with every field or says why it cannot.
pub fn get(
    schema: &Schema,
    uri: &Uri,
    headers: &HeaderMap,
    record: impl FnOnce() -> Result<Value, ApiError>,
) -> Response {
    let media = Media::from_headers(headers);
    let selection = match parse(schema, uri) {
        Ok(selection) => selection,
        Err(error) => return error.into_response_as(media),
    };
    match record() {
        Ok(record) => media.respond(
            StatusCode::OK,
            &collection::render(schema, &selection, &record, media),
        ),
        Err(error) => error.into_response_as(media),
    }
}

/// Answers a GET of one record named by its path: `fields` first, then the key the path gives
/// (see [`Key::parse`]), then `find`, which renders the record with that key with every field,
/// says there is none (404, code 4), or fails for a reason of its own (a missing parent).
pub fn get_keyed(
    schema: &Schema,
    uri: &Uri,
    headers: &HeaderMap,
    find: impl FnOnce(&Key) -> Result<Option<Value>, ApiError>,
) -> Response {
    get(schema, uri, headers, || {
        let key = Key::parse(schema, uri.path())?;
        find(&key)?.ok_or_else(ApiError::not_found)
    })
}

fn parse(schema: &Schema, uri: &Uri) -> Result<Selection, ApiError> {
    let mut values = Vec::new();
    for (name, value) in params::decode(uri.query()) {
        if name != fields::PARAM {
            return Err(ApiError::unexpected_argument(&name, Unexpected::Unknown));
        }
        values.push(value);
    }
    Selection::parse_or(schema, &values, DEFAULT_FIELDS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::schema::{FieldSpec, FieldType, SVM_LINK};
    use serde_json::json;

    const SCHEMA: Schema = Schema {
        path: "/api/things",
        fields: &[
            FieldSpec::new("svm.uuid", FieldType::String),
            FieldSpec::new("colour", FieldType::String),
            FieldSpec::new("cost", FieldType::Integer).expensive(),
        ],
        key_fields: &["svm.uuid"],
        default_fields: &[],
        identity: &["svm.uuid"],
        default_order: &[],
        parameters: &[],
        links: &[SVM_LINK],
        path_keys: &["svm.uuid"],
    };

    fn uri(query: &str) -> Uri {
        format!("/api/things/1?{query}").parse().expect("uri")
    }

    #[test]
    fn without_fields_every_ordinary_field_is_selected() {
        let selection = parse(&SCHEMA, &uri("")).expect("valid");
        let record = json!({"svm": {"uuid": "s"}, "colour": "red", "cost": 3});
        let rendered = collection::render(&SCHEMA, &selection, &record, Media::Hal);
        assert_eq!(
            rendered,
            json!({
                "svm": {"uuid": "s", "_links": {"self": {"href": "/api/svm/svms/s"}}},
                "colour": "red",
                "_links": {"self": {"href": "/api/things/s"}},
            })
        );
    }

    fn get_keyed_status(path: &str, record: Value) -> (StatusCode, Value) {
        let uri: Uri = path.parse().expect("uri");
        let response = get_keyed(&SCHEMA, &uri, &HeaderMap::new(), |key| {
            Ok(key.find([record]))
        });
        let status = response.status();
        let body = futures_util::FutureExt::now_or_never(axum::body::to_bytes(
            response.into_body(),
            usize::MAX,
        ))
        .expect("a ready body")
        .expect("a body");
        (status, serde_json::from_slice(&body).expect("JSON"))
    }

    #[test]
    fn a_keyed_get_renders_the_record_its_path_names() {
        let record = json!({"svm": {"uuid": "s"}, "colour": "red"});
        let (status, body) = get_keyed_status("/api/things/s?fields=colour", record);
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["colour"], "red");
        assert_eq!(body["_links"]["self"]["href"], "/api/things/s");
    }

    #[test]
    fn a_keyed_get_of_a_key_no_record_has_is_404_code_4() {
        let record = json!({"svm": {"uuid": "s"}});
        let (status, body) = get_keyed_status("/api/things/t", record);
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["code"], "4");
    }

    #[test]
    fn parameters_other_than_fields_are_unexpected() {
        let error = parse(&SCHEMA, &uri("max_records=1")).expect_err("unexpected");
        assert_eq!(error.code.as_deref(), Some("262179"));
        assert_eq!(error.target.as_deref(), Some("max_records"));
    }
}
