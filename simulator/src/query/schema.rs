//! Declarative description of a collection endpoint and of its records' own paths.
//!
//! The collection engine knows nothing about CIFS or iSCSI: an endpoint declares its fields, its
//! key fields, its links and the key fields its instance path names here, renders its records as
//! JSON, and gets ONTAP's filters, `fields`, `order_by`, paging, instance GET (see
//! [`crate::query::key`]) and HAL self links for free. A new read-only resource is a [`Schema`]
//! plus the model logic that renders its records and finds one by its key.

use percent_encoding::utf8_percent_encode;
use serde_json::Value;

use crate::http::params::COMPONENT;

/// How a field's values compare and how query operands for it parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// Compared as integers (wide enough for u64 session identifiers).
    Integer,
    /// Compared lexically.
    String,
    /// `true` / `false`; equality only.
    Boolean,
    /// A timestamp, rendered in RFC 3339 (`2017-01-25T11:20:13Z`) as clusters send it; filters and
    /// `order_by` compare instants, not text, so an operand may be in either the pages' form
    /// (`2017-01-25 11:20:13 +0000`) or RFC 3339, with any offset.
    DateTime,
    /// An ISO 8601 duration (`PT15S`, `P1D`); filters and `order_by` compare lengths of time, not
    /// text, so `PT2H` is longer than `PT30M` and equal to `PT120M`.
    Duration,
}

/// One leaf field of a record, named by its dotted path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    /// Dotted path, e.g. `node.uuid` or `sessions.identifier`.
    pub path: &'static str,
    /// Type used for comparisons and parsing.
    pub ty: FieldType,
    /// The leaf lives inside an array: a filter matches when any element matches, and ordering
    /// by it orders by the smallest element ascending, the largest descending.
    pub repeated: bool,
    /// Costly for ONTAP to compute, so returned only when asked for by name or with `fields=**`.
    pub expensive: bool,
    /// The documented minLength and maxLength of the field's values, in characters; each operand
    /// of a filter on the field must keep within them.
    pub length: Option<(usize, usize)>,
    /// The documented minimum and maximum of an integer field; each operand of a filter on the
    /// field must keep within them.
    pub bounds: Option<(i128, i128)>,
    /// The documented enum values of a string field: each operand of a filter on the field that
    /// is not a wildcard pattern must be one of them (case-sensitive, as the pages' clients check).
    pub values: Option<&'static [&'static str]>,
}

impl FieldSpec {
    /// An ordinary single-valued field.
    pub const fn new(path: &'static str, ty: FieldType) -> FieldSpec {
        FieldSpec {
            path,
            ty,
            repeated: false,
            expensive: false,
            length: None,
            bounds: None,
            values: None,
        }
    }

    /// Bounds the field's integer values (see [`FieldSpec::bounds`]).
    pub const fn bounds(self, min: i128, max: i128) -> FieldSpec {
        FieldSpec {
            bounds: Some((min, max)),
            ..self
        }
    }

    /// Declares the field's enum values (see [`FieldSpec::values`]).
    pub const fn one_of(self, values: &'static [&'static str]) -> FieldSpec {
        FieldSpec {
            values: Some(values),
            ..self
        }
    }

    /// Bounds the length of the field's values (see [`FieldSpec::length`]).
    pub const fn length(self, min: usize, max: usize) -> FieldSpec {
        FieldSpec {
            length: Some((min, max)),
            ..self
        }
    }

    /// Marks the field as living inside an array.
    pub const fn repeated(self) -> FieldSpec {
        FieldSpec {
            repeated: true,
            ..self
        }
    }

    /// Marks the field as expensive (see [`FieldSpec::expensive`]).
    pub const fn expensive(self) -> FieldSpec {
        FieldSpec {
            expensive: true,
            ..self
        }
    }
}

/// A HAL `self` link on an object inside each record (or on the record itself). A record's own
/// link comes from [`Schema::path_keys`] instead, when it has a path of its own.
#[derive(Clone, Copy, Debug)]
pub struct LinkSpec {
    /// Dotted path of the object that gets `_links.self` (`""` = the record itself); the link
    /// is added only when the response carries that object. A path through arrays
    /// (`volumes`, `connections.interface`) links each element.
    pub object: &'static str,
    /// Builds the href from the full (unprojected) record and the (unprojected) object linked,
    /// one element at a time inside arrays: a link may need values from outside its object (a
    /// record's metrics link needs the record's SVM), or from its own element (a volume's UUID).
    /// `None` when it cannot be linked.
    pub href: fn(&Value, &Value) -> Option<String>,
}

/// `_links.self` on a nested node reference; every node-scoped record has one.
pub const NODE_LINK: LinkSpec = LinkSpec {
    object: "node",
    href: node_href,
};

/// `_links.self` on a nested SVM reference; every SVM-scoped record has one.
pub const SVM_LINK: LinkSpec = LinkSpec {
    object: "svm",
    href: svm_href,
};

fn node_href(_: &Value, node: &Value) -> Option<String> {
    Some(format!(
        "/api/cluster/nodes/{}",
        node.get("uuid")?.as_str()?
    ))
}

fn svm_href(_: &Value, svm: &Value) -> Option<String> {
    Some(format!("/api/svm/svms/{}", svm.get("uuid")?.as_str()?))
}

