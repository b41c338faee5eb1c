//! Several replicas: calls spread over every address given (or resolved), and a replica that
//! dies mid-run is skipped, not fatal.

mod common;

use std::time::{Duration, Instant};

use common::{BOUND, Background, Server, greeter, has_ipv6_loopback, hello, run};

fn logged_server() -> Server {
    Server::start_with(&["--addr", "127.0.0.1:0", "--access-log"], &[])
}

/// How many SayHello calls `server` has logged so far.
fn calls_served(server: &Server) -> usize {
    server
        .stderr()
        .lines()
        .filter(|line| line.contains("method=/helloworld.Greeter/SayHello"))
        .count()
}

/// Waits, at most [`BOUND`], until every server has logged a call (the access log is written
/// when a call ends, just after the client has its reply).
fn wait_until_each_served(servers: &[Server], at_least: usize) {
    let deadline = Instant::now() + BOUND;
    while servers.iter().any(|server| calls_served(server) < at_least) {
        let counts: Vec<usize> = servers.iter().map(calls_served).collect();
        assert!(Instant::now() < deadline, "calls per server: {counts:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn calls_reach_every_replica_of_a_comma_list() {
    let servers = [logged_server(), logged_server(), logged_server()];
    let list = servers
        .iter()
        .map(Server::loopback)
        .collect::<Vec<_>>()
        .join(",");
    let out = hello(&["--addr", &list, "--count", "30", "--quiet"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stderr.starts_with("calls 30, ok 30, errors 0"),
        "{}",
        out.stderr
    );
    // One call at a time, handed out in turn: ten each.
    wait_until_each_served(&servers, 10);
    let counts: Vec<usize> = servers.iter().map(calls_served).collect();
    assert_eq!(counts, [10, 10, 10]);
}

#[test]
fn repeated_addr_flags_are_replicas_too() {
    let servers = [logged_server(), logged_server()];
    let (a, b) = (servers[0].loopback(), servers[1].loopback());
    let out = hello(&["--addr", &a, "--addr", &b, "-n", "20", "-q"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    wait_until_each_served(&servers, 1);
}

#[test]
fn a_replica_that_dies_mid_run_is_skipped() {
    let mut servers = vec![logged_server(), logged_server(), logged_server()];
    let list = servers
        .iter()
        .map(Server::loopback)
        .collect::<Vec<_>>()
        .join(",");
    let client = Background::spawn(greeter([
        "hello",
        "--addr",
        &list,
        "--duration",
        "3s",
        "-c",
        "2",
        "-q",
        "--retries",
        "3",
        "--output",
        "json",
    ]));
    wait_until_each_served(&servers, 1);
    let victim = servers.remove(1);
    victim.signal(libc::SIGKILL);
    drop(victim);
    let before: Vec<usize> = servers.iter().map(calls_served).collect();
    let (code, stdout) = client.finish();
    assert_eq!(code, Some(0), "a dead replica is not fatal");
    assert!(stdout.is_empty(), "{stdout:?}");
    let after: Vec<usize> = servers.iter().map(calls_served).collect();
    for (b, a) in before.iter().zip(&after) {
        assert!(
            a > b,
            "the survivors kept serving: before {before:?}, after {after:?}"
        );
    }
}

#[test]
fn a_host_name_with_several_addresses_is_several_replicas() {
    // A name that resolves to both loopback addresses, as a headless Service's name resolves to
    // its pods: the client alone runs with a hosts file of the test's own (a private mount
    // namespace, so the machine's /etc/hosts is untouched), which needs root.
    if !has_ipv6_loopback() || !common::HostsFile::possible() {
        common::skip("needs IPv6 loopback and root (for a private /etc/hosts)");
        return;
    }
    let v4 = logged_server();
    let port = v4.port();
    let Ok(v6) = Server::spawn({
        let mut command = greeter(["serve", "--access-log", "--addr", &format!("[::1]:{port}")]);
        command.env_remove("GREETER_ADDR");
        command
    }) else {
        common::skip(&format!("port {port} is taken on ::1"));
        return;
    };
    let hosts = common::HostsFile::new("replicas.test", &["127.0.0.1", "::1"]);
    let addr = format!("replicas.test:{port}");
    let out = run(hosts.greeter(&["hello", "--addr", &addr, "-n", "30", "-q"]));
    assert_eq!(out.code, Some(0), "{out:?}");
    wait_until_each_served(&[v4, v6], 1);
}

#[test]
fn a_unix_socket_cannot_be_one_of_several_replicas() {
    let out = run(greeter(["hello", "--addr", "unix:/tmp/a.sock,127.0.0.1:1"]));
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("Unix socket"), "{}", out.stderr);
}
