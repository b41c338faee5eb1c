//! What one client can make the server do is bounded, with the status the gRPC spec names:
//! message sizes (RESOURCE_EXHAUSTED), concurrent streams per connection, the request's
//! deadline (DEADLINE_EXCEEDED, the handler cancelled), and compression (gzip and zstd,
//! UNIMPLEMENTED for anything else).

mod common;

use std::io::Write as _;
use std::time::Duration;

use common::h2conn::{H2Conn, framed, hello_request, prefix_only};
use common::peer::Official;
use common::{Server, run};

const SAY_HELLO: &str = "/helloworld.Greeter/SayHello";
const STREAM_REPLY: &str = "/helloworld.Greeter/SayHelloStreamReply";

mod message_size {
    use super::*;

    #[test]
    fn a_request_over_the_limit_is_resource_exhausted_and_the_server_goes_on() {
        let server = Server::start_on_loopback(&["--max-recv-msg-size", "1KiB"]);
        let long = "x".repeat(2000);
        let out = server.hello(&[&long]);
        assert_eq!(out.code, Some(72), "{out:?}");
        assert!(out.stderr.contains("RESOURCE_EXHAUSTED"), "{}", out.stderr);
        assert_eq!(out.stdout, "");
        let fits = "y".repeat(900);
        let out = server.hello(&[&fits]);
        assert_eq!(out.stdout, format!("Hello {fits}\n"), "{out:?}");
    }

    #[test]
    fn an_oversized_message_is_refused_from_its_length_prefix_alone() {
        // Only the five-byte prefix of a 5 MiB message is sent and the stream stays open: the
        // answer comes without the server waiting for, or buffering, the message.
        let server = Server::start();
        let mut conn = H2Conn::connect(&server.loopback());
        let exchange = conn.call_with(SAY_HELLO, &[], prefix_only(5 << 20), false);
        assert_eq!(exchange.grpc_status.as_deref(), Some("8"), "{exchange:?}");
        let message = exchange.grpc_message.unwrap_or_default();
        assert!(message.contains("too large"), "{message}");
        // The same connection still serves.
        let ok = conn.call(SAY_HELLO, &[], hello_request("after"));
        assert_eq!(ok.grpc_status.as_deref(), Some("0"), "{ok:?}");
    }

    #[test]
    fn exactly_the_default_limit_of_4_mib_is_accepted() {
        let server = Server::start();
        let mut conn = H2Conn::connect(&server.loopback());
        // A HelloRequest of 4 MiB in all: the tag, a four-byte length, and the name.
        let name = "n".repeat((4 << 20) - 5);
        let exchange = conn.call(SAY_HELLO, &[], hello_request(&name));
        // The reply is "Hello " + name: over the 4 MiB send limit, so that one is refused.
        assert_eq!(exchange.grpc_status.as_deref(), Some("8"), "{exchange:?}");
        assert!(
            exchange
                .grpc_message
                .as_deref()
                .is_some_and(|m| m.contains("encoded message length too large")),
            "{exchange:?}"
        );
        let over = "n".repeat((4 << 20) - 4);
        let exchange = conn.call(SAY_HELLO, &[], hello_request(&over));
        assert!(
            exchange
                .grpc_message
                .as_deref()
                .is_some_and(|m| m.contains("decoded message length too large")),
            "{exchange:?}"
        );
    }

    #[test]
    fn a_reply_over_the_send_limit_is_resource_exhausted() {
        let server = Server::start_on_loopback(&["--max-send-msg-size", "32"]);
        let out = server.hello(&["a name long enough for a reply over 32 bytes"]);
        assert_eq!(out.code, Some(72), "{out:?}");
        assert!(out.stderr.contains("RESOURCE_EXHAUSTED"), "{}", out.stderr);
        assert_eq!(server.hello(&["short"]).stdout, "Hello short\n");
    }

    #[test]
    fn sizes_are_checked_as_usage() {
        for bad in ["0", "4MB", "-1", "5GiB", "lots"] {
            let flag = format!("--max-recv-msg-size={bad}");
            let out = run(common::greeter(["serve", "--addr", "127.0.0.1:0", &flag]));
            assert_eq!(out.code, Some(2), "{bad}: {out:?}");
            assert!(out.stderr.contains("--max-recv-msg-size"), "{}", out.stderr);
        }
    }
}

