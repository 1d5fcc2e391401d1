//! TLS for the gRPC listener. The gateway runs the handshake itself rather
//! than leaving it to tonic, so that one deadline covers the handshake and
//! the HTTP opening inside it, and so that a refused handshake reaches the
//! log with its reason.

use std::fmt;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio_rustls::TlsAcceptor;

/// What the server presents: its certificate chain and private key.
pub struct TlsIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl TlsIdentity {
    /// Reads a PEM certificate chain (leaf first) and a PEM private key.
    pub fn from_pem(chain: impl AsRef<[u8]>, key: impl AsRef<[u8]>) -> Result<Self, TlsSetupError> {
        let chain = certificates(chain.as_ref(), "server certificate")?;
        let key = PrivateKeyDer::from_pem_slice(key.as_ref())
            .map_err(|e| TlsSetupError::Key(e.to_string()))?;
        Ok(Self { chain, key })
    }
}

impl fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key stays out of every log line.
        f.debug_struct("TlsIdentity")
            .field("chain", &self.chain.len())
            .finish_non_exhaustive()
    }
}

/// The CA whose certificates clients must present (mutual TLS).
#[derive(Debug, Clone)]
pub struct ClientCa {
    roots: Vec<CertificateDer<'static>>,
}

impl ClientCa {
    /// Reads one or more PEM CA certificates.
    pub fn from_pem(pem: impl AsRef<[u8]>) -> Result<Self, TlsSetupError> {
        Ok(Self {
            roots: certificates(pem.as_ref(), "client CA")?,
        })
    }
}

/// Why the listener's TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// A PEM file held no certificate, or one that could not be read.
    #[error("{what}: {reason}")]
    Certificate { what: &'static str, reason: String },
    /// The private key could not be read.
    #[error("server private key: {0}")]
    Key(String),
    /// rustls refused the combination (a key that does not match the
    /// certificate, a CA it cannot use).
    #[error("TLS configuration: {0}")]
    Config(String),
}

fn certificates(
    pem: &[u8],
    what: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsSetupError::Certificate {
            what,
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsSetupError::Certificate {
            what,
            reason: "no PEM certificate found".into(),
        });
    }
    Ok(certs)
}

/// The ALPN protocol gRPC speaks.
const ALPN_H2: &[u8] = b"h2";
/// What gRPC-Web from a browser may negotiate instead.
const ALPN_HTTP1: &[u8] = b"http/1.1";

/// The acceptor for the listener: `identity`, asking clients for a
/// certificate `client_ca` signed when given, offering HTTP/1.1 beside
/// HTTP/2 only when `http1` (gRPC-Web) is served.
pub(super) fn acceptor(
    identity: TlsIdentity,
    client_ca: Option<ClientCa>,
    http1: bool,
) -> Result<TlsAcceptor, TlsSetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(config_error)?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for root in ca.roots {
                roots.add(root).map_err(config_error)?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(config_error)?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(identity.chain, identity.key)
        .map_err(config_error)?;
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    if http1 {
        config.alpn_protocols.push(ALPN_HTTP1.to_vec());
    }
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn config_error(error: impl fmt::Display) -> TlsSetupError {
    TlsSetupError::Config(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed() -> (String, String) {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        (certified.cert.pem(), certified.signing_key.serialize_pem())
    }

    #[test]
    fn an_identity_shows_its_chain_and_never_its_key() {
        let (cert, key) = self_signed();
        let shown = format!("{:?}", TlsIdentity::from_pem(cert, &key).unwrap());
        assert!(shown.starts_with("TlsIdentity { chain: 1"), "{shown}");
        let key_body = key.lines().nth(1).unwrap();
        assert!(!shown.contains(key_body), "{shown}");
    }

    #[test]
    fn an_identity_is_read_from_pem() {
        let (cert, key) = self_signed();
        let identity = TlsIdentity::from_pem(cert, key).unwrap();
        assert_eq!(identity.chain.len(), 1);
    }

    #[test]
    fn a_certificate_file_without_a_certificate_is_refused() {
        let (_, key) = self_signed();
        let error = TlsIdentity::from_pem("not pem", key).unwrap_err();
        assert_eq!(
            error.to_string(),
            "server certificate: no PEM certificate found"
        );
    }

    #[test]
    fn a_key_file_without_a_key_is_refused() {
        let (cert, _) = self_signed();
        let error = TlsIdentity::from_pem(cert, "no key").unwrap_err();
        assert!(matches!(error, TlsSetupError::Key(_)), "{error}");
    }

    #[test]
    fn the_identity_debug_form_leaves_the_key_out() {
        let (cert, key) = self_signed();
        let identity = TlsIdentity::from_pem(cert, &key).unwrap();
        let shown = format!("{identity:?}");
        assert!(!shown.contains("key"), "{shown}");
        assert!(!shown.contains(&key[40..80]), "{shown}");
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused() {
        let (cert, _) = self_signed();
        let (_, other_key) = self_signed();
        let identity = TlsIdentity::from_pem(cert, other_key).unwrap();
        let Err(error) = acceptor(identity, None, false) else {
            panic!("a mismatched key was accepted");
        };
        assert!(matches!(error, TlsSetupError::Config(_)), "{error}");
    }

    #[test]
    fn http1_is_offered_only_beside_grpc_web() {
        let (cert, key) = self_signed();
        let grpc = acceptor(TlsIdentity::from_pem(&cert, &key).unwrap(), None, false).unwrap();
        assert_eq!(grpc.config().alpn_protocols, vec![b"h2".to_vec()]);
        let web = acceptor(TlsIdentity::from_pem(&cert, &key).unwrap(), None, true).unwrap();
        assert_eq!(
            web.config().alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
    }

    #[test]
    fn a_client_ca_without_a_certificate_is_refused() {
        assert!(ClientCa::from_pem("").is_err());
    }
}
