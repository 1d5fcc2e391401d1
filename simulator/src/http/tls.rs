//! A throwaway self-signed certificate, so tests can exercise the gateway's TLS path (and its
//! custom CA option) without fixtures on disk.

use std::io;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::crypto::ring;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// Names the certificate is valid for: whatever loopback spelling a client uses.
const SUBJECT_ALT_NAMES: [&str; 3] = ["127.0.0.1", "::1", "localhost"];

/// A TLS acceptor and the certificate it presents.
#[derive(Clone)]
pub struct Tls {
    /// Performs server handshakes.
    pub acceptor: TlsAcceptor,
    /// The certificate in PEM, for clients to trust as a CA.
    pub certificate_pem: String,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

impl Tls {
    /// Generates a fresh key and certificate. The ring provider is named explicitly so this works
    /// whatever process-wide default provider the embedding program installed, or none.
    pub fn self_signed() -> io::Result<Tls> {
        let names: Vec<String> = SUBJECT_ALT_NAMES.iter().map(|n| (*n).to_owned()).collect();
        let certified = rcgen::generate_simple_self_signed(names).map_err(io::Error::other)?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));
        let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)
            .map_err(io::Error::other)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            certificate_pem: certified.cert.pem(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_is_pem() {
        let tls = Tls::self_signed().expect("certificate");
        assert!(
            tls.certificate_pem
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
    }
}
