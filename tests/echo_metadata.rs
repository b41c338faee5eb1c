//! `serve --echo-metadata`: every response carries the metadata its call arrived with
//! (`greeter-echo-NAME`), the `:authority` it was sent to and the peer it came from, credentials
//! redacted; `hello -v` prints them and its JSON replies hold them.

mod common;

use common::{Server, TempFiles};

fn echoing(args: &[&str]) -> Server {
    let args = [&["--addr", "127.0.0.1:0", "--echo-metadata"], args].concat();
    Server::start_with(&args, &[])
}

fn json_reply(server: &Server, args: &[&str]) -> serde_json::Value {
    let args = [&["--output", "json"], args].concat();
    let out = server.hello(&args);
    assert_eq!(out.code, Some(0), "{out:?}");
    serde_json::from_str(out.stdout.trim()).unwrap_or_else(|_| panic!("{out:?}"))
}

#[test]
fn what_arrived_comes_back_in_json_with_credentials_redacted() {
    let server = echoing(&["--redact", "x-api-key"]);
    let reply = json_reply(
        &server,
        &[
            "-H",
            "x-forwarded-for: 198.18.0.1",
            "-H",
            "x-forwarded-for: 198.18.0.2",
            "-H",
            "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "-H",
            "authorization: Bearer not-for-echo",
            "-H",
            "cookie: session=not-for-echo",
            "-H",
            "x-api-key: not-for-echo",
        ],
    );
    assert_eq!(reply["message"], "Hello world", "the reply is untouched");
    let echo = &reply["echo"];
    let metadata = &echo["metadata"];
    assert_eq!(
        metadata["x-forwarded-for"],
        serde_json::json!(["198.18.0.1", "198.18.0.2"]),
        "{reply}"
    );
    assert_eq!(
        metadata["traceparent"][0],
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    );
    for secret in ["authorization", "cookie", "x-api-key"] {
        assert_eq!(
            metadata[secret],
            serde_json::json!(["(redacted)"]),
            "{secret}"
        );
    }
    assert!(!reply.to_string().contains("not-for-echo"), "{reply}");
    // What every gRPC client sends, seen as the server got it.
    assert_eq!(metadata["te"], serde_json::json!(["trailers"]));
    assert!(
        metadata["user-agent"][0]
            .as_str()
            .unwrap()
            .starts_with("greeter/")
    );
    assert_eq!(echo["authority"], server.loopback().as_str(), "{reply}");
    let peer = echo["peer"].as_str().unwrap();
    assert!(
        peer.starts_with("127.0.0.1:") && peer != server.loopback(),
        "{peer}"
    );
}

#[test]
fn a_failed_call_echoes_too_and_v_prints_it() {
    let files = TempFiles::new();
    let token = files.write("token", "s3cret\n");
    let server = echoing(&["--auth-token-file", token.to_str().unwrap()]);
    let out = server.hello(&["-v", "-H", "x-seen: on-a-failure"]);
    assert_eq!(out.code, Some(64 + 16), "{out:?}");
    assert!(
        out.stderr.contains("< greeter-echo-x-seen: on-a-failure"),
        "{out:?}"
    );
    assert!(out.stderr.contains("< greeter-peer: 127.0.0.1:"), "{out:?}");
}

#[test]
fn metadata_past_the_budget_is_counted_not_echoed() {
    let server = echoing(&[]);
    let big = "v".repeat(1000);
    let headers: Vec<String> = (0..12).map(|i| format!("x-big-{i:02}: {big}")).collect();
    let mut args = vec!["-v"];
    for header in &headers {
        args.extend(["-H", header.as_str()]);
    }
    let out = server.hello(&args);
    assert_eq!(out.stdout, "Hello world\n", "the call still works: {out:?}");
    let echoed = out.stderr.matches("< greeter-echo-x-big-").count();
    let omitted = out
        .stderr
        .lines()
        .find_map(|line| line.strip_prefix("< greeter-omitted: "))
        .unwrap_or_else(|| panic!("no count of what was left out: {}", out.stderr));
    let omitted: usize = omitted.parse().unwrap();
    // Each counts 1053 bytes (32, the prefix, the name, the value): three fit in 4 KiB, fewer
    // beside the headers every call carries; the rest are counted.
    assert!((2..=3).contains(&echoed), "{echoed} echoed: {}", out.stderr);
    assert!(
        omitted >= 12 - echoed,
        "{omitted} left out of 12, {echoed} echoed"
    );
}

#[test]
fn many_small_headers_stay_within_what_official_clients_accept() {
    // grpc-core (Python's client) refuses response headers past 8 KiB as RESOURCE_EXHAUSTED;
    // 250 small headers echoed whole would be about 13 KiB.
    let server = echoing(&["--redact", "x-secret-bin"]);
    let mut args = vec!["--name".to_owned(), "many".to_owned()];
    for i in 0..250 {
        args.extend(["--header".to_owned(), format!("x-h{i:03}=v")]);
    }
    args.extend(["--header".to_owned(), "x-secret-bin=secret".to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    for _ in 0..3 {
        let out = common::peer::Official::Python.call(&server.loopback(), &args);
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (Some(0), "Hello many\n"),
            "{out:?}"
        );
    }
}

#[test]
fn a_request_header_cannot_pass_for_the_servers_count() {
    let server = echoing(&[]);
    let reply = json_reply(&server, &["-H", "omitted: 99", "-H", "truncated: 99"]);
    assert_eq!(reply["echo"]["omitted"], 0, "{reply}");
    assert_eq!(
        reply["echo"]["metadata"]["omitted"],
        serde_json::json!(["99"])
    );
    assert_eq!(
        reply["echo"]["metadata"]["truncated"],
        serde_json::json!(["99"])
    );
}

#[test]
fn without_the_flag_nothing_is_echoed() {
    let server = Server::start_with(&["--addr", "127.0.0.1:0"], &[]);
    let out = server.hello(&["-v", "-H", "x-seen: no"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(!out.stderr.contains("greeter-echo"), "{out:?}");
    assert!(!out.stderr.contains("greeter-peer"), "{out:?}");
}
