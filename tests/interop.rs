//! Wire compatibility with an implementation no one here wrote: the official Python `grpcio`
//! (client, server, health checking and reflection packages) against `greeter serve` and
//! `greeter hello`.
//!
//! The peer is set up by `tests/peer/setup.sh` (a cached virtualenv under
//! `target/python-peer/`), which these tests run themselves, once per test binary.

mod common;

use std::time::Duration;

use common::peer::{python, python_server};
use common::{BOUND, Background, Server, hello, run};

/// Runs a probe.py command against `server` and returns its output lines.
fn probe(server: &Server, args: &[&str]) -> Vec<String> {
    let target = server.loopback();
    let mut all = vec![target.as_str()];
    all.extend_from_slice(args);
    let out = run(python("probe.py", &all));
    assert_eq!(out.code, Some(0), "probe.py {args:?}: {out:?}");
    out.stdout.lines().map(str::to_owned).collect()
}

mod python_client_against_greeter_serve {
    use super::*;

    fn client(server: &Server, args: &[&str]) -> common::Outcome {
        let target = server.loopback();
        let mut all = vec!["--target", target.as_str()];
        all.extend_from_slice(args);
        run(python("greeter_client.py", &all))
    }

    #[test]
    fn say_hello_with_any_name() {
        let server = Server::start();
        for (name, greeting) in [
            ("you", "Hello you\n"),
            ("Zoë 世界 🌍", "Hello Zoë 世界 🌍\n"),
            ("", "Hello \n"),
        ] {
            let out = client(&server, &["--name", name]);
            assert_eq!(out.code, Some(0), "{out:?}");
            assert_eq!(out.stdout, greeting);
        }
    }

    #[test]
    fn both_streaming_methods() {
        let server = Server::start_with(
            &[
                "--addr",
                "127.0.0.1:0",
                "--stream-count",
                "3",
                "--stream-interval",
                "5ms",
            ],
            &[],
        );
        let out = client(&server, &["--method", "server-stream", "--name", "s"]);
        assert_eq!(out.stdout, "Hello s\n".repeat(3), "{out:?}");
        let out = client(&server, &["--method", "bidi", "--name", "a", "--name", "b"]);
        assert_eq!(out.stdout, "Hello a\nHello b\n", "{out:?}");
    }

    #[test]
    fn an_unknown_method_is_unimplemented() {
        let server = Server::start();
        for path in ["/helloworld.Greeter/SayGoodbye", "/no.Such/Service"] {
            assert_eq!(probe(&server, &["call", path]), ["UNIMPLEMENTED"], "{path}");
        }
    }

    #[test]
    fn an_unknown_service_is_named_as_grpc_go_names_it() {
        let server = Server::start();
        assert_eq!(
            probe(&server, &["explain", "/no.such.Service/Method"]),
            ["UNIMPLEMENTED: unknown service no.such.Service"]
        );
        assert_eq!(
            probe(&server, &["explain", "/helloworld.Greeter"]),
            ["UNIMPLEMENTED: malformed method name: \"/helloworld.Greeter\""]
        );
        // Without reflection its services are unknown like any other.
        let bare = Server::start_with(&["--addr", "127.0.0.1:0", "--no-reflection"], &[]);
        let v1 = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
        assert_eq!(
            probe(&bare, &["explain", v1]),
            ["UNIMPLEMENTED: unknown service grpc.reflection.v1.ServerReflection"]
        );
    }
}

mod greeter_hello_against_python_server {
    use super::*;

    #[test]
    fn say_hello_sends_the_deadline_as_grpc_timeout() {
        let server = python_server(&[]);
        let out = server.hello(&["--timeout", "3s", "you"]);
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(out.stdout, "Hello you\n");
        // The server saw the deadline: grpcio reads it from grpc-timeout only.
        let stderr = server.stderr_when(|stderr| stderr.contains("SayHello name='you'"));
        let remaining: f64 = stderr
            .lines()
            .find_map(|line| line.strip_prefix("SayHello name='you' deadline_remaining="))
            .unwrap_or_else(|| panic!("no SayHello line in {stderr}"))
            .parse()
            .unwrap_or_else(|e| panic!("{e}: the server saw no deadline: {stderr}"));
        assert!(remaining > 0.0 && remaining <= 3.0, "{remaining}");
    }

