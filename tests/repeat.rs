//! `--count`, `--duration`, `--concurrency`, `--connections` and `--quiet`: repeated calls over
//! one connection (or `--connections` of them), each reply printed, and a summary on stderr
//! whose numbers add up.

mod common;

use std::time::Duration;

use common::peer::python_server;
use common::scrape::{monitored_with, scrape_until, total};
use common::{Server, hello};
use serde_json::Value;

#[test]
fn count_prints_every_reply_and_a_summary_that_adds_up() {
    let server = Server::start();
    let out = server.hello(&["--count", "20", "--concurrency", "4", "many"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "Hello many\n".repeat(20));
    let lines: Vec<&str> = out.stderr.lines().collect();
    // Counts, latency, and the histogram's ten bars.
    assert_eq!(lines.len(), 12, "{}", out.stderr);
    assert!(
        lines[2..].iter().all(|line| line.contains("ms [")),
        "{}",
        out.stderr
    );
    assert!(
        lines[0].starts_with("calls 20, ok 20, errors 0, "),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains(" req/s over "), "{}", lines[0]);
    for part in ["latency min ", " p50 ", " p90 ", " p99 ", " max "] {
        assert!(lines[1].contains(part), "{part} missing: {}", lines[1]);
    }
}

#[test]
fn the_json_summary_is_one_object() {
    let server = Server::start();
    let out = server.hello(&["-n", "7", "-c", "3", "--quiet", "--output", "json"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "", "--quiet prints no replies");
    let summary: Value = serde_json::from_str(out.stderr.trim()).unwrap();
    assert_eq!(summary["calls"], 7);
    assert_eq!(summary["ok"], 7);
    assert_eq!(summary["errors"], serde_json::json!({}));
    let latency = &summary["latency"];
    let ms = |key: &str| {
        latency[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key}: {summary}"))
    };
    assert!(ms("min_ms") <= ms("p50_ms") && ms("p50_ms") <= ms("p90_ms"));
    assert!(ms("p90_ms") <= ms("p99_ms") && ms("p99_ms") <= ms("max_ms"));
    assert!(summary["rate_per_s"].as_f64().unwrap() > 0.0);
}

#[test]
fn duration_keeps_calling_until_the_time_is_up() {
    let server = Server::start();
    let out = server.hello(&["--duration", "300ms", "-c", "2", "-q", "-o", "json"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let summary: Value = serde_json::from_str(out.stderr.trim()).unwrap();
    assert!(summary["calls"].as_u64().unwrap() >= 2, "{summary}");
    assert_eq!(summary["calls"], summary["ok"]);
    assert!(summary["elapsed_s"].as_f64().unwrap() >= 0.3, "{summary}");
    assert!(out.elapsed >= Duration::from_millis(300));
}

#[test]
fn failures_are_counted_by_status_and_decide_the_exit_code() {
    // Every call outlives its 100 ms deadline on this slow server.
    let server = python_server(&["--delay", "2"]);
    let out = server.hello(&["-n", "3", "-c", "3", "--timeout", "100ms"]);
    assert_eq!(out.code, Some(68), "{out:?}");
    assert_eq!(out.stdout, "");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines[0].starts_with("calls 3, ok 0, errors 3 (DEADLINE_EXCEEDED 3), "),
        "{}",
        out.stderr
    );
    let last = lines.last().unwrap();
    assert!(
        last.starts_with("error: 3 of 3 calls failed; most often: no reply from"),
        "{last}"
    );
}

#[test]
fn repeated_calls_are_for_say_hello_only() {
    // An address nothing answers: were a check lost, the call would fail there, not on :50051.
    let (_bound, addr) = common::refusing_addr();
    let usage = |args: &[&str]| hello(&[&["--addr", &addr][..], args].concat());
    for args in [["-n", "2", "--stream"], ["-n", "2", "--bidi"]] {
        let out = usage(&args);
        assert_eq!(out.code, Some(2), "{args:?}: {out:?}");
    }
    let out = usage(&["-n", "0"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    let out = usage(&["-n", "2", "--duration", "1s"]);
    assert_eq!(out.code, Some(2), "{out:?}");
}

#[test]
fn a_long_run_into_a_pipe_shows_no_progress_bar() {
    // Over 1000 calls is long enough for a bar on a terminal; stderr here is a pipe.
    let server = Server::start();
    let out = server.hello(&["--count", "2000", "--concurrency", "8", "--quiet", "bar"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(!out.stderr.contains('\r'), "{:?}", out.stderr);
    assert!(!out.stderr.contains('\x1b'), "{:?}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 12, "only the summary: {:?}", out.stderr);
    assert!(
        lines[0].starts_with("calls 2000, ok 2000, errors 0, "),
        "{}",
        lines[0]
    );
    assert!(lines[1].starts_with("latency min "), "{}", lines[1]);
    assert!(!out.stderr.contains("/2000 calls"), "{:?}", out.stderr);
    // The control: the same run on a terminal (util-linux `script` gives it a pty) draws the
    // bar ("{pos}/{len} calls"), so the checks above would see one.
    if !std::path::Path::new("/usr/bin/script").exists() {
        common::skip("the terminal half: script (util-linux) is not installed");
        return;
    }
    let hello = format!(
        "{} hello --addr {} --count 2000 --concurrency 8 --quiet bar",
        common::GREETER,
        server.loopback()
    );
    let mut on_a_terminal = std::process::Command::new("script");
    on_a_terminal
        .args(["-qec", &hello, "/dev/null"])
        .env("TERM", "xterm");
    let shown = common::run(on_a_terminal);
    assert_eq!(shown.code, Some(0), "{shown:?}");
    assert!(
        shown.stdout.contains("/2000 calls"),
        "no bar on a terminal: {shown:?}"
    );
}

#[test]
fn a_call_the_server_never_processed_is_sent_again_and_one_it_did_is_not() {
    use common::fake::{H2Server, Treatment};
    // REFUSED_STREAM says the server did not process the call: gRPC sends it again,
    // transparently, whatever --retries says.
    let refusing = H2Server::start(&[Treatment::Refuse]);
    let out = common::hello(&["--addr", &refusing.addr, "--count", "2", "-q"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stderr.starts_with("calls 2, ok 2, errors 0"), "{out:?}");
    assert_eq!(refusing.requests(), 3, "the refused call once more");

    // A stream reset after the server read it may have done its work: not sent again.
    let resetting = H2Server::start(&[Treatment::ResetAfterReading]);
    let out = common::hello(&["--addr", &resetting.addr, "--count", "2", "-q"]);
    assert!(out.stderr.starts_with("calls 2, ok 1, errors 1"), "{out:?}");
    assert_eq!(
        resetting.requests(),
        2,
        "no second try of the call that reached it"
    );
}

const SAY_HELLO: (&str, &str) = ("method", "/helloworld.Greeter/SayHello");

#[test]
fn connections_opens_that_many_to_the_address_and_spreads_the_calls_over_them() {
    let m = monitored_with(&["--access-log"]);
    let out = m.server.hello(&[
        "--count",
        "30",
        "--concurrency",
        "6",
        "--connections",
        "3",
        "--quiet",
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stderr.starts_with("calls 30, ok 30, errors 0, "),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains(" on 3 connections\n"), "{}", out.stderr);
    let samples = scrape_until(&m.metrics, |samples| {
        total(samples, "greeter_calls_total", &[SAY_HELLO]) == 30.0
    });
    // Three for the calls, and the one that checked the server answers before the run.
    assert_eq!(
        total(&samples, "greeter_connections_accepted_total", &[]),
        4.0
    );
    // Taken in turn: ten calls on each, as the access log's peers (one port each) show.
    let log = m
        .server
        .stderr_when(|log| log.matches("greeter::access").count() == 30);
    let mut calls_by_peer = std::collections::BTreeMap::new();
    for line in log.lines().filter(|line| line.contains("greeter::access")) {
        let peer = line.split(" peer=").nth(1).unwrap().split(' ').next();
        *calls_by_peer.entry(peer.unwrap().to_owned()).or_insert(0) += 1;
    }
    assert_eq!(
        calls_by_peer.values().collect::<Vec<_>>(),
        [&10, &10, &10],
        "{calls_by_peer:?}"
    );

    let out = m.server.hello(&["-n", "3", "--connections", "0"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(
        out.stderr
            .contains("invalid value '0' for '--connections <N>'"),
        "{}",
        out.stderr
    );
}

#[test]
fn connection_specific_headers_are_dropped_as_for_a_single_call() {
    // hyper drops them from a single call's request; h2, which repeated calls go to directly,
    // would refuse the request.
    let server = Server::start();
    for args in [&["-q"][..], &["-n", "3", "-q"][..]] {
        let mut all = args.to_vec();
        all.extend(["-H", "connection: close", "-H", "keep-alive: 5"]);
        let out = server.hello(&all);
        assert_eq!(out.code, Some(0), "{all:?}: {out:?}");
    }
}
