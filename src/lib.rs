//! ontap-grpc-gateway: a typed gRPC face on the NetApp ONTAP REST API.
//!
//! Dependencies run one way: [`layers`] (cross-cutting tower layers) ->
//! [`service`] (gRPC handlers) -> [`watch`] (server streams over shared
//! upstream pollers) -> [`translate`] (request/response and error mapping)
//! -> [`ontap`] (the REST client); [`server`] wires them together, with the
//! probes of the clusters that drive health. [`config`] reads the clusters
//! file that says which clusters a gateway fronts. The ONTAP simulator is a
//! separate crate (`ontap-simulator`) that depends on none of them; only the
//! binary wires it in for `serve --simulate`.

pub mod config;
pub mod deadline;
#[cfg(any(fuzzing, test))]
pub mod fuzzing;
pub mod identity;
pub mod layers;
pub mod metrics;
pub mod ontap;
pub mod policy;
pub mod proto;
pub mod routes;
pub mod server;
pub mod service;
pub mod translate;
pub mod upstream_url;
pub mod watch;

#[cfg(test)]
mod test_files;
#[cfg(test)]
mod test_logs;
