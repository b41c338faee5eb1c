//! How connections live and end: keepalive pings find a silent client, an idle connection is
//! closed with a GOAWAY, an old one is asked to reconnect (its calls in flight finishing within
//! the grace), as grpc-go's server does.

mod common;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::frames::{self, FrameReader, Received};
use common::h2conn::{H2Conn, hello_request};
use common::{BOUND, Server};

const SAY_HELLO: &str = "/helloworld.Greeter/SayHello";
const STREAM_REPLY: &str = "/helloworld.Greeter/SayHelloStreamReply";

mod idle {
    use super::*;

    #[test]
    fn an_idle_connection_is_closed() {
        let server = Server::start_on_loopback(&["--max-connection-idle", "300ms"]);
        let mut conn = H2Conn::connect(&server.loopback());
        let ok = conn.call(SAY_HELLO, &[], hello_request("once"));
        assert_eq!(ok.grpc_status.as_deref(), Some("0"), "{ok:?}");
        let open_for = conn
            .closed_within(BOUND)
            .expect("the server closed the idle connection");
        assert!(open_for >= Duration::from_millis(300), "{open_for:?}");
    }

    #[test]
    fn a_call_in_flight_keeps_the_connection_open() {
        // Twenty replies 100 ms apart: the stream lasts twice the idle limit, which leaves a
        // loaded machine a whole second between the stream and the next call.
        let server = Server::start_on_loopback(&[
            "--max-connection-idle",
            "1s",
            "--stream-count",
            "20",
            "--stream-interval",
            "100ms",
        ]);
        let mut conn = H2Conn::connect(&server.loopback());
        let stream = conn.call(STREAM_REPLY, &[], hello_request("busy"));
        assert_eq!(stream.grpc_status.as_deref(), Some("0"), "{stream:?}");
        assert_eq!(stream.messages, 20);
        // Had the server counted the stream's 1.9 s as idle, it would have sent its GOAWAY
        // and refused this new call on the same connection.
        let next = conn.call(SAY_HELLO, &[], hello_request("next"));
        assert_eq!(next.grpc_status.as_deref(), Some("0"), "{next:?}");
        // Idle from here on.
        assert!(conn.closed_within(BOUND).is_some());
    }

    #[test]
    fn a_client_that_ignores_the_goaway_is_closed_all_the_same() {
        // hyper's GOAWAY waits for the answer to a PING that this client never sends.
        let server = Server::start_on_loopback(&["--max-connection-idle", "300ms"]);
        let (frames, closed) = keepalive::silent_client(&server.loopback(), BOUND);
        assert!(closed, "{frames:?}");
        assert!(frames.contains(&(keepalive::GOAWAY, 0)), "{frames:?}");
    }

    #[test]
    fn without_the_flag_connections_stay_open() {
        let server = Server::start();
        let mut conn = H2Conn::connect(&server.loopback());
        let ok = conn.call(SAY_HELLO, &[], hello_request("once"));
        assert_eq!(ok.grpc_status.as_deref(), Some("0"), "{ok:?}");
        assert_eq!(conn.closed_within(Duration::from_millis(700)), None);
    }
}

mod age {
    use super::*;

    #[test]
    fn an_old_connection_finishes_its_calls_then_closes() {
        // The stream (ten replies, 900 ms) outlives the age (300 ms), within the grace (5 s).
        let server = Server::start_on_loopback(&[
            "--max-connection-age",
            "300ms",
            "--max-connection-age-grace",
            "5s",
            "--stream-count",
            "10",
            "--stream-interval",
            "100ms",
        ]);
        let mut conn = H2Conn::connect(&server.loopback());
        let stream = conn.call(STREAM_REPLY, &[], hello_request("long"));
        assert_eq!(stream.grpc_status.as_deref(), Some("0"), "{stream:?}");
        assert_eq!(stream.messages, 10);
        let open_for = conn.closed_within(BOUND).expect("closed after its age");
        assert!(open_for < Duration::from_secs(5), "{open_for:?}");
        // A new connection is served as ever.
        let mut fresh = H2Conn::connect(&server.loopback());
        let ok = fresh.call(SAY_HELLO, &[], hello_request("fresh"));
        assert_eq!(ok.grpc_status.as_deref(), Some("0"), "{ok:?}");
    }

