//! A self-signed certificate given as the trusted one (`hello --ca-cert`, `serve
//! --tls-client-ca`) is accepted as the peer's own, as curl, grpc-go and OpenSSL accept it.
//!
//! `openssl req -x509` (OpenSSL 3) marks the certificate it makes `CA:TRUE`, and webpki refuses
//! any CA certificate as an end entity. When the peer presents a certificate that is byte for
//! byte one of the trusted ones, its validity dates and its own signature are checked here
//! instead (the name by the caller); everything else keeps webpki's verdict.

use std::sync::Arc;

use rustls_pki_types::{CertificateDer, UnixTime};
use tokio_rustls::rustls::crypto::WebPkiSupportedAlgorithms;
use tokio_rustls::rustls::{CertificateError, Error, OtherError, RootCertStore};
use x509_parser::prelude::{FromDer, X509Certificate};

/// The certificates of a trusted-CA file, kept to recognise a pinned one.
#[derive(Debug, Clone)]
pub struct PinnedCerts {
    certs: Arc<[CertificateDer<'static>]>,
    /// The provider's signature algorithms, which check the handshakes too.
    pub algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedCerts {
    pub fn new(trusted: &[CertificateDer<'static>], algorithms: WebPkiSupportedAlgorithms) -> Self {
        PinnedCerts {
            certs: trusted.into(),
            algorithms,
        }
    }

    /// What to make of webpki's `verdict` on `end_entity`: a refusal only because a pinned
    /// certificate is a CA certificate becomes the verdict of [`PinnedCerts::check`]; any
    /// other verdict stands.
    pub fn reconsider(
        &self,
        verdict: Result<(), Error>,
        end_entity: &CertificateDer<'_>,
        now: UnixTime,
    ) -> Result<(), Error> {
        match verdict {
            Err(Error::InvalidCertificate(err))
                if is_ca_used_as_end_entity(&err) && self.is_pinned(end_entity) =>
            {
                self.check(end_entity, now)
            }
            verdict => verdict,
        }
    }

    fn is_pinned(&self, end_entity: &CertificateDer<'_>) -> bool {
        self.certs
            .iter()
            .any(|cert| cert.as_ref() == end_entity.as_ref())
    }

    /// A pinned certificate's validity dates at `now`, and its signature by its own key.
    fn check(&self, cert: &CertificateDer<'_>, now: UnixTime) -> Result<(), Error> {
        let (_, parsed) = X509Certificate::from_der(cert.as_ref())
            .map_err(|_| Error::from(CertificateError::BadEncoding))?;
        let validity = parsed.validity();
        let at = |seconds: i64| {
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(
                seconds.max(0).unsigned_abs(),
            ))
        };
        let (not_before, not_after) = (
            at(validity.not_before.timestamp()),
            at(validity.not_after.timestamp()),
        );
        if now < not_before {
            return Err(CertificateError::NotValidYetContext {
                time: now,
                not_before,
            }
            .into());
        }
        if now > not_after {
            return Err(CertificateError::ExpiredContext {
                time: now,
                not_after,
            }
            .into());
        }
        self.check_self_signature(cert, &parsed)
    }

    /// The signature over the certificate's own contents, with any of the provider's
    /// algorithms that has the certificate's signature algorithm (webpki checks that the
    /// algorithm also fits the key).
    fn check_self_signature(
        &self,
        cert: &CertificateDer<'_>,
        parsed: &X509Certificate<'_>,
    ) -> Result<(), Error> {
        let end_entity = webpki::EndEntityCert::try_from(cert)
            .map_err(|_| Error::from(CertificateError::BadEncoding))?;
        // webpki names an algorithm by the DER of its AlgorithmIdentifier's contents, which
        // open with the OID; the parameters (RSA-PSS's hash) are left for the key to decide.
        let oid = parsed.signature_algorithm.algorithm.as_bytes();
        let prefix = [&[0x06, u8::try_from(oid.len()).unwrap_or(u8::MAX)][..], oid].concat();
        let signed = parsed.tbs_certificate.as_ref();
        let signature = parsed.signature_value.data.as_ref();
        let mut candidates = self
            .algorithms
            .all
            .iter()
            .filter(|alg| alg.signature_alg_id().as_ref().starts_with(&prefix))
            .peekable();
        if candidates.peek().is_none() {
            return Err(CertificateError::UnsupportedSignatureAlgorithmContext {
                signature_algorithm_id: prefix,
                supported_algorithms: self
                    .algorithms
                    .all
                    .iter()
                    .map(|alg| alg.signature_alg_id())
                    .collect(),
            }
            .into());
        }
        if candidates.any(|alg| end_entity.verify_signature(*alg, signed, signature).is_ok()) {
            Ok(())
        } else {
            Err(CertificateError::BadSignature.into())
        }
    }
}

/// A trust store with every certificate of a trusted-CA file as a CA.
pub fn root_store(trusted: &[CertificateDer<'static>]) -> Result<RootCertStore, Error> {
    let mut roots = RootCertStore::empty();
    for cert in trusted {
        roots.add(cert.clone())?;
    }
    Ok(roots)
}

/// webpki's refusal of a CA certificate as an end entity, which rustls passes on only as an
/// opaque error.
pub fn is_ca_used_as_end_entity(err: &CertificateError) -> bool {
    match err {
        CertificateError::Other(OtherError(inner)) => matches!(
            inner.downcast_ref::<webpki::Error>(),
            Some(webpki::Error::CaUsedAsEndEntity)
        ),
        _ => false,
    }
}
