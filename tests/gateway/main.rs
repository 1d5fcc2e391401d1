//! The gateway end to end, as its callers see it: one test binary (one link,
//! one process) with a module per behaviour area. Each module talks to a real
//! gateway on an ephemeral loopback port, onto a real simulator over HTTP.

#[path = "../common/mod.rs"]
mod common;

mod adaptive_paging;
mod authorization;
mod binary;
mod call_layers;
mod cifs_connections;
mod cifs_sessions;
mod client_auth;
mod clusters;
mod coalesced_reads;
mod connection_limits;
mod docs;
mod fault_matrix;
mod gateway_tls;
mod generated_clients;
mod grpc_ecosystem;
mod grpc_web;
mod health;
mod iscsi_contract;
mod iscsi_metrics;
mod iscsi_services;
mod iscsi_sessions;
mod message_size;
mod metrics;
mod overload;
mod page_tokens;
mod pass_through;
mod request_bounds;
mod request_framing;
mod resource_generator;
mod secrets;
mod stream_connections;
mod svm_metadata;
mod third_party_client;
mod upstream_errors;
mod upstream_limits;
mod upstream_tls;
mod watch_connections;
mod watch_metrics;
