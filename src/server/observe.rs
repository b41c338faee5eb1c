//! What happens to each call, observed when it ends: the access log line (method, peer, gRPC
//! status, latency) and the call metrics.
//!
//! A call's status is usually in the trailers, after the last message, so the layer watches the
//! response body to its end; a body dropped before that is a call the client cancelled. It
//! watches the request body too: when that breaks (the client reset the stream or its
//! connection went away) tonic answers UNKNOWN to nobody, and the call is logged CANCELLED, as
//! grpc-go's server sees it.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use http::{HeaderMap, Request, Response};
use http_body::{Body, Frame};
use tonic::Code;
use tower::{Layer, Service};

use super::conformance::GRPC_STATUS;
use super::faults::{FaultNote, Injected};
use super::metrics::{MethodLabel, WorkerMetrics};
use crate::exit::code_name;

/// Wraps a service so each call it serves is counted in `metrics` (if any) and logged at its
/// end, at INFO with the target `greeter::access` (if that target is enabled).
///
/// `FAULTS`: whether the fault layer may be in the stack, so each observed call gets a
/// `FaultNote` for it. A constant, so a server without test flags has not even the branch.
#[derive(Clone)]
pub struct ObserveLayer<const FAULTS: bool> {
    pub metrics: Option<WorkerMetrics>,
    /// Who is on the other end of the connection: `127.0.0.1:41464`, or `unix`.
    pub peer: Arc<str>,
}

impl<S, const FAULTS: bool> Layer<S> for ObserveLayer<FAULTS> {
    type Service = Observe<S, FAULTS>;

    fn layer(&self, inner: S) -> Observe<S, FAULTS> {
        Observe {
            inner,
            metrics: self.metrics.clone(),
            peer: self.peer.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Observe<S, const FAULTS: bool> {
    inner: S,
    metrics: Option<WorkerMetrics>,
    peer: Arc<str>,
}

impl<S, ReqBody, ResBody, const FAULTS: bool> Service<Request<ReqBody>> for Observe<S, FAULTS>
where
    S: Service<Request<RequestBody<ReqBody>>, Response = Response<ResBody>>,
{
    type Response = Response<ObservedBody<ResBody>>;
    type Error = S::Error;
    type Future = ObservedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        // With neither on (the default) this costs one cached check of the log filter per call.
        let log = tracing::enabled!(target: crate::logging::ACCESS_TARGET, tracing::Level::INFO);
        let mut call = (log || self.metrics.is_some()).then(|| {
            let path = request.uri().path();
            if let Some(metrics) = &self.metrics {
                metrics.call_started();
            }
            Call {
                log: log.then(|| Logged {
                    method: path.to_owned(),
                    peer: self.peer.clone(),
                }),
                metrics: self.metrics.clone(),
                method: MethodLabel::of(path),
                started: Instant::now(),
                client_gone: Arc::default(),
                injected: None,
            }
        });
        if FAULTS {
            note_faults(call.as_mut(), &mut request);
        }
        let client_gone = call.as_ref().map(|call| call.client_gone.clone());
        let request = request.map(|inner| RequestBody { inner, client_gone });
        ObservedFuture {
            inner: self.inner.call(request),
            call,
        }
    }
}

/// Hands the fault layer a note of the call's faults. Out of line: a server without fault
/// flags never calls it, and its code would only make every call's `Observe::call` larger.
#[inline(never)]
fn note_faults<B>(call: Option<&mut Call>, request: &mut Request<B>) {
    if let Some(call) = call {
        let note = FaultNote::default();
        request.extensions_mut().insert(note.clone());
        call.injected = Some(note);
    }
}

/// A call being observed.
struct Call {
    log: Option<Logged>,
    metrics: Option<WorkerMetrics>,
    /// The method as a metrics label (`unknown` for paths nobody serves).
    method: MethodLabel,
    started: Instant,
    /// Set by the request body when it broke.
    client_gone: Arc<AtomicBool>,
    /// Where the fault layer notes the faults it put into the call.
    injected: Option<FaultNote>,
}

/// What the log line says about a call besides its status and latency.
struct Logged {
    method: String,
    peer: Arc<str>,
}

impl Call {
    fn ended(self, status: Code) {
        let status = if self.client_gone.load(Ordering::Relaxed) {
            Code::Cancelled
        } else {
            status
        };
        let latency = self.started.elapsed();
        let injected = self.injected.as_ref().and_then(FaultNote::get);
        if let Some(metrics) = &self.metrics {
            metrics.call_ended(self.method, status, latency);
            if let Some(injected) = injected {
                metrics.injected(self.method, injected);
            }
        }
        if let Some(logged) = self.log {
            tracing::info!(
                target: crate::logging::ACCESS_TARGET,
                method = %logged.method,
                peer = %logged.peer,
                status = code_name(status),
                code = status as i32,
                // Truncates only past 584 000 years.
                latency_us = latency.as_micros() as u64,
                // Only on calls with a fault: a test tells injected failures from real ones.
                fault = injected.map(Injected::describe),
                "call",
            );
        }
    }
}

fn grpc_status(headers: &HeaderMap) -> Option<Code> {
    let value = headers.get(&GRPC_STATUS)?;
    Some(Code::from_bytes(value.as_bytes()))
}

pin_project_lite::pin_project! {
    /// The response future, which hands the call over to the body. A plain struct rather than a
    /// boxed `async` block: no allocation and no copy of the inner future per call.
    pub struct ObservedFuture<F> {
        #[pin]
        inner: F,
        call: Option<Call>,
    }

    impl<F> PinnedDrop for ObservedFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            // Dropped before the response: the client went away first.
            if let Some(call) = this.project().call.take() {
                call.ended(Code::Cancelled);
            }
        }
    }
}

impl<F, ResBody, E> Future for ObservedFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = Result<Response<ObservedBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.inner.poll(cx))?;
        // A trailers-only response (most errors) carries its status in the headers.
        let status = grpc_status(response.headers());
        let call = this.call.take();
        Poll::Ready(Ok(response.map(|body| ObservedBody {
            inner: body,
            call,
            status,
        })))
    }
}

pin_project_lite::pin_project! {
    /// A response body that reports its call when it ends (or is dropped unfinished).
    pub struct ObservedBody<B> {
        #[pin]
        inner: B,
        call: Option<Call>,
        status: Option<Code>,
    }

    impl<B> PinnedDrop for ObservedBody<B> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(call) = this.call.take() {
                call.ended(this.status.unwrap_or(Code::Cancelled));
            }
        }
    }
}

impl<B: Body> Body for ObservedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => {
                if let Some(status) = frame.trailers_ref().and_then(grpc_status) {
                    *this.status = Some(status);
                }
            }
            Some(Err(_)) => *this.status = Some(Code::Internal),
            None => {
                if let Some(call) = this.call.take() {
                    call.ended(this.status.unwrap_or(Code::Ok));
                }
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

pin_project_lite::pin_project! {
    /// A request body that tells its call when it broke. Without a call to tell (nothing is
    /// observed) it costs one branch per frame.
    pub struct RequestBody<B> {
        #[pin]
        inner: B,
        client_gone: Option<Arc<AtomicBool>>,
    }
}

impl<B: Body> Body for RequestBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        if let (Some(Err(_)), Some(client_gone)) = (&frame, this.client_gone) {
            client_gone.store(true, Ordering::Relaxed);
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