    #[test]
    fn the_grace_bounds_calls_in_flight() {
        // A six-second stream on a connection whose age (200 ms) and grace (300 ms) are up
        // long before it ends: the connection is closed under it.
        let server = Server::start_on_loopback(&[
            "--max-connection-age",
            "200ms",
            "--max-connection-age-grace",
            "300ms",
            "--stream-count",
            "60",
            "--stream-interval",
            "100ms",
        ]);
        let mut conn = H2Conn::connect(&server.loopback());
        let started = Instant::now();
        let stream = conn.call(STREAM_REPLY, &[], hello_request("cut"));
        assert!(stream.messages < 60, "{stream:?}");
        assert!(
            stream.error.is_some() || stream.grpc_status.as_deref() != Some("0"),
            "{stream:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(4), "{stream:?}");
    }

    #[test]
    fn the_grace_needs_an_age() {
        // A port of its own: were the check lost, the server would start there, not on :50051.
        let out = common::run(common::greeter([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--max-connection-age-grace",
            "1s",
        ]));
        assert_eq!(out.code, Some(2), "{out:?}");
        assert!(
            out.stderr.contains("--max-connection-age"),
            "{}",
            out.stderr
        );
    }
}

mod keepalive {
    use super::*;

    pub use common::frames::{GOAWAY, PING};

    /// A client that says hello in HTTP/2 and then never answers anything: what the server
    /// sends within `listen`, as (type, flags) pairs, and whether it closed the connection.
    pub fn silent_client(addr: &str, listen: Duration) -> (Vec<(u8, u8)>, bool) {
        let mut conn = FrameReader::client(TcpStream::connect(addr).unwrap());
        conn.send(&frames::client_hello());
        let deadline = Instant::now() + listen;
        let mut seen = Vec::new();
        loop {
            match conn.read(deadline) {
                Received::Frames(frames) => {
                    seen.extend(frames.iter().map(|frame| (frame.kind, frame.flags)));
                }
                Received::Closed => return (seen, true),
                Received::Silent => return (seen, false),
            }
        }
    }

    #[test]
    fn a_client_that_never_answers_a_ping_is_disconnected() {
        let server = Server::start_on_loopback(&[
            "--keepalive-interval",
            "200ms",
            "--keepalive-timeout",
            "200ms",
        ]);
        let (frames, closed) = silent_client(&server.loopback(), BOUND);
        assert!(closed, "the server closed the connection: {frames:?}");
        assert!(
            frames.contains(&(PING, 0)),
            "the server pinged before closing: {frames:?}"
        );
    }

    #[test]
    fn a_client_that_answers_stays_connected() {
        // h2 answers every PING, so the pings, 100 ms apart, never close this connection; one
        // that did not answer would be closed after 1.1 s, well inside the 3 s watched (the
        // 1 s timeout leaves a loaded machine time to answer).
        let server = Server::start_on_loopback(&[
            "--keepalive-interval",
            "100ms",
            "--keepalive-timeout",
            "1s",
        ]);
        let mut conn = H2Conn::connect(&server.loopback());
        assert_eq!(conn.closed_within(Duration::from_secs(3)), None);
        let ok = conn.call(SAY_HELLO, &[], hello_request("alive"));
        assert_eq!(ok.grpc_status.as_deref(), Some("0"), "{ok:?}");
    }

    #[test]
    fn zero_turns_the_pings_off() {
        // What a silent client sees in 1.5 s: with pings every 100 ms (the control, which shows
        // the window is long enough to see them, a timeout too long to close), and with 0s.
        let window = Duration::from_millis(1500);
        let watch = |interval: &str| {
            let server = Server::start_on_loopback(&[
                "--keepalive-interval",
                interval,
                "--keepalive-timeout",
                "10s",
            ]);
            silent_client(&server.loopback(), window)
        };
        let (frames, closed) = watch("100ms");
        assert!(!closed, "{frames:?}");
        assert!(
            frames.contains(&(PING, 0)),
            "no PING even at 100ms: {frames:?}"
        );
        let (frames, closed) = watch("0s");
        assert!(!closed, "{frames:?}");
        assert!(!frames.contains(&(PING, 0)), "{frames:?}");
    }
}