#[test]
fn concurrent_streams_per_connection_are_advertised() {
    let server = Server::start_on_loopback(&["--max-concurrent-streams", "3"]);
    let mut conn = H2Conn::connect(&server.loopback());
    assert_eq!(conn.max_concurrent_streams(), 3);
    let server = Server::start();
    let mut conn = H2Conn::connect(&server.loopback());
    assert_eq!(conn.max_concurrent_streams(), 256);
}

/// A second stream opened on a connection whose one allowed stream is in flight: HTTP/2 frames
/// written by hand, since h2 (like every conforming client) would queue it instead, and does
/// even that only once it has read the server's SETTINGS, which the test cannot order.
mod beyond_the_stream_limit {
    use std::net::TcpStream;
    use std::time::Instant;

    use super::*;
    use common::frames::{
        self, ACK, DATA, END_HEADERS, END_STREAM, Frame, FrameReader, HEADERS, RST_STREAM,
        Received, SETTINGS, frame,
    };

    const REFUSED_STREAM: u32 = 0x7;

    /// A SayHello request's header block in HPACK, with no Huffman coding and no indexing.
    fn request_headers(authority: &str) -> Vec<u8> {
        let mut block = vec![0x83, 0x86]; // :method POST, :scheme http (static table)
        let mut literal = |name_index: u8, name: &str, value: &str| {
            block.push(name_index); // literal without indexing; 0: the name follows
            if name_index == 0 {
                block.push(name.len() as u8);
                block.extend_from_slice(name.as_bytes());
            }
            block.push(value.len() as u8);
            block.extend_from_slice(value.as_bytes());
        };
        literal(4, "", SAY_HELLO); // :path
        literal(1, "", authority); // :authority
        literal(0, "content-type", "application/grpc");
        literal(0, "te", "trailers");
        block
    }

    #[test]
    fn is_refused_and_the_stream_in_flight_is_still_served() {
        let server = Server::start_on_loopback(&["--max-concurrent-streams", "1"]);
        let addr = server.loopback();
        let mut conn = FrameReader::client(TcpStream::connect(&addr).unwrap());
        let headers = request_headers(&addr);
        let mut hello = frames::client_hello();
        // Stream 1: headers only, so the call stays in flight. Stream 3: a whole call.
        hello.extend(frame(HEADERS, END_HEADERS, 1, &headers));
        hello.extend(frame(HEADERS, END_HEADERS, 3, &headers));
        hello.extend(frame(DATA, END_STREAM, 3, &hello_request("second")));
        conn.send(&hello);

        let deadline = Instant::now() + common::BOUND;
        let mut first_sent = false;
        let mut refused = None;
        let mut reply_to_first = Vec::new();
        let mut first_ended = false;
        while !first_ended {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no end to stream 1 within the bound: refused {refused:?}"
            );
            let frames = match conn.read(deadline) {
                Received::Frames(frames) => frames,
                Received::Closed => panic!("the server closed the connection"),
                Received::Silent => panic!(
                    "the server keeps the connection open: no frame within the bound, refused {refused:?}"
                ),
            };
            for Frame {
                kind,
                flags,
                stream,
                payload,
            } in frames
            {
                match (kind, stream) {
                    (SETTINGS, 0) if flags & ACK == 0 => {
                        conn.send(&frame(SETTINGS, ACK, 0, &[]));
                    }
                    // Its DATA, already sent, may earn it a second reset (STREAM_CLOSED).
                    (RST_STREAM, 3) if refused.is_none() => {
                        refused = Some(u32::from_be_bytes(payload[..4].try_into().unwrap()));
                    }
                    (RST_STREAM, 1) => panic!("stream 1 reset: {payload:?}"),
                    (DATA, 1) => reply_to_first.extend_from_slice(&payload),
                    (HEADERS, 1) if flags & END_STREAM != 0 => first_ended = true,
                    _ => {}
                }
            }
            // Once the second stream is refused, the first may end.
            if refused.is_some() && !first_sent {
                let message = hello_request("first");
                conn.send(&frame(DATA, END_STREAM, 1, &message));
                first_sent = true;
            }
        }
        assert_eq!(
            refused,
            Some(REFUSED_STREAM),
            "RST_STREAM's error code on stream 3"
        );
        assert!(
            reply_to_first.ends_with(b"Hello first"),
            "{:?}",
            String::from_utf8_lossy(&reply_to_first)
        );
    }
}

