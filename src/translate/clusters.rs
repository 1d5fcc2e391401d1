//! The clusters one gateway fronts, by name: a call picks one with
//! `x-ontap-cluster` metadata, or goes to the only one.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::{GatewayError, Upstream};
use crate::ontap::CallerCredentials;
pub use crate::ontap::DEFAULT_CLUSTER;

/// The clusters, each with its own pooled client, page-token key and
/// adaptive page sizes.
#[derive(Debug, Clone)]
pub struct Clusters {
    by_name: Arc<BTreeMap<String, Upstream>>,
}

/// Two clusters given the same name.
#[derive(Debug, thiserror::Error)]
#[error("two clusters are named `{0}`; names must be unique")]
pub struct DuplicateCluster(pub String);

impl Clusters {
    /// The clusters, at least one, each under the name its client was
    /// configured with.
    pub fn new(clusters: impl IntoIterator<Item = Upstream>) -> Result<Self, DuplicateCluster> {
        let mut by_name = BTreeMap::new();
        for upstream in clusters {
            let name = upstream.client.name().to_string();
            if by_name.contains_key(&name) {
                return Err(DuplicateCluster(name));
            }
            by_name.insert(name, upstream);
        }
        assert!(!by_name.is_empty(), "a gateway fronts at least one cluster");
        Ok(Self {
            by_name: Arc::new(by_name),
        })
    }

    /// The cluster `x-ontap-cluster` names, or the only one when it names
    /// none; as the caller when the cluster takes callers' credentials.
    pub fn pick(
        &self,
        name: Option<&str>,
        authorization: Option<&http::HeaderValue>,
    ) -> Result<Cow<'_, Upstream>, GatewayError> {
        let upstream = match name {
            Some(name) => self
                .by_name
                .get(name)
                .ok_or_else(|| GatewayError::UnknownCluster {
                    name: name.to_owned(),
                    known: self.listed(),
                })?,
            None => self.only().ok_or_else(|| GatewayError::ClusterNotChosen {
                known: self.listed(),
            })?,
        };
        if !upstream.client.passes_through() {
            return Ok(Cow::Borrowed(upstream));
        }
        let caller = CallerCredentials::from_metadata(authorization)?;
        Ok(Cow::Owned(upstream.as_caller(caller)))
    }

    /// The cluster, when there is just one.
    pub fn only(&self) -> Option<&Upstream> {
        match self.by_name.len() {
            1 => self.by_name.values().next(),
            _ => None,
        }
    }

    /// Each cluster with its name, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Upstream)> {
        self.by_name.iter().map(|(name, u)| (name.as_str(), u))
    }

    /// Whether any cluster takes callers' own credentials.
    pub fn any_passes_through(&self) -> bool {
        self.by_name.values().any(|u| u.client.passes_through())
    }

    fn listed(&self) -> String {
        self.by_name
            .keys()
            .map(|name| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl From<Upstream> for Clusters {
    /// One cluster, under its client's name ([`DEFAULT_CLUSTER`] unless
    /// configured otherwise).
    fn from(upstream: Upstream) -> Self {
        Self::new([upstream]).expect("one name is unique")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ontap::{ClientConfig, OntapClient};
    use crate::translate::PageTokenKey;

    fn upstream(config: ClientConfig, name: &str) -> Upstream {
        let config = ClientConfig {
            name: name.into(),
            ..config
        };
        Upstream::new(
            OntapClient::new(config).unwrap(),
            PageTokenKey::random().unwrap(),
        )
    }

    fn service_account(name: &str) -> Upstream {
        upstream(ClientConfig::new("https://east.example", "svc", "pw"), name)
    }

    fn pass_through(name: &str) -> Upstream {
        upstream(ClientConfig::pass_through("https://west.example"), name)
    }

    fn two() -> Clusters {
        Clusters::new([service_account("east"), pass_through("west")]).unwrap()
    }

    #[test]
    fn a_named_cluster_is_picked_by_its_name() {
        let clusters = two();
        let east = clusters.pick(Some("east"), None).unwrap();
        assert_eq!(east.client.base_url(), "https://east.example");
    }

    #[test]
    fn the_only_cluster_is_picked_when_none_is_named() {
        let clusters = Clusters::from(Upstream::new(
            OntapClient::new(ClientConfig::new("https://east.example", "svc", "pw")).unwrap(),
            PageTokenKey::random().unwrap(),
        ));
        let only = clusters.pick(None, None).unwrap();
        assert_eq!(only.client.base_url(), "https://east.example");
        assert!(clusters.pick(Some(DEFAULT_CLUSTER), None).is_ok());
    }

    #[test]
    fn an_unknown_name_is_named_with_the_clusters_there_are() {
        let err = two().pick(Some("north"), None).unwrap_err();
        assert!(matches!(&err, GatewayError::UnknownCluster { name, .. } if name == "north"));
        assert!(err.to_string().contains("`east`, `west`"), "{err}");
    }

    #[test]
    fn with_several_clusters_a_call_must_name_one() {
        let err = two().pick(None, None).unwrap_err();
        assert!(
            matches!(err, GatewayError::ClusterNotChosen { .. }),
            "{err}"
        );
    }

    #[test]
    fn a_pass_through_cluster_takes_the_callers_basic_credentials() {
        use base64::Engine;
        let token = base64::engine::general_purpose::STANDARD.encode("alice:pw");
        let basic = http::HeaderValue::from_str(&format!("Basic {token}")).unwrap();
        let clusters = two();
        let west = clusters.pick(Some("west"), Some(&basic)).unwrap();
        assert!(west.client.caller().is_some());
        let err = two().pick(Some("west"), None).unwrap_err();
        assert!(
            matches!(err, GatewayError::CallerUnauthenticated(_)),
            "{err}"
        );
    }

    #[test]
    fn a_service_account_cluster_ignores_the_callers_authorization() {
        let bearer = http::HeaderValue::from_static("Bearer token");
        let clusters = two();
        let east = clusters.pick(Some("east"), Some(&bearer)).unwrap();
        assert!(east.client.caller().is_none());
    }

    #[test]
    fn a_fleet_passes_through_when_any_of_its_clusters_does() {
        assert!(two().any_passes_through());
        assert!(!Clusters::from(service_account("east")).any_passes_through());
    }

    #[test]
    fn names_are_unique() {
        let err = Clusters::new([service_account("east"), pass_through("east")]).unwrap_err();
        assert_eq!(err.0, "east");
    }
}
