//! Hostile peers, frame by frame against the real binary: slow clients, floods of PING,
//! SETTINGS, CONTINUATION and reset streams, huge header blocks, piles of idle connections and
//! connections opened and closed in a loop. Each gets a bounded answer, the server's memory
//! and CPU stay bounded (measured from /proc, and written to target/tmp/hostile.txt), and a
//! good call on another connection succeeds during and after.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::frames::{
    self, CONTINUATION, DATA, END_HEADERS, END_STREAM, FrameReader, GOAWAY, HEADERS, PING,
    RST_STREAM, Received, SETTINGS, request_headers,
};
use common::h2conn::{H2Conn, hello_request};
use common::process::{busy_over, open_fds, rss_kib};
use common::{BOUND, Server};

const SAY_HELLO: &str = "/helloworld.Greeter/SayHello";

/// How much memory an attack may leave the server holding, beyond what it had.
const RSS_GROWTH_LIMIT_KIB: u64 = 32 * 1024;

/// A server, and what it used before the attack.
struct Target {
    server: Server,
    rss_before: u64,
}

impl Target {
    fn start(args: &[&str]) -> Target {
        let args = [&["--addr", "127.0.0.1:0"], args].concat();
        let server = Server::start_with(&args, &[]);
        // One call first, so what a first call allocates is not counted against the attack.
        assert_eq!(server.hello(&["warm"]).code, Some(0));
        let rss_before = rss_kib(server.pid());
        Target { server, rss_before }
    }

    /// A raw connection that has said its preface and SETTINGS.
    fn connect(&self) -> FrameReader {
        let tcp = TcpStream::connect(self.server.loopback()).unwrap();
        let mut conn = FrameReader::client(tcp);
        conn.send(&frames::client_hello());
        conn
    }

    fn good_call(&self, when: &str) {
        let out = self.server.hello(&["--timeout", "5s", when]);
        assert_eq!(out.code, Some(0), "a good call {when}: {out:?}");
    }

    /// After the attack: memory within bounds, no lingering work, a good call served; the
    /// figures go to target/tmp/hostile.txt for the record.
    fn assert_unharmed(&self, attack: &str) {
        self.good_call(&format!("after_{attack}"));
        let pid = self.server.pid();
        let rss = rss_kib(pid);
        // What the attack left queued may take a moment to drain; then the server is idle.
        let busy = common::settle(
            BOUND,
            || busy_over(pid, Duration::from_millis(200)),
            |&busy| busy < 0.1,
        );
        record(&format!(
            "{attack}: rss {} -> {rss} KiB, busy after {:.0}%",
            self.rss_before,
            busy * 100.0
        ));
        assert!(
            rss < self.rss_before + RSS_GROWTH_LIMIT_KIB,
            "{attack}: RSS grew from {} to {rss} KiB",
            self.rss_before
        );
        assert!(
            busy < 0.5,
            "{attack}: still busy after: {:.0}%",
            busy * 100.0
        );
    }
}

fn record(line: &str) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("hostile.txt"))
        .expect("open hostile.txt");
    let _ = writeln!(file, "{line}");
}

/// Sends `frame` `times` times as fast as the server takes them, reading nothing back; the
/// server may stop taking them (then the rest is not sent).
fn flood(conn: &mut FrameReader, frame: &[u8], times: usize) {
    let flood: Vec<u8> = frame
        .iter()
        .copied()
        .cycle()
        .take(frame.len() * times)
        .collect();
    let _ = conn.try_send(&flood);
}

/// Reads until the server closes the connection (a GOAWAY may come first): the frames that
/// came and when it closed, or None if it stayed open until `deadline`.
fn until_closed(
    conn: &mut FrameReader,
    deadline: Instant,
) -> (Vec<frames::Frame>, Option<Instant>) {
    let mut seen = Vec::new();
    loop {
        match conn.read(deadline) {
            Received::Frames(frames) => seen.extend(frames),
            Received::Closed => return (seen, Some(Instant::now())),
            Received::Silent => return (seen, None),
        }
    }
}

