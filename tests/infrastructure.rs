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
    replicas_with(&[])
}

/// The same, each with `args` besides.
fn replicas_with(args: &[&str]) -> Vec<Server> {
    REPLICAS
        .map(|name| Server::start_on_loopback(&[&["--replica", name], args].concat()))
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

// ---------------------------------------------------------------------------------------------
// What the infrastructure tool shows through them (README: "Testing your infrastructure").

/// nginx in front of `replicas`, setting two headers as a real front would.
fn nginx_in_front_of(replicas: &[Server]) -> Option<Nginx> {
    let addrs: Vec<String> = replicas.iter().map(Server::loopback).collect();
    Nginx::start(&format!(
        "upstream greeters {{\n{servers}}}\n\
         server {{\n{listen}\nlocation / {{\n\
             grpc_pass grpc://greeters;\n\
             grpc_set_header x-forwarded-for $proxy_add_x_forwarded_for;\n\
             grpc_set_header x-via-nginx \"yes\";\n\
         }}\n}}",
        servers = Nginx::servers(&addrs),
        listen = Nginx::LISTEN,
    ))
}

#[test]
fn through_nginx_the_echo_shows_what_nginx_added_and_where_it_connected_from() {
    let replicas = replicas_with(&["--echo-metadata"]);
    let Some(nginx) = nginx_in_front_of(&replicas) else {
        return;
    };
    let out = hello(&[
        "--addr",
        &nginx.socket(),
        "--output",
        "json",
        "-H",
        "authorization: Bearer through-nginx",
        "-H",
        "x-from-the-client: kept",
    ]);
    assert_eq!(out.code, Some(0), "{out:?}\n{}", nginx.error_log());
    let reply: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(reply["message"], "Hello world");
    let echo = &reply["echo"];
    let metadata = &echo["metadata"];
    assert_eq!(
        metadata["x-via-nginx"],
        serde_json::json!(["yes"]),
        "{reply}"
    );
    // The client came over nginx's Unix socket, which nginx names `unix:`.
    assert_eq!(
        metadata["x-forwarded-for"],
        serde_json::json!(["unix:"]),
        "{reply}"
    );
    assert_eq!(
        metadata["x-from-the-client"],
        serde_json::json!(["kept"]),
        "{reply}"
    );
    assert_eq!(
        metadata["authorization"],
        serde_json::json!(["(redacted)"]),
        "{reply}"
    );
    assert!(!out.stdout.contains("through-nginx"), "{reply}");
    // The peer the replica saw is nginx's own connection, not the client.
    let peer = echo["peer"].as_str().expect("the peer");
    assert!(peer.starts_with("127.0.0.1:"), "{reply}");
    let replica = reply["replica"].as_str().unwrap();
    assert!(REPLICAS.contains(&replica), "{reply}");
}

#[test]
fn through_nginx_an_injected_status_arrives_unchanged() {
    let replicas = replicas_with(&["--allow-request-faults"]);
    let Some(nginx) = nginx_in_front_of(&replicas) else {
        return;
    };
    let out = hello(&[
        "--addr",
        &nginx.socket(),
        "-H",
        "greeter-fault-status: UNAVAILABLE",
    ]);
    assert_eq!(out.code, Some(64 + 14), "{out:?}");
    assert!(
        out.stderr
            .contains("failed with UNAVAILABLE: injected by greeter serve (a test fault)"),
        "{out:?}"
    );
    let out = hello(&[
        "--addr",
        &nginx.socket(),
        "-H",
        "greeter-fault-status: RESOURCE_EXHAUSTED",
    ]);
    assert_eq!(out.code, Some(64 + 8), "{out:?}");
}

#[test]
fn haproxy_takes_a_replica_turned_not_serving_out_of_rotation_and_back() {
    let replicas: Vec<_> = REPLICAS
        .map(|name| monitored_with(&["--replica", name]))
        .into();
    let servers: String = replicas
        .iter()
        .enumerate()
        .map(|(index, replica)| {
            let (_, metrics_port) = replica.metrics.rsplit_once(':').unwrap();
            format!(
                // The check is HTTP/1.1 to the metrics port, not h2 as the calls are.
                "    server s{} {} proto h2 check check-proto h1 port {metrics_port} \
                 inter 200ms fall 1 rise 1\n",
                index + 1,
                replica.server.loopback(),
            )
        })
        .collect();
    let Some(haproxy) = Haproxy::start(&format!(
        "frontend grpc\n    {bind}\n    default_backend greeters\n\
         backend greeters\n    balance roundrobin\n    option httpchk GET /healthz\n{servers}",
        bind = Haproxy::BIND,
    )) else {
        return;
    };
    let rows = || {
        let out = hello(&["--addr", &haproxy.socket(), "--count", "30", "-q"]);
        assert_eq!(out.code, Some(0), "{out:?}\n{}", haproxy.output());
        ok_by_replica(&out.stderr)
    };
    let all = common::settle(BOUND, rows, |rows| rows.len() == 3);
    assert_eq!(all.len(), 3, "every replica in rotation: {all:?}");

    replicas[1].server.signal(libc::SIGUSR1);
    let without = common::settle(BOUND, rows, |rows| !rows.contains_key("r2"));
    assert_eq!(
        without.keys().map(String::as_str).collect::<Vec<_>>(),
        ["r1", "r3"],
        "r2 is NOT_SERVING: {}",
        haproxy.output()
    );
    // Still serving calls that reach it directly: only its health changed.
    assert_eq!(replicas[1].server.hello(&[]).stdout, "Hello world\n");

    replicas[1].server.signal(libc::SIGUSR2);
    let back = common::settle(BOUND, rows, |rows| rows.len() == 3);
    assert_eq!(back.len(), 3, "r2 is back: {back:?}\n{}", haproxy.output());
}

#[test]
fn prometheus_tells_injected_failures_from_real_ones() {
    let monitored = monitored_with(&[
        "--workers",
        "1",
        "--fault-status",
        "UNAVAILABLE:30%",
        "--fault-seed",
        "1",
    ]);
    let Some(prometheus) = Prometheus::start(&[&monitored.metrics], Duration::from_millis(500))
    else {
        return;
    };
    let out = monitored
        .server
        .hello(&["--count", "200", "-q", "--output", "json"]);
    let summary: serde_json::Value = out
        .stderr
        .lines()
        .find_map(|line| serde_json::from_str(line).ok())
        .unwrap_or_else(|| panic!("no JSON summary: {out:?}"));
    let failed = summary["errors"]["UNAVAILABLE"].as_f64().expect("failures");
    assert!(failed > 20.0, "{summary}");

    let calls = r#"sum(greeter_calls_total{method="/helloworld.Greeter/SayHello"})"#;
    let answer = prometheus.query_until(calls, |answer| value(answer) == Some(200.0), BOUND);
    assert_eq!(
        value(&answer),
        Some(200.0),
        "{calls}: {answer}\n{}",
        prometheus.log()
    );
    let injected = prometheus.query(r#"sum(greeter_injected_statuses_total{code="UNAVAILABLE"})"#);
    assert_eq!(value(&injected), Some(failed), "{injected}");
    // What the README's query for real failures gives: none, every failure was injected.
    let real = prometheus
        .query(r#"sum(greeter_calls_total{code!="OK"}) - sum(greeter_injected_statuses_total)"#);
    assert_eq!(value(&real), Some(0.0), "{real}");
}

#[test]
fn through_haproxy_with_no_healthy_backend_the_client_says_unavailable_and_why() {
    let replica = monitored_with(&["--replica", "r1"]);
    replica.server.signal(libc::SIGUSR1);
    let (_, metrics_port) = replica.metrics.rsplit_once(':').unwrap();
    let Some(haproxy) = Haproxy::start(&format!(
        "frontend grpc\n    {bind}\n    default_backend greeters\n\
         backend greeters\n    option httpchk GET /healthz\n\
         \x20   server s1 {addr} proto h2 check check-proto h1 port {metrics_port} inter 200ms \
         fall 1 rise 1\n",
        bind = Haproxy::BIND,
        addr = replica.server.loopback(),
    )) else {
        return;
    };
    // HAProxy answers 503 with an HTML page once its one server is down.
    let out = common::settle(
        BOUND,
        || hello(&["--addr", &haproxy.socket()]),
        |out| out.stderr.contains("HTTP 503"),
    );
    assert_eq!(out.code, Some(64 + 14), "{out:?}\n{}", haproxy.output());
    assert!(
        out.stderr.contains(
            "failed with UNAVAILABLE: the server answered HTTP 503 Service Unavailable, not gRPC"
        ),
        "{out:?}"
    );
}
