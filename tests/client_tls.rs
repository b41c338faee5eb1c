//! `greeter hello` over TLS, against the official Python grpcio server as an independent TLS
//! peer: trust (--ca-cert, system roots refused), names (--server-name, IP SANs), expiry,
//! mutual TLS (--cert/--key), the plaintext/TLS mismatch both ways, --insecure-skip-verify,
//! and TLS files that cannot be used.

mod common;

use std::time::Duration;

use common::certs::Certs;
use common::fake::AnsweringServer;
use common::peer::python_server;
use common::{Outcome, Server, greeter, hello, refusing_addr, run};

/// The Python greeter_server serving TLS with `cert`/`key` of `certs`, requiring client
/// certificates signed by `client_ca` if given.
fn python_tls_server(certs: &Certs, cert: &str, key: &str, client_ca: Option<&str>) -> Server {
    let (cert, key) = (certs.path(cert), certs.path(key));
    let mut args = vec!["--tls-cert", cert.as_str(), "--tls-key", key.as_str()];
    let client_ca = client_ca.map(|ca| certs.path(ca));
    if let Some(ca) = &client_ca {
        args.extend(["--tls-client-ca", ca.as_str()]);
    }
    python_server(&args)
}

fn assert_greeted(out: &Outcome) {
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "Hello world\n", "{out:?}");
}

/// Asserts `out` is UNAVAILABLE with `fragment` in a one-line stderr.
fn assert_unavailable_in_one_line(out: &Outcome, fragment: &str) {
    assert_eq!(out.code, Some(78), "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains(fragment),
        "expected {fragment:?} in {out:?}"
    );
    assert_eq!(out.stderr.lines().count(), 1, "one line: {out:?}");
}

#[test]
fn https_address_with_the_servers_ca() {
    let certs = Certs::new();
    let server = python_tls_server(&certs, "server.pem", "server.key", None);
    let addr = format!("https://localhost:{}", server.port());
    let out = hello(&["--addr", &addr, "--ca-cert", &certs.path("ca.pem")]);
    assert_greeted(&out);
    assert_eq!(out.stderr, "");
}

#[test]
fn tls_flag_checks_an_ip_address_against_the_ip_san() {
    let certs = Certs::new();
    let server = python_tls_server(&certs, "server.pem", "server.key", None);
    let out = server.hello(&["--tls", "--ca-cert", &certs.path("ca.pem")]);
    assert_greeted(&out);
}

/// `greeter hello --tls` against `server`, with the system roots taken from `ca_file` alone
/// (rustls-native-certs reads SSL_CERT_FILE/SSL_CERT_DIR instead of the system's store), so the
/// outcome does not depend on what the machine has installed.
fn hello_with_system_roots(server: &Server, ca_file: &str) -> Outcome {
    let mut command = greeter(["hello", "--addr", &server.loopback(), "--tls"]);
    command
        .env("SSL_CERT_FILE", ca_file)
        .env_remove("SSL_CERT_DIR");
    run(command)
}

#[test]
fn without_ca_cert_the_system_roots_are_trusted() {
    let certs = Certs::new();
    let server = python_tls_server(&certs, "server.pem", "server.key", None);
    let out = hello_with_system_roots(&server, &certs.path("ca.pem"));
    assert_greeted(&out);
    assert_eq!(out.stderr, "");
}

#[test]
fn the_system_roots_do_not_trust_a_private_ca() {
    let certs = Certs::new();
    let server = python_tls_server(&certs, "server.pem", "server.key", None);
    let out = hello_with_system_roots(&server, &certs.path("other-ca.pem"));
    assert_unavailable_in_one_line(
        &out,
        "not signed by a trusted CA: give its CA with --ca-cert",
    );
}

#[test]
fn no_system_roots_at_all_stop_the_run_before_connecting() {
    let certs = Certs::new();
    let server = python_tls_server(&certs, "server.pem", "server.key", None);
    let empty = certs.write("empty.pem", "");
    let out = hello_with_system_roots(&server, empty.to_str().unwrap());
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains(
            "no trusted CA certificates found on this system: give the server's CA with --ca-cert"
        ),
        "{out:?}"
    );
}

