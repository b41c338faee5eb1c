//! The kit's one HTTP/2 client (the h2 crate), for what `greeter hello` deliberately never
//! does: any header (`grpc-timeout` without a client-side deadline, an unknown
//! `grpc-encoding`), a message that is only a length prefix, several calls on one connection,
//! a call held in flight with its message not yet sent ([`HeldCall`]), and a look at the
//! server's SETTINGS and at when it closes the connection. (`frames.rs` writes frames by hand
//! where h2 itself would refuse or queue them.)

use std::future::poll_fn;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use h2::client::{ResponseFuture, SendRequest};
use h2::{PingPong, SendStream};
use tokio::net::TcpStream;
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

use super::BOUND;

pub struct H2Conn {
    pub runtime: Runtime,
    client: SendRequest<Bytes>,
    driver: Option<JoinHandle<Result<(), String>>>,
    max_streams: Arc<AtomicUsize>,
    ping_pong: PingPong,
    pub opened: Instant,
}

/// What came back for one call.
#[derive(Debug, Default)]
pub struct Exchange {
    /// The HTTP status of the response (0 if none came).
    pub http_status: u16,
    /// `grpc-status` from the headers (trailers-only) or the trailers; None if neither had one.
    pub grpc_status: Option<String>,
    pub grpc_message: Option<String>,
    /// The response headers, as `name: value` lines (`grpc-message` percent-decoded in
    /// `grpc_message`, not here).
    pub headers: Vec<String>,
    /// How many length-prefixed messages came.
    pub messages: usize,
    /// The response's data frames, as they came: the messages with their prefixes.
    data: Bytes,
    /// How the stream ended if not with trailers (a reset, the connection going away).
    pub error: Option<String>,
    /// From sending the request to the end of the response.
    pub elapsed: Duration,
}

impl H2Conn {
    pub fn connect(addr: &str) -> H2Conn {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let max_streams = Arc::new(AtomicUsize::new(usize::MAX));
        let seen = Arc::clone(&max_streams);
        let (client, driver, ping_pong) = runtime.block_on(async {
            let tcp = tokio::time::timeout(BOUND, TcpStream::connect(addr))
                .await
                .expect("connect in time")
                .expect("connect");
            let (client, mut connection) = h2::client::handshake(tcp).await.unwrap();
            let ping_pong = connection.ping_pong().expect("ping_pong is taken once");
            let driver = tokio::spawn(async move {
                poll_fn(|cx| {
                    let polled = std::pin::Pin::new(&mut connection).poll(cx);
                    seen.store(connection.max_concurrent_send_streams(), Ordering::Relaxed);
                    match polled {
                        Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
                        Poll::Ready(Err(err)) => Poll::Ready(Err(err.to_string())),
                        Poll::Pending => Poll::Pending,
                    }
                })
                .await
            });
            (client, driver, ping_pong)
        });
        H2Conn {
            runtime,
            client,
            driver: Some(driver),
            max_streams,
            ping_pong,
            opened: Instant::now(),
        }
    }

