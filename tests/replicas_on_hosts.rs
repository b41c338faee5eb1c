//! Replicas on hosts of their own, as a Kubernetes headless Service sees them: three
//! `greeter serve` in network namespaces of their own on one bridge (198.18.0.0/15, only
//! inside the namespaces), and a client in a fourth whose hosts file maps one name to all
//! three. Calls spread evenly; a replica whose link is cut mid-run is noticed by keepalive and
//! left, and no call waits past its deadline. Root only (CI runs as root); skipped otherwise.

mod common;

use std::time::Duration;

use common::netns::{Lab, Netns};
use common::{Background, Server, run, settle, skip};

/// The port every replica listens on, as a Service's pods do. Fixed, and still safe: each
/// namespace's ports are its own, so nothing else on the machine can hold it.
const PORT: u16 = 50051;
const NAME: &str = "greeter-headless";

/// Three replicas on hosts 0-2 and a client on host 3 that resolves [`NAME`] to them; None
/// (after saying why) where namespaces cannot be made.
fn three_replicas() -> Option<(Lab, Vec<Server>)> {
    if !Netns::possible() {
        skip("replicas on hosts of their own need network namespaces (root and ip)");
        return None;
    }
    let lab = Lab::new(4);
    let servers = (0..3)
        .map(|index| {
            let addr = format!("{}:{PORT}", Lab::address(index));
            let serve = ["serve", "--addr", &addr, "--access-log", "--workers", "1"];
            Server::spawn(lab.hosts[index].greeter(&serve)).expect("a replica starts")
        })
        .collect();
    let hosts: String = (0..3)
        .map(|index| format!("{} {NAME}\n", Lab::address(index)))
        .collect();
    lab.hosts[3].hosts(&hosts);
    Some((lab, servers))
}

fn served(server: &Server) -> usize {
    server.stderr().matches("greeter::access").count()
}

#[test]
fn one_name_for_three_replicas_spreads_the_calls_evenly() {
    let Some((lab, servers)) = three_replicas() else {
        return;
    };
    let addr = format!("{NAME}:{PORT}");
    let out = run(lab.hosts[3].greeter(&[
        "hello",
        "--addr",
        &addr,
        "--count",
        "300",
        "--concurrency",
        "6",
        "-q",
    ]));
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stderr.starts_with("calls 300, ok 300, errors 0"),
        "{}",
        out.stderr
    );
    for (index, server) in servers.iter().enumerate() {
        let count = settle(Duration::from_secs(5), || served(server), |&n| n >= 100);
        assert_eq!(count, 100, "replica {index}: round-robin is exact");
    }
}

#[test]
fn a_replica_whose_link_is_cut_mid_run_is_left_and_no_call_waits_past_its_deadline() {
    let Some((lab, servers)) = three_replicas() else {
        return;
    };
    let addr = format!("{NAME}:{PORT}");
    let client = Background::spawn(lab.hosts[3].greeter(&[
        "hello",
        "--addr",
        &addr,
        "--duration",
        "4s",
        "--concurrency",
        "6",
        "--timeout",
        "2s",
        "--retries",
        "5",
        "--retry-backoff",
        "20ms",
        "--keepalive-interval",
        "200ms",
        "--keepalive-timeout",
        "300ms",
        "--connect-timeout",
        "300ms",
        "--output",
        "json",
        "-q",
    ]));
    servers[1].stderr_when(|log| log.matches("greeter::access").count() >= 50);
    lab.link(1, false);
    let at_cut = served(&servers[1]);
    let (code, _, stderr) = client.finish_with_stderr();
    let summary: serde_json::Value = stderr
        .lines()
        .find_map(|line| serde_json::from_str(line).ok())
        .unwrap_or_else(|| panic!("no JSON summary: {stderr}"));
    assert_eq!(
        code,
        Some(0),
        "every call answered, retried elsewhere: {stderr}"
    );
    assert_eq!(summary["calls"], summary["ok"], "{summary}");
    let max_ms = summary["latency"]["max_ms"].as_f64().unwrap();
    assert!(
        max_ms < 2000.0,
        "a call waited past its deadline: {summary}"
    );
    // Calls in flight on the cut replica when it went: at most the concurrency.
    let after_cut = served(&servers[1]) - at_cut;
    assert!(
        after_cut <= 6,
        "{after_cut} calls were served through a cut link"
    );
    let others: usize = [0, 2].iter().map(|&index| served(&servers[index])).sum();
    assert!(
        others > 2 * at_cut,
        "the run went on with the others: {others}"
    );
}
