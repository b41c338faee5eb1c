//! Repeated calls (`--count`, `--duration`, `--concurrency`) over the replicas' channels: the
//! calls made, retried and tallied; `summary` says what happened.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use color_eyre::eyre::Result;
use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use indicatif::ProgressBar;
use tokio::time::Instant;
use tonic::Code;

use super::call::{Method, Requests, say_hello_on};
use super::config::Config;
use super::failure::{as_grpc_says, deadline_exceeded, is_deadline, status_failure};
use super::h2_channel::Http2Failure;
use super::output;
use super::progress::progress_bar;
use super::replicas::Replicas;
use super::retry::{Backoff, LastTry, MAX_RETRY_BACKOFF, Retries, shown};
use super::summary::summarize;
use super::tally::{Tally, verdict};
use crate::proto::{HelloReply, HelloRequest};

/// How many calls to make.
#[derive(Debug, Clone, Copy)]
pub struct Repeat {
    /// Stop after this many calls (`--count`); without it, `duration` decides.
    pub count: Option<u64>,
    /// Keep calling until this much time has passed (`--duration`).
    pub duration: Option<Duration>,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Connections (channels) per replica address, taking the calls in turn.
    pub connections: usize,
    /// Print no replies, only the summary.
    pub quiet: bool,
}

impl Repeat {
    /// A single call, printed as such, with no summary.
    pub fn is_single(&self) -> bool {
        self.count == Some(1) && self.duration.is_none()
    }
}

/// Makes the calls on `channel`, prints each reply (unless quiet) and the summary, and fails
/// with the most frequent failing status if any call failed.
pub async fn run(config: &Config, replicas: &Replicas) -> Result<()> {
    let repeat = &config.repeat;
    let tally = RefCell::new(Tally::default());
    let progress = progress_bar(repeat);
    let started = Instant::now();
    // Cannot overflow: --duration and --timeout are at most 100 years (`cli::MAX_DURATION`).
    let end = repeat.duration.map(|duration| started + duration);
    let count = repeat.count.unwrap_or(u64::MAX);
    let made = Cell::new(0);
    // Whether to make another call: the count not reached, the time not up.
    let another = || {
        let more = made.get() < count && end.is_none_or(|end| Instant::now() < end);
        made.set(made.get() + u64::from(more));
        more
    };

    let requests = Requests::new(&config.headers);
    let call = || {
        let (tally, progress, requests) = (&tally, &progress, &requests);
        async move {
            let call_started = Instant::now();
            // Cannot overflow: see `end`.
            let deadline = call_started + config.timeout;
            let outcome = call_with_retries(replicas, config, deadline, requests).await;
            let elapsed = call_started.elapsed();
            let failure = match outcome {
                Ok(Ok(reply)) => {
                    let mut counts = tally.borrow_mut();
                    counts.spread.ok(output::replica(reply.metadata()), elapsed);
                    counts.latencies.record(elapsed);
                    counts.last_ok = Some(started.elapsed());
                    counts.failed_since = 0;
                    drop(counts);
                    if !repeat.quiet {
                        let seen = output::Seen::of(reply.metadata());
                        print_reply(progress, &reply.into_inner(), &seen, config);
                    }
                    None
                }
                Ok(Err(status)) if !is_deadline(&status) => {
                    let replica = output::replica(status.metadata());
                    tally.borrow_mut().spread.failed(replica);
                    Some(status_failure(&config.targets, Method::Unary, &status))
                }
                _ => {
                    tally.borrow_mut().spread.failed(None);
                    Some(deadline_exceeded(&config.targets, config.timeout))
                }
            };
            if let Some(failure) = failure {
                if config.patience.verbose {
                    progress.suspend(|| eprintln!("greeter: {failure}"));
                }
                let mut tally = tally.borrow_mut();
                let entry = tally
                    .failures
                    .entry(failure.code as i32)
                    .or_insert((0, String::new()));
                entry.0 += 1;
                entry.1 = failure.message;
                tally.failed_since += 1;
            }
            progress.inc(1);
        }
    };
    // `concurrency` callers, each making its calls one after another: one future (and one
    // allocation) per caller rather than per call, as `for_each_concurrent` made.
    let callers: FuturesUnordered<_> = (0..repeat.concurrency)
        .map(|_| async {
            while another() {
                call().await;
            }
        })
        .collect();
    let calling = callers.for_each(|()| std::future::ready(()));
    tokio::select! {
        () = calling => {}
        never = replicas.keep_resolving() => match never {},
    }
    progress.finish_and_clear();
    let tally = tally.into_inner();
    summarize(
        &tally,
        started.elapsed(),
        replicas.connections_opened(),
        config,
    );
    verdict(&tally)
}

