//! Repeated calls (`--count`, `--duration`, `--concurrency`) over the replicas' channels: the
//! calls made, retried and tallied; `summary` says what happened.

use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::time::Duration;

use color_eyre::eyre::{Result, eyre};
use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tonic::Code;

use super::call::{Method, Requests, say_hello_on};
use super::config::Config;
use super::failure::{as_grpc_says, deadline_exceeded, is_deadline, status_failure};
use super::h2_channel::Http2Failure;
use super::output;
use super::progress::{Progress, progress_bar};
use super::replicas::Replicas;
use super::retry::{Backoff, LastTry, MAX_RETRY_BACKOFF, Retries, shown};
use super::run_report;
use super::schedule::Schedule;
use super::summary::Run;
use super::tally::{Tally, verdict};
use super::thresholds::Thresholds;
use crate::cli::Rate;
use crate::exit::Interrupted;
use crate::proto::{HelloReply, HelloRequest};

/// How many calls to make, how, and what the run must achieve.
#[derive(Debug, Clone)]
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
    /// --rate: an open-loop schedule instead of calls back to back.
    pub rate: Option<Rate>,
    /// With a rate, latency from each call's scheduled time (not --no-latency-correction).
    pub latency_correction: bool,
    /// The percentiles of the summary, in percent.
    pub percentiles: Vec<f64>,
    pub thresholds: Thresholds,
    /// Where to write the run's record at its end (`--report`), checked writable before.
    pub report: Option<PathBuf>,
}

impl Repeat {
    /// A single call, printed as such, with no summary.
    pub fn is_single(&self) -> bool {
        self.count == Some(1) && self.duration.is_none()
    }
}

/// Makes the calls, prints each reply (unless quiet) and the summary, and fails with the most
/// frequent failing status if any call failed, or exit 3 if a threshold was missed.
pub async fn run(config: &Config, replicas: &Replicas) -> Result<()> {
    let repeat = &config.repeat;
    let tally = RefCell::new(Tally::default());
    let progress = progress_bar(repeat);
    let started = Instant::now();
    // Cannot overflow: --duration and --timeout are at most 100 years (`cli::MAX_DURATION`).
    let end = repeat.duration.map(|duration| started + duration);
    let count = repeat.count.unwrap_or(u64::MAX);
    let requests = Requests::new(&config.headers);
    let one = |scheduled: Option<Instant>| {
        let (tally, progress, requests) = (&tally, &progress, &requests);
        async move {
            one_call(
                config, replicas, tally, progress, requests, started, scheduled,
            )
            .await
        }
    };
    let made = Cell::new(0);
    // Whether to make another call: the count not reached, the time not up.
    let another = || {
        let more = made.get() < count && end.is_none_or(|end| Instant::now() < end);
        made.set(made.get() + u64::from(more));
        more
    };
    let calling = async {
        match repeat.rate {
            None => {
                // `concurrency` callers, each making its calls one after another: one future
                // (and one allocation) per caller rather than per call, as
                // `for_each_concurrent` made.
                let callers: FuturesUnordered<_> = (0..repeat.concurrency)
                    .map(|_| async {
                        while another() {
                            one(None).await;
                        }
                    })
                    .collect();
                callers.for_each(|()| std::future::ready(())).await;
            }
            Some(rate) => {
                let schedule = Schedule::new(rate, repeat.duration);
                let slots = Semaphore::new(repeat.concurrency);
                // A call is let go at its time, once a slot is free: a stalled server holds the
                // schedule back (no queue grows), and a call that had to wait for a slot is
                // late: its latency counts from when it was due, so the wait shows.
                let due = futures_util::stream::unfold(0u64, |i| {
                    let (slots, tally) = (&slots, &tally);
                    async move {
                        let at = started + schedule.due(i).filter(|_| i < count)?;
                        if end.is_some_and(|end| at >= end) {
                            return None;
                        }
                        tokio::time::sleep_until(at).await;
                        let (slot, late) = match slots.try_acquire() {
                            Ok(slot) => (slot, None),
                            Err(_) => {
                                tally.borrow_mut().late += 1;
                                let slot = slots.acquire().await.ok()?;
                                // --duration is the run's length: what is still waiting then
                                // is not started (the summary's rate shows the shortfall).
                                if end.is_some_and(|end| Instant::now() >= end) {
                                    return None;
                                }
                                (slot, Some(at))
                            }
                        };
                        Some(((late, slot), i + 1))
                    }
                });
                due.for_each_concurrent(None, |(late, slot)| async move {
                    one(late).await;
                    drop(slot);
                })
                .await;
            }
        }
    };
    let interrupted = tokio::select! {
        () = calling => false,
        never = replicas.keep_resolving() => match never {},
        // The calls in flight are dropped, which cancels them: the summary covers those ended.
        _ = tokio::signal::ctrl_c() => true,
    };
    progress.bar.finish_and_clear();
    let elapsed = started.elapsed();
    let tally = tally.into_inner();
    let checked = repeat.thresholds.check(&tally, elapsed);
    let run = Run {
        tally: &tally,
        elapsed,
        connections: replicas.connections_opened(),
        repeat,
        checked: &checked,
    };
    run.print(config.output);
    // Written after Ctrl-C too: the report covers what ran, as the summary does.
    if let Some(path) = &repeat.report {
        run_report::write(path, &run.record())
            .map_err(|err| eyre!(run_report::cannot_write(path, &err)))?;
    }
    if interrupted {
        return Err(Interrupted.into());
    }
    verdict(&tally, &checked, repeat.thresholds.max_error_rate.is_some())
}

