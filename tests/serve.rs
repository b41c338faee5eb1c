//! `greeter serve` end to end: the address forms, the readiness line, bind failures, Unix
//! sockets and shutdown on a signal.

mod common;

use std::net::TcpListener;
use std::time::Duration;

use common::h2conn::H2Conn;
use common::{BOUND, Server, assert_bad_addr, greeter, has_ipv6_loopback, hello, run, socket_in};

#[test]
fn the_readiness_line_names_the_real_port() {
    let server = Server::start();
    assert!(server.addr.starts_with("127.0.0.1:"), "{}", server.addr);
    assert_ne!(server.port(), 0);
    assert_eq!(server.hello(&["ready"]).stdout, "Hello ready\n");
}

#[test]
fn all_interfaces_means_ipv6_and_ipv4() {
    let server = Server::start_with(&["--addr", ":0"], &[]);
    let port = server.port();
    let out = hello(&["--addr", &format!("127.0.0.1:{port}"), "v4"]);
    assert_eq!(out.stdout, "Hello v4\n", "{out:?}");
    if !has_ipv6_loopback() {
        common::skip("the IPv6 half: this host has no IPv6 loopback");
        assert_eq!(server.addr, format!("0.0.0.0:{port}"));
        return;
    }
    assert_eq!(server.addr, format!("[::]:{port}"));
    let out = hello(&["--addr", &format!("[::1]:{port}"), "v6"]);
    assert_eq!(out.stdout, "Hello v6\n", "{out:?}");
}

#[test]
fn an_ipv6_address_serves_ipv6() {
    if !has_ipv6_loopback() {
        common::skip("this host has no IPv6 loopback");
        return;
    }
    let server = Server::start_with(&["--addr", "[::1]:0"], &[]);
    assert!(server.addr.starts_with("[::1]:"), "{}", server.addr);
    let out = hello(&["--addr", &server.addr, "six"]);
    assert_eq!(out.stdout, "Hello six\n", "{out:?}");
}

#[test]
fn a_host_name_listens_on_its_ipv4_address_first() {
    let server = Server::start_with(&["--addr", "localhost:0"], &[]);
    assert!(server.addr.starts_with("127.0.0.1:"), "{}", server.addr);
}

#[test]
fn the_address_comes_from_greeter_addr() {
    let server = Server::start_with(&[], &[("GREETER_ADDR", "127.0.0.1:0")]);
    assert!(server.addr.starts_with("127.0.0.1:"), "{}", server.addr);
}

#[test]
fn stdout_holds_the_readiness_line_only() {
    let server = Server::start();
    assert_eq!(server.hello(&["a"]).code, Some(0));
    let mut server = server;
    server.signal(libc::SIGTERM);
    let status = server.wait_exit(BOUND);
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "{}",
        server.stderr()
    );
    // wait_exit joined the stdout reader: this is everything the server printed.
    assert_eq!(server.stdout(), format!("listening on {}\n", server.addr));
}

#[test]
fn an_address_in_use_fails_with_status_1() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run(greeter(["serve", "--addr", &addr]));
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        format!(
            "error: could not listen on {addr}: address already in use: is another server \
             running? Stop it or choose another --addr\n"
        )
    );
}

#[test]
fn a_privileged_port_without_privileges_fails_with_status_1() {
    // Needs a port below the unprivileged range and a way to drop root for the server.
    let start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|text| text.trim().parse::<u16>().ok());
    let Some(port) = start.filter(|&start| start > 1).map(|start| start - 1) else {
        common::skip("every port is unprivileged on this host");
        return;
    };
    let unprivileged = match common::unprivileged_greeter() {
        Ok(unprivileged) => unprivileged,
        Err(why) => return common::skip(&why),
    };
    let mut command = unprivileged();
    command.args(["serve", "--addr", &format!("127.0.0.1:{port}")]);
    let out = run(command);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(
        out.stderr,
        format!(
            "error: could not listen on 127.0.0.1:{port}: permission denied: ports below 1024 \
             need privileges; choose a port above 1024\n"
        )
    );
}

#[test]
fn an_address_of_no_interface_fails_with_status_1() {
    // TEST-NET-1 (RFC 5737) is on no interface here; bind fails before any packet is sent.
    let out = run(greeter(["serve", "--addr", "192.0.2.1:0"]));
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr
            .contains("address not available on this host: choose an address of one of its interfaces, or :PORT for all of them"),
        "{}",
        out.stderr
    );
}

