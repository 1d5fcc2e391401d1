//! The upstream side as a tower stack: each concern of a request to ONTAP
//! is one layer, a `tower::Service<UpstreamRequest>` answering a
//! `Response` or an `OntapError`, and [`stack`] composes them, in one
//! place. A request carries its call's [`CallContext`] (deadline, trace,
//! credentials), so a layer needs nothing else from the call. To add a
//! concern, write its layer in a module here (with a `NAME` and a
//! [`Layered`] impl) and add it to [`stack`], to [`Stack`] and to this list.
//!
//! The layers, outermost first:
//!
//! 1. `coalesce`: identical reads in flight share one upstream request.
//! 2. `retry`: a read that meets overload is tried again, while wanted.
//! 3. `breaker`: calls fail at once while the cluster keeps failing.
//! 4. `permit`: a request waits for one of the bounded slots.
//! 5. `metrics`: each request sent is counted and timed by outcome.
//! 6. `timeout`: the caller's deadline or the request timeout bounds it.
//! 7. `auth`: the call's credentials, and whose ONTAP refused.
//! 8. `trace`: the caller's request id and trace context.
//! 9. `send`: reqwest, the body read within its limit and the memory
//!    budget, ONTAP's status mapped.
//!
//! The order differs from the one issue 26 proposed (metrics, breaker,
//! retry, coalescing, permit, timeout, headers, body) so that the client
//! behaves as it did before the stack: coalescing comes first, so that a
//! shared read is retried once for all its callers, for as long as the
//! latest of them still wants it; retries come before the breaker, so that
//! it admits, and counts, each attempt rather than each call; and metrics
//! come after the permit, so that they count and time each request actually
//! sent (timeouts included), not the calls that never got a slot or that
//! the open circuit refused.

mod auth;
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
use tower::ServiceBuilder;
use tower::retry::Retry;

use auth::{AuthLayer, AuthService};
use breaker::{BreakerLayer, BreakerService};
use coalesce::{CoalesceLayer, CoalesceService};
use metrics::{MetricsLayer, MetricsService};
use permit::{PermitLayer, PermitService};
use retry::{ReadRetry, RetryLayer};
use send::Sender;
use timeout::{TimeoutLayer, TimeoutService};
use trace::{TraceLayer, TraceService};

pub use breaker::BreakerConfig;
pub use coalesce::{Coalescing, Flights};
pub use request::{CallContext, UpstreamRequest};
pub use retry::RetryPolicy;

use super::body::MemoryBudget;
use super::client::ClientConfig;
use super::untrusted::Scrubber;

/// The type [`stack`] builds, spelled out so a client can hold it without
/// boxing; the compiler keeps the two in the same order.
pub type Stack = CoalesceService<
    Retry<
        ReadRetry,
        BreakerService<
            PermitService<MetricsService<TimeoutService<AuthService<TraceService<Sender>>>>>,
        >,
    >,
>;

/// The service account a cluster's requests carry, unless the caller's own
/// credentials replace it.
pub struct ServiceAccount {
    /// Its `Authorization`; none in pass-through mode.
    pub authorization: Option<HeaderValue>,
    /// Redacts its credentials from upstream text.
    pub scrubber: Scrubber,
}

/// The stack of one cluster's client, sending through `http` for `account`;
/// reads in flight are shared through `flights`.
pub fn stack(
    config: &ClientConfig,
    http: reqwest::Client,
    account: ServiceAccount,
    flights: Arc<Flights>,
) -> Stack {
    ServiceBuilder::new()
        .layer(CoalesceLayer::new(
            flights,
            config.coalesce_reads,
            config.max_in_flight,
        ))
        .layer(RetryLayer::new(config.retry, config.request_timeout))
        .layer(BreakerLayer::new(config.breaker))
        .layer(PermitLayer::new(config.max_in_flight, config.queue_timeout))
        .layer(MetricsLayer::new(
            Arc::clone(&config.metrics),
            Arc::clone(&config.name),
        ))
        .layer(TimeoutLayer::new(config.request_timeout))
        .layer(AuthLayer::new(account.authorization))
        .layer(TraceLayer)
        .service(Sender::new(
            http,
            config.max_response_bytes,
            MemoryBudget::new(config.max_buffered_bytes),
            account.scrubber,
        ))
}

/// The stack's layers, outermost first, as [`stack`] composes them.
pub fn layer_names() -> Vec<&'static str> {
    let mut names = Vec::new();
    Stack::layer_names(&mut names);
    names
}

/// A service of the stack, which names its layer and those inside it.
pub trait Layered {
    /// Adds the name of this service's layer, then those inside it.
    fn layer_names(names: &mut Vec<&'static str>);
}

#[cfg(test)]
mod testing;

#[cfg(test)]
mod tests {
    use super::*;

    /// The names in this module's documentation, in its order.
    fn documented() -> Vec<String> {
        include_str!("mod.rs")
            .lines()
            .filter_map(|line| line.strip_prefix("//! "))
            .filter_map(|item| {
                let (number, rest) = item.split_once(". `")?;
                number.parse::<u32>().ok()?;
                Some(rest.split_once('`')?.0.to_owned())
            })
            .collect()
    }

    #[test]
    fn the_documented_order_is_the_order_the_stack_is_composed_in() {
        assert_eq!(documented(), layer_names());
    }

    #[test]
    fn every_layer_is_named_once() {
        let names = layer_names();
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        assert_eq!(names.len(), 9, "{names:?}");
    }
}
