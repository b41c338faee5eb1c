//! Health turned NOT_SERVING and back without stopping the server (SIGUSR1, SIGUSR2, or
//! `POST /healthz/...` on the metrics port with --allow-request-faults), for testing readiness
//! gates and load-balancer draining: seen by the official Python health client and by a
//! `Watch`, while Greeter calls keep working.

mod common;

use common::peer::python;
use common::scrape::{get, monitored_with, post, scrape_until, total};
use common::{Background, Server, run};

fn check(target: &str, service: &str) -> String {
    let out = run(python("probe.py", &[target, "check", service]));
    out.stdout.trim().to_owned()
}

/// Sends `signal` and waits for the server to log the change it makes.
fn turn(server: &Server, signal: i32, logged: &str) {
    let before = server.stderr().matches(logged).count();
    server.signal(signal);
    server.stderr_when(|log| log.matches(logged).count() > before);
}

#[test]
fn sigusr1_and_sigusr2_turn_health_as_python_and_a_watch_see_it() {
    let server = Server::start_with(&["--addr", "127.0.0.1:0"], &[]);
    let target = server.loopback();
    let watcher = Background::spawn(python(
        "probe.py",
        &[&target, "watch", "helloworld.Greeter", "30"],
    ));
    assert_eq!(watcher.next_line().as_deref(), Some("SERVING"));
    assert_eq!(check(&target, ""), "SERVING");

    turn(
        &server,
        libc::SIGUSR1,
        "health turned NOT_SERVING by SIGUSR1",
    );
    assert_eq!(watcher.next_line().as_deref(), Some("NOT_SERVING"));
    for service in ["", "helloworld.Greeter"] {
        assert_eq!(check(&target, service), "NOT_SERVING", "{service:?}");
    }
    let out = server.hello(&["still-here"]);
    assert_eq!(
        out.stdout, "Hello still-here\n",
        "Greeter calls go on: {out:?}"
    );

    // Turned NOT_SERVING again: no change, so the Watch gets nothing (its next update is the
    // SERVING below) and nothing is logged. The two signals may be pending at once: SIGUSR1
    // is taken first, as the kernel delivers it.
    server.signal(libc::SIGUSR1);
    turn(&server, libc::SIGUSR2, "health turned SERVING by SIGUSR2");
    assert_eq!(watcher.next_line().as_deref(), Some("SERVING"));
    let log = server.stderr();
    assert_eq!(log.matches("turned NOT_SERVING").count(), 1, "{log}");
    assert_eq!(check(&target, ""), "SERVING");
    assert_eq!(server.hello(&[]).stdout, "Hello world\n");
}

#[test]
fn healthz_on_the_metrics_port_follows_and_with_the_flag_turns_health() {
    let monitored = monitored_with(&[]);
    let metrics = &monitored.metrics;
    assert_eq!(
        get(metrics, "/healthz"),
        ("HTTP/1.1 200 OK".into(), "SERVING\n".into())
    );
    monitored.server.signal(libc::SIGUSR1);
    let (status, body) = common::settle(
        common::BOUND,
        || get(metrics, "/healthz"),
        |(status, _)| status.contains("503"),
    );
    assert_eq!(
        (status.as_str(), body.as_str()),
        ("HTTP/1.1 503 Service Unavailable", "NOT_SERVING\n")
    );
    let samples = scrape_until(metrics, |samples| {
        total(samples, "greeter_health_serving", &[]) == 0.0
    });
    assert_eq!(total(&samples, "greeter_health_serving", &[]), 0.0);
    monitored.server.signal(libc::SIGUSR2);
    let samples = scrape_until(metrics, |samples| {
        total(samples, "greeter_health_serving", &[]) == 1.0
    });
    assert_eq!(total(&samples, "greeter_health_serving", &[]), 1.0, "back");

    // Without --allow-request-faults nobody on the network may turn it.
    let (status, body) = post(metrics, "/healthz/serving");
    assert!(status.contains("403"), "{status}: {body}");
    assert!(body.contains("--allow-request-faults"), "{body}");

    let allowed = monitored_with(&["--allow-request-faults"]);
    let metrics = &allowed.metrics;
    let (status, body) = post(metrics, "/healthz/not-serving");
    assert_eq!(
        (status.as_str(), body.as_str()),
        ("HTTP/1.1 503 Service Unavailable", "NOT_SERVING\n")
    );
    assert_eq!(check(&allowed.server.loopback(), ""), "NOT_SERVING");
    allowed
        .server
        .stderr_when(|log| log.contains("health turned NOT_SERVING by POST /healthz/not-serving"));
    let (status, _) = post(metrics, "/healthz/serving");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(check(&allowed.server.loopback(), ""), "SERVING");
    let (status, _) = get(metrics, "/healthz/serving");
    assert!(status.contains("405"), "turning takes a POST: {status}");
}
