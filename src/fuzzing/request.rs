//! One call, described by fuzz input, to the server's real services over an in-process HTTP/2
//! connection: the connection is served as a worker serves an accepted one, and the h2 crate
//! is the client.
//!
//! The input, in order (what is missing reads as zeros, lengths are cut to what is left):
//! - one byte: the path, one of [`PATHS`];
//! - one byte of [`Flags`], which also says how many headers follow (0 to 3);
//! - each header: a length byte and the name, a length byte and the value (a name or value
//!   HTTP cannot carry is skipped);
//! - the rest: the request body, sent as it is, so both valid gRPC messages and malformed
//!   length prefixes reach the server.

use std::panic::resume_unwind;
use std::time::Duration;

use bytes::Bytes;
use h2::client::SendRequest;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request};
use tokio::io::DuplexStream;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Every service and method the server has, and paths it has not.
const PATHS: [&str; 11] = [
    "/helloworld.Greeter/SayHello",
    "/helloworld.Greeter/SayHelloStreamReply",
    "/helloworld.Greeter/SayHelloBidiStream",
    "/helloworld.Greeter/NoSuchMethod",
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/List",
    "/grpc.health.v1.Health/Watch",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    "/no.such.Service/Method",
    "/malformed",
];

/// The token the server requires when [`Flags::TOKEN_REQUIRED`] is set.
const TOKEN: &str = "fuzz-token";

/// `serve`'s default 100 ms between streamed replies would make every streaming input take
/// 400 ms; 1 ms still goes through the timer.
const STREAM_INTERVAL: Duration = Duration::from_millis(1);

/// As much as a socket buffers: the client writes the whole request before it reads.
const PIPE_BUFFER: usize = 64 * 1024;

/// The whole call, from connecting to the server closing the connection. A valid call takes
/// milliseconds; an input that takes this long has found a hang.
const BOUND: Duration = Duration::from_secs(5);

/// The second byte of the input.
struct Flags(u8);

impl Flags {
    const TOKEN_REQUIRED: u8 = 1;
    const TOKEN_SENT: u8 = 1 << 1;
    /// Leave out `content-type: application/grpc`: the request is not gRPC (unless a header
    /// of the input says it is).
    const NOT_GRPC: u8 = 1 << 2;
    /// Send the body in two DATA frames, split in the middle.
    const SPLIT_BODY: u8 = 1 << 3;

    fn has(&self, flag: u8) -> bool {
        self.0 & flag != 0
    }

    fn header_count(&self) -> usize {
        usize::from(self.0 >> 4 & 0b11)
    }
}

/// What came back, for the tests to see that inputs reach the services.
#[derive(Debug, Default)]
pub(crate) struct Answer {
    pub http_status: Option<u16>,
    /// From the headers (a trailers-only answer) or the trailers.
    pub grpc_status: Option<String>,
    /// The response body: the reply messages, length prefixes included.
    pub body: Vec<u8>,
}

/// The call `input` describes.
struct Call {
    path: &'static str,
    flags: Flags,
    headers: HeaderMap,
    body: Bytes,
}

impl Call {
    fn read(input: &[u8]) -> Call {
        let mut input = Input(input);
        let path = PATHS[usize::from(input.byte()) % PATHS.len()];
        let flags = Flags(input.byte());
        let mut headers = HeaderMap::new();
        headers.insert("te", HeaderValue::from_static("trailers"));
        if !flags.has(Flags::NOT_GRPC) {
            headers.insert("content-type", HeaderValue::from_static("application/grpc"));
        }
        if flags.has(Flags::TOKEN_SENT) {
            let bearer = HeaderValue::from_str(&format!("Bearer {TOKEN}"));
            headers.extend(bearer.map(|value| (http::header::AUTHORIZATION, value)));
        }
        for _ in 0..flags.header_count() {
            let (name, value) = (input.counted(), input.counted());
            if let (Ok(name), Ok(value)) =
                (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
            {
                headers.append(name, value);
            }
        }
        Call {
            path,
            flags,
            headers,
            body: Bytes::copy_from_slice(input.0),
        }
    }
}

/// The input, read from the front.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        let (&first, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        first
    }

    /// A length byte, then that many bytes (or as many as are left).
    fn counted(&mut self) -> &'a [u8] {
        let len = usize::from(self.byte()).min(self.0.len());
        let (taken, rest) = self.0.split_at(len);
        self.0 = rest;
        taken
    }
}

