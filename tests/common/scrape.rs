//! The Prometheus endpoint of a `greeter serve --metrics-addr`, read as Prometheus would:
//! the exposition format parsed strictly, samples summed by name and labels.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;

use super::{BOUND, Server};

/// A serve with metrics on, and the metrics URL's address from its log.
pub struct Monitored {
    pub server: Server,
    /// HOST:PORT of the metrics endpoint.
    pub metrics: String,
}

pub fn monitored(workers: &str) -> Monitored {
    monitored_with(&["--workers", workers])
}

/// A serve with metrics on and `args` besides.
pub fn monitored_with(args: &[&str]) -> Monitored {
    let args = [
        &["--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"],
        args,
    ]
    .concat();
    let server = Server::start_with(&args, &[]);
    let stderr = server.stderr_when(|stderr| stderr.contains("metrics on http://"));
    let metrics = match stderr.split("metrics on http://").nth(1) {
        Some(rest) => rest.split('/').next().unwrap().to_owned(),
        None => panic!("no metrics address in: {stderr}"),
    };
    Monitored { server, metrics }
}

/// GET `path` over plain HTTP/1.1: the status line and the body.
pub fn get(addr: &str, path: &str) -> (String, String) {
    http1(addr, "GET", path)
}

/// POST `path`, with no body, over plain HTTP/1.1: the status line and the body.
pub fn post(addr: &str, path: &str) -> (String, String) {
    http1(addr, "POST", path)
}

fn http1(addr: &str, method: &str, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(BOUND)).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    (head.lines().next().unwrap().to_owned(), content(head, body))
}

/// What a response whose header block is `head` carries in `body`: the body itself, or its
/// chunks put together when it is sent chunked (as Go's servers, Prometheus among them, send
/// a long answer).
fn content(head: &str, body: &str) -> String {
    let chunked = head.lines().any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.eq_ignore_ascii_case("transfer-encoding") && value.trim() == "chunked"
        })
    });
    if chunked {
        unchunk(body)
    } else {
        body.to_owned()
    }
}

/// A chunked body's content: each chunk is its size in hex (maybe `;extensions`), CRLF, the
/// bytes, CRLF; a chunk of size 0 ends it.
fn unchunk(mut body: &str) -> String {
    let mut content = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").expect("a chunk size line");
        let size = size.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size, 16).unwrap_or_else(|e| panic!("{e}: {size:?}"));
        if size == 0 {
            return content;
        }
        let (chunk, rest) = rest.split_at_checked(size).expect("a whole chunk");
        content.push_str(chunk);
        body = rest.strip_prefix("\r\n").expect("CRLF after a chunk");
    }
}

/// One sample: the metric name, its labels, its value.
pub type Sample = (String, BTreeMap<String, String>, f64);

/// Parses the exposition format strictly: every line is a comment (`# HELP`, `# TYPE`,
/// `# UNIT`, `# EOF`) or `name{label="value",...} number`.
pub fn scrape(addr: &str) -> Vec<Sample> {
    let (status, body) = get(addr, "/metrics");
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    assert!(
        body.ends_with("# EOF\n"),
        "OpenMetrics text ends with # EOF: {body}"
    );
    let mut samples = Vec::new();
    for line in body.lines() {
        if let Some(comment) = line.strip_prefix("# ") {
            let keyword = comment.split(' ').next().unwrap();
            assert!(
                ["HELP", "TYPE", "UNIT", "EOF"].contains(&keyword),
                "bad line {line:?}"
            );
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line:?}"));
        let value: f64 = value.parse().unwrap_or_else(|e| panic!("{e}: {line:?}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, labels)) => (name, labels.strip_suffix('}').expect("closing brace")),
            None => (series, ""),
        };
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "bad metric name in {line:?}"
        );
        let labels = labels
            .split(',')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or_else(|| panic!("{line:?}"));
                let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
                (
                    key.to_owned(),
                    value.expect("quoted label value").to_owned(),
                )
            })
            .collect();
        samples.push((name.to_owned(), labels, value));
    }
    samples
}

/// Scrapes until `settled` holds for the samples, at most for [`BOUND`]: the server records a
/// call and a closed connection a moment after the client has seen the end of them.
pub fn scrape_until(addr: &str, settled: impl Fn(&[Sample]) -> bool) -> Vec<Sample> {
    super::settle(BOUND, || scrape(addr), |samples| settled(samples))
}

/// The sum of `name` over the samples whose labels include all of `labels`.
pub fn total(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|(sample, sample_labels, _)| {
            sample == name
                && labels
                    .iter()
                    .all(|(key, value)| sample_labels.get(*key).map(String::as_str) == Some(value))
        })
        .map(|(_, _, value)| value)
        .sum()
}
