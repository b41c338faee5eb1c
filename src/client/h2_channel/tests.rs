//! How the replicas' channel words its failures: as tonic words hyper's, so the diagnosis
//! reads them the same.

use std::error::Error as StdError;

use tonic::Code;

use super::*;

fn chain(status: &Status) -> Vec<String> {
    let mut chain = Vec::new();
    let mut source = StdError::source(status);
    while let Some(err) = source {
        chain.push(err.to_string());
        source = err.source();
    }
    chain
}

#[test]
fn failures_read_as_tonic_reports_hyper_s() {
    // A stream the server reset: its code from the HTTP/2 reason, hyper's words.
    let reset = Http2Failure::of(h2::Error::from(Reason::CANCEL), Kind::Http2, None);
    assert_eq!(reset.code(), Code::Cancelled);
    assert_eq!(reset.message(), "h2 protocol error: http2 error");
    // A connection that broke: UNKNOWN "connection error", the I/O error as its cause.
    let broken = io::Error::new(io::ErrorKind::ConnectionReset, "reset by peer");
    let broken = Http2Failure {
        kind: Kind::Io,
        cause: Box::new(broken),
    }
    .into_status();
    assert_eq!(broken.code(), Code::Unknown);
    assert_eq!(broken.message(), "connection error");
    assert_eq!(chain(&broken), ["connection error", "reset by peer"]);
    // Never sent: CANCELLED, and known as such for the transparent retry.
    let unsent = Http2Failure::of(h2::Error::from(Reason::NO_ERROR), Kind::Canceled, None);
    assert_eq!(unsent.code(), Code::Cancelled);
    let failure = StdError::source(&unsent)
        .and_then(|err| err.downcast_ref::<Http2Failure>())
        .expect("the failure is the status's source");
    assert!(failure.is_canceled());
    // After an unanswered PING, whatever the error: UNAVAILABLE, saying so.
    let link = Link::new();
    link.timed_out.store(true, Ordering::Relaxed);
    let lost = h2::Error::from(Reason::INTERNAL_ERROR);
    let timed_out = Http2Failure::of(lost, Kind::Body, Some(&link));
    assert_eq!(timed_out.code(), Code::Unavailable);
    assert_eq!(
        chain(&timed_out),
        ["http2 error", "keep-alive timed out", "operation timed out"]
    );
}

#[test]
fn a_failed_attempt_to_connect_is_unavailable_with_the_dialer_s_words() {
    let refused = io::Error::new(io::ErrorKind::ConnectionRefused, "could not connect to x");
    let status = ConnectFailed::status(refused);
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(status.message(), "could not connect to x");
    assert_eq!(
        chain(&status),
        ["could not connect to x", "could not connect to x"]
    );
}