/// Makes the call `input` describes; see [`super::request`].
pub(crate) fn call(input: &[u8]) -> Answer {
    let call = Call::read(input);
    let runtime = crate::runtime::single_threaded().expect("a tokio runtime");
    runtime.block_on(async {
        tokio::time::timeout(BOUND, call.make())
            .await
            // On purpose: a call that hangs is a finding, and the fuzzer reports panics.
            .unwrap_or_else(|_| panic!("the call and its connection outlasted {BOUND:?}"))
    })
}

impl Call {
    async fn make(self) -> Answer {
        let (client_io, server_io) = tokio::io::duplex(PIPE_BUFFER);
        let (drain, shutdown) = watch::channel(false);
        let token = self.flags.has(Flags::TOKEN_REQUIRED).then_some(TOKEN);
        let serving = crate::server::in_process::serve_one_connection(
            server_io,
            token,
            STREAM_INTERVAL,
            shutdown,
        )
        .expect("the server's services");
        let server = tokio::spawn(serving);
        let mut answer = Answer::default();
        if let Ok((client, driver)) = connect(client_io).await {
            // An error is the server refusing the call or the connection: an answer too.
            let _ = self.exchange(client, &drain, &mut answer).await;
            // Once every handle is gone and the stream ended, h2 closes the connection.
            joined(driver).await;
        }
        drain.send_replace(true);
        joined(server).await;
        answer
    }

    async fn exchange(
        self,
        client: SendRequest<Bytes>,
        drain: &watch::Sender<bool>,
        answer: &mut Answer,
    ) -> Result<(), h2::Error> {
        let mut client = client.ready().await?;
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(format!("http://greeter{}", self.path))
            .body(())
            .expect("a request of a valid method and path");
        *request.headers_mut() = self.headers;
        let (response, mut sending) = client.send_request(request, false)?;
        drop(client);
        let split = if self.flags.has(Flags::SPLIT_BODY) {
            self.body.len() / 2
        } else {
            0
        };
        let mut body = self.body;
        let tail = body.split_off(split);
        if !body.is_empty() {
            sending.send_data(body, false)?;
        }
        sending.send_data(tail, true)?;

        let response = response.await?;
        answer.http_status = Some(response.status().as_u16());
        answer.grpc_status = grpc_status(response.headers());
        // A health Watch only ends when the server drains: drain once the call is in, as
        // `serve` does on SIGTERM, and let the server end every call.
        drain.send_replace(true);
        let mut body = response.into_body();
        while let Some(data) = body.data().await {
            let data = data?;
            let _ = body.flow_control().release_capacity(data.len());
            answer.body.extend_from_slice(&data);
        }
        if let Some(trailers) = body.trailers().await? {
            answer.grpc_status = answer.grpc_status.take().or(grpc_status(&trailers));
        }
        Ok(())
    }
}

type Driver = JoinHandle<Result<(), h2::Error>>;

/// The client's HTTP/2 handshake, and the task that drives its connection.
async fn connect(io: DuplexStream) -> Result<(SendRequest<Bytes>, Driver), h2::Error> {
    let (client, connection) = h2::client::handshake(io).await?;
    Ok((client, tokio::spawn(connection)))
}

/// Waits for a task, and goes on with its panic if it panicked.
async fn joined<T>(task: JoinHandle<T>) {
    if let Err(err) = task.await
        && err.is_panic()
    {
        resume_unwind(err.into_panic());
    }
}

fn grpc_status(headers: &HeaderMap) -> Option<String> {
    let status = headers.get("grpc-status")?.to_str().ok()?;
    Some(status.to_owned())
}

#[cfg(test)]
mod tests {
    use prost::Message as _;

    use super::*;
    use crate::proto::HelloRequest;

    /// The input for a call to `path` with `flags` (header count included) and `headers`.
    fn input(path: &str, flags: u8, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
        let index = PATHS.iter().position(|known| *known == path).unwrap();
        let mut input = vec![index as u8, flags | (headers.len() as u8) << 4];
        for (name, value) in headers {
            for text in [name, value] {
                input.push(text.len() as u8);
                input.extend_from_slice(text.as_bytes());
            }
        }
        input.extend_from_slice(body);
        input
    }

    /// `message` with its gRPC length prefix (uncompressed).
    fn framed(message: &[u8]) -> Vec<u8> {
        let mut framed = vec![0];
        framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
        framed.extend_from_slice(message);
        framed
    }

    fn hello(name: &str) -> Vec<u8> {
        framed(
            &HelloRequest {
                name: name.to_owned(),
            }
            .encode_to_vec(),
        )
    }

    const SAY_HELLO: &str = "/helloworld.Greeter/SayHello";

