//! The channel of each replica of a repeated run: gRPC over h2 itself rather than tonic's
//! `Channel`. That one is a tower `Buffer` (a queue, a worker task and a oneshot per call) in
//! front of hyper's HTTP/2 client, which spawns two tasks per request: a load generator paid
//! for all of it on every call (BENCHMARKS.md, "greeter as a load generator"). Here a call
//! opens its stream on the connection's h2 handle and reads the response in its own task; the
//! connection is driven by one task of its own. tonic's `Grpc` still encodes, compresses,
//! decodes and reads the status, so a call behaves as it did.
//!
//! Like tonic's lazy channel, a channel connects at its first call, and again at the next call
//! after its connection broke or was told to go away (the calls in flight finish on the old
//! one); every call waiting for an attempt to connect gets its outcome, and the dialer's
//! `Reconnect` spaces out attempts that fail. The HTTP/2 settings and keepalive are hyper's, as
//! tonic sets them. Failures read as tonic reports hyper's (same codes and messages), with an
//! [`Http2Failure`] where the hyper error was, so `failure` and `repeat` name them the same.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker, ready};
use std::time::Duration;

use bytes::Bytes;
use h2::client::{Connection, ResponseFuture, SendRequest};
use h2::{Ping, PingPong, Reason, RecvStream, SendStream};
use http::HeaderValue;
use http::header::USER_AGENT;
use http_body::{Body, Frame};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use tokio::time::Instant;
use tonic::Status;

use super::transport::Stream;
pub use call::{CallFuture, H2Body};
pub use failure::Http2Failure;
use failure::{ConnectFailed, Kind};

/// Opens one connection: TCP or a Unix socket, then TLS or the plaintext sniffer.
pub type Dial = Box<
    dyn Fn() -> Pin<Box<dyn Future<Output = io::Result<Box<dyn Stream>>> + Send>> + Send + Sync,
>;

/// HTTP/2 keepalive: a PING once `interval` has passed without a frame while calls are in
/// flight, and the connection given up if no answer comes within `timeout` (hyper's rule).
#[derive(Debug, Clone, Copy)]
pub struct KeepAlive {
    pub interval: Duration,
    pub timeout: Duration,
}

/// How a channel connects.
pub struct Settings {
    pub keepalive: Option<KeepAlive>,
    /// Bounds each attempt's dial (TCP and TLS), as `Endpoint::connect_timeout` does.
    pub connect_timeout: Option<Duration>,
    pub user_agent: HeaderValue,
}

/// A channel to one replica; clones share its connection.
pub struct H2Channel {
    shared: Arc<Shared>,
    /// What `poll_ready` found for the `call` that follows it.
    next: Next,
    /// The attempt to connect this clone waits for.
    waiting: Option<u64>,
}

enum Next {
    Nothing,
    Send(SendRequest<Bytes>, Arc<Link>),
    Fail(Status),
}

struct Shared {
    dial: Dial,
    settings: Settings,
    state: Mutex<State>,
    /// Dropped with the last clone of the channel: its connections' tasks then end.
    closed: watch::Sender<()>,
}

struct State {
    conn: Conn,
    /// Attempts to connect so far; the last one is the one under way.
    attempts: u64,
    /// The last attempt that failed, and how.
    failed: Option<(u64, Status)>,
    /// Calls waiting for the attempt under way.
    waiters: Vec<Waker>,
}

enum Conn {
    Idle,
    Connecting,
    Ready(SendRequest<Bytes>, Arc<Link>),
}

impl H2Channel {
    pub fn new(dial: Dial, settings: Settings) -> H2Channel {
        let (closed, _) = watch::channel(());
        H2Channel {
            shared: Arc::new(Shared {
                dial,
                settings,
                state: Mutex::new(State {
                    conn: Conn::Idle,
                    attempts: 0,
                    failed: None,
                    waiters: Vec::new(),
                }),
                closed,
            }),
            next: Next::Nothing,
            waiting: None,
        }
    }
}