mod deadline {
    use super::*;

    fn slow_stream_server() -> Server {
        // 50 replies 100 ms apart: five seconds, far longer than the deadlines below.
        Server::start_on_loopback(&[
            "--stream-count",
            "50",
            "--stream-interval",
            "100ms",
            "--access-log",
        ])
    }

    #[test]
    fn the_server_ends_a_stream_at_its_grpc_timeout() {
        // The raw client sets no deadline of its own: only the server can end this call.
        let server = slow_stream_server();
        let mut conn = H2Conn::connect(&server.loopback());
        let exchange = conn.call(
            STREAM_REPLY,
            &[("grpc-timeout", "350m")],
            hello_request("slow"),
        );
        assert_eq!(exchange.grpc_status.as_deref(), Some("4"), "{exchange:?}");
        assert!(
            (1..=6).contains(&exchange.messages),
            "replies before the deadline: {exchange:?}"
        );
        assert!(exchange.elapsed < Duration::from_secs(3), "{exchange:?}");
        let log = server.stderr_when(|log| log.contains("DEADLINE_EXCEEDED"));
        assert!(
            log.contains("DEADLINE_EXCEEDED") && log.contains("code=4"),
            "{log}"
        );
    }

    #[test]
    fn a_stream_that_never_pauses_still_ends_at_its_deadline() {
        // A million replies with no pause between them: only the deadline can end this.
        let server =
            Server::start_on_loopback(&["--stream-count", "1000000", "--stream-interval", "0s"]);
        let mut conn = H2Conn::connect(&server.loopback());
        let exchange = conn.call(
            STREAM_REPLY,
            &[("grpc-timeout", "300m")],
            hello_request("busy"),
        );
        assert_eq!(exchange.grpc_status.as_deref(), Some("4"), "{exchange:?}");
        assert!(exchange.messages < 1_000_000, "{}", exchange.messages);
        assert!(exchange.elapsed < Duration::from_secs(5), "{exchange:?}");
    }

    #[test]
    fn a_deadline_before_the_reply_is_a_trailers_only_deadline_exceeded() {
        // The message's prefix promises five bytes that never come: the handler waits for them
        // until the deadline.
        let server = Server::start();
        let mut conn = H2Conn::connect(&server.loopback());
        let exchange = conn.call_with(
            SAY_HELLO,
            &[("grpc-timeout", "200m")],
            prefix_only(5),
            false,
        );
        assert_eq!(exchange.grpc_status.as_deref(), Some("4"), "{exchange:?}");
        assert!(
            exchange.headers.iter().any(|h| h == "grpc-status: 4"),
            "the status is in the headers: {exchange:?}"
        );
        assert_eq!(exchange.messages, 0);
        assert!(
            exchange.elapsed >= Duration::from_millis(200),
            "{exchange:?}"
        );
    }

    #[test]
    fn a_call_within_its_deadline_is_untouched() {
        let server =
            Server::start_on_loopback(&["--stream-count", "3", "--stream-interval", "10ms"]);
        let mut conn = H2Conn::connect(&server.loopback());
        let exchange = conn.call(STREAM_REPLY, &[("grpc-timeout", "5S")], hello_request("ok"));
        assert_eq!(exchange.grpc_status.as_deref(), Some("0"), "{exchange:?}");
        assert_eq!(exchange.messages, 3);
    }

