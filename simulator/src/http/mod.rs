//! The HTTP face of the simulator: the accept loop (with optional TLS) that counts real
//! connections, and the middleware every request passes before an endpoint sees it (stats,
//! Basic authentication, per-SVM counts, authorization, injected faults), plus the two response flavours and query-string
//! decoding that every endpoint shares.

pub mod auth;
pub mod media;
pub mod params;
pub mod router;
pub mod server;
pub mod stats;
pub mod svm_requests;
pub mod tls;
