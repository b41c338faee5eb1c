//! The interop matrix: every client against every server it must talk to, on every transport.
//!
//! Clients {`greeter hello`, Python grpcio, Node grpc-js} against `greeter serve`, and
//! `greeter hello` against the {Python, Node} servers (the official helloworld examples,
//! `tests/peer/`), over {TCP IPv4, TCP IPv6, Unix socket, TLS with a CA-signed certificate, TLS
//! with a bare `openssl req -x509` certificate, mutual TLS}. One test per cell, each asserting
//! the exact greeting; the README shows the matrix.

mod common;

use common::certs::Certs;
use common::peer::Official;
use common::{Outcome, Server, has_ipv6_loopback, run};

#[derive(Debug, Clone, Copy)]
enum Side {
    Greeter,
    Python,
    Node,
}

impl Side {
    fn official(self) -> Official {
        match self {
            Side::Python => Official::Python,
            Side::Node => Official::Node,
            Side::Greeter => unreachable!("greeter is no peer script"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Transport {
    TcpIpv4,
    TcpIpv6,
    UnixSocket,
    TlsCaSigned,
    TlsSelfSigned,
    MutualTls,
}

/// The files of one cell (certificates, the socket), removed with it.
struct Cell {
    transport: Transport,
    files: Certs,
}

impl Cell {
    fn new(transport: Transport) -> Cell {
        let files = Certs::new();
        if transport == Transport::TlsSelfSigned {
            files.openssl_self_signed("self", "DNS:localhost,IP:127.0.0.1");
        }
        Cell { transport, files }
    }

    /// The server's flags, which `greeter serve` and both peer servers share.
    fn server_args(&self) -> Vec<String> {
        let addr = match self.transport {
            Transport::TcpIpv6 => "[::1]:0".to_owned(),
            Transport::UnixSocket => format!("unix:{}", self.files.path("g.sock")),
            _ => "127.0.0.1:0".to_owned(),
        };
        let mut args = vec!["--addr".to_owned(), addr];
        let (cert, key) = match self.transport {
            Transport::TlsCaSigned | Transport::MutualTls => ("server.pem", "server.key"),
            Transport::TlsSelfSigned => ("self.pem", "self.key"),
            _ => return args,
        };
        args.extend(["--tls-cert".into(), self.files.path(cert)]);
        args.extend(["--tls-key".into(), self.files.path(key)]);
        if self.transport == Transport::MutualTls {
            args.extend(["--tls-client-ca".into(), self.files.path("ca.pem")]);
        }
        args
    }

    /// Where a client finds the server: TLS by the name in the certificates.
    fn target(&self, server: &Server) -> String {
        match self.transport {
            Transport::TcpIpv4 => format!("127.0.0.1:{}", server.port()),
            Transport::TcpIpv6 => format!("[::1]:{}", server.port()),
            Transport::UnixSocket => server.addr.clone(),
            _ => format!("localhost:{}", server.port()),
        }
    }

    /// The client's TLS flags, the same names for `greeter hello` and both peer clients.
    fn tls_args(&self) -> Vec<String> {
        let trusted = match self.transport {
            Transport::TlsCaSigned | Transport::MutualTls => "ca.pem",
            Transport::TlsSelfSigned => "self.pem",
            _ => return Vec::new(),
        };
        let mut args = vec!["--ca-cert".to_owned(), self.files.path(trusted)];
        if self.transport == Transport::MutualTls {
            args.extend(["--cert".into(), self.files.path("client.pem")]);
            args.extend(["--key".into(), self.files.path("client.key")]);
        }
        args
    }

    fn start(&self, server: Side) -> Server {
        let args = self.server_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let command = match server {
            Side::Greeter => common::greeter(std::iter::once("serve").chain(args.iter().copied())),
            peer => peer.official().server_command(&args),
        };
        Server::spawn(command).unwrap_or_else(|out| panic!("{server:?} server {args:?}: {out:?}"))
    }

    fn call(&self, client: Side, server: &Server, name: &str) -> Outcome {
        let target = self.target(server);
        let mut args = self.tls_args();
        let command = match client {
            Side::Greeter => {
                let scheme = if args.is_empty() || target.starts_with("unix:") {
                    ""
                } else {
                    "https://"
                };
                let mut command = common::greeter(["hello", "--timeout", "10s"]);
                command.arg("--addr").arg(format!("{scheme}{target}"));
                command.args(&args).arg(name);
                command
            }
            peer => {
                args.extend(["--target".into(), target, "--name".into(), name.into()]);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                peer.official().client(&args)
            }
        };
        run(command)
    }
}

/// One cell: `client` calls `server` over `transport` and prints exactly the greeting.
fn cell(server: Side, client: Side, transport: Transport) {
    if transport == Transport::TcpIpv6 && !has_ipv6_loopback() {
        common::skip("this host has no IPv6 loopback");
        return;
    }
    let cell = Cell::new(transport);
    let running = cell.start(server);
    let name = format!("{client:?} to {server:?} over {transport:?}");
    let out = cell.call(client, &running, &name);
    assert_eq!(
        out.code,
        Some(0),
        "{name}: {out:?}\nserver: {}",
        running.stderr()
    );
    assert_eq!(out.stdout, format!("Hello {name}\n"), "{out:?}");
}

macro_rules! row {
    ($row:ident: $client:ident to $server:ident) => {
        mod $row {
            use super::*;

            #[test]
            fn tcp_ipv4() {
                cell(Side::$server, Side::$client, Transport::TcpIpv4);
            }

            #[test]
            fn tcp_ipv6() {
                cell(Side::$server, Side::$client, Transport::TcpIpv6);
            }

            #[test]
            fn unix_socket() {
                cell(Side::$server, Side::$client, Transport::UnixSocket);
            }

            #[test]
            fn tls_ca_signed() {
                cell(Side::$server, Side::$client, Transport::TlsCaSigned);
            }

            #[test]
            fn tls_openssl_self_signed() {
                cell(Side::$server, Side::$client, Transport::TlsSelfSigned);
            }

            #[test]
            fn mutual_tls() {
                cell(Side::$server, Side::$client, Transport::MutualTls);
            }
        }
    };
}

row!(greeter_hello_to_greeter_serve: Greeter to Greeter);
row!(python_client_to_greeter_serve: Python to Greeter);
row!(node_client_to_greeter_serve: Node to Greeter);
row!(greeter_hello_to_python_server: Greeter to Python);
row!(greeter_hello_to_node_server: Greeter to Node);
