//! One call of the Greeter: connect (as patiently as asked), send the request with the
//! deadline and the `-H` headers, print each reply as it arrives, and name the failure.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use color_eyre::eyre::{Report, Result, WrapErr};
use http::uri::PathAndQuery;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::time::Instant;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::LinesStream;
use tonic::client::Grpc;
use tonic::codec::{BufferSettings, Codec};
use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue};
use tonic::transport::Channel;
use tonic::{Request, Status, Streaming};
use tonic_prost::{ProstDecoder, ProstEncoder};

use super::config::Config;
use super::failure::{as_grpc_says, deadline_exceeded, is_deadline, status_failure};
use super::h2_channel::H2Channel;
use super::headers::Headers;
use super::output::{self, Seen};
use super::patience;
use super::transport::Transport;
use crate::exit::CallFailed;
use crate::proto::greeter_client::GreeterClient;
use crate::proto::{HelloReply, HelloRequest};

/// Which Greeter method `hello` calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// SayHello: one name, one reply.
    Unary,
    /// SayHelloStreamReply: one name, several replies.
    ServerStream,
    /// SayHelloBidiStream: the lines of stdin as names, one reply each.
    Bidi,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Unary => "SayHello",
            Method::ServerStream => "SayHelloStreamReply",
            Method::Bidi => "SayHelloBidiStream",
        }
    }
}

/// A request too large to send fails before connecting (each line of --bidi is left to
/// tonic's own check).
pub fn check_request(config: &Config) -> Result<(), CallFailed> {
    if config.method == Method::Bidi {
        return Ok(());
    }
    let request = HelloRequest {
        name: config.name.clone(),
    };
    config
        .messages
        .check_request(&request)
        .map_err(|status| status_failure(&config.targets, config.method, &status))
}

/// Connects and makes the call once, printing each reply as it arrives (and noting in
/// `printed` that it did).
pub async fn attempt(
    config: &Config,
    transport: &Transport,
    deadline: Instant,
    printed: &Cell<bool>,
) -> Result<()> {
    let target = &config.targets;
    let expired = || deadline_exceeded(target, config.timeout);
    let connecting = patience::connect(
        target,
        transport,
        deadline,
        config.timeout,
        &config.patience,
        expired,
    );
    let client = config.messages.client(connecting.await?);
    let outcome = tokio::time::timeout_at(
        deadline,
        exchange(config, transport, client, deadline, printed),
    )
    .await
    .map_err(|_| expired())?;
    match outcome {
        // A server that closed without a word may be a TLS server: ask it, now that the
        // call has failed anyway.
        Err(failure) if is_unavailable(&failure) => {
            match transport.tls_behind_silence(deadline).await {
                Some(trouble) => {
                    let status = Status::unavailable(trouble.message);
                    Err(status_failure(target, config.method, &status).into())
                }
                None => Err(failure),
            }
        }
        outcome => outcome,
    }
}

/// The call's requests and replies, each reply printed as it comes.
async fn exchange(
    config: &Config,
    transport: &Transport,
    mut client: GreeterClient<Channel>,
    deadline: Instant,
    printed: &Cell<bool>,
) -> Result<()> {
    let print = |reply: HelloReply, seen: &Seen| {
        printed.set(true);
        output::print_reply(&reply, seen, config.output).wrap_err("could not write to stdout")
    };
    let failed = |status: Status| -> Report {
        let status = as_grpc_says(status, transport.troubles(), &config.messages);
        if is_deadline(&status) {
            deadline_exceeded(&config.targets, config.timeout).into()
        } else {
            status_failure(&config.targets, config.method, &status).into()
        }
    };
    let request = || HelloRequest {
        name: config.name.clone(),
    };
    let (headers, verbose) = (&config.headers, config.patience.verbose);
    match config.method {
        Method::Unary => {
            let reply = say_hello(&mut client, request(), deadline, headers).await;
            let reply = reply.map_err(|status| {
                // A failed call's headers say as much (which replica, what it echoed).
                if verbose {
                    output::print_metadata(status.metadata());
                }
                output::warn_if_fault_ignored(headers, status.metadata());
                failed(status)
            })?;
            output::warn_if_fault_ignored(headers, reply.metadata());
            if verbose {
                // tonic merges a unary call's trailers into its metadata.
                output::print_metadata(reply.metadata());
            }
            let seen = Seen::of(reply.metadata());
            print(reply.into_inner(), &seen)
        }
        Method::ServerStream => {
            let replies = client
                .say_hello_stream_reply(timed(request(), deadline, headers))
                .await;
            print_each(replies.map_err(failed)?, print, failed, verbose).await
        }
        Method::Bidi => {
            let replies = client
                .say_hello_bidi_stream(timed(names_from_stdin(), deadline, headers))
                .await;
            print_each(replies.map_err(failed)?, print, failed, verbose).await
        }
    }
}

