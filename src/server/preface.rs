//! The first bytes of a connection: HTTP/2's preface goes on to hyper, and an HTTP/1 request
//! (`curl http://localhost:50051/`) gets a short, readable HTTP/1.1 answer instead of HTTP/2
//! SETTINGS bytes it cannot show.
//!
//! Anything else (a TLS ClientHello on a plaintext port, noise) also goes on to hyper, which
//! answers it as before: the client's own diagnosis of a plaintext server relies on that.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

/// What every HTTP/2 connection opens with (RFC 9113, section 3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The body of the answer to an HTTP/1 request.
const HTTP1_BODY: &str =
    "This port serves gRPC, which runs over HTTP/2; this request came in HTTP/1.
Call it with a gRPC client, for example:
  greeter hello --addr HOST:PORT NAME
  grpcurl -plaintext HOST:PORT list
";

/// grpc-go's HTTP handler answers an HTTP/1 request the same way: the server does not speak
/// the request's HTTP version.
fn http1_answer() -> String {
    format!(
        "HTTP/1.1 505 HTTP Version Not Supported\r\ncontent-type: text/plain; charset=utf-8\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{HTTP1_BODY}",
        HTTP1_BODY.len()
    )
}

/// How long an answered HTTP/1 client may go on sending before the connection is dropped:
/// closing with unread bytes would reset it, and the client might lose the answer.
const LINGER: Duration = Duration::from_secs(1);

/// What the connection's first bytes say it is.
#[derive(Debug, PartialEq, Eq)]
enum Opening {
    Http2,
    Http1,
    Other,
}

/// [`sniff`], given at most `timeout` (None: as long as the client likes): a client that has
/// not sent its first bytes by then is dropped.
pub async fn sniff_within<IO>(timeout: Option<Duration>, io: IO, peer: &str) -> Option<Rewind<IO>>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let Some(timeout) = timeout else {
        return sniff(io, peer).await;
    };
    let sniffed = tokio::time::timeout(timeout, sniff(io, peer)).await;
    sniffed.unwrap_or_else(|_| {
        tracing::debug!("{peer} sent no HTTP/2 preface within --request-timeout: closed");
        None
    })
}

/// Reads just enough of `io` to tell HTTP/2 from HTTP/1. HTTP/2 (and anything unknown) comes
/// back with the bytes read put back in front; an HTTP/1 client is answered and `None` comes
/// back. A client that leaves or fails before that also gives `None`.
pub async fn sniff<IO>(mut io: IO, peer: &str) -> Option<Rewind<IO>>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let mut read = Vec::with_capacity(PREFACE.len());
    let opening = loop {
        let opening = classify(&read);
        if opening != Opening::Http2 || read.len() == PREFACE.len() {
            break opening;
        }
        let mut chunk = [0; PREFACE.len()];
        // Cannot underflow or overrun: the loop ends once `read` is as long as the preface,
        // and it grows by at most `wanted`, since a read returns at most the buffer's length.
        let wanted = PREFACE.len() - read.len();
        match io.read(&mut chunk[..wanted]).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => read.extend_from_slice(&chunk[..n]),
        }
    };
    if opening == Opening::Http1 {
        tracing::info!("{peer} sent HTTP/1, not gRPC over HTTP/2: answered 505 and closed");
        answer_http1(io).await;
        return None;
    }
    Some(Rewind {
        prefix: read,
        offset: 0,
        inner: io,
    })
}

/// HTTP/2 as long as the bytes so far are the preface's; HTTP/1 when they start like a
/// request line (a method in capitals, as every HTTP/1 client sends it).
fn classify(read: &[u8]) -> Opening {
    if PREFACE.starts_with(read) {
        Opening::Http2
    } else if read.first().is_some_and(u8::is_ascii_uppercase) {
        Opening::Http1
    } else {
        Opening::Other
    }
}

async fn answer_http1<IO>(mut io: IO)
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    if io.write_all(http1_answer().as_bytes()).await.is_err() || io.shutdown().await.is_err() {
        return;
    }
    // Read what the client still sends until it closes too, for a bounded time.
    let mut sink = [0; 1024];
    let _ = tokio::time::timeout(LINGER, async {
        while matches!(io.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}

/// A stream whose first bytes, already read, are given out again before the rest.
pub struct Rewind<IO> {
    prefix: Vec<u8>,
    offset: usize,
    inner: IO,
}

impl<IO: AsyncRead + Unpin> AsyncRead for Rewind<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        // In range: `offset` is below the prefix's length here, and `n` at most what is left.
        if this.offset < this.prefix.len() {
            let rest = &this.prefix[this.offset..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.offset += n;
            if this.offset == this.prefix.len() {
                this.prefix = Vec::new();
                this.offset = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Rewind<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_opening_bytes_tell_the_protocol() {
        assert_eq!(classify(b""), Opening::Http2);
        assert_eq!(classify(b"PRI * HT"), Opening::Http2);
        assert_eq!(classify(PREFACE), Opening::Http2);
        for http1 in [
            &b"GET / HTTP/1.1\r\n"[..],
            b"POST",
            b"PRI * HTTP/1.1",
            b"HEAD",
        ] {
            assert_eq!(classify(http1), Opening::Http1, "{http1:?}");
        }
        // A TLS ClientHello on a plaintext port, and noise.
        for other in [&b"\x16\x03\x01\x02\x00"[..], b"\x00\x00", b"get / http/1.1"] {
            assert_eq!(classify(other), Opening::Other, "{other:?}");
        }
    }

    #[tokio::test]
    async fn http2_bytes_are_given_out_again_in_order() {
        let (client, server) = tokio::io::duplex(64);
        let (mut client_read, mut client_write) = tokio::io::split(client);
        let writer = tokio::spawn(async move {
            // The preface in two pieces, then a frame.
            client_write.write_all(&PREFACE[..5]).await.unwrap();
            client_write.write_all(&PREFACE[5..]).await.unwrap();
            client_write.write_all(b"frame").await.unwrap();
            client_write.shutdown().await.unwrap();
        });
        let mut rewound = sniff(server, "test").await.expect("HTTP/2");
        let mut all = Vec::new();
        rewound.read_to_end(&mut all).await.unwrap();
        writer.await.unwrap();
        assert_eq!(all, [PREFACE, b"frame"].concat());
        drop(rewound);
        let mut nothing = Vec::new();
        client_read.read_to_end(&mut nothing).await.unwrap();
        assert!(nothing.is_empty());
    }

    #[tokio::test]
    async fn an_http1_request_is_answered_and_closed() {
        let (mut client, server) = tokio::io::duplex(4096);
        client
            .write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let sniffed = tokio::spawn(async move { sniff(server, "test").await.is_none() });
        let mut answer = Vec::new();
        client.read_to_end(&mut answer).await.unwrap();
        drop(client);
        assert!(sniffed.await.unwrap());
        let answer = String::from_utf8(answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 505 "), "{head}");
        assert!(head.ends_with(&format!("\r\ncontent-length: {}", body.len())));
        assert_eq!(body, HTTP1_BODY);
    }
}