#[test]
fn a_header_block_left_unfinished_is_closed_at_the_request_timeout() {
    let target = Target::start(&["--request-timeout", "1s"]);
    let mut conn = target.connect();
    let block = request_headers(SAY_HELLO, &[]);
    let started = Instant::now();
    // The first half of the block, and never the rest (no END_HEADERS, no CONTINUATION).
    conn.send(&frames::frame(HEADERS, 0, 1, &block[..block.len() / 2]));
    target.good_call("during_a_stalled_header_block");
    let (_, closed) = until_closed(&mut conn, started + BOUND);
    let closed = closed.expect("the server closed the stalled connection");
    let after = closed - started;
    assert!(
        after >= Duration::from_millis(900) && after < Duration::from_secs(4),
        "closed {after:?} after the stall began"
    );
    target.assert_unharmed("stalled_header_block");
}

#[test]
fn a_request_message_left_unfinished_ends_deadline_exceeded_at_the_request_timeout() {
    let target = Target::start(&["--request-timeout", "1s"]);
    let mut conn = H2Conn::connect(&target.server.loopback());
    // Three bytes of the message, and the stream left open: the rest never comes.
    let message = hello_request("slow");
    let answer = conn.call_with(SAY_HELLO, &[], message.slice(..3), false);
    assert_eq!(answer.grpc_status.as_deref(), Some("4"), "{answer:?}");
    let why = answer.grpc_message.unwrap_or_default();
    assert!(
        why.contains(
            "the request message did not arrive within the server's --request-timeout (1s)"
        ),
        "{why}"
    );
    assert!(
        answer.elapsed >= Duration::from_millis(900) && answer.elapsed < Duration::from_secs(4),
        "answered after {:?}",
        answer.elapsed
    );
    // A client's own long deadline does not lift the server's bound.
    let answer = conn.call_with(
        SAY_HELLO,
        &[("grpc-timeout", "60S")],
        message.slice(..3),
        false,
    );
    assert_eq!(answer.grpc_status.as_deref(), Some("4"), "{answer:?}");
    assert!(
        answer.elapsed < Duration::from_secs(4),
        "{:?}",
        answer.elapsed
    );
    // A bidi call's request stream may be as slow as the client likes.
    let answer_in = std::time::Instant::now();
    let mut bidi = H2Conn::connect(&target.server.loopback());
    let slow_bidi = std::thread::spawn(move || {
        bidi.call_with(
            "/helloworld.Greeter/SayHelloBidiStream",
            &[],
            message.slice(..3),
            false,
        )
    });
    target.good_call("beside_a_slow_bidi_call");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !slow_bidi.is_finished(),
        "the bidi call was cut after {:?}",
        answer_in.elapsed()
    );
    target.assert_unharmed("slow_request_message");
    // The server gone, the bidi call ends too.
    drop(target);
    let _ = slow_bidi.join();
}

#[test]
fn a_ping_flood_is_bounded() {
    let target = Target::start(&[]);
    let mut conn = target.connect();
    // Never reading the PING ACKs: the server must not queue 100 000 of them.
    flood(&mut conn, &frames::frame(PING, 0, 0, &[0; 8]), 100_000);
    target.good_call("during_a_ping_flood");
    target.assert_unharmed("ping_flood");
}

#[test]
fn a_settings_flood_is_bounded() {
    let target = Target::start(&[]);
    let mut conn = target.connect();
    // Each asks for an ACK, and for the settings to be applied.
    let settings = frames::frame(SETTINGS, 0, 0, &[0, 0x4, 0, 0, 0xff, 0xff]);
    flood(&mut conn, &settings, 100_000);
    target.good_call("during_a_settings_flood");
    target.assert_unharmed("settings_flood");
}

#[test]
fn a_continuation_flood_is_cut_off() {
    let target = Target::start(&[]);
    let mut conn = target.connect();
    conn.send(&frames::frame(
        HEADERS,
        0,
        1,
        &request_headers(SAY_HELLO, &[]),
    ));
    // Header fields without end: 16 KiB frames, up to 64 MiB if nothing stops it.
    let field = request_headers("/x", &[("x-flood", &[b'a'; 16_000])]);
    let frame = frames::frame(CONTINUATION, 0, 1, &field[field.len() - 16_010..]);
    let started = Instant::now();
    let mut cut_off = false;
    for _ in 0..4096 {
        if conn.try_send(&frame).is_err() {
            cut_off = true;
            break;
        }
    }
    let (seen, closed) = until_closed(&mut conn, started + BOUND);
    assert!(
        cut_off || closed.is_some(),
        "the server took 64 MiB of headers: {seen:?}"
    );
    target.assert_unharmed("continuation_flood");
}