/// One SayHello of the run, with its retries, tallied when it ends. `scheduled`: when an
/// open-loop call that had to wait for a slot was due, which its latency counts from (unless
/// --no-latency-correction). A call that started on time counts from its start: the timer's
/// own lag (tokio's are 1 ms coarse) is the client's, not the server's.
async fn one_call(
    config: &Config,
    replicas: &Replicas,
    tally: &RefCell<Tally>,
    progress: &Progress,
    requests: &Requests,
    started: Instant,
    scheduled: Option<Instant>,
) {
    let repeat = &config.repeat;
    let call_started = Instant::now();
    // Cannot overflow: see `run`'s `end`.
    let deadline = call_started + config.timeout;
    let outcome = call_with_retries(replicas, config, deadline, requests).await;
    let latency = match scheduled.filter(|_| repeat.latency_correction) {
        Some(scheduled) => scheduled.elapsed(),
        None => call_started.elapsed(),
    };
    let at = started.elapsed();
    let failure = match outcome {
        Ok(Ok(reply)) => {
            tally
                .borrow_mut()
                .ok(output::replica(reply.metadata()), latency, at);
            if !repeat.quiet {
                let seen = output::Seen::of(reply.metadata());
                print_reply(progress, &reply.into_inner(), &seen, config);
            }
            None
        }
        Ok(Err(status)) if !is_deadline(&status) => Some((
            output::replica(status.metadata()).map(str::to_owned),
            status_failure(&config.targets, Method::Unary, &status),
        )),
        _ => Some((None, deadline_exceeded(&config.targets, config.timeout))),
    };
    if let Some((replica, failure)) = failure {
        if config.patience.verbose {
            progress.bar.suspend(|| eprintln!("greeter: {failure}"));
        }
        tally.borrow_mut().failed(replica.as_deref(), failure, at);
    }
    progress.advance(&tally.borrow().timeline);
}

/// How many times a call that never reached the server is sent again, apart from --retries.
const MAX_TRANSPARENT_RETRIES: u32 = 3;

/// Whether a call failed before any server saw it: the connection it was queued on was closing
/// (a GOAWAY from --max-connection-age or a drain came first, and the request went unsent), its
/// stream was above the last one a graceful GOAWAY let in (sent as the GOAWAY was on its way:
/// h2 fails those streams with the GOAWAY's NO_ERROR, and only those; a GOAWAY with an error
/// code is given to the streams in flight when the connection then closes too, processed or
/// not, so it is not taken as a sign), or the server refused its stream (REFUSED_STREAM). gRPC
/// retries such calls transparently, whatever the retry policy (grpc-go does, and the spec's
/// retry design says so): nothing was processed, so nothing can happen twice.
fn never_reached_the_server(status: &tonic::Status) -> bool {
    std::iter::successors(std::error::Error::source(status), |err| err.source()).any(|err| {
        err.downcast_ref::<Http2Failure>()
            .is_some_and(Http2Failure::is_canceled)
            || err.downcast_ref::<h2::Error>().is_some_and(|err| {
                (err.is_go_away() && err.is_remote() && err.reason() == Some(h2::Reason::NO_ERROR))
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

fn print_reply(progress: &Progress, reply: &HelloReply, seen: &output::Seen, config: &Config) {
    progress.bar.suspend(|| {
        let _ = output::print_reply(reply, seen, config.output);
    });
}
