//! What is not gRPC gets the answers of the spec (grpc/grpc `doc/PROTOCOL-HTTP2.md`) and of
//! grpc-go, never a greeting and never a broken connection: a wrong or missing content-type is
//! HTTP 415 with INVALID_ARGUMENT; plain HTTP/1.1 on the port gets a readable HTTP/1.1 answer.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

use common::h2conn::{H2Conn, hello_request};
use common::{BOUND, Server, run};

const SAY_HELLO: &str = "/helloworld.Greeter/SayHello";

#[test]
fn a_wrong_or_missing_content_type_is_415_with_invalid_argument() {
    let server = Server::start();
    let mut conn = H2Conn::connect(&server.loopback());
    for (content_type, shown) in [
        (Some("application/json"), "\"application/json\""),
        (Some("text/plain"), "\"text/plain\""),
        (Some("application/grpcx"), "\"application/grpcx\""),
        (Some("application/grpc-web"), "\"application/grpc-web\""),
        (None, "\"\""),
    ] {
        let exchange = conn.call_as(SAY_HELLO, content_type, hello_request("x"));
        assert_eq!(exchange.http_status, 415, "{content_type:?}: {exchange:?}");
        assert_eq!(exchange.grpc_status.as_deref(), Some("3"), "{exchange:?}");
        assert_eq!(
            exchange.grpc_message,
            Some(format!("invalid gRPC request content-type {shown}"))
        );
        assert_eq!(exchange.messages, 0, "no greeting: {exchange:?}");
        assert!(exchange.error.is_none(), "{exchange:?}");
    }
    // The same connection still serves gRPC, with every subtype grpc-go accepts.
    for content_type in [
        "application/grpc",
        "application/grpc+proto",
        "application/grpc;x=y",
    ] {
        let exchange = conn.call_as(SAY_HELLO, Some(content_type), hello_request("x"));
        assert_eq!(exchange.http_status, 200, "{content_type}: {exchange:?}");
        assert_eq!(exchange.grpc_status.as_deref(), Some("0"), "{exchange:?}");
        assert_eq!(exchange.messages, 1, "{exchange:?}");
    }
}

/// Sends `request` on a new TCP connection and reads until the server closes it.
fn raw_exchange(addr: &str, request: &[u8]) -> String {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(BOUND)).unwrap();
    tcp.write_all(request).unwrap();
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer)
        .expect("the server closes the connection after its answer");
    String::from_utf8(answer).unwrap()
}

#[test]
fn http1_gets_a_readable_answer_and_the_server_goes_on() {
    let server = Server::start();
    let addr = server.loopback();
    for request in [
        &b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\n"[..],
        b"POST /helloworld.Greeter/SayHello HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n",
        b"GET / HTTP/1.0\r\n\r\n",
    ] {
        let answer = raw_exchange(&addr, request);
        let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
        assert!(
            head.starts_with("HTTP/1.1 505 HTTP Version Not Supported\r\n"),
            "{answer}"
        );
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
        assert!(
            body.contains("This port serves gRPC, which runs over HTTP/2"),
            "{body}"
        );
        assert!(
            body.contains("greeter hello --addr HOST:PORT NAME"),
            "{body}"
        );
    }
    assert_eq!(server.hello(&["after"]).stdout, "Hello after\n");
    let log = server.stderr_when(|log| log.contains("sent HTTP/1"));
    assert!(log.contains("sent HTTP/1, not gRPC over HTTP/2"), "{log}");
}

#[test]
fn curl_shows_the_answer() {
    // What a user types first; curl exits 0 and prints the body.
    let server = Server::start();
    let out = run({
        let mut curl = Command::new("curl");
        curl.args(["--silent", "--show-error", "--max-time", "10"])
            .arg(format!("http://{}/", server.loopback()));
        curl
    });
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.starts_with("This port serves gRPC"), "{out:?}");
}

#[test]
fn an_http1_client_does_not_disturb_calls_in_flight() {
    let server = Server::start_on_loopback(&["--stream-count", "3", "--stream-interval", "200ms"]);
    let addr = server.loopback();
    let streaming = std::thread::spawn({
        let addr = addr.clone();
        move || common::hello(&["--addr", &addr, "--timeout", "10s", "--stream", "s"])
    });
    for _ in 0..20 {
        let answer = raw_exchange(&addr, b"GET / HTTP/1.1\r\nhost: x\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 505"), "{answer}");
    }
    let out = streaming.join().unwrap();
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "Hello s\n".repeat(3));
}
