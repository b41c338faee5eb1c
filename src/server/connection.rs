//! One HTTP/2 connection from accept to close, with the lifecycle grpc-go gives its
//! connections: keepalive pings, a limit on concurrent streams, a GOAWAY after
//! `--max-connection-idle` without calls or at `--max-connection-age` (then a hard close after
//! the grace), and a graceful GOAWAY when the server drains.
//!
//! tonic's `Server` offers some of this but not idleness, and with an age grace it closes the
//! connection without a GOAWAY first; so each worker drives hyper itself.

use std::future::poll_fn;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use hyper::server::conn::http2;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Notify, watch};
use tower::Service;

use super::executor::{QueueExecutor, StreamQueue};
use super::request_timeout::{HeaderBlocks, WatchedHeaders};

/// How connections live and die, from the command line.
#[derive(Debug, Clone, Copy)]
pub struct Lifecycle {
    /// None: no pings.
    pub keepalive_interval: Option<Duration>,
    pub keepalive_timeout: Duration,
    pub max_concurrent_streams: u32,
    pub max_idle: Option<Duration>,
    pub max_age: Option<Duration>,
    /// None: calls in flight at the age may take as long as they need.
    pub age_grace: Option<Duration>,
    /// How long a client may take to finish a header block or a call's request message, and
    /// to send its preface (None: as long as it likes); see `request_timeout`.
    pub request_timeout: Option<Duration>,
}

impl Lifecycle {
    /// The HTTP/2 settings of one connection, whose streams run from `streams`.
    fn http2(&self, streams: QueueExecutor) -> http2::Builder<QueueExecutor> {
        let mut builder = http2::Builder::new(streams);
        builder
            .timer(TokioTimer::new())
            .max_concurrent_streams(self.max_concurrent_streams)
            .keep_alive_interval(self.keepalive_interval)
            .keep_alive_timeout(self.keepalive_timeout)
            // gRPC has no use for a Date header; formatting it is pure cost.
            .auto_date_header(false);
        builder
    }

    /// Calls in flight are only counted when something needs to know.
    fn activity(&self) -> Option<Arc<Activity>> {
        let tracked = self.max_idle.is_some() || self.max_age.is_some();
        tracked.then(|| Arc::new(Activity::default()))
    }

    /// The age, jittered by ±10 %, as grpc-go does, so connections opened together (after a
    /// deploy) do not all come back together.
    fn jittered_max_age(&self) -> Option<Duration> {
        // Cannot overflow (mul_f64 panics on a result too large): --max-connection-age is at
        // most 100 years (`cli::MAX_DURATION`), and the factor at most 1.1.
        self.max_age
            .map(|age| age.mul_f64(0.9 + 0.2 * fastrand::f64()))
    }
}