#[test]
fn an_unknown_ca_is_named_with_the_fix() {
    let certs = Certs::new();
    let server = python_tls_server(&certs, "server.pem", "server.key", None);
    let out = server.hello(&["--ca-cert", &certs.path("other-ca.pem")]);
    assert_unavailable_in_one_line(
        &out,
        &format!(
            "could not connect to {}: the server's certificate is not signed by a trusted CA: \
             give its CA with --ca-cert",
            server.loopback()
        ),
    );
}

#[test]
fn a_wrong_server_name_lists_the_names_the_certificate_has() {
    let certs = Certs::new();
    let server = python_tls_server(&certs, "server.pem", "server.key", None);
    let out = server.hello(&[
        "--ca-cert",
        &certs.path("ca.pem"),
        "--server-name",
        "greeter.example",
    ]);
    assert_unavailable_in_one_line(
        &out,
        "the server's certificate is not valid for greeter.example (it is for",
    );
    assert!(out.stderr.contains("localhost"), "{out:?}");
    assert!(
        out.stderr.contains("check --addr or set --server-name"),
        "{out:?}"
    );
}

#[test]
fn an_expired_certificate_says_when() {
    let certs = Certs::new();
    let server = python_tls_server(&certs, "expired.pem", "expired.key", None);
    let out = server.hello(&["--ca-cert", &certs.path("ca.pem")]);
    assert_unavailable_in_one_line(
        &out,
        "the server's certificate expired on 2021-01-01T00:00:00Z",
    );
}

#[test]
fn mutual_tls_with_a_client_certificate() {
    let certs = Certs::new();
    let server = python_tls_server(&certs, "server.pem", "server.key", Some("ca.pem"));
    let flags = certs.client_flags("client");
    let out = server.hello(&flags.iter().map(String::as_str).collect::<Vec<_>>());
    assert_greeted(&out);
}

#[test]
fn a_server_requiring_a_client_certificate_says_so() {
    let certs = Certs::new();
    let server = python_tls_server(&certs, "server.pem", "server.key", Some("ca.pem"));
    let out = server.hello(&["--ca-cert", &certs.path("ca.pem")]);
    assert_unavailable_in_one_line(
        &out,
        "the server requires a client certificate: give --cert and --key",
    );
}

#[test]
fn a_client_certificate_the_server_does_not_trust_is_rejected() {
    let certs = Certs::new();
    let server = python_tls_server(&certs, "server.pem", "server.key", Some("other-ca.pem"));
    let flags = certs.client_flags("client");
    let out = server.hello(&flags.iter().map(String::as_str).collect::<Vec<_>>());
    assert_unavailable_in_one_line(&out, "the server rejected our client certificate");
}

#[test]
fn a_tls_client_against_a_plaintext_server_fails_fast_and_says_so() {
    let certs = Certs::new();
    let server = python_server(&[]);
    let out = server.hello(&[
        "--tls",
        "--ca-cert",
        &certs.path("ca.pem"),
        "--timeout",
        "10s",
    ]);
    assert_unavailable_in_one_line(
        &out,
        &format!(
            "the server at {} does not speak TLS (it answered in plaintext): use http:// or \
             drop --tls",
            server.loopback()
        ),
    );
    assert!(out.elapsed < Duration::from_secs(5), "{out:?}");
}

#[test]
fn a_plaintext_client_against_a_tls_server_fails_fast_and_says_so() {
    let certs = Certs::new();
    let server = python_tls_server(&certs, "server.pem", "server.key", None);
    let out = server.hello(&["--timeout", "10s"]);
    let addr = server.loopback();
    assert_unavailable_in_one_line(
        &out,
        &format!("the server at {addr} speaks TLS: use https://{addr} or --tls"),
    );
    assert!(out.elapsed < Duration::from_secs(5), "{out:?}");
}

#[test]
fn insecure_skip_verify_accepts_an_unknown_ca_with_one_warning() {
    let certs = Certs::new();
    let server = python_tls_server(&certs, "server.pem", "server.key", None);
    let out = server.hello(&["--insecure-skip-verify"]);
    assert_greeted(&out);
    assert_eq!(
        out.stderr,
        "warning: --insecure-skip-verify: the server's certificate is not checked; anyone in \
         the middle can read this connection\n"
    );
}

