//! A slow or stalling network, through the kit's relay (this kernel has no `netem`): calls
//! take their round trips, deadlines hold, retries stay within them, and the summary says so.

mod common;

use std::time::Duration;

use common::relay::Relay;
use common::{Background, Server, assert_ended_by, hello};

/// 50 ms each way: a round trip of 100 ms at least.
const DELAY: Duration = Duration::from_millis(50);

#[test]
fn through_50ms_each_way_calls_take_their_round_trips_and_deadlines_hold() {
    let server = Server::start();
    let relay = Relay::start(&server.loopback(), DELAY);
    let out = hello(&["--addr", &relay.addr, "--timeout", "5s", "far"]);
    assert_eq!(out.stdout, "Hello far\n", "{out:?}");
    // The preface, SETTINGS and the call go out together: a round trip at least.
    assert!(out.elapsed >= 2 * DELAY, "{:?}", out.elapsed);

    let out = hello(&["--addr", &relay.addr, "--count", "20", "--concurrency", "4"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let p50 = out
        .stderr
        .split("p50 ")
        .nth(1)
        .and_then(|rest| rest.split("ms").next())
        .and_then(|ms| ms.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no p50 in {}", out.stderr));
    assert!(
        p50 >= 100.0,
        "the summary shows the round trip: {}",
        out.stderr
    );

    // A deadline shorter than the round trip is met by the deadline, not by the network,
    // and --retries does not stretch it. The round trip is 600 ms here, so that a client the
    // machine's load holds back a moment still cannot see the reply in time.
    let far = Relay::start(&server.loopback(), Duration::from_millis(300));
    let timeout = Duration::from_millis(100);
    let out = hello(&["--addr", &far.addr, "--timeout", "100ms", "--retries", "3"]);
    assert_eq!(out.code, Some(68), "{out:?}");
    assert_ended_by(&out, timeout);
}

#[test]
fn a_connection_that_stalls_mid_run_ends_each_call_at_its_deadline() {
    let server = Server::start();
    let relay = Relay::start(&server.loopback(), Duration::ZERO);
    let run = Background::spawn(common::greeter([
        "hello",
        "--addr",
        &relay.addr,
        "--duration",
        "2s",
        "--concurrency",
        "4",
        "--timeout",
        "300ms",
        "--retries",
        "3",
        "--output",
        "json",
    ]));
    // Replies are flowing; then the network stops carrying anything.
    for _ in 0..20 {
        assert!(run.next_line().is_some(), "replies come");
    }
    relay.stall();
    let started = std::time::Instant::now();
    let (code, _, stderr) = run.finish_with_stderr();
    let ended = started.elapsed();
    let summary: serde_json::Value = stderr
        .lines()
        .find_map(|line| {
            serde_json::from_str(line)
                .ok()
                .filter(|v: &serde_json::Value| v.get("calls").is_some())
        })
        .unwrap_or_else(|| panic!("no JSON summary: {stderr}"));
    assert_eq!(code, Some(68), "{stderr}");
    assert!(
        summary["errors"]["DEADLINE_EXCEEDED"].as_u64() > Some(0),
        "{summary}"
    );
    // The run ends at its duration plus at most one deadline: no call outlived its own.
    assert!(
        ended <= Duration::from_millis(2300) + common::DEADLINE_SLACK,
        "ended {ended:?} after the stall"
    );
    // And the summary says when the answers stopped.
    let stopped = &summary["stopped_answering"];
    assert!(stopped["last_ok_s"].as_f64().is_some(), "{summary}");
    assert!(stopped["failed_after"].as_u64() > Some(0), "{summary}");
}