/// Serves `io` with `service` until the client leaves, the connection's time is up, or the
/// server drains.
pub async fn serve<IO, S, B>(
    io: IO,
    service: S,
    lifecycle: Lifecycle,
    mut shutdown: watch::Receiver<bool>,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service<Request<hyper::body::Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let activity = lifecycle.activity();
    let service = Tracked {
        inner: service,
        activity: activity.clone(),
    };
    let streams = StreamQueue::default();
    let blocks = Arc::new(HeaderBlocks::default());
    let io = WatchedHeaders::new(io, Arc::clone(&blocks));
    let mut connection = pin!(
        lifecycle
            .http2(streams.executor())
            .serve_connection(TokioIo::new(io), TowerToHyperService::new(service))
    );
    let mut stalled = pin!(blocks.stalled_for(lifecycle.request_timeout));
    let mut aged = pin!(sleep_for(lifecycle.jittered_max_age()));
    let mut idle = pin!(idle_for(lifecycle.max_idle, activity.clone()));
    // hyper's GOAWAY waits for the client to answer a PING before closing: a client that
    // never answers (gone, or not reading) would keep the connection for good.
    let mut quiet_after_goaway = pin!(idle_for(None, None));
    let mut hard_close = pin!(sleep_for(None));
    let mut closing = false;
    loop {
        // Why the connection is told to go away: only its age also bounds the calls left.
        let aged_out = tokio::select! {
            // The streams hyper took in run after it has read all it can; then it writes their
            // replies together.
            served = poll_fn(|cx| streams.drive(|| connection.as_mut().poll(cx))) => {
                if let Err(err) = served {
                    tracing::debug!("connection ended: {err:?}");
                }
                return;
            }
            _ = shutdown.wait_for(|&stop| stop), if !closing => false,
            () = &mut aged, if !closing => true,
            () = &mut idle, if !closing => false,
            () = &mut quiet_after_goaway => {
                tracing::debug!("closing a connection told to go away, with no call in flight");
                return;
            }
            () = &mut hard_close => {
                tracing::debug!("max connection age grace over: closing a connection with calls in flight");
                return;
            }
            () = &mut stalled => {
                tracing::info!(
                    "closing a connection whose client left a header block unfinished for \
                     --request-timeout"
                );
                return;
            }
        };
        closing = true;
        connection.as_mut().graceful_shutdown();
        quiet_after_goaway.set(idle_for(Some(QUIET_AFTER_GOAWAY), activity.clone()));
        if aged_out {
            hard_close.set(sleep_for(lifecycle.age_grace));
        }
    }
}

/// How long a connection that was sent a GOAWAY and has no call in flight may wait for the
/// client's answer to the GOAWAY's PING, as grpc-go waits.
const QUIET_AFTER_GOAWAY: Duration = Duration::from_secs(1);

/// Sleeps for `duration`, or forever when there is none.
async fn sleep_for(duration: Option<Duration>) {
    match duration {
        Some(duration) => tokio::time::sleep(duration).await,
        None => std::future::pending().await,
    }
}

/// Calls in flight on one connection, and a wake-up for each change.
#[derive(Default)]
pub struct Activity {
    in_flight: AtomicUsize,
    changed: Notify,
}

/// Resolves once the connection has had no call in flight for `max_idle`.
async fn idle_for(max_idle: Option<Duration>, activity: Option<Arc<Activity>>) {
    let (Some(max_idle), Some(activity)) = (max_idle, activity) else {
        return std::future::pending().await;
    };
    loop {
        let changed = activity.changed.notified();
        if activity.in_flight.load(Ordering::Acquire) == 0 {
            tokio::select! {
                () = tokio::time::sleep(max_idle) => {
                    if activity.in_flight.load(Ordering::Acquire) == 0 {
                        return;
                    }
                }
                () = changed => {}
            }
        } else {
            changed.await;
        }
    }
}

/// Counts a connection's calls in flight, from request to the end of the response body, when
/// --max-connection-idle or --max-connection-age needs to know (otherwise it only forwards).
#[derive(Clone)]
struct Tracked<S> {
    inner: S,
    activity: Option<Arc<Activity>>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Tracked<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<TrackedBody<ResBody>>;
    type Error = S::Error;
    type Future = TrackedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        TrackedFuture {
            guard: self.activity.clone().map(InFlight::start),
            inner: self.inner.call(request),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future, which hands the call's guard over to the body.
    pub struct TrackedFuture<F> {
        #[pin]
        inner: F,
        guard: Option<InFlight>,
    }
}

impl<F, B, E> Future for TrackedFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<TrackedBody<B>>, E>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = std::task::ready!(this.inner.poll(cx))?;
        let guard = this.guard.take();
        Poll::Ready(Ok(response.map(|inner| TrackedBody {
            inner,
            _guard: guard,
        })))
    }
}

/// One call in flight, until dropped.
pub struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.changed.notify_waiters();
        InFlight(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.0.changed.notify_waiters();
    }
}

pin_project_lite::pin_project! {
    /// A response body that keeps its call counted as in flight until it is done.
    pub struct TrackedBody<B> {
        #[pin]
        inner: B,
        _guard: Option<InFlight>,
    }
}

impl<B: http_body::Body> http_body::Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<B::Data>, B::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
