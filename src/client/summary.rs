//! The summary of a repeated run on stderr: text for people (counts, rate, percentiles, a
//! latency histogram with bars, the errors by message, calls per replica, thresholds), one JSON
//! object with `--output json`; and the record `--report` writes (the summary and the run
//! second by second). The JSON field names are a contract (README, tests/load_summary.rs).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

use serde_json::{Map, Value, json};
use tonic::Code;

use super::repeat::Repeat;
use super::tally::{Tally, stopped_answering};
use super::thresholds::Checked;
use crate::cli::OutputFormat;
use crate::exit::code_name;

/// The bars of the text histogram.
const BUCKETS: usize = 10;
/// The longest bar, in characters.
const BAR: u64 = 40;

/// A finished run, as the summary tells it.
pub struct Run<'a> {
    pub tally: &'a Tally,
    pub elapsed: Duration,
    /// The connections the calls were made on (a balancer spreads connections, not calls,
    /// unless it is a gRPC-aware proxy: 1 behind a ClusterIP Service means one pod got all).
    pub connections: u64,
    pub repeat: &'a Repeat,
    pub checked: &'a [Checked],
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// `p50`, `p99.9`: a percentile's name, as it is printed and as JSON keys have it.
fn percentile_name(percentile: f64) -> String {
    format!("p{percentile}")
}

