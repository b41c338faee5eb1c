//! Opening the channel: resolve, try every address, and say precisely why it failed.

use std::io;
use std::net::SocketAddr;

use hyper_util::rt::TokioIo;
use tokio::net::{TcpStream, UnixStream};
use tonic::Code;
use tonic::transport::{Channel, Endpoint, Uri};

use crate::address::{Host, Target};
use crate::exit::CallFailed;
use crate::report::describe_io;

/// Connects to `target` (TCP: every address its host resolves to, in order, until one
/// answers). Every failure is UNAVAILABLE, as in grpc-go.
pub async fn connect(target: &Target) -> Result<Channel, CallFailed> {
    let endpoint = endpoint(target)?;
    let connected = match target {
        Target::Tcp { host, port } => {
            let addrs = resolve(host, *port).await.map_err(|err| {
                unavailable(format!(
                    "could not resolve {host} ({}): check the host name in --addr",
                    describe_io(&err)
                ))
            })?;
            endpoint
                .connect_with_connector(tower::service_fn(move |_: Uri| {
                    let addrs = addrs.clone();
                    async move { connect_tcp(&addrs).await.map(TokioIo::new) }
                }))
                .await
        }
        Target::Unix(path) => {
            let path = path.clone();
            endpoint
                .connect_with_connector(tower::service_fn(move |_: Uri| {
                    let path = path.clone();
                    async move { UnixStream::connect(path).await.map(TokioIo::new) }
                }))
                .await
        }
    };
    connected.map_err(|err| connect_failure(target, &err))
}

/// What greeter calls itself in `user-agent`.
pub const USER_AGENT: &str = concat!("greeter/", env!("CARGO_PKG_VERSION"));

fn endpoint(target: &Target) -> Result<Endpoint, CallFailed> {
    // The URI only sets `:authority`; the connectors above decide where the bytes go. A Unix
    // socket has no host, and "localhost" is what grpc-go sends for one.
    let authority = match target {
        Target::Tcp { .. } => target.to_string(),
        Target::Unix(_) => "localhost".to_owned(),
    };
    let endpoint = Endpoint::from_shared(format!("http://{authority}"))
        .map_err(|err| unavailable(format!("{target} is not a usable address: {err}")))?;
    Ok(endpoint
        .user_agent(USER_AGENT)
        .expect("a static user agent is a valid header value"))
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

/// Tries each address in turn; the error is the last one's, as grpc-go reports it.
async fn connect_tcp(addrs: &[SocketAddr]) -> io::Result<TcpStream> {
    let mut last_error = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            Err(err) => last_error = Some(err),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address")))
}

fn connect_failure(target: &Target, err: &(dyn std::error::Error + 'static)) -> CallFailed {
    let io_error = std::iter::successors(Some(err), |e| e.source())
        .find_map(|e| e.downcast_ref::<io::Error>());
    let cause = io_error.map_or_else(|| err.to_string(), describe_io);
    let hint = match (io_error.map(io::Error::kind), target) {
        (Some(io::ErrorKind::ConnectionRefused), _) => "is `greeter serve` running?",
        (Some(io::ErrorKind::NotFound), Target::Unix(_)) => {
            "is `greeter serve` running on that socket?"
        }
        (Some(io::ErrorKind::PermissionDenied), Target::Unix(_)) => {
            "check the socket file's permissions"
        }
        _ => "check --addr and that the server is reachable",
    };
    unavailable(format!("could not connect to {target} ({cause}): {hint}"))
}

fn unavailable(message: String) -> CallFailed {
    CallFailed::new(Code::Unavailable, message)
}
