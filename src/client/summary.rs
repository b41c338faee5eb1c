//! The summary of a repeated run on stderr: text for people, one JSON object with
//! `--output json`.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use serde_json::json;
use tonic::Code;

use super::config::Config;
use super::tally::{Tally, stopped_answering};
use crate::exit::code_name;

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// What both forms of the summary say.
struct Figures {
    ok: u64,
    failed: u64,
    calls: u64,
    rate: f64,
    points: [(&'static str, Duration); 5],
    errors: BTreeMap<&'static str, u64>,
}

fn figures(tally: &Tally, elapsed: Duration) -> Figures {
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
    Figures {
        ok,
        failed,
        calls,
        rate,
        points,
        errors,
    }
}

/// The summary as one JSON object: what `--output json` prints, and a `--report`'s `summary`.
pub fn json(tally: &Tally, elapsed: Duration, connections: u64) -> serde_json::Value {
    let Figures {
        ok,
        calls,
        rate,
        points,
        errors,
        ..
    } = figures(tally, elapsed);
    let (replicas, spread) = tally.spread.json();
    let latency: serde_json::Map<String, serde_json::Value> = points
        .iter()
        .map(|(name, value)| (format!("{name}_ms"), json!(millis(*value))))
        .collect();
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
}

/// The summary on stderr: text for people, one JSON object with `--output json`.
/// `connections`: how many the calls were made on (a balancer spreads connections, not calls,
/// unless it is a gRPC-aware proxy: 1 here behind a ClusterIP Service means one pod got all).
pub fn summarize(tally: &Tally, elapsed: Duration, connections: u64, config: &Config) {
    let Figures {
        ok,
        failed,
        calls,
        rate,
        points,
        errors,
    } = figures(tally, elapsed);
    let mut stderr = std::io::stderr().lock();
    let _ = if config.output == crate::cli::OutputFormat::Json {
        writeln!(stderr, "{}", json(tally, elapsed, connections))
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
