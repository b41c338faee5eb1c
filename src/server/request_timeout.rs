//! How long a client may take to send what it started (--request-timeout), so a slow or
//! stalled client (slowloris) holds its connection or call for a bounded time:
//!
//! - a header block left unfinished (HEADERS without END_HEADERS, and no CONTINUATION that
//!   ends it) closes the connection: h2 cannot read anything else on it meanwhile;
//! - the request message of a call whose request is one message (every method but bidi
//!   streaming and reflection) must be complete in time, or the call ends DEADLINE_EXCEEDED
//!   (`conformance` times it: such a call's handler answers as soon as it has its message, so
//!   a response still pending is a request still coming).
//!
//! The header blocks are followed by reading only the nine-byte frame headers as they pass; no
//! clock is read unless a block is left open at the end of a frame, which real clients never
//! do. A call is timed only once it has kept the server waiting.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// The preface every HTTP/2 client sends before its first frame.
const PREFACE_LEN: usize = 24;
const HEADERS: u8 = 0x1;
const CONTINUATION: u8 = 0x9;
const END_HEADERS: u8 = 0x4;

/// Whether a header block is open on a connection, shared by its reads and its lifecycle.
#[derive(Default)]
pub struct HeaderBlocks {
    open: AtomicBool,
    opened: Notify,
}

impl HeaderBlocks {
    /// Resolves when a header block has stayed open for `timeout` (never without one).
    pub async fn stalled_for(&self, timeout: Option<Duration>) {
        let Some(timeout) = timeout else {
            return std::future::pending().await;
        };
        loop {
            let opened = self.opened.notified();
            if !self.open.load(Ordering::Acquire) {
                opened.await;
                continue;
            }
            tokio::time::sleep(timeout).await;
            // Still open after the timeout: stalled (a block that closed and another that
            // opened meanwhile only gains time, which is harmless).
            if self.open.load(Ordering::Acquire) {
                return;
            }
        }
    }

    fn set(&self, open: bool) {
        if self.open.swap(open, Ordering::AcqRel) != open && open {
            self.opened.notify_one();
        }
    }
}

pin_project_lite::pin_project! {
    /// A connection's reads, followed frame by frame for the header blocks they open and
    /// close; writes pass through.
    pub struct WatchedHeaders<IO> {
        #[pin]
        io: IO,
        blocks: Arc<HeaderBlocks>,
        // Bytes still to pass before the next frame header: the preface, then payloads.
        skip: usize,
        header: [u8; 9],
        have: usize,
    }
}

impl<IO> WatchedHeaders<IO> {
    /// `io` from its first byte, the client's preface.
    pub fn new(io: IO, blocks: Arc<HeaderBlocks>) -> Self {
        WatchedHeaders {
            io,
            blocks,
            skip: PREFACE_LEN,
            header: [0; 9],
            have: 0,
        }
    }
}

/// Follows `bytes`, the next bytes read, from frame header to frame header.
fn follow(
    skip: &mut usize,
    header: &mut [u8; 9],
    have: &mut usize,
    blocks: &HeaderBlocks,
    mut bytes: &[u8],
) {
    while !bytes.is_empty() {
        if *skip > 0 {
            let passed = (*skip).min(bytes.len());
            *skip -= passed;
            bytes = &bytes[passed..];
            continue;
        }
        // A frame header is nearly always whole in one read: read it in place.
        let frame: [u8; 9] = match bytes.first_chunk::<9>() {
            Some(whole) if *have == 0 => {
                bytes = &bytes[9..];
                *whole
            }
            _ => {
                // In range: `have` is below 9 here (it is reset on reaching 9), and `taken` is
                // at most what is left of both the header and `bytes`.
                let taken = (9 - *have).min(bytes.len());
                header[*have..*have + taken].copy_from_slice(&bytes[..taken]);
                *have += taken;
                bytes = &bytes[taken..];
                if *have < 9 {
                    return;
                }
                *have = 0;
                *header
            }
        };
        *skip = usize::from(frame[0]) << 16 | usize::from(frame[1]) << 8 | usize::from(frame[2]);
        let (kind, flags) = (frame[3], frame[4]);
        if kind == HEADERS || kind == CONTINUATION {
            blocks.set(flags & END_HEADERS == 0);
        }
    }
}

impl<IO: AsyncRead> AsyncRead for WatchedHeaders<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        ready!(this.io.poll_read(cx, buf))?;
        // Cannot fail: a read only adds to what `buf` holds (AsyncRead's contract, kept by the
        // socket and TLS streams below), so `before` is within it.
        follow(
            this.skip,
            this.header,
            this.have,
            this.blocks,
            &buf.filled()[before..],
        );
        Poll::Ready(Ok(()))
    }
}

super::metered_io::forward_writes!(WatchedHeaders);

/// Whether the request of the method at `path` is one message, and so must arrive in time.
pub fn request_is_one_message(path: &str) -> bool {
    matches!(
        path,
        "/helloworld.Greeter/SayHello"
            | "/helloworld.Greeter/SayHelloStreamReply"
            | "/grpc.health.v1.Health/Check"
            | "/grpc.health.v1.Health/Watch"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_header(kind: u8, flags: u8, len: usize) -> Vec<u8> {
        let mut header = (len as u32).to_be_bytes()[1..].to_vec();
        header.extend_from_slice(&[kind, flags, 0, 0, 0, 1]);
        header
    }

    /// Feeds `bytes` in `chunk`-byte reads: whether a header block is open at the end.
    fn open_after(bytes: &[u8], chunk: usize) -> bool {
        let blocks = HeaderBlocks::default();
        let (mut skip, mut header, mut have) = (PREFACE_LEN, [0; 9], 0);
        for piece in bytes.chunks(chunk) {
            follow(&mut skip, &mut header, &mut have, &blocks, piece);
        }
        blocks.open.load(Ordering::Acquire)
    }

    #[test]
    fn header_blocks_are_followed_across_any_split_of_the_reads() {
        let mut opened = vec![b'P'; PREFACE_LEN];
        opened.extend(frame_header(0x4, 0, 6));
        opened.extend([0; 6]);
        opened.extend(frame_header(HEADERS, 0, 3));
        opened.extend([1, 2, 3]);
        let mut closed = opened.clone();
        closed.extend(frame_header(CONTINUATION, END_HEADERS, 2));
        closed.extend([4, 5]);
        let mut whole = closed.clone();
        whole.extend(frame_header(HEADERS, END_HEADERS | 0x1, 1));
        whole.extend([6]);
        for chunk in [1, 2, 5, 9, 1000] {
            assert!(open_after(&opened, chunk), "open, read {chunk} at a time");
            assert!(
                !open_after(&closed, chunk),
                "closed, read {chunk} at a time"
            );
            assert!(!open_after(&whole, chunk), "whole, read {chunk} at a time");
        }
    }

    #[test]
    fn only_methods_whose_request_is_one_message_are_timed() {
        assert!(request_is_one_message("/helloworld.Greeter/SayHello"));
        assert!(request_is_one_message("/grpc.health.v1.Health/Watch"));
        assert!(!request_is_one_message(
            "/helloworld.Greeter/SayHelloBidiStream"
        ));
        assert!(!request_is_one_message(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
        ));
    }
}
