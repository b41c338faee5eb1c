//! greeter behind the real infrastructure it is deployed with, Debian's own binaries on
//! loopback (tests/infra/setup.sh installs them; each test skips, saying so, where one is
//! missing): nginx's `grpc_pass` and HAProxy's HTTP/2 backends in front of three replicas, and
//! Prometheus scraping `--metrics-addr`. Smoke tests: each proves the set-up carries calls end
//! to end, so that the feature tests built on it fail only for their feature.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::proxy::{Haproxy, Nginx, Prometheus, value};
use common::scrape::monitored_with;
use common::{BOUND, Outcome, Server, hello};

const REPLICAS: [&str; 3] = ["r1", "r2", "r3"];

/// One `greeter serve --replica NAME` on loopback for each of [`REPLICAS`].
fn replicas() -> Vec<Server> {
    REPLICAS
        .map(|name| Server::start_on_loopback(&["--replica", name]))
        .into()
}

/// 300 calls through `addr`, six at a time over one connection, so the proxy multiplexes.
fn three_hundred_calls(addr: &str) -> Outcome {
    hello(&["--addr", addr, "--count", "300", "--concurrency", "6", "-q"])
}

/// The `ok` column of each row of the per-replica table in a `--count` summary.
fn ok_by_replica(stderr: &str) -> BTreeMap<String, u64> {
    stderr
        .lines()
        .skip_while(|line| !line.starts_with("replica "))
        .skip(1)
        .take_while(|line| !line.starts_with("spread over"))
        .map(|row| {
            let cells: Vec<&str> = row.split_whitespace().collect();
            let ok = cells[2].parse().unwrap_or_else(|e| panic!("{e}: {row}"));
            (cells[0].to_owned(), ok)
        })
        .collect()
}

/// Every one of the 300 calls answered OK, and by one of the three replicas, each of which
/// took some: the proxy balanced calls, not the one connection.
#[track_caller]
fn assert_every_reply_came_through(out: &Outcome, proxy_log: &str) {
    assert_eq!(
        out.code,
        Some(0),
        "{out:?}\n--- the proxy's log:\n{proxy_log}"
    );
    assert!(
        out.stderr.starts_with("calls 300, ok 300, errors 0,"),
        "{}\n--- the proxy's log:\n{proxy_log}",
        out.stderr
    );
    let ok = ok_by_replica(&out.stderr);
    assert_eq!(
        ok.keys().map(String::as_str).collect::<Vec<_>>(),
        REPLICAS,
        "{}",
        out.stderr
    );
    assert!(ok.values().all(|&calls| calls > 0), "{}", out.stderr);
    assert_eq!(ok.values().sum::<u64>(), 300, "{}", out.stderr);
}

#[test]
fn nginx_grpc_pass_carries_every_call_to_three_replicas() {
    let replicas = replicas();
    let addrs: Vec<String> = replicas.iter().map(Server::loopback).collect();
    let Some(nginx) = Nginx::start(&format!(
        "upstream greeters {{\n{servers}}}\n\
         server {{\n{listen}\nlocation / {{ grpc_pass grpc://greeters; }}\n}}",
        servers = Nginx::servers(&addrs),
        listen = Nginx::LISTEN,
    )) else {
        return;
    };

    let out = three_hundred_calls(&nginx.socket());
    assert_every_reply_came_through(&out, &nginx.error_log());
}

#[test]
fn haproxy_h2_backends_carry_every_call_to_three_replicas() {
    let replicas = replicas();
    let addrs: Vec<String> = replicas.iter().map(Server::loopback).collect();
    let Some(haproxy) = Haproxy::start(&format!(
        "frontend grpc\n    {bind}\n    default_backend greeters\n\
         backend greeters\n    balance roundrobin\n{servers}",
        bind = Haproxy::BIND,
        servers = Haproxy::servers(&addrs),
    )) else {
        return;
    };

    let out = three_hundred_calls(&haproxy.socket());
    assert_every_reply_came_through(&out, &haproxy.output());
}

#[test]
fn prometheus_scrapes_the_calls_greeter_counted() {
    let monitored = monitored_with(&[]);
    let Some(prometheus) = Prometheus::start(&[&monitored.metrics], Duration::from_millis(500))
    else {
        return;
    };
    let out = monitored.server.hello(&["--count", "50", "-q"]);
    assert_eq!(out.code, Some(0), "{out:?}");

    // Prometheus's first scrape comes some seconds after it starts; BOUND covers it.
    let query = r#"sum(greeter_calls_total{method="/helloworld.Greeter/SayHello"})"#;
    let answer = prometheus.query_until(query, |answer| value(answer) == Some(50.0), BOUND);
    assert_eq!(
        value(&answer),
        Some(50.0),
        "{query}: {answer}\n--- Prometheus's log:\n{}",
        prometheus.log()
    );
    let up = prometheus.query(r#"up{job="greeter"}"#);
    assert_eq!(value(&up), Some(1.0), "{up}");
}
