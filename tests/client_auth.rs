//! `greeter hello` with a bearer token (--token-file, GREETER_TOKEN) against the official
//! Python grpcio server requiring one: the token reaches the server, is never printed, and a
//! missing or wrong one is UNAUTHENTICATED (exit 80).

mod common;

use common::peer::python_server;
use common::{Outcome, Server, TempFiles, greeter, hello, run};

const TOKEN: &str = "s3cret-t0ken";

fn server() -> Server {
    python_server(&["--require-token", TOKEN])
}

fn assert_token_never_shown(out: &Outcome) {
    assert!(!out.stdout.contains(TOKEN), "{out:?}");
    assert!(!out.stderr.contains(TOKEN), "{out:?}");
}

#[test]
fn the_token_file_reaches_the_server_and_is_never_shown() {
    let server = server();
    let files = TempFiles::new();
    // Surrounding whitespace, as an editor leaves it, is not part of the token.
    let file = files.write("token", &format!("  {TOKEN}\n\n"));
    let out = server.hello(&["-v", "--token-file", file.to_str().unwrap()]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "Hello world\n");
    assert!(
        out.stderr.contains("< grpc-status: 0"),
        "-v printed: {out:?}"
    );
    assert_token_never_shown(&out);
    let log = server.stderr_when(|log| log.contains("metadata authorization"));
    assert!(
        log.contains(&format!("metadata authorization: Bearer {TOKEN}\n")),
        "{log}"
    );
}

#[test]
fn the_token_from_the_environment_reaches_the_server() {
    let server = server();
    let mut command = greeter(["hello", "-v", "--addr", &server.loopback()]);
    command.env("GREETER_TOKEN", TOKEN);
    let out = run(command);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_token_never_shown(&out);
    let log = server.stderr_when(|log| log.contains("metadata authorization"));
    assert!(
        log.contains(&format!("authorization: Bearer {TOKEN}\n")),
        "{log}"
    );
}

#[test]
fn the_token_file_wins_over_the_environment() {
    let server = server();
    let files = TempFiles::new();
    let file = files.write("token", TOKEN);
    let mut command = greeter(["hello", "--addr", &server.loopback(), "--token-file"]);
    command.arg(&file).env("GREETER_TOKEN", "not-the-token");
    let out = run(command);
    assert_eq!(out.code, Some(0), "{out:?}");
}

#[test]
fn a_missing_or_wrong_token_is_unauthenticated() {
    let server = server();
    let out = server.hello(&[]);
    assert_eq!(out.code, Some(80), "{out:?}");
    assert!(
        out.stderr
            .contains("failed with UNAUTHENTICATED: missing bearer token"),
        "{out:?}"
    );
    let mut command = greeter(["hello", "--addr", &server.loopback()]);
    command.env("GREETER_TOKEN", "wrong-token");
    let out = run(command);
    assert_eq!(out.code, Some(80), "{out:?}");
    assert!(
        out.stderr.contains("UNAUTHENTICATED: invalid bearer token"),
        "{out:?}"
    );
    assert!(!out.stderr.contains("wrong-token"), "{out:?}");
}

#[test]
fn an_empty_token_file_fails_with_1_and_an_empty_variable_is_a_usage_error() {
    // One rule for both sides (src/secret.rs): a file's content is like an unreadable file.
    let files = TempFiles::new();
    let file = files.write("token", " \n");
    let out = hello(&["--token-file", file.to_str().unwrap()]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("holds an empty token"), "{out:?}");
    let mut command = greeter(["hello"]);
    command.env("GREETER_TOKEN", "");
    let out = run(command);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(
        out.stderr.contains("GREETER_TOKEN holds an empty token"),
        "{out:?}"
    );
}

#[test]
fn a_token_and_an_authorization_header_conflict() {
    let mut command = greeter(["hello", "-H", "authorization: Bearer other"]);
    command.env("GREETER_TOKEN", TOKEN);
    let out = run(command);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("-H 'authorization: ...'"), "{out:?}");
    assert!(
        out.stderr.contains("--token-file or GREETER_TOKEN"),
        "{out:?}"
    );
    // The whole message (this test was also in auth.rs, which no longer repeats it).
    assert!(
        out.stderr.contains(
            "given twice, by -H 'authorization: ...' and by --token-file or GREETER_TOKEN"
        ),
        "{}",
        out.stderr
    );
    assert_token_never_shown(&out);
}

#[test]
fn an_unreadable_token_file_is_exit_1_naming_it() {
    let files = TempFiles::new();
    let missing = files.dir().join("no-such-token");
    let out = hello(&["--token-file", missing.to_str().unwrap()]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(
        out.stderr,
        format!(
            "error: could not read --token-file {}: no such file or directory\n",
            missing.display()
        )
    );
}
