//! What the server does at its limits: beyond `--max-connections` a connection is closed at
//! once and counted, out of file descriptors it logs once in a while without spinning; in both
//! cases the open connections are served as before, and new ones are taken again once there is
//! room.

mod common;

use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use common::h2conn::{H2Conn, hello_request};
use common::process::busy_over;
use common::scrape::{monitored_with, scrape, total};
use common::{BOUND, GREETER, Server, not_inherited, settle};

const SAY_HELLO: &str = "/helloworld.Greeter/SayHello";

/// A connection of its own with one call answered: the server has taken it in.
fn held(addr: &str, name: &str) -> H2Conn {
    let mut conn = H2Conn::connect(addr);
    let reply = conn.call(SAY_HELLO, &[], hello_request(name));
    assert_eq!(reply.reply(), Ok(format!("Hello {name}")));
    conn
}

#[test]
fn beyond_max_connections_a_new_one_is_closed_at_once_counted_and_logged() {
    let m = monitored_with(&["--max-connections", "3"]);
    let addr = m.server.loopback();
    let mut open: Vec<H2Conn> = (0..3).map(|i| held(&addr, &format!("open{i}"))).collect();

    let out = m.server.hello(&["--timeout", "10s", "fourth"]);
    assert_eq!(out.code, Some(78), "{out:?}");
    assert!(out.stderr.contains("UNAVAILABLE"), "{}", out.stderr);
    assert!(
        out.elapsed < Duration::from_secs(5),
        "refused at once: {out:?}"
    );
    for (i, conn) in open.iter_mut().enumerate() {
        let reply = conn.call(SAY_HELLO, &[], hello_request("again"));
        assert_eq!(reply.reply(), Ok("Hello again".into()), "connection {i}");
    }
    let samples = scrape(&m.metrics);
    assert_eq!(
        total(&samples, "greeter_connections_refused_total", &[]),
        1.0
    );
    let log = m
        .server
        .stderr_when(|log| log.contains("refused 1 connection"));
    assert!(log.contains("--max-connections 3 are open"), "{log}");

    // A place frees when a connection closes: new ones are taken in again.
    drop(open.pop());
    let again = settle(
        BOUND,
        || m.server.hello(&["later"]),
        |out| out.code == Some(0),
    );
    assert_eq!(again.stdout, "Hello later\n");
}

/// `greeter serve` allowed `files` open descriptors in all (soft and hard limit).
fn serve_with_descriptors(files: u32) -> Server {
    let mut command = Command::new("prlimit");
    command.arg(format!("--nofile={files}:{files}")).args([
        "--",
        GREETER,
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--workers",
        "1",
    ]);
    for (name, _) in std::env::vars_os() {
        if not_inherited(&name) {
            command.env_remove(name);
        }
    }
    Server::spawn(command).expect("serve starts under prlimit")
}

#[test]
fn out_of_descriptors_the_server_logs_keeps_serving_and_recovers_without_spinning() {
    let server = serve_with_descriptors(32);
    let addr = server.loopback();
    let mut early = held(&addr, "early");
    // More connections than descriptors: the kernel queues them, the server cannot take them.
    let flood: Vec<TcpStream> = (0..64)
        .map(|_| TcpStream::connect(&addr).expect("the kernel accepts into the backlog"))
        .collect();
    server.stderr_when(|log| log.contains("accepting a connection failed"));

    // While it lasts: the open connection is served, and accept is not spun on.
    let reply = early.call(SAY_HELLO, &[], hello_request("during"));
    assert_eq!(reply.reply(), Ok("Hello during".into()));
    let busy = busy_over(server.pid(), Duration::from_secs(1));
    assert!(
        busy < 0.2,
        "the server spun: {:.0}% of a core",
        busy * 100.0
    );
    let log = server.stderr();
    assert_eq!(
        log.matches("accepting a connection failed").count(),
        1,
        "logged once in the interval: {log}"
    );
    assert!(log.contains("Too many open files"), "{log}");

    // Room again: the queued connections are taken (and closed, as their clients went), then
    // new ones are served.
    drop(flood);
    let again = settle(
        BOUND,
        || server.hello(&["after"]),
        |out| out.code == Some(0),
    );
    assert_eq!(again.stdout, "Hello after\n");
}
