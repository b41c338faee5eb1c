//! What the sniffer makes of a server's first bytes: TLS, a refusal, or HTTP/2.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

#[test]
fn tls_records_are_recognised_from_their_first_bytes() {
    assert!(looks_like_tls(&[0x15, 0x03, 0x03, 0x00, 0x02]));
    assert!(looks_like_tls(&[0x16, 0x03, 0x01]));
    assert!(looks_like_tls(&[0x15]));
    // An HTTP/2 SETTINGS frame starts with its (small) length.
    assert!(!looks_like_tls(&[0x00, 0x00, 0x12, 0x04]));
    assert!(!looks_like_tls(b"HTTP/1.1 400"));
    assert!(!looks_like_tls(&[0x15, 0x00]));
}

type Pipe = tokio::io::DuplexStream;

/// A sniffer on one end of a pipe, the server's end, and the channel's reconnection state.
fn sniffed() -> (Sniffer<Pipe>, Pipe, Reconnect, Troubles) {
    let (client, server) = tokio::io::duplex(1024);
    let reconnect = Reconnect::new(Duration::from_secs(1));
    let troubles = Troubles::default();
    let peer = Dialed {
        addr: "127.0.0.1:1".into(),
        name: "127.0.0.1".into(),
        client_cert: false,
        unix: false,
    };
    let destination = Destination::Unix("/nowhere".into());
    let sniffer = Sniffer::new(
        client,
        peer,
        troubles.clone(),
        destination,
        reconnect.clone(),
    );
    (sniffer, server, reconnect, troubles)
}

const SETTINGS: [u8; 9] = [0, 0, 0, 0x4, 0, 0, 0, 0, 0];

#[tokio::test]
async fn a_goaway_that_lets_no_stream_in_is_a_failed_attempt_with_its_reason() {
    let (mut sniffer, mut server, reconnect, troubles) = sniffed();
    let mut goaway = vec![0, 0, 12, 0x7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xb];
    goaway.extend_from_slice(b"full");
    let opening = [&SETTINGS[..], &goaway].concat();
    server.write_all(&opening).await.unwrap();
    let mut read = [0; 64];
    let _ = sniffer.read(&mut read).await;
    assert!(
        reconnect.due_in() > Duration::ZERO,
        "the next attempt waits"
    );
    let trouble = troubles.take().expect("recorded");
    assert_eq!(
        trouble.message,
        "the server closed the connection before taking the call \
         (GOAWAY ENHANCE_YOUR_CALM: full)"
    );
}

#[tokio::test]
async fn a_server_that_answers_http2_is_connected() {
    let (mut sniffer, mut server, reconnect, troubles) = sniffed();
    reconnect.failed(&io::Error::from(io::ErrorKind::ConnectionRefused));
    server.write_all(&SETTINGS).await.unwrap();
    let mut read = [0; 64];
    assert_eq!(sniffer.read(&mut read).await.unwrap(), 9, "passed on");
    assert_eq!(reconnect.due_in(), Duration::ZERO, "the pauses start over");
    assert!(troubles.take().is_none());
}

#[test]
fn only_a_goaway_with_no_stream_let_in_is_a_refusal() {
    let goaway = |last: u8| [0, 0, 8, 0x7, 0, 0, 0, 0, 0, 0, 0, 0, last, 0, 0, 0, 0];
    assert!(refusal(&[&SETTINGS[..], &goaway(0)].concat()).is_some());
    assert!(
        refusal(&[&SETTINGS[..], &goaway(1)].concat()).is_none(),
        "stream 1 let in"
    );
    assert!(refusal(&SETTINGS).is_none());
    assert!(refusal(&goaway(0)).is_none(), "no SETTINGS first");
    assert!(refusal(&SETTINGS[..5]).is_none(), "cut short");
    // A GOAWAY too short for its last stream and code, however its length says so.
    let short = [0, 0, 4, 0x7, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    assert!(
        refusal(&[&SETTINGS[..], &short].concat()).is_none(),
        "short GOAWAY"
    );
    let claimed = [0, 0, 8, 0x7, 0, 0, 0, 0, 0, 0, 0];
    assert!(
        refusal(&[&SETTINGS[..], &claimed].concat()).is_none(),
        "payload cut short"
    );
}
