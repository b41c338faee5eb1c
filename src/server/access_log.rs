//! One log line per call (method, peer, gRPC status, latency), written when the call ends.
//!
//! A call's status is usually in the trailers, after the last message, so the layer watches the
//! response body to its end; a body dropped before that is a call the client cancelled.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use http::{HeaderMap, Request, Response};
use http_body::{Body, Frame};
use tonic::Code;
use tonic::transport::server::{TcpConnectInfo, UdsConnectInfo};
use tower::{Layer, Service};

use crate::exit::code_name;

/// Wraps a service so each call it serves is logged at its end, at INFO, with the target
/// `greeter::access`.
#[derive(Clone, Copy, Debug, Default)]
pub struct AccessLogLayer;

impl<S> Layer<S> for AccessLogLayer {
    type Service = AccessLog<S>;

    fn layer(&self, inner: S) -> AccessLog<S> {
        AccessLog { inner }
    }
}

#[derive(Clone, Debug)]
pub struct AccessLog<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for AccessLog<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = Response<LoggedBody<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // Off (the default) costs one cached check of the log filter per call.
        let call =
            tracing::enabled!(target: "greeter::access", tracing::Level::INFO).then(|| Call {
                method: request.uri().path().to_owned(),
                peer: peer(&request),
                started: Instant::now(),
            });
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            // A trailers-only response (most errors) carries its status in the headers.
            let status = grpc_status(response.headers());
            Ok(response.map(|body| LoggedBody {
                inner: body,
                call,
                status,
            }))
        })
    }
}

/// What the log line says about a call besides its status.
struct Call {
    method: String,
    peer: String,
    started: Instant,
}

impl Call {
    fn log(self, status: Code) {
        let latency = self.started.elapsed();
        tracing::info!(
            target: "greeter::access",
            method = %self.method,
            peer = %self.peer,
            status = code_name(status),
            code = status as i32,
            latency_us = latency.as_micros() as u64,
            "call",
        );
    }
}

fn peer<B>(request: &Request<B>) -> String {
    let extensions = request.extensions();
    if let Some(addr) = extensions
        .get::<TcpConnectInfo>()
        .and_then(TcpConnectInfo::remote_addr)
    {
        return addr.to_string();
    }
    if extensions.get::<UdsConnectInfo>().is_some() {
        return "unix".to_owned();
    }
    "unknown".to_owned()
}

fn grpc_status(headers: &HeaderMap) -> Option<Code> {
    let value = headers.get("grpc-status")?;
    Some(Code::from_bytes(value.as_bytes()))
}

pin_project_lite::pin_project! {
    /// A response body that logs its call when it ends (or is dropped unfinished).
    pub struct LoggedBody<B> {
        #[pin]
        inner: B,
        call: Option<Call>,
        status: Option<Code>,
    }

    impl<B> PinnedDrop for LoggedBody<B> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(call) = this.call.take() {
                call.log(this.status.unwrap_or(Code::Cancelled));
            }
        }
    }
}

impl<B: Body> Body for LoggedBody<B> {
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
                    call.log(this.status.unwrap_or(Code::Ok));
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
