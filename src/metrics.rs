//! The gateway's Prometheus metrics: calls by RPC and code, requests to
//! ONTAP by endpoint and status, and the live watches. The layers and the
//! ONTAP client record into one [`Metrics`]; `--metrics-listen` serves it
//! as Prometheus text on an admin listener of its own. Labels never carry
//! an identifier or a caller's value, so their number stays small: a call
//! to a method the server does not have (any path a caller makes up) is
//! counted as `unknown`.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use prost::Message;
use tonic::Code;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

/// The labels of a call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RpcLabels {
    service: &'static str,
    method: &'static str,
    code: &'static str,
}

/// The labels of a request to ONTAP.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    /// The gateway's name for the cluster (`x-ontap-cluster`).
    cluster: Arc<str>,
    method: &'static str,
    endpoint: &'static str,
    /// The HTTP status, or how the request failed without one.
    status: Cow<'static, str>,
}

/// The labels of a change of a collection's adaptive page size.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PageSizeLabels {
    cluster: Arc<str>,
    /// The collection's endpoint.
    endpoint: &'static str,
    /// `shrink` or `grow`.
    direction: &'static str,
}

/// The labels of a call the policy refused: what kind of identity, and
/// why, never which identity.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeniedLabels {
    identity_kind: &'static str,
    reason: &'static str,
}

/// Which way a collection's adaptive page size moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageSizeChange {
    /// Halved: ONTAP did not gather a page in time.
    Shrink,
    /// Doubled back: ONTAP gathered pages in full again.
    Grow,
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
    page_size_changes: Family<PageSizeLabels, Counter>,
    denied: Family<DeniedLabels, Counter>,
    watchers: Gauge<i64, AtomicI64>,
    pollers: Gauge<i64, AtomicI64>,
}

impl Default for Metrics {
    fn default() -> Self {
        // Read the names now, at start-up, not during the first call.
        LazyLock::force(&KNOWN_RPCS);
        let mut registry = Registry::with_prefix("ontap_gateway");
        let rpc_calls = Family::<RpcLabels, Counter>::default();
        let rpc_seconds = Family::new_with_constructor(Buckets);
        let upstream_requests = Family::<UpstreamLabels, Counter>::default();
        let upstream_seconds = Family::new_with_constructor(Buckets);
        let page_size_changes = Family::<PageSizeLabels, Counter>::default();
        let denied = Family::<DeniedLabels, Counter>::default();
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
            "page_size_changes",
            "Times a collection's adaptive page size shrank (ONTAP did not gather a page in time) or grew back",
            page_size_changes.clone(),
        );
        registry.register(
            "denied",
            "Calls the policy refused, by the kind of identity that made them and why",
            denied.clone(),
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
            page_size_changes,
            denied,
            watchers,
            pollers,
        }
    }
}