/// How many times a call that never reached the server is sent again, apart from --retries.
const MAX_TRANSPARENT_RETRIES: u32 = 3;

/// Whether a call failed before any server saw it: the connection it was queued on was closing
/// (a GOAWAY from --max-connection-age or a drain came first, and the request went unsent), its
/// stream was above the last one a GOAWAY let in (sent as the GOAWAY was on its way: h2 fails
/// those streams with the GOAWAY's error, and only those), or the server refused its stream
/// (REFUSED_STREAM). gRPC retries such calls transparently, whatever the retry policy (grpc-go
/// does, and the spec's retry design says so): nothing was processed, so nothing can happen
/// twice.
fn never_reached_the_server(status: &tonic::Status) -> bool {
    std::iter::successors(std::error::Error::source(status), |err| err.source()).any(|err| {
        err.downcast_ref::<Http2Failure>()
            .is_some_and(Http2Failure::is_canceled)
            || err.downcast_ref::<h2::Error>().is_some_and(|err| {
                (err.is_go_away() && err.is_remote())
                    || err.reason() == Some(h2::Reason::REFUSED_STREAM)
            })
    })
}

/// One SayHello on the next replica in turn. A replica whose connection fails is set aside, and
/// the call retried on UNAVAILABLE (on the next replica) as `--retries` allows within its
/// deadline.
async fn call_with_retries(
    replicas: &Replicas,
    config: &Config,
    deadline: Instant,
    requests: &Requests,
) -> Result<
    std::result::Result<tonic::Response<HelloReply>, tonic::Status>,
    tokio::time::error::Elapsed,
> {
    let backoff = Backoff::new(config.patience.retry_backoff, MAX_RETRY_BACKOFF);
    let mut retries = Retries::new(
        backoff,
        config.patience.retries,
        deadline,
        LastTry::BeforeTheDeadline,
    );
    let mut transparent_retries = 0;
    loop {
        let mut pick = replicas.pick();
        let request = HelloRequest {
            name: config.name.clone(),
        };
        let call = say_hello_on(&mut pick.client, request, deadline, requests);
        let result = tokio::time::timeout_at(deadline, call).await;
        if let Ok(Err(status)) = &result
            && transparent_retries < MAX_TRANSPARENT_RETRIES
            && never_reached_the_server(status)
        {
            transparent_retries += 1;
            continue;
        }
        let outcome = result.map(|result| {
            result.map_err(|status| as_grpc_says(status, replicas.troubles(), &config.messages))
        });
        let Ok(Err(status)) = &outcome else {
            return outcome;
        };
        if status.code() != Code::Unavailable {
            return outcome;
        }
        replicas.set_aside(&pick);
        let Some(pause) = retries.next_pause() else {
            return outcome;
        };
        // A retry before any replica's next attempt to connect is due would fail at once.
        let pause = pause.max(replicas.until_one_is_due());
        // Cannot overflow: both pauses are at most MAX_RETRY_BACKOFF (5 s).
        if Instant::now() + pause >= deadline {
            return outcome;
        }
        if config.patience.verbose {
            eprintln!(
                "greeter: {}; retrying in {}",
                status.message(),
                shown(pause)
            );
        }
        tokio::time::sleep(pause).await;
    }
}

fn print_reply(progress: &ProgressBar, reply: &HelloReply, seen: &output::Seen, config: &Config) {
    progress.suspend(|| {
        let _ = output::print_reply(reply, seen, config.output);
    });
}
