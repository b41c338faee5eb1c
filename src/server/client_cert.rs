//! How `serve --tls-client-ca` checks a client's certificate: webpki against the given CAs,
//! and a self-signed certificate that is itself in the file accepted as pinned (see `pinned`).

use std::sync::Arc;

use rustls_pki_types::{CertificateDer, UnixTime};
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use tokio_rustls::rustls::{DistinguishedName, Error, RootCertStore};

use crate::tls::pinned::PinnedCerts;

#[derive(Debug)]
pub struct TrustedOrPinned {
    webpki: Arc<dyn ClientCertVerifier>,
    pinned: PinnedCerts,
}

impl TrustedOrPinned {
    pub fn new(
        trusted: &[CertificateDer<'static>],
        roots: RootCertStore,
        provider: &Arc<CryptoProvider>,
    ) -> Result<Self, String> {
        let webpki = WebPkiClientVerifier::builder_with_provider(roots.into(), provider.clone())
            .build()
            .map_err(|err| err.to_string())?;
        Ok(TrustedOrPinned {
            webpki,
            pinned: PinnedCerts::new(trusted, provider.signature_verification_algorithms),
        })
    }
}

impl ClientCertVerifier for TrustedOrPinned {
    fn offer_client_auth(&self) -> bool {
        self.webpki.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.webpki.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.webpki.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        let verdict = self
            .webpki
            .verify_client_cert(end_entity, intermediates, now)
            .map(drop);
        self.pinned.reconsider(verdict, end_entity, now)?;
        Ok(ClientCertVerified::assertion())
    }

    crate::tls::handshake_signatures::handshake_signatures!(pinned.algorithms);
}
