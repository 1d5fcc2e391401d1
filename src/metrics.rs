//! The gateway's Prometheus metrics: calls by RPC and code, requests to
//! ONTAP by endpoint and status, and the live watches. The layers and the
//! ONTAP client record into one [`Metrics`]; `--metrics-listen` serves it
//! as Prometheus text on an admin listener of its own. Labels never carry
//! an identifier or a caller's value, so their number stays small.

use std::sync::atomic::AtomicI64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

/// The labels of a call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RpcLabels {
    service: String,
    method: String,
    code: String,
}

/// The labels of a request to ONTAP.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    method: String,
    endpoint: &'static str,
    /// The HTTP status, or how the request failed without one.
    status: String,
}

/// Latency buckets from 1 ms to about 65 s, doubling.
#[derive(Clone, Copy, Debug)]
struct Buckets;

impl MetricConstructor<Histogram> for Buckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(exponential_buckets(0.001, 2.0, 17))
    }
}

/// Every metric, and the registry that serves them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    rpc_calls: Family<RpcLabels, Counter>,
    rpc_seconds: Family<RpcLabels, Histogram, Buckets>,
    upstream_requests: Family<UpstreamLabels, Counter>,
    upstream_seconds: Family<UpstreamLabels, Histogram, Buckets>,
    watchers: Gauge<i64, AtomicI64>,
    pollers: Gauge<i64, AtomicI64>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("ontap_gateway");
        let rpc_calls = Family::<RpcLabels, Counter>::default();
        let rpc_seconds = Family::new_with_constructor(Buckets);
        let upstream_requests = Family::<UpstreamLabels, Counter>::default();
        let upstream_seconds = Family::new_with_constructor(Buckets);
        let watchers = Gauge::<i64, AtomicI64>::default();
        let pollers = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "rpc_requests",
            "gRPC calls handled, by service, method and status code",
            rpc_calls.clone(),
        );
        registry.register_with_unit(
            "rpc_duration",
            "How long gRPC calls took, from the request to the end of the response",
            Unit::Seconds,
            rpc_seconds.clone(),
        );
        registry.register(
            "upstream_requests",
            "Requests sent to ONTAP, by method, endpoint and HTTP status (or failure)",
            upstream_requests.clone(),
        );
        registry.register_with_unit(
            "upstream_duration",
            "How long ONTAP took to answer, by method, endpoint and HTTP status (or failure)",
            Unit::Seconds,
            upstream_seconds.clone(),
        );
        registry.register(
            "watchers",
            "Server streams watching ONTAP now",
            watchers.clone(),
        );
        registry.register(
            "pollers",
            "Upstream pollers serving the watchers now",
            pollers.clone(),
        );
        Self {
            registry,
            rpc_calls,
            rpc_seconds,
            upstream_requests,
            upstream_seconds,
            watchers,
            pollers,
        }
    }
}

impl Metrics {
    /// Counts a finished call.
    pub fn call(&self, service: &str, method: &str, code: tonic::Code, took: Duration) {
        let labels = RpcLabels {
            service: service.to_owned(),
            method: method.to_owned(),
            code: format!("{code:?}"),
        };
        self.rpc_calls.get_or_create(&labels).inc();
        self.rpc_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// Counts a request to ONTAP that ended with `status`: an HTTP status,
    /// or how it failed without one.
    pub fn upstream(&self, method: &str, endpoint: &'static str, status: &str, took: Duration) {
        let labels = UpstreamLabels {
            method: method.to_owned(),
            endpoint,
            status: status.to_owned(),
        };
        self.upstream_requests.get_or_create(&labels).inc();
        self.upstream_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// The Prometheus text exposition, with the live watches as given.
    pub fn render(&self, pollers: usize, watchers: usize) -> String {
        self.pollers.set(i64::try_from(pollers).unwrap_or(i64::MAX));
        self.watchers
            .set(i64::try_from(watchers).unwrap_or(i64::MAX));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_is_counted_and_timed_by_service_method_and_code() {
        let metrics = Metrics::default();
        metrics.call(
            "ontap.v1.CifsConnections",
            "ListCifsConnections",
            tonic::Code::Ok,
            Duration::from_millis(3),
        );
        let text = metrics.render(0, 0);
        assert!(text.contains(
            r#"ontap_gateway_rpc_requests_total{service="ontap.v1.CifsConnections",method="ListCifsConnections",code="Ok"} 1"#
        ), "{text}");
        assert!(
            text.contains("ontap_gateway_rpc_duration_seconds_bucket"),
            "{text}"
        );
    }

    #[test]
    fn an_upstream_request_is_counted_by_endpoint_not_by_identifier() {
        let metrics = Metrics::default();
        let endpoint = "/api/protocols/san/iscsi/services/{svm.uuid}";
        metrics.upstream("GET", endpoint, "200", Duration::from_millis(1));
        metrics.upstream("GET", endpoint, "200", Duration::from_millis(1));
        let text = metrics.render(0, 0);
        assert!(text.contains(&format!(
            r#"ontap_gateway_upstream_requests_total{{method="GET",endpoint="{endpoint}",status="200"}} 2"#
        )), "{text}");
    }

    #[test]
    fn the_live_watches_are_gauges() {
        let text = Metrics::default().render(2, 7);
        assert!(text.contains("ontap_gateway_pollers 2"), "{text}");
        assert!(text.contains("ontap_gateway_watchers 7"), "{text}");
    }
}
