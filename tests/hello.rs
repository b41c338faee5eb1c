//! `greeter hello` end to end against a real `greeter serve`: names, output formats,
//! environment variables, and every failure with its message and exit code.

mod common;

use std::net::TcpListener;
use std::time::Duration;

use common::fake::AnsweringServer;
use common::{Server, assert_bad_addr, greeter, hello, refusing_addr, run};

#[test]
fn greets_the_positional_name() {
    let server = Server::start();
    let out = server.hello(&["your_name"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "Hello your_name\n");
    assert_eq!(out.stderr, "");
}

#[test]
fn greets_the_name_flag() {
    let server = Server::start();
    let out = server.hello(&["--name", "flag_name"]);
    assert_eq!(out.stdout, "Hello flag_name\n", "{out:?}");
}

#[test]
fn greets_the_world_by_default() {
    let server = Server::start();
    let out = server.hello(&[]);
    assert_eq!(out.stdout, "Hello world\n", "{out:?}");
}

#[test]
fn greets_unicode_names_byte_for_byte() {
    let server = Server::start();
    let out = server.hello(&["Zoë 世界 🌍"]);
    assert_eq!(out.stdout, "Hello Zoë 世界 🌍\n", "{out:?}");
}

#[test]
fn an_empty_name_gets_hello_and_a_space() {
    let server = Server::start();
    let out = server.hello(&[""]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "Hello \n");
}

#[test]
fn json_output_is_one_object_per_reply() {
    let server = Server::start_with(&["--addr", "127.0.0.1:0", "--replica", "r1"], &[]);
    let out = server.hello(&["--output", "json", "your_name"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.stdout,
        "{\"message\":\"Hello your_name\",\"replica\":\"r1\"}\n"
    );
    let parsed: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(parsed["message"], "Hello your_name");
}

#[test]
fn a_host_name_tries_every_address_it_resolves_to() {
    // localhost resolves to ::1 and 127.0.0.1 on most hosts; the server is on IPv4 only.
    let server = Server::start();
    let out = hello(&["--addr", &format!("localhost:{}", server.port()), "x"]);
    assert_eq!(out.stdout, "Hello x\n", "{out:?}");
    let out = hello(&["--addr", &format!(":{}", server.port()), "y"]);
    assert_eq!(out.stdout, "Hello y\n", "{out:?}");
    let out = hello(&[
        "--addr",
        &format!("http://127.0.0.1:{}", server.port()),
        "z",
    ]);
    assert_eq!(out.stdout, "Hello z\n", "{out:?}");
}

#[test]
fn every_address_of_a_name_is_tried_whatever_their_order() {
    // A name for both loopback addresses, and a server on only one of them, then only the
    // other: whichever address the resolver gives first, one of the two calls needs the
    // fallback to the next.
    if !common::has_ipv6_loopback() || !common::HostsFile::possible() {
        common::skip("needs IPv6 loopback and root (for a private /etc/hosts)");
        return;
    }
    let hosts = common::HostsFile::new("both.test", &["::1", "127.0.0.1"]);
    for listen in ["127.0.0.1:0", "[::1]:0"] {
        let server = Server::start_with(&["--addr", listen], &[]);
        let addr = format!("both.test:{}", server.port());
        let out = run(hosts.greeter(&["hello", "--addr", &addr, "only"]));
        assert_eq!(out.code, Some(0), "server on {listen}: {out:?}");
        assert_eq!(out.stdout, "Hello only\n");
    }
}

#[test]
fn every_flag_reads_its_environment_variable() {
    let server = Server::start();
    let mut command = greeter(["hello"]);
    command
        .env("GREETER_ADDR", server.loopback())
        .env("GREETER_NAME", "from_env")
        .env("GREETER_TIMEOUT", "5s")
        .env("GREETER_OUTPUT", "json");
    let out = run(command);
    assert_eq!(out.code, Some(0), "{out:?}");
    let reply: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON object");
    assert_eq!(reply["message"], "Hello from_env", "{}", out.stdout);
}

#[test]
fn the_command_line_wins_over_the_environment() {
    let server = Server::start();
    let mut command = greeter(["hello", "--output", "text", "from_argv"]);
    command
        .env("GREETER_ADDR", "127.0.0.1:1")
        .env("GREETER_NAME", "from_env")
        .env("GREETER_OUTPUT", "json")
        .args(["--addr", &server.loopback()]);
    let out = run(command);
    assert_eq!(out.stdout, "Hello from_argv\n", "{out:?}");
}

#[test]
fn a_bad_environment_value_is_a_usage_error() {
    let mut command = greeter(["hello"]);
    command.env("GREETER_TIMEOUT", "soon");
    let out = run(command);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("--timeout"), "{}", out.stderr);
}

#[test]
fn json_failures_go_to_stderr_as_one_object() {
    let (_bound, addr) = refusing_addr();
    let out = hello(&["--addr", &addr, "--output", "json"]);
    assert_eq!(out.code, Some(78), "{out:?}");
    assert_eq!(out.stdout, "");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    let failure: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(failure["code"], "UNAVAILABLE");
    assert_eq!(failure["code_number"], 14);
    let message = failure["message"].as_str().unwrap();
    assert!(message.contains("connection refused"), "{message}");
}

#[test]
fn a_server_that_never_answers_exceeds_the_deadline() {
    // Accepts TCP connections (the kernel does, into the backlog) but never speaks HTTP/2.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let timeout = Duration::from_millis(500);
    let out = hello(&["--addr", &addr, "--timeout", "500ms"]);
    assert_eq!(out.code, Some(68), "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("DEADLINE_EXCEEDED"), "{}", out.stderr);
    assert!(out.stderr.contains(&addr), "{}", out.stderr);
    assert!(out.elapsed >= timeout, "gave up early: {:?}", out.elapsed);
    common::assert_ended_by(&out, timeout);
}

#[test]
fn an_unresolvable_host_is_unavailable_and_named() {
    // `.invalid` never resolves (RFC 6761), but glibc still asks the configured nameserver,
    // and a slow or dead one could outlast the 1 s default deadline (68). As root the lookup
    // stays in a hosts file of the test's own (no DNS at all), so the answer comes at once
    // with the default deadline; elsewhere a deadline past glibc's own give-up (two tries of
    // 5 s) but inside BOUND makes the outcome the lookup's failure, always 78.
    let (_bound, refusing) = common::refusing_addr();
    let port = refusing.rsplit_once(':').map(|(_, port)| port).unwrap();
    let addr = format!("no-such-host.invalid:{port}");
    let out = if common::HostsFile::possible() {
        let hosts = common::HostsFile::new("elsewhere.test", &["127.0.0.1"]);
        run(hosts.greeter(&["hello", "--addr", &addr]))
    } else {
        hello(&["--addr", &addr, "--timeout", "15s"])
    };
    assert_eq!(out.code, Some(78), "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .starts_with("error: could not resolve no-such-host.invalid"),
        "{}",
        out.stderr
    );
}

#[test]
fn bad_timeouts_are_usage_errors() {
    // 400000000000y is more than the clock can take added to it (it panicked).
    for bad in ["soon", "10", "0s", "-1s", "", "101y", "400000000000y"] {
        let out = hello(&[&format!("--timeout={bad}")]);
        assert_eq!(out.code, Some(2), "--timeout {bad:?}: {out:?}");
        assert!(out.stderr.contains("--timeout"), "{}", out.stderr);
        assert_eq!(out.stdout, "");
    }
}

#[test]
fn bad_addresses_are_usage_errors() {
    for bad in [
        "localhost",
        "::1:50051",
        "localhost:99999",
        "ftp://h:1",
        "unix:",
        "a b:1",
    ] {
        let out = hello(&["--addr", bad]);
        assert_bad_addr(&out, bad);
    }
}

#[test]
fn a_name_given_twice_is_a_usage_error() {
    let out = hello(&["one", "--name", "two"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("given twice"), "{}", out.stderr);
}

#[test]
fn an_unknown_flag_is_a_usage_error() {
    let out = hello(&["--no-such-flag"]);
    assert_eq!(out.code, Some(2), "{out:?}");
}

#[test]
fn help_reads_like_a_man_page() {
    let out = run(greeter(["hello", "--help"]));
    assert_eq!(out.code, Some(0), "{out:?}");
    for needle in [
        "Examples:",
        "Exit codes",
        "68  DEADLINE_EXCEEDED  no reply within --timeout",
        "GREETER_TIMEOUT",
        "--output",
    ] {
        assert!(
            out.stdout.contains(needle),
            "{needle} missing from:\n{}",
            out.stdout
        );
    }
    let out = run(greeter(["--version"]));
    assert_eq!(
        out.stdout,
        format!("greeter {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn a_server_that_does_not_speak_http2_is_unavailable_with_a_hint() {
    // Answers every connection like an HTTP/1 server would, then hangs up, until told to stop.
    let answering = AnsweringServer::start(
        b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        usize::MAX,
    );
    let addr = answering.addr.clone();
    let out = hello(&["--addr", &addr, "--timeout", "5s"]);
    answering.finish();
    assert_eq!(out.code, Some(78), "{out:?}");
    assert!(
        out.stderr.starts_with(&format!(
            "error: SayHello on {addr} failed with UNAVAILABLE"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("speaking plaintext HTTP/2?"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
}

/// `greeter hello ARGS` against `server` with a stdout whose read end is closed before the
/// process starts, as with `greeter hello | head -0`: every write to it meets EPIPE (Rust
/// ignores SIGPIPE), with no race against a reader that might still be there. Returns the exit
/// code and stderr.
fn hello_into_a_closed_pipe(server: &Server, args: &[&str]) -> (Option<i32>, String) {
    use std::io::Read;
    use std::process::Stdio;
    use wait_timeout::ChildExt;

    // A pipe whose read end is closed at once (libc: std::io::pipe is newer than the MSRV).
    let mut ends = [0; 2];
    // SAFETY: `ends` has room for the two descriptors pipe2 writes.
    // Close-on-exec, so no other test's child inherits the read end and keeps it open.
    assert_eq!(
        unsafe { libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC) },
        0,
        "a pipe"
    );
    // SAFETY: both descriptors were just made by pipe and are owned here alone.
    let (reader, writer) = unsafe {
        use std::os::fd::FromRawFd;
        (
            std::fs::File::from_raw_fd(ends[0]),
            std::fs::File::from_raw_fd(ends[1]),
        )
    };
    drop(reader);
    let addr = server.loopback();
    let mut command = greeter(["hello", "--addr", addr.as_str()]);
    command.args(args);
    let mut child = command
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn greeter");
    // The command still holds our copy of the write end; gone with it, only the child's is left.
    drop(command);
    let mut stderr = child.stderr.take().expect("piped stderr");
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let status = match child.wait_timeout(common::BOUND).expect("wait") {
        Some(status) => status,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("greeter hello {args:?} into a closed pipe did not finish");
        }
    };
    (status.code(), stderr.join().expect("stderr reader"))
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let server = Server::start_on_loopback(&["--stream-count", "3", "--stream-interval", "10ms"]);
    for args in [
        &["closed"][..],
        &["--output", "json", "closed"],
        &["--stream", "closed"],
    ] {
        let (code, stderr) = hello_into_a_closed_pipe(&server, args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
    // Repeated calls print each reply too; stderr then holds the summary, and only that.
    let (code, stderr) = hello_into_a_closed_pipe(&server, &["--count", "3", "closed"]);
    assert_eq!(code, Some(0), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    // Counts, latency, and the histogram's ten bars.
    assert_eq!(lines.len(), 12, "{stderr}");
    assert!(
        lines[0].starts_with("calls 3, ok 3, errors 0, "),
        "{stderr}"
    );
    assert!(lines[1].starts_with("latency min "), "{stderr}");
}
