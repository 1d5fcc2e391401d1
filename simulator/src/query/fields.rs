//! The `fields` parameter: which parts of each record a response carries.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::errors::ApiError;
use crate::query::schema::Schema;

/// The parameter name, also the error target.
pub const PARAM: &str = "fields";

/// The selected leaf fields, as a tree mirroring the record's shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    tree: Tree,
}

type Tree = BTreeMap<String, Branch>;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Branch {
    Leaf,
    Inner(Tree),
}

impl Selection {
    /// Parses every `fields` value (each comma-separated, the parameter repeatable); key fields
    /// are always selected. `*` adds ordinary fields, `**` every field, a name adds that leaf or
    /// every leaf under that object, expensive ones included since they were asked for by name.
    /// Without any, the schema's default fields apply.
    pub fn parse(schema: &Schema, values: &[String]) -> Result<Selection, ApiError> {
        Selection::parse_or(schema, values, schema.default_fields)
    }

    /// [`Selection::parse`] with another default, for a GET of one object, which ONTAP answers
    /// with every ordinary field (`*`) rather than only the key fields.
    pub fn parse_or(
        schema: &Schema,
        values: &[String],
        default: &[&str],
    ) -> Result<Selection, ApiError> {
        let mut leaves: BTreeSet<&'static str> = schema.key_fields.iter().copied().collect();
        let mut items: Vec<&str> = values
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .collect();
        if items.is_empty() {
            items = default.to_vec();
        }
        for item in items {
            match item {
                "*" => leaves.extend(
                    schema
                        .fields
                        .iter()
                        .filter(|f| !f.expensive)
                        .map(|f| f.path),
                ),
                "**" => leaves.extend(schema.fields.iter().map(|f| f.path)),
                name => {
                    let mut under = schema.fields_under(name).peekable();
                    if under.peek().is_none() {
                        return Err(ApiError::invalid_value(PARAM, name, "no such field"));
                    }
                    leaves.extend(under.map(|f| f.path));
                }
            }
        }
        Ok(Selection::from_leaves(leaves))
    }

    fn from_leaves(leaves: BTreeSet<&'static str>) -> Selection {
        let mut tree = Tree::new();
        for path in leaves {
            insert(&mut tree, path);
        }
        Selection { tree }
    }

    /// The record cut down to the selected fields; absent fields stay absent.
    pub fn project(&self, record: &Value) -> Value {
        project(record, &self.tree)
    }
}

fn insert(tree: &mut Tree, path: &str) {
    match path.split_once('.') {
        None => {
            tree.insert(path.to_owned(), Branch::Leaf);
        }
        Some((head, rest)) => {
            let branch = tree
                .entry(head.to_owned())
                .or_insert_with(|| Branch::Inner(Tree::new()));
            if let Branch::Inner(subtree) = branch {
                insert(subtree, rest);
            }
        }
    }
}

fn project(value: &Value, tree: &Tree) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, branch) in tree {
                if let Some(member) = map.get(key) {
                    let kept = match branch {
                        Branch::Leaf => member.clone(),
                        Branch::Inner(subtree) => project(member, subtree),
                    };
                    out.insert(key.clone(), kept);
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|item| project(item, tree)).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::schema::{FieldSpec, FieldType};
    use serde_json::json;

    const FIELDS: &[FieldSpec] = &[
        FieldSpec::new("node.uuid", FieldType::String),
        FieldSpec::new("node.name", FieldType::String),
        FieldSpec::new("identifier", FieldType::Integer),
        FieldSpec::new("client_ip", FieldType::String),
        FieldSpec::new("sessions.identifier", FieldType::Integer).repeated(),
        FieldSpec::new("metric.iops", FieldType::Integer).expensive(),
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

    fn record() -> Value {
        json!({
            "node": {"uuid": "u1", "name": "node1"},
            "identifier": 7,
            "client_ip": "10.0.0.1",
            "sessions": [{"identifier": 1}, {"identifier": 2}],
            "metric": {"iops": 5},
        })
    }

    fn project(fields: &[&str]) -> Result<Value, ApiError> {
        let values: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        Ok(Selection::parse(&SCHEMA, &values)?.project(&record()))
    }

    #[test]
    fn no_fields_returns_only_key_fields() {
        assert_eq!(
            project(&[]).expect("valid"),
            json!({"node": {"uuid": "u1"}, "identifier": 7})
        );
    }

    #[test]
    fn named_leaf_is_added_to_key_fields() {
        assert_eq!(
            project(&["client_ip"]).expect("valid"),
            json!({"node": {"uuid": "u1"}, "identifier": 7, "client_ip": "10.0.0.1"})
        );
    }

    #[test]
    fn object_name_selects_every_leaf_under_it() {
        assert_eq!(
            project(&["node"]).expect("valid")["node"],
            json!({"uuid": "u1", "name": "node1"})
        );
    }

    #[test]
    fn array_leaf_is_projected_in_every_element() {
        assert_eq!(
            project(&["sessions.identifier"]).expect("valid")["sessions"],
            json!([{"identifier": 1}, {"identifier": 2}])
        );
    }

    #[test]
    fn star_returns_ordinary_fields_but_not_expensive_ones() {
        let projected = project(&["*"]).expect("valid");
        assert_eq!(projected["client_ip"], "10.0.0.1");
        assert!(projected.get("metric").is_none());
    }

    #[test]
    fn double_star_returns_expensive_fields_too() {
        assert_eq!(
            project(&["**"]).expect("valid")["metric"],
            json!({"iops": 5})
        );
    }

    #[test]
    fn expensive_field_named_explicitly_is_returned() {
        assert_eq!(
            project(&["metric"]).expect("valid")["metric"],
            json!({"iops": 5})
        );
    }

    #[test]
    fn comma_separated_and_repeated_values_combine() {
        let projected = project(&["client_ip,node.name", "sessions"]).expect("valid");
        assert_eq!(projected["node"]["name"], "node1");
        assert_eq!(projected["client_ip"], "10.0.0.1");
        assert!(projected.get("sessions").is_some());
    }

    #[test]
    fn unknown_field_is_an_invalid_value_for_fields() {
        let error = project(&["client_ip,bogus"]).expect_err("unknown field");
        assert_eq!(error.code.as_deref(), Some("262197"));
        assert_eq!(error.target.as_deref(), Some("fields"));
        assert!(error.message.contains("bogus"));
    }

    #[test]
    fn default_applies_only_without_fields() {
        let defaulted = Selection::parse_or(&SCHEMA, &[], &["*"])
            .expect("valid")
            .project(&record());
        assert_eq!(defaulted["client_ip"], "10.0.0.1");
        assert!(defaulted.get("metric").is_none());
        let asked = Selection::parse_or(&SCHEMA, &["sessions".to_owned()], &["*"])
            .expect("valid")
            .project(&record());
        assert!(asked.get("client_ip").is_none());
    }

    #[test]
    fn prefix_that_is_not_a_whole_segment_is_unknown() {
        assert!(project(&["nod"]).is_err());
    }
}