    fn greetings(answer: &Answer) -> usize {
        let greeting = b"Hello fuzz";
        let windows = answer.body.windows(greeting.len());
        windows.filter(|window| window == greeting).count()
    }

    #[test]
    fn a_valid_call_is_answered_by_the_greeter() {
        let answer = call(&input(SAY_HELLO, 0, &[], &hello("fuzz")));
        assert_eq!(answer.http_status, Some(200));
        assert_eq!(answer.grpc_status.as_deref(), Some("0"), "{answer:?}");
        assert_eq!(greetings(&answer), 1);
    }

    #[test]
    fn streams_run_to_their_end() {
        let path = "/helloworld.Greeter/SayHelloStreamReply";
        let answer = call(&input(path, Flags::SPLIT_BODY, &[], &hello("fuzz")));
        assert_eq!(answer.grpc_status.as_deref(), Some("0"), "{answer:?}");
        assert_eq!(greetings(&answer), 5, "serve's default --stream-count");

        let path = "/helloworld.Greeter/SayHelloBidiStream";
        let two = [hello("fuzz"), hello("fuzz")].concat();
        let answer = call(&input(path, 0, &[], &two));
        assert_eq!(answer.grpc_status.as_deref(), Some("0"), "{answer:?}");
        assert_eq!(greetings(&answer), 2);
    }

    #[test]
    fn a_health_watch_ends_with_the_drain() {
        let answer = call(&input("/grpc.health.v1.Health/Watch", 0, &[], &framed(&[])));
        assert_eq!(answer.grpc_status.as_deref(), Some("0"), "{answer:?}");
    }

    #[test]
    fn reflection_lists_the_services() {
        // ServerReflectionRequest { list_services: "" }: field 7, a string of length 0.
        let list = framed(&[7 << 3 | 2, 0]);
        for path in [
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        ] {
            let answer = call(&input(path, 0, &[], &list));
            let listed = answer.body.windows(18).any(|w| w == b"helloworld.Greeter");
            assert!(listed, "{path}: {answer:?}");
        }
    }

    #[test]
    fn the_token_is_checked_when_required() {
        let missing = call(&input(
            SAY_HELLO,
            Flags::TOKEN_REQUIRED,
            &[],
            &hello("fuzz"),
        ));
        assert_eq!(missing.grpc_status.as_deref(), Some("16"), "{missing:?}");
        let both = Flags::TOKEN_REQUIRED | Flags::TOKEN_SENT;
        let sent = call(&input(SAY_HELLO, both, &[], &hello("fuzz")));
        assert_eq!(sent.grpc_status.as_deref(), Some("0"), "{sent:?}");
    }

    #[test]
    fn what_is_not_a_valid_call_gets_an_answer_saying_so() {
        let path = SAY_HELLO;
        let not_grpc = call(&input(path, Flags::NOT_GRPC, &[], &hello("fuzz")));
        assert_eq!(not_grpc.http_status, Some(415), "{not_grpc:?}");
        let unknown = call(&input("/no.such.Service/Method", 0, &[], &hello("fuzz")));
        assert_eq!(unknown.grpc_status.as_deref(), Some("12"), "{unknown:?}");
        let cut_short = call(&input(path, 0, &[], &[0, 0, 0, 0, 9, 1]));
        assert_eq!(cut_short.http_status, Some(200), "{cut_short:?}");
        assert_ne!(cut_short.grpc_status.as_deref(), Some("0"), "{cut_short:?}");
        let unknown_encoding = [("grpc-encoding", "br")];
        let compressed = call(&input(path, 0, &unknown_encoding, &hello("fuzz")));
        assert_eq!(
            compressed.grpc_status.as_deref(),
            Some("12"),
            "{compressed:?}"
        );
    }

    /// The seeds of `fuzz/seeds/request/` are the calls the fuzzer would take longest to find:
    /// they must stay valid as the input's layout changes.
    #[test]
    fn every_committed_seed_is_a_call_the_server_answers() {
        let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/request");
        let mut seen = 0;
        for entry in std::fs::read_dir(&seeds).unwrap() {
            let path = entry.unwrap().path();
            let answer = call(&std::fs::read(&path).unwrap());
            let name = path.file_name().unwrap().to_string_lossy();
            let expected = if name == "not_grpc" { 415 } else { 200 };
            assert_eq!(answer.http_status, Some(expected), "{name}: {answer:?}");
            if expected == 200 {
                assert_eq!(
                    answer.grpc_status.as_deref(),
                    Some("0"),
                    "{name}: {answer:?}"
                );
            }
            seen += 1;
        }
        assert!(seen >= 10, "{} has {seen} seeds", seeds.display());
    }
}