#[test]
fn bad_addresses_are_usage_errors() {
    for bad in [
        "50051",
        "localhost",
        "[::1]",
        ":http",
        "http://:1",
        "unix://h/p",
    ] {
        let out = run(greeter(["serve", "--addr", bad]));
        assert_bad_addr(&out, bad);
    }
}

#[test]
fn sigterm_shuts_down_cleanly_and_frees_the_port() {
    let mut server = Server::start();
    let addr = server.loopback();
    assert_eq!(server.hello(&["before"]).code, Some(0));
    server.signal(libc::SIGTERM);
    let status = server.wait_exit(BOUND).expect("exits after SIGTERM");
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
    assert!(
        server.stderr().contains("SIGTERM received"),
        "{}",
        server.stderr()
    );
    let out = hello(&["--addr", &addr]);
    assert_eq!(out.code, Some(78), "{out:?}");
}

#[test]
fn sigint_shuts_down_cleanly() {
    let mut server = Server::start();
    server.signal(libc::SIGINT);
    let status = server.wait_exit(BOUND).expect("exits after SIGINT");
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
}

#[test]
fn serves_with_any_number_of_workers() {
    for workers in ["1", "3"] {
        let server = Server::start_with(&["--addr", "127.0.0.1:0", "--workers", workers], &[]);
        for call in 0..6 {
            let out = server.hello(&[&format!("call{call}")]);
            assert_eq!(out.stdout, format!("Hello call{call}\n"), "{out:?}");
        }
    }
    let out = run(greeter([
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--workers",
        "0",
    ]));
    assert_eq!(out.code, Some(2), "{out:?}");
}

mod unix_socket {
    use super::*;

    #[test]
    fn serves_and_answers_on_a_unix_socket() {
        let dir = tempfile::tempdir().unwrap();
        let addr = socket_in(&dir, "greeter.sock");
        let server = Server::start_with(&["--addr", &addr], &[]);
        assert_eq!(server.addr, addr);
        let out = hello(&["--addr", &addr, "unix"]);
        assert_eq!(out.stdout, "Hello unix\n", "{out:?}");
        let triple_slash = format!("unix://{}", dir.path().join("greeter.sock").display());
        let out = hello(&["--addr", &triple_slash, "abs"]);
        assert_eq!(out.stdout, "Hello abs\n", "{out:?}");
    }

