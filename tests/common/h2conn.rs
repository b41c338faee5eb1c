//! One raw HTTP/2 connection (the h2 crate), for what `greeter hello` deliberately never does:
//! any header (`grpc-timeout` without a client-side deadline, an unknown `grpc-encoding`), a
//! message that is only a length prefix, several calls on one connection, and a look at the
//! server's SETTINGS and at when it closes the connection.

use std::future::poll_fn;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use h2::client::SendRequest;
use tokio::net::TcpStream;
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

use super::BOUND;

pub struct H2Conn {
    pub runtime: Runtime,
    client: SendRequest<Bytes>,
    driver: Option<JoinHandle<Result<(), String>>>,
    max_streams: Arc<AtomicUsize>,
    pub opened: Instant,
}

/// What came back for one call.
#[derive(Debug)]
pub struct Exchange {
    /// The HTTP status of the response (0 if none came).
    pub http_status: u16,
    /// `grpc-status` from the headers (trailers-only) or the trailers; None if neither had one.
    pub grpc_status: Option<String>,
    pub grpc_message: Option<String>,
    /// The response headers, as `name: value` lines (`grpc-message` percent-decoded in
    /// `grpc_message`, not here).
    pub headers: Vec<String>,
    /// Every length-prefixed message, raw (compressed flag, length, bytes).
    pub messages: usize,
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
        let (client, driver) = runtime.block_on(async {
            let tcp = tokio::time::timeout(BOUND, TcpStream::connect(addr))
                .await
                .expect("connect in time")
                .expect("connect");
            let (client, mut connection) = h2::client::handshake(tcp).await.unwrap();
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
            (client, driver)
        });
        H2Conn {
            runtime,
            client,
            driver: Some(driver),
            max_streams,
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

    fn send(
        &mut self,
        path: &str,
        content_type: Option<&str>,
        headers: &[(&str, &str)],
        body: Bytes,
        end: bool,
    ) -> Exchange {
        let mut request =
            http::Request::post(format!("http://localhost{path}")).header("te", "trailers");
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(()).unwrap();
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

async fn exchange(
    client: SendRequest<Bytes>,
    request: http::Request<()>,
    body: Bytes,
    end: bool,
) -> Exchange {
    let mut exchange = Exchange {
        http_status: 0,
        grpc_status: None,
        grpc_message: None,
        headers: Vec::new(),
        messages: 0,
        error: None,
        elapsed: Duration::ZERO,
    };
    let fail = |mut exchange: Exchange, err: String| {
        exchange.error = Some(err);
        exchange
    };
    let mut client = match client.ready().await {
        Ok(client) => client,
        Err(err) => return fail(exchange, err.to_string()),
    };
    let (response, mut send) = match client.send_request(request, false) {
        Ok(sent) => sent,
        Err(err) => return fail(exchange, err.to_string()),
    };
    // The server may answer before taking the body (an oversized prefix, an unknown encoding).
    let _ = send.send_data(body, end);
    // Kept open (when `end` is false) until the response is complete.
    let _send = send;
    let response = match response.await {
        Ok(response) => response,
        Err(err) => return fail(exchange, err.to_string()),
    };
    exchange.http_status = response.status().as_u16();
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
