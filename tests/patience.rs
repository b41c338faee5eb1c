//! `--wait-for-ready`, `--connect-timeout` and `--retries`: a client that is patient when asked
//! and fast when not, and never past its deadline.

mod common;

use std::time::Duration;

use common::{BOUND, Background, Server, TempFiles, greeter, hello, refusing_addr, socket_in};

/// Waits, at most [`BOUND`], until the client's stderr mentions `needle`.
fn wait_for_stderr(client: &Background, needle: &str) {
    let stderr = client.stderr_when(|stderr| stderr.contains(needle));
    assert!(stderr.contains(needle), "no {needle:?} in: {stderr}");
}

/// Starts `greeter hello ARGS` in the background, then a server on `addr` once the client has
/// failed at least once (it says so in `failed_line` with -v); the client must then succeed.
fn client_first_then_server(addr: &str, args: &[&str], failed_line: &str) {
    let mut all = vec!["hello", "--addr", addr, "--timeout", "20s", "-v"];
    all.extend_from_slice(args);
    all.push("late");
    let client = Background::spawn(greeter(all));
    wait_for_stderr(&client, failed_line);
    let _server = Server::start_with(&["--addr", addr], &[]);
    assert_eq!(
        client.next_line().as_deref(),
        Some("Hello late"),
        "{}",
        client.stderr()
    );
    let (code, rest) = client.finish();
    assert_eq!(code, Some(0));
    assert!(rest.is_empty(), "{rest:?}");
}

#[test]
fn wait_for_ready_connects_once_the_server_is_up() {
    let dir = tempfile::tempdir().unwrap();
    client_first_then_server(
        &socket_in(&dir, "late.sock"),
        &["--wait-for-ready"],
        "connection attempt 1 failed",
    );
}

#[test]
fn retries_reach_a_server_that_comes_up_later() {
    let dir = tempfile::tempdir().unwrap();
    client_first_then_server(
        &socket_in(&dir, "late.sock"),
        &["--retries", "1000", "--retry-backoff", "20ms"],
        "retry 1 of 1000",
    );
}

#[test]
fn without_patience_a_refused_connection_fails_at_once() {
    let (_bound, addr) = refusing_addr();
    let out = hello(&["--addr", &addr, "--timeout", "30s"]);
    assert_eq!(out.code, Some(78), "{out:?}");
    // Was also hello.rs's a_refused_connection_is_unavailable_at_once (--timeout 10s).
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        format!(
            "error: could not connect to {addr} (connection refused): is `greeter serve` running?\n"
        )
    );
    assert!(
        out.elapsed < Duration::from_secs(5),
        "a refused connection must not wait out the deadline: {:?}",
        out.elapsed
    );
}

#[test]
fn wait_for_ready_gives_up_at_the_deadline_with_the_last_cause() {
    let (_bound, addr) = refusing_addr();
    let out = hello(&["--addr", &addr, "--wait-for-ready", "--timeout", "500ms"]);
    assert_eq!(out.code, Some(68), "{out:?}");
    assert!(out.stderr.contains("within 500ms"), "{}", out.stderr);
    assert!(out.stderr.contains("connection refused"), "{}", out.stderr);
    assert!(
        out.elapsed >= Duration::from_millis(400),
        "gave up early: {:?}",
        out.elapsed
    );
    common::assert_ended_by(&out, Duration::from_millis(500));
}