#[test]
fn rapid_reset_is_bounded() {
    let target = Target::start(&[]);
    let mut conn = target.connect();
    let block = request_headers(SAY_HELLO, &[]);
    let mut burst = Vec::new();
    let mut stream = 1u32;
    let started = Instant::now();
    let mut refused = false;
    'flood: for _ in 0..100 {
        burst.clear();
        for _ in 0..200 {
            burst.extend(frames::frame(HEADERS, END_HEADERS, stream, &block));
            burst.extend(frames::frame(RST_STREAM, 0, stream, &8u32.to_be_bytes()));
            stream += 2;
        }
        if conn.try_send(&burst).is_err() {
            refused = true;
            break 'flood;
        }
    }
    let (seen, closed) = until_closed(&mut conn, Instant::now() + Duration::from_secs(2));
    record(&format!(
        "rapid_reset: {} streams in {:?}, refused {refused}, goaway {}, closed {}",
        stream / 2,
        started.elapsed(),
        seen.iter().any(|f| f.kind == GOAWAY),
        closed.is_some()
    ));
    target.good_call("after_rapid_reset");
    target.assert_unharmed("rapid_reset");
}

#[test]
fn huge_header_blocks_are_refused_and_the_server_goes_on() {
    let target = Target::start(&[]);
    for size in [64 * 1024, 1024 * 1024] {
        let mut conn = target.connect();
        let value = vec![b'v'; size];
        let block = request_headers(SAY_HELLO, &[("x-huge", &value)]);
        let mut chunks = block.chunks(16_384).peekable();
        let mut kind = HEADERS;
        while let Some(chunk) = chunks.next() {
            let flags = if chunks.peek().is_none() {
                END_HEADERS
            } else {
                0
            };
            if conn
                .try_send(&frames::frame(kind, flags, 1, chunk))
                .is_err()
            {
                break;
            }
            kind = CONTINUATION;
        }
        let _ = conn.try_send(&frames::frame(DATA, END_STREAM, 1, &hello_request("huge")));
        // Whatever the answer (431, a reset, a GOAWAY), no reply to the call.
        let (seen, _) = until_closed(&mut conn, Instant::now() + Duration::from_secs(2));
        assert!(
            !seen.iter().any(|f| f.kind == DATA && f.stream == 1),
            "{size} bytes of headers were served"
        );
        target.good_call(&format!("after_a_{size}_byte_header_block"));
    }
    target.assert_unharmed("huge_header_blocks");
}

#[test]
fn hundreds_of_idle_connections_cost_little_and_leave_with_their_clients() {
    let target = Target::start(&[]);
    let pid = target.server.pid();
    let fds_before = open_fds(pid);
    let idle: Vec<FrameReader> = (0..500).map(|_| target.connect()).collect();
    target.good_call("among_500_idle_connections");
    let rss = rss_kib(pid);
    record(&format!(
        "500 idle connections: rss {} -> {rss} KiB, fds {fds_before} -> {}",
        target.rss_before,
        open_fds(pid)
    ));
    drop(idle);
    let fds = common::settle(BOUND, || open_fds(pid), |&fds| fds <= fds_before);
    assert!(
        fds <= fds_before,
        "descriptors left: {fds} (was {fds_before})"
    );
    target.assert_unharmed("idle_connections");
}

#[test]
fn thousands_of_connections_opened_and_closed_leave_nothing_behind() {
    let target = Target::start(&[]);
    let pid = target.server.pid();
    let fds_before = open_fds(pid);
    let started = Instant::now();
    for i in 0..3000 {
        let mut tcp = TcpStream::connect(target.server.loopback()).unwrap();
        // Half say their preface, half leave at once.
        if i % 2 == 0 {
            let _ = tcp.write_all(&frames::client_hello());
        }
    }
    record(&format!(
        "3000 connections opened and closed in {:?}",
        started.elapsed()
    ));
    target.good_call("after_3000_connections");
    let fds = common::settle(BOUND, || open_fds(pid), |&fds| fds <= fds_before);
    assert!(
        fds <= fds_before,
        "descriptors left: {fds} (was {fds_before})"
    );
    target.assert_unharmed("connection_churn");
}