/// SayHello with the deadline and the headers: the one unary call of a single call and of
/// every call of a repeated run.
pub async fn say_hello(
    client: &mut GreeterClient<Channel>,
    request: HelloRequest,
    deadline: Instant,
    headers: &Headers,
) -> Result<tonic::Response<HelloReply>, Status> {
    client.say_hello(timed(request, deadline, headers)).await
}

/// SayHello on a replica's channel, as [`say_hello`] makes it: each call of a repeated run.
pub async fn say_hello_on(
    client: &mut Grpc<H2Channel>,
    request: HelloRequest,
    deadline: Instant,
    requests: &Requests,
) -> Result<tonic::Response<HelloReply>, Status> {
    // The channel is never not ready: a failure to connect comes as the call's outcome.
    client.ready().await?;
    let path = PathAndQuery::from_static("/helloworld.Greeter/SayHello");
    let mut request = Request::new(request);
    requests.headers.apply(request.metadata_mut());
    requests.set_timeout(&mut request, deadline);
    client.unary(request, path, SmallMessages).await
}

/// What a repeated run's requests carry: the `-H` headers as HTTP/2 sends them
/// ([`Headers::for_http2`]), and `grpc-timeout`, as [`timed`] sets it but in whole
/// milliseconds when 100 ms or more remain (rounded down: the server gives up no later than
/// we do). tonic's `set_timeout` writes microseconds, a value that differs from one call to the
/// next, so each call's `grpc-timeout` was a new entry for HPACK to encode, add to the
/// connection's table and evict another for; calls made within the same millisecond of their
/// deadline now send the same header, which HPACK sends as an index, and which is made once.
pub struct Requests {
    headers: Headers,
    key: AsciiMetadataKey,
    /// The last value made, and its milliseconds.
    last: RefCell<Option<(u128, AsciiMetadataValue)>>,
}

impl Requests {
    pub fn new(headers: &Headers) -> Requests {
        Requests {
            headers: headers.for_http2(),
            key: AsciiMetadataKey::from_static("grpc-timeout"),
            last: RefCell::new(None),
        }
    }

    fn set_timeout<T>(&self, request: &mut Request<T>, deadline: Instant) {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let millis = remaining.as_millis();
        let mut last = self.last.borrow_mut();
        let value = match &*last {
            Some((made, value)) if *made == millis => value.clone(),
            _ => match AsciiMetadataValue::try_from(grpc_timeout(remaining)) {
                Ok(value) => {
                    if millis >= 100 {
                        *last = Some((millis, value.clone()));
                    }
                    value
                }
                // Cannot happen (digits and a unit are ASCII); tonic's own, in any case.
                Err(_) => return request.set_timeout(remaining),
            },
        };
        request.metadata_mut().insert(self.key.clone(), value);
    }
}

