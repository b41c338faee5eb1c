//! `greeter hello`: one call on a single-threaded runtime, printed for people or scripts.

mod call;
mod config;
mod connect;
mod destination;
mod diagnosis;
mod failure;
mod grpc_client;
mod h2_channel;
mod headers;
mod insecure;
mod latencies;
mod output;
mod patience;
mod progress;
mod reconnect;
mod repeat;
mod replicas;
mod retry;
mod run_report;
mod schedule;
mod server_cert;
mod sniffing_io;
mod spread;
mod summary;
mod tally;
mod thresholds;
mod timeline;
mod tls;
mod token;
mod transport;

pub use call::Method;
pub use config::Config;
// For `crate::fuzzing`, which parses `-H` arguments as `Config` does.
pub(crate) use headers::Headers;

use std::cell::Cell;

use color_eyre::eyre::Result;
use tokio::time::Instant;

use call::{attempt, check_request, is_unavailable};
use failure::deadline_exceeded;
use retry::{Backoff, LastTry, MAX_RETRY_BACKOFF, Retries};
use transport::Transport;

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

/// Makes the call, retrying it on UNAVAILABLE as `--retries` allows, within the deadline
/// `config.timeout` sets; never once a reply was printed, nor with `--bidi` (stdin cannot be
/// read twice).
async fn call(config: &Config, transport: &Transport) -> Result<()> {
    check_request(config)?;
    // Cannot overflow: --timeout is at most 100 years (`cli::MAX_DURATION`).
    let deadline = Instant::now() + config.timeout;
    let patience = &config.patience;
    let budget = if config.method == Method::Bidi {
        0
    } else {
        patience.retries
    };
    let backoff = Backoff::new(patience.retry_backoff, MAX_RETRY_BACKOFF);
    let mut retries = Retries::new(backoff, budget, deadline, LastTry::BeforeTheDeadline);
    let printed = Cell::new(false);
    // Cannot overflow: each retry spends one of `budget` (a u32) in `retries` first.
    let mut retry: u32 = 0;
    loop {
        let failure = match attempt(config, transport, deadline, &printed).await {
            Err(failure) if !printed.get() && is_unavailable(&failure) => failure,
            outcome => return outcome,
        };
        let Some(pause) = retries.next_pause() else {
            return Err(failure);
        };
        retry += 1;
        if patience.verbose {
            eprintln!(
                "greeter: {failure:#}; retry {retry} of {budget} in {}",
                retry::shown(pause)
            );
        }
        tokio::time::sleep(pause).await;
    }
}

/// Checks that a replica answers (as patiently as asked), so a run against replicas that are
/// all down fails at once like a single call; then makes the calls, spread over the replicas.
async fn call_repeatedly(config: &Config, transport: &Transport) -> Result<()> {
    check_request(config)?;
    // Cannot overflow: --timeout is at most 100 years (`cli::MAX_DURATION`).
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
    // The probe's channel is not kept: each replica has a channel of its own, which reconnects
    // as gRPC channels do.
    drop(probe.await?);
    let replicas = replicas::Replicas::new(
        &config.targets,
        transport,
        config.messages,
        config.repeat.connections,
    )
    .await?;
    repeat::run(config, &replicas).await
}
