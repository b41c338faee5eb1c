//! The address forms of the contract, parsed once into types the server and client match on.
//!
//! Parsing is purely syntactic: host names are resolved when binding or connecting, so a typo is
//! a usage error (exit 2) before anything touches the network.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::str::FromStr;

/// Where `greeter serve` listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    /// `:PORT`: every interface, IPv6 and IPv4 where the host has IPv6.
    AllInterfaces { port: u16 },
    /// `HOST:PORT`, `IPV4:PORT` or `[IPV6]:PORT`.
    Host { host: Host, port: u16 },
    /// `unix:PATH` or `unix:///ABS/PATH`.
    Unix(PathBuf),
}

/// The host a Unix socket is taken to have: a socket has none, and `localhost` is what
/// grpc-go sends as `:authority` and checks a TLS certificate against.
pub const UNIX_SOCKET_HOST: &str = "localhost";

/// Where `greeter hello` connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `HOST:PORT`, `:PORT`, `[IPV6]:PORT` or `http://HOST:PORT`: plaintext HTTP/2, unless
    /// `tls` (`https://HOST:PORT`, or a TLS flag on the command line).
    Tcp { host: Host, port: u16, tls: bool },
    /// `unix:PATH` or `unix:///ABS/PATH`.
    Unix(PathBuf),
}

/// Every `--addr` of `greeter hello`, in the order given: the replicas to spread calls over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targets(pub Vec<Target>);

impl fmt::Display for Targets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, target) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            write!(f, "{target}")?;
        }
        Ok(())
    }
}

/// A host as written: an IP literal or a name to resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Ip(IpAddr),
    Name(String),
}

/// Why an address was refused; the text says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrError(String);

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AddrError {}

fn error(message: impl Into<String>) -> AddrError {
    AddrError(message.into())
}

impl FromStr for ListenAddr {
    type Err = AddrError;

    fn from_str(text: &str) -> Result<Self, AddrError> {
        if let Some(path) = unix_path(text)? {
            return Ok(ListenAddr::Unix(path));
        }
        reject_scheme(text, "serve listens on HOST:PORT, :PORT or unix:PATH")?;
        Ok(match host_port(text)? {
            (None, port) => ListenAddr::AllInterfaces { port },
            (Some(host), port) => ListenAddr::Host { host, port },
        })
    }
}

impl FromStr for Target {
    type Err = AddrError;

    fn from_str(text: &str) -> Result<Self, AddrError> {
        if let Some(path) = unix_path(text)? {
            return Ok(Target::Unix(path));
        }
        // grpc-go's target syntax `dns:///host:port` names the same thing as `host:port`.
        let tls = text.starts_with("https://");
        let authority = ["http://", "https://", "dns:///"]
            .iter()
            .find_map(|scheme| text.strip_prefix(scheme))
            .map(|rest| rest.strip_suffix('/').unwrap_or(rest));
        let authority = match authority {
            Some(rest) if rest.contains('/') => {
                return Err(error(format!(
                    "'{text}' has a path; a gRPC address is only HOST:PORT"
                )));
            }
            Some(rest) => rest,
            None => {
                reject_scheme(
                    text,
                    "use HOST:PORT, http://HOST:PORT, https://HOST:PORT or unix:PATH",
                )?;
                text
            }
        };
        let (host, port) = host_port(authority)?;
        let host = host.unwrap_or_else(|| Host::Name("localhost".into()));
        Ok(Target::Tcp { host, port, tls })
    }
}

/// The longest path a Unix socket address holds on Linux: `sun_path` is 108 bytes, one of them
/// the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;

/// `unix:PATH` and `unix:///ABS/PATH` (the gRPC naming forms); `None` if not a Unix address.
fn unix_path(text: &str) -> Result<Option<PathBuf>, AddrError> {
    let Some(rest) = text.strip_prefix("unix:") else {
        return Ok(None);
    };
    let path = match rest.strip_prefix("//") {
        Some(absolute) if absolute.starts_with('/') => absolute,
        Some(_) => {
            return Err(error(format!(
                "'{text}' names a host; write unix:///ABS/PATH (three slashes) or unix:PATH"
            )));
        }
        None => rest,
    };
    if path.is_empty() {
        return Err(error("the Unix socket path is empty: write unix:PATH"));
    }
    if path.len() > MAX_SOCKET_PATH {
        return Err(error(format!(
            "the Unix socket path is {} bytes long; Linux allows at most {MAX_SOCKET_PATH}: \
             choose a shorter path (a relative one counts from the working directory)",
            path.len()
        )));
    }
    Ok(Some(PathBuf::from(path)))
}

