//! The server crashes, restarts or stops under a client: `greeter hello` fails fast and says
//! why, keeps what it printed, reconnects as gRPC channels do (backing off, not one attempt
//! per call), and a drain under load cuts no call.

mod common;

use std::io::Write;
use std::time::Duration;

use common::netns::Netns;
use common::{BOUND, Background, Server, greeter, skip, socket_in};

/// The summary's `errors N`.
fn errors_in(summary: &str) -> u64 {
    let after = summary
        .split("errors ")
        .nth(1)
        .unwrap_or_else(|| panic!("no summary in {summary}"));
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap()
}

#[test]
fn a_server_gone_mid_run_is_refused_and_redialed_with_backoff_not_per_call() {
    if !Netns::possible() {
        return skip("counting connection attempts needs a network namespace (root and ip)");
    }
    // The namespace's own TCP counters count every attempt, refused ones included.
    let netns = Netns::new();
    let serve = ["serve", "--addr", "127.0.0.1:0", "--access-log"];
    let mut server =
        Server::spawn(netns.greeter(&serve)).expect("the server starts in the namespace");
    let addr = server.loopback();
    let client = Background::spawn(netns.greeter(&[
        "hello",
        "--addr",
        &addr,
        "--duration",
        "2s",
        "--concurrency",
        "8",
        "-q",
    ]));
    // Once calls are flowing, the server dies.
    server.stderr_when(|log| log.matches("greeter::access").count() >= 100);
    server.signal(libc::SIGKILL);
    server.wait_exit(BOUND).expect("killed");
    let opens_at_kill = netns.tcp_counter("ActiveOpens");
    let (code, _, stderr) = client.finish_with_stderr();
    let attempts = netns.tcp_counter("ActiveOpens") - opens_at_kill;

    assert_eq!(code, Some(78), "{stderr}");
    let refused =
        format!("could not connect to {addr} (connection refused): is `greeter serve` running?");
    assert!(stderr.contains(&refused), "{stderr}");
    assert!(
        !stderr.contains("plaintext HTTP/2"),
        "not a protocol mix-up: {stderr}"
    );
    assert!(
        stderr.contains("the server stopped answering: the last call to succeed ended"),
        "{stderr}"
    );
    let failed = errors_in(&stderr);
    // The calls keep failing fast, but connections are tried with pauses of 100 ms, doubling:
    // a handful in the time left, where one per call would be thousands.
    assert!(failed > 100, "calls failed after the kill: {stderr}");
    assert!(
        attempts <= 15,
        "{attempts} connection attempts for {failed} failed calls: {stderr}"
    );
}

#[test]
fn a_server_killed_mid_stream_ends_the_call_unavailable_keeping_the_replies() {
    let mut server = Server::start_with(
        &[
            "--addr",
            "127.0.0.1:0",
            "--stream-count",
            "1000",
            "--stream-interval",
            "20ms",
        ],
        &[],
    );
    let client = Background::spawn(greeter([
        "hello",
        "--addr",
        &server.loopback(),
        "--stream",
        "--timeout",
        "30s",
        "streamed",
    ]));
    let first = [client.next_line(), client.next_line()];
    let killed = std::time::Instant::now();
    server.signal(libc::SIGKILL);
    server.wait_exit(BOUND).expect("killed");
    assert_eq!(
        first,
        [Some("Hello streamed".into()), Some("Hello streamed".into())]
    );
    let rest = assert_cut_short(client, killed);
    assert!(rest.iter().all(|line| line == "Hello streamed"), "{rest:?}");
}

#[test]
fn a_server_killed_mid_bidi_ends_the_call_unavailable_keeping_the_replies() {
    let mut server = Server::start();
    let (client, mut stdin) = Background::spawn_fed(greeter([
        "hello",
        "--addr",
        &server.loopback(),
        "--bidi",
        "--timeout",
        "30s",
    ]));
    writeln!(stdin, "first").unwrap();
    assert_eq!(client.next_line().as_deref(), Some("Hello first"));
    let killed = std::time::Instant::now();
    server.signal(libc::SIGKILL);
    server.wait_exit(BOUND).expect("killed");
    // stdin stays open: the broken connection alone must end the call.
    let rest = assert_cut_short(client, killed);
    drop(stdin);
    assert!(rest.is_empty(), "{rest:?}");
}

/// The call the server died under ended at once (not at its 30 s deadline) with 78 and one
/// line saying UNAVAILABLE; what the client printed after the test's last look, returned.
fn assert_cut_short(client: Background, killed: std::time::Instant) -> Vec<String> {
    let (code, rest, stderr) = client.finish_with_stderr();
    let took = killed.elapsed();
    assert_eq!(code, Some(78), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("UNAVAILABLE"), "{stderr}");
    assert!(
        took < Duration::from_secs(5),
        "noticed at once, not at the deadline: {took:?}"
    );
    rest
}

#[test]
fn a_server_restarted_under_a_run_with_retries_answers_every_call() {
    let dir = tempfile::tempdir().unwrap();
    let addr = socket_in(&dir, "restart.sock");
    let serve = |addr: &str| Server::start_with(&["--addr", addr, "--access-log"], &[]);
    let mut first = serve(&addr);
    let client = Background::spawn(greeter([
        "hello",
        "--addr",
        &addr,
        "--count",
        "2000",
        "--concurrency",
        "16",
        "--retries",
        "5",
        "--timeout",
        "3s",
        "-q",
    ]));
    first.stderr_when(|log| log.matches("greeter::access").count() >= 200);
    first.signal(libc::SIGTERM);
    first
        .wait_exit(BOUND)
        .expect("the first server drains and exits");
    let second = serve(&addr);
    let (code, _, stderr) = client.finish_with_stderr();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("calls 2000, ok 2000, errors 0"), "{stderr}");
    let served = |server: &Server| server.stderr().matches("status=\"OK\"").count();
    let second_served = served(&second);
    assert!(second_served > 0, "the second server took over");
    // Every call answered once: no call was cut and answered again.
    assert_eq!(served(&first) + second_served, 2000);
}

#[test]
fn sigterm_under_load_cuts_no_call_and_the_counts_add_up() {
    let mut server = Server::start_with(&["--addr", "127.0.0.1:0", "--access-log"], &[]);
    let clients: Vec<Background> = (0..3)
        .map(|_| {
            Background::spawn(greeter([
                "hello",
                "--addr",
                &server.loopback(),
                "--duration",
                "8s",
                "--concurrency",
                "64",
                "--timeout",
                "5s",
                "-q",
            ]))
        })
        .collect();
    server.stderr_when(|log| log.matches("greeter::access").count() >= 1000);
    server.signal(libc::SIGTERM);
    let status = server.wait_exit(BOUND).expect("drains and exits");
    assert_eq!(status.code(), Some(0));
    let log = server.stderr();
    let mut ok = 0;
    for client in clients {
        let (_, _, stderr) = client.finish_with_stderr();
        let summary = stderr.lines().next().unwrap_or_default().to_owned();
        let calls_ok: u64 = summary
            .split(", ok ")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no summary: {stderr}"));
        ok += calls_ok;
        // What failed failed because the server was gone: refused, never cut.
        let errors = errors_in(&summary);
        if errors > 0 {
            assert!(
                summary.contains(&format!("(UNAVAILABLE {errors})")),
                "{stderr}"
            );
        }
    }
    let logged = log.matches("greeter::access").count() as u64;
    let logged_ok = log.matches("status=\"OK\"").count() as u64;
    assert_eq!(logged_ok, logged, "every call the server started ended OK");
    assert_eq!(ok, logged_ok, "every OK the server sent reached a client");
}
