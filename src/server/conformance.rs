//! What the gRPC spec asks of a server that tonic's generated services leave out, in one layer
//! around every service:
//!
//! - **Deadlines.** A request's `grpc-timeout` bounds the whole call: when it passes, the
//!   handler is dropped (cancelled) and the call ends with DEADLINE_EXCEEDED, also in the middle
//!   of a response stream. tonic's own timeout covers only the wait for the response headers,
//!   and reports CANCELLED.
//! - **Oversized messages.** tonic refuses a message over the size limit as soon as its length
//!   prefix arrives (nothing is buffered), but names it OUT_OF_RANGE; the spec says
//!   RESOURCE_EXHAUSTED.
//! - **Response compression.** A reply is compressed in the encoding the request was
//!   compressed with, as grpc-go does, and otherwise not at all: every client advertises the
//!   encodings it could read, but greetings are far too small to be worth compressing unless
//!   the client asks by compressing itself.
//! - **Which replica answered.** Every response carries `greeter-replica` (--replica), in
//!   its headers, or in its trailers-only status.
//! - **Slow requests.** A request that is one message must arrive within --request-timeout
//!   (see `request_timeout`).

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use http_body::{Body, Frame};
use tokio::time::{Instant, Sleep};
use tower::{Layer, Service};

use super::request_timeout::request_is_one_message;

// Names as constants: a lookup by `&str` parses the name first, on every call.
pub(super) const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");
pub(super) const GRPC_MESSAGE: HeaderName = HeaderName::from_static("grpc-message");
const GRPC_TIMEOUT: HeaderName = HeaderName::from_static("grpc-timeout");
const GRPC_ENCODING: HeaderName = HeaderName::from_static("grpc-encoding");
const GRPC_ACCEPT_ENCODING: HeaderName = HeaderName::from_static("grpc-accept-encoding");
/// Which replica answered: `greeter hello` reads it, and anyone can with `-v` or curl.
pub(super) const GREETER_REPLICA: HeaderName = HeaderName::from_static("greeter-replica");
const DEADLINE_EXCEEDED: HeaderValue = HeaderValue::from_static("4");
const RESOURCE_EXHAUSTED: HeaderValue = HeaderValue::from_static("8");

#[derive(Debug, Clone)]
pub struct ConformanceLayer {
    /// --request-timeout: how long a call's request message may take to arrive.
    pub request_timeout: Option<Duration>,
    /// --replica, sent on every response: made once, for the process's life.
    pub replica: &'static HeaderValue,
}

impl<S> Layer<S> for ConformanceLayer {
    type Service = Conformance<S>;

