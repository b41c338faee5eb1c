//! Repeated calls (`--count`, `--duration`, `--concurrency`) over one channel, and the summary
//! a script or a person reads at the end.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use color_eyre::eyre::{Report, Result};
use futures_util::StreamExt as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use tokio::time::Instant;
use tonic::Code;

use super::call::{Method, say_hello};
use super::config::Config;
use super::failure::{as_grpc_says, deadline_exceeded, is_deadline, status_failure};
use super::latencies::Latencies;
use super::output;
use super::replicas::Replicas;
use super::retry::{Backoff, LastTry, MAX_RETRY_BACKOFF, Retries, shown};
use super::spread::Spread;
use crate::exit::{CallFailed, code_name};
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
    /// Print no replies, only the summary.
    pub quiet: bool,
}

impl Repeat {
    /// A single call, printed as such, with no summary.
    pub fn is_single(&self) -> bool {
        self.count == Some(1) && self.duration.is_none()
    }
}

/// What happened to the calls.
#[derive(Default)]
struct Tally {
    latencies: Latencies,
    failures: BTreeMap<i32, (u64, String)>,
    /// When, into the run, the last call that succeeded ended.
    last_ok: Option<Duration>,
    /// How many calls ended after it, all failed: the server stopped answering.
    failed_since: u64,
    /// The calls by the replica that answered them.
    spread: Spread,
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
    let calls = futures_util::stream::iter(0..repeat.count.unwrap_or(u64::MAX))
        .take_while(|_| std::future::ready(end.is_none_or(|end| Instant::now() < end)));

