//! The rustls set-up both sides share: ring as the one provider compiled in (whatever the
//! process default is), the safe protocol versions (TLS 1.2 and 1.3), and ALPN `h2` alone.

pub mod handshake_signatures;
pub mod pem;
pub mod pinned;

use std::sync::Arc;

use color_eyre::eyre::{Result, eyre};
use tokio_rustls::rustls::crypto::{CryptoProvider, ring};
use tokio_rustls::rustls::{ClientConfig, ConfigBuilder, ServerConfig, WantsVerifier};

pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

pub fn client_builder(
    provider: &Arc<CryptoProvider>,
) -> Result<ConfigBuilder<ClientConfig, WantsVerifier>> {
    ClientConfig::builder_with_provider(Arc::clone(provider))
        .with_safe_default_protocol_versions()
        .map_err(|err| eyre!("could not set up TLS: {err}"))
}

pub fn server_builder(
    provider: &Arc<CryptoProvider>,
) -> Result<ConfigBuilder<ServerConfig, WantsVerifier>> {
    ServerConfig::builder_with_provider(Arc::clone(provider))
        .with_safe_default_protocol_versions()
        .map_err(|err| eyre!("could not set up TLS: {err}"))
}

/// ALPN: gRPC is HTTP/2 only, and grpc-go refuses a TLS peer that does not say `h2`.
pub fn h2_only() -> Vec<Vec<u8>> {
    vec![b"h2".to_vec()]
}
