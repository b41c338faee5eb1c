//! Opening the channel: resolve, try every address, and say precisely why it failed.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tonic::Code;
use tonic::transport::Channel;

use super::destination::Destination;
use super::diagnosis::{DialFailed, Trouble, carried};
use super::transport::{ConnectError, Transport};
use crate::address::{Host, Target, UNIX_SOCKET_HOST};
use crate::exit::CallFailed;
use crate::report::describe_io;

/// Connects to `target` (TCP: every address its host resolves to, in order, until one
/// answers). Every failure is UNAVAILABLE, as in grpc-go.
pub async fn connect(target: &Target, transport: &Transport) -> Result<Channel, CallFailed> {
    let (authority, destination) = match target {
        Target::Tcp { host, port, .. } => {
            let addrs = resolve(host, *port).await.map_err(|err| {
                unavailable(format!(
                    "could not resolve {host} ({}): check the host name in --addr",
                    describe_io(&err)
                ))
            })?;
            (target.to_string(), Destination::Tcp(Arc::from(addrs)))
        }
        Target::Unix(path) => (UNIX_SOCKET_HOST.to_owned(), Destination::Unix(path.clone())),
    };
    match transport.connect(target, &authority, destination).await {
        Ok(channel) => Ok(channel),
        Err(ConnectError::Uri(err)) => Err(unavailable(format!(
            "{target} is not a usable address: {err}"
        ))),
        Err(ConnectError::Transport(err)) => Err(connect_failure(target, &err)),
    }
}

pub async fn resolve(host: &Host, port: u16) -> io::Result<Vec<SocketAddr>> {
    match host {
        Host::Ip(ip) => Ok(vec![SocketAddr::new(*ip, port)]),
        Host::Name(name) => {
            let addrs: Vec<_> = tokio::net::lookup_host((name.as_str(), port))
                .await?
                .collect();
            if addrs.is_empty() {
                return Err(io::Error::new(io::ErrorKind::NotFound, "no address"));
            }
            Ok(addrs)
        }
    }
}

fn connect_failure(target: &Target, err: &(dyn std::error::Error + 'static)) -> CallFailed {
    if let Some(dial) = carried::<DialFailed>(err) {
        return unavailable(dial.0.clone());
    }
    if let Some(trouble) = carried::<Trouble>(err) {
        return unavailable(format!("could not connect to {target}: {trouble}"));
    }
    // The connection was made and HTTP/2 failed on it.
    let io_error = std::iter::successors(Some(err), |e| e.source())
        .find_map(|e| e.downcast_ref::<io::Error>());
    let cause = io_error.map_or_else(|| err.to_string(), describe_io);
    unavailable(format!(
        "could not connect to {target} ({cause}): check --addr and that the server is reachable"
    ))
}

fn unavailable(message: String) -> CallFailed {
    CallFailed::new(Code::Unavailable, message)
}
