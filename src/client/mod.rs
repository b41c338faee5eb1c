//! `greeter hello`: one call on a single-threaded runtime, printed for people or scripts.

mod config;
mod connect;
mod grpc_client;
mod headers;
mod insecure;
mod output;
mod patience;
mod repeat;
mod replicas;
mod server_cert;
mod tls;
mod token;
mod transport;
mod trouble;
mod watch;

pub use config::Config;

use std::cell::Cell;
use std::time::Duration;

use color_eyre::eyre::{Report, Result, WrapErr};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::time::Instant;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::LinesStream;
use tonic::{Code, Request, Status, Streaming};

use crate::address::Targets;
use crate::exit::CallFailed;
use crate::proto::{HelloReply, HelloRequest};
use grpc_client::Messages;
use headers::Headers;
use patience::Backoff;
use transport::Transport;
use trouble::Troubles;

pub fn run(config: Config) -> Result<()> {
    // Reads the TLS files (only if TLS is used) before anything connects.
    let transport = Transport::new(config.transport.clone(), &config.targets)?;
    // A one-shot call has nothing to run in parallel: one thread starts fastest.
    let runtime = crate::runtime::single_threaded()?;
    let outcome = if config.repeat.is_single() {
        runtime.block_on(call(&config, &transport))
    } else {
        runtime.block_on(call_repeatedly(&config, &transport))
    };
    // A read of stdin (--bidi) may still be blocked on its thread; don't wait for it.
    runtime.shutdown_background();
    outcome
}

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
    fn name(self) -> &'static str {
        match self {
            Method::Unary => "SayHello",
            Method::ServerStream => "SayHelloStreamReply",
            Method::Bidi => "SayHelloBidiStream",
        }
    }
}

/// Makes the call, retrying it on UNAVAILABLE as `--retries` allows, within the deadline
/// `config.timeout` sets.
async fn call(config: &Config, transport: &Transport) -> Result<()> {
    check_request(config)?;
    let deadline = Instant::now() + config.timeout;
    let patience = &config.patience;
    let mut backoff = Backoff::new(patience.retry_backoff, MAX_RETRY_BACKOFF);
    // Stdin cannot be read twice.
    let retries = if config.method == Method::Bidi {
        0
    } else {
        patience.retries
    };
    let printed = Cell::new(false);
    let mut retry = 0;
    loop {
        let failure = match attempt(config, transport, deadline, &printed).await {
            Err(failure) if retry < retries && !printed.get() && is_unavailable(&failure) => {
                failure
            }
            outcome => return outcome,
        };
        let pause = backoff.next_pause();
        if Instant::now() + pause >= deadline {
            return Err(failure);
        }
        retry += 1;
        if patience.verbose {
            eprintln!(
                "greeter: {failure:#}; retry {retry} of {retries} in {}",
                patience::shown(pause)
            );
        }
        tokio::time::sleep(pause).await;
    }
}

/// Checks that a replica answers (as patiently as asked), so a run against replicas that are
/// all down fails at once like a single call; then makes the calls, spread over the replicas.
async fn call_repeatedly(config: &Config, transport: &Transport) -> Result<()> {
    check_request(config)?;
    let deadline = Instant::now() + config.timeout;
    let expired = || deadline_exceeded(&config.targets, config.timeout);
    let probe = patience::connect(
        &config.targets,
        transport,
        deadline,
        config.timeout,
        &config.patience,
        expired,
    );
    let channel = probe.await?;
    let replicas =
        replicas::Replicas::new(&config.targets, channel, transport, config.messages).await?;
    repeat::run(config, &replicas).await
}

