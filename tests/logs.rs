//! Server logs: stderr only, text or JSON, the level, and the access log line per call.

mod common;

use common::h2conn::{H2Conn, hello_request};
use common::{BOUND, Server, greeter, run};
use serde_json::Value;

const UNIMPLEMENTED: &str = "grpc-status 12";

/// Waits, at most [`BOUND`], until the server's stderr holds `lines` lines containing
/// `needle`, and returns those lines.
fn wait_for_lines(server: &Server, needle: &str, lines: usize) -> Vec<String> {
    let with_needle = |stderr: &str| -> Vec<String> {
        stderr
            .lines()
            .filter(|line| line.contains(needle))
            .map(str::to_owned)
            .collect()
    };
    let stderr = server.stderr_when(|stderr| with_needle(stderr).len() >= lines);
    let found = with_needle(&stderr);
    assert!(
        found.len() >= lines,
        "{lines} lines with {needle:?} expected in:\n{stderr}"
    );
    found
}

#[test]
fn the_access_log_is_off_by_default() {
    let mut server = Server::start();
    assert_eq!(server.hello(&["quiet"]).code, Some(0));
    server.signal(libc::SIGTERM);
    assert!(server.wait_exit(BOUND).is_some());
    assert!(
        !server.stderr().contains("greeter::access"),
        "{}",
        server.stderr()
    );
}

#[test]
fn text_access_log_names_method_peer_status_and_latency() {
    let server = Server::start_with(&["--addr", "127.0.0.1:0", "--access-log"], &[]);
    assert_eq!(server.hello(&["logged"]).code, Some(0));
    let line = &wait_for_lines(&server, "greeter::access", 1)[0];
    for field in [
        "method=/helloworld.Greeter/SayHello",
        "peer=127.0.0.1:",
        "status=\"OK\"",
        "code=0",
        "latency_us=",
    ] {
        assert!(line.contains(field), "{field} missing from {line}");
    }
}

#[test]
fn a_stream_abandoned_midway_is_logged_cancelled() {
    let server = Server::start_with(
        &[
            "--addr",
            "127.0.0.1:0",
            "--access-log",
            "--stream-count",
            "5",
            "--stream-interval",
            "1s",
        ],
        &[],
    );
    // The client is killed after the first of five replies, a second apart.
    let client = common::Background::spawn(greeter([
        "hello",
        "--addr",
        &server.loopback(),
        "--stream",
        "gone",
    ]));
    assert_eq!(client.next_line().as_deref(), Some("Hello gone"));
    drop(client);
    let line = &wait_for_lines(&server, "greeter::access", 1)[0];
    assert!(
        line.contains("method=/helloworld.Greeter/SayHelloStreamReply"),
        "{line}"
    );
    assert!(line.contains("status=\"CANCELLED\" code=1"), "{line}");
}

#[test]
fn a_call_abandoned_before_its_message_is_logged_cancelled() {
    let server = Server::start_with(&["--addr", "127.0.0.1:0", "--access-log"], &[]);
    // The request's headers are in, its message never comes, and the client goes away
    // (dropping the call closes its connection).
    drop(H2Conn::connect(&server.loopback()).hold());
    let line = &wait_for_lines(&server, "greeter::access", 1)[0];
    assert!(
        line.contains("method=/helloworld.Greeter/SayHello"),
        "{line}"
    );
    assert!(line.contains("status=\"CANCELLED\" code=1"), "{line}");
}

#[test]
fn the_peer_of_a_call_on_a_unix_socket_is_unix() {
    let dir = tempfile::tempdir().unwrap();
    let addr = format!("unix:{}", dir.path().join("logs.sock").display());
    let server = Server::start_with(&["--addr", &addr, "--access-log"], &[]);
    assert_eq!(server.hello(&["local"]).code, Some(0));
    let line = &wait_for_lines(&server, "greeter::access", 1)[0];
    assert!(line.contains(" peer=unix "), "{line}");
    assert!(line.contains("status=\"OK\" code=0"), "{line}");
}

