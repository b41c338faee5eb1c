//! `greeter hello` message options against the official Python grpcio server: request
//! compression (--compress), the size limits (--max-recv-msg-size, --max-send-msg-size) and
//! HTTP/2 keepalive.

mod common;

use common::peer::python_server;

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

#[test]
fn calls_work_with_keepalive() {
    let server = python_server(&[]);
    let out = server.hello(&[
        "--keepalive-interval",
        "1s",
        "--keepalive-timeout",
        "2s",
        "--count",
        "3",
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "Hello world\n".repeat(3));
    let out = server.hello(&["--keepalive-interval", "0s"]);
    assert_eq!(out.code, Some(2), "a zero interval is refused: {out:?}");
}
