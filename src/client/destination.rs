//! Where a channel's connections go, once resolved: the TCP addresses to try in turn, or a
//! Unix socket's path. Plain data, shared by the transport and the diagnosis.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub enum Destination {
    /// Each address in turn until one accepts.
    Tcp(Arc<[SocketAddr]>),
    Unix(PathBuf),
}
