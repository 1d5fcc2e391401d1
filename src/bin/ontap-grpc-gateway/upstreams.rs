//! The clients of the clusters the gateway fronts: each with its own
//! cluster's settings, and what the flags set for every cluster alike.

use std::sync::Arc;

use ontap_grpc_gateway::config::ClusterSpec;
use ontap_grpc_gateway::metrics::Metrics;
use ontap_grpc_gateway::ontap::{self, BreakerConfig, ClientConfig, OntapClient, RetryPolicy};
use ontap_grpc_gateway::translate::{Clusters, DuplicateCluster, PageTokenKey, Upstream};

use crate::cli::UpstreamFlags;
use crate::clusters::{self, ClusterError};

/// A cluster whose client cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// Its description is wrong, or its password or CA cannot be read.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// The client refused its settings (a URL with a path, say).
    #[error("cluster `{name}`: {source}")]
    Client {
        /// The cluster's name.
        name: Arc<str>,
        source: ontap::ConfigError,
    },
    /// Two clusters by one name.
    #[error(transparent)]
    Duplicate(#[from] DuplicateCluster),
}

/// A client for each cluster `specs` describes, all signing page tokens
/// with `page_tokens` and counting into `metrics`.
pub fn clusters(
    specs: Vec<ClusterSpec>,
    flags: &UpstreamFlags,
    page_tokens: &PageTokenKey,
    metrics: &Arc<Metrics>,
) -> Result<Clusters, UpstreamError> {
    let mut upstreams = Vec::with_capacity(specs.len());
    for spec in specs {
        let config = with_gateway_settings(clusters::client_config(spec)?, flags, metrics);
        let name = Arc::clone(&config.name);
        let client =
            OntapClient::new(config).map_err(|source| UpstreamError::Client { name, source })?;
        upstreams.push(Upstream::new(client, page_tokens.clone()));
    }
    Ok(Clusters::new(upstreams)?)
}

/// `config` with what the flags set for every cluster alike, counting into
/// `metrics`.
fn with_gateway_settings(
    config: ClientConfig,
    flags: &UpstreamFlags,
    metrics: &Arc<Metrics>,
) -> ClientConfig {
    ClientConfig {
        coalesce_reads: !flags.no_coalesce,
        max_response_bytes: flags.max_response_bytes,
        max_buffered_bytes: flags.max_buffered_bytes,
        retry: RetryPolicy {
            max_retries: flags.retries,
            base_delay: flags.retry_base_delay,
            max_delay: flags.retry_max_delay,
        },
        breaker: BreakerConfig {
            failures_to_open: flags.breaker_failures,
            open_for: flags.breaker_open_for,
        },
        metrics: Arc::clone(metrics),
        ..config
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cli::tests::serve_args;

    fn gateway_settings(flags: &[&str]) -> ClientConfig {
        let metrics = Arc::new(Metrics::default());
        let config = ClientConfig {
            name: "east".into(),
            ..ClientConfig::new("https://cluster", "u", "p")
        };
        let set = with_gateway_settings(config, &serve_args(flags).upstream, &metrics);
        assert!(
            Arc::ptr_eq(&set.metrics, &metrics),
            "every cluster counts into one registry"
        );
        set
    }

    #[test]
    fn every_cluster_shares_reads_by_default_and_keeps_its_name() {
        let set = gateway_settings(&[]);
        assert!(set.coalesce_reads);
        assert_eq!(&*set.name, "east");
    }

    #[test]
    fn the_gateway_flags_reach_every_clusters_client() {
        let set = gateway_settings(&[
            "--no-coalesce",
            "--max-response-bytes",
            "2048",
            "--max-buffered-bytes",
            "4096",
            "--retries",
            "0",
            "--retry-base-delay",
            "7ms",
            "--retry-max-delay",
            "9ms",
            "--breaker-failures",
            "1",
            "--breaker-open-for",
            "3s",
        ]);
        assert!(!set.coalesce_reads);
        assert_eq!(set.max_response_bytes, 2048);
        assert_eq!(set.max_buffered_bytes, 4096);
        assert_eq!(
            set.retry,
            RetryPolicy {
                max_retries: 0,
                base_delay: Duration::from_millis(7),
                max_delay: Duration::from_millis(9),
            }
        );
        assert_eq!(
            set.breaker,
            BreakerConfig {
                failures_to_open: 1,
                open_for: Duration::from_secs(3),
            }
        );
    }

    #[test]
    fn a_client_that_refuses_its_settings_is_named_by_its_cluster() {
        let text = "[[cluster]]\nname = \"east\"\nurl = \"https://east/api\"\n\
                    credentials = \"pass-through\"\n";
        let specs = ontap_grpc_gateway::config::parse(text, "c").unwrap();
        let why = clusters(
            specs,
            &serve_args(&[]).upstream,
            &PageTokenKey::random().unwrap(),
            &Arc::default(),
        )
        .expect_err("refused")
        .to_string();
        assert!(why.starts_with("cluster `east`: "), "{why}");
    }
}