    #[test]
    fn output_formats_and_names() {
        let server = python_server(&[]);
        let out = server.hello(&["--output", "json", "Zoë"]);
        assert_eq!(out.stdout, "{\"message\":\"Hello Zoë\"}\n", "{out:?}");
        let out = server.hello(&[""]);
        assert_eq!(out.stdout, "Hello \n", "{out:?}");
    }

    #[test]
    fn both_streaming_methods() {
        let server = python_server(&[]);
        let out = server.hello(&["--stream", "s"]);
        assert_eq!(out.stdout, "Hello s\n".repeat(3), "{out:?}");
        let addr = server.loopback();
        let command = common::greeter(["hello", "--bidi", "--timeout", "5s", "--addr", &addr]);
        let out = common::run_with_input(command, Some("x\ny\n"));
        assert_eq!(out.stdout, "Hello x\nHello y\n", "{out:?}");
    }

    #[test]
    fn a_slow_server_exceeds_the_deadline_and_the_server_sees_the_cancel() {
        let server = python_server(&["--delay", "10"]);
        let out = server.hello(&["--timeout", "300ms", "slow"]);
        assert_eq!(out.code, Some(68), "{out:?}");
        assert!(out.stderr.contains("DEADLINE_EXCEEDED"), "{}", out.stderr);
        assert!(
            out.elapsed < Duration::from_millis(300 + 1500),
            "{:?}",
            out.elapsed
        );
        let deadline = std::time::Instant::now() + BOUND;
        while !server.stderr().contains("SayHello cancelled") {
            assert!(std::time::Instant::now() < deadline, "{}", server.stderr());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn over_a_unix_socket() {
        let dir = tempfile::tempdir().unwrap();
        let addr = format!("unix:{}", dir.path().join("python.sock").display());
        let server = python_server(&["--addr", &addr]);
        assert_eq!(server.addr, addr);
        let out = server.hello(&["unix"]);
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(out.stdout, "Hello unix\n");
    }

    #[test]
    fn a_stopped_server_is_unavailable() {
        let mut server = python_server(&[]);
        let addr = server.loopback();
        server.signal(libc::SIGTERM);
        assert!(server.wait_exit(BOUND).is_some());
        let out = hello(&["--addr", &addr]);
        assert_eq!(out.code, Some(78), "{out:?}");
    }
}

mod health {
    use super::*;

    #[test]
    fn check_knows_the_server_and_the_greeter_only() {
        let server = Server::start();
        assert_eq!(probe(&server, &["check", ""]), ["SERVING"]);
        assert_eq!(
            probe(&server, &["check", "helloworld.Greeter"]),
            ["SERVING"]
        );
        assert_eq!(probe(&server, &["check", "nope"]), ["error: NOT_FOUND"]);
    }

    #[test]
    fn list_names_both() {
        let server = Server::start();
        assert_eq!(
            probe(&server, &["list"]),
            ["=SERVING", "helloworld.Greeter=SERVING"]
        );
    }

    #[test]
    fn watch_of_an_unknown_name_streams_service_unknown_and_stays_open() {
        let server = Server::start();
        // The stream stays open until the watcher's own deadline ends it.
        assert_eq!(
            probe(&server, &["watch", "nope", "0.5"]),
            ["SERVICE_UNKNOWN", "end: DEADLINE_EXCEEDED"]
        );
    }

    #[test]
    fn watch_turns_not_serving_when_the_drain_starts_and_then_ends() {
        let mut server = Server::start();
        let target = server.loopback();
        let watcher = Background::spawn(python(
            "probe.py",
            &[&target, "watch", "helloworld.Greeter", "30"],
        ));
        assert_eq!(watcher.next_line().as_deref(), Some("SERVING"));
        server.signal(libc::SIGTERM);
        let (code, rest) = watcher.finish();
        assert_eq!(code, Some(0));
        assert_eq!(rest, ["NOT_SERVING", "end: OK"]);
        let status = server
            .wait_exit(BOUND)
            .expect("open watches do not hold up the drain");
        assert_eq!(status.code(), Some(0), "{}", server.stderr());
    }
}

mod reflection {
    use super::*;

    #[test]
    fn v1_and_v1alpha_list_and_describe_the_services() {
        let server = Server::start();
        for version in ["v1", "v1alpha"] {
            assert_eq!(
                probe(&server, &["reflect", version]),
                [
                    "grpc.health.v1.Health",
                    &format!("grpc.reflection.{version}.ServerReflection"),
                    "helloworld.Greeter",
                    "methods: SayHello SayHelloStreamReply SayHelloBidiStream",
                ],
                "{version}"
            );
        }
    }
}