#[test]
fn unusable_tls_files_fail_before_connecting() {
    let certs = Certs::new();
    // Nothing listens there: a run that got as far as connecting would exit 78, not 1.
    let (_socket, addr) = refusing_addr();
    let garbage = certs.write("garbage.pem", "not a certificate\n");
    let garbage = garbage.to_str().unwrap();
    let broken = certs.write("broken.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n");
    let broken = broken.to_str().unwrap();
    let missing = format!("{}/missing.pem", certs.dir().display());
    let client = certs.path("client.pem");
    let client_key = certs.path("client.key");
    let server_key = certs.path("server.key");
    let cases: [(Vec<&str>, String); 5] = [
        (
            vec!["--ca-cert", garbage],
            format!("--ca-cert {garbage}: no certificate found"),
        ),
        (
            vec!["--ca-cert", broken],
            format!("--ca-cert {broken}: invalid PEM"),
        ),
        (
            vec!["--ca-cert", &missing],
            format!("could not read --ca-cert {missing}: no such file or directory"),
        ),
        (
            vec!["--tls", "--cert", &client, "--key", garbage],
            format!("--key {garbage}: no private key found"),
        ),
        (
            vec!["--tls", "--cert", &client, "--key", &server_key],
            format!("--key {server_key} is not the private key of --cert {client}"),
        ),
    ];
    let _ = client_key;
    for (args, expected) in cases {
        let mut all = vec!["--addr", addr.as_str()];
        all.extend(args.iter().copied());
        let out = hello(&all);
        assert_eq!(out.code, Some(1), "{args:?}: {out:?}");
        assert!(
            out.stderr.starts_with(&format!("error: {expected}")),
            "{args:?}: {}",
            out.stderr
        );
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {}", out.stderr);
    }
}

#[test]
fn tls_over_a_unix_socket_must_be_asked_for_with_tls() {
    let out = hello(&[
        "--addr",
        "unix:/nonexistent/greeter.sock",
        "--server-name",
        "localhost",
    ]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(
        out.stderr.contains("TLS over a Unix socket needs --tls"),
        "{out:?}"
    );
}

#[test]
fn an_invalid_server_name_is_a_usage_error() {
    let out = run(greeter(["hello", "--server-name", "not a name"]));
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("'--server-name <NAME>'"), "{out:?}");
}

#[test]
fn replicas_speak_tls_too() {
    let certs = Certs::new();
    let server = python_tls_server(&certs, "server.pem", "server.key", None);
    let addr = format!("https://{}", server.loopback());
    let out = hello(&[
        "--addr",
        &addr,
        "--ca-cert",
        &certs.path("ca.pem"),
        "--count",
        "3",
        "--concurrency",
        "2",
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "Hello world\n".repeat(3));
    assert!(out.stderr.contains("calls 3, ok 3"), "{out:?}");
}

#[test]
fn a_tls_alert_in_answer_to_plaintext_is_recognised_at_once() {
    // What rustls-based servers send for a plaintext preface: a fatal decode_error alert.
    // One connection only: the TLS probe after a silent close would get no answer, so the
    // message can only come from the sniffer reading the alert.
    let server = AnsweringServer::start(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x32], 1);
    let addr = server.addr.clone();
    let out = hello(&["--addr", &addr, "--timeout", "10s"]);
    assert_unavailable_in_one_line(
        &out,
        &format!("the server at {addr} speaks TLS: use https://{addr} or --tls"),
    );
    assert!(out.elapsed < Duration::from_secs(5), "{out:?}");
    assert_eq!(server.finish(), 1, "the connection was answered");
}

#[test]
fn a_silent_plaintext_failure_only_mentions_tls() {
    // Closes at once, and answers a ClientHello the same way: not a TLS server.
    let server = AnsweringServer::start(b"", 2);
    let addr = server.addr.clone();
    let out = hello(&["--addr", &addr, "--timeout", "10s"]);
    assert_unavailable_in_one_line(&out, "a server that speaks only TLS can close like this");
    assert!(!out.stderr.contains("speaks TLS:"), "{out:?}");
    assert!(out.elapsed < Duration::from_secs(5), "{out:?}");
    assert_eq!(server.finish(), 2, "the plaintext call and the TLS probe");
}