fn reject_scheme(text: &str, hint: &str) -> Result<(), AddrError> {
    match text.split_once("://") {
        Some((scheme, _)) => Err(error(format!(
            "unsupported scheme '{scheme}://' in '{text}': {hint}"
        ))),
        None => Ok(()),
    }
}

/// `HOST:PORT`, `[IPV6]:PORT` or `:PORT` (host `None`).
fn host_port(text: &str) -> Result<(Option<Host>, u16), AddrError> {
    let (host, port) = if let Some(bracketed) = text.strip_prefix('[') {
        let (inside, after) = bracketed
            .split_once(']')
            .ok_or_else(|| error(format!("'{text}' has '[' without ']': write [IPV6]:PORT")))?;
        let ip: Ipv6Addr = inside.parse().map_err(|_| {
            error(format!(
                "'{inside}' in '{text}' is not an IPv6 address: write [IPV6]:PORT, e.g. [::1]:50051"
            ))
        })?;
        let port = after.strip_prefix(':').ok_or_else(|| {
            error(format!(
                "'{text}' has no port: write [{inside}]:PORT, e.g. [{inside}]:50051"
            ))
        })?;
        (Some(Host::Ip(IpAddr::V6(ip))), port)
    } else {
        let (host, port) = text.rsplit_once(':').ok_or_else(|| {
            error(format!(
                "'{text}' has no port: write HOST:PORT, e.g. {text}:50051, or :PORT"
            ))
        })?;
        if host.contains(':') {
            return Err(error(format!(
                "'{text}' looks like an IPv6 address: put it in brackets, e.g. [::1]:50051"
            )));
        }
        (parse_host(host, text)?, port)
    };
    let port = port.parse::<u16>().map_err(|_| {
        error(format!(
            "'{port}' in '{text}' is not a port: use a number from 0 to 65535"
        ))
    })?;
    Ok((host, port))
}

fn parse_host(host: &str, text: &str) -> Result<Option<Host>, AddrError> {
    if host.is_empty() {
        return Ok(None);
    }
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok(Some(Host::Ip(IpAddr::V4(ip))));
    }
    let valid_name = host.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    if !valid_name || host.len() > 253 {
        return Err(error(format!(
            "'{host}' in '{text}' is neither an IP address nor a host name"
        )));
    }
    Ok(Some(Host::Name(host.to_owned())))
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Host::Ip(IpAddr::V4(ip)) => write!(f, "{ip}"),
            Host::Name(name) => f.write_str(name),
        }
    }
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenAddr::AllInterfaces { port } => write!(f, ":{port}"),
            ListenAddr::Host { host, port } => write!(f, "{host}:{port}"),
            ListenAddr::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

impl Host {
    /// This machine only: a loopback address, or `localhost`.
    pub fn is_loopback(&self) -> bool {
        match self {
            Host::Ip(ip) => ip.is_loopback(),
            Host::Name(name) => name == "localhost",
        }
    }
}

impl ListenAddr {
    /// Whether other hosts can reach this address.
    pub fn is_exposed(&self) -> bool {
        match self {
            ListenAddr::AllInterfaces { .. } => true,
            ListenAddr::Host { host, .. } => !host.is_loopback(),
            ListenAddr::Unix(_) => false,
        }
    }
}

impl Target {
    /// Plaintext TCP to another host: what is sent can be read on the way.
    pub fn plaintext_off_host(&self) -> bool {
        match self {
            Target::Tcp {
                host, tls: false, ..
            } => !host.is_loopback(),
            Target::Tcp { tls: true, .. } | Target::Unix(_) => false,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tcp { host, port, .. } => write!(f, "{host}:{port}"),
            Target::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests;
