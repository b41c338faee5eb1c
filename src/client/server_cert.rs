//! How `hello --ca-cert` checks the server's certificate: webpki against the given CAs, and a
//! self-signed certificate that is itself in the file accepted as pinned (see `pinned`).

use std::sync::Arc;

use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::client::danger::{ServerCertVerified, ServerCertVerifier};
use tokio_rustls::rustls::client::{WebPkiServerVerifier, verify_server_name};
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::server::ParsedCertificate;
use tokio_rustls::rustls::{Error, RootCertStore};

use crate::tls::pinned::PinnedCerts;

#[derive(Debug)]
pub struct TrustedOrPinned {
    webpki: Arc<WebPkiServerVerifier>,
    pinned: PinnedCerts,
}

impl TrustedOrPinned {
    pub fn new(
        trusted: &[CertificateDer<'static>],
        roots: RootCertStore,
        provider: &Arc<CryptoProvider>,
    ) -> Result<Self, String> {
        let webpki = WebPkiServerVerifier::builder_with_provider(roots.into(), provider.clone())
            .build()
            .map_err(|err| err.to_string())?;
        Ok(TrustedOrPinned {
            webpki,
            pinned: PinnedCerts::new(trusted, provider.signature_verification_algorithms),
        })
    }
}

impl ServerCertVerifier for TrustedOrPinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let verdict = self
            .webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map(drop);
        if verdict.is_ok() {
            return Ok(ServerCertVerified::assertion());
        }
        self.pinned.reconsider(verdict, end_entity, now)?;
        // webpki stopped before the name: a pinned certificate must still be for this server.
        verify_server_name(&ParsedCertificate::try_from(end_entity)?, server_name)?;
        Ok(ServerCertVerified::assertion())
    }

    crate::tls::handshake_signatures::handshake_signatures!(pinned.algorithms);
}

#[cfg(test)]
mod tests {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    use tokio_rustls::rustls::CertificateError;

    use super::*;

    /// What `openssl req -x509` makes: self-signed, `CA:TRUE`, for `localhost`.
    fn self_signed_ca() -> CertificateDer<'static> {
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    fn verify(
        trusted: &CertificateDer<'static>,
        presented: &CertificateDer<'_>,
        name: &str,
    ) -> Result<(), Error> {
        let provider = crate::tls::provider();
        let trusted = [trusted.clone()];
        let roots = crate::tls::pinned::root_store(&trusted).unwrap();
        let verifier = TrustedOrPinned::new(&trusted, roots, &provider).unwrap();
        let name = ServerName::try_from(name.to_owned()).unwrap();
        verifier
            .verify_server_cert(presented, &[], &name, &[], UnixTime::now())
            .map(drop)
    }

    #[test]
    fn the_trusted_self_signed_ca_certificate_is_accepted_for_its_name() {
        let cert = self_signed_ca();
        assert_eq!(verify(&cert, &cert, "localhost"), Ok(()));
        assert!(
            matches!(
                verify(&cert, &cert, "elsewhere.test"),
                Err(Error::InvalidCertificate(
                    CertificateError::NotValidForNameContext { .. }
                ))
            ),
            "{:?}",
            verify(&cert, &cert, "elsewhere.test")
        );
    }

    #[test]
    fn a_pinned_certificate_needs_its_own_valid_signature() {
        // The same damaged bytes trusted and presented: identical, but not signed by its key.
        let mut damaged = self_signed_ca().as_ref().to_vec();
        *damaged.last_mut().unwrap() ^= 0x01;
        let damaged = CertificateDer::from(damaged);
        assert_eq!(
            verify(&damaged, &damaged, "localhost"),
            Err(Error::InvalidCertificate(CertificateError::BadSignature))
        );
    }

    #[test]
    fn another_ca_certificate_is_still_refused_as_one() {
        let (trusted, presented) = (self_signed_ca(), self_signed_ca());
        match verify(&trusted, &presented, "localhost") {
            Err(Error::InvalidCertificate(err)) => {
                assert!(
                    crate::tls::pinned::is_ca_used_as_end_entity(&err),
                    "{err:?}"
                )
            }
            other => panic!("{other:?}"),
        }
    }
}
