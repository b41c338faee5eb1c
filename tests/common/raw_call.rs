//! A SayHello call driven frame by frame with the h2 crate, so a test can hold it in flight:
//! the request's headers are sent, its body is not, and the server must keep the call open
//! (through a graceful drain, for instance) until the test sends the rest.

use bytes::{Buf, Bytes, BytesMut};
use h2::SendStream;
use h2::client::{ResponseFuture, SendRequest};
use tokio::net::TcpStream;
use tokio::runtime::Runtime;

use super::BOUND;
use super::h2conn::hello_request;

pub struct HalfSentCall {
    runtime: Runtime,
    body: SendStream<Bytes>,
    response: ResponseFuture,
    _connection: SendRequest<Bytes>,
}

impl HalfSentCall {
    /// Opens a connection to `addr` and sends SayHello's headers, but no message yet.
    pub fn start(addr: &str) -> HalfSentCall {
        HalfSentCall::start_path(addr, "/helloworld.Greeter/SayHello")
    }

    /// Like [`HalfSentCall::start`], for any method `path` (`/package.Service/Method`).
    pub fn start_path(addr: &str, path: &str) -> HalfSentCall {
        HalfSentCall::open(addr, path, None)
    }

    /// A whole call of `path` with `HelloRequest { name }`, headers and message sent together:
    /// the reply's `message`, or the error as text.
    pub fn call(addr: &str, path: &str, name: &str) -> Result<String, String> {
        let call = HalfSentCall::open(addr, path, Some(hello_request(name)));
        let mut response = call.response;
        call.runtime
            .block_on(async { bounded(read_reply(&mut response)).await })
    }

    /// Sends the headers, and `message` at once if there is one; without one, waits until the
    /// server has the headers, so the call is in flight.
    fn open(addr: &str, path: &str, message: Option<Bytes>) -> HalfSentCall {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (connection, response, body) = runtime.block_on(async {
            tokio::time::timeout(BOUND, async {
                let tcp = TcpStream::connect(addr).await.unwrap();
                let (client, mut driver) = h2::client::handshake(tcp).await.unwrap();
                let mut ping_pong = driver.ping_pong().expect("ping_pong is taken once");
                tokio::spawn(driver);
                let mut client = client.ready().await.unwrap();
                let request = http::Request::post(format!("http://{addr}{path}"))
                    .header("content-type", "application/grpc")
                    .header("te", "trailers")
                    .body(())
                    .unwrap();
                let (response, mut body) = client.send_request(request, false).unwrap();
                match message {
                    // An unknown method may be answered before the message is out, closing the
                    // stream to it: the response says what happened.
                    Some(message) => {
                        let _ = body.send_data(message, true);
                    }
                    // The server answers frames in order: once the PING comes back, it has the
                    // call's HEADERS, so the call counts as in flight from here on.
                    None => {
                        ping_pong.ping(h2::Ping::opaque()).await.unwrap();
                    }
                }
                (client, response, body)
            })
            .await
            .expect("the call's headers were sent in time")
        });
        HalfSentCall {
            runtime,
            body,
            response,
            _connection: connection,
        }
    }

    /// Sends the request message for `name` and returns the reply's `message`, or the error
    /// (a reset stream, a `grpc-status` other than 0) as text.
    pub fn finish(mut self, name: &str) -> Result<String, String> {
        let response = &mut self.response;
        let body = &mut self.body;
        self.runtime.block_on(async {
            // The server may have answered already, closing the stream to our data: the
            // response then tells what happened.
            let _ = body.send_data(hello_request(name), true);
            bounded(read_reply(response)).await
        })
    }
}

async fn bounded(reply: impl Future<Output = Result<String, String>>) -> Result<String, String> {
    tokio::time::timeout(BOUND, reply)
        .await
        .unwrap_or_else(|_| Err(format!("no reply within {BOUND:?}")))
}

/// The reply's `message`, or what went wrong: an HTTP status other than 200, a `grpc-status`
/// other than 0 (in the headers of a trailers-only response, or in the trailers), a reset.
async fn read_reply(response: &mut ResponseFuture) -> Result<String, String> {
    let response = response.await.map_err(|e| e.to_string())?;
    if response.status() != http::StatusCode::OK {
        return Err(format!("HTTP status {}", response.status()));
    }
    if let Some(status) = response.headers().get("grpc-status") {
        return Err(format!("grpc-status {:?}", status.to_str().ok()));
    }
    let mut stream = response.into_body();
    let mut data = BytesMut::new();
    while let Some(chunk) = stream.data().await {
        let chunk = chunk.map_err(|e| e.to_string())?;
        let _ = stream.flow_control().release_capacity(chunk.len());
        data.extend_from_slice(&chunk);
    }
    let trailers = stream.trailers().await.map_err(|e| e.to_string())?;
    let status = trailers
        .as_ref()
        .and_then(|t| t.get("grpc-status"))
        .and_then(|v| v.to_str().ok());
    if status != Some("0") {
        return Err(format!("grpc-status {status:?}"));
    }
    Ok(reply_message(data.freeze()))
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
