//! HTTP/2 by hand, frame by frame, for tests that must send or withhold what no HTTP/2 library
//! would (a client that never answers a PING, a server that never answers anything, streams
//! past the limit in one burst): the preface, frames, and a reader of the frames that come.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

/// What a client sends first (RFC 9113 §3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Frame types, as RFC 9113 numbers them.
pub const DATA: u8 = 0x0;
pub const HEADERS: u8 = 0x1;
pub const RST_STREAM: u8 = 0x3;
pub const SETTINGS: u8 = 0x4;
pub const PING: u8 = 0x6;
pub const GOAWAY: u8 = 0x7;
pub const CONTINUATION: u8 = 0x9;

/// Flags: ACK (SETTINGS, PING), END_STREAM (DATA, HEADERS), END_HEADERS (HEADERS).
pub const ACK: u8 = 0x1;
pub const END_STREAM: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;

/// One frame: its nine-byte header, then `payload`.
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut frame = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    frame.extend_from_slice(&[kind, flags]);
    frame.extend_from_slice(&stream.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// The client preface followed by an empty SETTINGS frame: all a client must say.
pub fn client_hello() -> Vec<u8> {
    let mut hello = PREFACE.to_vec();
    hello.extend(frame(SETTINGS, 0, 0, &[]));
    hello
}

/// An HPACK integer with an `prefix`-bit prefix, its first byte's high bits set to `first`
/// (RFC 7541 §5.1).
fn hpack_integer(out: &mut Vec<u8>, first: u8, prefix: u32, value: usize) {
    let max = (1usize << prefix) - 1;
    if value < max {
        out.push(first | value as u8);
        return;
    }
    out.push(first | max as u8);
    let mut rest = value - max;
    while rest >= 0x80 {
        out.push((rest as u8 & 0x7f) | 0x80);
        rest >>= 7;
    }
    out.push(rest as u8);
}

/// An HPACK string literal, not Huffman-coded.
fn hpack_string(out: &mut Vec<u8>, text: &[u8]) {
    hpack_integer(out, 0, 7, text.len());
    out.extend_from_slice(text);
}

/// The HPACK block of a gRPC POST to `path`, and `extra` headers, every field a literal never
/// indexed (no dynamic table, so any number of blocks can be sent in any order).
pub fn request_headers(path: &str, extra: &[(&str, &[u8])]) -> Vec<u8> {
    let mut block = Vec::new();
    let mut field = |name: &[u8], value: &[u8]| {
        block.push(0x10);
        hpack_string(&mut block, name);
        hpack_string(&mut block, value);
    };
    field(b":method", b"POST");
    field(b":scheme", b"http");
    field(b":path", path.as_bytes());
    field(b":authority", b"localhost");
    field(b"content-type", b"application/grpc");
    field(b"te", b"trailers");
    for (name, value) in extra {
        field(name.as_bytes(), value);
    }
    block
}

/// A frame as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub kind: u8,
    pub flags: u8,
    /// The stream, its reserved bit cleared.
    pub stream: u32,
    pub payload: Vec<u8>,
}

/// What one [`FrameReader::read`] brought.
#[derive(Debug)]
pub enum Received {
    /// The whole frames that have come (maybe none yet: part of one).
    Frames(Vec<Frame>),
    /// The peer closed the connection, or reset it.
    Closed,
    /// Nothing came before the deadline, or the read failed otherwise.
    Silent,
}

/// One end of a connection, sending bytes and reading whole frames.
pub struct FrameReader {
    tcp: TcpStream,
    bytes: Vec<u8>,
    /// On a server's end: the client preface is still to be read (and checked).
    preface_pending: bool,
}

impl FrameReader {
    /// A client's end of `tcp`: frames from the first byte.
    pub fn client(tcp: TcpStream) -> FrameReader {
        FrameReader {
            tcp,
            bytes: Vec::new(),
            preface_pending: false,
        }
    }

    /// A server's end of `tcp`: the client preface first, then frames.
    pub fn server(tcp: TcpStream) -> FrameReader {
        FrameReader {
            preface_pending: true,
            ..FrameReader::client(tcp)
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.tcp.write_all(bytes).unwrap();
    }

    /// Sends `bytes` unless the peer stops taking them (nothing moves for a second, or it
    /// closed the connection): for floods, which a server may rightly refuse to read.
    pub fn try_send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.tcp
            .set_write_timeout(Some(std::time::Duration::from_secs(1)))?;
        self.tcp.write_all(bytes)
    }

    /// Reads once, waiting at most until `deadline`.
    pub fn read(&mut self, deadline: Instant) -> Received {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Received::Silent;
        }
        self.tcp.set_read_timeout(Some(left)).unwrap();
        let mut buffer = [0; 4096];
        match self.tcp.read(&mut buffer) {
            Ok(0) => Received::Closed,
            Ok(read) => {
                self.bytes.extend_from_slice(&buffer[..read]);
                Received::Frames(self.take_frames())
            }
            Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => Received::Closed,
            Err(_) => Received::Silent,
        }
    }

    /// Takes the whole frames read so far, leaving a partial one for the next read.
    fn take_frames(&mut self) -> Vec<Frame> {
        if self.preface_pending {
            let have = self.bytes.len().min(PREFACE.len());
            assert!(PREFACE.starts_with(&self.bytes[..have]), "no preface");
            if have < PREFACE.len() {
                return Vec::new();
            }
            self.bytes.drain(..PREFACE.len());
            self.preface_pending = false;
        }
        let mut frames = Vec::new();
        while self.bytes.len() >= 9 {
            let bytes = &self.bytes;
            let len = u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]) as usize;
            if bytes.len() < 9 + len {
                break;
            }
            frames.push(Frame {
                kind: bytes[3],
                flags: bytes[4],
                stream: u32::from_be_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]) & !(1 << 31),
                payload: bytes[9..9 + len].to_vec(),
            });
            self.bytes.drain(..9 + len);
        }
        frames
    }
}