    #[test]
    fn the_socket_file_is_removed_on_exit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("greeter.sock");
        let mut server = Server::start_with(&["--addr", &socket_in(&dir, "greeter.sock")], &[]);
        assert!(path.exists());
        server.signal(libc::SIGTERM);
        assert_eq!(server.wait_exit(BOUND).and_then(|s| s.code()), Some(0));
        assert!(!path.exists(), "{} left behind", path.display());
    }

    #[test]
    fn a_stale_socket_file_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("greeter.sock");
        // A socket file nobody listens on, as a killed server leaves it.
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let server = Server::start_with(&["--addr", &socket_in(&dir, "greeter.sock")], &[]);
        assert_eq!(server.hello(&["fresh"]).stdout, "Hello fresh\n");
    }

    #[test]
    fn a_live_socket_is_not_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let addr = socket_in(&dir, "greeter.sock");
        let server = Server::start_with(&["--addr", &addr], &[]);
        let out = run(greeter(["serve", "--addr", &addr]));
        assert_eq!(out.code, Some(1), "{out:?}");
        assert!(
            out.stderr.contains("another server is listening on it"),
            "{}",
            out.stderr
        );
        assert_eq!(server.hello(&["still"]).stdout, "Hello still\n");
    }

    #[test]
    fn a_regular_file_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("greeter.sock"), "precious").unwrap();
        let out = run(greeter([
            "serve",
            "--addr",
            &socket_in(&dir, "greeter.sock"),
        ]));
        assert_eq!(out.code, Some(1), "{out:?}");
        assert!(out.stderr.contains("is not a socket"), "{}", out.stderr);
        let kept = std::fs::read_to_string(dir.path().join("greeter.sock")).unwrap();
        assert_eq!(kept, "precious");
    }

    #[test]
    fn the_socket_file_gets_the_mode_asked_for() {
        use std::os::unix::fs::PermissionsExt as _;
        for (mode, expected) in [("0600", 0o600), ("660", 0o660)] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("greeter.sock");
            let addr = socket_in(&dir, "greeter.sock");
            let server = Server::start_with(&["--addr", &addr, "--unix-mode", mode], &[]);
            let actual = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(actual, expected, "--unix-mode {mode}");
            assert_eq!(server.hello(&["mode"]).stdout, "Hello mode\n");
        }
    }

    #[test]
    fn unix_mode_is_for_unix_sockets_and_octal() {
        let out = run(greeter([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--unix-mode",
            "0600",
        ]));
        assert_eq!(out.code, Some(2), "{out:?}");
        assert!(out.stderr.contains("--addr unix:PATH"), "{}", out.stderr);
        let out = run(greeter([
            "serve",
            "--addr",
            "unix:/tmp/x.sock",
            "--unix-mode",
            "0999",
        ]));
        assert_eq!(out.code, Some(2), "{out:?}");
        assert!(out.stderr.contains("octal"), "{}", out.stderr);
    }

    #[test]
    fn a_missing_socket_is_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        let addr = socket_in(&dir, "greeter.sock");
        let out = hello(&["--addr", &addr]);
        assert_eq!(out.code, Some(78), "{out:?}");
        assert!(
            out.stderr.contains(&format!("could not connect to {addr}")),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn a_call_in_flight_when_sigterm_arrives_completes() {
    let mut server = Server::start();
    let call = H2Conn::connect(&server.loopback()).hold();
    server.signal(libc::SIGTERM);
    wait_for_drain_message(&server);
    // Draining: new connections are refused, the call in flight is still served.
    let out = server.hello(&["latecomer"]);
    assert_eq!(out.code, Some(78), "{out:?}");
    assert_eq!(
        call.finish("in_flight").reply(),
        Ok("Hello in_flight".to_owned())
    );
    let status = server
        .wait_exit(BOUND)
        .expect("exits once the call is done");
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
}

#[test]
fn a_call_held_in_flight_takes_a_name_of_any_length() {
    // The kit's raw call encodes and decodes varint lengths: a name past 127 bytes works.
    let server = Server::start();
    let long = "n".repeat(300);
    let call = H2Conn::connect(&server.loopback()).hold();
    assert_eq!(call.finish(&long).reply(), Ok(format!("Hello {long}")));
}

#[test]
fn a_second_signal_exits_at_once() {
    let mut server = Server::start();
    let _call = H2Conn::connect(&server.loopback()).hold();
    server.signal(libc::SIGTERM);
    wait_for_drain_message(&server);
    assert!(
        server.wait_exit(Duration::from_millis(200)).is_none(),
        "the drain waits for the call"
    );
    server.signal(libc::SIGTERM);
    let status = server
        .wait_exit(AT_ONCE)
        .expect("second signal exits at once");
    assert_eq!(
        status.code(),
        Some(128 + libc::SIGTERM),
        "{}",
        server.stderr()
    );
}

#[test]
fn a_second_sigint_exits_130_at_once() {
    // A grace period longer than BOUND: an exit within BOUND is the second signal's doing.
    let mut server = Server::start_with(&["--addr", "127.0.0.1:0", "--grace-period", "1h"], &[]);
    let _call = H2Conn::connect(&server.loopback()).hold();
    server.signal(libc::SIGINT);
    wait_for_drain_message(&server);
    assert!(
        server.wait_exit(Duration::from_millis(200)).is_none(),
        "the drain waits for the call"
    );
    server.signal(libc::SIGINT);
    let status = server
        .wait_exit(AT_ONCE)
        .expect("second SIGINT exits at once");
    assert_eq!(
        status.code(),
        Some(128 + libc::SIGINT),
        "{}",
        server.stderr()
    );
    assert!(
        server
            .stderr()
            .contains("SIGINT received again: exiting now"),
        "{}",
        server.stderr()
    );
}

#[test]
fn the_grace_period_bounds_the_drain() {
    let mut server = Server::start_with(&["--addr", "127.0.0.1:0", "--grace-period", "300ms"], &[]);
    let _stuck = H2Conn::connect(&server.loopback()).hold();
    let signalled = std::time::Instant::now();
    server.signal(libc::SIGTERM);
    let status = server
        .wait_exit(BOUND)
        .expect("exits when the grace period is over");
    let took = signalled.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(300) + AT_ONCE,
        "exited {took:?} after SIGTERM, for a grace period of 300 ms"
    );
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
    assert!(
        server.stderr().contains("grace period over"),
        "{}",
        server.stderr()
    );
}

/// What "at once" allows a process to take to exit, on a loaded machine.
const AT_ONCE: Duration = Duration::from_secs(2);

fn wait_for_drain_message(server: &Server) {
    let drained = |stderr: &str| stderr.contains("no longer accepting connections");
    let stderr = server.stderr_when(drained);
    assert!(drained(&stderr), "no drain message: {stderr}");
}