impl Clone for H2Channel {
    fn clone(&self) -> Self {
        H2Channel {
            shared: Arc::clone(&self.shared),
            next: Next::Nothing,
            waiting: None,
        }
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind: still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl tower::Service<http::Request<tonic::body::Body>> for H2Channel {
    type Response = http::Response<H2Body>;
    type Error = Status;
    type Future = CallFuture;

    /// Ready once the connection is up (connecting first if there is none), or once the attempt
    /// to connect failed: the call then fails with its error, as tonic's lazy channel does.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
        if !matches!(self.next, Next::Nothing) {
            return Poll::Ready(Ok(()));
        }
        let shared = Arc::clone(&self.shared);
        let mut state = shared.state();
        loop {
            // The attempt this call waited for failed (or a later one did, after it): the
            // call fails with it. A connection that is up is taken first.
            if !matches!(state.conn, Conn::Ready(..))
                && let (Some(waiting), Some((failed, status))) = (self.waiting, &state.failed)
                && *failed >= waiting
            {
                self.next = Next::Fail(status.clone());
                self.waiting = None;
                return Poll::Ready(Ok(()));
            }
            match &mut state.conn {
                Conn::Ready(send, link) => match send.poll_ready(cx) {
                    Poll::Ready(Ok(())) => {
                        self.next = Next::Send(send.clone(), Arc::clone(link));
                        self.waiting = None;
                        return Poll::Ready(Ok(()));
                    }
                    // Closed, or told to go away: the calls in flight finish on it, new ones
                    // go on a new connection.
                    Poll::Ready(Err(_)) => state.conn = Conn::Idle,
                    // The shared handle opens no stream, so it never waits for one to open.
                    Poll::Pending => return Poll::Pending,
                },
                Conn::Idle => {
                    state.attempts += 1;
                    state.conn = Conn::Connecting;
                    tokio::spawn(connect(Arc::clone(&self.shared), state.attempts));
                }
                Conn::Connecting => {
                    if self.waiting.is_none() {
                        self.waiting = Some(state.attempts);
                    }
                    if !state.waiters.iter().any(|w| w.will_wake(cx.waker())) {
                        state.waiters.push(cx.waker().clone());
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> CallFuture {
        let (mut send, link) = match std::mem::replace(&mut self.next, Next::Nothing) {
            Next::Send(send, link) => (send, link),
            Next::Fail(status) => return CallFuture::failed(status),
            Next::Nothing => {
                return CallFuture::failed(Status::internal(
                    "a call on a channel that was not ready",
                ));
            }
        };
        let (parts, body) = request.into_parts();
        let mut head = http::Request::from_parts(parts, ());
        head.headers_mut()
            .insert(USER_AGENT, self.shared.settings.user_agent.clone());
        match send.send_request(head, false) {
            Ok((response, stream)) => CallFuture::sending(response, stream, body, link),
            // The connection closed between `poll_ready` and now: nothing was sent.
            Err(err) => CallFuture::failed(Http2Failure::of(err, Kind::Canceled, None)),
        }
    }
}

/// One attempt to connect, in a task of its own so that no call's deadline cuts it short; its
/// outcome goes to every call waiting for it.
async fn connect(shared: Arc<Shared>, attempt: u64) {
    let outcome = open(&shared).await;
    let mut state = shared.state();
    match outcome {
        Ok((send, link)) => state.conn = Conn::Ready(send, link),
        Err(status) => {
            state.conn = Conn::Idle;
            state.failed = Some((attempt, status));
        }
    }
    for waiter in state.waiters.drain(..) {
        waiter.wake();
    }
}

/// Dials, shakes hands and starts the connection's task.
async fn open(shared: &Shared) -> Result<(SendRequest<Bytes>, Arc<Link>), Status> {
    let dialing = (shared.dial)();
    let dialed = match shared.settings.connect_timeout {
        Some(limit) => tokio::time::timeout(limit, dialing)
            .await
            .unwrap_or_else(|elapsed| Err(io::Error::new(io::ErrorKind::TimedOut, elapsed))),
        None => dialing.await,
    };
    let stream = dialed.map_err(ConnectFailed::status)?;
    let keepalive = shared.settings.keepalive;
    let link = Arc::new(Link::new());
    let io: Box<dyn Stream> = match keepalive {
        Some(_) => Box::new(Reads {
            inner: stream,
            link: Arc::clone(&link),
        }),
        None => stream,
    };
    let (send, connection) = builder()
        .handshake::<_, Bytes>(io)
        .await
        .map_err(|err| Http2Failure::of(err, Kind::Http2, None))?;
    let closed = shared.closed.subscribe();
    tokio::spawn(drive(connection, closed, Arc::clone(&link), keepalive));
    Ok((send, link))
}

/// hyper's HTTP/2 client settings, which tonic leaves as they are.
fn builder() -> h2::client::Builder {
    let mut builder = h2::client::Builder::new();
    builder
        .initial_max_send_streams(100)
        .initial_window_size(2 << 20)
        .initial_connection_window_size(5 << 20)
        .max_frame_size(16 << 10)
        .max_header_list_size(16 << 10)
        .max_send_buffer_size(1 << 20)
        .max_local_error_reset_streams(Some(1024))
        .enable_push(false);
    builder
}

/// Runs the connection until it ends, the channel is dropped, or a keepalive PING goes
/// unanswered (dropping it then fails the calls in flight).
async fn drive(
    mut connection: Connection<Box<dyn Stream>, Bytes>,
    mut closed: watch::Receiver<()>,
    link: Arc<Link>,
    keepalive: Option<KeepAlive>,
) {
    let pings = keepalive.and_then(|keepalive| Some((connection.ping_pong()?, keepalive)));
    let pinging = async {
        match pings {
            Some((ping, keepalive)) => keep_alive(ping, keepalive, &link).await,
            None => std::future::pending().await,
        }
    };
    // Each time it runs, the task writes what the calls queued.
    let running = std::future::poll_fn(|cx| {
        link.unwritten.store(0, Ordering::Relaxed);
        Pin::new(&mut connection).poll(cx)
    });
    tokio::select! {
        ended = running => {
            if let Err(err) = ended {
                tracing::debug!("connection error: {err}");
            }
        }
        // Never sent to: it returns once the sender is dropped.
        _ = closed.changed() => {}
        () = pinging => tracing::debug!("keep-alive timed out"),
    }
}

/// Returns when a PING went unanswered (or could not be sent: the connection is ending).
async fn keep_alive(mut ping: PingPong, keepalive: KeepAlive, link: &Link) {
    loop {
        let due = link.last_read() + keepalive.interval;
        tokio::time::sleep_until(due).await;
        if link.last_read() + keepalive.interval > due {
            continue; // A frame came meanwhile.
        }
        if link.in_flight.load(Ordering::Relaxed) == 0 {
            // No PINGs on an idle connection (grpc-go servers punish them): look again later.
            tokio::time::sleep(keepalive.interval).await;
            continue;
        }
        match tokio::time::timeout(keepalive.timeout, ping.ping(Ping::opaque())).await {
            Ok(Ok(_pong)) => {}
            Ok(Err(_)) => return,
            Err(_) => {
                link.timed_out.store(true, Ordering::Relaxed);
                return;
            }
        }
    }
}

/// What a connection's task and its calls share.
struct Link {
    /// Requests queued since the task last ran (and wrote what was queued).
    unwritten: AtomicUsize,
    // For the keepalive:
    epoch: Instant,
    /// When the last bytes were read, in nanoseconds since `epoch`.
    last_read: AtomicU64,
    in_flight: AtomicUsize,
    /// A PING went unanswered: the calls that fail on this connection say so.
    timed_out: AtomicBool,
}

impl Link {
    fn new() -> Link {
        Link {
            unwritten: AtomicUsize::new(0),
            epoch: Instant::now(),
            last_read: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            timed_out: AtomicBool::new(false),
        }
    }

    fn last_read(&self) -> Instant {
        self.epoch + Duration::from_nanos(self.last_read.load(Ordering::Relaxed))
    }

    fn read_now(&self) {
        let since = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.last_read.store(since, Ordering::Relaxed);
    }
}

/// A call in flight, for the keepalive: from its request until its response body is dropped.
struct Active(Arc<Link>);

impl Active {
    fn new(link: Arc<Link>) -> Active {
        link.in_flight.fetch_add(1, Ordering::Relaxed);
        Active(link)
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The connection's stream, noting when it last read something (only with keepalive).
struct Reads {
    inner: Box<dyn Stream>,
    link: Arc<Link>,
}

impl AsyncRead for Reads {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = ready!(Pin::new(&mut self.inner).poll_read(cx, buf));
        if buf.filled().len() > before {
            self.link.read_now();
        }
        Poll::Ready(result)
    }
}

impl AsyncWrite for Reads {
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

mod call;
mod failure;
#[cfg(test)]
mod tests;
