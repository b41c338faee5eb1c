//! The rustls client configuration: which CAs to trust, which identity to present, ALPN `h2`.
//!
//! Built once per run and only when some target speaks TLS: loading the system's CAs costs
//! milliseconds a plaintext one-shot `hello` should not pay.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use color_eyre::eyre::{Result, eyre};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::client::ResolvesClientCert;
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::{ClientConfig, Error, InconsistentKeys, RootCertStore, SignatureScheme};

use super::insecure::AcceptAnyServerCert;
use super::server_cert::TrustedOrPinned;
use crate::tls::{pem, pinned};

/// The TLS flags of `hello`.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    pub ca_cert: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub insecure_skip_verify: bool,
}

/// The warning `--insecure-skip-verify` prints, once per run.
pub const INSECURE_WARNING: &str = "warning: --insecure-skip-verify: the server's certificate is \
not checked; anyone in the middle can read this connection";

/// Reads the files the options name and builds the configuration. A file that cannot be read or
/// holds no usable PEM is an error naming the file (exit 1), before anything connects.
///
/// `asked` is set when a server asks for a client certificate: grpc-core (BoringSSL) servers
/// close the connection without an alert when they get none or reject it, and that flag is
/// then all that tells this apart from any other connection closed after the handshake.
pub fn client_config(options: &TlsOptions, asked: Arc<AtomicBool>) -> Result<Arc<ClientConfig>> {
    let provider = crate::tls::provider();
    let builder = crate::tls::client_builder(&provider)?;
    let builder = if options.insecure_skip_verify {
        eprintln!("{INSECURE_WARNING}");
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyServerCert::new(&provider)))
    } else if let Some(path) = &options.ca_cert {
        let trusted = pem::certificates(path, "--ca-cert")?;
        let roots = pinned::root_store(&trusted).map_err(|err| {
            eyre!(
                "--ca-cert {}: a certificate is not usable as a CA: {err}",
                path.display()
            )
        })?;
        let verifier = TrustedOrPinned::new(&trusted, roots, &provider)
            .map_err(|err| eyre!("--ca-cert {}: {err}", path.display()))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
    } else {
        builder.with_root_certificates(system_roots()?)
    };
    let mut config = match (&options.cert, &options.key) {
        (Some(cert), Some(key)) => {
            let chain = pem::certificates(cert, "--cert")?;
            let private_key = pem::private_key(key, "--key")?;
            check_pair(&provider, &chain, &private_key, cert, key)?;
            builder
                .with_client_auth_cert(chain, private_key)
                .map_err(|err| {
                    eyre!(
                        "--cert {} and --key {} cannot be used: {err}",
                        cert.display(),
                        key.display()
                    )
                })?
        }
        _ => builder.with_no_client_auth(),
    };
    config.alpn_protocols = crate::tls::h2_only();
    config.client_auth_cert_resolver = Arc::new(NoteRequest {
        inner: Arc::clone(&config.client_auth_cert_resolver),
        asked,
    });
    Ok(Arc::new(config))
}

/// Resolves the client certificate as before, noting that a server asked for one.
#[derive(Debug)]
struct NoteRequest {
    inner: Arc<dyn ResolvesClientCert>,
    asked: Arc<AtomicBool>,
}

impl ResolvesClientCert for NoteRequest {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.asked.store(true, Ordering::Relaxed);
        self.inner.resolve(root_hint_subjects, sigschemes)
    }

    fn has_certs(&self) -> bool {
        self.inner.has_certs()
    }
}

/// The system's CAs, when no `--ca-cert` is given.
fn system_roots() -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    // Unreadable entries are skipped, as every TLS client does; only "none at all" is worth
    // stopping for.
    let found = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(eyre!(
            "no trusted CA certificates found on this system{}: give the server's CA with \
             --ca-cert",
            found
                .errors
                .first()
                .map(|err| format!(" ({err})"))
                .unwrap_or_default()
        ));
    }
    Ok(roots)
}

/// A key that does not belong to the certificate would only fail in the middle of a
/// handshake, with an alert that names neither file.
fn check_pair(
    provider: &CryptoProvider,
    chain: &[CertificateDer<'static>],
    key: &PrivateKeyDer<'static>,
    cert_path: &Path,
    key_path: &Path,
) -> Result<()> {
    let signing_key = provider
        .key_provider
        .load_private_key(key.clone_key())
        .map_err(|err| eyre!("--key {}: unusable private key: {err}", key_path.display()))?;
    let certified = CertifiedKey::new(chain.to_vec(), signing_key);
    certified.keys_match().map_err(|err| match err {
        Error::InconsistentKeys(InconsistentKeys::KeyMismatch) => eyre!(
            "--key {} is not the private key of --cert {}: give the key the certificate was \
             made for",
            key_path.display(),
            cert_path.display()
        ),
        err => eyre!(
            "--cert {}: unusable certificate: {err}",
            cert_path.display()
        ),
    })
}
