//! The streaming methods end to end: `greeter hello --stream` and `--bidi` against
//! `greeter serve`, their output, deadlines and exit codes.

mod common;

use std::time::Duration;

use common::{BOUND, Background, Server, greeter, hello, run, run_with_input};

fn streaming_server(count: &str, interval: &str) -> Server {
    Server::start_with(
        &[
            "--addr",
            "127.0.0.1:0",
            "--stream-count",
            count,
            "--stream-interval",
            interval,
            "--replica",
            "streamer",
        ],
        &[],
    )
}

#[test]
fn stream_prints_every_reply() {
    let server = streaming_server("4", "10ms");
    let out = server.hello(&["--stream", "streamer"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "Hello streamer\n".repeat(4));
    assert_eq!(out.stderr, "");
}

#[test]
fn stream_defaults_show_a_stream_within_the_default_deadline() {
    let server = Server::start();
    let out = server.hello(&["--stream"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "Hello world\n".repeat(5));
    // Five replies 100 ms apart: the last comes 400 ms after the first.
    assert!(
        out.elapsed >= Duration::from_millis(400),
        "{:?}",
        out.elapsed
    );
}

#[test]
fn stream_settings_come_from_the_environment_too() {
    let server = Server::start_with(
        &["--addr", "127.0.0.1:0"],
        &[
            ("GREETER_STREAM_COUNT", "2"),
            ("GREETER_STREAM_INTERVAL", "1ms"),
        ],
    );
    let out = server.hello(&["--stream", "env"]);
    assert_eq!(out.stdout, "Hello env\n".repeat(2), "{out:?}");
}

#[test]
fn a_stream_of_zero_replies_is_a_success() {
    let server = streaming_server("0", "1ms");
    let out = server.hello(&["--stream"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "");
}

#[test]
fn stream_json_is_one_object_per_reply() {
    let server = streaming_server("3", "1ms");
    let out = server.hello(&["--stream", "--output", "json", "j"]);
    assert_eq!(
        out.stdout,
        "{\"message\":\"Hello j\",\"replica\":\"streamer\"}\n".repeat(3),
        "{out:?}"
    );
}

#[test]
fn a_deadline_mid_stream_keeps_what_arrived_and_exits_68() {
    let server = streaming_server("50", "100ms");
    let out = server.hello(&["--stream", "--timeout", "350ms", "slow"]);
    assert_eq!(out.code, Some(68), "{out:?}");
    let replies = out.stdout.lines().count();
    assert!((1..50).contains(&replies), "{replies} replies: {out:?}");
    assert!(
        out.stdout.lines().all(|line| line == "Hello slow"),
        "{out:?}"
    );
    assert!(out.stderr.contains("DEADLINE_EXCEEDED"), "{}", out.stderr);
    common::assert_ended_by(&out, Duration::from_millis(350));
}

#[test]
fn bidi_answers_each_line_of_stdin() {
    let server = Server::start();
    let mut command = greeter(["hello", "--bidi", "--addr", &server.loopback()]);
    command.arg("--timeout").arg("5s");
    let out = run_with_input(command, Some("alice\nbob\n\nZoë 🌍\r\ncarol"));
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.stdout,
        "Hello alice\nHello bob\nHello \nHello Zoë 🌍\nHello carol\n"
    );
}

#[test]
fn bidi_with_empty_stdin_is_a_success_with_no_output() {
    let server = Server::start();
    let out = server.hello(&["--bidi"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "");
}

#[test]
fn bidi_json_is_one_object_per_reply() {
    let server = streaming_server("1", "1ms");
    let mut command = greeter([
        "hello",
        "--bidi",
        "-o",
        "json",
        "--addr",
        &server.loopback(),
    ]);
    command.args(["--timeout", "5s"]);
    let out = run_with_input(command, Some("a\nb\n"));
    assert_eq!(
        out.stdout,
        "{\"message\":\"Hello a\",\"replica\":\"streamer\"}\n\
         {\"message\":\"Hello b\",\"replica\":\"streamer\"}\n",
        "{out:?}"
    );
}

#[test]
fn bidi_waits_on_stdin_only_until_the_deadline() {
    let server = Server::start();
    // stdin stays open and silent: the deadline ends the call.
    let mut command = greeter([
        "hello",
        "--bidi",
        "--timeout",
        "300ms",
        "--addr",
        &server.loopback(),
    ]);
    command.stdin(std::process::Stdio::piped());
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Held open (wait_timeout would close it) and never written to.
    let _stdin = child.stdin.take();
    let status = wait_timeout::ChildExt::wait_timeout(&mut child, common::BOUND).unwrap();
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(68),
        "the deadline ends the call"
    );
}

#[test]
fn stream_and_bidi_exclude_each_other_and_bidi_takes_no_name() {
    // An address nothing answers: were a check lost, the call would fail there, not on :50051.
    let (_bound, addr) = common::refusing_addr();
    let out = hello(&["--addr", &addr, "--stream", "--bidi"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    let out = hello(&["--addr", &addr, "--bidi", "name"]);
    assert_eq!(out.code, Some(2), "{out:?}");
}

#[test]
fn streams_against_a_refused_port_are_unavailable() {
    let (_bound, addr) = common::refusing_addr();
    let out = hello(&["--stream", "--addr", &addr]);
    assert_eq!(out.code, Some(78), "{out:?}");
    let out = run(greeter(["hello", "--bidi", "--addr", &addr]));
    assert_eq!(out.code, Some(78), "{out:?}");
}

#[test]
fn a_stream_in_flight_when_sigterm_arrives_completes() {
    let mut server = streaming_server("5", "200ms");
    let client = Background::spawn(greeter([
        "hello",
        "--stream",
        "--timeout",
        "15s",
        "--addr",
        &server.loopback(),
        "drain",
    ]));
    assert_eq!(client.next_line().as_deref(), Some("Hello drain"));
    server.signal(libc::SIGTERM);
    let (code, rest) = client.finish();
    assert_eq!(code, Some(0));
    assert_eq!(
        rest,
        vec!["Hello drain"; 4],
        "the stream finished during the drain"
    );
    let status = server
        .wait_exit(BOUND)
        .expect("the server exits after the stream");
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
}
