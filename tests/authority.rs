//! Any `:authority` is answered, as grpc-go's server answers it: gRPC clients built on C-core
//! (Python grpcio) and grpc-java send a Unix socket's path there, which is no URI authority,
//! and proxies pass on whatever they were given. h2 resets such a stream unless patched
//! (`vendor/README.md`): these tests fail the day the patch is dropped.
//!
//! The official clients send the authority they are told to (`grpc.default_authority`), over
//! TCP as over a Unix socket.

mod common;

use common::Server;
use common::peer::Official;

/// Authorities that are no URI authority, and the usual one.
const AUTHORITIES: [&str; 5] = [
    "/tmp/g.sock",
    "tmp%2Fg.sock",
    "%2Frun%2Fgreeter.sock",
    "with space",
    "localhost",
];

/// Runs the official `client` against `target` with `authority`.
fn call(client: Official, target: &str, authority: &str) -> common::Outcome {
    client.call(target, &["--authority", authority, "--name", authority])
}

fn assert_greeted(out: &common::Outcome, authority: &str) {
    assert_eq!(out.code, Some(0), ":authority {authority:?}: {out:?}");
    assert_eq!(out.stdout, format!("Hello {authority}\n"));
}

#[test]
fn the_python_client_over_tcp_with_any_authority() {
    let server = Server::start();
    let target = server.loopback();
    for authority in AUTHORITIES {
        let out = call(Official::Python, &target, authority);
        assert_greeted(&out, authority);
    }
}

#[test]
fn the_node_client_over_tcp_with_any_authority() {
    let server = Server::start();
    let target = server.loopback();
    for authority in AUTHORITIES {
        let out = call(Official::Node, &target, authority);
        assert_greeted(&out, authority);
    }
}

#[test]
fn the_python_client_over_a_unix_socket_with_its_own_authority() {
    // grpcio's own choice over `unix:`: the socket's path, percent-encoded.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.sock");
    for target in [
        format!("unix:{}", path.display()),
        format!("unix://{}", path.display()),
    ] {
        let server = Server::start_with(&["--addr", &target], &[]);
        let out = Official::Python.call(&target, &["--name", "py"]);
        assert_eq!(out.code, Some(0), "{target}: {out:?}");
        assert_eq!(out.stdout, "Hello py\n");
        drop(server);
    }
}

#[test]
fn calls_beside_a_bad_authority_go_on() {
    // Several calls on one connection with each odd authority, then a plain client: nothing
    // was reset, on that connection or any other.
    let server = Server::start();
    let target = server.loopback();
    for authority in ["/a", "b/c", "[not-ipv6", "x:y:z"] {
        let out = Official::Python.call(
            &target,
            &[
                "--authority",
                authority,
                "--name",
                authority,
                "--repeat",
                "5",
            ],
        );
        assert_eq!(out.code, Some(0), ":authority {authority:?}: {out:?}");
        assert_eq!(out.stdout, format!("Hello {authority}\n").repeat(5));
    }
    assert_eq!(server.hello(&["plain"]).stdout, "Hello plain\n");
}
