//! `-H`: request headers from argv, files and the environment reach a real server (the official
//! Python grpcio, which logs the metadata it receives); `-v` shows the response's headers and
//! trailers.

mod common;

use std::io::Write;

use common::peer::python_server;
use common::{Server, greeter, hello, run};

/// The `metadata name: value` lines the Python server logged for the call (it logs them before
/// it replies, but they reach us through a pipe of their own).
fn metadata_seen(server: &Server, expected: usize) -> Vec<String> {
    let count = |stderr: &str| {
        stderr
            .lines()
            .filter(|line| {
                line.starts_with("metadata x-") || line.starts_with("metadata authorization")
            })
            .count()
    };
    server
        .stderr_when(|stderr| count(stderr) >= expected)
        .lines()
        .filter_map(|line| line.strip_prefix("metadata "))
        .filter(|line| line.starts_with("x-") || line.starts_with("authorization"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn headers_from_argv_a_file_and_the_environment_reach_the_server() {
    let server = python_server(&[]);
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        file,
        "# sent with every call\nx-from-file: one\n\nauthorization: Bearer ${{TOKEN}}"
    )
    .unwrap();
    let file_arg = format!("@{}", file.path().display());
    let mut command = greeter([
        "hello",
        "--addr",
        &server.loopback(),
        "-H",
        "X-Trace-Id: abc123",
        "-H",
        &file_arg,
        "h",
    ]);
    command.env("TOKEN", "s3cret");
    let out = run(command);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "Hello h\n");
    assert!(
        !out.stderr.contains("s3cret"),
        "the token is never printed: {}",
        out.stderr
    );
    assert_eq!(
        metadata_seen(&server, 3),
        [
            "x-trace-id: abc123",
            "x-from-file: one",
            "authorization: Bearer s3cret"
        ]
    );
}

#[test]
fn greeter_header_takes_one_header_per_line() {
    let server = python_server(&[]);
    let mut command = greeter(["hello", "--addr", &server.loopback()]);
    command.env("GREETER_HEADER", "x-one: 1\nx-two: 2");
    let out = run(command);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(metadata_seen(&server, 2), ["x-one: 1", "x-two: 2"]);
}

#[test]
fn bad_headers_are_usage_errors_and_unreadable_files_fail_with_1() {
    for bad in [
        "no-colon",
        "grpc-timeout: 1S",
        "x-secret: ${GREETER_TEST_UNSET_VARIABLE}",
    ] {
        let out = hello(&["-H", bad]);
        assert_eq!(out.code, Some(2), "{bad}: {out:?}");
        assert!(out.stderr.contains("--header"), "{}", out.stderr);
    }
    let out = hello(&["-H", "@/nonexistent/headers.txt"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(
        out.stderr,
        "error: could not read headers from /nonexistent/headers.txt: no such file or directory\n"
    );
}

#[test]
fn verbose_shows_response_headers_and_trailers() {
    let server = Server::start_with(&["--addr", "127.0.0.1:0", "--stream-count", "1"], &[]);
    let out = server.hello(&["-v", "v"]);
    assert_eq!(out.stdout, "Hello v\n", "{out:?}");
    assert!(
        out.stderr.contains("< content-type: application/grpc"),
        "{}",
        out.stderr
    );
    let out = server.hello(&["-v", "--stream", "v"]);
    assert_eq!(out.stdout, "Hello v\n", "{out:?}");
    assert!(
        out.stderr.contains("< content-type: application/grpc"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("< grpc-status: 0"),
        "trailers too: {}",
        out.stderr
    );
}
