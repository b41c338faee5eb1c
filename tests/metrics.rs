//! `--metrics-addr`: the Prometheus endpoint parses, its counters move with calls, and the
//! per-worker series show connections spread over every worker.

mod common;

use common::h2conn::{H2Conn, hello_request};
use common::scrape::{get, monitored, scrape, scrape_until, total};
use common::{Server, greeter, run};

const SAY_HELLO: (&str, &str) = ("method", "/helloworld.Greeter/SayHello");

#[test]
fn counters_move_with_calls() {
    let m = monitored("2");
    let before = scrape(&m.metrics);
    assert_eq!(total(&before, "greeter_calls_total", &[SAY_HELLO]), 0.0);
    for _ in 0..3 {
        assert_eq!(m.server.hello(&["counted"]).code, Some(0));
    }
    let unknown = H2Conn::connect(&m.server.loopback())
        .call("/helloworld.Greeter/SayGoodbye", &[], hello_request("x"))
        .reply();
    assert!(unknown.is_err());

    let after = scrape_until(&m.metrics, |samples| {
        total(samples, "greeter_calls_total", &[]) == 4.0
            && total(samples, "greeter_connections_open", &[]) == 0.0
    });
    assert_eq!(
        total(&after, "greeter_calls_total", &[SAY_HELLO, ("code", "OK")]),
        3.0
    );
    assert_eq!(
        total(
            &after,
            "greeter_calls_total",
            &[("method", "unknown"), ("code", "UNIMPLEMENTED")]
        ),
        1.0
    );
    assert_eq!(
        total(&after, "greeter_call_duration_seconds_count", &[SAY_HELLO]),
        3.0
    );
    let slowest_bucket = total(
        &after,
        "greeter_call_duration_seconds_bucket",
        &[SAY_HELLO, ("le", "+Inf")],
    );
    assert_eq!(slowest_bucket, 3.0, "every call falls in the +Inf bucket");
    assert!(total(&after, "greeter_call_duration_seconds_sum", &[SAY_HELLO]) > 0.0);
    assert_eq!(total(&after, "greeter_calls_in_flight", &[]), 0.0);
    assert_eq!(total(&after, "greeter_connections_open", &[]), 0.0);
    assert_eq!(
        total(&after, "greeter_connections_accepted_total", &[]),
        4.0
    );
}

#[test]
fn a_call_in_flight_and_its_connection_are_gauged() {
    let m = monitored("1");
    let call = H2Conn::connect(&m.server.loopback()).hold();
    let during = scrape_until(&m.metrics, |samples| {
        total(samples, "greeter_calls_in_flight", &[]) == 1.0
    });
    assert_eq!(total(&during, "greeter_calls_in_flight", &[]), 1.0);
    assert_eq!(total(&during, "greeter_connections_open", &[]), 1.0);
    assert_eq!(call.finish("held").reply(), Ok("Hello held".to_owned()));
    let after = scrape_until(&m.metrics, |samples| {
        total(samples, "greeter_calls_total", &[SAY_HELLO]) == 1.0
    });
    assert_eq!(total(&after, "greeter_calls_in_flight", &[]), 0.0);
    assert_eq!(total(&after, "greeter_calls_total", &[SAY_HELLO]), 1.0);
}

#[test]
fn connections_spread_over_every_worker() {
    let m = monitored("3");
    // Each `greeter hello` is a connection of its own.
    for _ in 0..6 {
        assert_eq!(m.server.hello(&["spread"]).code, Some(0));
    }
    let samples = scrape_until(&m.metrics, |samples| {
        total(samples, "greeter_calls_total", &[SAY_HELLO]) == 6.0
    });
    for worker in ["0", "1", "2"] {
        let accepted = total(
            &samples,
            "greeter_connections_accepted_total",
            &[("worker", worker)],
        );
        assert_eq!(
            accepted, 2.0,
            "worker {worker} got its share of six connections"
        );
        let calls = total(
            &samples,
            "greeter_calls_total",
            &[("worker", worker), SAY_HELLO],
        );
        assert_eq!(calls, 2.0, "worker {worker} served its share of calls");
    }
}

#[test]
fn other_paths_are_not_found() {
    let m = monitored("1");
    let (status, _) = get(&m.metrics, "/");
    assert_eq!(status, "HTTP/1.1 404 Not Found");
}

/// The log of a one-worker server started with `args` once it has served one call: "metrics
/// on" is logged after the readiness line, as the server starts its work, and so before it
/// serves any call; its access log line marks a point the metrics line would have passed.
fn log_after_one_call(args: &[&str]) -> String {
    let mut all = vec!["--addr", "127.0.0.1:0", "--workers", "1", "--access-log"];
    all.extend_from_slice(args);
    let server = Server::start_with(&all, &[]);
    let out = server.hello(&["first"]);
    assert_eq!(out.stdout, "Hello first\n", "{out:?}");
    let log = server.stderr_when(|log| log.contains("greeter::access"));
    assert!(
        log.contains("greeter::access"),
        "no access log line in: {log}"
    );
    log
}

#[test]
fn no_metrics_endpoint_unless_asked() {
    // The control: asked, the metrics line is there by the time a call is logged.
    let asked = log_after_one_call(&["--metrics-addr", "127.0.0.1:0"]);
    assert!(asked.contains("metrics on http://127.0.0.1:"), "{asked}");
    let unasked = log_after_one_call(&[]);
    assert!(!unasked.contains("metrics on"), "{unasked}");
}

#[test]
fn metrics_need_a_tcp_address() {
    let out = run(greeter([
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--metrics-addr",
        "unix:/tmp/m.sock",
    ]));
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("--metrics-addr"), "{}", out.stderr);
    let out = run(greeter([
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--metrics-addr",
        "nope",
    ]));
    assert_eq!(out.code, Some(2), "{out:?}");
}

#[test]
fn one_worker_means_one_thread() {
    let server = Server::start_with(&["--addr", "127.0.0.1:0", "--workers", "1"], &[]);
    assert_eq!(server.hello(&["single"]).code, Some(0));
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    let threads = status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .map(str::trim);
    assert_eq!(
        threads,
        Some("1"),
        "a one-core container gets no idle threads"
    );
}
