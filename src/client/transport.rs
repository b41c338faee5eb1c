//! How every channel of a run reaches its server, one-shot and replicas alike: the endpoint's
//! HTTP/2 settings (keepalive), then TCP (TCP_NODELAY) or a Unix socket, then TLS (rustls, ALPN
//! h2) or plaintext HTTP/2 behind a sniffer that notices a TLS server.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use color_eyre::eyre::Result;
use http::HeaderValue;
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{ClientConfig, ClientConnection};
use tonic::transport::{Channel, Endpoint, Uri};

use super::destination::Destination;
use super::diagnosis::{Dialed, Trouble, Troubles};
use super::h2_channel::{Dial, H2Channel, KeepAlive, Settings};
use super::insecure::AcceptAnyServerCert;
use super::reconnect::Reconnect;
use super::sniffing_io::{Sniffer, Watched};
use super::tls::{TlsOptions, client_config};
use crate::address::{Host, Target, Targets, UNIX_SOCKET_HOST};

/// The transport flags of `hello`.
#[derive(Debug, Clone, Default)]
pub struct TransportOptions {
    /// TLS for every target (`--tls`, or a flag that implies it), not only `https://` ones.
    pub tls_everywhere: bool,
    pub tls: TlsOptions,
    /// `--server-name`: the SNI and the name the certificate must carry.
    pub server_name: Option<String>,
    pub keepalive_interval: Option<Duration>,
    pub keepalive_timeout: Duration,
    /// The pause after a channel's first failed attempt to connect again (--retry-backoff).
    pub reconnect_backoff: Duration,
    /// --connect-timeout, for the connections replicas' channels make on their own.
    pub connect_timeout: Option<Duration>,
}

/// Checks a `--server-name` as rustls will use it.
pub fn check_server_name(name: &str) -> Result<(), String> {
    ServerName::try_from(name)
        .map(drop)
        .map_err(|_| format!("'{name}' is neither a DNS name nor an IP address"))
}

/// What every connection of a run shares; cheap to clone.
#[derive(Clone)]
pub struct Transport(Arc<Inner>);

struct Inner {
    options: TransportOptions,
    /// Built only when some target speaks TLS.
    tls: Option<Arc<ClientConfig>>,
    troubles: Troubles,
    /// Whether a server asked for a client certificate (see `tls::client_config`).
    asked_for_cert: Arc<AtomicBool>,
    /// Connections the calls' channels opened (not the probe's): the summary's count.
    opened: Arc<AtomicU64>,
}

impl Transport {
    /// Reads the TLS files if a target needs them (a bad file is an error, exit 1).
    pub fn new(options: TransportOptions, targets: &Targets) -> Result<Transport> {
        let needs_tls = options.tls_everywhere
            || targets
                .0
                .iter()
                .any(|target| matches!(target, Target::Tcp { tls: true, .. }));
        let asked_for_cert = Arc::new(AtomicBool::new(false));
        let tls = if needs_tls {
            Some(client_config(&options.tls, Arc::clone(&asked_for_cert))?)
        } else {
            None
        };
        Ok(Transport(Arc::new(Inner {
            options,
            tls,
            troubles: Troubles::default(),
            asked_for_cert,
            opened: Arc::default(),
        })))
    }

    /// How many connections the channels of [`Transport::replica`] have opened so far.
    pub fn connections_opened(&self) -> u64 {
        self.0.opened.load(Ordering::Relaxed)
    }

    /// What the connections of this run saw go wrong, last first.
    pub fn troubles(&self) -> &Troubles {
        &self.0.troubles
    }

    /// If the last trouble was a server closing a plaintext connection without a word, and
    /// that server answers TLS (asked before `deadline`), the trouble that says so.
    pub async fn tls_behind_silence(&self, deadline: Instant) -> Option<Trouble> {
        let (destination, dialed) = self.troubles().take()?.closed_silently?;
        answers_tls(&destination, &dialed, deadline)
            .await
            .then(|| dialed.speaks_tls())
    }

    fn uses_tls(&self, target: &Target) -> bool {
        self.0.options.tls_everywhere || matches!(target, Target::Tcp { tls: true, .. })
    }

    /// The endpoint for `target`, reached at `authority` (which only sets `:authority`; the
    /// connector decides where the bytes go).
    pub fn endpoint(&self, target: &Target, authority: &str) -> Result<Endpoint, String> {
        let scheme = if self.uses_tls(target) {
            "https"
        } else {
            "http"
        };
        let endpoint = Endpoint::from_shared(format!("{scheme}://{authority}"))
            .map_err(|err| err.to_string())?
            .user_agent(USER_AGENT)
            .expect("a static user agent is a valid header value");
        let options = &self.0.options;
        Ok(match options.keepalive_interval {
            Some(interval) => endpoint
                .http2_keep_alive_interval(interval)
                .keep_alive_timeout(options.keepalive_timeout)
                // Only with calls in flight, as grpc-go's clients: a grpc-go server counts pings
                // on an idle connection against the client and sends GOAWAY (too_many_pings).
                .keep_alive_while_idle(false),
            None => endpoint,
        })
    }