impl Run<'_> {
    fn rate(&self) -> f64 {
        self.tally.calls() as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    fn errors(&self) -> BTreeMap<&'static str, u64> {
        self.tally
            .failures
            .iter()
            .map(|(code, (count, _))| (code_name(Code::from_i32(*code)), *count))
            .collect()
    }

    /// min, mean, each percentile, max.
    fn latency_points(&self) -> Vec<(String, Duration)> {
        let latencies = &self.tally.latencies;
        let mut points = vec![
            ("min".to_owned(), latencies.min()),
            ("mean".to_owned(), latencies.mean()),
        ];
        for &percentile in &self.repeat.percentiles {
            points.push((
                percentile_name(percentile),
                latencies.quantile(percentile / 100.0),
            ));
        }
        points.push(("max".to_owned(), latencies.max()));
        points
    }

    /// The errors by message, most frequent first.
    fn messages(&self) -> Vec<(&'static str, &str, u64)> {
        let mut messages: Vec<_> = self
            .tally
            .messages
            .iter()
            .map(|((code, message), count)| {
                (code_name(Code::from_i32(*code)), message.as_str(), *count)
            })
            .collect();
        messages.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)));
        messages
    }

    /// The summary object of `--output json`.
    pub fn json(&self) -> Value {
        let tally = self.tally;
        let latency: Map<String, Value> = self
            .latency_points()
            .into_iter()
            .map(|(name, value)| (format!("{name}_ms"), json!(millis(value))))
            .collect();
        let histogram: Vec<Value> = tally
            .latencies
            .histogram(BUCKETS)
            .into_iter()
            .map(|(bound, count)| json!({ "le_ms": millis(bound), "count": count }))
            .collect();
        let mut messages: Vec<Value> = self
            .messages()
            .into_iter()
            .map(|(code, message, count)| json!({"code": code, "message": message, "count": count}))
            .collect();
        if tally.other_messages > 0 {
            messages.push(json!({"code": null, "message": null, "count": tally.other_messages}));
        }
        let (replicas, spread) = tally.spread.json();
        json!({
            "calls": tally.calls(),
            "ok": tally.latencies.count(),
            "errors": self.errors(),
            "elapsed_s": self.elapsed.as_secs_f64(),
            "rate_per_s": self.rate(),
            "connections": self.connections,
            "latency": latency,
            "histogram": histogram,
            "messages": messages,
            "open_loop": self.repeat.rate.map(|rate| json!({
                "rate_per_s": rate.from,
                "ramp_to_per_s": (rate.to != rate.from).then_some(rate.to),
                "late": tally.late,
                "latency_correction": self.repeat.latency_correction,
            })),
            "thresholds": self.checked.iter().map(Checked::json).collect::<Vec<_>>(),
            "stopped_answering": stopped_answering(tally).map(|(at, failed)| json!({
                "last_ok_s": at.map(|at| at.as_secs_f64()),
                "failed_after": failed,
            })),
            "replicas": replicas,
            "spread": spread,
        })
    }

    /// What `--report` writes: the summary and the run second by second.
    pub fn record(&self) -> Value {
        let seconds: Vec<Value> = self
            .tally
            .timeline
            .seconds()
            .iter()
            .map(|second| second.json())
            .collect();
        json!({ "summary": self.json(), "seconds": seconds })
    }

    /// The summary for people.
    pub fn text(&self) -> String {
        let tally = self.tally;
        let mut text = String::new();
        let failed = tally.failures();
        let errors = self
            .errors()
            .iter()
            .map(|(name, count)| format!("{name} {count}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            text,
            "calls {}, ok {}, errors {failed}{}, {:.1} req/s over {:.3}s on {} connection{}",
            tally.calls(),
            tally.latencies.count(),
            if errors.is_empty() {
                String::new()
            } else {
                format!(" ({errors})")
            },
            self.rate(),
            self.elapsed.as_secs_f64(),
            self.connections,
            if self.connections == 1 { "" } else { "s" },
        );
        let latency = self
            .latency_points()
            .iter()
            .map(|(name, value)| format!("{name} {:.2}ms", millis(*value)))
            .collect::<Vec<_>>()
            .join(" ");
        let _ = writeln!(text, "latency {latency}");
        if let Some(rate) = self.repeat.rate {
            let schedule = if rate.from == rate.to {
                format!("{}/s", rate.from)
            } else {
                format!("{}/s to {}/s", rate.from, rate.to)
            };
            let measured = if self.repeat.latency_correction {
                "latency from each call's scheduled time"
            } else {
                "latency from each call's start (--no-latency-correction)"
            };
            let _ = writeln!(
                text,
                "rate {schedule} scheduled, {} call{} started late; {measured}",
                tally.late,
                if tally.late == 1 { "" } else { "s" }
            );
        }
        self.histogram_text(&mut text);
        self.messages_text(&mut text);
        match stopped_answering(tally) {
            Some((Some(at), failed)) => {
                let _ = writeln!(
                    text,
                    "the server stopped answering: the last call to succeed ended {:.3}s into \
                     the run, and all {failed} calls that ended after it failed",
                    at.as_secs_f64()
                );
            }
            Some((None, _)) => text.push_str("no call succeeded\n"),
            None => {}
        }
        if let Some(table) = tally.spread.table() {
            let _ = writeln!(text, "{table}");
        }
        for checked in self.checked {
            let _ = if checked.passed {
                writeln!(
                    text,
                    "threshold {} {} passed ({})",
                    checked.flag, checked.limit, checked.actual
                )
            } else {
                writeln!(text, "threshold failed: {}", checked.describe())
            };
        }
        text
    }

    /// `  1.02ms [  812] ■■■■■■■■■■`, one line per bucket (each line's bound is the slowest
    /// latency it holds).
    fn histogram_text(&self, text: &mut String) {
        let buckets = self.tally.latencies.histogram(BUCKETS);
        let Some(most) = buckets.iter().map(|(_, count)| *count).max() else {
            return;
        };
        let width = buckets
            .iter()
            .map(|(_, count)| count.to_string().len())
            .max()
            .unwrap_or(1);
        for (bound, count) in &buckets {
            // Cannot divide by zero: the buckets hold every OK call, and there is one.
            let bar = (count * BAR).div_ceil(most.max(1));
            let _ = writeln!(
                text,
                "  {:>9.2}ms [{count:>width$}] {}",
                millis(*bound),
                "■".repeat(usize::try_from(bar).unwrap_or(0)),
            );
        }
    }

    fn messages_text(&self, text: &mut String) {
        let messages = self.messages();
        if messages.is_empty() {
            return;
        }
        text.push_str("errors by message:\n");
        for (code, message, count) in messages {
            let _ = writeln!(text, "  {count:>7}  {code}  {message}");
        }
        if self.tally.other_messages > 0 {
            let _ = writeln!(
                text,
                "  {:>7}  (other messages: only the first {} kept)",
                self.tally.other_messages,
                super::tally::MESSAGES
            );
        }
    }

    /// Prints the summary on stderr, in the run's output format.
    pub fn print(&self, format: OutputFormat) {
        let summary = match format {
            OutputFormat::Json => format!("{}\n", self.json()),
            OutputFormat::Text => self.text(),
        };
        let _ = std::io::stderr().lock().write_all(summary.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::CallFailed;

    fn repeat() -> Repeat {
        Repeat {
            count: Some(100),
            duration: None,
            concurrency: 1,
            connections: 1,
            quiet: true,
            rate: None,
            latency_correction: true,
            percentiles: vec![50.0, 99.9],
            thresholds: Default::default(),
            report: None,
        }
    }

    #[test]
    fn the_summary_says_it_all_in_text_and_json() {
        let mut tally = Tally::default();
        for ms in 1..=98 {
            tally.ok(Some("pod-a"), Duration::from_millis(ms), Duration::ZERO);
        }
        for _ in 0..2 {
            let failure = CallFailed::new(Code::Unavailable, "SayHello failed with UNAVAILABLE");
            tally.failed(Some("pod-a"), failure, Duration::ZERO);
        }
        let repeat = repeat();
        let run = Run {
            tally: &tally,
            elapsed: Duration::from_secs(1),
            connections: 1,
            repeat: &repeat,
            checked: &[],
        };
        let text = run.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "calls 100, ok 98, errors 2 (UNAVAILABLE 2), 100.0 req/s over 1.000s on 1 connection"
        );
        assert!(
            lines[1].starts_with("latency min 1.00ms mean 49.5"),
            "{text}"
        );
        assert!(
            lines[1].contains(" p50 49.") && lines[1].contains(" p99.9 98."),
            "{text}"
        );
        assert_eq!(
            lines.iter().filter(|line| line.contains('■')).count(),
            10,
            "{text}"
        );
        assert!(
            text.contains(
                "errors by message:\n        2  UNAVAILABLE  SayHello failed with UNAVAILABLE\n"
            ),
            "{text}"
        );

        let json = run.json();
        assert_eq!(json["calls"], 100);
        assert!(
            json["latency"]["p99.9_ms"].as_f64().unwrap() > 97.0,
            "{json}"
        );
        let counted: u64 = json["histogram"]
            .as_array()
            .unwrap()
            .iter()
            .map(|bucket| bucket["count"].as_u64().unwrap())
            .sum();
        assert_eq!(counted, 98, "the histogram holds every OK call");
        assert_eq!(json["messages"][0]["count"], 2);
        assert_eq!(json["open_loop"], Value::Null);
        assert_eq!(run.record()["seconds"][0]["calls"], 100);
    }
}
