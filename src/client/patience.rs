//! Patience: waiting for a server that is not up yet (`--wait-for-ready`), bounding each
//! connection attempt (`--connect-timeout`), and pausing between retries (`--retries`).

use std::time::Duration;

use tokio::time::Instant;
use tonic::Code;
use tonic::transport::Channel;

use super::connect;
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

/// Pauses that double from `first` up to `max`, each with jitter (half fixed, half random), so
/// that many clients failing together do not come back together.
pub struct Backoff {
    step: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(first: Duration, max: Duration) -> Self {
        Backoff { step: first, max }
    }

    pub fn next_pause(&mut self) -> Duration {
        let step = self.step;
        self.step = (step * 2).min(self.max);
        let half = step / 2;
        half + Duration::from_nanos(fastrand::u64(0..=half.as_nanos() as u64))
    }
}

/// The pause as people read it: whole milliseconds.
pub fn shown(pause: Duration) -> String {
    format!("{}ms", pause.as_millis())
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
    let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(1));
    let mut last_failure: Option<CallFailed> = None;
    for attempt in 1.. {
        let connecting = connect_once(target, transport, patience.connect_timeout);
        let failure = match tokio::time::timeout_at(deadline, connecting).await {
            Ok(Ok(channel)) => return Ok(channel),
            Ok(Err(failure)) if !patience.wait_for_ready => return Err(failure),
            Ok(Err(failure)) => failure,
            Err(_) => {
                return Err(match last_failure {
                    Some(failure) => gave_up(target, timeout, &failure),
                    None => expired(),
                });
            }
        };
        // The last pause ends at the deadline, so the last attempt is made right at it.
        let left = deadline.saturating_duration_since(Instant::now());
        let pause = backoff.next_pause().min(left);
        if pause.is_zero() {
            return Err(gave_up(target, timeout, &failure));
        }
        if patience.verbose {
            eprintln!(
                "greeter: connection attempt {attempt} failed: {failure}; trying again in {}",
                shown(pause)
            );
        }
        tokio::time::sleep(pause).await;
        last_failure = Some(failure);
    }
    unreachable!("the attempts only end by returning")
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
    let mut failure = None;
    for target in &targets.0 {
        match connect_one(target, transport, limit).await {
            Ok(channel) => return Ok(channel),
            Err(error) => failure = Some(error),
        }
    }
    Err(failure.expect("there is at least one --addr"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_the_cap_with_jitter() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(300));
        let steps = [100, 200, 300, 300];
        for step in steps {
            let pause = backoff.next_pause();
            let step = Duration::from_millis(step);
            assert!(
                pause >= step / 2 && pause <= step,
                "{pause:?} for a step of {step:?}"
            );
        }
    }
}