    let calling = calls.for_each_concurrent(repeat.concurrency, |_| {
        let (tally, progress) = (&tally, &progress);
        async move {
            let call_started = Instant::now();
            // Cannot overflow: see `end`.
            let deadline = call_started + config.timeout;
            let outcome = call_with_retries(replicas, config, deadline).await;
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
    });
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
/// (a GOAWAY from --max-connection-age or a drain came first, and hyper cancelled the request
/// unsent), or the server refused its stream (REFUSED_STREAM). gRPC retries such calls
/// transparently, whatever the retry policy (grpc-go does, and the spec's retry design says
/// so): nothing was processed, so nothing can happen twice.
fn never_reached_the_server(status: &tonic::Status) -> bool {
    std::iter::successors(std::error::Error::source(status), |err| err.source()).any(|err| {
        err.downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_canceled)
            || err
                .downcast_ref::<h2::Error>()
                .and_then(h2::Error::reason)
                .is_some_and(|reason| reason == h2::Reason::REFUSED_STREAM)
    })
}

/// One SayHello on the next replica in turn. A replica whose connection fails is set aside, and
/// the call retried on UNAVAILABLE (on the next replica) as `--retries` allows within its
/// deadline.
async fn call_with_retries(
    replicas: &Replicas,
    config: &Config,
    deadline: Instant,
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
        let call = say_hello(&mut pick.client, request, deadline, &config.headers);
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

/// A progress bar on stderr when a person is watching (a terminal) and the run is long enough
/// to need one; never in pipes or CI logs.
fn progress_bar(repeat: &Repeat) -> ProgressBar {
    let watched = std::io::stderr().is_terminal();
    let long = repeat.duration.is_some_and(|d| d > Duration::from_secs(1))
        || repeat.count.is_some_and(|count| count > 1000);
    if !(watched && long) {
        return ProgressBar::hidden();
    }
    let bar = match repeat.count {
        Some(count) => ProgressBar::with_draw_target(Some(count), ProgressDrawTarget::stderr()),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
    };
    let template = match repeat.count {
        Some(_) => "{spinner} {pos}/{len} calls {per_sec} {wide_bar} {eta}",
        None => "{spinner} {pos} calls {per_sec} {elapsed}",
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The summary on stderr: text for people, one JSON object with `--output json`.
/// `connections`: how many the calls were made on (a balancer spreads connections, not calls,
/// unless it is a gRPC-aware proxy: 1 here behind a ClusterIP Service means one pod got all).
fn summarize(tally: &Tally, elapsed: Duration, connections: u64, config: &Config) {
    let latencies = &tally.latencies;
    let ok = latencies.count();
    let failed: u64 = tally.failures.values().map(|(count, _)| count).sum();
    // Cannot overflow: one count per call made, and the calls are a range of u64.
    let calls = ok + failed;
    let rate = calls as f64 / elapsed.as_secs_f64().max(f64::EPSILON);
    let points = [
        ("min", latencies.min()),
        ("p50", latencies.quantile(0.50)),
        ("p90", latencies.quantile(0.90)),
        ("p99", latencies.quantile(0.99)),
        ("max", latencies.max()),
    ];
    let errors: BTreeMap<&str, u64> = tally
        .failures
        .iter()
        .map(|(code, (count, _))| (code_name(Code::from_i32(*code)), *count))
        .collect();
    let mut stderr = std::io::stderr().lock();
    let (replicas, spread) = tally.spread.json();
    let _ = if config.output == crate::cli::OutputFormat::Json {
        let latency: serde_json::Map<String, serde_json::Value> = points
            .iter()
            .map(|(name, value)| (format!("{name}_ms"), json!(millis(*value))))
            .collect();
        writeln!(
            stderr,
            "{}",
            json!({
                "calls": calls,
                "ok": ok,
                "errors": errors,
                "elapsed_s": elapsed.as_secs_f64(),
                "rate_per_s": rate,
                "connections": connections,
                "latency": latency,
                "stopped_answering": stopped_answering(tally).map(|(at, failed)| json!({
                    "last_ok_s": at.map(|at| at.as_secs_f64()),
                    "failed_after": failed,
                })),
                "replicas": replicas,
                "spread": spread,
            })
        )
    } else {
        let errors = errors
            .iter()
            .map(|(name, count)| format!("{name} {count}"))
            .collect::<Vec<_>>()
            .join(", ");
        let latency = points
            .iter()
            .map(|(name, value)| format!("{name} {:.2}ms", millis(*value)))
            .collect::<Vec<_>>()
            .join(" ");
        writeln!(
            stderr,
            "calls {calls}, ok {ok}, errors {failed}{}, {rate:.1} req/s over {:.3}s on {connections} \
             connection{}\nlatency {latency}",
            if errors.is_empty() {
                String::new()
            } else {
                format!(" ({errors})")
            },
            elapsed.as_secs_f64(),
            if connections == 1 { "" } else { "s" },
        )
        .and_then(|()| match stopped_answering(tally) {
            Some((Some(at), failed)) => writeln!(
                stderr,
                "the server stopped answering: the last call to succeed ended {:.3}s into the \
                 run, and all {failed} calls that ended after it failed",
                at.as_secs_f64()
            ),
            Some((None, _)) => writeln!(stderr, "no call succeeded"),
            None => Ok(()),
        })
        .and_then(|()| match tally.spread.table() {
            Some(table) => writeln!(stderr, "{table}"),
            None => Ok(()),
        })
    };
}

/// If the run ended with failures only: when the last call to succeed ended (None: none did),
/// and how many failed after it.
///
/// Only when the run of failures at the end is more than bad luck: a server failing 20 % of
/// its calls (a flaky backend, `--fault-status UNAVAILABLE:20%`) ends on two failures one run in
/// 25. Taking the calls before the streak as the server's usual failure rate, a streak that
/// would come by chance less than once in a thousand runs is a server that stopped; a server
/// that never failed before has stopped at its first failure.
fn stopped_answering(tally: &Tally) -> Option<(Option<Duration>, u64)> {
    let streak = tally.failed_since;
    if streak == 0 {
        return None;
    }
    let failed: u64 = tally.failures.values().map(|(count, _)| count).sum();
    let before = failed.saturating_sub(streak);
    let ok = tally.latencies.count();
    if ok > 0 && before > 0 {
        let usual = before as f64 / (before + ok) as f64;
        let chance = usual.powi(i32::try_from(streak).unwrap_or(i32::MAX));
        if chance >= 1e-3 {
            return None;
        }
    }
    Some((tally.last_ok, streak))
}

/// Success if every call succeeded; otherwise the most frequent failing status (the smaller
/// code on a tie), with the last message seen for it.
fn verdict(tally: &Tally) -> Result<()> {
    let failed: u64 = tally.failures.values().map(|(count, _)| count).sum();
    let Some((code, (_, message))) = tally
        .failures
        .iter()
        .max_by(|(a_code, (a, _)), (b_code, (b, _))| a.cmp(b).then(b_code.cmp(a_code)))
    else {
        return Ok(());
    };
    // Cannot overflow: see `summarize`.
    let calls = failed + tally.latencies.count();
    Err(Report::new(CallFailed::new(
        Code::from_i32(*code),
        format!("{failed} of {calls} calls failed; most often: {message}"),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(failures: &[(Code, u64)]) -> Tally {
        let mut latencies = Latencies::default();
        latencies.record(Duration::from_millis(1));
        Tally {
            latencies,
            last_ok: None,
            failed_since: 0,
            spread: Spread::default(),
            failures: failures
                .iter()
                .map(|(code, count)| (*code as i32, (*count, format!("{code:?}"))))
                .collect(),
        }
    }

    fn exit_code(tally: &Tally) -> Option<Code> {
        verdict(tally)
            .err()
            .map(|report| report.downcast_ref::<CallFailed>().unwrap().code)
    }

    #[test]
    fn a_streak_of_failures_is_a_stop_only_beyond_chance() {
        let ended_on = |failures: u64, streak: u64| {
            let mut tally = tally(&[(Code::Unavailable, failures)]);
            for _ in 1..100 {
                tally.latencies.record(Duration::from_millis(1));
            }
            tally.failed_since = streak;
            stopped_answering(&tally).is_some()
        };
        // 100 calls ok, 25 failed (20 %) among them: two or three at the end are chance.
        assert!(!ended_on(25, 2));
        assert!(!ended_on(27, 4));
        // Five in a row at 20 % is one run in 3000.
        assert!(ended_on(30, 5));
        // A server that never failed before stopped at its first failure.
        assert!(ended_on(1, 1));
        assert!(!ended_on(0, 0));
    }

    #[test]
    fn the_most_frequent_failure_decides_the_exit_code() {
        assert_eq!(exit_code(&tally(&[])), None);
        let mixed = tally(&[(Code::Unavailable, 3), (Code::DeadlineExceeded, 5)]);
        assert_eq!(exit_code(&mixed), Some(Code::DeadlineExceeded));
        let tie = tally(&[(Code::Unavailable, 2), (Code::DeadlineExceeded, 2)]);
        assert_eq!(
            exit_code(&tie),
            Some(Code::DeadlineExceeded),
            "the smaller code wins a tie"
        );
    }
}
