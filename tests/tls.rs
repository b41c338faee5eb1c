//! `greeter serve` over TLS and mutual TLS, called by `greeter hello` and by the official Python
//! client, with certificates made fresh for each test: each way it can go wrong fails fast,
//! with a message that says which side to fix, on both sides.

mod common;

use std::time::Duration;

use common::certs::Certs;
use common::peer::Official;
use common::{Outcome, Server, greeter, hello, run};

/// `greeter serve` on a loopback port with the certificate `cert` (and its key), plus `extra`.
fn greeter_tls_server(certs: &Certs, cert: &str, extra: &[&str]) -> Server {
    let cert_path = certs.path(&format!("{cert}.pem"));
    let key_path = certs.path(&format!("{cert}.key"));
    greeter_tls_server_of(&cert_path, &key_path, extra)
}

/// `greeter serve` on loopback with the certificate and key at these paths.
fn greeter_tls_server_of(cert: &str, key: &str, extra: &[&str]) -> Server {
    let mut args = vec![
        "--addr",
        "127.0.0.1:0",
        "--tls-cert",
        cert,
        "--tls-key",
        key,
    ];
    args.extend_from_slice(extra);
    Server::start_with(&args, &[])
}

/// `greeter hello` to `https://localhost:PORT` (the name the test certificates carry).
fn https_hello(server: &Server, args: &[&str]) -> Outcome {
    let addr = format!("https://localhost:{}", server.port());
    let mut all = vec!["--addr", addr.as_str(), "--timeout", "10s"];
    all.extend_from_slice(args);
    hello(&all)
}

/// Asserts `out` is UNAVAILABLE naming `hint`, long before the 10 s deadline.
fn assert_unavailable_fast(out: &Outcome, hint: &str) {
    assert_eq!(out.code, Some(78), "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains(hint),
        "expected {hint:?} in {}",
        out.stderr
    );
    assert!(
        out.elapsed < Duration::from_secs(5),
        "a TLS failure must not wait for the 10 s deadline: {out:?}"
    );
}

