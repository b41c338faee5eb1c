//! `hello --report FILE`: the run's record as JSON, and as a page that headless Chromium draws
//! with the run's numbers; a path that cannot be written fails before any call.

mod common;

use std::path::Path;

use serde_json::Value;

use common::chromium::{Chromium, body_attribute, text_of};
use common::{Outcome, Server, TempFiles, hello};

/// Two replicas, `rA` and `rB`, each failing one call in ten with UNAVAILABLE.
fn flaky_replicas() -> (Server, Server) {
    let replica = |name: &str| {
        Server::start_on_loopback(&[
            "--replica",
            name,
            "--fault-status",
            "UNAVAILABLE:10%",
            "--fault-seed",
            "1",
        ])
    };
    (replica("rA"), replica("rB"))
}

/// 2000 calls over both replicas, 4 at a time, with the JSON summary on stderr and the report
/// written to `report`.
fn run_with_report(a: &Server, b: &Server, report: &str) -> Outcome {
    let addrs = format!("{},{}", a.loopback(), b.loopback());
    hello(&[
        "--addr",
        &addrs,
        "--count",
        "2000",
        "--concurrency",
        "4",
        "-q",
        "--output",
        "json",
        "--report",
        report,
    ])
}

/// The summary the run printed: the first line of its stderr (the failure's line follows).
fn printed_summary(out: &Outcome) -> Value {
    let line = out.stderr.lines().next().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("no JSON summary ({e}): {out:?}"))
}

/// The sum of a summary's errors by status.
fn errors(summary: &Value) -> u64 {
    summary["errors"]
        .as_object()
        .unwrap_or_else(|| panic!("no errors in {summary}"))
        .values()
        .map(|count| count.as_u64().unwrap())
        .sum()
}

/// The record in a page's `<script type="application/json" id="record">`, read as a browser
/// would find the element's end.
fn embedded_record(page: &str) -> Value {
    let open = r#"<script type="application/json" id="record">"#;
    let start = page.find(open).expect("the record's script element") + open.len();
    let end = start + page[start..].find("</script").expect("its end");
    serde_json::from_str(&page[start..end]).expect("the record is JSON")
}

#[test]
fn the_json_report_is_the_runs_record() {
    let (a, b) = flaky_replicas();
    let files = TempFiles::new();
    let report = files.path("run.json");
    let out = run_with_report(&a, &b, &report);
    // UNAVAILABLE, the injected failures.
    assert_eq!(out.code, Some(78), "{out:?}");
    let summary = printed_summary(&out);
    let text = std::fs::read_to_string(&report).expect("the report was written");
    let record: Value = serde_json::from_str(&text).expect("the report is JSON");
    assert_eq!(record["summary"]["calls"], 2000, "{record}");
    assert_eq!(
        record["summary"], summary,
        "the report's summary is the one printed"
    );
    assert!(record["seconds"].is_array(), "{record}");
    assert!(errors(&summary) > 0, "{summary}");
}

#[test]
fn the_html_report_shows_the_run_in_a_browser() {
    let (a, b) = flaky_replicas();
    let files = TempFiles::new();
    let report = files.path("run.html");
    let out = run_with_report(&a, &b, &report);
    assert_eq!(out.code, Some(78), "{out:?}");
    let summary = printed_summary(&out);
    let page = std::fs::read_to_string(&report).expect("the report was written");
    assert!(page.starts_with("<!doctype html>"), "{page}");
    assert_eq!(embedded_record(&page)["summary"], summary);

    let Some(chromium) = Chromium::find() else {
        return;
    };
    let dom = chromium.dump_dom(Path::new(&report));
    assert_eq!(
        body_attribute(&dom, "data-rendered").as_deref(),
        Some("yes"),
        "{dom}"
    );
    assert_eq!(
        text_of(&dom, "total-calls").as_deref(),
        Some("2000"),
        "{dom}"
    );
    assert_eq!(
        text_of(&dom, "total-errors"),
        Some(errors(&summary).to_string()),
        "{dom}"
    );
    assert_eq!(
        text_of(&dom, "total-ok"),
        Some(summary["ok"].to_string()),
        "{dom}"
    );
    for replica in ["rA", "rB"] {
        assert!(dom.contains(&format!(">{replica}<")), "no {replica}: {dom}");
    }
    // Kept for a person to look at.
    let png = Path::new(env!("CARGO_TARGET_TMPDIR")).join("load-report.png");
    chromium.screenshot(Path::new(&report), &png);
    println!("the report's screenshot: {}", png.display());
    eprintln!("the report's screenshot: {}", png.display());
}

#[test]
fn strings_from_the_servers_stay_text_in_the_page() {
    // Replica names are the servers' to choose, and they reach the page: markup in them must
    // neither end the record's script element nor become elements.
    let markup = r#"</script><b id="injected">A</b>"#;
    let a = Server::start_on_loopback(&["--replica", markup]);
    let b = Server::start_on_loopback(&["--replica", "<!--B"]);
    let files = TempFiles::new();
    let report = files.path("run.html");
    let addrs = format!("{},{}", a.loopback(), b.loopback());
    let out = hello(&["--addr", &addrs, "-n", "20", "-q", "--report", &report]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let page = std::fs::read_to_string(&report).expect("the report was written");
    let replicas = &embedded_record(&page)["summary"]["replicas"];
    assert_eq!(replicas[markup]["calls"], 10, "{replicas}");
    assert_eq!(replicas["<!--B"]["calls"], 10, "{replicas}");

    let Some(chromium) = Chromium::find() else {
        return;
    };
    let dom = chromium.dump_dom(Path::new(&report));
    assert_eq!(
        body_attribute(&dom, "data-rendered").as_deref(),
        Some("yes"),
        "{dom}"
    );
    assert!(
        !dom.contains(r#"<b id="injected""#),
        "markup became an element: {dom}"
    );
    assert!(
        dom.contains(r#"&lt;/script&gt;&lt;b id="injected"&gt;A&lt;/b&gt;"#),
        "the name is not shown as text: {dom}"
    );
    assert!(dom.contains("&lt;!--B"), "{dom}");
}

#[test]
fn a_report_that_cannot_be_written_fails_before_any_call() {
    let server = Server::start_on_loopback(&["--access-log"]);
    let files = TempFiles::new();
    let out = server.hello(&["-n", "20", "-q", "--report", "/nonexistent-dir/x.html"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(
        out.stderr,
        "error: could not write --report /nonexistent-dir/x.html: its directory \
         /nonexistent-dir does not exist\n"
    );
    assert_eq!(out.stdout, "");

    // A name that says neither format is a usage error, before any call too.
    let text = files.path("x.txt");
    let out = server.hello(&["-n", "20", "-q", "--report", &text]);
    assert_eq!(out.code, Some(2), "{out:?}");
    let expected = format!(
        "error: invalid value '{text}' for '--report <FILE>': a report is an HTML page or the \
         JSON record, told by the extension: end it with .html or .json\n"
    );
    assert!(out.stderr.starts_with(&expected), "{out:?}");
    assert!(!Path::new(&text).exists());

    // So is a report of one call.
    let out = server.hello(&["-q", "--report", &files.path("one.json")]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(
        out.stderr.starts_with(
            "error: --report is the report of a run of calls: add --count N (more than 1) or \
             --duration\n"
        ),
        "{out:?}"
    );

    // The access log shows the one call made after them, and nothing before it.
    assert_eq!(server.hello(&[]).code, Some(0));
    let log = server.stderr_when(|log| log.contains("greeter::access"));
    assert_eq!(log.matches("greeter::access").count(), 1, "{log}");
}
