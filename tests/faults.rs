//! Faults on demand (`serve --fault-delay`, `--fault-status`, `--fault-seed`,
//! `--allow-request-faults`): injected as asked, on Greeter calls only, bounded by the call's
//! deadline, and told apart from real failures in the metrics and the access log.

mod common;

use std::time::Duration;

use common::h2conn::{H2Conn, hello_request};
use common::peer::python;
use common::scrape::{monitored_with, scrape_until, total};
use common::{Outcome, Server, run};

const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";

fn serve(args: &[&str]) -> Server {
    let args = [&["--addr", "127.0.0.1:0"], args].concat();
    Server::start_with(&args, &[])
}

/// The JSON summary of a `--count` run (`--output json` puts it on stderr, alone).
fn summary(out: &Outcome) -> serde_json::Value {
    let line = out
        .stderr
        .lines()
        .find(|line| line.starts_with('{') && line.contains("\"calls\""))
        .unwrap_or_else(|| panic!("no JSON summary: {out:?}"));
    serde_json::from_str(line).unwrap()
}

/// The statuses of the server's access log lines for SayHello, in the order it logged them.
fn logged_statuses(server: &Server, calls: usize) -> Vec<String> {
    let stderr = server.stderr_when(|log| log.matches("SayHello").count() >= calls);
    stderr
        .lines()
        .filter(|line| line.contains("greeter::access") && line.contains("SayHello"))
        .map(|line| {
            let status = line.split("status=\"").nth(1).unwrap_or_default();
            status.split('"').next().unwrap_or_default().to_owned()
        })
        .collect()
}

#[test]
fn twenty_percent_unavailable_fails_about_200_of_1000_calls_counted_as_injected() {
    let args = [
        "--workers",
        "1",
        "--fault-status",
        "UNAVAILABLE:20%",
        "--fault-seed",
        "1",
    ];
    let failures_of_a_run = || {
        let monitored = monitored_with(&args);
        let out = monitored
            .server
            .hello(&["--count", "1000", "-q", "--output", "json"]);
        assert_eq!(out.code, Some(64 + 14), "{out:?}");
        let failed = summary(&out)["errors"]["UNAVAILABLE"].as_u64().unwrap();
        let samples = scrape_until(&monitored.metrics, |samples| {
            total(samples, "greeter_calls_total", &[]) >= 1000.0
        });
        let injected = total(
            &samples,
            "greeter_injected_statuses_total",
            &[
                ("code", "UNAVAILABLE"),
                ("method", "/helloworld.Greeter/SayHello"),
            ],
        );
        let unavailable = total(&samples, "greeter_calls_total", &[("code", "UNAVAILABLE")]);
        assert_eq!(injected, failed as f64, "every failure was an injected one");
        assert_eq!(unavailable, failed as f64, "and is a call like any other");
        failed
    };
    let failed = failures_of_a_run();
    // Binomial(1000, 0.2): mean 200, standard deviation 12.6; five of them either side.
    assert!((137..=263).contains(&failed), "{failed} of 1000 failed");
    // One worker, one call at a time: the seed gives the same draws to the same calls.
    assert_eq!(
        failures_of_a_run(),
        failed,
        "--fault-seed 1 repeats the run"
    );
}

#[test]
fn retries_recover_every_call_that_had_a_try_left() {
    let server = serve(&[
        "--workers",
        "1",
        "--fault-status",
        "UNAVAILABLE:20%",
        "--fault-seed",
        "7",
        "--access-log",
    ]);
    let out = server.hello(&[
        "--count",
        "1000",
        "--retries",
        "3",
        "--retry-backoff",
        "1ms",
        "-q",
        "--output",
        "json",
    ]);
    let summary = summary(&out);
    let ok = summary["ok"].as_u64().unwrap();
    let calls = summary["calls"].as_u64().unwrap();
    assert_eq!(calls, 1000, "{summary}");

    // One call at a time on one worker: the log is the sequence of attempts. Replaying it
    // with the client's rule (up to 4 attempts, the next after each UNAVAILABLE) says which
    // calls no retry could save: those that met 4 injected failures in a row.
    let attempts = common::settle(
        common::BOUND,
        || logged_statuses(&server, 1000),
        |attempts| replay(attempts).is_some_and(|(calls, _)| calls == 1000),
    );
    let (_, unrecoverable) = replay(&attempts).expect("every call's attempts logged");
    let injected = attempts.iter().filter(|s| *s == "UNAVAILABLE").count();
    assert!(injected > 150, "{injected} injected failures");
    assert_eq!(ok, 1000 - unrecoverable, "{summary}");
    // 0.2^4 = 0.16 %: a handful at most among 1000.
    assert!(unrecoverable <= 6, "{unrecoverable}");
}