    /// Connects `target` at `destination` now.
    pub async fn connect(
        &self,
        target: &Target,
        authority: &str,
        destination: Destination,
    ) -> Result<Channel, ConnectError> {
        let endpoint = self
            .endpoint(target, authority)
            .map_err(ConnectError::Uri)?;
        let dialer = self.dialer(target, destination);
        endpoint
            .connect_with_connector(tower::service_fn(move |_: Uri| dialer.clone().dial()))
            .await
            .map_err(ConnectError::Transport)
    }

    /// A channel to one replica of `target` (one of its addresses, or its socket), connected
    /// at its first call; the URI of its requests (scheme and authority), and how it is
    /// reconnecting.
    pub fn replica(
        &self,
        target: &Target,
        destination: Destination,
    ) -> (H2Channel, Uri, Reconnect) {
        let authority = match &destination {
            Destination::Tcp(addrs) => addrs.first().map(SocketAddr::to_string),
            Destination::Unix(_) => None,
        };
        let authority = authority.unwrap_or_else(|| UNIX_SOCKET_HOST.to_owned());
        let origin = self
            .endpoint(target, &authority)
            .expect("a socket address (an IPv6 zone included) or localhost is a valid authority")
            .uri()
            .clone();
        let options = &self.0.options;
        let settings = Settings {
            keepalive: options.keepalive_interval.map(|interval| KeepAlive {
                interval,
                timeout: options.keepalive_timeout,
            }),
            // A replica that drops packets (a cut link) must fail its connection attempt in
            // time for the call to be retried elsewhere (a first connection has patience's own
            // bound).
            connect_timeout: options.connect_timeout,
            user_agent: HeaderValue::from_static(USER_AGENT),
        };
        let mut dialer = self.dialer(target, destination);
        dialer.opened = Some(Arc::clone(&self.0.opened));
        let reconnect = dialer.reconnect.clone();
        let dial: Dial = Box::new(move || Box::pin(dialer.clone().open_counted()));
        (H2Channel::new(dial, settings), origin, reconnect)
    }

    fn dialer(&self, target: &Target, destination: Destination) -> Dialer {
        let options = &self.0.options;
        let (unix, name) = match target {
            Target::Tcp { host, .. } => (false, host_name(host)),
            Target::Unix(_) => (true, UNIX_SOCKET_HOST.to_owned()),
        };
        let name = options.server_name.clone().unwrap_or(name);
        let peer = Dialed {
            addr: target.to_string().into(),
            name: name.as_str().into(),
            client_cert: options.tls.cert.is_some(),
            unix,
        };
        let tls = self
            .0
            .tls
            .as_ref()
            .filter(|_| self.uses_tls(target))
            .map(|config| (TlsConnector::from(Arc::clone(config)), name));
        Dialer {
            destination,
            tls,
            peer,
            troubles: self.0.troubles.clone(),
            asked_for_cert: Arc::clone(&self.0.asked_for_cert),
            reconnect: Reconnect::new(options.reconnect_backoff),
            opened: None,
        }
    }
}

/// What greeter calls itself in `user-agent`.
pub const USER_AGENT: &str = concat!("greeter/", env!("CARGO_PKG_VERSION"));

/// The name a certificate must carry for `host`: an IP address is checked against the
/// certificate's IP SANs, a name against its DNS SANs.
fn host_name(host: &Host) -> String {
    match host {
        Host::Ip(ip) => ip.to_string(),
        Host::Name(name) => name.clone(),
    }
}

/// Why [`Transport::connect`] failed.
#[derive(Debug)]
pub enum ConnectError {
    Uri(String),
    Transport(tonic::transport::Error),
}

/// Any stream the channel can speak HTTP/2 over.
pub trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

/// Opens one connection, as tonic asks (again after a connection broke).
#[derive(Clone)]
struct Dialer {
    destination: Destination,
    /// The connector and the server name to check, when this target speaks TLS.
    tls: Option<(TlsConnector, String)>,
    peer: Dialed,
    troubles: Troubles,
    asked_for_cert: Arc<AtomicBool>,
    /// Shared by the clones tonic makes: one per channel.
    reconnect: Reconnect,
    /// Counts the connections opened, for the summary.
    opened: Option<Arc<AtomicU64>>,
}

impl Dialer {
    /// Connects, unless the last attempt failed and the next is not due yet.
    async fn dial(self) -> io::Result<TokioIo<Box<dyn Stream>>> {
        self.open_counted().await.map(TokioIo::new)
    }

    /// As `dial`, the stream itself.
    async fn open_counted(self) -> io::Result<Box<dyn Stream>> {
        self.reconnect.check()?;
        match self.open().await {
            Ok(stream) => {
                if let Some(opened) = &self.opened {
                    opened.fetch_add(1, Ordering::Relaxed);
                }
                // A plaintext connection counts once the server answers HTTP/2 (the sniffer
                // tells); a TLS one once its handshake is done, which is now.
                if self.tls.is_some() {
                    self.reconnect.connected();
                }
                Ok(stream)
            }
            Err(err) => {
                self.reconnect.failed(&err);
                Err(err)
            }
        }
    }

