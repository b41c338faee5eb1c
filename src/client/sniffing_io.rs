//! IO wrappers that notice why a connection broke, for [`super::diagnosis`].
//!
//! Both sit on the hot path of `--count` runs, so each read costs one branch once the first
//! bytes are checked, and nothing is recorded unless something goes wrong.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::destination::Destination;
use super::diagnosis::{self, Dialed, Trouble, Troubles};
use super::reconnect::Reconnect;

/// Writes go straight through; a failed one is passed to the wrapper's `note`.
macro_rules! forward_writes_noting_errors {
    ($wrapper:ident) => {
        impl<S: AsyncWrite + Unpin> AsyncWrite for $wrapper<S> {
            fn poll_write(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                let result = Pin::new(&mut self.inner).poll_write(cx, buf);
                self.note(result)
            }

            fn poll_write_vectored(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[io::IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
                self.note(result)
            }

            fn is_write_vectored(&self) -> bool {
                self.inner.is_write_vectored()
            }

            fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                let result = Pin::new(&mut self.inner).poll_flush(cx);
                self.note(result)
            }

            fn poll_shutdown(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<io::Result<()>> {
                Pin::new(&mut self.inner).poll_shutdown(cx)
            }
        }
    };
}

/// A plaintext connection that checks the first bytes the server sends. A TLS server answers
/// our HTTP/2 preface with an alert (0x15) or, rarely, a handshake record (0x16), then the
/// version's major byte 0x03; h2 would read that as a frame of absurd length and report only a
/// "frame size" error, so the read fails here instead, saying the server speaks TLS. A server
/// that answers with a GOAWAY letting no stream in has refused the connection. Only a server
/// that answers HTTP/2 otherwise counts as connected, for the channel's backoff.
pub struct Sniffer<S> {
    inner: S,
    /// Until the server has sent its first byte.
    checking: bool,
    peer: Dialed,
    troubles: Troubles,
    destination: Destination,
    reconnect: Reconnect,
}

impl<S> Sniffer<S> {
    pub fn new(
        inner: S,
        peer: Dialed,
        troubles: Troubles,
        destination: Destination,
        reconnect: Reconnect,
    ) -> Self {
        Sniffer {
            inner,
            checking: true,
            peer,
            troubles,
            destination,
            reconnect,
        }
    }

    /// The server closed or reset the connection before sending a byte.
    fn closed_silently(&self) {
        let trouble = self.peer.closed_silently(&self.destination);
        self.failed(trouble.clone());
        self.troubles.record(trouble);
    }

    /// The connection is no good: the channel's next attempt waits its pause.
    fn failed(&self, trouble: Trouble) {
        self.reconnect
            .failed(&trouble.into_io(io::ErrorKind::ConnectionRefused));
    }

    fn note<T>(&self, result: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if self.checking
            && let Poll::Ready(Err(err)) = &result
            && matches!(
                err.kind(),
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
            )
        {
            self.closed_silently();
        }
        result
    }
}

/// A server's opening that lets no stream in: its SETTINGS, then a GOAWAY whose last stream
/// is 0. The GOAWAY's code and debug data.
fn refusal(first: &[u8]) -> Option<(u32, &[u8])> {
    let (settings, _, rest) = frame(first)?;
    let (goaway, payload, _) = frame(rest)?;
    if settings != 0x4 || goaway != 0x7 {
        return None;
    }
    let (last_stream, rest) = payload.split_first_chunk::<4>()?;
    let (code, debug) = rest.split_first_chunk::<4>()?;
    (u32::from_be_bytes(*last_stream) & 0x7fff_ffff == 0)
        .then(|| (u32::from_be_bytes(*code), debug))
}

/// The first whole HTTP/2 frame of `bytes`: its type, its payload, and what follows it.
fn frame(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    // `header` is an array: indexing it with constants below 9 is checked at compile time.
    let (header, rest) = bytes.split_first_chunk::<9>()?;
    let length =
        usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
    let (payload, rest) = rest.split_at_checked(length)?;
    Some((header[3], payload, rest))
}

/// Whether the first bytes a server sent are a TLS record's start.
fn looks_like_tls(first: &[u8]) -> bool {
    matches!(first, [0x15 | 0x16] | [0x15 | 0x16, 0x03, ..])
}

impl<S: AsyncRead + Unpin> AsyncRead for Sniffer<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if !this.checking {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        let before = buf.filled().len();
        let result = ready!(Pin::new(&mut this.inner).poll_read(cx, buf));
        // Cannot fail: a read only adds to what `buf` holds (AsyncRead's contract, kept by the
        // socket streams below), so `before` is within it.
        let new = &buf.filled()[before..];
        let (received, tls) = (!new.is_empty(), looks_like_tls(new));
        match &result {
            Ok(()) if !received => this.closed_silently(),
            Ok(()) => {
                this.checking = false;
                if tls {
                    let trouble = this.peer.speaks_tls();
                    this.failed(trouble.clone());
                    this.troubles.record(trouble.clone());
                    buf.set_filled(before);
                    return Poll::Ready(Err(trouble.into_io(io::ErrorKind::InvalidData)));
                }
                match refusal(new) {
                    Some((code, why)) => {
                        let reason = format!("{:?}", h2::Reason::from(code));
                        let why = String::from_utf8_lossy(why);
                        let trouble = Trouble::new(diagnosis::refused_by_goaway(&reason, &why));
                        this.failed(trouble.clone());
                        this.troubles.record(trouble);
                    }
                    None => this.reconnect.connected(),
                }
            }
            Err(err) if err.kind() == io::ErrorKind::ConnectionReset => this.closed_silently(),
            Err(_) => {}
        }
        Poll::Ready(result)
    }
}

forward_writes_noting_errors!(Sniffer);

/// An established TLS connection that records a TLS failure after the handshake: a TLS 1.3
/// server checks our client certificate only once we have sent our last handshake message, and
/// its alert arrives with the first read of the call.
///
/// Some servers (grpc-core's BoringSSL) send no alert at all: they close the connection. A
/// connection that asked for a client certificate and closes before the server has sent any
/// data is taken as one that refused ours (or its absence).
pub struct Watched<S> {
    inner: S,
    peer: Dialed,
    troubles: Troubles,
    /// Whether a server asked for a client certificate.
    asked: Arc<AtomicBool>,
    /// Until the server's first application data arrives.
    silent: bool,
}

impl<S> Watched<S> {
    pub fn new(inner: S, peer: Dialed, troubles: Troubles, asked: Arc<AtomicBool>) -> Self {
        Watched {
            inner,
            peer,
            troubles,
            asked,
            silent: true,
        }
    }

    fn note<T>(&self, result: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if let Poll::Ready(Err(err)) = &result {
            self.failed(err);
        }
        result
    }

    fn failed(&self, err: &io::Error) {
        if err.kind() == io::ErrorKind::InvalidData {
            self.troubles.record(self.peer.tls_failure(err, false));
        } else if self.silent && self.asked.load(Ordering::Relaxed) {
            self.troubles
                .record(self.peer.closed_after_asking_for_a_certificate());
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = ready!(Pin::new(&mut self.inner).poll_read(cx, buf));
        match &result {
            Ok(()) if buf.filled().len() > before => self.silent = false,
            // A TLS stream reports a close without close_notify as UnexpectedEof; a clean
            // end of stream this early is the same refusal.
            Ok(()) if self.silent => self.failed(&io::ErrorKind::UnexpectedEof.into()),
            Ok(()) => {}
            Err(err) => self.failed(err),
        }
        Poll::Ready(result)
    }
}

forward_writes_noting_errors!(Watched);

#[cfg(test)]
mod tests;
