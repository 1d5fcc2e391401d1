//! `GET /api/cluster`: the cluster's name, UUID and ONTAP release, which a client reads once to
//! say what it is talking to and to know which endpoints it may use.

use axum::extract::State;
use axum::response::Response;
use http::{HeaderMap, Uri};
use serde_json::{Value, json};

use crate::query::instance;
use crate::query::schema::{FieldSpec, FieldType, LinkSpec, Schema};
use crate::resources::model::{Cluster, SharedCluster};

/// Path of the cluster object.
pub const PATH: &str = "/api/cluster";

/// The part of ONTAP's cluster object the simulator models; the rest (contact, location, DNS,
/// management interfaces, performance) is left out, and asking for it is an unknown field.
const FIELDS: &[FieldSpec] = &[
    FieldSpec::new("name", FieldType::String),
    FieldSpec::new("uuid", FieldType::String),
    FieldSpec::new("version.full", FieldType::String),
    FieldSpec::new("version.generation", FieldType::Integer),
    FieldSpec::new("version.major", FieldType::Integer),
    FieldSpec::new("version.minor", FieldType::Integer),
];

/// `_links.self` of the cluster: the object's own path, since there is only one.
const SELF_LINK: LinkSpec = LinkSpec {
    object: "",
    href: self_href,
};

/// The cluster object. It is one object, not a collection, so it has no key fields: `fields`
/// alone decides what comes back.
pub const SCHEMA: Schema = Schema {
    path: PATH,
    fields: FIELDS,
    key_fields: &[],
    default_fields: &[],
    identity: &[],
    default_order: &[],
    parameters: &[],
    links: &[SELF_LINK],
    path_keys: &[],
};

fn self_href(_: &Value, _: &Value) -> Option<String> {
    Some(PATH.to_owned())
}

/// Retrieves the cluster.
pub async fn get(State(cluster): State<SharedCluster>, uri: Uri, headers: HeaderMap) -> Response {
    instance::get(&SCHEMA, &uri, &headers, || {
        Ok(cluster.with(|c| cluster_json(c)))
    })
}

/// The cluster with every field the simulator models.
fn cluster_json(cluster: &Cluster) -> Value {
    json!({
        "name": cluster.name,
        "uuid": cluster.uuid,
        "version": {
            "full": cluster.version.full,
            "generation": cluster.version.generation,
            "major": cluster.version.major,
            "minor": cluster.version.minor,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::media::Media;
    use crate::query::collection;
    use crate::query::fields::Selection;

    fn rendered(fields: &[&str], media: Media) -> Value {
        let values: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        let selection = Selection::parse_or(&SCHEMA, &values, &["*"]).expect("valid fields");
        collection::render(&SCHEMA, &selection, &cluster_json(&Cluster::seed()), media)
    }

    #[test]
    fn every_declared_field_is_rendered_and_star_selects_the_whole_record() {
        let record = cluster_json(&Cluster::seed());
        for field in SCHEMA.fields {
            assert_eq!(
                crate::query::schema::values_at(&record, field.path).len(),
                1,
                "{}",
                field.path
            );
        }
        assert_eq!(rendered(&["*"], Media::Json), record);
    }

    #[test]
    fn version_and_name_come_with_the_self_link_and_nothing_else() {
        assert_eq!(
            rendered(&["version,name"], Media::Hal),
            json!({
                "name": "cluster1",
                "version": {
                    "full": "NetApp Release 9.14.1: Mon Jan 01 00:00:00 UTC 2024",
                    "generation": 9,
                    "major": 14,
                    "minor": 1,
                },
                "_links": {"self": {"href": "/api/cluster"}},
            })
        );
    }

    #[test]
    fn plain_json_leaves_the_self_link_out() {
        assert!(rendered(&["name"], Media::Json).get("_links").is_none());
    }
}