    async fn open(&self) -> io::Result<Box<dyn Stream>> {
        let could_not =
            |err: io::Error| io::Error::new(err.kind(), self.peer.could_not_connect(&err));
        match &self.destination {
            Destination::Tcp(addrs) => {
                self.secure(connect_tcp(addrs).await.map_err(could_not)?)
                    .await
            }
            Destination::Unix(path) => {
                self.secure(UnixStream::connect(path).await.map_err(could_not)?)
                    .await
            }
        }
    }

    async fn secure<S: Stream + 'static>(&self, raw: S) -> io::Result<Box<dyn Stream>> {
        let (peer, troubles) = (self.peer.clone(), self.troubles.clone());
        let Some((connector, name)) = &self.tls else {
            let destination = self.destination.clone();
            let reconnect = self.reconnect.clone();
            return Ok(Box::new(Sniffer::new(
                raw,
                peer,
                troubles,
                destination,
                reconnect,
            )));
        };
        let server_name = ServerName::try_from(name.clone()).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("'{name}' cannot be checked against a certificate: set --server-name"),
            )
        })?;
        match connector.connect(server_name, raw).await {
            Ok(stream) => {
                let asked = Arc::clone(&self.asked_for_cert);
                Ok(Box::new(Watched::new(stream, peer, troubles, asked)))
            }
            Err(err) => Err(peer.tls_failure(&err, true).into_io(err.kind())),
        }
    }
}

/// Tries each address in turn; the error is the last one's, as grpc-go reports it.
async fn connect_tcp(addrs: &[SocketAddr]) -> io::Result<TcpStream> {
    let mut last_error = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                // Small gRPC messages must not wait for Nagle's algorithm.
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            Err(err) => last_error = Some(err),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address")))
}

/// How long the check of a silent server may take: it runs only after a call failed.
const PROBE_LIMIT: Duration = Duration::from_secs(1);

/// Whether the server at `destination` answers a TLS ClientHello with a TLS record. Asked only
/// after a plaintext connection was closed without a word, to tell the user whether TLS is why.
async fn answers_tls(destination: &Destination, peer: &Dialed, deadline: Instant) -> bool {
    let probe = async {
        let hello = client_hello(&peer.name)?;
        match destination {
            Destination::Tcp(addrs) => send_hello(connect_tcp(addrs).await?, &hello).await,
            Destination::Unix(path) => send_hello(UnixStream::connect(path).await?, &hello).await,
        }
    };
    let until = deadline.min(Instant::now() + PROBE_LIMIT);
    matches!(tokio::time::timeout_at(until, probe).await, Ok(Ok(true)))
}

/// The bytes of a ClientHello offering h2, as rustls would send it.
fn client_hello(name: &str) -> io::Result<Vec<u8>> {
    let provider = crate::tls::provider();
    let mut config = crate::tls::client_builder(&provider)
        .map_err(|err| io::Error::other(err.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyServerCert::new(&provider)))
        .with_no_client_auth();
    config.alpn_protocols = crate::tls::h2_only();
    let name = ServerName::try_from(name.to_owned()).unwrap_or_else(|_| {
        ServerName::try_from(UNIX_SOCKET_HOST).expect("the constant \"localhost\" is a DNS name")
    });
    let mut connection = ClientConnection::new(Arc::new(config), name).map_err(io::Error::other)?;
    let mut hello = Vec::new();
    connection.write_tls(&mut hello)?;
    Ok(hello)
}

async fn send_hello<S: Stream>(mut stream: S, hello: &[u8]) -> io::Result<bool> {
    stream.write_all(hello).await?;
    let mut first = [0u8; 2];
    stream.read_exact(&mut first).await?;
    Ok(matches!(first, [0x15 | 0x16, 0x03]))
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv6Addr, SocketAddrV6};

    use super::*;

    #[test]
    fn every_address_a_resolver_gives_is_a_valid_authority() {
        // `lazy` relies on it: a link-local answer carries its zone (`[fe80::1%2]:50051`).
        let transport = Transport::new(TransportOptions::default(), &Targets(Vec::new())).unwrap();
        let target: Target = "localhost:50051".parse().unwrap();
        let link_local = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
        let zoned = SocketAddr::V6(SocketAddrV6::new(link_local, 50051, 0, 2));
        assert_eq!(zoned.to_string(), "[fe80::1%2]:50051");
        for addr in [
            zoned,
            "127.0.0.1:0".parse().unwrap(),
            "[::1]:65535".parse().unwrap(),
        ] {
            assert!(
                transport.endpoint(&target, &addr.to_string()).is_ok(),
                "{addr}"
            );
        }
        assert!(transport.endpoint(&target, UNIX_SOCKET_HOST).is_ok());
    }
}
