//! The half of a rustls certificate verifier that checks the handshake's signatures, the same
//! for every verifier here (the webpki-backed ones and `--insecure-skip-verify`'s): the
//! provider's algorithms, as rustls' own webpki verifiers use them.

/// Implements `verify_tls12_signature`, `verify_tls13_signature` and
/// `supported_verify_schemes` with the `WebPkiSupportedAlgorithms` at `self.$field`.
macro_rules! handshake_signatures {
    ($($field:ident).+) => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &rustls_pki_types::CertificateDer<'_>,
            dss: &tokio_rustls::rustls::DigitallySignedStruct,
        ) -> Result<
            tokio_rustls::rustls::client::danger::HandshakeSignatureValid,
            tokio_rustls::rustls::Error,
        > {
            tokio_rustls::rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.$($field).+,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &rustls_pki_types::CertificateDer<'_>,
            dss: &tokio_rustls::rustls::DigitallySignedStruct,
        ) -> Result<
            tokio_rustls::rustls::client::danger::HandshakeSignatureValid,
            tokio_rustls::rustls::Error,
        > {
            tokio_rustls::rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.$($field).+,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<tokio_rustls::rustls::SignatureScheme> {
            self.$($field).+.supported_schemes()
        }
    };
}

pub(crate) use handshake_signatures;
