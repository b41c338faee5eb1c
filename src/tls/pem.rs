//! Reading the PEM files of TLS (`--tls-cert`, `--tls-key`, `--tls-client-ca` of serve;
//! `--ca-cert`, `--cert`, `--key` of hello), with errors that name the flag and the file.

use std::path::Path;

use color_eyre::eyre::{Result, eyre};
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::report::describe_io;

/// Every certificate in a PEM file; none is an error.
pub fn certificates(path: &Path, flag: &str) -> Result<Vec<CertificateDer<'static>>> {
    let bytes = read(path, flag)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| invalid_pem(path, flag, &err))?;
    if certs.is_empty() {
        return Err(eyre!(
            "{flag} {}: no certificate found (expected PEM: -----BEGIN CERTIFICATE-----)",
            path.display()
        ));
    }
    Ok(certs)
}

/// The first private key in a PEM file: PKCS#8, PKCS#1 or SEC1.
pub fn private_key(path: &Path, flag: &str) -> Result<PrivateKeyDer<'static>> {
    let bytes = read(path, flag)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|err| match err {
        pem::Error::NoItemsFound => eyre!(
            "{flag} {}: no private key found (expected PEM: PKCS#8, PKCS#1 or SEC1, e.g. \
             -----BEGIN PRIVATE KEY-----)",
            path.display()
        ),
        err => invalid_pem(path, flag, &err),
    })
}

fn read(path: &Path, flag: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|err| {
        eyre!(
            "could not read {flag} {}: {}",
            path.display(),
            describe_io(&err)
        )
    })
}

fn invalid_pem(path: &Path, flag: &str, err: &pem::Error) -> color_eyre::eyre::Report {
    // pem::Error shows the lines it quotes as byte arrays; people read them as text.
    let problem = match err {
        pem::Error::MissingSectionEnd { end_marker } => format!(
            "a section never ends (no \"{}\" line)",
            String::from_utf8_lossy(end_marker)
        ),
        pem::Error::IllegalSectionStart { line } => {
            format!("malformed line \"{}\"", String::from_utf8_lossy(line))
        }
        pem::Error::Base64Decode(_) => "a section is not valid base64".to_owned(),
        other => other.to_string(),
    };
    eyre!("{flag} {}: invalid PEM: {problem}", path.display())
}
