//! `greeter hello` as a load generator: the summary's fields (a contract scripts read), open-loop
//! rates that measure latency without coordinated omission, CI thresholds with their exit code,
//! and Ctrl-C's summary.

mod common;

use std::collections::BTreeSet;

use common::{Background, Outcome, Server, TempFiles, greeter, run};
use serde_json::Value;

fn serve(args: &[&str]) -> Server {
    let args = [&["--addr", "127.0.0.1:0"], args].concat();
    Server::start_with(&args, &[])
}

/// The JSON summary on stderr of a `--output json` run.
fn summary_of(out: &Outcome) -> Value {
    out.stderr
        .lines()
        .find_map(|line| {
            serde_json::from_str::<Value>(line)
                .ok()
                .filter(|value| value.get("calls").is_some())
        })
        .unwrap_or_else(|| panic!("no JSON summary: {out:?}"))
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn the_json_summary_has_the_documented_fields() {
    let server = serve(&["--fault-status", "UNAVAILABLE:10%", "--fault-seed", "2"]);
    let out = server.hello(&["--count", "300", "-q", "--output", "json"]);
    let summary = summary_of(&out);
    // The README's schema, field for field: adding one is fine, renaming one breaks scripts.
    assert_eq!(
        keys(&summary),
        BTreeSet::from([
            "calls",
            "ok",
            "errors",
            "elapsed_s",
            "rate_per_s",
            "connections",
            "latency",
            "histogram",
            "messages",
            "open_loop",
            "thresholds",
            "stopped_answering",
            "replicas",
            "spread",
        ])
    );
    assert_eq!(
        keys(&summary["latency"]),
        BTreeSet::from([
            "min_ms",
            "mean_ms",
            "p50_ms",
            "p90_ms",
            "p99_ms",
            "p99.9_ms",
            "p99.99_ms",
            "max_ms"
        ])
    );
    let histogram = summary["histogram"].as_array().unwrap();
    assert_eq!(histogram.len(), 10, "{summary}");
    for bucket in histogram {
        assert_eq!(keys(bucket), BTreeSet::from(["le_ms", "count"]));
    }
    let counted: u64 = histogram.iter().map(|b| b["count"].as_u64().unwrap()).sum();
    assert_eq!(Some(counted), summary["ok"].as_u64(), "every OK call, once");
    let message = &summary["messages"][0];
    assert_eq!(keys(message), BTreeSet::from(["code", "message", "count"]));
    assert_eq!(message["code"], "UNAVAILABLE");
    assert_eq!(message["count"], summary["errors"]["UNAVAILABLE"]);
    assert_eq!(summary["open_loop"], Value::Null);
    assert_eq!(summary["thresholds"], serde_json::json!([]));

    let chosen = server.hello(&[
        "--count",
        "20",
        "-q",
        "--output",
        "json",
        "--percentiles",
        "95,50,99.9",
    ]);
    assert_eq!(
        keys(&summary_of(&chosen)["latency"]),
        BTreeSet::from([
            "min_ms", "mean_ms", "p50_ms", "p95_ms", "p99.9_ms", "max_ms"
        ])
    );
}

#[test]
fn the_text_summary_draws_the_histogram_and_lists_the_errors() {
    let server = serve(&["--fault-status", "ABORTED:10%", "--fault-seed", "2"]);
    let out = server.hello(&["--count", "200", "-q"]);
    let bars = out
        .stderr
        .lines()
        .filter(|line| line.contains("ms [") && line.contains('■'))
        .count();
    assert!(bars >= 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("errors by message:\n"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("  ABORTED  SayHello on 127.0.0.1:"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains(" p99.9 ") && out.stderr.contains(" p99.99 "));
}

#[test]
fn a_steady_rate_makes_the_calls_it_schedules() {
    let server = serve(&[]);
    let out = server.hello(&[
        "--rate",
        "200/s",
        "--duration",
        "2s",
        "--concurrency",
        "8",
        "-q",
        "--output",
        "json",
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let summary = summary_of(&out);
    let calls = summary["calls"].as_u64().unwrap();
    // 400 scheduled; the last may still be due when the 2 s end.
    assert!((390..=401).contains(&calls), "{summary}");
    assert_eq!(summary["open_loop"]["rate_per_s"], 200.0);
    assert_eq!(summary["open_loop"]["latency_correction"], true);

    // A ramp from 50/s to 150/s over 2 s averages 100/s.
    let ramp = server.hello(&[
        "--rate",
        "50..150",
        "--duration",
        "2s",
        "-q",
        "--output",
        "json",
    ]);
    let ramped = summary_of(&ramp);
    let calls = ramped["calls"].as_u64().unwrap();
    assert!((190..=201).contains(&calls), "{ramped}");
    assert_eq!(ramped["open_loop"]["ramp_to_per_s"], 150.0);
}

#[test]
fn a_stalled_server_shows_in_the_corrected_latency_not_only_in_a_slower_load() {
    // Each call takes 50 ms, two at a time: 40 a second at most, against 100 scheduled. The
    // calls that waited for a slot count their latency from when they were due.
    let server = serve(&["--fault-delay", "50ms"]);
    let run = |extra: &[&str]| {
        let args = [
            &["--rate", "100", "--count", "60", "--concurrency", "2", "-q"][..],
            &["--output", "json", "--timeout", "10s"],
            extra,
        ]
        .concat();
        let out = server.hello(&args);
        assert_eq!(out.code, Some(0), "{out:?}");
        summary_of(&out)
    };
    let corrected = run(&[]);
    let closed = run(&["--no-latency-correction"]);
    let p99 = |summary: &Value| summary["latency"]["p99_ms"].as_f64().unwrap();
    // Calls free their slots in pairs (both held 50 ms), so one of each pair finds a slot at
    // its time and the other waits: about half are late.
    assert!(
        corrected["open_loop"]["late"].as_u64() > Some(20),
        "{corrected}"
    );
    // 60 calls at 40/s take 1.5 s against 0.6 s scheduled: the last waited about 0.9 s.
    assert!(p99(&corrected) > 500.0, "{corrected}");
    assert!(p99(&closed) < 200.0, "{closed}");
    assert_eq!(closed["open_loop"]["latency_correction"], false);
}

#[test]
fn thresholds_judge_the_run_with_exit_3() {
    let server = serve(&["--fault-status", "UNAVAILABLE:5%", "--fault-seed", "4"]);
    let judged = |thresholds: &[&str]| {
        let args = [&["--count", "400", "-q"][..], thresholds].concat();
        server.hello(&args)
    };
    // Some failures, within what --max-error-rate allows: the run passes.
    let within = judged(&["--max-error-rate", "20%"]);
    assert_eq!(within.code, Some(0), "{within:?}");
    assert!(
        within
            .stderr
            .contains("threshold --max-error-rate 20% passed (")
    );

    let over = judged(&["--max-error-rate", "0.1%"]);
    assert_eq!(over.code, Some(3), "{over:?}");
    assert!(
        over.stderr.contains("threshold failed: the error rate ")
            && over.stderr.contains(" is over --max-error-rate 0.1% by "),
        "{over:?}"
    );
    let slow = judged(&["--max-p99", "1us", "--max-error-rate", "20%"]);
    assert_eq!(slow.code, Some(3), "{slow:?}");
    assert!(
        slow.stderr.contains("error: threshold missed: p99 "),
        "{slow:?}"
    );
    let unreachable = judged(&["--min-rate", "9999999/s", "--max-error-rate", "20%"]);
    assert_eq!(unreachable.code, Some(3), "{unreachable:?}");
    assert!(
        unreachable
            .stderr
            .contains(" is under --min-rate 9999999/s by ")
    );
    // Without --max-error-rate, failed calls still fail the run as before: 64 + the status.
    assert_eq!(judged(&["--max-p99", "1h"]).code, Some(64 + 14));

    let json = judged(&[
        "--max-p99",
        "1us",
        "--max-error-rate",
        "20%",
        "--output",
        "json",
    ]);
    let thresholds = summary_of(&json)["thresholds"].clone();
    assert_eq!(thresholds[0]["flag"], "--max-p99");
    assert_eq!(thresholds[0]["passed"], false);
    assert_eq!(thresholds[1]["passed"], true, "{thresholds}");
}

#[test]
fn ctrl_c_stops_the_run_with_its_summary_and_report_and_exits_130() {
    let server = serve(&["--access-log"]);
    let files = TempFiles::new();
    let report = files.path("run.json");
    let run = Background::spawn(greeter([
        "hello",
        "--addr",
        &server.loopback(),
        "--duration",
        "60s",
        "--rate",
        "200",
        "-q",
        "--report",
        &report,
    ]));
    // Calls are flowing: stop it as a person would.
    server.stderr_when(|log| log.matches("greeter::access").count() >= 50);
    run.signal(libc::SIGINT);
    let (code, _, stderr) = run.finish_with_stderr();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.starts_with("calls "), "the summary first: {stderr}");
    assert!(stderr.contains("error: interrupted (SIGINT)"), "{stderr}");
    let record: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(record["summary"]["calls"].as_u64() >= Some(50), "{record}");
    assert!(record["seconds"].as_array().is_some_and(|s| !s.is_empty()));
}

#[test]
fn bad_load_flags_are_usage_errors_naming_the_flag() {
    for (args, says) in [
        (&["--rate", "0", "--count", "5"][..], "'--rate <RATE>'"),
        (&["--rate", "10"], "--rate needs --count or --duration"),
        (
            &["--rate", "10..20", "--count", "5"],
            "a ramp (--rate FROM..TO) needs --duration",
        ),
        (
            &["--percentiles", "101", "--count", "5"],
            "'--percentiles <LIST>'",
        ),
        (
            &["--max-error-rate", "lots", "--count", "5"],
            "'--max-error-rate <PERCENT>'",
        ),
        (
            &["--max-p99", "1ms"],
            "judge a run: give --count or --duration",
        ),
        (&["--min-rate=-5", "--count", "5"], "'--min-rate <RATE>'"),
    ] {
        let all = [&["hello", "--addr", "127.0.0.1:1"][..], args].concat();
        let out = run(greeter(all));
        assert_eq!(out.code, Some(2), "{args:?}: {out:?}");
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
}

#[test]
fn on_a_terminal_the_progress_line_shows_the_last_second() {
    let Ok(script) = which("script") else {
        common::skip("util-linux's `script` (a pseudo-terminal for the progress line) is missing");
        return;
    };
    let server = serve(&[]);
    // `script` runs the command on a pseudo-terminal: stderr is a terminal, as a person's.
    let command = format!(
        "{} hello --addr {} --duration 2500ms --rate 400 -q",
        common::GREETER,
        server.loopback()
    );
    let mut pty = std::process::Command::new(script);
    pty.args(["-qec", &command, "/dev/null"]);
    for (name, _) in std::env::vars_os() {
        if common::not_inherited(&name) {
            pty.env_remove(name);
        }
    }
    let out = run(pty);
    assert_eq!(out.code, Some(0), "{out:?}");
    let shown = out.stdout.replace('\r', "\n");
    let live = shown
        .lines()
        .find(|line| line.contains("last second: "))
        .unwrap_or_else(|| panic!("no live figures: {shown:?}"));
    assert!(live.contains(" req/s, 0 errors, p99 "), "{live}");
    // The summary still comes after, whole.
    assert!(
        shown.contains("calls 10") && shown.contains("latency min "),
        "{shown:?}"
    );
}

/// The path of `program` on PATH.
fn which(program: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .ok_or(())
}
