//! Why a connection failed, in words the user can act on: the TLS and plaintext/TLS mismatch
//! cases, told apart by the rustls error or by the first bytes the server sent.
//!
//! A failure during the handshake reaches the caller through tonic's error chain. One after it
//! (a TLS 1.3 server rejects a client certificate only after the client has finished its half)
//! does not: h2 passes an I/O error on as its kind and text alone, so the IO wrappers of
//! `watch.rs` record what they saw in [`Troubles`], where the call's error handling finds it.

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex};

use tokio_rustls::rustls::{AlertDescription, CertificateError, Error as TlsError};

use super::destination::Destination;
use crate::tls::pinned::is_ca_used_as_end_entity;

/// One line saying what went wrong and what to do about it.
#[derive(Debug, Clone)]
pub struct Trouble {
    pub message: String,
    /// The server closed (or reset) a plaintext connection without sending anything: a server
    /// that speaks only TLS is one possible cause among others (grpc-core and Go servers close
    /// silently on a plaintext preface), so it is mentioned, and can be checked by sending a
    /// ClientHello to this destination.
    pub closed_silently: Option<(Destination, Dialed)>,
}

impl fmt::Display for Trouble {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Trouble {}

impl Trouble {
    pub fn new(message: String) -> Self {
        Trouble {
            message,
            closed_silently: None,
        }
    }

    /// Carried inside an `io::Error`, which is what connectors return.
    pub fn into_io(self, kind: io::ErrorKind) -> io::Error {
        io::Error::new(kind, self)
    }
}

/// The server's GOAWAY let no stream in (`greeter serve` beyond --max-connections, or a server
/// shutting down): `reason` is its code's name, `why` its debug data.
pub fn refused_by_goaway(reason: &str, why: &str) -> String {
    let why = if why.is_empty() {
        String::new()
    } else {
        format!(": {why}")
    };
    format!("the server closed the connection before taking the call (GOAWAY {reason}{why})")
}

/// A connection that could not be made at all (refused, no such socket, unreachable): one line
/// naming the address, the cause and what to check.
#[derive(Debug, Clone)]
pub struct DialFailed(pub String);

impl fmt::Display for DialFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DialFailed {}

/// The error of type `T` carried by `err` or any of its sources, if one is: connectors return
/// `io::Error`s, with a [`Trouble`] or a [`DialFailed`] inside.
pub fn carried<'a, T: std::error::Error + 'static>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    // `io::Error::source` skips the error it wraps, so look inside each one by hand.
    std::iter::successors(Some(err), |err| err.source()).find_map(|err| {
        err.downcast_ref::<T>().or_else(|| {
            err.downcast_ref::<io::Error>()
                .and_then(io::Error::get_ref)
                .and_then(|inner| inner.downcast_ref::<T>())
        })
    })
}

/// The last trouble any connection of this run recorded.
#[derive(Debug, Clone, Default)]
pub struct Troubles(Arc<Mutex<Option<Trouble>>>);

impl Troubles {
    pub fn record(&self, trouble: Trouble) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(trouble);
        }
    }

    /// Whether no trouble is waiting to explain a failure.
    pub fn peek_is_none(&self) -> bool {
        self.0.lock().map_or(true, |slot| slot.is_none())
    }

    /// The last trouble seen, taken: it explains the one failure it caused, and is never
    /// reused for a later failure that may have nothing to do with it.
    pub fn take(&self) -> Option<Trouble> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

/// What the messages need to know about the connection.
#[derive(Debug, Clone)]
pub struct Dialed {
    /// `HOST:PORT` or `unix:PATH`, as the user wrote it.
    pub addr: Arc<str>,
    /// The name the certificate must carry.
    pub name: Arc<str>,
    /// Whether we have a client certificate to present (--cert).
    pub client_cert: bool,
    /// Whether the address is a Unix socket (no https:// to suggest).
    pub unix: bool,
}