#[test]
fn retries_exhausted_report_the_last_error() {
    let (_bound, addr) = refusing_addr();
    let out = hello(&[
        "--addr",
        &addr,
        "--retries",
        "2",
        "--retry-backoff",
        "10ms",
        "-v",
    ]);
    assert_eq!(out.code, Some(78), "{out:?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "two retries and the error: {}", out.stderr);
    assert!(lines[0].contains("retry 1 of 2"), "{}", lines[0]);
    assert!(lines[1].contains("retry 2 of 2"), "{}", lines[1]);
    assert!(
        lines[2].starts_with("error: could not connect to"),
        "{}",
        lines[2]
    );
}

#[test]
fn retries_are_quiet_without_verbose() {
    let (_bound, addr) = refusing_addr();
    let out = hello(&["--addr", &addr, "--retries", "2", "--retry-backoff", "10ms"]);
    assert_eq!(out.code, Some(78), "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
}

#[test]
fn retries_never_exceed_the_deadline() {
    let (_bound, addr) = refusing_addr();
    let out = hello(&[
        "--addr",
        &addr,
        "--retries",
        "1000",
        "--retry-backoff",
        "50ms",
        "--timeout",
        "600ms",
    ]);
    assert_eq!(out.code, Some(78), "the last error is reported: {out:?}");
    common::assert_ended_by(&out, Duration::from_millis(600));
}

/// A server that answers every SayHello UNAUTHENTICATED (it wants a token the client lacks),
/// logging each call, so the attempts can be counted on both ends.
fn refusing_server(files: &TempFiles) -> Server {
    let token = files.write("token", "patience-test-token");
    Server::start_with(
        &[
            "--addr",
            "127.0.0.1:0",
            "--auth-token-file",
            token.to_str().unwrap(),
            "--access-log",
        ],
        &[],
    )
}

/// Waits, at most [`BOUND`], for `calls` access-log lines, then (the client has exited, so no
/// attempt is still under way) asserts there are no more than that.
fn assert_attempts(server: &Server, calls: usize) {
    let log = server.stderr_when(|log| log.matches("greeter::access").count() >= calls);
    assert_eq!(
        log.matches("greeter::access").count(),
        calls,
        "attempts the server saw:\n{log}"
    );
}

#[test]
fn other_statuses_are_not_retried() {
    // UNAUTHENTICATED is not UNAVAILABLE: reported after one attempt, never retried, by a
    // single call and by repeated ones alike.
    let files = TempFiles::new();
    let server = refusing_server(&files);
    let out = server.hello(&["--retries", "3", "--retry-backoff", "10ms", "-v", "once"]);
    assert_eq!(out.code, Some(80), "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("UNAUTHENTICATED"), "{}", out.stderr);
    assert!(!out.stderr.contains("retry"), "{}", out.stderr);
    assert_attempts(&server, 1);

    let server = refusing_server(&files);
    let out = server.hello(&[
        "--retries",
        "3",
        "--retry-backoff",
        "10ms",
        "-v",
        "--count",
        "3",
        "thrice",
    ]);
    assert_eq!(out.code, Some(80), "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("UNAUTHENTICATED"), "{}", out.stderr);
    assert!(!out.stderr.contains("retry"), "{}", out.stderr);
    assert_attempts(&server, 3);
}

#[test]
fn connect_timeout_bounds_each_attempt() {
    use socket2::{Domain, Socket, Type};
    // A listener whose accept queue is full: the kernel drops further SYNs, so a connect hangs.
    let full = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    full.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    full.listen(0).unwrap();
    let addr = full.local_addr().unwrap().as_socket().unwrap().to_string();
    let _queued = std::net::TcpStream::connect(&addr).unwrap();

    let out = hello(&[
        "--addr",
        &addr,
        "--connect-timeout",
        "200ms",
        "--timeout",
        "10s",
    ]);
    assert_eq!(out.code, Some(78), "{out:?}");
    assert!(
        out.stderr
            .contains("no answer within --connect-timeout 200ms"),
        "{}",
        out.stderr
    );
    assert!(out.elapsed < Duration::from_secs(3), "{:?}", out.elapsed);
}

#[test]
fn a_stream_is_not_retried_once_a_reply_was_printed() {
    // The server dies (SIGKILL: no goodbye) after the first of five replies: the connection
    // breaks, which is UNAVAILABLE, but a retry would print the replies again.
    let mut server =
        Server::start_on_loopback(&["--stream-count", "5", "--stream-interval", "300ms"]);
    let client = Background::spawn(greeter([
        "hello",
        "--addr",
        &server.loopback(),
        "--stream",
        "--retries",
        "3",
        "--retry-backoff",
        "10ms",
        "--timeout",
        "20s",
        "--verbose",
        "once",
    ]));
    assert_eq!(
        client.next_line().as_deref(),
        Some("Hello once"),
        "{}",
        client.stderr()
    );
    server.signal(libc::SIGKILL);
    server.wait_exit(BOUND).expect("a killed server exits");
    let (code, rest, stderr) = client.finish_with_stderr();
    assert_eq!(code, Some(78), "{stderr}");
    assert_eq!(rest, Vec::<String>::new(), "the reply stays printed, once");
    assert!(stderr.contains("UNAVAILABLE"), "{stderr}");
    assert!(!stderr.contains("retry"), "{stderr}");
}

#[test]
fn bidi_is_never_retried() {
    // stdin cannot be read twice: one attempt, whatever --retries says.
    let (_bound, addr) = refusing_addr();
    let command = greeter([
        "hello",
        "--addr",
        &addr,
        "--bidi",
        "--retries",
        "3",
        "--retry-backoff",
        "10ms",
        "--verbose",
    ]);
    let out = common::run_with_input(command, Some("a\nb\n"));
    assert_eq!(out.code, Some(78), "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(!out.stderr.contains("retry"), "{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "only the error: {}", out.stderr);
    assert!(
        lines[0].starts_with("error: could not connect to"),
        "{}",
        lines[0]
    );
}
