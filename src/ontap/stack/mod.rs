//! The upstream side as a tower stack: each concern of a request to ONTAP
//! is one layer, a `tower::Service<UpstreamRequest>` answering a
//! `Response` or an `OntapError`, and [`stack`] composes them, in one
//! place. A request carries its call's [`CallContext`] (deadline, trace,
//! credentials), so a layer needs nothing else from the call. To add a
//! concern, write its layer in a module here, with a [`Named`] impl, and
//! add one line to [`stack`]; `docs/architecture.md` says what each layer
//! does, and a test holds its list to the order [`stack`] composes.
//!
//! The order differs from the one issue 26 proposed (metrics, breaker,
//! retry, coalescing, permit, timeout, headers, body) so that the client
//! behaves as it did before the stack: coalescing comes first, so that a
//! shared read is retried once for all its callers, for as long as the
//! latest of them still wants it; retries come before the breaker, so that
//! it admits, and counts, each attempt rather than each call; and metrics
//! come after the permit, so that they count and time each request actually
//! sent (timeouts included), not the calls that never got a slot or that
//! the open circuit refused. The body is read inside the timeout, so a
//! body that trickles is bounded like a slow answer.

mod auth;
mod body;
mod breaker;
mod coalesce;
mod metrics;
mod permit;
mod request;
mod retry;
mod send;
mod timeout;
mod trace;

use std::sync::Arc;

use http::HeaderValue;
use tower::layer::util::{Identity, Stack};
use tower::util::BoxCloneSyncService;
use tower::{Layer, ServiceBuilder};

use auth::AuthLayer;
use body::BodyLayer;
use breaker::BreakerLayer;
use coalesce::CoalesceLayer;
use metrics::MetricsLayer;
use permit::PermitLayer;
use retry::RetryLayer;
use send::Sender;
use timeout::TimeoutLayer;
use trace::TraceLayer;

pub use breaker::BreakerConfig;
pub use coalesce::{Coalescing, Flights};
pub use request::{CallContext, UpstreamRequest};
pub use retry::RetryPolicy;

use super::body::{MemoryBudget, Response};
use super::client::ClientConfig;
use super::error::OntapError;
use super::untrusted::Scrubber;

/// One cluster's composed stack. Boxed once, so that a client can hold it
/// without spelling out ten nested service types, which would make adding
/// a layer an edit in two places that must agree.
pub type Service = BoxCloneSyncService<UpstreamRequest, Response, OntapError>;

/// A layer (or the innermost service) of the stack, by the name logs and
/// docs give it.
pub trait Named {
    const NAME: &str;
}

/// The service account a cluster's requests carry, unless the caller's own
/// credentials replace it.
pub struct ServiceAccount {
    /// Its `Authorization`; none in pass-through mode.
    pub authorization: Option<HeaderValue>,
    /// Redacts its credentials from upstream text.
    pub scrubber: Scrubber,
}

/// The stack of one cluster's client, sending through `http` for `account`;
/// reads in flight are shared through `flights`. Returns the stack and its
/// layers' names, outermost first.
pub fn stack(
    config: &ClientConfig,
    http: reqwest::Client,
    account: ServiceAccount,
    flights: Arc<Flights>,
) -> (Service, Vec<&'static str>) {
    let budget = MemoryBudget::new(config.max_buffered_bytes);
    let name = Arc::clone(&config.name);
    let coalescing = CoalesceLayer::new(flights, config.coalesce_reads, config.max_in_flight);
    Composer::new()
        .layer(coalescing)
        .layer(RetryLayer::new(config.retry, config.request_timeout))
        .layer(BreakerLayer::new(config.breaker))
        .layer(PermitLayer::new(config.max_in_flight, config.queue_timeout))
        .layer(MetricsLayer::new(Arc::clone(&config.metrics), name))
        .layer(TimeoutLayer::new(config.request_timeout))
        .layer(AuthLayer::new(account.authorization))
        .layer(TraceLayer)
        .layer(BodyLayer::new(
            config.max_response_bytes,
            budget,
            account.scrubber.clone(),
        ))
        .service(Sender::new(http, account.scrubber))
}

/// tower's `ServiceBuilder`, which also writes down each layer's name, so
/// that the order is written once, where the stack is composed.
struct Composer<L> {
    builder: ServiceBuilder<L>,
    names: Vec<&'static str>,
}

impl Composer<Identity> {
    fn new() -> Self {
        Self {
            builder: ServiceBuilder::new(),
            names: Vec::new(),
        }
    }
}

impl<L> Composer<L> {
    /// Adds `layer` inside those added before it.
    fn layer<T: Named>(mut self, layer: T) -> Composer<Stack<T, L>> {
        self.names.push(T::NAME);
        Composer {
            builder: self.builder.layer(layer),
            names: self.names,
        }
    }

    /// Ends the stack with `service`, and boxes it.
    fn service<S: Named>(mut self, service: S) -> (Service, Vec<&'static str>)
    where
        L: Layer<S>,
        L::Service: tower::Service<UpstreamRequest, Response = Response, Error = OntapError>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as tower::Service<UpstreamRequest>>::Future: Send + 'static,
    {
        self.names.push(S::NAME);
        let composed = self.builder.service(service);
        (BoxCloneSyncService::new(composed), self.names)
    }
}

#[cfg(test)]
mod testing;

#[cfg(test)]
mod tests {
    use super::*;

    use crate::ontap::OntapClient;

    fn names() -> Vec<&'static str> {
        let config = ClientConfig::pass_through("https://127.0.0.1");
        OntapClient::new(config).unwrap().upstream_layers().to_vec()
    }

    #[test]
    fn the_stack_names_its_layers_from_coalescing_outermost_to_send() {
        let names = names();
        assert_eq!(names.first(), Some(&CoalesceLayer::NAME), "{names:?}");
        assert_eq!(names.last(), Some(&Sender::NAME), "{names:?}");
        assert_eq!(names.len(), 10, "{names:?}");
    }

    #[test]
    fn every_layer_is_named_once() {
        let names = names();
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
    }
}
