//! A SayHello call driven frame by frame with the h2 crate, so a test can hold it in flight:
//! the request's headers are sent, its body is not, and the server must keep the call open
//! (through a graceful drain, for instance) until the test sends the rest.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use h2::SendStream;
use h2::client::{ResponseFuture, SendRequest};
use tokio::net::TcpStream;
use tokio::runtime::Runtime;

use super::BOUND;

pub struct HalfSentCall {
    runtime: Runtime,
    body: SendStream<Bytes>,
    response: ResponseFuture,
    _connection: SendRequest<Bytes>,
}

impl HalfSentCall {
    /// Opens a connection to `addr` and sends SayHello's headers, but no message yet.
    pub fn start(addr: &str) -> HalfSentCall {
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
                let request =
                    http::Request::post(format!("http://{addr}/helloworld.Greeter/SayHello"))
                        .header("content-type", "application/grpc")
                        .header("te", "trailers")
                        .body(())
                        .unwrap();
                let (response, body) = client.send_request(request, false).unwrap();
                // The server answers frames in order: once the PING comes back, it has the
                // call's HEADERS, so the call counts as in flight from here on.
                ping_pong.ping(h2::Ping::opaque()).await.unwrap();
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
        let runtime = self.runtime;
        let mut response = self.response;
        let body = &mut self.body;
        runtime.block_on(async {
            tokio::time::timeout(BOUND, async {
                body.send_data(grpc_frame(name), true)
                    .map_err(|e| e.to_string())?;
                let response = (&mut response).await.map_err(|e| e.to_string())?;
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
                    .map(|v| v.to_str().unwrap_or("?").to_owned());
                if status.as_deref() != Some("0") {
                    return Err(format!("grpc-status {status:?}"));
                }
                Ok(reply_message(data.freeze()))
            })
            .await
            .unwrap_or_else(|_| Err(format!("no reply within {:?}", BOUND)))
        })
    }
}

/// A length-prefixed gRPC message holding `HelloRequest { name }`.
fn grpc_frame(name: &str) -> Bytes {
    assert!(
        name.len() < 128,
        "a one-byte varint length keeps this encoder simple"
    );
    let mut frame = BytesMut::new();
    frame.put_u8(0); // not compressed
    frame.put_u32(name.len() as u32 + 2);
    frame.put_u8(0x0a); // field 1, length-delimited
    frame.put_u8(name.len() as u8);
    frame.put_slice(name.as_bytes());
    frame.freeze()
}

/// The `message` field of a length-prefixed `HelloReply`.
fn reply_message(mut data: Bytes) -> String {
    assert!(data.len() >= 7, "short reply {data:?}");
    data.advance(5);
    assert_eq!(data.get_u8(), 0x0a, "field 1 first");
    let len = data.get_u8() as usize;
    String::from_utf8(data[..len].to_vec()).unwrap()
}
