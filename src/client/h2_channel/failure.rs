//! How a call on the replicas' channel fails: the errors tonic's channel would have carried
//! (hyper's kinds and words), and the connector's and keepalive's own.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use h2::Reason;
use tonic::{Code, Status};

use super::Link;

/// A call that failed on an h2 connection, in hyper's words and with hyper's causes: the error
/// tonic's channel would have carried in the status.
#[derive(Debug)]
pub struct Http2Failure {
    pub(super) kind: Kind,
    pub(super) cause: Box<dyn StdError + Send + Sync>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// The connection failed under the call (hyper's `Io`).
    Io,
    /// The stream or the connection ended it (hyper's `Http2`).
    Http2,
    /// Reading the response body failed (hyper's `Body`).
    Body,
    /// Never sent: the connection closed first (hyper's `Canceled`).
    Canceled,
    /// The connection was given up after an unanswered keepalive PING.
    KeepAlive,
}

impl Http2Failure {
    /// Whether the call never went out (the connection closed before it could).
    pub fn is_canceled(&self) -> bool {
        self.kind == Kind::Canceled
    }

    /// The status tonic gives hyper's error for `err`, met where `kind` says.
    pub(super) fn of(err: h2::Error, kind: Kind, link: Option<&Link>) -> Status {
        let timed_out = link.is_some_and(|link| link.timed_out.load(Ordering::Relaxed));
        let failure = match kind {
            _ if timed_out => Http2Failure {
                kind: Kind::KeepAlive,
                cause: Box::new(KeepAliveTimedOut),
            },
            Kind::Http2 | Kind::Io if err.is_io() => Http2Failure {
                kind: Kind::Io,
                cause: match err.into_io() {
                    Some(io) => Box::new(io),
                    None => Box::new(io::Error::other("connection error")),
                },
            },
            kind => Http2Failure {
                kind,
                cause: Box::new(err),
            },
        };
        failure.into_status()
    }

    /// As `tonic::Status::from_error` makes it of the hyper error.
    pub(super) fn into_status(self) -> Status {
        let (code, message) = match self.kind {
            Kind::KeepAlive => (Code::Unavailable, self.to_string()),
            Kind::Canceled => (Code::Cancelled, self.to_string()),
            Kind::Io => (Code::Unknown, self.to_string()),
            Kind::Http2 | Kind::Body => {
                let reason = self
                    .cause
                    .downcast_ref::<h2::Error>()
                    .and_then(h2::Error::reason);
                (code_of(reason), format!("h2 protocol error: {self}"))
            }
        };
        let mut status = Status::new(code, message);
        status.set_source(Arc::new(self));
        status
    }
}

impl fmt::Display for Http2Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            Kind::Io => "connection error",
            Kind::Http2 | Kind::KeepAlive => "http2 error",
            Kind::Body => "error reading a body from connection",
            Kind::Canceled => "operation was canceled",
        })
    }
}

impl StdError for Http2Failure {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.cause)
    }
}

/// The gRPC status of an HTTP/2 error code, as tonic maps it (gRPC's PROTOCOL-HTTP2.md).
fn code_of(reason: Option<Reason>) -> Code {
    match reason {
        Some(
            Reason::NO_ERROR
            | Reason::PROTOCOL_ERROR
            | Reason::INTERNAL_ERROR
            | Reason::FLOW_CONTROL_ERROR
            | Reason::SETTINGS_TIMEOUT
            | Reason::COMPRESSION_ERROR
            | Reason::CONNECT_ERROR,
        ) => Code::Internal,
        Some(Reason::REFUSED_STREAM) => Code::Unavailable,
        Some(Reason::CANCEL) => Code::Cancelled,
        Some(Reason::ENHANCE_YOUR_CALM) => Code::ResourceExhausted,
        Some(Reason::INADEQUATE_SECURITY) => Code::PermissionDenied,
        _ => Code::Unknown,
    }
}

/// hyper's words for an unanswered keepalive PING.
#[derive(Debug)]
pub(super) struct KeepAliveTimedOut;

impl fmt::Display for KeepAliveTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("keep-alive timed out")
    }
}

impl StdError for KeepAliveTimedOut {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&TimedOut)
    }
}

#[derive(Debug)]
pub(super) struct TimedOut;

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("operation timed out")
    }
}

impl StdError for TimedOut {}

/// An attempt to connect that failed, as tonic's `ConnectError` carries it: UNAVAILABLE with
/// the dialer's words, and its `io::Error` (with a `DialFailed` or `Trouble` inside) as the
/// source.
#[derive(Debug)]
pub(super) struct ConnectFailed(io::Error);

impl ConnectFailed {
    pub(super) fn status(err: io::Error) -> Status {
        let mut status = Status::unavailable(err.to_string());
        status.set_source(Arc::new(ConnectFailed(err)));
        status
    }
}

impl fmt::Display for ConnectFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl StdError for ConnectFailed {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.0)
    }
}