#[test]
fn greeter_hello_calls_a_tls_server() {
    let certs = Certs::new();
    let server = greeter_tls_server(&certs, "server", &[]);
    let ca = certs.path("ca.pem");
    let out = https_hello(&server, &["--ca-cert", &ca, "secure"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "Hello secure\n");
    // By IP address too: the certificate names 127.0.0.1.
    let out = hello(&[
        "--tls",
        "--ca-cert",
        &ca,
        "--addr",
        &server.loopback(),
        "ip",
    ]);
    assert_eq!(out.stdout, "Hello ip\n", "{out:?}");
    let log = server.stderr();
    assert!(log.contains("over TLS"), "{log}");
}

#[test]
fn the_official_python_client_calls_a_tls_server() {
    let certs = Certs::new();
    let server = greeter_tls_server(&certs, "server", &[]);
    let target = format!("localhost:{}", server.port());
    let out = Official::Python.call(
        &target,
        &["--ca-cert", &certs.path("ca.pem"), "--name", "py"],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "Hello py\n");
}

#[test]
fn a_client_that_does_not_trust_the_ca_is_told_to_give_it() {
    let certs = Certs::new();
    let server = greeter_tls_server(&certs, "server", &[]);
    let out = https_hello(&server, &["--ca-cert", &certs.path("other-ca.pem")]);
    assert_unavailable_fast(&out, "--ca-cert");
    assert!(out.stderr.contains("trusted CA"), "{}", out.stderr);
}

#[test]
fn a_wrong_server_name_is_named() {
    let certs = Certs::new();
    let server = greeter_tls_server(&certs, "server", &[]);
    let out = https_hello(
        &server,
        &[
            "--ca-cert",
            &certs.path("ca.pem"),
            "--server-name",
            "greeter.example",
        ],
    );
    assert_unavailable_fast(&out, "greeter.example");
}

#[test]
fn an_expired_server_certificate_is_called_expired() {
    let certs = Certs::new();
    let server = greeter_tls_server(&certs, "expired", &[]);
    let out = https_hello(&server, &["--ca-cert", &certs.path("ca.pem")]);
    assert_unavailable_fast(&out, "expired");
}

#[test]
fn a_ca_certificate_serving_as_the_server_s_own_is_explained() {
    // A CA certificate that the client does not hold itself (one the trusted CA signed): TLS
    // clients refuse it as a server certificate. (One the client holds is pinned: see
    // tests/pinned_certs.rs.)
    let certs = Certs::new();
    let server = greeter_tls_server(&certs, "ca-as-server", &[]);
    let out = https_hello(&server, &["--ca-cert", &certs.path("ca.pem")]);
    assert_unavailable_fast(&out, "is a CA certificate");
    let log = server.stderr_when(|log| log.contains("TLS handshake"));
    assert!(
        log.contains("does it trust this server's certificate"),
        "{log}"
    );
}

/// A self-signed certificate that is itself the trusted one (`--ca-cert`, `--tls-client-ca`) is
/// pinned: accepted once its name, dates and signature check out, as curl and grpc-go accept it.
mod pinned {
    use super::*;

    const FOR_LOCALHOST: &str = "DNS:localhost,IP:127.0.0.1";

    #[test]
    fn openssl_s_self_signed_certificate_given_as_the_ca_is_accepted() {
        let certs = Certs::empty();
        certs.openssl_self_signed("self", FOR_LOCALHOST);
        let server = greeter_tls_server(&certs, "self", &[]);
        let out = https_hello(&server, &["--ca-cert", &certs.path("self.pem"), "you"]);
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(out.stdout, "Hello you\n");
        // By its IP address too, which the certificate also names.
        let addr = format!("https://127.0.0.1:{}", server.port());
        let out = hello(&["--addr", &addr, "--ca-cert", &certs.path("self.pem"), "ip"]);
        assert_eq!(out.stdout, "Hello ip\n", "{out:?}");
    }

    #[test]
    fn a_pinned_certificate_must_still_name_the_server() {
        let certs = Certs::empty();
        certs.openssl_self_signed("self", "DNS:elsewhere.test");
        let server = greeter_tls_server(&certs, "self", &[]);
        let out = https_hello(&server, &["--ca-cert", &certs.path("self.pem")]);
        assert_unavailable_fast(&out, "not valid for localhost (it is for elsewhere.test)");
    }

    #[test]
    fn an_expired_pinned_certificate_is_refused() {
        let certs = Certs::empty();
        certs.expired_self_signed("old");
        let server = greeter_tls_server(&certs, "old", &[]);
        let out = https_hello(&server, &["--ca-cert", &certs.path("old.pem")]);
        assert_unavailable_fast(&out, "the server's certificate expired on 2021-01-01");
    }

    #[test]
    fn only_the_very_certificate_is_pinned() {
        // Another self-signed certificate for the same names is not the trusted one.
        let certs = Certs::empty();
        certs.openssl_self_signed("served", FOR_LOCALHOST);
        certs.openssl_self_signed("trusted", FOR_LOCALHOST);
        let server = greeter_tls_server(&certs, "served", &[]);
        let out = https_hello(&server, &["--ca-cert", &certs.path("trusted.pem")]);
        assert_unavailable_fast(&out, "give that very certificate as --ca-cert");
    }

    #[test]
    fn a_self_signed_client_certificate_given_as_the_client_ca_is_accepted() {
        let certs = Certs::new();
        certs.openssl_self_signed("client-self", "DNS:greeter-client");
        certs.openssl_self_signed("stranger", "DNS:greeter-client");
        let client_ca = certs.path("client-self.pem");
        let server = greeter_tls_server(&certs, "server", &["--tls-client-ca", &client_ca]);
        let ca = certs.path("ca.pem");
        let as_identity = |identity: &str| {
            let (cert, key) = (
                certs.path(&format!("{identity}.pem")),
                certs.path(&format!("{identity}.key")),
            );
            https_hello(
                &server,
                &["--ca-cert", &ca, "--cert", &cert, "--key", &key, "me"],
            )
        };
        let out = as_identity("client-self");
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(out.stdout, "Hello me\n");
        let out = as_identity("stranger");
        assert_unavailable_fast(&out, "the server rejected our client certificate");
    }
}

mod mutual {
    use super::*;

    fn mtls_server(certs: &Certs) -> Server {
        let client_ca = certs.path("ca.pem");
        greeter_tls_server(certs, "server", &["--tls-client-ca", &client_ca])
    }

    /// `greeter hello` trusting the test CA and presenting the certificate `identity`.
    fn hello_as(server: &Server, certs: &Certs, identity: &str, name: &str) -> Outcome {
        let mut flags = certs.client_flags(identity);
        flags.push(name.to_owned());
        https_hello(
            server,
            &flags.iter().map(String::as_str).collect::<Vec<_>>(),
        )
    }

    #[test]
    fn a_client_certificate_from_the_ca_is_let_in() {
        let certs = Certs::new();
        let server = mtls_server(&certs);
        let out = hello_as(&server, &certs, "client", "mutual");
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(out.stdout, "Hello mutual\n");
    }

    #[test]
    fn the_official_python_client_presents_its_certificate() {
        let certs = Certs::new();
        let server = mtls_server(&certs);
        let target = format!("localhost:{}", server.port());
        let out = Official::Python.call(
            &target,
            &[
                "--ca-cert",
                &certs.path("ca.pem"),
                "--cert",
                &certs.path("client.pem"),
                "--key",
                &certs.path("client.key"),
                "--name",
                "py",
            ],
        );
        assert_eq!(out.stdout, "Hello py\n", "{out:?}");
    }

    #[test]
    fn a_client_without_a_certificate_is_told_to_give_one() {
        let certs = Certs::new();
        let server = mtls_server(&certs);
        let out = https_hello(&server, &["--ca-cert", &certs.path("ca.pem")]);
        assert_unavailable_fast(&out, "--cert");
        let log = server.stderr_when(|log| log.contains("TLS handshake"));
        assert!(log.contains("sent no certificate"), "{log}");
    }

    #[test]
    fn a_client_certificate_from_another_ca_is_refused() {
        let certs = Certs::new();
        let server = mtls_server(&certs);
        let out = hello_as(&server, &certs, "other-client", "refused");
        assert_eq!(out.code, Some(78), "{out:?}");
        assert!(out.stderr.contains("client certificate"), "{}", out.stderr);
        let log = server.stderr_when(|log| log.contains("TLS handshake"));
        assert!(log.contains("certificate was refused"), "{log}");
    }
}

mod mismatch {
    use super::*;

    #[test]
    fn a_plaintext_client_against_a_tls_server_hears_it_speaks_tls() {
        let certs = Certs::new();
        let server = greeter_tls_server(&certs, "server", &[]);
        let out = hello(&["--addr", &server.loopback(), "--timeout", "10s"]);
        assert_unavailable_fast(&out, "speaks TLS");
        let log = server.stderr_when(|log| log.contains("TLS handshake"));
        assert!(log.contains("does not speak TLS"), "{log}");
        // The server goes on serving TLS clients.
        let ok = https_hello(&server, &["--ca-cert", &certs.path("ca.pem"), "after"]);
        assert_eq!(ok.stdout, "Hello after\n", "{ok:?}");
    }

    #[test]
    fn a_tls_client_against_a_plaintext_server_hears_it_does_not() {
        let certs = Certs::new();
        let server = Server::start();
        let out = https_hello(&server, &["--ca-cert", &certs.path("ca.pem")]);
        assert_unavailable_fast(&out, "does not speak TLS");
        assert_eq!(server.hello(&["after"]).stdout, "Hello after\n");
    }
}

mod server_files {
    use super::*;

    fn serve(args: &[&str]) -> Outcome {
        let mut all = vec!["serve", "--addr", "127.0.0.1:0"];
        all.extend_from_slice(args);
        run(greeter(all))
    }

    fn serve_tls(cert: &str, key: &str) -> Outcome {
        serve(&["--tls-cert", cert, "--tls-key", key])
    }

    #[test]
    fn a_missing_certificate_file_fails_with_1_naming_it() {
        let certs = Certs::new();
        let missing = certs.path("missing.pem");
        let out = serve_tls(&missing, &certs.path("server.key"));
        assert_eq!(out.code, Some(1), "{out:?}");
        assert!(out.stderr.contains(&missing), "{}", out.stderr);
        assert!(out.stderr.contains("--tls-cert"), "{}", out.stderr);
    }

    #[test]
    fn a_key_that_is_not_a_key_fails_with_1() {
        let certs = Certs::new();
        let out = serve_tls(&certs.path("server.pem"), &certs.path("server.pem"));
        assert_eq!(out.code, Some(1), "{out:?}");
        assert!(out.stderr.contains("--tls-key"), "{}", out.stderr);
    }

    #[test]
    fn a_key_of_another_certificate_fails_with_1() {
        let certs = Certs::new();
        let out = serve_tls(&certs.path("server.pem"), &certs.path("client.key"));
        assert_eq!(out.code, Some(1), "{out:?}");
        assert!(
            out.stderr
                .contains("do not make a usable certificate and key"),
            "{}",
            out.stderr
        );
    }

    #[test]
    fn a_certificate_needs_its_key() {
        let certs = Certs::new();
        let out = serve(&["--tls-cert", &certs.path("server.pem")]);
        assert_eq!(out.code, Some(2), "{out:?}");
        let out = serve(&["--tls-client-ca", &certs.path("ca.pem")]);
        assert_eq!(out.code, Some(2), "{out:?}");
    }
}

/// `openssl ARGS`, bounded by [`common::BOUND`], stdin empty.
fn openssl(args: &[&str]) -> Outcome {
    let mut command = std::process::Command::new("openssl");
    command.args(args);
    run(command)
}

mod key_forms {
    use super::*;

    /// `key` rewritten by `openssl pkey -traditional` as `NAME.key`, checked to begin with
    /// `header` (the PEM form the test is about).
    fn traditional(certs: &Certs, key: &str, name: &str, header: &str) {
        let out = openssl(&[
            "pkey",
            "-in",
            &certs.path(key),
            "-traditional",
            "-out",
            &certs.path(&format!("{name}.key")),
        ]);
        assert_eq!(out.code, Some(0), "openssl pkey -traditional: {out:?}");
        let pem = std::fs::read_to_string(certs.path(&format!("{name}.key"))).unwrap();
        assert!(pem.starts_with(header), "not {header}: {pem}");
    }

    #[test]
    fn a_pkcs1_rsa_key_is_served() {
        let certs = Certs::empty();
        certs.openssl_self_signed("rsa", "DNS:localhost,IP:127.0.0.1");
        traditional(
            &certs,
            "rsa.key",
            "rsa-pkcs1",
            "-----BEGIN RSA PRIVATE KEY-----",
        );
        let cert = certs.path("rsa.pem");
        let key = certs.path("rsa-pkcs1.key");
        let server = greeter_tls_server_of(&cert, &key, &[]);
        let out = https_hello(&server, &["--ca-cert", &cert, "pkcs1"]);
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(out.stdout, "Hello pkcs1\n");
    }

    #[test]
    fn a_sec1_ec_key_is_served() {
        let certs = Certs::new();
        // rcgen's keys are ECDSA P-256, in PKCS#8.
        traditional(
            &certs,
            "server.key",
            "server-sec1",
            "-----BEGIN EC PRIVATE KEY-----",
        );
        let cert = certs.path("server.pem");
        let key = certs.path("server-sec1.key");
        let server = greeter_tls_server_of(&cert, &key, &[]);
        let out = https_hello(&server, &["--ca-cert", &certs.path("ca.pem"), "sec1"]);
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(out.stdout, "Hello sec1\n");
    }
}

mod versions {
    use super::*;

    /// `openssl s_client` to `server` with `flags`, stdin empty (so it leaves once the
    /// handshake is over, or failed).
    fn s_client(server: &Server, flags: &[&str]) -> Outcome {
        let addr = server.loopback();
        let mut args = vec![
            "s_client",
            "-connect",
            addr.as_str(),
            "-servername",
            "localhost",
        ];
        args.extend_from_slice(flags);
        openssl(&args)
    }

    #[test]
    fn tls_1_2_and_1_3_are_spoken_with_h2() {
        let certs = Certs::new();
        let server = greeter_tls_server(&certs, "server", &[]);
        for (flag, version) in [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")] {
            let out = s_client(&server, &[flag, "-alpn", "h2"]);
            assert_eq!(out.code, Some(0), "{flag}: {out:?}");
            assert!(
                out.stdout.contains(&format!("New, {version}, Cipher is ")),
                "{flag}: {}",
                out.stdout
            );
            assert!(
                out.stdout.contains("ALPN protocol: h2"),
                "{flag}: {}",
                out.stdout
            );
        }
    }

    #[test]
    fn tls_1_1_and_1_0_are_refused() {
        let certs = Certs::new();
        let server = greeter_tls_server(&certs, "server", &[]);
        for (flag, n) in [("-tls1_1", 1), ("-tls1", 2)] {
            // SECLEVEL=0: OpenSSL 3 offers these versions only so.
            let out = s_client(&server, &[flag, "-cipher", "DEFAULT@SECLEVEL=0"]);
            assert_eq!(out.code, Some(1), "{flag}: {out:?}");
            assert!(
                out.stdout.contains("New, (NONE), Cipher is (NONE)"),
                "{flag}: {}",
                out.stdout
            );
            assert!(
                out.stderr.contains("alert"),
                "{flag}: the server's alert: {}",
                out.stderr
            );
            // The server saw the old ClientHello and said no (a client that had given up on
            // its own would have sent none).
            let log =
                server.stderr_when(|log| log.matches("TLS handshake with 127.0.0.1:").count() >= n);
            assert_eq!(
                log.matches("TLS handshake with 127.0.0.1:").count(),
                n,
                "{flag}: {log}"
            );
        }
        // Still serving.
        let out = https_hello(&server, &["--ca-cert", &certs.path("ca.pem"), "after"]);
        assert_eq!(out.stdout, "Hello after\n", "{out:?}");
    }
}

#[test]
fn a_client_that_never_starts_the_handshake_is_dropped_after_10_s() {
    use std::io::Read;
    let certs = Certs::new();
    let server = greeter_tls_server(&certs, "server", &[]);
    let started = std::time::Instant::now();
    let mut tcp = std::net::TcpStream::connect(server.loopback()).unwrap();
    tcp.set_read_timeout(Some(common::BOUND)).unwrap();
    let mut byte = [0; 1];
    let read = tcp.read(&mut byte);
    let open_for = started.elapsed();
    assert!(
        matches!(read, Ok(0)),
        "the server closed the connection without a word: {read:?} after {open_for:?}"
    );
    assert!(
        (Duration::from_secs(9)..Duration::from_secs(15)).contains(&open_for),
        "closed after {open_for:?}, not about 10 s"
    );
    let log = server.stderr_when(|log| log.contains("no handshake within"));
    assert!(log.contains("no handshake within 10s"), "{log}");
}
