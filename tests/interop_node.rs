//! Wire compatibility with a second implementation no one here wrote: the official Node
//! `@grpc/grpc-js` (client and server) against `greeter serve` and `greeter hello`. It shares no
//! code with grpcio's C core, which `tests/interop.rs` uses.
//!
//! The peer is set up by `tests/peer/node-setup.sh` (a cached `npm ci` under
//! `target/node-peer/`), which these tests run themselves, once per test binary.

mod common;

use common::certs::Certs;
use common::peer::{node, node_server};
use common::{Server, has_ipv6_loopback, hello, run};

mod node_client_against_greeter_serve {
    use super::*;

    fn client(server: &Server, args: &[&str]) -> common::Outcome {
        let target = server.loopback();
        let mut all = vec!["--target", target.as_str()];
        all.extend_from_slice(args);
        run(node("greeter_client.js", &all))
    }

    #[test]
    fn say_hello_with_any_name() {
        let server = Server::start();
        for (name, greeting) in [
            ("you", "Hello you\n"),
            ("Zoë 世界 🌍", "Hello Zoë 世界 🌍\n"),
            ("", "Hello \n"),
        ] {
            let out = client(&server, &["--name", name]);
            assert_eq!(out.code, Some(0), "{out:?}");
            assert_eq!(out.stdout, greeting, "{out:?}");
        }
    }

    #[test]
    fn both_streaming_methods() {
        let server = Server::start_with(
            &[
                "--addr",
                "127.0.0.1:0",
                "--stream-count",
                "3",
                "--stream-interval",
                "5ms",
            ],
            &[],
        );
        let out = client(&server, &["--method", "server-stream", "--name", "s"]);
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(out.stdout, "Hello s\n".repeat(3), "{out:?}");
        let out = client(&server, &["--method", "bidi", "--name", "a", "--name", "b"]);
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(out.stdout, "Hello a\nHello b\n", "{out:?}");
    }
}

mod greeter_hello_against_node_server {
    use super::*;

    #[test]
    fn say_hello_replies_the_exact_greeting() {
        let server = node_server(&[]);
        let out = server.hello(&["you"]);
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(out.stdout, "Hello you\n");
        let stderr = server.stderr_when(|stderr| stderr.contains("SayHello name='you'"));
        assert!(stderr.contains("SayHello name='you'"), "{stderr}");
    }

    #[test]
    fn both_streaming_methods() {
        let server = node_server(&[]);
        let out = server.hello(&["--stream", "s"]);
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(out.stdout, "Hello s\n".repeat(3), "{out:?}");
        let addr = server.loopback();
        let command = common::greeter(["hello", "--bidi", "--timeout", "5s", "--addr", &addr]);
        let out = common::run_with_input(command, Some("x\ny\n"));
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(out.stdout, "Hello x\nHello y\n", "{out:?}");
    }
}

/// The addresses grpc-js takes as they are: a unix socket, both spellings, and IPv6 loopback.
mod other_addresses {
    use super::*;

    #[test]
    fn unix_sockets_both_ways() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("greeter.sock");
        let addr = format!("unix:{}", path.display());
        let server = Server::start_with(&["--addr", &addr], &[]);
        // grpc-js sends `:authority: localhost` over a unix socket.
        for target in [addr.clone(), format!("unix://{}", path.display())] {
            let out = run(node(
                "greeter_client.js",
                &["--target", &target, "--name", "u"],
            ));
            assert_eq!(out.code, Some(0), "{target}: {out:?}");
            assert_eq!(out.stdout, "Hello u\n", "{target}: {out:?}");
        }
        drop(server);

        let addr = format!("unix:{}", dir.path().join("node.sock").display());
        let server = node_server(&["--addr", &addr]);
        assert_eq!(server.addr, addr);
        let out = server.hello(&["u"]);
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(out.stdout, "Hello u\n", "{out:?}");
    }

    #[test]
    fn ipv6_loopback_both_ways() {
        if !has_ipv6_loopback() {
            eprintln!("skipped: no IPv6 on loopback here");
            return;
        }
        let server = Server::start_with(&["--addr", "[::1]:0"], &[]);
        let target = format!("[::1]:{}", server.port());
        let out = run(node(
            "greeter_client.js",
            &["--target", &target, "--name", "v6"],
        ));
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(out.stdout, "Hello v6\n", "{out:?}");
        drop(server);

        let server = node_server(&["--addr", "[::1]:0"]);
        assert!(server.addr.starts_with("[::1]:"), "{}", server.addr);
        let addr = server.addr.clone();
        let out = hello(&["--addr", &addr, "v6"]);
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(out.stdout, "Hello v6\n", "{out:?}");
    }
}

mod mutual_tls {
    use super::*;

    #[test]
    fn node_client_against_greeter_serve() {
        let certs = Certs::new();
        let (cert, key, ca) = (
            certs.path("server.pem"),
            certs.path("server.key"),
            certs.path("ca.pem"),
        );
        let server = Server::start_with(
            &[
                "--addr",
                "127.0.0.1:0",
                "--tls-cert",
                &cert,
                "--tls-key",
                &key,
                "--tls-client-ca",
                &ca,
            ],
            &[],
        );
        let target = format!("localhost:{}", server.port());
        let (client_cert, client_key) = (certs.path("client.pem"), certs.path("client.key"));
        let out = run(node(
            "greeter_client.js",
            &[
                "--target",
                &target,
                "--ca-cert",
                &ca,
                "--cert",
                &client_cert,
                "--key",
                &client_key,
                "--name",
                "mtls",
            ],
        ));
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(out.stdout, "Hello mtls\n", "{out:?}");
        // Without a client certificate the handshake fails: UNAVAILABLE, 64 + 14.
        let out = run(node(
            "greeter_client.js",
            &["--target", &target, "--ca-cert", &ca, "--name", "anon"],
        ));
        assert_eq!(out.code, Some(78), "{out:?}");
        assert_eq!(out.stdout, "", "{out:?}");
    }

    #[test]
    fn greeter_hello_against_the_node_server() {
        let certs = Certs::new();
        let (cert, key, ca) = (
            certs.path("server.pem"),
            certs.path("server.key"),
            certs.path("ca.pem"),
        );
        let server = node_server(&[
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
            "--tls-client-ca",
            &ca,
        ]);
        let addr = format!("https://localhost:{}", server.port());
        let flags = certs.client_flags("client");
        let mut args = vec!["--addr", addr.as_str()];
        args.extend(flags.iter().map(String::as_str));
        args.push("mtls");
        let out = hello(&args);
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(out.stdout, "Hello mtls\n", "{out:?}");
        let out = hello(&["--addr", &addr, "--ca-cert", &ca, "anon"]);
        assert_eq!(out.code, Some(78), "{out:?}");
        assert!(out.stderr.contains("client certificate"), "{out:?}");
    }
}
