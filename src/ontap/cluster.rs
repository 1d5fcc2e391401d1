//! `GET /api/cluster`: the cheapest call that proves the URL, the
//! certificate and the credentials all work, and says which cluster and
//! ONTAP release the gateway is talking to.

use serde::Deserialize;

use super::client::OntapClient;
use super::error::OntapError;
use super::path::{ApiPath, CollectionPath};
use super::query::Query;
use crate::deadline::Deadline;

/// The cluster object: not a collection, but a fixed path all the same.
const CLUSTER: CollectionPath = ApiPath::collection("/api/cluster");

/// Which cluster answered.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ClusterIdentity {
    /// The cluster's name.
    pub name: String,
    /// Its ONTAP release.
    pub version: Version,
}

impl super::Decoded for ClusterIdentity {}

/// An ONTAP release, e.g. 9.14.1.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Version {
    /// The release's first number (9).
    pub generation: u32,
    /// The release's second number.
    pub major: u32,
    /// The release's third number.
    pub minor: u32,
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.generation, self.major, self.minor)
    }
}

impl OntapClient {
    /// Asks the cluster for its name and release, within the client's own
    /// request timeout.
    pub async fn cluster_identity(&self) -> Result<ClusterIdentity, OntapError> {
        let mut query = Query::new();
        query.push("fields", "version,name");
        self.get(&CLUSTER.path(), &query, Deadline::NONE)
            .await?
            .json()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_release_reads_as_ontap_writes_it() {
        let version = Version {
            generation: 9,
            major: 14,
            minor: 1,
        };
        assert_eq!(version.to_string(), "9.14.1");
    }

    #[test]
    fn the_identity_reads_from_the_fields_asked_for() {
        let identity: ClusterIdentity = serde_json::from_str(
            r#"{"name": "cluster1", "version": {"full": "NetApp Release 9.14.1", "generation": 9,
                "major": 14, "minor": 1}, "_links": {"self": {"href": "/api/cluster"}}}"#,
        )
        .unwrap();
        assert_eq!(identity.name, "cluster1");
        assert_eq!(identity.version.to_string(), "9.14.1");
    }
}