/// A request too large to send fails before connecting (each line of --bidi is left to
/// tonic's own check).
fn check_request(config: &Config) -> Result<(), CallFailed> {
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

/// The longest pause between two retries.
pub(crate) const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(5);

fn is_unavailable(failure: &Report) -> bool {
    failure
        .downcast_ref::<CallFailed>()
        .is_some_and(|call| call.code == Code::Unavailable)
}

/// Connects and makes the call once, printing each reply as it arrives (and noting in
/// `printed` that it did).
async fn attempt(
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
    let mut client = config.messages.client(connecting.await?);
    let print = |reply: HelloReply| {
        printed.set(true);
        output::print_reply(&reply, config.output).wrap_err("could not write to stdout")
    };
    let failed = |status: Status| -> Report {
        let status = as_grpc_says(status, transport.troubles(), &config.messages);
        if is_deadline(&status) {
            expired().into()
        } else {
            status_failure(target, config.method, &status).into()
        }
    };
    let request = || HelloRequest {
        name: config.name.clone(),
    };

    let headers = &config.headers;
    let verbose = config.patience.verbose;
    let exchange = async {
        match config.method {
            Method::Unary => {
                let reply = client.say_hello(timed(request(), deadline, headers)).await;
                let reply = reply.map_err(failed)?;
                if verbose {
                    // tonic merges a unary call's trailers into its metadata.
                    output::print_metadata(reply.metadata());
                }
                print(reply.into_inner())
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
    };
    let outcome = tokio::time::timeout_at(deadline, exchange)
        .await
        .map_err(|_| expired())?;
    match outcome {
        // A server that closed without a word may be a TLS server: ask it, now that the
        // call has failed anyway.
        Err(failure) if is_unavailable(&failure) => {
            match transport.troubles().tls_behind_silence(deadline).await {
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

/// A request carrying the `-H` headers and the deadline, sent as `grpc-timeout` so the server
/// gives up when we do.
fn timed<T>(message: T, deadline: Instant, headers: &Headers) -> Request<T> {
    let mut request = Request::new(message);
    headers.apply(request.metadata_mut());
    request.set_timeout(deadline.saturating_duration_since(Instant::now()));
    request
}

async fn print_each(
    response: tonic::Response<Streaming<HelloReply>>,
    print: impl Fn(HelloReply) -> Result<()>,
    failed: impl Fn(Status) -> Report,
    verbose: bool,
) -> Result<()> {
    if verbose {
        output::print_metadata(response.metadata());
    }
    let mut replies = response.into_inner();
    while let Some(reply) = replies.message().await.map_err(&failed)? {
        print(reply)?;
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

/// The status gRPC (and grpc-go) would report for what tonic reported as `status`.
fn as_grpc_says(status: Status, troubles: &Troubles, messages: &Messages) -> Status {
    let status = messages.refused_encoding(status);
    let status = grpc_client::over_limit_is_resource_exhausted(status);
    connection_lost_is_unavailable(status, troubles)
}

/// A connection that broke under a call reaches tonic as UNKNOWN ("transport error"), as
/// CANCELLED (hyper gave up the request) or as UNAVAILABLE with a raw OS message; gRPC (and
/// grpc-go) call all of them UNAVAILABLE, which is also what --retries retries. A status the
/// server sent, or a deadline, has no transport error behind it and is left alone.
///
/// h2 passes the cause on as text only, so what the transport recorded (a TLS alert, a TLS
/// server answering plaintext) is taken from `troubles`.
fn connection_lost_is_unavailable(status: Status, troubles: &Troubles) -> Status {
    if !matches!(
        status.code(),
        Code::Unknown | Code::Unavailable | Code::Cancelled
    ) {
        return status;
    }
    let chain: Vec<&(dyn std::error::Error + 'static)> =
        std::iter::successors(std::error::Error::source(&status), |err| err.source()).collect();
    let transport = chain
        .iter()
        .any(|err| err.is::<hyper::Error>() || err.is::<std::io::Error>());
    if !transport {
        return status;
    }
    let mut causes: Vec<String> = Vec::new();
    for err in &chain {
        let text = match err.downcast_ref::<std::io::Error>() {
            Some(io) => crate::report::describe_io(io),
            None => err.to_string(),
        };
        if !causes.contains(&text) {
            causes.push(text);
        }
    }
    // An HTTP/1 server or a TLS port answers the HTTP/2 preface with bytes h2 cannot parse,
    // or by closing: both end here.
    let generic = format!(
        "the connection broke: {}; is --addr a gRPC server's port, speaking plaintext HTTP/2?",
        causes.join(": ")
    );
    match troubles.take() {
        Some(trouble) if trouble.closed_silently.is_some() => {
            let message = format!("{generic} {trouble}");
            // Kept for `tls_behind_silence`, which may ask the server whether it speaks TLS.
            troubles.record(trouble);
            Status::unavailable(message)
        }
        Some(trouble) => Status::unavailable(trouble.message),
        None => Status::unavailable(generic),
    }
}

/// tonic reports its own enforcement of the deadline as CANCELLED caused by `TimeoutExpired`;
/// for the user (and grpc-go) that is DEADLINE_EXCEEDED.
fn is_deadline(status: &Status) -> bool {
    match status.code() {
        Code::DeadlineExceeded => true,
        Code::Cancelled => {
            let mut source = std::error::Error::source(status);
            while let Some(err) = source {
                if err.is::<tonic::TimeoutExpired>() {
                    return true;
                }
                source = err.source();
            }
            false
        }
        _ => false,
    }
}

fn deadline_exceeded(target: &Targets, timeout: Duration) -> CallFailed {
    CallFailed::new(
        Code::DeadlineExceeded,
        format!(
            "no reply from {target} within {} (DEADLINE_EXCEEDED): is the server overloaded? \
             Raise --timeout to wait longer",
            humantime::format_duration(timeout)
        ),
    )
}

fn status_failure(target: &Targets, method: Method, status: &Status) -> CallFailed {
    let code = crate::exit::code_name(status.code());
    let method = method.name();
    let message = match status.message() {
        "" => format!("{method} on {target} failed with {code}"),
        detail => format!("{method} on {target} failed with {code}: {detail}"),
    };
    CallFailed::new(status.code(), message)
}