    #[test]
    fn a_malformed_grpc_timeout_is_ignored() {
        // Three replies over 200 ms: a value misread as a short deadline would cut them.
        let server =
            Server::start_on_loopback(&["--stream-count", "3", "--stream-interval", "100ms"]);
        let mut conn = H2Conn::connect(&server.loopback());
        for malformed in ["soon", "1x", "123456789m", "5"] {
            let exchange = conn.call(
                STREAM_REPLY,
                &[("grpc-timeout", malformed)],
                hello_request("x"),
            );
            assert_eq!(
                exchange.grpc_status.as_deref(),
                Some("0"),
                "{malformed}: {exchange:?}"
            );
            assert_eq!(exchange.messages, 3, "{malformed}");
        }
    }
}

mod compression {
    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn header<'a>(exchange: &'a common::h2conn::Exchange, name: &str) -> Option<&'a str> {
        let prefix = format!("{name}: ");
        exchange
            .headers
            .iter()
            .find_map(|line| line.strip_prefix(&prefix))
    }

    #[test]
    fn a_gzip_request_gets_a_gzip_reply() {
        let server = Server::start();
        let mut conn = H2Conn::connect(&server.loopback());
        let message = hello_request("zipped");
        let body = framed(1, &gzip(&message[5..]));
        let exchange = conn.call(
            SAY_HELLO,
            &[
                ("grpc-encoding", "gzip"),
                ("grpc-accept-encoding", "zstd,gzip"),
            ],
            body,
        );
        assert_eq!(exchange.grpc_status.as_deref(), Some("0"), "{exchange:?}");
        assert_eq!(
            header(&exchange, "grpc-encoding"),
            Some("gzip"),
            "{exchange:?}"
        );
    }

    #[test]
    fn a_plain_request_gets_a_plain_reply_whatever_the_client_could_read() {
        let server = Server::start();
        let mut conn = H2Conn::connect(&server.loopback());
        let exchange = conn.call(
            SAY_HELLO,
            &[("grpc-accept-encoding", "gzip,zstd")],
            hello_request("plain"),
        );
        assert_eq!(exchange.grpc_status.as_deref(), Some("0"), "{exchange:?}");
        assert_eq!(header(&exchange, "grpc-encoding"), None, "{exchange:?}");
    }

    #[test]
    fn an_unsupported_encoding_is_unimplemented_and_names_the_supported_ones() {
        let server = Server::start();
        let mut conn = H2Conn::connect(&server.loopback());
        let exchange = conn.call(
            SAY_HELLO,
            &[("grpc-encoding", "snappy")],
            framed(1, b"whatever"),
        );
        assert_eq!(exchange.grpc_status.as_deref(), Some("12"), "{exchange:?}");
        let accepted = header(&exchange, "grpc-accept-encoding").unwrap_or_default();
        assert!(
            accepted.contains("gzip") && accepted.contains("zstd"),
            "{exchange:?}"
        );
    }

    #[test]
    fn greeter_hello_compresses_both_ways() {
        let server = Server::start();
        for encoding in ["gzip", "zstd"] {
            let out = server.hello(&["--compress", encoding, "-v", "squeezed"]);
            assert_eq!(out.stdout, "Hello squeezed\n", "{out:?}");
            // -v shows the reply's headers: it came back in the request's encoding.
            assert!(
                out.stderr.contains(&format!("< grpc-encoding: {encoding}")),
                "{}",
                out.stderr
            );
        }
        let plain = server.hello(&["-v", "plain"]);
        assert!(!plain.stderr.contains("grpc-encoding"), "{}", plain.stderr);
    }

    fn python_client(server: &Server, compression: &str) -> common::Outcome {
        Official::Python.call(
            &server.loopback(),
            &["--name", "py", "--compression", compression],
        )
    }

    #[test]
    fn the_official_python_client_sends_gzip() {
        let server = Server::start_on_loopback(&["--access-log"]);
        let out = python_client(&server, "gzip");
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(out.stdout, "Hello py\n");
    }

    #[test]
    fn the_official_python_client_sending_deflate_gets_unimplemented() {
        let server = Server::start();
        let out = python_client(&server, "deflate");
        assert_eq!(out.code, Some(64 + 12), "{out:?}");
        assert!(out.stderr.contains("UNIMPLEMENTED"), "{}", out.stderr);
        // Nothing was lost: the next call is served.
        assert_eq!(python_client(&server, "none").stdout, "Hello py\n");
    }
}