impl Dialed {
    /// Opening the connection (TCP or the Unix socket) failed with `err`.
    pub fn could_not_connect(&self, err: &io::Error) -> DialFailed {
        let hint = match (err.kind(), self.unix) {
            (io::ErrorKind::ConnectionRefused, _) => "is `greeter serve` running?",
            (io::ErrorKind::NotFound, true) => "is `greeter serve` running on that socket?",
            (io::ErrorKind::PermissionDenied, true) => "check the socket file's permissions",
            _ => "check --addr and that the server is reachable",
        };
        DialFailed(format!(
            "could not connect to {} ({}): {hint}",
            self.addr,
            crate::report::describe_io(err)
        ))
    }

    /// A TLS connection failed with `err`; `handshaking` until the handshake completed.
    pub fn tls_failure(&self, err: &io::Error, handshaking: bool) -> Trouble {
        let tls = err
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<TlsError>());
        match tls {
            Some(tls) => Trouble::new(self.tls_error(tls, handshaking)),
            // The server closed the connection in the middle of our ClientHello: a plaintext
            // HTTP/2 server does exactly this when the preface it expects does not come.
            None if handshaking
                && matches!(
                    err.kind(),
                    io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset
                ) =>
            {
                Trouble::new(format!(
                    "the server at {} closed the connection during the TLS handshake: it \
                     probably does not speak TLS: use http:// or drop --tls",
                    self.addr
                ))
            }
            None => Trouble::new(format!(
                "{}{}",
                if handshaking {
                    "TLS handshake failed: "
                } else {
                    ""
                },
                crate::report::describe_io(err)
            )),
        }
    }

    fn tls_error(&self, err: &TlsError, handshaking: bool) -> String {
        let addr = &self.addr;
        match err {
            TlsError::InvalidCertificate(cert) => self.certificate_error(cert),
            TlsError::AlertReceived(alert) => self.alert(*alert),
            // The first bytes back were not a TLS record: a plaintext server answered our
            // ClientHello (an HTTP/2 SETTINGS or GOAWAY frame, or an HTTP/1 status line).
            TlsError::InvalidMessage(_)
            | TlsError::PeerSentOversizedRecord
            | TlsError::InappropriateMessage { .. }
                if handshaking =>
            {
                format!(
                    "the server at {addr} does not speak TLS (it answered in plaintext): use \
                     http:// or drop --tls"
                )
            }
            TlsError::NoApplicationProtocol => format!(
                "the server at {addr} does not offer HTTP/2 over TLS (ALPN h2): is it a gRPC \
                 server?"
            ),
            other => format!("TLS with {addr} failed: {other}"),
        }
    }

    fn certificate_error(&self, err: &CertificateError) -> String {
        let name = &self.name;
        match err {
            CertificateError::UnknownIssuer => "the server's certificate is not signed by a \
                trusted CA: give its CA with --ca-cert"
                .to_owned(),
            CertificateError::NotValidForNameContext { presented, .. } if !presented.is_empty() => {
                format!(
                    "the server's certificate is not valid for {name} (it is for {}): check \
                     --addr or set --server-name",
                    presented
                        .iter()
                        .map(|name| plain_name(name))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!(
                    "the server's certificate is not valid for {name}: check --addr or set \
                     --server-name"
                )
            }
            CertificateError::ExpiredContext { not_after, .. } => format!(
                "the server's certificate expired on {}: renew it, or check this machine's clock",
                shown_time(not_after.as_secs())
            ),
            CertificateError::Expired => "the server's certificate has expired: renew it, or \
                check this machine's clock"
                .to_owned(),
            CertificateError::NotValidYetContext { not_before, .. } => format!(
                "the server's certificate is not valid yet (only from {}): check the clocks of \
                 this machine and the server",
                shown_time(not_before.as_secs())
            ),
            CertificateError::NotValidYet => "the server's certificate is not valid yet: check \
                the clocks of this machine and the server"
                .to_owned(),
            other if is_ca_used_as_end_entity(other) => {
                "the server's certificate is a CA certificate, which TLS does not accept as a \
                 server's: give the server a certificate signed by that CA, or, if it is \
                 self-signed, give that very certificate as --ca-cert"
                    .to_owned()
            }
            other => format!("the server's certificate was refused: {other}"),
        }
    }

    fn alert(&self, alert: AlertDescription) -> String {
        use AlertDescription::*;
        // Servers differ in the alert they send a client without a certificate: TLS 1.3 has
        // certificate_required, TLS 1.2 servers send handshake_failure or bad_certificate.
        let about_client_cert = matches!(
            alert,
            CertificateRequired
                | HandshakeFailure
                | BadCertificate
                | UnknownCA
                | CertificateUnknown
                | CertificateExpired
                | CertificateRevoked
                | UnsupportedCertificate
                | AccessDenied
        );
        match (about_client_cert, self.client_cert) {
            (true, false)
                if matches!(
                    alert,
                    CertificateRequired | HandshakeFailure | BadCertificate
                ) =>
            {
                "the server requires a client certificate: give --cert and --key".to_owned()
            }
            (true, true) => format!(
                "the server rejected our client certificate (alert {}): check that --cert is \
                 signed by a CA the server trusts, and still valid",
                alert_name(alert)
            ),
            _ => format!(
                "the server at {} refused the TLS connection (alert {})",
                self.addr,
                alert_name(alert)
            ),
        }
    }

    /// The server asked for a client certificate during the handshake, then closed the
    /// connection before sending anything: what grpc-core servers do instead of an alert.
    pub fn closed_after_asking_for_a_certificate(&self) -> Trouble {
        Trouble::new(if self.client_cert {
            "the server rejected our client certificate (it closed the connection after the \
             handshake): check that --cert is signed by a CA the server trusts, and still valid"
                .to_owned()
        } else {
            "the server requires a client certificate: give --cert and --key".to_owned()
        })
    }

    /// A plaintext connection saw the server answer with a TLS record.
    pub fn speaks_tls(&self) -> Trouble {
        let fix = if self.unix {
            "use --tls".to_owned()
        } else {
            format!("use https://{} or --tls", self.addr)
        };
        Trouble::new(format!("the server at {} speaks TLS: {fix}", self.addr))
    }

    /// A plaintext connection to `destination` the server closed before sending anything.
    pub fn closed_silently(&self, destination: &Destination) -> Trouble {
        let fix = if self.unix {
            "--tls"
        } else {
            "https:// or --tls"
        };
        Trouble {
            message: format!("(a server that speaks only TLS can close like this: then use {fix})"),
            closed_silently: Some((destination.clone(), self.clone())),
        }
    }
}