/// Everything the engine needs to know about one collection.
#[derive(Debug)]
pub struct Schema {
    /// Path of the collection, used for `_links.next`.
    pub path: &'static str,
    /// Every leaf field a record may carry.
    pub fields: &'static [FieldSpec],
    /// Fields returned whatever `fields` says (ONTAP's key fields).
    pub key_fields: &'static [&'static str],
    /// What a request without `fields` gets besides the key fields, written as `fields` values
    /// (`"*"` for every ordinary field); empty for ONTAP's usual key-fields-only default.
    pub default_fields: &'static [&'static str],
    /// Fields that together identify a record; they end every sort so that order is total and a
    /// continuation key names exactly one position.
    pub identity: &'static [&'static str],
    /// The sort of a request without `order_by`, written as `order_by` values
    /// (`"timestamp desc"`); empty to sort by the identity fields ascending.
    pub default_order: &'static [&'static str],
    /// Query parameters of the endpoint itself (not fields): the engine accepts them and carries
    /// them into `_links.next`; the endpoint reads and validates them.
    pub parameters: &'static [&'static str],
    /// HAL links on nested objects.
    pub links: &'static [LinkSpec],
    /// The key fields the path of one record names after [`Schema::path`], in the path's order
    /// (`{node.uuid}/{svm.uuid}/{identifier}/{connection_id}`); empty when records have no path
    /// of their own. Each segment is percent-decoded and read as its field's [`FieldType`]
    /// (integers exactly, whatever their width), and the same fields, encoded, make each
    /// record's `_links.self`.
    pub path_keys: &'static [&'static str],
}

impl Schema {
    /// The leaf field with exactly this path.
    pub fn field(&self, path: &str) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|f| f.path == path)
    }

    /// The leaf fields at or below `path` (a leaf, or an object such as `node`).
    pub fn fields_under<'a>(&self, path: &'a str) -> impl Iterator<Item = &'static FieldSpec> + 'a {
        self.fields.iter().filter(move |f| {
            f.path == path
                || (f.path.starts_with(path) && f.path.as_bytes().get(path.len()) == Some(&b'.'))
        })
    }

    /// The route of one record for the router: the collection path followed by one parameter
    /// per path key. `None` when records have no path of their own.
    pub fn instance_route(&self) -> Option<String> {
        if self.path_keys.is_empty() {
            return None;
        }
        let segments: String = (0..self.path_keys.len())
            .map(|i| format!("/{{key{i}}}"))
            .collect();
        Some(format!("{}{segments}", self.path))
    }

    /// The path of `record` (a full, unprojected record): the collection path followed by each
    /// path key's value, percent-encoded. `None` when records have no path of their own or the
    /// record lacks a key.
    pub fn instance_href(&self, record: &Value) -> Option<String> {
        if self.path_keys.is_empty() {
            return None;
        }
        let mut href = self.path.to_owned();
        for path in self.path_keys {
            let text = match values_at(record, path).first()? {
                Value::String(text) => text.clone(),
                Value::Number(number) => number.to_string(),
                _ => return None,
            };
            href.push('/');
            href.extend(utf8_percent_encode(&text, COMPONENT));
        }
        Some(href)
    }
}

/// The values at a dotted path, looking through arrays; empty when the path is absent.
pub fn values_at<'v>(value: &'v Value, path: &str) -> Vec<&'v Value> {
    let mut current = vec![value];
    for segment in path.split('.') {
        let mut next = Vec::new();
        for v in current {
            collect_member(v, segment, &mut next);
        }
        current = next;
    }
    let mut flat = Vec::new();
    for v in current {
        match v {
            Value::Array(items) => flat.extend(items.iter()),
            other => flat.push(other),
        }
    }
    flat
}

fn collect_member<'v>(value: &'v Value, key: &str, out: &mut Vec<&'v Value>) {
    match value {
        Value::Object(map) => {
            if let Some(member) = map.get(key) {
                out.push(member);
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_member(item, key, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FIELDS: &[FieldSpec] = &[
        FieldSpec::new("node.uuid", FieldType::String),
        FieldSpec::new("node.name", FieldType::String),
        FieldSpec::new("nodes", FieldType::String),
    ];

    const SCHEMA: Schema = Schema {
        path: "/api/x",
        fields: FIELDS,
        key_fields: &[],
        default_fields: &[],
        identity: &[],
        default_order: &[],
        parameters: &[],
        links: &[],
        path_keys: &[],
    };

    const KEYED: Schema = Schema {
        path: "/api/things",
        fields: &[
            FieldSpec::new("node.uuid", FieldType::String),
            FieldSpec::new("identifier", FieldType::Integer),
        ],
        path_keys: &["node.uuid", "identifier"],
        ..SCHEMA
    };

    #[test]
    fn instance_route_has_a_parameter_per_path_key() {
        assert_eq!(
            KEYED.instance_route().as_deref(),
            Some("/api/things/{key0}/{key1}")
        );
        assert_eq!(SCHEMA.instance_route(), None);
    }

    #[test]
    fn instance_href_encodes_each_key_and_keeps_u64_exact() {
        let record =
            json!({"node": {"uuid": "a b/c"}, "identifier": 9_876_543_210_987_654_321_u64});
        assert_eq!(
            KEYED.instance_href(&record).as_deref(),
            Some("/api/things/a%20b%2Fc/9876543210987654321")
        );
        assert_eq!(KEYED.instance_href(&json!({"identifier": 1})), None);
    }

    #[test]
    fn fields_under_an_object_stops_at_dot_boundaries() {
        let paths: Vec<_> = SCHEMA.fields_under("node").map(|f| f.path).collect();
        assert_eq!(paths, ["node.uuid", "node.name"]);
    }

    #[test]
    fn values_at_looks_through_arrays() {
        let record = json!({"sessions": [{"identifier": 1}, {"identifier": 2}]});
        let values = values_at(&record, "sessions.identifier");
        assert_eq!(values, [&json!(1), &json!(2)]);
    }

    #[test]
    fn values_at_a_missing_path_is_empty() {
        assert!(values_at(&json!({"a": 1}), "b.c").is_empty());
    }
}
