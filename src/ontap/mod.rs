//! The ONTAP REST client: one pooled, bounded HTTP client per cluster,
//! whose requests go through a stack of tower layers (`stack`); the one
//! place that builds request URLs, where each collection lives, the bodies
//! the gateway sends, the collection envelope and ONTAP's time formats. It
//! knows nothing about gRPC; records become proto messages in the
//! translator.

mod body;
mod client;
mod cluster;
mod collection;
mod credentials;
mod error;
pub mod iscsi;
mod path;
mod query;
mod stack;
pub mod time;
mod tls;
mod trace;
pub mod untrusted;

pub use body::{Decoded, MemoryBudget, Reservation, Response};
pub use client::{ClientConfig, ClientScope, ConfigError, DEFAULT_CLUSTER, OntapClient};
pub use cluster::{ClusterIdentity, Version};
pub use collection::{Collection, CollectionSeed, Href, MAX_RECORDS};
pub use credentials::{CallerCredentials, CallerCredentialsError, Credentials};
pub use error::{ApiError, ApiErrorArgument, OntapError, TimeBound};
pub use path::{ApiPath, CollectionPath};
pub use query::Query;
pub use stack::{BreakerConfig, Coalescing, RetryPolicy};
pub use tls::TlsOptions;
pub use trace::CallTrace;
