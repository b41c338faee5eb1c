//! Which replica answered: `serve --replica NAME` (default: the host name) is sent as
//! `greeter-replica` on every response, successful or not, and never changes the reply; `hello`
//! shows it with `-v`, in its JSON replies, and in a per-replica table of its summary.

mod common;

use common::h2conn::{H2Conn, hello_request};
use common::peer::Official;
use common::{Server, hello};

fn replica(name: &str) -> Server {
    Server::start_with(&["--addr", "127.0.0.1:0", "--replica", name], &[])
}

#[test]
fn three_named_replicas_share_300_calls_and_the_summary_says_how() {
    let replicas: Vec<Server> = ["pod-a", "pod-b", "pod-c"].map(replica).into();
    let addrs: Vec<String> = replicas.iter().map(Server::loopback).collect();
    let addr = addrs.join(",");

    let out = hello(&[
        "--addr",
        &addr,
        "--count",
        "300",
        "--concurrency",
        "6",
        "-q",
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    for name in ["pod-a", "pod-b", "pod-c"] {
        let row = out
            .stderr
            .lines()
            .find(|line| line.starts_with(name))
            .unwrap_or_else(|| panic!("no row for {name}: {}", out.stderr));
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            cells[1..4],
            ["100", "100", "0"],
            "round-robin is exact: {row}"
        );
        assert_eq!(cells.last(), Some(&"33.3%"), "{row}");
    }
    assert!(
        out.stderr
            .contains("spread over 3 replicas: the busiest took 1.00x the calls of the least busy"),
        "{}",
        out.stderr
    );

    let out = hello(&["--addr", &addr, "--count", "300", "-q", "--output", "json"]);
    let summary: serde_json::Value =
        serde_json::from_str(out.stderr.trim()).expect("one JSON object");
    let replicas = summary["replicas"].as_object().expect("replicas");
    let calls: u64 = replicas
        .values()
        .map(|r| r["calls"].as_u64().unwrap())
        .sum();
    assert_eq!(calls, 300, "{summary}");
    assert_eq!(replicas.len(), 3, "{summary}");
    assert_eq!(
        summary["spread"]["max_share"],
        summary["spread"]["min_share"]
    );
}

#[test]
fn a_single_call_shows_its_replica_with_v_and_in_json() {
    let server = replica("pod-x");
    let out = server.hello(&["-v", "you"]);
    assert_eq!(out.stdout, "Hello you\n", "the reply is unchanged: {out:?}");
    assert!(
        out.stderr.contains("< greeter-replica: pod-x"),
        "{}",
        out.stderr
    );
    let out = server.hello(&["--output", "json", "you"]);
    assert_eq!(
        out.stdout,
        "{\"message\":\"Hello you\",\"replica\":\"pod-x\"}\n"
    );
    let out = server.hello(&["--output", "json", "--stream", "--timeout", "5s", "s"]);
    assert!(
        out.stdout
            .lines()
            .all(|line| line == "{\"message\":\"Hello s\",\"replica\":\"pod-x\"}"),
        "{}",
        out.stdout
    );
}

#[test]
fn without_the_flag_a_replica_is_its_host_name() {
    let server = Server::start();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let out = server.hello(&["-v"]);
    assert!(
        out.stderr
            .contains(&format!("< greeter-replica: {}", host.trim())),
        "{}",
        out.stderr
    );
}

#[test]
fn errors_name_the_replica_too() {
    let server = replica("pod-err");
    let mut conn = H2Conn::connect(&server.loopback());
    let answer = conn.call("/helloworld.Greeter/SayGoodbye", &[], hello_request("x"));
    assert_eq!(answer.grpc_status.as_deref(), Some("12"), "{answer:?}");
    assert!(
        answer
            .headers
            .iter()
            .any(|h| h == "greeter-replica: pod-err"),
        "{:?}",
        answer.headers
    );
}

#[test]
fn answers_the_server_makes_itself_name_the_replica_too() {
    let server = Server::start_with(
        &[
            "--addr",
            "127.0.0.1:0",
            "--replica",
            "pod-late",
            "--request-timeout",
            "300ms",
        ],
        &[],
    );
    // A request message that never ends: cut by its grpc-timeout (100 ms), or without one by
    // --request-timeout. Both answers are made by the server, not by a handler.
    let part = || hello_request("x").slice(..3);
    for headers in [&[("grpc-timeout", "100m")][..], &[]] {
        let mut conn = H2Conn::connect(&server.loopback());
        let answer = conn.call_with("/helloworld.Greeter/SayHello", headers, part(), false);
        assert_eq!(answer.grpc_status.as_deref(), Some("4"), "{answer:?}");
        assert!(
            answer
                .headers
                .iter()
                .any(|h| h == "greeter-replica: pod-late"),
            "{headers:?}: {:?}",
            answer.headers
        );
    }
}

#[test]
fn official_clients_read_exactly_the_greeting() {
    let server = replica("pod-official");
    for peer in Official::ALL {
        let out = peer.call(&server.loopback(), &["--name", "you"]);
        assert_eq!(out.code, Some(0), "{peer:?}: {out:?}");
        assert_eq!(out.stdout, "Hello you\n", "{peer:?}");
    }
}

#[test]
fn a_replica_name_that_is_no_header_value_is_a_usage_error() {
    let out = common::run(common::greeter([
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--replica",
        "pöd\n",
    ]));
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("--replica"), "{}", out.stderr);
    assert!(out.stderr.contains("printable ASCII"), "{}", out.stderr);
}

#[test]
fn the_summary_counts_the_connections_the_calls_were_made_on() {
    let replicas: Vec<Server> = ["pod-a", "pod-b", "pod-c"].map(replica).into();
    let addr = replicas
        .iter()
        .map(Server::loopback)
        .collect::<Vec<_>>()
        .join(",");
    let out = hello(&["--addr", &addr, "--count", "30", "-q"]);
    assert!(
        out.stderr
            .lines()
            .next()
            .unwrap()
            .ends_with("on 3 connections"),
        "{}",
        out.stderr
    );

    // The ClusterIP trap and its fix: one address, one connection for every call, until the
    // server's --max-connection-age makes the client reconnect.
    let one = replica("pod-a");
    let out = one.hello(&["--count", "30", "-q", "--output", "json"]);
    let summary: serde_json::Value = serde_json::from_str(out.stderr.trim()).unwrap();
    assert_eq!(summary["connections"], 1, "{summary}");
    let aging = Server::start_with(
        &["--addr", "127.0.0.1:0", "--max-connection-age", "50ms"],
        &[],
    );
    let out = aging.hello(&[
        "--duration",
        "1s",
        "--concurrency",
        "8",
        "-q",
        "--output",
        "json",
    ]);
    let summary: serde_json::Value = serde_json::from_str(out.stderr.lines().next().unwrap())
        .unwrap_or_else(|_| panic!("{out:?}"));
    assert!(summary["connections"].as_u64() >= Some(5), "{summary}");
    // Calls queued on a connection as its GOAWAY came were cancelled unsent (8 in a run of
    // 10 000 before): they never reached the server, so they are sent again, as gRPC does.
    assert_eq!(summary["errors"], serde_json::json!({}), "{summary}");
    assert_eq!(out.code, Some(0), "{out:?}");
}
