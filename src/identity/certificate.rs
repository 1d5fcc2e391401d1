//! Who a client certificate names: its first URI SAN (a SPIFFE ID, as a
//! mesh such as Istio issues them), else its subject's common name.

use rustls_pki_types::CertificateDer;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The identity `leaf` names, `spiffe://…` (any URI SAN, as it is) or
/// `cn:<common name>`; `None` when it names neither, or cannot be read
/// (the handshake verified it, so that is a certificate naming no one).
pub fn identity_of(leaf: &CertificateDer<'_>) -> Option<String> {
    let (_, certificate) = X509Certificate::from_der(leaf.as_ref()).ok()?;
    first_uri(&certificate).or_else(|| common_name(&certificate))
}

fn first_uri(certificate: &X509Certificate<'_>) -> Option<String> {
    let names = certificate.subject_alternative_name().ok()??;
    names
        .value
        .general_names
        .iter()
        .find_map(|name| match name {
            GeneralName::URI(uri) if !uri.is_empty() => Some((*uri).to_owned()),
            _ => None,
        })
}

fn common_name(certificate: &X509Certificate<'_>) -> Option<String> {
    let cn = certificate.subject().iter_common_name().next()?;
    let cn = cn.as_str().ok()?;
    (!cn.is_empty()).then(|| format!("cn:{cn}"))
}

#[cfg(test)]
mod tests {
    use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, SanType};

    use super::*;

    fn certificate(cn: Option<&str>, sans: Vec<SanType>) -> CertificateDer<'static> {
        let mut params = CertificateParams::default();
        let mut subject = DistinguishedName::new();
        if let Some(cn) = cn {
            subject.push(DnType::CommonName, cn);
        }
        params.distinguished_name = subject;
        params.subject_alt_names = sans;
        let key = KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    fn uri(text: &str) -> SanType {
        SanType::URI(text.try_into().unwrap())
    }

    #[test]
    fn a_certificate_with_a_uri_san_names_that_uri() {
        let leaf = certificate(
            Some("api"),
            vec![
                SanType::DnsName("api.billing".try_into().unwrap()),
                uri("spiffe://cluster.local/ns/billing/sa/api"),
                uri("spiffe://cluster.local/ns/other/sa/x"),
            ],
        );
        assert_eq!(
            identity_of(&leaf).as_deref(),
            Some("spiffe://cluster.local/ns/billing/sa/api")
        );
    }

    #[test]
    fn a_certificate_without_a_uri_san_names_its_common_name() {
        let leaf = certificate(
            Some("provisioner"),
            vec![SanType::DnsName("p.example".try_into().unwrap())],
        );
        assert_eq!(identity_of(&leaf).as_deref(), Some("cn:provisioner"));
    }

    #[test]
    fn a_certificate_naming_neither_names_no_one() {
        assert_eq!(identity_of(&certificate(None, vec![])), None);
        assert_eq!(identity_of(&CertificateDer::from(vec![0x30, 0x00])), None);
    }
}
