//! `greeter hello` message options against the official Python grpcio server: request
//! compression (--compress) and the size limits (--max-recv-msg-size, --max-send-msg-size);
//! and HTTP/2 keepalive, against a `greeter serve` whose h2 logs the PINGs it receives.

mod common;

use common::peer::python_server;
use common::{BOUND, Server};

#[test]
fn gzip_requests_are_really_compressed() {
    let server = python_server(&[]);
    let out = server.hello(&["--compress", "gzip"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "Hello world\n");
    // grpcio hides grpc-encoding from the handler; a server that accepts only identity
    // refusing the call is the proof that it arrived gzip-compressed.
    let identity_only = python_server(&["--identity-only"]);
    let out = identity_only.hello(&["--compress", "gzip"]);
    assert_eq!(out.code, Some(76), "{out:?}");
    assert!(out.stderr.contains("UNIMPLEMENTED"), "{out:?}");
    assert!(out.stderr.to_lowercase().contains("gzip"), "{out:?}");
    let out = identity_only.hello(&[]);
    assert_eq!(out.code, Some(0), "uncompressed is accepted: {out:?}");
}

#[test]
fn zstd_against_a_server_without_it_is_unimplemented_and_says_so() {
    let server = python_server(&[]);
    // A deadline far from the answer: a loaded machine must not turn UNIMPLEMENTED into 68.
    let out = server.hello(&["--timeout", "10s", "--compress", "zstd"]);
    assert_eq!(out.code, Some(76), "{out:?}");
    assert!(
        out.stderr.contains(
            "failed with UNIMPLEMENTED: the server does not accept zstd-compressed requests"
        ),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("use another --compress, or none"),
        "{out:?}"
    );
}

#[test]
fn a_reply_over_max_recv_msg_size_is_resource_exhausted() {
    let server = python_server(&[]);
    // "Hello world" is 13 bytes on the wire.
    let out = server.hello(&["--max-recv-msg-size", "10"]);
    assert_eq!(out.code, Some(72), "{out:?}");
    assert!(out.stderr.contains("RESOURCE_EXHAUSTED"), "{out:?}");
    assert!(out.stderr.contains("--max-recv-msg-size"), "{out:?}");
    let out = server.hello(&["--max-recv-msg-size", "13"]);
    assert_eq!(out.code, Some(0), "exactly the limit is allowed: {out:?}");
}

#[test]
fn a_request_over_max_send_msg_size_is_never_sent() {
    let server = python_server(&[]);
    let long = "a".repeat(100);
    let out = server.hello(&["--max-send-msg-size", "10", &long]);
    assert_eq!(out.code, Some(72), "{out:?}");
    assert!(
        out.stderr.contains(
            "RESOURCE_EXHAUSTED: the request is 102 bytes, more than --max-send-msg-size 10 bytes"
        ),
        "{out:?}"
    );
    // A call that fits comes after; once the server has logged it, it has logged everything.
    let out = server.hello(&["--max-send-msg-size", "10", "short"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let log = server.stderr_when(|log| log.contains("name='short'"));
    assert_eq!(log.matches("SayHello name=").count(), 1, "{log}");
}

/// The PINGs (not their acks) a `greeter serve` logging h2's frames at debug received while
/// serving one `hello --stream ARGS` whose three replies come 300 ms apart.
fn pings_received_during_a_stream(args: &[&str]) -> usize {
    let mut server = Server::start_on_loopback(&[
        "--log-level",
        "info,h2=debug",
        "--stream-count",
        "3",
        "--stream-interval",
        "300ms",
    ]);
    let mut all = vec!["--stream", "--timeout", "10s"];
    all.extend_from_slice(args);
    let out = server.hello(&all);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "Hello world\n".repeat(3));
    // h2 logs each frame as it reads it; once the server has exited, its log is complete.
    server.signal(libc::SIGTERM);
    assert!(
        server.wait_exit(BOUND).is_some(),
        "still serving after {BOUND:?}"
    );
    let log = server.stderr();
    assert!(
        log.contains("h2::codec::framed_read: received frame="),
        "h2 logged no frames: {log}"
    );
    log.matches("received frame=Ping { ack: false").count()
}

#[test]
fn keepalive_pings_while_a_call_is_in_flight() {
    // Pings every 100 ms over a call of some 600 ms: several; without keepalive: none.
    let pinged = pings_received_during_a_stream(&[
        "--keepalive-interval",
        "100ms",
        "--keepalive-timeout",
        "1s",
    ]);
    assert!(
        pinged >= 2,
        "{pinged} PINGs over a 600 ms call 100 ms apart"
    );
    assert_eq!(
        pings_received_during_a_stream(&[]),
        0,
        "PINGs without keepalive"
    );
}

#[test]
fn a_zero_keepalive_interval_is_refused() {
    let out = common::hello(&["--addr", "127.0.0.1:1", "--keepalive-interval", "0s"]);
    assert_eq!(out.code, Some(2), "a zero interval is refused: {out:?}");
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("--keepalive-interval"),
        "{}",
        out.stderr
    );
}

/// A server that speaks just enough HTTP/2 to take a connection (the preface, its SETTINGS,
/// the ack of the client's) and then reads and ignores everything: no PING is ever answered,
/// no call ever ends.
mod deaf_server {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::thread::{self, JoinHandle};
    use std::time::{Duration, Instant};

    use super::BOUND;

    /// HTTP/2 frame types, as RFC 9113 numbers them.
    pub const SETTINGS: u8 = 0x4;
    pub const PING: u8 = 0x6;
    const ACK: u8 = 0x1;
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

    /// What the one connection it took brought: the client's frames as (type, flags), and
    /// whether the client closed it within [`BOUND`].
    pub struct Heard {
        pub frames: Vec<(u8, u8)>,
        pub closed_by_client: bool,
    }

    /// Listens on a loopback port of its own and serves one connection, for at most
    /// [`BOUND`]; the address, and the thread that says what it heard.
    pub fn start() -> (String, JoinHandle<Heard>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let serving = thread::spawn(move || {
            let deadline = Instant::now() + BOUND;
            // Polled, so a client that never comes cannot keep the thread (and the test) alive.
            let tcp = loop {
                match listener.accept() {
                    Ok((tcp, _)) => break tcp,
                    Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                        assert!(Instant::now() < deadline, "no client within {BOUND:?}");
                        thread::sleep(Duration::from_millis(5));
                    }
                    Err(err) => panic!("accept: {err}"),
                }
            };
            tcp.set_nonblocking(false).unwrap();
            serve(tcp, deadline)
        });
        (addr, serving)
    }

    fn serve(mut tcp: TcpStream, deadline: Instant) -> Heard {
        // An empty SETTINGS frame: length 0, type 4, no flags, stream 0.
        tcp.write_all(&[0, 0, 0, SETTINGS, 0, 0, 0, 0, 0]).unwrap();
        let mut bytes = Vec::new();
        let mut buffer = [0; 4096];
        let mut acked = false;
        let closed_by_client = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break false;
            }
            tcp.set_read_timeout(Some(left)).unwrap();
            match tcp.read(&mut buffer) {
                Ok(0) => break true,
                Ok(read) => bytes.extend_from_slice(&buffer[..read]),
                Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => break true,
                Err(_) => break false,
            }
            let frames = frames(&bytes);
            if !acked && frames.contains(&(SETTINGS, 0)) {
                tcp.write_all(&[0, 0, 0, SETTINGS, ACK, 0, 0, 0, 0])
                    .unwrap();
                acked = true;
            }
        };
        Heard {
            frames: frames(&bytes),
            closed_by_client,
        }
    }

    /// The frames after the preface, as (type, flags), as far as they have come.
    fn frames(bytes: &[u8]) -> Vec<(u8, u8)> {
        let Some(mut bytes) = bytes.strip_prefix(PREFACE) else {
            assert!(
                PREFACE.starts_with(&bytes[..bytes.len().min(PREFACE.len())]),
                "no preface"
            );
            return Vec::new();
        };
        let mut frames = Vec::new();
        while bytes.len() >= 9 {
            let len = u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]) as usize;
            if bytes.len() < 9 + len {
                break;
            }
            frames.push((bytes[3], bytes[4]));
            bytes = &bytes[9 + len..];
        }
        frames
    }
}

#[test]
fn an_unanswered_keepalive_ping_breaks_the_connection() {
    let (addr, serving) = deaf_server::start();
    let out = common::hello(&[
        "--addr",
        &addr,
        "--keepalive-interval",
        "200ms",
        "--keepalive-timeout",
        "300ms",
        "--timeout",
        "10s",
    ]);
    let heard = serving.join().expect("the deaf server");
    assert_eq!(out.code, Some(78), "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .contains("failed with UNAVAILABLE: the connection broke"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("keep-alive timed out"),
        "{}",
        out.stderr
    );
    // A PING at 200 ms, given up on 300 ms later: about half a second, far from the deadline.
    assert!(
        out.elapsed < std::time::Duration::from_secs(5),
        "waited for the deadline: {out:?}"
    );
    assert!(
        heard.frames.contains(&(deaf_server::PING, 0)),
        "the client pinged: {:?}",
        heard.frames
    );
    assert!(
        heard.closed_by_client,
        "the client hung up: {:?}",
        heard.frames
    );
}