#[test]
fn json_logs_are_one_object_per_line_with_the_documented_fields() {
    let server = Server::start_with(
        &["--addr", "127.0.0.1:0", "--log-format", "json"],
        &[("GREETER_ACCESS_LOG", "true")],
    );
    assert_eq!(server.hello(&["json"]).code, Some(0));
    // An unknown method is logged with its status too.
    let unknown = H2Conn::connect(&server.loopback())
        .call("/helloworld.Greeter/SayGoodbye", &[], hello_request("x"))
        .reply();
    assert_eq!(unknown, Err(UNIMPLEMENTED.to_owned()));

    let lines = wait_for_lines(&server, "greeter::access", 2);
    let calls: Vec<Value> = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let by_method = |method: &str| {
        calls
            .iter()
            .find(|call| call["method"] == method)
            .unwrap_or_else(|| panic!("no access log for {method}: {lines:?}"))
    };
    let hello = by_method("/helloworld.Greeter/SayHello");
    assert_eq!(hello["level"], "INFO");
    assert_eq!(hello["target"], "greeter::access");
    assert_eq!(hello["status"], "OK");
    assert_eq!(hello["code"], 0);
    assert!(hello["latency_us"].as_u64().is_some(), "{hello}");
    assert!(
        hello["peer"].as_str().unwrap().starts_with("127.0.0.1:"),
        "{hello}"
    );
    assert!(hello["timestamp"].as_str().is_some(), "{hello}");
    let goodbye = by_method("/helloworld.Greeter/SayGoodbye");
    assert_eq!(goodbye["status"], "UNIMPLEMENTED");
    assert_eq!(goodbye["code"], 12);

    // Every line on stderr is JSON, not only the access log.
    for line in server.stderr().lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
}

#[test]
fn the_log_level_filters_and_rust_log_is_the_fallback() {
    let mut server = Server::start_with(&["--addr", "127.0.0.1:0", "--log-level", "warn"], &[]);
    server.signal(libc::SIGTERM);
    assert!(server.wait_exit(BOUND).is_some());
    assert!(
        !server.stderr().contains("SIGTERM received"),
        "{}",
        server.stderr()
    );

    let mut server = Server::start_with(&["--addr", "127.0.0.1:0"], &[("RUST_LOG", "error")]);
    server.signal(libc::SIGTERM);
    assert!(server.wait_exit(BOUND).is_some());
    assert_eq!(server.stderr(), "");

    let mut server = Server::start_with(
        &["--addr", "127.0.0.1:0", "--log-level", "info"],
        &[("RUST_LOG", "error")],
    );
    server.signal(libc::SIGTERM);
    assert!(server.wait_exit(BOUND).is_some());
    assert!(
        server.stderr().contains("SIGTERM received"),
        "{}",
        server.stderr()
    );
}

#[test]
fn a_bad_log_level_is_a_usage_error() {
    let out = run(greeter([
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--log-level",
        "loud==",
    ]));
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("--log-level"), "{}", out.stderr);
}

#[test]
fn unknown_services_and_methods_get_unimplemented_not_an_http_error() {
    let server = Server::start();
    for path in [
        "/helloworld.Greeter/SayGoodbye",
        "/no.such.Service/Method",
        "/grpc.health.v1.Health/Nope",
    ] {
        let status = H2Conn::connect(&server.loopback())
            .call(path, &[], hello_request("x"))
            .reply();
        assert_eq!(status, Err(UNIMPLEMENTED.to_owned()), "{path}");
    }
    assert_eq!(
        server.hello(&["still_serving"]).stdout,
        "Hello still_serving\n"
    );
}

#[test]
fn reflection_can_be_turned_off_and_then_is_unimplemented() {
    let server = Server::start_with(&["--addr", "127.0.0.1:0", "--no-reflection"], &[]);
    for path in [
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    ] {
        let status = H2Conn::connect(&server.loopback())
            .call(path, &[], hello_request("x"))
            .reply();
        assert_eq!(status, Err(UNIMPLEMENTED.to_owned()), "{path}");
    }
}
