//! `greeter hello`: one call on a single-threaded runtime, printed for people or scripts.

mod connect;
mod output;

use std::time::Duration;

use color_eyre::eyre::Result;
use tokio::time::Instant;
use tonic::{Code, Request, Status};

use crate::address::Target;
use crate::cli::OutputFormat;
use crate::exit::CallFailed;
use crate::proto::greeter_client::GreeterClient;
use crate::proto::{HelloReply, HelloRequest};
use crate::server::workers::single_threaded_runtime;

/// What `hello` needs, checked and resolved from the command line.
pub struct Config {
    pub target: Target,
    pub name: String,
    pub timeout: Duration,
    pub output: OutputFormat,
}

pub fn run(config: Config) -> Result<()> {
    // A one-shot call has nothing to run in parallel: one thread starts fastest.
    let runtime = single_threaded_runtime()?;
    let reply = runtime.block_on(say_hello(&config))?;
    output::print_reply(&reply, config.output)?;
    Ok(())
}

/// Connects and calls SayHello, all within the deadline `config.timeout` sets.
async fn say_hello(config: &Config) -> Result<HelloReply, CallFailed> {
    let target = &config.target;
    let deadline = Instant::now() + config.timeout;
    let expired = || deadline_exceeded(target, config.timeout);

    let channel = tokio::time::timeout_at(deadline, connect::connect(target))
        .await
        .map_err(|_| expired())??;

    let mut request = Request::new(HelloRequest {
        name: config.name.clone(),
    });
    // Sent as `grpc-timeout`, so the server gives up when we do.
    request.set_timeout(deadline.saturating_duration_since(Instant::now()));
    let mut client = GreeterClient::new(channel);
    match tokio::time::timeout_at(deadline, client.say_hello(request)).await {
        Err(_) => Err(expired()),
        Ok(Ok(response)) => Ok(response.into_inner()),
        Ok(Err(status)) if is_deadline(&status) => Err(expired()),
        Ok(Err(status)) => Err(status_failure(target, &status)),
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

fn deadline_exceeded(target: &Target, timeout: Duration) -> CallFailed {
    CallFailed::new(
        Code::DeadlineExceeded,
        format!(
            "no reply from {target} within {} (DEADLINE_EXCEEDED): is the server overloaded? \
             Raise --timeout to wait longer",
            humantime::format_duration(timeout)
        ),
    )
}

fn status_failure(target: &Target, status: &Status) -> CallFailed {
    let code = crate::exit::code_name(status.code());
    let message = match status.message() {
        "" => format!("SayHello on {target} failed with {code}"),
        detail => format!("SayHello on {target} failed with {code}: {detail}"),
    };
    CallFailed::new(status.code(), message)
}
