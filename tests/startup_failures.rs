//! `greeter serve` that cannot start says what stopped it, naming the thing, with the
//! documented exit code (1: the system or a file said no; 2: the command line is wrong), and
//! leaves nothing half-started: no socket file behind, no process still holding a port.

mod common;

use std::fs::Permissions;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{Outcome, TempFiles, greeter, run};

/// Runs `serve ARGS` to its end: it must fail.
fn serve(args: &[&str]) -> Outcome {
    let out = run(greeter([&["serve"], args].concat()));
    assert_eq!(out.stdout, "", "no readiness line: {out:?}");
    out
}

fn assert_no_file(path: &Path) {
    assert!(
        std::fs::symlink_metadata(path).is_err(),
        "{} was left behind",
        path.display()
    );
}

#[test]
fn a_socket_directory_this_user_cannot_write_to_is_1_and_says_so() {
    let unprivileged = match common::unprivileged_greeter() {
        Ok(unprivileged) => unprivileged,
        Err(why) => return common::skip(&why),
    };
    let files = TempFiles::new();
    let dir = files.dir().join("read-only");
    std::fs::create_dir(&dir).unwrap();
    // Readable and searchable by everyone, writable by nobody but root (who is not running it).
    let mode = |path: &Path, mode| std::fs::set_permissions(path, Permissions::from_mode(mode));
    mode(&dir, 0o555).unwrap();
    mode(files.dir(), 0o755).unwrap();
    let socket = dir.join("g.sock");
    let mut command = unprivileged();
    command.args(["serve", "--addr", &format!("unix:{}", socket.display())]);
    let out = run(command);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(
        out.stderr,
        format!(
            "error: could not listen on unix:{}: permission denied: this user may not create \
             files in the socket's directory; choose another path or give it write permission\n",
            socket.display()
        )
    );
    assert_no_file(&socket);
}

#[test]
fn a_socket_directory_that_does_not_exist_is_1_and_says_so() {
    let files = TempFiles::new();
    let socket = files.dir().join("no-such-dir").join("g.sock");
    let out = serve(&["--addr", &format!("unix:{}", socket.display())]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr
            .contains("the socket's directory does not exist; create it or choose another path"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_socket_path_too_long_for_linux_is_a_usage_error() {
    let files = TempFiles::new();
    let long = files.dir().join("s".repeat(120));
    let addr = format!("unix:{}", long.display());
    let out = serve(&["--addr", &addr]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("--addr"), "{}", out.stderr);
    assert!(
        out.stderr.contains("Linux allows at most 107"),
        "{}",
        out.stderr
    );
    assert_no_file(&long);
    // The client reads addresses the same way.
    let out = run(greeter(["hello", "--addr", &addr]));
    assert_eq!(out.code, Some(2), "{out:?}");
}

#[test]
fn a_duration_over_100_years_is_a_usage_error() {
    // Both kinds of duration flag: one that takes zero, one that does not. Such an age used to
    // panic at the first connection.
    for flag in ["--keepalive-interval", "--max-connection-age"] {
        let out = serve(&["--addr", "127.0.0.1:0", flag, "400000000000y"]);
        assert_eq!(out.code, Some(2), "{flag}: {out:?}");
        assert!(out.stderr.contains(flag), "{}", out.stderr);
        assert!(out.stderr.contains("at most 100 years"), "{}", out.stderr);
    }
}

#[test]
fn more_than_1024_workers_is_a_usage_error() {
    // Far more than any machine's CPUs: these panicked (a channel's capacity, the metrics'
    // allocation) instead of saying so.
    for workers in ["1025", "3000000000000000000"] {
        let out = serve(&["--addr", "127.0.0.1:0", "--workers", workers]);
        assert_eq!(out.code, Some(2), "--workers {workers}: {out:?}");
        assert!(out.stderr.contains("--workers"), "{}", out.stderr);
        assert!(out.stderr.contains("at most 1024"), "{}", out.stderr);
    }
}

#[test]
fn a_missing_tls_or_token_file_is_1_naming_it_and_binds_nothing() {
    let certs = common::certs::Certs::new();
    let socket = certs.dir().join("g.sock");
    let addr = format!("unix:{}", socket.display());
    let missing = certs.path("missing.pem");
    let cert = certs.path("server.pem");
    let cases: [(&[&str], &str); 3] = [
        (
            &["--tls-cert", &missing, "--tls-key", &missing],
            "--tls-cert",
        ),
        // The certificate is there: the key is what is missing.
        (&["--tls-cert", &cert, "--tls-key", &missing], "--tls-key"),
        (&["--auth-token-file", &missing], "--auth-token-file"),
    ];
    for (flags, flag) in cases {
        let out = serve(&[&["--addr", &addr], flags].concat());
        assert_eq!(out.code, Some(1), "{flags:?}: {out:?}");
        assert!(
            out.stderr.contains(flag) && out.stderr.contains(&missing),
            "{flags:?}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("no such file"), "{}", out.stderr);
        assert_no_file(&socket);
    }
}

#[test]
fn a_metrics_port_in_use_is_1_naming_the_flag_and_binds_nothing_else() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let metrics = taken.local_addr().unwrap().to_string();
    let files = TempFiles::new();
    let socket = files.dir().join("g.sock");
    let out = serve(&[
        "--addr",
        &format!("unix:{}", socket.display()),
        "--metrics-addr",
        &metrics,
    ]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(
        out.stderr,
        format!(
            "error: could not listen on --metrics-addr {metrics}: address already in use: is \
             another server running? Stop it or choose another --metrics-addr\n"
        )
    );
    assert_no_file(&socket);
}
