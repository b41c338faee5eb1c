//! Patience in connecting: waiting for a server that is not up yet (`--wait-for-ready`, with
//! the pauses of `retry`) and bounding each connection attempt (`--connect-timeout`).

use std::time::Duration;

use tokio::time::Instant;
use tonic::Code;
use tonic::transport::Channel;

use super::connect;
use super::retry::{Backoff, LastTry, Retries, shown};
use super::transport::Transport;
use crate::address::{Target, Targets};
use crate::exit::CallFailed;

/// How patient `hello` is, from the command line.
#[derive(Debug, Clone, Copy)]
pub struct Patience {
    pub wait_for_ready: bool,
    pub connect_timeout: Option<Duration>,
    pub retries: u32,
    pub retry_backoff: Duration,
    pub verbose: bool,
}

/// Connects once, or with `--wait-for-ready` until an attempt succeeds, all before
/// `deadline`. A deadline that passes before any attempt failed is `expired()`.
pub async fn connect(
    target: &Targets,
    transport: &Transport,
    deadline: Instant,
    timeout: Duration,
    patience: &Patience,
    expired: impl Fn() -> CallFailed,
) -> Result<Channel, CallFailed> {
    let backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(1));
    // Without --wait-for-ready the first failure is the answer.
    let budget = if patience.wait_for_ready { u32::MAX } else { 0 };
    let mut retries = Retries::new(backoff, budget, deadline, LastTry::AtTheDeadline);
    let mut last_failure: Option<CallFailed> = None;
    // u64: --wait-for-ready allows u32::MAX retries, one more attempt than a u32 counts.
    let mut attempt: u64 = 1;
    loop {
        let connecting = connect_once(target, transport, patience.connect_timeout);
        let failure = match tokio::time::timeout_at(deadline, connecting).await {
            Ok(Ok(channel)) => return Ok(channel),
            Ok(Err(failure)) => failure,
            Err(_) => {
                return Err(match last_failure {
                    Some(failure) => gave_up(target, timeout, &failure),
                    None => expired(),
                });
            }
        };
        let Some(pause) = retries.next_pause() else {
            return Err(if patience.wait_for_ready {
                gave_up(target, timeout, &failure)
            } else {
                failure
            });
        };
        if patience.verbose {
            eprintln!(
                "greeter: connection attempt {attempt} failed: {failure}; trying again in {}",
                shown(pause)
            );
        }
        tokio::time::sleep(pause).await;
        last_failure = Some(failure);
        attempt += 1;
    }
}

/// `--wait-for-ready` ran out of time: DEADLINE_EXCEEDED, with what the last attempt met.
fn gave_up(target: &Targets, timeout: Duration, last: &CallFailed) -> CallFailed {
    CallFailed::new(
        Code::DeadlineExceeded,
        format!(
            "no connection to {target} within {} (DEADLINE_EXCEEDED) with --wait-for-ready; \
             the last attempt said: {last}",
            humantime::format_duration(timeout)
        ),
    )
}

/// One attempt: each target in turn until one connects; the failure is the last one's.
async fn connect_once(
    targets: &Targets,
    transport: &Transport,
    limit: Option<Duration>,
) -> Result<Channel, CallFailed> {
    let mut failure = CallFailed::new(Code::Unavailable, "no --addr to connect to".to_owned());
    for target in &targets.0 {
        match connect_one(target, transport, limit).await {
            Ok(channel) => return Ok(channel),
            Err(error) => failure = error,
        }
    }
    Err(failure)
}

async fn connect_one(
    target: &Target,
    transport: &Transport,
    limit: Option<Duration>,
) -> Result<Channel, CallFailed> {
    let Some(limit) = limit else {
        return connect::connect(target, transport).await;
    };
    tokio::time::timeout(limit, connect::connect(target, transport))
        .await
        .unwrap_or_else(|_| {
            Err(CallFailed::new(
                Code::Unavailable,
                format!(
                    "could not connect to {target} (no answer within --connect-timeout {}): \
                     check --addr and that the server is reachable",
                    humantime::format_duration(limit)
                ),
            ))
        })
}
