//! Several replicas: calls spread over every address given (or resolved), and a replica that
//! dies mid-run is skipped, not fatal.

mod common;

use std::time::Duration;

use common::{BOUND, Background, Server, greeter, has_ipv6_loopback, hello, run};

fn logged_server() -> Server {
    Server::start_with(&["--addr", "127.0.0.1:0", "--access-log"], &[])
}

/// How many SayHello calls `server` has logged so far.
fn calls_served(server: &Server) -> usize {
    calls_in(&server.stderr())
}

/// How many SayHello calls a server's `stderr` logs.
fn calls_in(stderr: &str) -> usize {
    stderr
        .lines()
        .filter(|line| line.contains("method=/helloworld.Greeter/SayHello"))
        .count()
}

/// Waits, at most [`BOUND`] for each, until every server has logged `at_least` calls (the
/// access log is written when a call ends, just after the client has its reply).
fn wait_until_each_served(servers: &[Server], at_least: usize) {
    for server in servers {
        server.stderr_when(|stderr| calls_in(stderr) >= at_least);
    }
    let counts: Vec<usize> = servers.iter().map(calls_served).collect();
    assert!(
        counts.iter().all(|&count| count >= at_least),
        "calls per server: {counts:?}"
    );
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

/// Two logged servers on one port, one on 127.0.0.1 and one on ::1 (None, skipped, if the
/// port is taken on ::1).
fn on_both_loopbacks() -> Option<(Server, Server)> {
    let v4 = logged_server();
    let port = v4.port();
    let v6 = Server::spawn({
        let mut command = greeter(["serve", "--access-log", "--addr", &format!("[::1]:{port}")]);
        command.env_remove("GREETER_ADDR");
        command
    });
    match v6 {
        Ok(v6) => Some((v4, v6)),
        Err(_) => {
            common::skip(&format!("port {port} is taken on ::1"));
            None
        }
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
    let Some((v4, v6)) = on_both_loopbacks() else {
        return;
    };
    let port = v4.port();
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

/// `(calls, ok, errors)` from the first line of a run's summary (`calls 30, ok 30, errors 0`).
fn summary(stderr: &str) -> (u64, u64, u64) {
    let first = stderr.lines().next().unwrap_or_default();
    let numbers: Vec<u64> = first
        .split(',')
        .take(3)
        .filter_map(|part| part.split_whitespace().nth(1)?.parse().ok())
        .collect();
    match numbers[..] {
        [calls, ok, errors] => (calls, ok, errors),
        _ => panic!("no summary in {stderr:?}"),
    }
}

mod first_that_connects {
    use super::*;

    #[test]
    fn a_single_call_passes_a_refusing_replica_for_the_next() {
        let (_held, refused) = common::refusing_addr();
        let live = logged_server();
        let out = hello(&["--addr", &format!("{refused},{}", live.loopback())]);
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(out.stdout, "Hello world\n");
        assert_eq!(out.stderr, "");
        wait_until_each_served(std::slice::from_ref(&live), 1);
    }

    #[test]
    fn a_single_call_goes_to_the_first_of_two_live_replicas() {
        let servers = [logged_server(), logged_server()];
        let list = format!("{},{}", servers[0].loopback(), servers[1].loopback());
        // Three separate runs: a pick by chance would reach the second one sooner or later.
        for _ in 0..3 {
            let out = hello(&["--addr", &list]);
            assert_eq!(out.code, Some(0), "{out:?}");
            assert_eq!(out.stdout, "Hello world\n");
        }
        // A server's stderr is whole once it has exited: a call it served cannot be missed.
        let counts: Vec<usize> = servers
            .into_iter()
            .map(|mut server| {
                server.signal(libc::SIGTERM);
                assert!(server.wait_exit(BOUND).is_some(), "serve outlived SIGTERM");
                calls_served(&server)
            })
            .collect();
        assert_eq!(counts, [3, 0], "calls per replica");
    }
}

mod set_aside {
    use super::*;

    /// `hello --count/--duration` over a refusing replica and then a live one, one call at a
    /// time: the summary's numbers and how many calls the live one logged.
    fn run_over_a_dead_and_a_live_replica(duration: &str) -> (u64, u64, u64) {
        let (_held, refused) = common::refusing_addr();
        let live = logged_server();
        let list = format!("{refused},{}", live.loopback());
        let out = hello(&["--addr", &list, "--duration", duration, "-q"]);
        // Some calls failed: the exit is UNAVAILABLE's, and the summary says so.
        assert_eq!(out.code, Some(78), "{out:?}");
        assert_eq!(out.stdout, "");
        let counts = summary(&out.stderr);
        assert!(
            out.stderr.contains("(UNAVAILABLE "),
            "the failures are UNAVAILABLE: {}",
            out.stderr
        );
        let ok = counts.1 as usize;
        let served = calls_in(&live.stderr_when(|stderr| calls_in(stderr) >= ok));
        assert!(served >= ok, "{served} of {ok}");
        assert_eq!(calls_served(&live), ok, "the live replica served every ok");
        counts
    }

    #[test]
    fn within_a_second_of_failing_a_replica_gets_no_call() {
        // The first call goes to the dead replica (first in turn) and fails; in the 500 ms
        // that follow, round-robin would hand it every other call, but it is set aside.
        let (calls, ok, errors) = run_over_a_dead_and_a_live_replica("500ms");
        assert!(calls >= 4, "too few calls to tell: {calls}");
        assert_eq!(errors, 1, "only the first call reached the dead replica");
        assert_eq!(ok, calls - 1);
    }

    #[test]
    fn a_second_later_the_replica_is_tried_again() {
        // Set aside for 1 s after each failure: over 2.5 s the dead replica fails at about
        // 0 s, 1 s and 2 s (a loaded machine may leave out the last), never more often and
        // never just once.
        let (calls, ok, errors) = run_over_a_dead_and_a_live_replica("2500ms");
        assert!(
            (2..=3).contains(&errors),
            "{errors} errors in {calls} calls"
        );
        assert_eq!(ok, calls - errors);
    }
}

#[test]
fn host_names_are_resolved_again_every_5_s() {
    // A name that moves from the IPv4 replica to the IPv6 one during a run, through a hosts file
    // of the test's own: the run follows it within a resolution interval (5 s), and drops the
    // address that is gone.
    if !has_ipv6_loopback() || !common::HostsFile::possible() {
        common::skip("needs IPv6 loopback and root (for a private /etc/hosts)");
        return;
    }
    let Some((v4, v6)) = on_both_loopbacks() else {
        return;
    };
    let port = v4.port();
    let hosts = common::HostsFile::new("moving.test", &["127.0.0.1"]);
    let addr = format!("moving.test:{port}");
    let _run = common::Background::spawn(hosts.greeter(&[
        "hello",
        "--addr",
        &addr,
        "--duration",
        "15s",
        "--quiet",
    ]));
    wait_until_each_served(std::slice::from_ref(&v4), 1);
    hosts.point("moving.test", &["::1"]);
    let within = Duration::from_secs(5) + Duration::from_secs(3);
    let v6_log = v6.stderr_within(within, |stderr| calls_in(stderr) > 0);
    assert!(
        calls_in(&v6_log) > 0,
        "no call reached the new address within 8 s of the change"
    );
    // From then on the old address gets no calls: at most the one in flight at the switch.
    let v4_then = calls_served(&v4);
    let v6_then = calls_served(&v6);
    wait_until_each_served(std::slice::from_ref(&v6), v6_then + 50);
    assert!(
        calls_served(&v4) <= v4_then + 1,
        "the gone address still got calls: {} then {}",
        v4_then,
        calls_served(&v4)
    );
}