    /// The server's SETTINGS_MAX_CONCURRENT_STREAMS, once h2 has applied its SETTINGS (after
    /// a call, h2 applies them when it next acknowledges), waiting at most [`BOUND`].
    pub fn max_concurrent_streams(&mut self) -> usize {
        let deadline = Instant::now() + BOUND;
        let _ = self.call(
            "/grpc.health.v1.Health/Check",
            &[],
            Bytes::from_static(&[0; 5]),
        );
        loop {
            let max = self.max_streams.load(Ordering::Relaxed);
            if max != usize::MAX || Instant::now() >= deadline {
                return max;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Makes a call: `path`, extra headers, and `body` (already framed) sent at once.
    pub fn call(&mut self, path: &str, headers: &[(&str, &str)], body: Bytes) -> Exchange {
        self.call_with(path, headers, body, true)
    }

    /// Like [`H2Conn::call`], leaving the request stream open after `body` if `end` is false:
    /// whatever the server answers, it answers without having seen the request's end.
    pub fn call_with(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
        end: bool,
    ) -> Exchange {
        self.send(path, Some("application/grpc"), headers, body, end)
    }

    /// Like [`H2Conn::call`] with `content_type` (None: no content-type at all) instead of
    /// gRPC's.
    pub fn call_as(&mut self, path: &str, content_type: Option<&str>, body: Bytes) -> Exchange {
        self.send(path, content_type, &[], body, true)
    }

    /// Sends the headers of a SayHello call and holds it there: the server has them (a PING
    /// sent after them has come back, and the server answers frames in order), so the call is
    /// in flight until [`HeldCall::finish`] sends its message. Dropping it abandons the call.
    pub fn hold(mut self) -> HeldCall {
        let request = request(
            "/helloworld.Greeter/SayHello",
            Some("application/grpc"),
            &[],
        );
        let client = self.client.clone();
        let ping_pong = &mut self.ping_pong;
        let (response, body) = self.runtime.block_on(async {
            tokio::time::timeout(BOUND, async {
                let mut client = client.ready().await.unwrap();
                let sent = client.send_request(request, false).unwrap();
                ping_pong.ping(h2::Ping::opaque()).await.unwrap();
                sent
            })
            .await
            .expect("the call's headers were sent in time")
        });
        HeldCall {
            conn: self,
            response,
            body,
        }
    }

    fn send(
        &mut self,
        path: &str,
        content_type: Option<&str>,
        headers: &[(&str, &str)],
        body: Bytes,
        end: bool,
    ) -> Exchange {
        let request = request(path, content_type, headers);
        let client = self.client.clone();
        self.runtime.block_on(async move {
            let started = Instant::now();
            let exchange = tokio::time::timeout(BOUND, exchange(client, request, body, end))
                .await
                .expect("the call ended within the bound");
            Exchange {
                elapsed: started.elapsed(),
                ..exchange
            }
        })
    }

    /// Waits, at most `bound`, for the server to close the connection; how long it stayed
    /// open in all, or None if it is still open.
    pub fn closed_within(&mut self, bound: Duration) -> Option<Duration> {
        let driver = self.driver.as_mut().expect("not awaited yet");
        let closed = self
            .runtime
            .block_on(async { tokio::time::timeout(bound, driver).await.ok() });
        closed.map(|_| {
            self.driver = None;
            self.opened.elapsed()
        })
    }
}

/// A SayHello call whose headers the server has, and whose message is not sent yet.
pub struct HeldCall {
    conn: H2Conn,
    response: ResponseFuture,
    body: SendStream<Bytes>,
}

impl HeldCall {
    /// Sends `HelloRequest { name }` and ends the request: what came back.
    pub fn finish(mut self, name: &str) -> Exchange {
        let started = Instant::now();
        let (response, body) = (self.response, &mut self.body);
        // The server may have answered already, closing the stream to our data: the response
        // then tells what happened.
        let _ = body.send_data(hello_request(name), true);
        let exchange = self.conn.runtime.block_on(async {
            tokio::time::timeout(BOUND, response_of(response))
                .await
                .expect("the call ended within the bound")
        });
        Exchange {
            elapsed: started.elapsed(),
            ..exchange
        }
    }
}

impl Exchange {
    /// The one reply's `message` if the call ended OK; otherwise what ended it: a reset or
    /// a broken connection, an HTTP status other than 200, or `grpc-status N`.
    pub fn reply(&self) -> Result<String, String> {
        if let Some(error) = &self.error {
            return Err(error.clone());
        }
        if self.http_status != 200 {
            return Err(format!("HTTP status {}", self.http_status));
        }
        match self.grpc_status.as_deref() {
            Some("0") => Ok(reply_message(self.data.clone())),
            Some(status) => Err(format!("grpc-status {status}")),
            None => Err("no grpc-status".to_owned()),
        }
    }
}

/// The `message` field of a length-prefixed `HelloReply`.
fn reply_message(mut data: Bytes) -> String {
    assert!(data.len() >= 7, "short reply {data:?}");
    data.advance(5);
    assert_eq!(data.get_u8(), 0x0a, "field 1 first");
    // The length is a varint: a long name makes a reply of more than 127 bytes.
    let mut len = 0usize;
    for shift in (0..).step_by(7) {
        let byte = data.get_u8();
        len |= usize::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            break;
        }
    }
    String::from_utf8(data[..len].to_vec()).unwrap()
}

fn request(path: &str, content_type: Option<&str>, headers: &[(&str, &str)]) -> http::Request<()> {
    let mut request =
        http::Request::post(format!("http://localhost{path}")).header("te", "trailers");
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(()).unwrap()
}

fn failed(err: impl ToString) -> Exchange {
    Exchange {
        error: Some(err.to_string()),
        ..Exchange::default()
    }
}

async fn exchange(
    client: SendRequest<Bytes>,
    request: http::Request<()>,
    body: Bytes,
    end: bool,
) -> Exchange {
    let mut client = match client.ready().await {
        Ok(client) => client,
        Err(err) => return failed(err),
    };
    let (response, mut send) = match client.send_request(request, false) {
        Ok(sent) => sent,
        Err(err) => return failed(err),
    };
    // The server may answer before taking the body (an oversized prefix, an unknown encoding).
    let _ = send.send_data(body, end);
    // Kept open (when `end` is false) until the response is complete.
    let _send = send;
    response_of(response).await
}

async fn response_of(response: ResponseFuture) -> Exchange {
    let fail = |mut exchange: Exchange, err: String| {
        exchange.error = Some(err);
        exchange
    };
    let response = match response.await {
        Ok(response) => response,
        Err(err) => return failed(err),
    };
    let mut exchange = Exchange {
        http_status: response.status().as_u16(),
        ..Exchange::default()
    };
    let text = |value: &http::HeaderValue| value.to_str().unwrap_or("?").to_owned();
    for (name, value) in response.headers() {
        exchange.headers.push(format!("{name}: {}", text(value)));
    }
    exchange.grpc_status = response.headers().get("grpc-status").map(text);
    exchange.grpc_message = response.headers().get("grpc-message").map(message);
    let mut stream = response.into_body();
    let mut data = BytesMut::new();
    while let Some(chunk) = stream.data().await {
        match chunk {
            Ok(chunk) => {
                let _ = stream.flow_control().release_capacity(chunk.len());
                data.extend_from_slice(&chunk);
            }
            Err(err) => return fail(exchange, err.to_string()),
        }
    }
    exchange.messages = count_messages(&data);
    exchange.data = data.freeze();
    match stream.trailers().await {
        Ok(Some(trailers)) => {
            exchange.grpc_status = trailers.get("grpc-status").map(text);
            exchange.grpc_message = trailers.get("grpc-message").map(message);
        }
        Ok(None) => {}
        Err(err) => return fail(exchange, err.to_string()),
    }
    exchange
}

/// `grpc-message` is percent-encoded on the wire.
fn message(value: &http::HeaderValue) -> String {
    let bytes = value.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (bytes[index], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                index += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn count_messages(mut data: &[u8]) -> usize {
    let mut count = 0;
    while data.len() >= 5 {
        let len = u32::from_be_bytes([data[1], data[2], data[3], data[4]]) as usize;
        data = &data[(5 + len).min(data.len())..];
        count += 1;
    }
    count
}

/// A length-prefixed, uncompressed `HelloRequest { name }`.
pub fn hello_request(name: &str) -> Bytes {
    let mut message = BytesMut::new();
    message.put_u8(0x0a); // field 1, length-delimited
    let mut len = name.len();
    while len >= 0x80 {
        message.put_u8((len as u8 & 0x7f) | 0x80);
        len >>= 7;
    }
    message.put_u8(len as u8);
    message.put_slice(name.as_bytes());
    framed(0, &message)
}

/// `payload` behind gRPC's five-byte prefix: the compressed flag and the length.
pub fn framed(compressed: u8, payload: &[u8]) -> Bytes {
    let mut frame = BytesMut::new();
    frame.put_u8(compressed);
    frame.put_u32(payload.len() as u32);
    frame.put_slice(payload);
    frame.freeze()
}

/// Only the five-byte prefix of a message that claims to be `len` bytes long.
pub fn prefix_only(len: u32) -> Bytes {
    let mut frame = BytesMut::new();
    frame.put_u8(0);
    frame.put_u32(len);
    frame.freeze()
}

impl Drop for H2Conn {
    fn drop(&mut self) {
        if let Some(driver) = self.driver.take() {
            driver.abort();
        }
    }
}
