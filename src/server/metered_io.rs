//! A connection that keeps its worker's connection metrics up to date for as long as it lives.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::metrics::WorkerMetrics;

pin_project_lite::pin_project! {
    /// `io`, counted as open from its creation until it is dropped (when there are metrics).
    pub struct Metered<IO> {
        #[pin]
        io: IO,
        metrics: Option<WorkerMetrics>,
    }

    impl<IO> PinnedDrop for Metered<IO> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(metrics) = &this.metrics {
                metrics.connection_closed();
            }
        }
    }
}

impl<IO> Metered<IO> {
    pub fn new(io: IO, metrics: Option<WorkerMetrics>) -> Self {
        if let Some(metrics) = &metrics {
            metrics.connection_opened();
        }
        Metered { io, metrics }
    }
}

impl<IO: AsyncRead> AsyncRead for Metered<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.project().io.poll_read(cx, buf)
    }
}

/// Writes that go straight to the wrapper's `io` field: for the server's IO wrappers, which
/// only look at what is read, or at nothing.
macro_rules! forward_writes {
    ($wrapper:ident) => {
        impl<IO: AsyncWrite> AsyncWrite for $wrapper<IO> {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.project().io.poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[io::IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                self.project().io.poll_write_vectored(cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                self.io.is_write_vectored()
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.project().io.poll_flush(cx)
            }

            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.project().io.poll_shutdown(cx)
            }
        }
    };
}
pub(super) use forward_writes;

forward_writes!(Metered);