/// `grpc-timeout`'s value for `remaining`: at most 8 digits and a unit (gRPC's PROTOCOL-HTTP2),
/// milliseconds when 100 ms or more remain, else microseconds.
fn grpc_timeout(remaining: Duration) -> String {
    const MAX: u128 = 99_999_999;
    let millis = remaining.as_millis();
    if millis < 100 {
        return format!("{}u", remaining.as_micros());
    }
    if millis <= MAX {
        return format!("{millis}m");
    }
    let secs = u128::from(remaining.as_secs());
    if secs <= MAX {
        return format!("{secs}S");
    }
    // At most 8 digits: --timeout is at most 100 years (`cli::MAX_DURATION`), 52 596 000
    // minutes.
    format!("{}M", secs / 60)
}

/// tonic's protobuf codec with buffers for small messages. Its own start each call's request and
/// response buffers at 8 KiB, an allocation glibc's per-thread cache does not keep, so each call
/// paid for two allocations on its slow path (and the consolidation of freed chunks they
/// trigger); a larger message grows its buffer as it needs.
struct SmallMessages;

impl SmallMessages {
    /// A SayHello request or reply of a name of up to 500 bytes or so fits.
    fn buffers() -> BufferSettings {
        BufferSettings::new(512, 32 << 10)
    }
}

impl Codec for SmallMessages {
    type Encode = HelloRequest;
    type Decode = HelloReply;
    type Encoder = ProstEncoder<HelloRequest>;
    type Decoder = ProstDecoder<HelloReply>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::new(Self::buffers())
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProstDecoder::new(Self::buffers())
    }
}

/// Whether a failed call ended with UNAVAILABLE, the one status worth retrying.
pub fn is_unavailable(failure: &Report) -> bool {
    failure
        .downcast_ref::<CallFailed>()
        .is_some_and(|call| call.code == tonic::Code::Unavailable)
}

/// A request carrying the `-H` headers and the deadline, sent as `grpc-timeout` so the server
/// gives up when we do.
pub fn timed<T>(message: T, deadline: Instant, headers: &Headers) -> Request<T> {
    let mut request = Request::new(message);
    headers.apply(request.metadata_mut());
    request.set_timeout(deadline.saturating_duration_since(Instant::now()));
    request
}

async fn print_each(
    response: tonic::Response<Streaming<HelloReply>>,
    print: impl Fn(HelloReply, &Seen) -> Result<()>,
    failed: impl Fn(Status) -> Report,
    verbose: bool,
) -> Result<()> {
    if verbose {
        output::print_metadata(response.metadata());
    }
    let seen = Seen::of(response.metadata());
    let mut replies = response.into_inner();
    while let Some(reply) = replies.message().await.map_err(&failed)? {
        print(reply, &seen)?;
    }
    if verbose && let Some(trailers) = replies.trailers().await.map_err(&failed)? {
        output::print_metadata(&trailers);
    }
    Ok(())
}

/// Each line of stdin as a request, sent as soon as it is read; the stream ends with stdin
/// (or at the first line that is not UTF-8).
fn names_from_stdin() -> impl tokio_stream::Stream<Item = HelloRequest> + Send + 'static {
    let lines = BufReader::new(tokio::io::stdin()).lines();
    LinesStream::new(lines).map_while(|line| line.ok().map(|name| HelloRequest { name }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_is_whole_milliseconds_from_100_ms_and_8_digits_at_most() {
        let shown = |micros: u64| grpc_timeout(Duration::from_micros(micros));
        assert_eq!(shown(999_987), "999m", "rounded down");
        assert_eq!(
            shown(999_001),
            "999m",
            "the same for calls within a millisecond"
        );
        assert_eq!(shown(100_000), "100m");
        assert_eq!(shown(99_999), "99999u", "precise when little is left");
        assert_eq!(shown(0), "0u");
        assert_eq!(shown(30_000_000), "30000m");
        let century = Duration::from_secs(100 * 365 * 24 * 3600 + 3600);
        assert_eq!(grpc_timeout(century), "52560060M");
        assert_eq!(grpc_timeout(Duration::from_secs(99_999_999)), "99999999S");
    }
}
