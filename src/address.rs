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
mod tests {
    use super::*;

    fn listen(text: &str) -> ListenAddr {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn target(text: &str) -> Target {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn listen_error(text: &str) -> String {
        text.parse::<ListenAddr>().unwrap_err().to_string()
    }

    fn target_error(text: &str) -> String {
        text.parse::<Target>().unwrap_err().to_string()
    }

    fn name(host: &str) -> Host {
        Host::Name(host.into())
    }

    #[test]
    fn listen_forms() {
        assert_eq!(listen(":50051"), ListenAddr::AllInterfaces { port: 50051 });
        assert_eq!(listen(":0"), ListenAddr::AllInterfaces { port: 0 });
        assert_eq!(
            listen("127.0.0.1:0"),
            ListenAddr::Host {
                host: Host::Ip([127, 0, 0, 1].into()),
                port: 0
            }
        );
        assert_eq!(
            listen("[::1]:8080"),
            ListenAddr::Host {
                host: Host::Ip(Ipv6Addr::LOCALHOST.into()),
                port: 8080
            }
        );
        assert_eq!(
            listen("[::]:50051"),
            ListenAddr::Host {
                host: Host::Ip(Ipv6Addr::UNSPECIFIED.into()),
                port: 50051
            }
        );
        assert_eq!(
            listen("localhost:65535"),
            ListenAddr::Host {
                host: name("localhost"),
                port: 65535
            }
        );
        assert_eq!(
            listen("unix:/run/greeter.sock"),
            ListenAddr::Unix("/run/greeter.sock".into())
        );
        assert_eq!(
            listen("unix:greeter.sock"),
            ListenAddr::Unix("greeter.sock".into())
        );
        assert_eq!(
            listen("unix:///run/greeter.sock"),
            ListenAddr::Unix("/run/greeter.sock".into())
        );
    }

    #[test]
    fn listen_errors_say_what_to_write() {
        assert!(listen_error("50051").contains("write HOST:PORT"));
        assert!(listen_error("localhost").contains("no port"));
        assert!(listen_error(":").contains("is not a port"));
        assert!(listen_error(":65536").contains("0 to 65535"));
        assert!(listen_error(":-1").contains("is not a port"));
        assert!(listen_error("::1:50051").contains("brackets"));
        assert!(listen_error("[::1]").contains("no port"));
        assert!(listen_error("[::1:50051").contains("without ']'"));
        assert!(listen_error("[1.2.3.4]:1").contains("not an IPv6 address"));
        assert!(listen_error("bad host:1").contains("neither an IP address nor a host name"));
        assert!(listen_error("a..b:1").contains("neither"));
        assert!(listen_error("http://localhost:1").contains("unsupported scheme"));
        assert!(listen_error("unix:").contains("empty"));
        assert!(listen_error("unix://host/path").contains("three slashes"));
    }

    #[test]
    fn target_forms() {
        let localhost = |port| Target::Tcp {
            host: name("localhost"),
            port,
            tls: false,
        };
        assert_eq!(target("localhost:50051"), localhost(50051));
        assert_eq!(target(":50051"), localhost(50051));
        assert_eq!(target("http://localhost:50051"), localhost(50051));
        assert_eq!(target("http://localhost:50051/"), localhost(50051));
        assert_eq!(target("dns:///localhost:50051"), localhost(50051));
        assert_eq!(
            target("[::1]:1"),
            Target::Tcp {
                host: Host::Ip(Ipv6Addr::LOCALHOST.into()),
                port: 1,
                tls: false,
            }
        );
        assert_eq!(
            target("http://[::1]:1"),
            Target::Tcp {
                host: Host::Ip(Ipv6Addr::LOCALHOST.into()),
                port: 1,
                tls: false,
            }
        );
        assert_eq!(
            target("127.0.0.2:443"),
            Target::Tcp {
                host: Host::Ip([127, 0, 0, 2].into()),
                port: 443,
                tls: false,
            }
        );
        assert_eq!(
            target("greeter.default.svc.cluster.local:50051"),
            Target::Tcp {
                host: name("greeter.default.svc.cluster.local"),
                port: 50051,
                tls: false,
            }
        );
        assert_eq!(
            target("https://localhost:443"),
            Target::Tcp {
                host: name("localhost"),
                port: 443,
                tls: true,
            }
        );
        assert_eq!(
            target("https://[::1]:8443/"),
            Target::Tcp {
                host: Host::Ip(Ipv6Addr::LOCALHOST.into()),
                port: 8443,
                tls: true,
            }
        );
        assert_eq!(
            target("unix:/tmp/g.sock"),
            Target::Unix("/tmp/g.sock".into())
        );
        assert_eq!(
            target("unix:///tmp/g.sock"),
            Target::Unix("/tmp/g.sock".into())
        );
        assert_eq!(target("unix:rel.sock"), Target::Unix("rel.sock".into()));
    }

    #[test]
    fn target_errors_say_what_to_write() {
        assert!(target_error("localhost").contains("write HOST:PORT"));
        assert!(target_error("localhost:http").contains("is not a port"));
        assert!(target_error("ftp://localhost:1").contains("unsupported scheme 'ftp://'"));
        assert!(target_error("https://localhost:1/x").contains("has a path"));
        assert!(target_error("https://localhost").contains("no port"));
        assert!(target_error("grpcs://localhost:1").contains("https://HOST:PORT"));
        assert!(target_error("http://localhost:1/helloworld").contains("has a path"));
        assert!(target_error("http://localhost").contains("no port"));
        assert!(target_error("fe80::1:50051").contains("brackets"));
        assert!(target_error("").contains("no port"));
    }

    #[test]
    fn plaintext_off_host_is_tcp_without_tls_beyond_loopback() {
        for local in [
            "localhost:1",
            "127.0.0.1:1",
            "127.9.9.9:1",
            "[::1]:1",
            "unix:/a",
        ] {
            assert!(!target(local).plaintext_off_host(), "{local}");
        }
        for tls in ["https://greeter.example:443", "https://10.0.0.1:1"] {
            assert!(!target(tls).plaintext_off_host(), "{tls}");
        }
        for exposed in [
            "greeter.example:50051",
            "10.0.0.1:1",
            "http://[2001:db8::1]:1",
        ] {
            assert!(target(exposed).plaintext_off_host(), "{exposed}");
        }
    }

    #[test]
    fn only_loopback_and_unix_listeners_are_unexposed() {
        for exposed in [
            ":1",
            "0.0.0.0:1",
            "[::]:1",
            "10.0.0.1:1",
            "greeter.example:1",
        ] {
            assert!(listen(exposed).is_exposed(), "{exposed}");
        }
        for local in ["127.0.0.1:1", "[::1]:1", "localhost:1", "unix:/a"] {
            assert!(!listen(local).is_exposed(), "{local}");
        }
    }

    #[test]
    fn display_is_the_canonical_form() {
        for text in [
            ":50051",
            "127.0.0.1:0",
            "[::1]:8080",
            "localhost:1",
            "unix:/a/b",
        ] {
            assert_eq!(listen(text).to_string(), text);
        }
        assert_eq!(listen("unix:///a/b").to_string(), "unix:/a/b");
        for text in [
            "localhost:50051",
            "[::1]:1",
            "127.0.0.2:443",
            "unix:rel.sock",
        ] {
            assert_eq!(target(text).to_string(), text);
        }
        assert_eq!(target(":7").to_string(), "localhost:7");
        assert_eq!(target("http://[::1]:7").to_string(), "[::1]:7");
        assert_eq!(target("https://[::1]:7").to_string(), "[::1]:7");
    }
}