impl Metrics {
    /// Counts a finished call.
    pub fn call(&self, service: &str, method: &str, code: Code, took: Duration) {
        let (service, method) = KNOWN_RPCS.named(service, method);
        let labels = RpcLabels {
            service,
            method,
            code: code_name(code),
        };
        self.rpc_calls.get_or_create(&labels).inc();
        self.rpc_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// Counts a request to ONTAP that ended with `status`: an HTTP status,
    /// or how it failed without one.
    pub fn upstream(
        &self,
        cluster: &Arc<str>,
        method: &http::Method,
        endpoint: &'static str,
        status: Cow<'static, str>,
        took: Duration,
    ) {
        let labels = UpstreamLabels {
            cluster: Arc::clone(cluster),
            method: method_name(method),
            endpoint,
            status,
        };
        self.upstream_requests.get_or_create(&labels).inc();
        self.upstream_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// Counts a change of `endpoint`'s adaptive page size on `cluster`.
    pub fn page_size_changed(
        &self,
        cluster: &Arc<str>,
        endpoint: &'static str,
        change: PageSizeChange,
    ) {
        let labels = PageSizeLabels {
            cluster: Arc::clone(cluster),
            endpoint,
            direction: match change {
                PageSizeChange::Shrink => "shrink",
                PageSizeChange::Grow => "grow",
            },
        };
        self.page_size_changes.get_or_create(&labels).inc();
    }

    /// Counts a call the policy refused, made by an identity of `kind`
    /// (`token`, `jwt`, `certificate`, `anonymous`) for `reason`.
    pub fn denied(&self, identity_kind: &'static str, reason: &'static str) {
        let labels = DeniedLabels {
            identity_kind,
            reason,
        };
        self.denied.get_or_create(&labels).inc();
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

/// The RPCs the server answers, read once from the descriptor sets that
/// reflection serves, so a label is only ever one of these names.
static KNOWN_RPCS: LazyLock<KnownRpcs> = LazyLock::new(|| {
    KnownRpcs::from_descriptor_sets(&[
        crate::proto::FILE_DESCRIPTOR_SET,
        tonic_health::pb::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
    ])
});

/// Methods by full service name.
struct KnownRpcs(HashMap<&'static str, HashSet<&'static str>>);

impl KnownRpcs {
    fn from_descriptor_sets(sets: &[&[u8]]) -> Self {
        let mut services: HashMap<&'static str, HashSet<&'static str>> = HashMap::new();
        for set in sets {
            let set = prost_types::FileDescriptorSet::decode(*set)
                .expect("the built-in descriptor sets decode");
            for file in set.file {
                let package = file.package().to_owned();
                for service in file.service {
                    // Leaked once, for the life of the process: a few dozen
                    // names that every label then borrows.
                    let name: &'static str = format!("{package}.{}", service.name()).leak();
                    let methods = services.entry(name).or_default();
                    for method in service.method {
                        methods.insert(method.name().to_owned().leak());
                    }
                }
            }
        }
        Self(services)
    }

    /// The names to count a call to `service`/`method` under.
    fn named(&self, service: &str, method: &str) -> (&'static str, &'static str) {
        self.0
            .get_key_value(service)
            .and_then(|(service, methods)| Some((*service, *methods.get(method)?)))
            .unwrap_or(("unknown", "unknown"))
    }
}

/// The methods the client sends, by name; any other as `other`.
fn method_name(method: &http::Method) -> &'static str {
    match *method {
        http::Method::GET => "GET",
        http::Method::POST => "POST",
        http::Method::PATCH => "PATCH",
        http::Method::DELETE => "DELETE",
        _ => "other",
    }
}

/// A status code as gRPC's specification names it in code.
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "Ok",
        Code::Cancelled => "Cancelled",
        Code::Unknown => "Unknown",
        Code::InvalidArgument => "InvalidArgument",
        Code::DeadlineExceeded => "DeadlineExceeded",
        Code::NotFound => "NotFound",
        Code::AlreadyExists => "AlreadyExists",
        Code::PermissionDenied => "PermissionDenied",
        Code::ResourceExhausted => "ResourceExhausted",
        Code::FailedPrecondition => "FailedPrecondition",
        Code::Aborted => "Aborted",
        Code::OutOfRange => "OutOfRange",
        Code::Unimplemented => "Unimplemented",
        Code::Internal => "Internal",
        Code::Unavailable => "Unavailable",
        Code::DataLoss => "DataLoss",
        Code::Unauthenticated => "Unauthenticated",
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
        for _ in 0..2 {
            metrics.upstream(
                &Arc::from("east"),
                &http::Method::GET,
                endpoint,
                "200".into(),
                Duration::from_millis(1),
            );
        }
        let text = metrics.render(0, 0);
        assert!(text.contains(&format!(
            r#"ontap_gateway_upstream_requests_total{{cluster="east",method="GET",endpoint="{endpoint}",status="200"}} 2"#
        )), "{text}");
    }

    #[test]
    fn page_size_changes_are_counted_by_cluster_endpoint_and_direction() {
        let metrics = Metrics::default();
        let east: Arc<str> = Arc::from("east");
        let endpoint = "/api/protocols/cifs/connections";
        metrics.page_size_changed(&east, endpoint, PageSizeChange::Shrink);
        metrics.page_size_changed(&east, endpoint, PageSizeChange::Shrink);
        metrics.page_size_changed(&east, endpoint, PageSizeChange::Grow);
        let text = metrics.render(0, 0);
        for counted in [
            format!(
                r#"ontap_gateway_page_size_changes_total{{cluster="east",endpoint="{endpoint}",direction="shrink"}} 2"#
            ),
            format!(
                r#"ontap_gateway_page_size_changes_total{{cluster="east",endpoint="{endpoint}",direction="grow"}} 1"#
            ),
        ] {
            assert!(text.contains(&counted), "{counted} in {text}");
        }
    }

    #[test]
    fn a_method_the_server_does_not_have_is_counted_as_unknown() {
        let metrics = Metrics::default();
        for made_up in ["a", "b", "c"] {
            metrics.call(
                "ontap.v1.CifsConnections",
                made_up,
                Code::Unimplemented,
                Duration::ZERO,
            );
            metrics.call(made_up, "Check", Code::Unimplemented, Duration::ZERO);
        }
        let text = metrics.render(0, 0);
        assert!(text.contains(
            r#"ontap_gateway_rpc_requests_total{service="unknown",method="unknown",code="Unimplemented"} 6"#
        ), "{text}");
    }

    #[test]
    fn every_served_rpc_is_known_by_name() {
        for (service, method) in [
            ("ontap.v1.IscsiServices", "WatchIscsiServiceMetrics"),
            ("grpc.health.v1.Health", "Watch"),
            (
                "grpc.reflection.v1.ServerReflection",
                "ServerReflectionInfo",
            ),
            (
                "grpc.reflection.v1alpha.ServerReflection",
                "ServerReflectionInfo",
            ),
        ] {
            assert_eq!(KNOWN_RPCS.named(service, method), (service, method));
        }
    }

    #[test]
    fn each_method_the_client_sends_is_named_and_any_other_is_other() {
        use http::Method;
        for method in [Method::GET, Method::POST, Method::PATCH, Method::DELETE] {
            assert_eq!(method_name(&method), method.as_str());
        }
        assert_eq!(method_name(&Method::PUT), "other");
    }

    #[test]
    fn each_code_is_named_as_tonic_debug_prints_it() {
        for code in 0..=16 {
            let code = Code::from_i32(code);
            assert_eq!(code_name(code), format!("{code:?}"));
        }
    }

    #[test]
    fn the_live_watches_are_gauges() {
        let text = Metrics::default().render(2, 7);
        assert!(text.contains("ontap_gateway_pollers 2"), "{text}");
        assert!(text.contains("ontap_gateway_watchers 7"), "{text}");
    }
}
