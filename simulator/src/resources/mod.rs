//! What the simulator serves: the cluster model behind every endpoint, the seed cluster and its
//! sizing, the churn that opens and closes CIFS connections and sessions over simulated time,
//! and the endpoints themselves (the cluster's identity and release; CIFS connections and
//! sessions; iSCSI services, their request bodies, their performance history, and the sessions
//! logged in to them).

#[macro_use]
mod words;

pub mod churn;
pub mod cifs;
pub mod cifs_sessions;
pub mod cluster;
pub mod iscsi;
pub mod model;
pub mod request;
pub(crate) mod seed;
pub mod svms;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::schema::Schema;

    /// Every collection and object the simulator serves.
    const SCHEMAS: &[&Schema] = &[
        &cluster::SCHEMA,
        &cifs::SCHEMA,
        &cifs_sessions::SCHEMA,
        &iscsi::SCHEMA,
        &iscsi::sessions::SCHEMA,
        &iscsi::metrics::SCHEMA,
        &svms::SCHEMA,
    ];

    #[test]
    fn every_key_identity_and_path_field_is_a_declared_field() {
        for schema in SCHEMAS {
            let named = schema.key_fields.iter().chain(schema.identity);
            for path in named.chain(schema.path_keys) {
                assert!(schema.field(path).is_some(), "{}: {path}", schema.path);
            }
        }
    }
}
