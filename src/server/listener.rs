//! Binding the listening socket for each address form, and accepting on it.
//!
//! Sockets are bound with socket2 before any runtime starts, so the readiness line can name the
//! real address and a bind failure is reported before anything else happens.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use color_eyre::eyre::{Result, WrapErr, eyre};
use socket2::{Domain, Protocol, Socket, Type};

use crate::address::{Host, ListenAddr};
use crate::report::describe_io;
use crate::usage::UsageError;

/// How many connections the kernel may queue before `accept`; as high as Linux's default cap.
const BACKLOG: i32 = 4096;

/// A bound, listening socket, not yet attached to a runtime.
pub enum Bound {
    Tcp(std::net::TcpListener),
    Unix(UnixListener, SocketFile),
}

/// Binds `addr` and starts listening; a Unix socket file gets `unix_mode` if given.
pub fn bind(addr: &ListenAddr, unix_mode: Option<u32>) -> Result<Bound> {
    match addr {
        ListenAddr::Unix(path) => bind_unix(path, unix_mode),
        tcp => bind_tcp_form(tcp, "--addr").map(Bound::Tcp),
    }
}

/// The metrics port: HTTP, so TCP only.
pub fn bind_metrics(addr: &ListenAddr) -> Result<std::net::TcpListener> {
    match addr {
        ListenAddr::Unix(_) => Err(UsageError::bad_value(
            "serve",
            "--metrics-addr <ADDR>",
            &addr.to_string(),
            "metrics are served over TCP: use HOST:PORT or :PORT",
        )
        .into()),
        tcp => bind_tcp_form(tcp, "--metrics-addr"),
    }
}

/// Binds `:PORT` or `HOST:PORT` for `flag` (a Unix socket is an error: the callers handle it
/// first).
fn bind_tcp_form(addr: &ListenAddr, flag: &str) -> Result<std::net::TcpListener> {
    let bound = match addr {
        ListenAddr::AllInterfaces { port } => bind_all_interfaces(*port),
        ListenAddr::Host { host, port } => bind_tcp(resolve(host, *port)?, false),
        ListenAddr::Unix(_) => return Err(eyre!("{addr} is not a TCP address")),
    };
    bound.map_err(|err| bind_error(Listening::Tcp { flag }, addr, &err))
}

/// What could not be bound, for the message's words.
#[derive(Clone, Copy)]
enum Listening<'a> {
    Tcp { flag: &'a str },
    Unix,
}

fn bind_error(
    listening: Listening,
    addr: &impl fmt::Display,
    err: &io::Error,
) -> color_eyre::Report {
    let (shown, flag) = match listening {
        // The main address is the one people expect: named bare, as they wrote it.
        Listening::Tcp { flag: "--addr" } | Listening::Unix => (addr.to_string(), "--addr"),
        Listening::Tcp { flag } => (format!("{flag} {addr}"), flag),
    };
    let unix = matches!(listening, Listening::Unix);
    let hint = match err.kind() {
        io::ErrorKind::AddrInUse => {
            format!(": is another server running? Stop it or choose another {flag}")
        }
        io::ErrorKind::PermissionDenied if unix => {
            ": this user may not create files in the socket's directory; choose another path \
             or give it write permission"
                .to_owned()
        }
        io::ErrorKind::PermissionDenied => {
            ": ports below 1024 need privileges; choose a port above 1024".to_owned()
        }
        io::ErrorKind::NotFound if unix => {
            ": the socket's directory does not exist; create it or choose another path".to_owned()
        }
        io::ErrorKind::AddrNotAvailable => {
            ": choose an address of one of its interfaces, or :PORT for all of them".to_owned()
        }
        _ => String::new(),
    };
    eyre!("could not listen on {shown}: {}{hint}", describe_io(err))
}

/// `:PORT` listens like Go's `net.Listen("tcp", ":PORT")`: one IPv6 socket that also accepts
/// IPv4 (dual-stack), or plain IPv4 where the host has no IPv6.
fn bind_all_interfaces(port: u16) -> io::Result<std::net::TcpListener> {
    let any_v6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port);
    match bind_tcp(any_v6, true) {
        Err(err) if ipv6_missing(&err) => bind_tcp(
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
            false,
        ),
        result => result,
    }
}

fn ipv6_missing(err: &io::Error) -> bool {
    const EAFNOSUPPORT: i32 = 97;
    err.kind() == io::ErrorKind::AddrNotAvailable || err.raw_os_error() == Some(EAFNOSUPPORT)
}

/// A host name binds its first address, IPv4 first, as Go does: `localhost:0` listens on
/// 127.0.0.1.
fn resolve(host: &Host, port: u16) -> Result<SocketAddr> {
    let name = match host {
        Host::Ip(ip) => return Ok(SocketAddr::new(*ip, port)),
        Host::Name(name) => name,
    };
    let mut addrs: Vec<SocketAddr> = (name.as_str(), port)
        .to_socket_addrs()
        .map_err(|err| eyre!("could not resolve '{name}': {}", describe_io(&err)))?
        .collect();
    addrs.sort_by_key(SocketAddr::is_ipv6);
    addrs
        .first()
        .copied()
        .ok_or_else(|| eyre!("'{name}' resolves to no address"))
}

fn bind_tcp(addr: SocketAddr, dual_stack: bool) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(!dual_stack)?;
    }
    // Lets a restarted server bind while the old one's connections sit in TIME_WAIT; Linux still
    // refuses a port another socket is listening on.
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// The socket file of a Unix listener, removed when the server exits cleanly.
pub struct SocketFile(PathBuf);

impl SocketFile {
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Binds a Unix socket. A socket file left by a dead server is replaced; one a live server
/// answers on, or a file that is not a socket, is an error.
fn bind_unix(path: &Path, mode: Option<u32>) -> Result<Bound> {
    let shown = format!("unix:{}", path.display());
    if let Ok(metadata) = std::fs::symlink_metadata(path) {
        if !metadata.file_type().is_socket() {
            return Err(eyre!(
                "could not listen on {shown}: the file exists and is not a socket; remove it or \
                 choose another path"
            ));
        }
        match UnixStream::connect(path) {
            Ok(_) => {
                return Err(eyre!(
                    "could not listen on {shown}: another server is listening on it; stop it or \
                     choose another path"
                ));
            }
            Err(err) if err.kind() == io::ErrorKind::ConnectionRefused => {
                std::fs::remove_file(path)
                    .wrap_err_with(|| format!("could not remove the stale socket {shown}"))?;
            }
            Err(err) => return Err(bind_error(Listening::Unix, &shown, &err)),
        }
    }
    let listener =
        UnixListener::bind(path).map_err(|err| bind_error(Listening::Unix, &shown, &err))?;
    let file = SocketFile(path.to_owned());
    if let Some(mode) = mode {
        // Between bind and this, the file has the umask's permissions: at most as open as asked
        // for under the usual umask (022 or stricter), never wider.
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|err| {
            eyre!(
                "could not set the permissions of {shown} to {mode:04o}: {}",
                describe_io(&err)
            )
        })?;
    }
    listener
        .set_nonblocking(true)
        .map_err(|err| bind_error(Listening::Unix, &shown, &err))?;
    Ok(Bound::Unix(listener, file))
}
