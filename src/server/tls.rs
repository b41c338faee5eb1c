//! TLS for `greeter serve` (`--tls-cert`, `--tls-key`, `--tls-client-ca`): the rustls set-up,
//! read once at start, and the handshake each worker makes on its own connections.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use color_eyre::eyre::{Result, eyre};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self};

use super::client_cert::TrustedOrPinned;
use crate::tls::{pem, pinned};

/// A client that has not finished its handshake by then is dropped, so idle sockets cannot
/// pile up.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the server's TLS material is.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Require client certificates signed by these CAs.
    pub client_ca: Option<PathBuf>,
}

/// Reads the files and builds the acceptor every worker shares.
pub fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor> {
    let provider = crate::tls::provider();
    let chain = pem::certificates(&files.cert, "--tls-cert")?;
    let key = pem::private_key(&files.key, "--tls-key")?;
    let builder = crate::tls::server_builder(&provider)?;
    let builder = match &files.client_ca {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let trusted = pem::certificates(path, "--tls-client-ca")?;
            let roots = pinned::root_store(&trusted).map_err(|err| {
                eyre!(
                    "{} (--tls-client-ca) holds an unusable CA certificate: {err}",
                    path.display()
                )
            })?;
            let verifier = TrustedOrPinned::new(&trusted, roots, &provider)
                .map_err(|err| eyre!("could not use {} as client CAs: {err}", path.display()))?;
            builder.with_client_cert_verifier(Arc::new(verifier))
        }
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|err| {
        eyre!(
            "{} and {} do not make a usable certificate and key: {err}",
            files.cert.display(),
            files.key.display()
        )
    })?;
    config.alpn_protocols = crate::tls::h2_only();
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The TLS handshake on an accepted connection, bounded in time. A failure is logged with the
/// peer and the reason (a plaintext client on a TLS port says so), and the connection dropped.
pub async fn handshake<IO>(
    acceptor: &TlsAcceptor,
    io: IO,
    peer: &str,
) -> Option<tokio_rustls::server::TlsStream<IO>>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(io)).await {
        Ok(Ok(stream)) => Some(stream),
        // Load balancers' and Kubernetes' TCP checks connect and leave without a word.
        Ok(Err(err)) if err.kind() == std::io::ErrorKind::UnexpectedEof => {
            tracing::debug!("{peer} closed the connection before a TLS handshake");
            None
        }
        Ok(Err(err)) => {
            tracing::info!("TLS handshake with {peer} failed: {}", explain(&err));
            None
        }
        Err(_) => {
            tracing::info!(
                "TLS handshake with {peer} failed: no handshake within {}",
                humantime::format_duration(HANDSHAKE_TIMEOUT)
            );
            None
        }
    }
}

fn explain(err: &std::io::Error) -> String {
    let rustls_error = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match rustls_error {
        Some(rustls::Error::InvalidMessage(_)) => {
            "the client does not speak TLS (plaintext HTTP/2?): it must use TLS".into()
        }
        Some(rustls::Error::NoCertificatesPresented) => {
            "the client sent no certificate, and --tls-client-ca requires one".into()
        }
        Some(rustls::Error::InvalidCertificate(reason)) => {
            format!("the client's certificate was refused: {reason:?}")
        }
        Some(rustls::Error::AlertReceived(alert)) => format!(
            "the client ended the handshake with the alert {alert:?}: does it trust this \
             server's certificate (its CA, its names, its dates)?"
        ),
        Some(other) => other.to_string(),
        None => crate::report::describe_io(err),
    }
}