    fn layer(&self, inner: S) -> Conformance<S> {
        Conformance {
            inner,
            request_timeout: self.request_timeout,
            replica: self.replica,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Conformance<S> {
    inner: S,
    request_timeout: Option<Duration>,
    replica: &'static HeaderValue,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Conformance<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ConformingBody<ResBody>>;
    type Error = S::Error;
    type Future = ConformingFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let deadline = grpc_deadline(request.headers());
        reply_in_the_request_encoding(request.headers_mut());
        let request_timeout = self
            .request_timeout
            .filter(|_| request_is_one_message(request.uri().path()));
        ConformingFuture {
            replica: self.replica,
            request_timeout,
            late: None,
            inner: self.inner.call(request),
            expiry: deadline.map(expiry),
        }
    }
}

/// When a call's `grpc-timeout` runs out, counted from now.
#[inline]
pub(super) fn grpc_deadline(headers: &HeaderMap) -> Option<Instant> {
    headers
        .get(&GRPC_TIMEOUT)
        .and_then(|value| parse_timeout(value.as_bytes()))
        .and_then(deadline_after)
}

/// tonic compresses a reply in the first encoding the client accepts; tell it the client
/// accepts only the one it used itself.
fn reply_in_the_request_encoding(headers: &mut HeaderMap) {
    match headers.get(&GRPC_ENCODING) {
        Some(encoding) if encoding != "identity" => {
            let encoding = encoding.clone();
            headers.insert(GRPC_ACCEPT_ENCODING, encoding);
        }
        _ => {
            headers.remove(&GRPC_ACCEPT_ENCODING);
        }
    }
}

/// `grpc-timeout`: at most 8 digits and a unit (H, M, S, m, u, n), as the spec's
/// PROTOCOL-HTTP2 has it. A malformed value is ignored, as grpc-go ignores it.
fn parse_timeout(value: &[u8]) -> Option<Duration> {
    let (&unit, digits) = value.split_last()?;
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let amount: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    // Cannot overflow: 8 digits are at most 99_999_999, times 3600 about 3.6e11.
    Some(match unit {
        b'H' => Duration::from_secs(amount * 3600),
        b'M' => Duration::from_secs(amount * 60),
        b'S' => Duration::from_secs(amount),
        b'm' => Duration::from_millis(amount),
        b'u' => Duration::from_micros(amount),
        b'n' => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// The instant `timeout` from now, or no deadline at all where the clock cannot count that far:
/// 99999999H is 11 000 years, more than a clock of u64 nanoseconds (macOS's) reaches, and
/// `Instant + Duration` would panic on a header from the network.
fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// Rewrites tonic's OUT_OF_RANGE for an oversized message to RESOURCE_EXHAUSTED (see
/// `crate::status`).
fn fix_oversize_status(headers: &mut HeaderMap) {
    let oversized = headers.get(&GRPC_STATUS).is_some_and(|status| {
        crate::status::is_oversize_on_the_wire(status.as_bytes(), || {
            headers.get(&GRPC_MESSAGE).map(|message| message.as_bytes())
        })
    });
    if oversized {
        headers.insert(GRPC_STATUS, RESOURCE_EXHAUSTED);
    }
}

/// A timer for `deadline`, boxed: a `Sleep` is larger than everything else in these futures,
/// which hyper moves around, and only calls with a `grpc-timeout` need one.
fn expiry(deadline: Instant) -> Pin<Box<Sleep>> {
    Box::pin(tokio::time::sleep_until(deadline))
}

/// A response that is its status alone, from this replica.
pub(super) fn trailers_only<B>(
    status: HeaderMap,
    replica: &HeaderValue,
) -> Response<ConformingBody<B>> {
    let mut response = Response::new(ConformingBody::Ended);
    *response.headers_mut() = status;
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/grpc"));
    headers.insert(GREETER_REPLICA, replica.clone());
    response
}

/// The request did not arrive within --request-timeout: DEADLINE_EXCEEDED, saying whose.
fn too_slow(timeout: Duration) -> HeaderMap {
    let mut trailers = HeaderMap::with_capacity(2);
    trailers.insert(GRPC_STATUS, DEADLINE_EXCEEDED);
    let message = format!(
        "the request message did not arrive within the server's --request-timeout ({})",
        humantime::format_duration(timeout)
    );
    // Cannot fail: the message is ASCII (the duration is digits and unit letters).
    let message = HeaderValue::from_str(&message).expect("an ASCII message");
    trailers.insert(GRPC_MESSAGE, message);
    trailers
}

pub(super) fn deadline_exceeded() -> HeaderMap {
    let mut trailers = HeaderMap::with_capacity(2);
    trailers.insert(GRPC_STATUS, DEADLINE_EXCEEDED);
    trailers.insert(
        GRPC_MESSAGE,
        HeaderValue::from_static("the deadline set by grpc-timeout passed"),
    );
    trailers
}

pin_project_lite::pin_project! {
    pub struct ConformingFuture<F> {
        #[pin]
        inner: F,
        expiry: Option<Pin<Box<Sleep>>>,
        replica: &'static HeaderValue,
        // For a call whose request is one message, whose handler answers as soon as it has
        // it: how long that may take, and the timer, set once the call has kept us waiting.
        request_timeout: Option<Duration>,
        late: Option<Pin<Box<Sleep>>>,
    }
}

impl<F, B, E> Future for ConformingFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ConformingBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(response) = this.inner.poll(cx) {
            let mut response = response?;
            // A trailers-only response (most errors) carries its status in the headers.
            fix_oversize_status(response.headers_mut());
            response
                .headers_mut()
                .insert(GREETER_REPLICA, this.replica.clone());
            // The body takes the timer over, for the rest of the call.
            let expiry = this.expiry.take();
            return Poll::Ready(Ok(response.map(|body| ConformingBody::Streaming {
                inner: body,
                expiry,
            })));
        }
        // Both timers are polled, so each can wake this future: a call with a long
        // grpc-timeout is still bound by --request-timeout.
        if let Some(expiry) = this.expiry.as_mut()
            && expiry.as_mut().poll(cx).is_ready()
        {
            // The handler is dropped with this future: that is its cancellation.
            return Poll::Ready(Ok(trailers_only(deadline_exceeded(), this.replica)));
        }
        if let Some(timeout) = *this.request_timeout {
            let late = this
                .late
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
            if late.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Ok(trailers_only(too_slow(timeout), this.replica)));
            }
        }
        Poll::Pending
    }
}

pin_project_lite::pin_project! {
    /// A response body that ends with DEADLINE_EXCEEDED when the deadline passes first, and
    /// reports oversized messages as RESOURCE_EXHAUSTED.
    #[project = ConformingBodyProj]
    pub enum ConformingBody<B> {
        Streaming {
            #[pin]
            inner: B,
            expiry: Option<Pin<Box<Sleep>>>,
        },
        /// Nothing more to send: the status went out, in the headers (the deadline passed
        /// before the handler answered) or in the trailers (the handler's, or the deadline's).
        Ended,
    }
}

impl<B: Body> Body for ConformingBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let ConformingBodyProj::Streaming { inner, expiry } = self.as_mut().project() else {
            return Poll::Ready(None);
        };
        // The deadline first: a stream that always has a message ready must still end on time.
        if let Some(expiry) = expiry.as_mut()
            && expiry.as_mut().poll(cx).is_ready()
        {
            // Dropping the body drops the handler's stream: it stops working on the call.
            self.set(ConformingBody::Ended);
            return Poll::Ready(Some(Ok(Frame::trailers(deadline_exceeded()))));
        }
        let frame = match ready!(inner.poll_frame(cx)) {
            Some(Ok(frame)) => frame,
            other => return Poll::Ready(other),
        };
        match frame.into_trailers() {
            Ok(mut trailers) => {
                fix_oversize_status(&mut trailers);
                // The call is over: no deadline may add a second status after this one.
                self.set(ConformingBody::Ended);
                Poll::Ready(Some(Ok(Frame::trailers(trailers))))
            }
            Err(frame) => Poll::Ready(Some(Ok(frame))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ConformingBody::Streaming { inner, .. } => inner.is_end_stream(),
            ConformingBody::Ended => true,
        }
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match self {
            ConformingBody::Streaming { inner, .. } => inner.size_hint(),
            ConformingBody::Ended => http_body::SizeHint::with_exact(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_units() {
        assert_eq!(parse_timeout(b"1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_timeout(b"2M"), Some(Duration::from_secs(120)));
        assert_eq!(parse_timeout(b"3S"), Some(Duration::from_secs(3)));
        assert_eq!(parse_timeout(b"250m"), Some(Duration::from_millis(250)));
        assert_eq!(
            parse_timeout(b"99999999u"),
            Some(Duration::from_micros(99_999_999))
        );
        assert_eq!(parse_timeout(b"7n"), Some(Duration::from_nanos(7)));
    }

    #[test]
    fn a_deadline_beyond_the_clock_is_no_deadline() {
        // `Instant::now() + timeout` panicked past the clock's range.
        assert_eq!(deadline_after(Duration::MAX), None);
        let longest = parse_timeout(b"99999999H").expect("8 digits and a unit");
        assert_eq!(longest, Duration::from_secs(99_999_999 * 3600));
        assert!(deadline_after(Duration::from_secs(1)).is_some());
    }

    #[test]
    fn malformed_grpc_timeouts_are_ignored() {
        for bad in [
            &b""[..],
            b"S",
            b"123456789S",
            b"1x",
            b"-1S",
            b"1.5S",
            b" 1S",
        ] {
            assert_eq!(
                parse_timeout(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn only_oversized_messages_become_resource_exhausted() {
        let mut headers = HeaderMap::new();
        headers.insert(GRPC_STATUS, HeaderValue::from_static("11"));
        headers.insert(
            GRPC_MESSAGE,
            HeaderValue::from_static(
                "Error,%20decoded%20message%20length%20too%20large:%20found%205%20bytes",
            ),
        );
        fix_oversize_status(&mut headers);
        assert_eq!(headers[&GRPC_STATUS], "8");

        let mut other = HeaderMap::new();
        other.insert(GRPC_STATUS, HeaderValue::from_static("11"));
        other.insert(GRPC_MESSAGE, HeaderValue::from_static("index out of range"));
        fix_oversize_status(&mut other);
        assert_eq!(other[&GRPC_STATUS], "11");
    }

    #[test]
    fn replies_use_the_request_encoding_or_none() {
        let mut compressed = HeaderMap::new();
        compressed.insert("grpc-encoding", HeaderValue::from_static("zstd"));
        compressed.insert(
            "grpc-accept-encoding",
            HeaderValue::from_static("gzip,zstd"),
        );
        reply_in_the_request_encoding(&mut compressed);
        assert_eq!(compressed["grpc-accept-encoding"], "zstd");

        let mut plain = HeaderMap::new();
        plain.insert(
            "grpc-accept-encoding",
            HeaderValue::from_static("identity,deflate,gzip"),
        );
        reply_in_the_request_encoding(&mut plain);
        assert!(plain.get("grpc-accept-encoding").is_none());
    }
}
