//! `greeter hello` message options against the official Python grpcio server: request
//! compression (--compress) and the size limits (--max-recv-msg-size, --max-send-msg-size);
//! and HTTP/2 keepalive, against a `greeter serve` whose h2 logs the PINGs it receives.

mod common;

use common::fake::DeafServer;
use common::frames::PING;
use common::peer::python_server;
use common::{BOUND, Server};

#[test]
fn gzip_requests_are_really_compressed() {
    let server = python_server(&[]);
    let out = server.hello(&["--compress", "gzip"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "Hello world\n");
    // grpcio hides grpc-encoding from the handler; a server that accepts only identity
    // refusing the call is the proof that it arrived gzip-compressed.
    let identity_only = python_server(&["--identity-only"]);
    let out = identity_only.hello(&["--compress", "gzip"]);
    assert_eq!(out.code, Some(76), "{out:?}");
    assert!(out.stderr.contains("UNIMPLEMENTED"), "{out:?}");
    assert!(out.stderr.to_lowercase().contains("gzip"), "{out:?}");
    let out = identity_only.hello(&[]);
    assert_eq!(out.code, Some(0), "uncompressed is accepted: {out:?}");
}

#[test]
fn zstd_against_a_server_without_it_is_unimplemented_and_says_so() {
    let server = python_server(&[]);
    // A deadline far from the answer: a loaded machine must not turn UNIMPLEMENTED into 68.
    let out = server.hello(&["--timeout", "10s", "--compress", "zstd"]);
    assert_eq!(out.code, Some(76), "{out:?}");
    assert!(
        out.stderr.contains(
            "failed with UNIMPLEMENTED: the server does not accept zstd-compressed requests"
        ),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("use another --compress, or none"),
        "{out:?}"
    );
}

#[test]
fn a_reply_over_max_recv_msg_size_is_resource_exhausted() {
    let server = python_server(&[]);
    // "Hello world" is 13 bytes on the wire.
    let out = server.hello(&["--max-recv-msg-size", "10"]);
    assert_eq!(out.code, Some(72), "{out:?}");
    assert!(out.stderr.contains("RESOURCE_EXHAUSTED"), "{out:?}");
    assert!(out.stderr.contains("--max-recv-msg-size"), "{out:?}");
    let out = server.hello(&["--max-recv-msg-size", "13"]);
    assert_eq!(out.code, Some(0), "exactly the limit is allowed: {out:?}");
}

#[test]
fn a_request_over_max_send_msg_size_is_never_sent() {
    let server = python_server(&[]);
    let long = "a".repeat(100);
    let out = server.hello(&["--max-send-msg-size", "10", &long]);
    assert_eq!(out.code, Some(72), "{out:?}");
    assert!(
        out.stderr.contains(
            "RESOURCE_EXHAUSTED: the request is 102 bytes, more than --max-send-msg-size 10 bytes"
        ),
        "{out:?}"
    );
    // A call that fits comes after; once the server has logged it, it has logged everything.
    let out = server.hello(&["--max-send-msg-size", "10", "short"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let log = server.stderr_when(|log| log.contains("name='short'"));
    assert_eq!(log.matches("SayHello name=").count(), 1, "{log}");
}

/// The PINGs (not their acks) a `greeter serve` logging h2's frames at debug received while
/// serving one `hello --stream ARGS` whose three replies come 300 ms apart.
fn pings_received_during_a_stream(args: &[&str]) -> usize {
    let mut server = Server::start_on_loopback(&[
        "--log-level",
        "info,h2=debug",
        "--stream-count",
        "3",
        "--stream-interval",
        "300ms",
    ]);
    let mut all = vec!["--stream", "--timeout", "10s"];
    all.extend_from_slice(args);
    let out = server.hello(&all);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "Hello world\n".repeat(3));
    // h2 logs each frame as it reads it; once the server has exited, its log is complete.
    server.signal(libc::SIGTERM);
    assert!(
        server.wait_exit(BOUND).is_some(),
        "still serving after {BOUND:?}"
    );
    let log = server.stderr();
    assert!(
        log.contains("h2::codec::framed_read: received frame="),
        "h2 logged no frames: {log}"
    );
    log.matches("received frame=Ping { ack: false").count()
}

#[test]
fn keepalive_pings_while_a_call_is_in_flight() {
    // Pings every 100 ms over a call of some 600 ms: several; without keepalive: none.
    let pinged = pings_received_during_a_stream(&[
        "--keepalive-interval",
        "100ms",
        "--keepalive-timeout",
        "1s",
    ]);
    assert!(
        pinged >= 2,
        "{pinged} PINGs over a 600 ms call 100 ms apart"
    );
    assert_eq!(
        pings_received_during_a_stream(&[]),
        0,
        "PINGs without keepalive"
    );
}

#[test]
fn a_zero_keepalive_interval_is_refused() {
    let out = common::hello(&["--addr", "127.0.0.1:1", "--keepalive-interval", "0s"]);
    assert_eq!(out.code, Some(2), "a zero interval is refused: {out:?}");
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("--keepalive-interval"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_unanswered_keepalive_ping_breaks_the_connection() {
    let deaf = DeafServer::start();
    let out = common::hello(&[
        "--addr",
        &deaf.addr,
        "--keepalive-interval",
        "200ms",
        "--keepalive-timeout",
        "300ms",
        "--timeout",
        "10s",
    ]);
    let heard = deaf.heard();
    assert_eq!(out.code, Some(78), "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .contains("failed with UNAVAILABLE: the connection broke"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("keep-alive timed out"),
        "{}",
        out.stderr
    );
    // A PING at 200 ms, given up on 300 ms later: about half a second, far from the deadline.
    assert!(
        out.elapsed < std::time::Duration::from_secs(5),
        "waited for the deadline: {out:?}"
    );
    assert!(
        heard.frames.contains(&(PING, 0)),
        "the client pinged: {:?}",
        heard.frames
    );
    assert!(
        heard.closed_by_client,
        "the client hung up: {:?}",
        heard.frames
    );
}
