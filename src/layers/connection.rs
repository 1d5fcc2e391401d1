//! What the layers know of a call's connection: tonic puts it in every
//! request's extensions, from the server's accepted socket and handshake.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls_pki_types::CertificateDer;

/// Who is at the other end of a call's connection.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    remote_addr: Option<SocketAddr>,
    peer_certificates: Option<Arc<[CertificateDer<'static>]>>,
}

impl ConnectionInfo {
    /// A connection from `remote_addr`, whose client presented
    /// `peer_certificates` (leaf first) in its TLS handshake.
    pub fn new(
        remote_addr: Option<SocketAddr>,
        peer_certificates: Option<Arc<[CertificateDer<'static>]>>,
    ) -> Self {
        Self {
            remote_addr,
            peer_certificates,
        }
    }

    /// The peer's address.
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.remote_addr
    }

    /// The certificate chain the client presented in a TLS handshake,
    /// leaf first; `None` without TLS or without a client certificate.
    pub fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        self.peer_certificates.as_deref()
    }
}