/// The calls a client with `--retries 3` made of `attempts`, and how many failed all 4 tries;
/// None while the last call's attempts are not all logged yet.
fn replay(attempts: &[String]) -> Option<(u64, u64)> {
    let (mut calls, mut unrecoverable, mut tries) = (0, 0, 0);
    for status in attempts {
        assert!(
            status == "OK" || status == "UNAVAILABLE",
            "only injected failures: {status}"
        );
        if tries == 0 {
            calls += 1;
        }
        tries += 1;
        if status == "OK" {
            tries = 0;
        } else if tries == 4 {
            unrecoverable += 1;
            tries = 0;
        }
    }
    (tries == 0).then_some((calls, unrecoverable))
}

#[test]
fn a_50ms_delay_holds_every_call_at_least_50ms_and_is_marked() {
    let server = serve(&["--fault-delay", "50ms:100%", "--access-log"]);
    let out = server.hello(&[
        "--count",
        "40",
        "--concurrency",
        "8",
        "-q",
        "--output",
        "json",
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let min = summary(&out)["latency"]["min_ms"].as_f64().unwrap();
    assert!(min >= 50.0, "the fastest call took {min} ms");
    let log = server.stderr_when(|log| log.matches("fault=\"delay=50ms\"").count() >= 40);
    assert_eq!(log.matches("fault=").count(), 40, "{log}");

    // Health is never delayed by the server's flags.
    let health = H2Conn::connect(&server.loopback()).call(HEALTH_CHECK, &[], hello_request(""));
    assert_eq!(health.grpc_status.as_deref(), Some("0"), "{health:?}");
    assert!(
        !health
            .headers
            .iter()
            .any(|h| h.starts_with("greeter-fault")),
        "{health:?}"
    );
}

#[test]
fn a_delay_never_outlasts_the_call_deadline() {
    let server = serve(&["--fault-delay", "30s", "--access-log"]);
    // The server's own timer, alone: a call whose grpc-timeout is 300 ms, from a client that
    // keeps no timer of its own (a client's timer would race the server's to end the call).
    let mut conn = H2Conn::connect(&server.loopback());
    let call = conn.call(
        "/helloworld.Greeter/SayHello",
        &[("grpc-timeout", "300m")],
        hello_request("late"),
    );
    assert_eq!(call.grpc_status.as_deref(), Some("4"), "{call:?}");
    assert!(
        call.headers
            .iter()
            .any(|h| h == "greeter-fault: delay=30000ms status=DEADLINE_EXCEEDED"),
        "{call:?}"
    );
    assert!(call.elapsed >= Duration::from_millis(300), "{call:?}");
    assert!(
        call.elapsed < Duration::from_millis(300) + common::DEADLINE_SLACK,
        "the server held the call for {:?}",
        call.elapsed
    );
    let log = server.stderr_when(|log| log.contains("SayHello"));
    assert!(
        log.contains("status=\"DEADLINE_EXCEEDED\"")
            && log.contains("fault=\"delay=30000ms status=DEADLINE_EXCEEDED\""),
        "{log}"
    );
}

#[test]
fn a_delay_cut_by_the_deadline_counts_as_the_deadline_it_caused() {
    // A call that would be delayed, then failed UNAVAILABLE, meets its deadline first: it
    // ended DEADLINE_EXCEEDED, injected, and no UNAVAILABLE was sent.
    let monitored = monitored_with(&["--fault-delay", "5s", "--fault-status", "UNAVAILABLE"]);
    let mut conn = H2Conn::connect(&monitored.server.loopback());
    let call = conn.call(
        "/helloworld.Greeter/SayHello",
        &[("grpc-timeout", "200m")],
        hello_request("cut"),
    );
    assert_eq!(call.grpc_status.as_deref(), Some("4"), "{call:?}");
    let samples = scrape_until(&monitored.metrics, |samples| {
        total(samples, "greeter_calls_total", &[]) >= 1.0
    });
    let injected = |code| {
        total(
            &samples,
            "greeter_injected_statuses_total",
            &[("code", code)],
        )
    };
    assert_eq!(injected("DEADLINE_EXCEEDED"), 1.0);
    assert_eq!(injected("UNAVAILABLE"), 0.0);
    let real = total(&samples, "greeter_calls_total", &[]) - injected("DEADLINE_EXCEEDED");
    assert_eq!(real, 0.0, "no real failure: {samples:?}");
}

#[test]
fn a_call_given_up_during_its_delay_is_still_marked_and_counted() {
    // A mesh's per-try timeout, or a client killed: the call ends CANCELLED, mid-delay.
    let args = ["--fault-delay", "10s", "--access-log"];
    let monitored = monitored_with(&args);
    // The server has the call's headers (so it is in its delay) when the client walks away.
    let held = H2Conn::connect(&monitored.server.loopback()).hold();
    drop(held);
    let log = monitored
        .server
        .stderr_when(|log| log.contains("status=\"CANCELLED\""));
    assert!(log.contains("fault=\"delay=10000ms\""), "{log}");
    let samples = scrape_until(&monitored.metrics, |samples| {
        total(samples, "greeter_injected_delays_total", &[]) >= 1.0
    });
    assert_eq!(total(&samples, "greeter_injected_delays_total", &[]), 1.0);
}

#[test]
fn what_is_not_grpc_gets_its_http_answer_whatever_the_faults() {
    let server = serve(&["--fault-status", "UNAVAILABLE", "--fault-delay", "5s"]);
    let mut conn = H2Conn::connect(&server.loopback());
    let call = conn.call_as(
        "/helloworld.Greeter/SayHello",
        Some("text/plain"),
        hello_request("x"),
    );
    assert_eq!(call.http_status, 415, "{call:?}");
    assert!(
        call.elapsed < Duration::from_secs(5),
        "not delayed: {call:?}"
    );
}

#[test]
fn request_faults_are_ignored_and_logged_once_without_the_flag() {
    // A server with a fault flag but not --allow-request-faults: it looks, and says so once.
    let server = serve(&["--fault-delay", "1ms", "--access-log"]);
    for _ in 0..3 {
        let out = server.hello(&["-H", "greeter-fault-status: UNAVAILABLE"]);
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (Some(0), "Hello world\n"),
            "{out:?}"
        );
        assert!(
            out.stderr
                .contains("the server ignored greeter-fault-status"),
            "{out:?}"
        );
    }
    let out = server.hello(&["-H", "greeter-fault-delay: 10s", "--timeout", "2s"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    // Every call logged, so a second warning would be in the log by now.
    let log = server.stderr_when(|log| log.matches("greeter::access").count() >= 4);
    assert_eq!(
        log.matches("--allow-request-faults").count(),
        1,
        "logged once: {log}"
    );
}

#[test]
fn a_server_with_no_test_flag_ignores_request_faults_and_the_client_says_so() {
    // It does not even look (that would cost every call): `hello` tells the user instead.
    let server = serve(&[]);
    let out = server.hello(&["-H", "greeter-fault-status: UNAVAILABLE"]);
    assert_eq!(out.stdout, "Hello world\n", "{out:?}");
    assert!(
        out.stderr.contains(
            "warning: the server ignored greeter-fault-status: start `greeter serve` with \
             --allow-request-faults to honour it"
        ),
        "{out:?}"
    );
    let quiet = server.hello(&[]);
    assert_eq!(quiet.stderr, "", "no warning for a call that asked nothing");
}

#[test]
fn with_the_flag_a_call_gets_the_fault_it_asks_for() {
    let server = serve(&["--allow-request-faults", "--access-log"]);
    let out = server.hello(&["-H", "greeter-fault-status: ABORTED"]);
    assert_eq!(out.code, Some(64 + 10), "{out:?}");
    assert!(
        out.stderr
            .contains("failed with ABORTED: injected by greeter serve (a test fault)"),
        "{out:?}"
    );

    let out = server.hello(&["-H", "greeter-fault-delay: 120ms", "--output", "json"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.elapsed >= Duration::from_millis(120), "{out:?}");
    let reply: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(reply["message"], "Hello world");
    assert_eq!(reply["fault"], "delay=120ms", "{reply}");

    // Numbers work as names do; health may ask too (a call that asks is the test).
    let mut conn = H2Conn::connect(&server.loopback());
    let health = conn.call(
        HEALTH_CHECK,
        &[("greeter-fault-status", "14")],
        hello_request(""),
    );
    assert_eq!(health.grpc_status.as_deref(), Some("14"), "{health:?}");
    assert!(
        health
            .headers
            .iter()
            .any(|h| h == "greeter-fault: status=UNAVAILABLE"),
        "{health:?}"
    );
}

#[test]
fn malformed_fault_metadata_is_invalid_argument_and_the_server_goes_on() {
    let server = serve(&["--allow-request-faults"]);
    for (header, says) in [
        ("greeter-fault-status: SOMETIMES", "not a gRPC status name"),
        ("greeter-fault-status: OK", "not a gRPC status name"),
        ("greeter-fault-delay: soon", "greeter-fault-delay"),
        (
            "greeter-fault-delay: 2m",
            "longer than the 60s a call may ask for",
        ),
    ] {
        let out = server.hello(&["-H", header]);
        assert_eq!(out.code, Some(64 + 3), "{header}: {out:?}");
        assert!(out.stderr.contains(says), "{header}: {out:?}");
        assert!(
            !out.stderr.contains("ignored"),
            "refused, not ignored: {out:?}"
        );
    }
    let out = server.hello(&[]);
    assert_eq!(out.stdout, "Hello world\n", "{out:?}");
}

#[test]
fn server_wide_faults_leave_health_and_reflection_honest() {
    let server = serve(&["--fault-status", "UNAVAILABLE", "--fault-delay", "2s"]);
    let out = server.hello(&["--timeout", "5s"]);
    assert_eq!(out.code, Some(64 + 14), "{out:?}");
    let target = server.loopback();
    let check = run(python("probe.py", &[&target, "check", ""]));
    assert_eq!(check.stdout.trim(), "SERVING", "{check:?}");
    let reflect = run(python("probe.py", &[&target, "reflect", "v1"]));
    assert!(reflect.stdout.contains("methods: SayHello"), "{reflect:?}");
    // Neither waited for the Greeter's 2 s delay.
    assert!(check.elapsed < Duration::from_secs(2), "{check:?}");
}

#[test]
fn bad_fault_flags_are_usage_errors() {
    for (flag, value, says) in [
        (
            "--fault-status",
            "UNAVAILABLE:60%,INTERNAL:50%",
            "add up to 110%",
        ),
        ("--fault-status", "UNAVAILABLE:2", "not a percentage"),
        ("--fault-delay", "fast:5%", "e.g. 50ms"),
    ] {
        let out = run(common::greeter([
            "serve",
            "--addr",
            "127.0.0.1:0",
            flag,
            value,
        ]));
        assert_eq!(out.code, Some(2), "{flag} {value}: {out:?}");
        assert!(
            out.stderr
                .contains(&format!("invalid value '{value}' for '{flag}")),
            "{out:?}"
        );
        assert!(out.stderr.contains(says), "{flag} {value}: {out:?}");
    }
}

#[test]
fn official_clients_still_read_exactly_hello_with_every_test_flag_on() {
    // Every flag of this file and of --echo-metadata at once; the status fault at 0 % is on
    // (parsed, drawn for every call) without failing the calls being checked.
    let server = serve(&[
        "--replica",
        "pod-a",
        "--fault-delay",
        "5ms:100%",
        "--fault-status",
        "UNAVAILABLE:0%",
        "--fault-seed",
        "3",
        "--allow-request-faults",
        "--echo-metadata",
        "--redact",
        "x-api-key",
    ]);
    for peer in common::peer::Official::ALL {
        let out = peer.call(&server.loopback(), &["--name", "you"]);
        assert_eq!(out.code, Some(0), "{peer:?}: {out:?}");
        assert_eq!(out.stdout, "Hello you\n", "{peer:?}");
    }
}
