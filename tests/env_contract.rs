//! The README's promise, "every flag can also be set through a GREETER_* environment variable;
//! a flag on the command line wins", checked flag by flag.
//!
//! Which flag reads which variable is taken from the binary itself, from the `[env: GREETER_X=]`
//! notes of `greeter serve --help` and `greeter hello --help`, and must equal [`TABLE`] exactly:
//! a flag whose `env = ...` is removed or misspelt, or a new flag with a variable this file does
//! not know how to check, fails `the_table_is_every_flag_and_variable_of_the_help`. Each row of
//! the table says how to see that the variable really is read for that flag: an effect where
//! one is cheap to observe, else a value clap must refuse for that flag by name.

mod common;

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use common::h2conn::{H2Conn, hello_request};
use common::{BOUND, Outcome, Server, greeter, refusing_addr, run, run_with_input};

/// How a row proves that its variable is read for its flag.
#[derive(Clone, Copy)]
enum Check {
    /// The variable set to this value is clap's usage error for the flag: exit 2,
    /// `invalid value 'VALUE' for '--flag <X>'`.
    Invalid(&'static str),
    /// The variable set to `value` fails with `code`, stderr holding `fragment` (which names
    /// the flag): for values clap accepts as they are (paths) and that only fail later.
    Fails {
        value: &'static str,
        code: i32,
        fragment: &'static str,
    },
    /// A boolean: `=bogus` is a usage error naming the flag, and the function sees `=true`
    /// behave as the flag and `=false` as its absence.
    Bool(fn()),
    /// The function sets the variable and observes its effect on a real call or server.
    Observe(fn()),
}

struct Row {
    command: &'static str,
    variable: &'static str,
    /// The flag as `--help` names it, with its value name: `--count <N>`, `--quiet`.
    flag: &'static str,
    check: Check,
}

const fn row(
    command: &'static str,
    variable: &'static str,
    flag: &'static str,
    check: Check,
) -> Row {
    Row {
        command,
        variable,
        flag,
        check,
    }
}

use Check::{Bool, Fails, Invalid, Observe};

/// Every variable of both subcommands, the flag it sets, and how to see that it does.
const TABLE: &[Row] = &[
    // greeter serve
    row(
        "serve",
        "GREETER_ADDR",
        "--addr <ADDR>",
        Observe(serve_addr),
    ),
    row(
        "serve",
        "GREETER_WORKERS",
        "--workers <N>",
        Observe(serve_workers),
    ),
    row(
        "serve",
        "GREETER_GRACE_PERIOD",
        "--grace-period <DURATION>",
        Invalid("soon"),
    ),
    row(
        "serve",
        "GREETER_NO_REFLECTION",
        "--no-reflection",
        Bool(serve_no_reflection),
    ),
    row(
        "serve",
        "GREETER_STREAM_COUNT",
        "--stream-count <N>",
        Observe(serve_stream_count),
    ),
    row(
        "serve",
        "GREETER_STREAM_INTERVAL",
        "--stream-interval <DURATION>",
        Observe(serve_stream_interval),
    ),
    row(
        "serve",
        "GREETER_UNIX_MODE",
        "--unix-mode <MODE>",
        Invalid("999"),
    ),
    row(
        "serve",
        "GREETER_TLS_CERT",
        "--tls-cert <FILE>",
        Fails {
            value: "/nonexistent/cert.pem",
            code: 2,
            fragment: "required arguments were not provided:\n  --tls-key <FILE>",
        },
    ),
    row(
        "serve",
        "GREETER_TLS_KEY",
        "--tls-key <FILE>",
        Fails {
            value: "/nonexistent/key.pem",
            code: 2,
            fragment: "required arguments were not provided:\n  --tls-cert <FILE>",
        },
    ),
    row(
        "serve",
        "GREETER_TLS_CLIENT_CA",
        "--tls-client-ca <FILE>",
        Fails {
            value: "/nonexistent/ca.pem",
            code: 2,
            fragment: "required arguments were not provided:\n  --tls-key <FILE>",
        },
    ),
    row(
        "serve",
        "GREETER_AUTH_TOKEN_FILE",
        "--auth-token-file <FILE>",
        Observe(serve_auth_token_file),
    ),
    row(
        "serve",
        "GREETER_MAX_RECV_MSG_SIZE",
        "--max-recv-msg-size <SIZE>",
        Invalid("4 lots"),
    ),
    row(
        "serve",
        "GREETER_MAX_SEND_MSG_SIZE",
        "--max-send-msg-size <SIZE>",
        Invalid("4 lots"),
    ),
    row(
        "serve",
        "GREETER_MAX_CONCURRENT_STREAMS",
        "--max-concurrent-streams <N>",
        Observe(serve_max_concurrent_streams),
    ),
    row(
        "serve",
        "GREETER_REPLICA",
        "--replica <NAME>",
        Observe(serve_replica),
    ),
    row(
        "serve",
        "GREETER_REQUEST_TIMEOUT",
        "--request-timeout <DURATION>",
        Observe(serve_request_timeout),
    ),
    row(
        "serve",
        "GREETER_MAX_CONNECTIONS",
        "--max-connections <N>",
        Observe(serve_max_connections),
    ),
    row(
        "serve",
        "GREETER_KEEPALIVE_INTERVAL",
        "--keepalive-interval <DURATION>",
        Invalid("soon"),
    ),
    row(
        "serve",
        "GREETER_KEEPALIVE_TIMEOUT",
        "--keepalive-timeout <DURATION>",
        Invalid("0s"),
    ),
    row(
        "serve",
        "GREETER_MAX_CONNECTION_IDLE",
        "--max-connection-idle <DURATION>",
        Invalid("0s"),
    ),
    row(
        "serve",
        "GREETER_MAX_CONNECTION_AGE",
        "--max-connection-age <DURATION>",
        Invalid("0s"),
    ),
    row(
        "serve",
        "GREETER_MAX_CONNECTION_AGE_GRACE",
        "--max-connection-age-grace <DURATION>",
        Fails {
            value: "1s",
            code: 2,
            fragment: "required arguments were not provided:\n  --max-connection-age <DURATION>",
        },
    ),
    row(
        "serve",
        "GREETER_METRICS_ADDR",
        "--metrics-addr <ADDR>",
        Observe(serve_metrics_addr),
    ),
    row(
        "serve",
        "GREETER_ACCESS_LOG",
        "--access-log",
        Bool(serve_access_log),
    ),
    row(
        "serve",
        "GREETER_LOG_FORMAT",
        "--log-format <FORMAT>",
        Observe(serve_log_format),
    ),
    row(
        "serve",
        "GREETER_LOG_LEVEL",
        "--log-level <LEVEL>",
        Observe(serve_log_level),
    ),
    row(
        "serve",
        "GREETER_FAULT_DELAY",
        "--fault-delay <DELAYS>",
        Invalid("soon"),
    ),
    row(
        "serve",
        "GREETER_FAULT_STATUS",
        "--fault-status <STATUSES>",
        Invalid("SOMETIMES"),
    ),
    row(
        "serve",
        "GREETER_FAULT_SEED",
        "--fault-seed <N>",
        Invalid("lucky"),
    ),
    row(
        "serve",
        "GREETER_ALLOW_REQUEST_FAULTS",
        "--allow-request-faults",
        Bool(serve_allow_request_faults),
    ),
    row(
        "serve",
        "GREETER_ECHO_METADATA",
        "--echo-metadata",
        Bool(serve_echo_metadata),
    ),
    row(
        "serve",
        "GREETER_REDACT",
        "--redact <NAMES>",
        Observe(serve_redact),
    ),
    // greeter hello
    row(
        "hello",
        "GREETER_NAME",
        "--name <NAME>",
        Observe(hello_name),
    ),
    row(
        "hello",
        "GREETER_ADDR",
        "--addr <ADDR>",
        Observe(hello_addr),
    ),
    row(
        "hello",
        "GREETER_TIMEOUT",
        "--timeout <DURATION>",
        Invalid("soon"),
    ),
    row(
        "hello",
        "GREETER_OUTPUT",
        "--output <FORMAT>",
        Observe(hello_output),
    ),
    row(
        "hello",
        "GREETER_COUNT",
        "--count <N>",
        Observe(hello_count),
    ),
    row(
        "hello",
        "GREETER_DURATION",
        "--duration <DURATION>",
        Invalid("0s"),
    ),
    row(
        "hello",
        "GREETER_CONCURRENCY",
        "--concurrency <C>",
        Invalid("0"),
    ),
    row(
        "hello",
        "GREETER_CONNECTIONS",
        "--connections <N>",
        Observe(hello_connections),
    ),
    row("hello", "GREETER_QUIET", "--quiet", Bool(hello_quiet)),
    row("hello", "GREETER_RATE", "--rate <RATE>", Invalid("0")),
    row(
        "hello",
        "GREETER_NO_LATENCY_CORRECTION",
        "--no-latency-correction",
        Bool(hello_no_latency_correction),
    ),
    row(
        "hello",
        "GREETER_PERCENTILES",
        "--percentiles <LIST>",
        Invalid("101"),
    ),
    row(
        "hello",
        "GREETER_MAX_P99",
        "--max-p99 <DURATION>",
        Invalid("soon"),
    ),
    row(
        "hello",
        "GREETER_MAX_ERROR_RATE",
        "--max-error-rate <PERCENT>",
        Invalid("lots"),
    ),
    row(
        "hello",
        "GREETER_MIN_RATE",
        "--min-rate <RATE>",
        Invalid("0"),
    ),
    row(
        "hello",
        "GREETER_REPORT",
        "--report <FILE>",
        Invalid("x.txt"),
    ),
    row("hello", "GREETER_STREAM", "--stream", Bool(hello_stream)),
    row(
        "hello",
        "GREETER_HEADER",
        "--header <HEADER>",
        Fails {
            value: "bogus",
            code: 2,
            fragment: "error: invalid value for '--header <HEADER>': -H 'bogus'",
        },
    ),
    row(
        "hello",
        "GREETER_WAIT_FOR_READY",
        "--wait-for-ready",
        Bool(hello_wait_for_ready),
    ),
    row(
        "hello",
        "GREETER_CONNECT_TIMEOUT",
        "--connect-timeout <DURATION>",
        Invalid("0s"),
    ),
    row("hello", "GREETER_RETRIES", "--retries <N>", Invalid("-1")),
    row(
        "hello",
        "GREETER_RETRY_BACKOFF",
        "--retry-backoff <DURATION>",
        Invalid("soon"),
    ),
    row("hello", "GREETER_VERBOSE", "--verbose", Bool(hello_verbose)),
    row("hello", "GREETER_TLS", "--tls", Bool(hello_tls)),
    row(
        "hello",
        "GREETER_CA_CERT",
        "--ca-cert <FILE>",
        Fails {
            value: "/nonexistent/ca.pem",
            code: 1,
            fragment: "could not read --ca-cert /nonexistent/ca.pem",
        },
    ),
    row(
        "hello",
        "GREETER_CERT",
        "--cert <FILE>",
        Fails {
            value: "/nonexistent/cert.pem",
            code: 2,
            fragment: "required arguments were not provided:\n  --key <FILE>",
        },
    ),
    row(
        "hello",
        "GREETER_KEY",
        "--key <FILE>",
        Fails {
            value: "/nonexistent/key.pem",
            code: 2,
            fragment: "required arguments were not provided:\n  --cert <FILE>",
        },
    ),
    row(
        "hello",
        "GREETER_SERVER_NAME",
        "--server-name <NAME>",
        Observe(hello_server_name),
    ),
    row(
        "hello",
        "GREETER_INSECURE_SKIP_VERIFY",
        "--insecure-skip-verify",
        Bool(hello_insecure_skip_verify),
    ),
    row(
        "hello",
        "GREETER_TOKEN_FILE",
        "--token-file <FILE>",
        Fails {
            value: "/nonexistent/token",
            code: 1,
            fragment: "could not read --token-file /nonexistent/token",
        },
    ),
    row(
        "hello",
        "GREETER_COMPRESS",
        "--compress <ENCODING>",
        Invalid("lz4"),
    ),
    row(
        "hello",
        "GREETER_MAX_RECV_MSG_SIZE",
        "--max-recv-msg-size <SIZE>",
        Invalid("4 lots"),
    ),
    row(
        "hello",
        "GREETER_MAX_SEND_MSG_SIZE",
        "--max-send-msg-size <SIZE>",
        Invalid("4 lots"),
    ),
    row(
        "hello",
        "GREETER_KEEPALIVE_INTERVAL",
        "--keepalive-interval <DURATION>",
        Invalid("0s"),
    ),
    row(
        "hello",
        "GREETER_KEEPALIVE_TIMEOUT",
        "--keepalive-timeout <DURATION>",
        Invalid("0s"),
    ),
    row("hello", "GREETER_BIDI", "--bidi", Bool(hello_bidi)),
];

// ---------------------------------------------------------------------------------------------
// What the binary says it reads.

/// Every option of `greeter COMMAND --help`: the flag with its value name (`--count <N>`), and
/// the variable of its `[env: GREETER_X=]` note if it has one.
fn options_in_help(command: &str) -> Vec<(String, Option<String>)> {
    let out = run(greeter([command, "--help"]));
    assert_eq!(out.code, Some(0), "{out:?}");
    let mut options: Vec<(String, Option<String>)> = Vec::new();
    for line in out.stdout.lines() {
        // An option's first line is indented 2 (`  -a, --addr <ADDR>`) or 6 (`      --tls`)
        // columns; its help, which may mention other flags, 10.
        let head = line
            .strip_prefix("  ")
            .and_then(|rest| match rest.strip_prefix("    ") {
                Some(long_only) => Some(long_only),
                None => rest
                    .get(4..)
                    .filter(|_| rest.as_bytes().get(2) == Some(&b',')),
            })
            .filter(|rest| rest.starts_with("--"));
        if let Some(flag) = head {
            options.push((flag.trim_end().to_owned(), None));
        } else if let Some(note) = line.trim_start().strip_prefix("[env: ") {
            let variable = note
                .split(['=', ']'])
                .next()
                .expect("a variable name")
                .to_owned();
            let (flag, slot) = options
                .last_mut()
                .unwrap_or_else(|| panic!("an [env: ] note before any option: {line}"));
            assert!(slot.is_none(), "{flag} has two [env: ] notes");
            *slot = Some(variable);
        }
    }
    assert!(
        options.iter().any(|(flag, _)| flag == "--help"),
        "no options parsed from `greeter {command} --help`:\n{}",
        out.stdout
    );
    options
}

/// (command, variable, flag) for every `[env: ]` note of both subcommands' help.
fn variables_in_help() -> BTreeSet<(String, String, String)> {
    let mut found = BTreeSet::new();
    for command in ["serve", "hello"] {
        for (flag, variable) in options_in_help(command) {
            if let Some(variable) = variable {
                found.insert((command.to_owned(), variable, flag));
            }
        }
    }
    found
}

#[test]
fn the_table_is_every_flag_and_variable_of_the_help() {
    let in_help = variables_in_help();
    let in_table: BTreeSet<(String, String, String)> = TABLE
        .iter()
        .map(|row| (row.command.into(), row.variable.into(), row.flag.into()))
        .collect();
    assert_eq!(in_table.len(), TABLE.len(), "a row of TABLE is there twice");
    let unchecked: Vec<_> = in_help.difference(&in_table).collect();
    let not_read: Vec<_> = in_table.difference(&in_help).collect();
    assert!(
        unchecked.is_empty() && not_read.is_empty(),
        "--help and TABLE disagree.\n\
         In --help but not in TABLE (add a row that checks the variable): {unchecked:?}\n\
         In TABLE but not in --help (the flag lost or misspelt its `env = ...`): {not_read:?}"
    );
}

#[test]
fn every_option_has_a_variable_named_after_it() {
    for command in ["serve", "hello"] {
        for (flag, variable) in options_in_help(command) {
            if flag == "--help" || flag == "--version" {
                assert_eq!(variable, None, "{command} {flag}");
                continue;
            }
            let name = flag.split(' ').next().unwrap();
            let expected = format!(
                "GREETER_{}",
                name.trim_start_matches("--")
                    .replace('-', "_")
                    .to_uppercase()
            );
            assert_eq!(
                variable.as_deref(),
                Some(expected.as_str()),
                "greeter {command} {flag}"
            );
        }
    }
}

#[test]
fn every_variable_is_read_for_its_flag() {
    let mut failed = Vec::new();
    for row in TABLE {
        let checked = catch_unwind(AssertUnwindSafe(|| check(row)));
        if let Err(panic) = checked {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failed.push(format!(
                "{} {} ({}): {why}",
                row.command, row.variable, row.flag
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "{} rows failed:\n{}",
        failed.len(),
        failed.join("\n\n")
    );
}

fn check(row: &Row) {
    match row.check {
        Invalid(value) => {
            let out = refused_by(row, value);
            assert_eq!(out.code, Some(2), "{}={value}: {out:?}", row.variable);
            let expected = format!("error: invalid value '{value}' for '{}'", row.flag);
            assert!(
                out.stderr.starts_with(&expected),
                "expected {expected:?}: {out:?}"
            );
            assert_eq!(out.stdout, "");
        }
        Fails {
            value,
            code,
            fragment,
        } => {
            let out = refused_by(row, value);
            assert_eq!(out.code, Some(code), "{}={value}: {out:?}", row.variable);
            assert!(
                out.stderr.contains(fragment),
                "expected {fragment:?}: {out:?}"
            );
            assert_eq!(out.stdout, "");
        }
        Bool(observe) => {
            let out = refused_by(row, "bogus");
            assert_eq!(out.code, Some(2), "{}=bogus: {out:?}", row.variable);
            let expected = format!("error: invalid value 'bogus' for '{}'", row.flag);
            assert!(
                out.stderr.starts_with(&expected),
                "expected {expected:?}: {out:?}"
            );
            observe();
        }
        Observe(observe) => observe(),
    }
}

/// `greeter COMMAND` with `row`'s variable at `value` and nothing else that could succeed: a
/// `hello` goes to an address that refuses connections, a `serve` gets an `--addr` it rejects
/// after parsing, so if the variable were not read neither could reach or become a server.
fn refused_by(row: &Row, value: &str) -> Outcome {
    let (_closed, refusing) = refusing_addr();
    let addr = if row.command == "hello" {
        refusing.as_str()
    } else {
        "nowhere"
    };
    let mut command = greeter([row.command, "--addr", addr]);
    command.env(row.variable, value);
    run(command)
}

// ---------------------------------------------------------------------------------------------
// Helpers for the observations.

/// `greeter hello ARGS` with `env`.
fn hello_env(args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let mut command = greeter(std::iter::once("hello").chain(args.iter().copied()));
    command.envs(env.iter().copied());
    run(command)
}

/// Starts `greeter serve --addr 127.0.0.1:0 ARGS` with `env`, runs `during` against it, then
/// stops it with SIGTERM and returns all it wrote on stderr.
fn serve_stderr(args: &[&str], env: &[(&str, &str)], during: impl FnOnce(&Server)) -> String {
    let mut all = vec!["--addr", "127.0.0.1:0"];
    all.extend_from_slice(args);
    let mut server = Server::start_with(&all, env);
    during(&server);
    server.signal(libc::SIGTERM);
    assert!(
        server.wait_exit(BOUND).is_some(),
        "serve did not exit after SIGTERM"
    );
    server.stderr()
}

fn assert_greets(out: &Outcome, stdout: &str) {
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(0), stdout),
        "{out:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// greeter serve

fn serve_addr() {
    let server = Server::start_with(&[], &[("GREETER_ADDR", "127.0.0.1:0")]);
    assert!(server.addr.starts_with("127.0.0.1:"), "{}", server.addr);
    assert_greets(&server.hello(&[]), "Hello world\n");
    // The command line wins: a variable that would be rejected is not even looked at.
    let server = Server::start_with(&["--addr", "127.0.0.1:0"], &[("GREETER_ADDR", "nowhere")]);
    assert_greets(&server.hello(&[]), "Hello world\n");
}

fn serve_workers() {
    let stderr = serve_stderr(&[], &[("GREETER_WORKERS", "3")], |_| {});
    assert!(stderr.contains(" with 3 workers"), "{stderr}");
    let stderr = serve_stderr(&["--workers", "1"], &[("GREETER_WORKERS", "3")], |_| {});
    assert!(stderr.contains(" with 1 worker"), "{stderr}");
}

fn serve_auth_token_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "s3cret\n").unwrap();
    let file = file.to_str().unwrap();
    let server = Server::start_with(
        &["--addr", "127.0.0.1:0"],
        &[("GREETER_AUTH_TOKEN_FILE", file)],
    );
    let out = server.hello(&[]);
    assert_eq!(out.code, Some(80), "no token: {out:?}");
    let out = server_hello_env(&server, &[], &[("GREETER_TOKEN", "s3cret")]);
    assert_greets(&out, "Hello world\n");
}

fn serve_no_reflection() {
    const UNIMPLEMENTED: &str = "grpc-status 12";
    const REFLECTION: &str = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
    for (value, off) in [("true", true), ("false", false)] {
        let server = Server::start_with(
            &["--addr", "127.0.0.1:0"],
            &[("GREETER_NO_REFLECTION", value)],
        );
        let status = H2Conn::connect(&server.loopback())
            .call(REFLECTION, &[], hello_request("x"))
            .reply();
        let unimplemented = status == Err(UNIMPLEMENTED.to_owned());
        assert_eq!(
            unimplemented, off,
            "GREETER_NO_REFLECTION={value}: {status:?}"
        );
    }
}

/// `hello --stream` against a server started with `env`: the replies, and how long they took.
fn stream_from(args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let mut all = vec!["--addr", "127.0.0.1:0"];
    all.extend_from_slice(args);
    let server = Server::start_with(&all, env);
    server.hello(&["--stream", "s"])
}

fn serve_stream_count() {
    let out = stream_from(
        &["--stream-interval", "1ms"],
        &[("GREETER_STREAM_COUNT", "2")],
    );
    assert_greets(&out, "Hello s\nHello s\n");
    let out = stream_from(
        &["--stream-interval", "1ms", "--stream-count", "3"],
        &[("GREETER_STREAM_COUNT", "2")],
    );
    assert_greets(&out, "Hello s\nHello s\nHello s\n");
}

fn serve_stream_interval() {
    // Two replies 400 ms apart take at least 400 ms; the default 100 ms would take 100.
    let out = stream_from(
        &["--stream-count", "2"],
        &[("GREETER_STREAM_INTERVAL", "400ms")],
    );
    assert_greets(&out, "Hello s\nHello s\n");
    assert!(out.elapsed >= Duration::from_millis(400), "{out:?}");
    // And `--stream-interval 0s` on the command line would be refused: the variable's value
    // is not checked when the flag is given.
    let out = stream_from(
        &["--stream-count", "2", "--stream-interval", "1ms"],
        &[("GREETER_STREAM_INTERVAL", "soon")],
    );
    assert_greets(&out, "Hello s\nHello s\n");
}

fn serve_max_concurrent_streams() {
    let server = Server::start_with(
        &["--addr", "127.0.0.1:0"],
        &[("GREETER_MAX_CONCURRENT_STREAMS", "7")],
    );
    assert_eq!(
        H2Conn::connect(&server.loopback()).max_concurrent_streams(),
        7
    );
    let server = Server::start_with(
        &["--addr", "127.0.0.1:0", "--max-concurrent-streams", "9"],
        &[("GREETER_MAX_CONCURRENT_STREAMS", "7")],
    );
    assert_eq!(
        H2Conn::connect(&server.loopback()).max_concurrent_streams(),
        9
    );
}

fn serve_replica() {
    let named = |args: &[&str]| {
        let args = [&["--addr", "127.0.0.1:0"], args].concat();
        let server = Server::start_with(&args, &[("GREETER_REPLICA", "from-env")]);
        server.hello(&["--output", "json"]).stdout
    };
    assert!(named(&[]).contains("\"replica\":\"from-env\""));
    assert!(named(&["--replica", "from-flag"]).contains("\"replica\":\"from-flag\""));
}

fn serve_allow_request_faults() {
    for (value, allowed) in [("true", true), ("false", false)] {
        let server = Server::start_with(
            &["--addr", "127.0.0.1:0"],
            &[("GREETER_ALLOW_REQUEST_FAULTS", value)],
        );
        let out = server.hello(&["-H", "greeter-fault-status: ABORTED"]);
        let expected = if allowed { Some(64 + 10) } else { Some(0) };
        assert_eq!(
            out.code, expected,
            "GREETER_ALLOW_REQUEST_FAULTS={value}: {out:?}"
        );
    }
}

fn serve_echo_metadata() {
    for (value, echoed) in [("true", true), ("false", false)] {
        let server = Server::start_with(
            &["--addr", "127.0.0.1:0"],
            &[("GREETER_ECHO_METADATA", value)],
        );
        let out = server.hello(&["-v", "-H", "x-seen: yes"]);
        assert_greets(&out, "Hello world\n");
        assert_eq!(
            out.stderr.contains("< greeter-echo-x-seen: yes"),
            echoed,
            "GREETER_ECHO_METADATA={value}: {out:?}"
        );
    }
}

fn serve_redact() {
    let echoed = |args: &[&str]| {
        let args = [&["--addr", "127.0.0.1:0", "--echo-metadata"], args].concat();
        let server = Server::start_with(&args, &[("GREETER_REDACT", "x-from-env")]);
        let out = server.hello(&["-v", "-H", "x-from-env: 1", "-H", "x-from-flag: 2"]);
        assert_greets(&out, "Hello world\n");
        out.stderr
    };
    let from_env = echoed(&[]);
    assert!(
        from_env.contains("< greeter-echo-x-from-env: (redacted)"),
        "{from_env}"
    );
    assert!(
        from_env.contains("< greeter-echo-x-from-flag: 2"),
        "{from_env}"
    );
    let from_flag = echoed(&["--redact", "x-from-flag"]);
    assert!(
        from_flag.contains("< greeter-echo-x-from-env: 1"),
        "{from_flag}"
    );
    assert!(
        from_flag.contains("< greeter-echo-x-from-flag: (redacted)"),
        "{from_flag}"
    );
}

fn serve_request_timeout() {
    // A call whose message never ends: cut at the variable's 300ms, or at the flag's 2s.
    let unfinished = |args: &[&str]| {
        let args = [&["--addr", "127.0.0.1:0"], args].concat();
        let server = Server::start_with(&args, &[("GREETER_REQUEST_TIMEOUT", "300ms")]);
        let mut conn = H2Conn::connect(&server.loopback());
        let part = hello_request("slow").slice(..3);
        conn.call_with("/helloworld.Greeter/SayHello", &[], part, false)
    };
    let cut = unfinished(&[]);
    assert_eq!(cut.grpc_status.as_deref(), Some("4"), "{cut:?}");
    assert!(cut.elapsed < Duration::from_millis(1500), "{cut:?}");
    let cut = unfinished(&["--request-timeout", "2s"]);
    assert!(
        cut.elapsed >= Duration::from_millis(1900),
        "the flag wins: {cut:?}"
    );
}

fn serve_max_connections() {
    // One connection held open, then `hello` on a second: refused at 1, served at 2.
    let with = |args: &[&str]| {
        let args = [&["--addr", "127.0.0.1:0"], args].concat();
        let server = Server::start_with(&args, &[("GREETER_MAX_CONNECTIONS", "1")]);
        let mut held = H2Conn::connect(&server.loopback());
        let reply = held.call("/helloworld.Greeter/SayHello", &[], hello_request("held"));
        assert_eq!(reply.reply(), Ok("Hello held".to_owned()));
        server.hello(&["second"]).code
    };
    assert_eq!(
        with(&[]),
        Some(78),
        "GREETER_MAX_CONNECTIONS=1 refuses the second"
    );
    assert_eq!(with(&["--max-connections", "2"]), Some(0), "the flag wins");
}

fn serve_metrics_addr() {
    let stderr = serve_stderr(&[], &[("GREETER_METRICS_ADDR", "127.0.0.1:0")], |_| {});
    assert!(stderr.contains("metrics on http://127.0.0.1:"), "{stderr}");
    let stderr = serve_stderr(&[], &[], |_| {});
    assert!(!stderr.contains("metrics on"), "{stderr}");
}

fn serve_access_log() {
    for (value, logged) in [("true", true), ("false", false)] {
        let stderr = serve_stderr(&[], &[("GREETER_ACCESS_LOG", value)], |server| {
            assert_greets(&server.hello(&[]), "Hello world\n");
            if logged {
                server.stderr_when(|stderr| stderr.contains("greeter::access"));
            }
        });
        assert_eq!(
            stderr.contains("greeter::access"),
            logged,
            "GREETER_ACCESS_LOG={value}: {stderr}"
        );
    }
}

fn serve_log_format() {
    let stderr = serve_stderr(&[], &[("GREETER_LOG_FORMAT", "json")], |_| {});
    let first = stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with('{') && first.contains("\"message\":\"serving helloworld.Greeter"),
        "{stderr}"
    );
    let stderr = serve_stderr(
        &["--log-format", "text"],
        &[("GREETER_LOG_FORMAT", "json")],
        |_| {},
    );
    let first = stderr.lines().next().unwrap_or_default();
    assert!(
        !first.starts_with('{') && first.contains(" INFO "),
        "{stderr}"
    );
}

fn serve_log_level() {
    // The start-up line is at INFO: at `warn` it is not written.
    let stderr = serve_stderr(&[], &[("GREETER_LOG_LEVEL", "warn")], |_| {});
    assert!(!stderr.contains("serving helloworld.Greeter"), "{stderr}");
    let stderr = serve_stderr(&[], &[], |_| {});
    assert!(stderr.contains("serving helloworld.Greeter"), "{stderr}");
    let stderr = serve_stderr(
        &["--log-level", "info"],
        &[("GREETER_LOG_LEVEL", "warn")],
        |_| {},
    );
    assert!(stderr.contains("serving helloworld.Greeter"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// greeter hello

fn hello_name() {
    let server = Server::start();
    let addr = server.loopback();
    assert_greets(
        &hello_env(&["--addr", &addr], &[("GREETER_NAME", "env")]),
        "Hello env\n",
    );
    let out = hello_env(
        &["--addr", &addr, "--name", "cli"],
        &[("GREETER_NAME", "env")],
    );
    assert_greets(&out, "Hello cli\n");
}

fn hello_addr() {
    let server = Server::start();
    let out = hello_env(&[], &[("GREETER_ADDR", &server.loopback())]);
    assert_greets(&out, "Hello world\n");
    let (_closed, refusing) = refusing_addr();
    let out = hello_env(
        &["--addr", &server.loopback()],
        &[("GREETER_ADDR", &refusing)],
    );
    assert_greets(&out, "Hello world\n");
}

fn hello_output() {
    let server = Server::start();
    let out = server_hello_env(&server, &[], &[("GREETER_OUTPUT", "json")]);
    let reply: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON object");
    assert_eq!(reply["message"], "Hello world", "{out:?}");
    let out = server_hello_env(
        &server,
        &["--output", "text"],
        &[("GREETER_OUTPUT", "json")],
    );
    assert_greets(&out, "Hello world\n");
}

/// `greeter hello --addr <server> ARGS` with `env`.
fn server_hello_env(server: &Server, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let addr = server.loopback();
    let mut all = vec!["--addr", addr.as_str()];
    all.extend_from_slice(args);
    hello_env(&all, env)
}

fn hello_count() {
    let server = Server::start();
    let out = server_hello_env(&server, &[], &[("GREETER_COUNT", "3")]);
    assert_greets(&out, "Hello world\nHello world\nHello world\n");
    let out = server_hello_env(&server, &["--count", "1"], &[("GREETER_COUNT", "3")]);
    assert_greets(&out, "Hello world\n");
}

fn hello_connections() {
    let server = Server::start();
    let on = |args: &[&str]| {
        let mut all = vec!["-n", "6", "-q"];
        all.extend_from_slice(args);
        let out = server_hello_env(&server, &all, &[("GREETER_CONNECTIONS", "3")]);
        assert_greets(&out, "");
        out.stderr
    };
    let summary = on(&[]);
    assert!(summary.contains(" on 3 connections\n"), "{summary}");
    let summary = on(&["--connections", "2"]);
    assert!(summary.contains(" on 2 connections\n"), "{summary}");
}

fn hello_quiet() {
    let server = Server::start();
    let out = server_hello_env(&server, &["-n", "2"], &[("GREETER_QUIET", "true")]);
    assert_greets(&out, "");
    let out = server_hello_env(&server, &["-n", "2"], &[("GREETER_QUIET", "false")]);
    assert_greets(&out, "Hello world\nHello world\n");
}

fn hello_no_latency_correction() {
    let server = Server::start();
    let args = ["-n", "3", "--rate", "1000", "-q"];
    let out = server_hello_env(&server, &args, &[("GREETER_NO_LATENCY_CORRECTION", "true")]);
    assert!(out.stderr.contains("(--no-latency-correction)"), "{out:?}");
    let out = server_hello_env(
        &server,
        &args,
        &[("GREETER_NO_LATENCY_CORRECTION", "false")],
    );
    assert!(
        out.stderr
            .contains("latency from each call's scheduled time"),
        "{out:?}"
    );
}

fn hello_stream() {
    let server = Server::start_on_loopback(&["--stream-count", "2", "--stream-interval", "1ms"]);
    let out = server_hello_env(&server, &[], &[("GREETER_STREAM", "true")]);
    assert_greets(&out, "Hello world\nHello world\n");
    let out = server_hello_env(&server, &[], &[("GREETER_STREAM", "false")]);
    assert_greets(&out, "Hello world\n");
}

fn hello_wait_for_ready() {
    let (_closed, refusing) = refusing_addr();
    let args = ["--addr", refusing.as_str(), "--timeout", "300ms"];
    let out = hello_env(&args, &[("GREETER_WAIT_FOR_READY", "true")]);
    assert_eq!(out.code, Some(68), "{out:?}");
    assert!(out.stderr.contains("with --wait-for-ready"), "{out:?}");
    let out = hello_env(&args, &[("GREETER_WAIT_FOR_READY", "false")]);
    assert_eq!(out.code, Some(78), "{out:?}");
    assert!(!out.stderr.contains("--wait-for-ready"), "{out:?}");
}

fn hello_verbose() {
    let server = Server::start();
    let out = server_hello_env(&server, &[], &[("GREETER_VERBOSE", "true")]);
    assert_greets(&out, "Hello world\n");
    assert!(out.stderr.contains("< grpc-status: 0"), "{out:?}");
    let out = server_hello_env(&server, &[], &[("GREETER_VERBOSE", "false")]);
    assert_greets(&out, "Hello world\n");
    assert_eq!(out.stderr, "");
}

/// Against a plaintext server, `--tls` fails saying the server does not speak TLS.
fn hello_tls() {
    let server = Server::start();
    let out = server_hello_env(&server, &[], &[("GREETER_TLS", "true")]);
    assert_eq!(out.code, Some(78), "{out:?}");
    assert!(out.stderr.contains("does not speak TLS"), "{out:?}");
    let out = server_hello_env(&server, &[], &[("GREETER_TLS", "false")]);
    assert_greets(&out, "Hello world\n");
}

/// `--server-name` implies `--tls`: against a plaintext server it fails as `--tls` does.
fn hello_server_name() {
    let server = Server::start();
    let out = server_hello_env(&server, &[], &[("GREETER_SERVER_NAME", "localhost")]);
    assert_eq!(out.code, Some(78), "{out:?}");
    assert!(out.stderr.contains("does not speak TLS"), "{out:?}");
}

fn hello_insecure_skip_verify() {
    const WARNING: &str = "warning: --insecure-skip-verify";
    let server = Server::start();
    let out = server_hello_env(&server, &[], &[("GREETER_INSECURE_SKIP_VERIFY", "true")]);
    assert_eq!(out.code, Some(78), "{out:?}");
    assert!(out.stderr.starts_with(WARNING), "{out:?}");
    let out = server_hello_env(&server, &[], &[("GREETER_INSECURE_SKIP_VERIFY", "false")]);
    assert_greets(&out, "Hello world\n");
    assert_eq!(out.stderr, "");
}

fn hello_bidi() {
    let server = Server::start();
    let addr = server.loopback();
    let bidi = |value: &str| {
        let mut command = greeter(["hello", "--addr", addr.as_str()]);
        command.env("GREETER_BIDI", value);
        run_with_input(command, Some("a\nb\n"))
    };
    assert_greets(&bidi("true"), "Hello a\nHello b\n");
    assert_greets(&bidi("false"), "Hello world\n");
}
