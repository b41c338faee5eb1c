//! Token auth: with `--auth-token-file` (or GREETER_AUTH_TOKEN) Greeter calls need
//! `authorization: Bearer <token>`, missing or wrong is UNAUTHENTICATED (exit 80); health and
//! reflection stay open; the token appears in no output and no log.

mod common;

use common::peer::{Official, python};
use common::{BOUND, Outcome, Server, TempFiles, greeter, run};

const TOKEN: &str = "greeter-test-token-5f2c9a";

struct Guarded {
    server: Server,
    _files: TempFiles,
}

/// A server requiring [`TOKEN`] (from a file, with a trailing newline as editors leave it),
/// logging every call and at debug level, so a leak would show.
fn guarded() -> Guarded {
    guarded_at("debug")
}

/// [`guarded`], logging at `level`.
fn guarded_at(level: &str) -> Guarded {
    let files = TempFiles::new();
    let file = files.write("token", &format!("{TOKEN}\n"));
    let server = Server::start_with(
        &[
            "--addr",
            "127.0.0.1:0",
            "--auth-token-file",
            file.to_str().unwrap(),
            "--access-log",
            "--log-level",
            level,
        ],
        &[],
    );
    Guarded {
        server,
        _files: files,
    }
}

fn assert_unauthenticated(out: &Outcome, why: &str) {
    assert_eq!(out.code, Some(80), "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("UNAUTHENTICATED"), "{}", out.stderr);
    assert!(out.stderr.contains(why), "{}", out.stderr);
}

#[test]
fn the_right_token_passes() {
    let guarded = guarded();
    let out = guarded
        .server
        .hello(&["-H", &format!("authorization: Bearer {TOKEN}"), "you"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "Hello you\n");
}

#[test]
fn greeter_hello_sends_its_token_from_a_file_or_the_environment() {
    let guarded = guarded();
    let files = TempFiles::new();
    let file = files.write("client-token", &format!("  {TOKEN}\n"));
    let out = guarded
        .server
        .hello(&["--token-file", file.to_str().unwrap(), "file"]);
    assert_eq!(out.stdout, "Hello file\n", "{out:?}");

    let addr = guarded.server.loopback();
    let mut command = greeter(["hello", "--addr", &addr, "env"]);
    command.env("GREETER_TOKEN", TOKEN);
    let out = run(command);
    assert_eq!(out.stdout, "Hello env\n", "{out:?}");

    let mut command = greeter(["hello", "--addr", &addr, "wrong"]);
    command.env("GREETER_TOKEN", "not-it");
    let out = run(command);
    assert_unauthenticated(&out, "not valid");
    assert!(!out.stderr.contains("not-it"), "{}", out.stderr);
}

#[test]
fn a_missing_token_is_unauthenticated() {
    let guarded = guarded();
    let out = guarded.server.hello(&["you"]);
    assert_unauthenticated(&out, "this server requires a token");
}

#[test]
fn a_wrong_token_is_unauthenticated() {
    let guarded = guarded();
    for wrong in [
        "Bearer not-the-token",
        "Bearer greeter-test-token-5f2c9",
        "Basic Zm9vOmJhcg==",
    ] {
        let out = guarded
            .server
            .hello(&["-H", &format!("authorization: {wrong}")]);
        assert_eq!(out.code, Some(80), "{wrong}: {out:?}");
    }
}

#[test]
fn the_token_can_come_from_the_environment() {
    let server = Server::start_with(
        &["--addr", "127.0.0.1:0"],
        &[("GREETER_AUTH_TOKEN", "from-env")],
    );
    assert_unauthenticated(&server.hello(&[]), "requires a token");
    let out = server.hello(&["-H", "authorization: Bearer from-env", "env"]);
    assert_eq!(out.stdout, "Hello env\n", "{out:?}");
}

#[test]
fn the_token_file_wins_over_the_environment() {
    let files = TempFiles::new();
    let file = files.write("token", &format!("{TOKEN}\n"));
    let server = Server::start_with(
        &[
            "--addr",
            "127.0.0.1:0",
            "--auth-token-file",
            file.to_str().unwrap(),
        ],
        &[("GREETER_AUTH_TOKEN", "from-env")],
    );
    let out = server.hello(&["-H", &format!("authorization: Bearer {TOKEN}"), "file"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "Hello file\n");
    assert_eq!(out.stderr, "");
    let out = server.hello(&["-H", "authorization: Bearer from-env", "env"]);
    assert_unauthenticated(&out, "UNAUTHENTICATED");
}

#[test]
fn health_and_reflection_stay_open() {
    let guarded = guarded();
    let target = guarded.server.loopback();
    let health = run(python(
        "probe.py",
        &[&target, "check", "helloworld.Greeter"],
    ));
    assert_eq!(health.stdout, "SERVING\n", "{health:?}");
    let reflection = run(python("probe.py", &[&target, "reflect", "v1"]));
    assert!(
        reflection.stdout.contains("helloworld.Greeter"),
        "{reflection:?}"
    );
    let greeter = run(python(
        "probe.py",
        &[&target, "call", "/helloworld.Greeter/SayHello"],
    ));
    assert_eq!(greeter.stdout, "UNAUTHENTICATED\n", "{greeter:?}");
}

#[test]
fn the_official_python_client_sends_the_token() {
    let guarded = guarded();
    let target = guarded.server.loopback();
    let out = Official::Python.call(&target, &["--name", "py", "--token", TOKEN]);
    assert_eq!(out.stdout, "Hello py\n", "{out:?}");
    let out = Official::Python.call(&target, &["--token", "wrong"]);
    assert_eq!(out.code, Some(64 + 16), "{out:?}");
}

#[test]
fn the_token_never_reaches_the_logs() {
    // Not even at trace, the most the logs can say (the README promises as much).
    let mut guarded = guarded_at("trace");
    let server = &mut guarded.server;
    let right = format!("authorization: Bearer {TOKEN}");
    assert_eq!(server.hello(&["-H", &right, "-v"]).code, Some(0));
    let almost = format!("authorization: Bearer {TOKEN}x");
    let refused = server.hello(&["-H", &almost, "-v"]);
    assert_eq!(refused.code, Some(80));
    assert!(!refused.stderr.contains(TOKEN), "{}", refused.stderr);
    // Once the server has exited, its log is all there is.
    server.signal(libc::SIGTERM);
    assert!(
        server.wait_exit(BOUND).is_some(),
        "still serving after {BOUND:?}"
    );
    let log = server.stderr();
    assert_eq!(log.matches("greeter::access").count(), 2, "{log}");
    assert!(log.contains("UNAUTHENTICATED"), "{log}");
    assert!(
        log.lines().any(|line| line.contains(" TRACE ")),
        "the level took no effect:\n{log}"
    );
    assert!(
        !log.contains(TOKEN),
        "the token leaked into the log:\n{log}"
    );
}

#[test]
fn a_token_served_in_plaintext_beyond_loopback_is_warned_about() {
    let files = TempFiles::new();
    let file = files.write("token", TOKEN);
    let file = file.to_str().unwrap();
    let exposed = Server::start_with(&["--addr", ":0", "--auth-token-file", file], &[]);
    let log = exposed.stderr_when(|log| log.contains("serving"));
    assert!(log.contains("travels in plaintext"), "{log}");
    let local = Server::start_with(&["--addr", "127.0.0.1:0", "--auth-token-file", file], &[]);
    let log = local.stderr_when(|log| log.contains("serving"));
    assert!(!log.contains("plaintext on"), "{log}");
}

#[test]
fn an_unreadable_or_empty_token_file_fails_with_1() {
    let files = TempFiles::new();
    let missing = files.dir().join("missing");
    let out = run(greeter([
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--auth-token-file",
        missing.to_str().unwrap(),
    ]));
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "could not read --auth-token-file {}: no such file",
            missing.display()
        )),
        "{}",
        out.stderr
    );
    let empty = files.write("empty", "\n");
    let out = run(greeter([
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--auth-token-file",
        empty.to_str().unwrap(),
    ]));
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains("holds an empty token"),
        "{}",
        out.stderr
    );
}
