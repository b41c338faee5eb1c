//! One call on the replicas' channel: its request sent on a stream of the connection, its
//! response's head awaited, then its body and trailers read.

use super::*;

/// How many requests may wait for their connection's task to write them before the calls
/// that add more give way to it. Otherwise a caller that reads 32 replies at once queues 32
/// requests before any goes out, and the server, idle meanwhile, then has 32 to answer while
/// the client waits: with the first ones written early, both work at once (1x32: about 60k ->
/// 120k req/s here, where h2load, which writes once per read, makes 85k).
const WRITE_AFTER: usize = 8;

/// A call: its request body sent on the stream, then its response's head awaited.
pub struct CallFuture(CallState);

enum CallState {
    Failed(Option<Status>),
    Sending {
        response: ResponseFuture,
        stream: SendStream<Bytes>,
        /// The request body, until all of it is sent.
        body: Option<tonic::body::Body>,
        /// The last chunk read, sent once it is known whether it ends the body.
        held: Option<Bytes>,
        active: Option<Active>,
        /// Whether the call gave way once, for its connection's task to write what was queued.
        yielded: bool,
    },
}

impl CallFuture {
    pub(super) fn failed(status: Status) -> CallFuture {
        CallFuture(CallState::Failed(Some(status)))
    }

    /// A call whose stream is open on `link`: `body` is sent on `stream`, then `response`
    /// awaited.
    pub(super) fn sending(
        response: ResponseFuture,
        stream: SendStream<Bytes>,
        body: tonic::body::Body,
        link: Arc<Link>,
    ) -> CallFuture {
        CallFuture(CallState::Sending {
            response,
            stream,
            body: Some(body),
            held: None,
            active: Some(Active::new(link)),
            yielded: false,
        })
    }
}

impl Future for CallFuture {
    type Output = Result<http::Response<H2Body>, Status>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.0 {
            CallState::Failed(status) => Poll::Ready(Err(status
                .take()
                .unwrap_or_else(|| Status::internal("a call polled after it ended")))),
            CallState::Sending {
                response,
                stream,
                body,
                held,
                active,
                yielded,
            } => {
                if let Some(request) = body {
                    match send_body(request, stream, held, cx) {
                        Poll::Ready(Ok(())) => {
                            *body = None;
                            let link = active.as_ref().map(|active| &*active.0);
                            let queued = link.map_or(0, |link| {
                                link.unwritten.fetch_add(1, Ordering::Relaxed) + 1
                            });
                            if queued >= WRITE_AFTER && !*yielded {
                                *yielded = true;
                                cx.waker().wake_by_ref();
                                return Poll::Pending;
                            }
                        }
                        Poll::Ready(Err(status)) => {
                            stream.send_reset(Reason::INTERNAL_ERROR);
                            return Poll::Ready(Err(status));
                        }
                        // A request body that is not all there yet (not one of ours: unary
                        // calls encode theirs at once); the response may still come first.
                        Poll::Pending => {}
                    }
                }
                let link = active.as_ref().map(|active| &*active.0);
                match ready!(Pin::new(response).poll(cx)) {
                    Ok(head) => {
                        let active = active.take();
                        Poll::Ready(Ok(head.map(|recv| H2Body {
                            recv,
                            data_done: false,
                            active,
                        })))
                    }
                    Err(err) => Poll::Ready(Err(Http2Failure::of(err, Kind::Http2, link))),
                }
            }
        }
    }
}

/// Sends what the request body has ready; `Ready(Ok)` once all of it went, the last chunk
/// with END_STREAM (as one DATA frame for a unary request).
fn send_body(
    body: &mut tonic::body::Body,
    stream: &mut SendStream<Bytes>,
    held: &mut Option<Bytes>,
    cx: &mut Context<'_>,
) -> Poll<Result<(), Status>> {
    loop {
        let frame = match ready!(Pin::new(&mut *body).poll_frame(cx)) {
            Some(Ok(frame)) => frame,
            Some(Err(status)) => return Poll::Ready(Err(status)),
            None => {
                // An error here is the stream's, which its response reports.
                let _ = stream.send_data(held.take().unwrap_or_default(), true);
                return Poll::Ready(Ok(()));
            }
        };
        match frame.into_data() {
            Ok(data) => {
                if let Some(previous) = held.replace(data) {
                    let _ = stream.send_data(previous, false);
                }
            }
            Err(frame) => {
                if let Ok(trailers) = frame.into_trailers() {
                    if let Some(previous) = held.take() {
                        let _ = stream.send_data(previous, false);
                    }
                    let _ = stream.send_trailers(trailers);
                    return Poll::Ready(Ok(()));
                }
            }
        }
    }
}

/// A response body: its DATA, then its trailers (hyper's `Incoming`, for h2).
pub struct H2Body {
    recv: RecvStream,
    data_done: bool,
    active: Option<Active>,
}

impl Body for H2Body {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = &mut *self;
        let link = this.active.as_ref().map(|active| &*active.0);
        if !this.data_done {
            match ready!(this.recv.poll_data(cx)) {
                Some(Ok(data)) => {
                    let _ = this.recv.flow_control().release_capacity(data.len());
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                // RST_STREAM with NO_ERROR is an early response: the body ends, it does not
                // fail (RFC 9113, section 8.1).
                Some(Err(err)) if err.reason() == Some(Reason::NO_ERROR) => {
                    return Poll::Ready(None);
                }
                Some(Err(err)) => {
                    return Poll::Ready(Some(Err(Http2Failure::of(err, Kind::Body, link))));
                }
                None => this.data_done = true,
            }
        }
        match ready!(this.recv.poll_trailers(cx)) {
            Ok(trailers) => Poll::Ready(trailers.map(|trailers| Ok(Frame::trailers(trailers)))),
            Err(err) if err.reason() == Some(Reason::NO_ERROR) => Poll::Ready(None),
            Err(err) => Poll::Ready(Some(Err(Http2Failure::of(err, Kind::Http2, link)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.recv.is_end_stream()
    }
}