/// webpki gives the certificate's names in Debug form (`DnsName("localhost")`,
/// `IpAddress(127.0.0.1)`); people read them bare.
fn plain_name(presented: &str) -> String {
    let inner = ["DnsName(", "IpAddress(", "URI("]
        .iter()
        .find_map(|kind| presented.strip_prefix(kind))
        .and_then(|rest| rest.strip_suffix(')'));
    match inner {
        Some(inner) => inner.trim_matches('"').to_owned(),
        None => presented.to_owned(),
    }
}

/// rustls names alerts in CamelCase; the TLS RFCs, and people, in snake_case.
fn alert_name(alert: AlertDescription) -> String {
    let camel = format!("{alert:?}");
    let mut snake = String::with_capacity(camel.len() + 4);
    let mut previous_lower = false;
    for c in camel.chars() {
        // "UnknownCA" is unknown_ca: only a lowercase-to-uppercase step starts a word.
        if c.is_ascii_uppercase() && previous_lower {
            snake.push('_');
        }
        previous_lower = c.is_ascii_lowercase();
        snake.push(c.to_ascii_lowercase());
    }
    snake
}

/// A certificate's date, RFC 3339 in UTC. humantime writes years up to 9999 only (its Display
/// fails beyond, and `to_string` would panic on that), so a later date, or one past what
/// `SystemTime` holds, is shown as seconds.
fn shown_time(secs: u64) -> String {
    use std::fmt::Write as _;
    let mut shown = String::new();
    let written = std::time::UNIX_EPOCH
        .checked_add(std::time::Duration::from_secs(secs))
        .is_some_and(|time| write!(shown, "{}", humantime::format_rfc3339_seconds(time)).is_ok());
    if written {
        shown
    } else {
        format!("{secs} seconds after 1970")
    }
}

#[cfg(test)]
mod tests;
