//! Every message of the diagnosis, as the user reads it.

use super::*;

fn peer(client_cert: bool) -> Dialed {
    Dialed {
        addr: "localhost:1".into(),
        name: "localhost".into(),
        client_cert,
        unix: false,
    }
}

fn tls(err: TlsError, client_cert: bool) -> String {
    let io = io::Error::new(io::ErrorKind::InvalidData, err);
    peer(client_cert).tls_failure(&io, true).message
}

#[test]
fn alerts_about_client_certificates_say_which_side_to_fix() {
    let required = tls(
        TlsError::AlertReceived(AlertDescription::CertificateRequired),
        false,
    );
    assert_eq!(
        required,
        "the server requires a client certificate: give --cert and --key"
    );
    let rejected = tls(TlsError::AlertReceived(AlertDescription::UnknownCA), true);
    assert!(
        rejected.starts_with("the server rejected our client certificate (alert unknown_ca)"),
        "{rejected}"
    );
}

#[test]
fn a_plaintext_answer_to_the_client_hello_is_named() {
    let plaintext = tls(
        TlsError::InvalidMessage(tokio_rustls::rustls::InvalidMessage::InvalidContentType),
        false,
    );
    assert!(plaintext.contains("does not speak TLS"), "{plaintext}");
    let eof = io::Error::from(io::ErrorKind::UnexpectedEof);
    let closed = peer(false).tls_failure(&eof, true).message;
    assert!(closed.contains("probably does not speak TLS"), "{closed}");
}

#[test]
fn certificate_names_are_shown_bare() {
    assert_eq!(plain_name("DnsName(\"localhost\")"), "localhost");
    assert_eq!(plain_name("IpAddress(127.0.0.1)"), "127.0.0.1");
    assert_eq!(plain_name("something else"), "something else");
}

#[test]
fn a_trouble_is_found_inside_io_errors() {
    let trouble = peer(false).speaks_tls();
    let io = trouble.clone().into_io(io::ErrorKind::InvalidData);
    assert_eq!(
        carried::<Trouble>(&io).map(|found| found.message.as_str()),
        Some(trouble.message.as_str())
    );
    assert_eq!(
        trouble.message,
        "the server at localhost:1 speaks TLS: use https://localhost:1 or --tls"
    );
}

#[test]
fn dates_humantime_cannot_write_are_shown_in_seconds() {
    assert_eq!(shown_time(0), "1970-01-01T00:00:00Z");
    assert_eq!(shown_time(253_402_300_799), "9999-12-31T23:59:59Z");
    // The first second of year 10000, and the last a u64 holds: to_string() panicked.
    for secs in [253_402_300_800, u64::MAX] {
        assert_eq!(shown_time(secs), format!("{secs} seconds after 1970"));
    }
}
