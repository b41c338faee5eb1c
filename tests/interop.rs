//! Wire compatibility with implementations no one here wrote: the official Python `grpcio`
//! (client, server, health checking and reflection packages) and Node `@grpc/grpc-js` (client
//! and server, sharing no code with grpcio's C core) against `greeter serve` and `greeter
//! hello`. `tests/interop_matrix.rs` covers every transport; this file, what the calls do.
//!
//! The peers are set up by `tests/peer/setup.sh` and `tests/peer/node-setup.sh` (cached under
//! `target/`), which these tests run themselves, once per test binary.

mod common;

use std::time::Duration;

use common::peer::{Official, python};
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

mod official_clients_against_greeter_serve {
    use super::*;

    #[test]
    fn say_hello_with_any_name() {
        let server = Server::start();
        for peer in Official::ALL {
            for (name, greeting) in [
                ("you", "Hello you\n"),
                ("Zoë 世界 🌍", "Hello Zoë 世界 🌍\n"),
                ("", "Hello \n"),
            ] {
                let out = peer.call(&server.loopback(), &["--name", name]);
                assert_eq!(out.code, Some(0), "{peer:?}: {out:?}");
                assert_eq!(out.stdout, greeting, "{peer:?}");
            }
        }
    }

    #[test]
    fn a_unix_socket_by_both_spellings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("greeter.sock");
        let addr = format!("unix:{}", path.display());
        let server = Server::start_with(&["--addr", &addr], &[]);
        for peer in Official::ALL {
            for target in [addr.clone(), format!("unix://{}", path.display())] {
                let out = peer.call(&target, &["--name", "u"]);
                assert_eq!(out.code, Some(0), "{peer:?} {target}: {out:?}");
                assert_eq!(out.stdout, "Hello u\n", "{peer:?} {target}");
            }
        }
        drop(server);
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
        for peer in Official::ALL {
            let target = server.loopback();
            let out = peer.call(&target, &["--method", "server-stream", "--name", "s"]);
            assert_eq!(out.stdout, "Hello s\n".repeat(3), "{peer:?}: {out:?}");
            let out = peer.call(&target, &["--method", "bidi", "--name", "a", "--name", "b"]);
            assert_eq!(out.stdout, "Hello a\nHello b\n", "{peer:?}: {out:?}");
        }
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

mod greeter_hello_against_official_servers {
    use super::*;

    #[test]
    fn say_hello_sends_the_deadline_as_grpc_timeout() {
        for peer in Official::ALL {
            let server = peer.server(&[]);
            let out = server.hello(&["--timeout", "3s", "you"]);
            assert_eq!(out.code, Some(0), "{peer:?}: {out:?}");
            assert_eq!(out.stdout, "Hello you\n");
            // The server saw the deadline: both read it from grpc-timeout only.
            let stderr = server.stderr_when(|stderr| stderr.contains("SayHello name='you'"));
            let remaining: f64 = stderr
                .lines()
                .find_map(|line| line.strip_prefix("SayHello name='you' deadline_remaining="))
                .unwrap_or_else(|| panic!("{peer:?}: no SayHello line in {stderr}"))
                .parse()
                .unwrap_or_else(|e| panic!("{peer:?}: {e}: the server saw no deadline: {stderr}"));
            assert!(remaining > 0.0 && remaining <= 3.0, "{peer:?}: {remaining}");
        }
    }

    #[test]
    fn output_formats_and_names() {
        for peer in Official::ALL {
            let server = peer.server(&[]);
            let out = server.hello(&["--output", "json", "Zoë"]);
            assert_eq!(
                out.stdout, "{\"message\":\"Hello Zoë\"}\n",
                "{peer:?}: {out:?}"
            );
            let out = server.hello(&[""]);
            assert_eq!(out.stdout, "Hello \n", "{peer:?}: {out:?}");
        }
    }

    #[test]
    fn both_streaming_methods() {
        for peer in Official::ALL {
            let server = peer.server(&[]);
            let out = server.hello(&["--stream", "s"]);
            assert_eq!(out.stdout, "Hello s\n".repeat(3), "{peer:?}: {out:?}");
            let addr = server.loopback();
            let command = common::greeter(["hello", "--bidi", "--timeout", "5s", "--addr", &addr]);
            let out = common::run_with_input(command, Some("x\ny\n"));
            assert_eq!(out.stdout, "Hello x\nHello y\n", "{peer:?}: {out:?}");
        }
    }

    #[test]
    fn a_slow_server_exceeds_the_deadline_and_the_server_sees_the_cancel() {
        for peer in Official::ALL {
            let server = peer.server(&["--delay", "10"]);
            let out = server.hello(&["--timeout", "300ms", "slow"]);
            assert_eq!(out.code, Some(68), "{peer:?}: {out:?}");
            assert!(out.stderr.contains("DEADLINE_EXCEEDED"), "{}", out.stderr);
            common::assert_ended_by(&out, Duration::from_millis(300));
            let stderr = server.stderr_when(|stderr| stderr.contains("SayHello cancelled"));
            assert!(stderr.contains("SayHello cancelled"), "{stderr}");
        }
    }

    #[test]
    fn a_stopped_server_is_unavailable() {
        for peer in Official::ALL {
            let mut server = peer.server(&[]);
            let addr = server.loopback();
            server.signal(libc::SIGTERM);
            assert!(server.wait_exit(BOUND).is_some(), "{peer:?}");
            let out = hello(&["--addr", &addr]);
            assert_eq!(out.code, Some(78), "{peer:?}: {out:?}");
        }
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
