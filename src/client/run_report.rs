//! `--report FILE`: a run's record written when the run ends, as one self-contained HTML page
//! (`.html`: the record inside, drawn into inline SVG by the page's own script, nothing fetched,
//! so it opens from file:// on a machine without network) or as pretty JSON (`.json`).

use std::fs::OpenOptions;
use std::io;
use std::path::Path;

use serde_json::Value;

use crate::report::describe_io;

/// The page, with [`RECORD_SLOT`] where the record goes.
const PAGE: &str = include_str!("run_report/page.html");

/// Inside `<script type="application/json" id="record">`, where the page reads the record from.
const RECORD_SLOT: &str = "@RECORD@";

/// What a report is written as, told by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Json,
}

impl Format {
    /// `.html` or `.json` (in any case); `None` for any other name.
    pub fn of(path: &Path) -> Option<Format> {
        let extension = path.extension()?.to_str()?;
        if extension.eq_ignore_ascii_case("html") {
            Some(Format::Html)
        } else if extension.eq_ignore_ascii_case("json") {
            Some(Format::Json)
        } else {
            None
        }
    }
}

/// Why `path` is not a report's name, in words that say what to do.
pub const WHICH_FORMATS: &str = "a report is an HTML page or the JSON record, told by the extension: end it with .html or .json";

/// Checks, before a run starts, that its report can be written at `path` when it ends: a name
/// ending in .html or .json, in a directory that exists, where this user may write.
///
/// It leaves the file system as it found it. A file that is already there is opened for
/// appending, which checks that it may be written without truncating it: an earlier report
/// stays whole until this run's replaces it. A file that is not there is created and removed
/// at once, so that a run that fails to connect, or is killed, leaves no empty report behind
/// for someone to open.
pub fn check_writable(path: &Path) -> Result<(), String> {
    let shown = path.display();
    if Format::of(path).is_none() {
        return Err(format!("--report {shown}: {WHICH_FORMATS}"));
    }
    let cannot = |err: io::Error| cannot_write(path, &err);
    match OpenOptions::new().append(true).open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(cannot)?;
            std::fs::remove_file(path).map_err(cannot)
        }
        Err(err) => Err(cannot(err)),
    }
}

/// Why the report cannot be written at `path`, naming it: `could not write --report PATH:
/// its directory DIR does not exist`.
pub fn cannot_write(path: &Path, err: &io::Error) -> String {
    let why = match (err.kind(), path.parent()) {
        (io::ErrorKind::NotFound, Some(dir)) if !dir.as_os_str().is_empty() && !dir.exists() => {
            format!("its directory {} does not exist", dir.display())
        }
        _ => describe_io(err),
    };
    format!("could not write --report {}: {why}", path.display())
}

/// Writes `record` (`{"summary": ..., "seconds": [...]}`) to `path`, as its extension says:
/// the page for `.html`, pretty JSON for `.json`. Any other name is refused
/// ([`check_writable`] refuses it before the run).
pub fn write(path: &Path, record: &Value) -> io::Result<()> {
    let text = match Format::of(path) {
        Some(Format::Html) => page(record),
        Some(Format::Json) => {
            let mut text = serde_json::to_string_pretty(record).map_err(io::Error::other)?;
            text.push('\n');
            text
        }
        None => return Err(io::Error::new(io::ErrorKind::InvalidInput, WHICH_FORMATS)),
    };
    std::fs::write(path, text)
}

/// The page with `record` inside it.
fn page(record: &Value) -> String {
    PAGE.replacen(RECORD_SLOT, &script_data(record), 1)
}

/// `record` as JSON that can sit inside a `<script>` element whatever its strings hold: every
/// `<` is written as `\u003c`, which JSON reads back as the same character, so no `</script>`
/// can end the element early and no `<!--` can change how the parser reads the rest of it.
fn script_data(record: &Value) -> String {
    // Cannot fail: a Value's keys are strings.
    let json = serde_json::to_string(record).unwrap_or_else(|_| "null".to_owned());
    json.replace('<', "\\u003c")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A record of the shape the run writes, with every part the page draws.
    fn sample() -> Value {
        json!({
            "summary": {
                "calls": 2000, "ok": 1800, "errors": {"UNAVAILABLE": 150, "DEADLINE_EXCEEDED": 50},
                "elapsed_s": 1.93, "rate_per_s": 1036.2, "connections": 2,
                "latency": {"min_ms": 0.31, "mean_ms": 0.9, "p50_ms": 0.66, "p90_ms": 0.95,
                            "p99_ms": 1.7, "p99.9_ms": 2.0, "p99.99_ms": 2.1, "max_ms": 2.11},
                "histogram": [{"le_ms": 0.5, "count": 300}, {"le_ms": 1.0, "count": 1200},
                              {"le_ms": 2.11, "count": 300}],
                "messages": [{"code": "UNAVAILABLE", "message": "injected", "count": 150}],
                "open_loop": null, "thresholds": [], "stopped_answering": null,
                "replicas": {"rA": {"calls": 1000, "ok": 900, "errors": 100, "p50_ms": 0.6, "p99_ms": 1.6},
                             "rB": {"calls": 1000, "ok": 900, "errors": 100, "p50_ms": 0.7, "p99_ms": 1.8}},
                "spread": {"max_share": 0.5, "min_share": 0.5}
            },
            "seconds": [{"second": 0, "calls": 1040, "ok": 940, "errors": 100, "p50_ms": 0.6, "p99_ms": 1.6},
                        {"second": 1, "calls": 960, "ok": 860, "errors": 100, "p50_ms": 0.7, "p99_ms": 1.8}]
        })
    }

    /// The text of the page's `<script id="record">` element, as a browser finds its end: at
    /// the first `</script` after its start.
    fn embedded(page: &str) -> &str {
        let start = page
            .find(r#"<script type="application/json" id="record">"#)
            .unwrap();
        let rest = &page[start..];
        let open_end = rest.find('>').unwrap() + 1;
        let close = rest.to_ascii_lowercase()[open_end..]
            .find("</script")
            .unwrap();
        &rest[open_end..open_end + close]
    }

    #[test]
    fn the_page_holds_the_record_and_everything_it_needs() {
        let record = sample();
        let page = page(&record);
        assert_eq!(PAGE.matches(RECORD_SLOT).count(), 1, "one slot in the page");
        assert!(!page.contains(RECORD_SLOT));
        let read: Value = serde_json::from_str(embedded(&page)).unwrap();
        assert_eq!(read, record);
        // Each element the tests and people look for.
        for id in [
            "total-calls",
            "total-ok",
            "total-errors",
            "rate",
            "p50",
            "p99",
            "p999",
            "chart-histogram",
            "chart-status",
            "chart-rate",
            "chart-latency",
            "chart-replicas",
        ] {
            assert!(page.contains(&format!(r#"id="{id}""#)), "no #{id}");
        }
        assert!(page.contains(r#"document.body.dataset.rendered = "yes""#));
    }

    #[test]
    fn the_page_fetches_nothing() {
        // No URL a browser would fetch: no src or href, no http(s) or protocol-relative URL,
        // no @import, and a policy that would block any anyway.
        let lower = PAGE
            .replace(r#""http://www.w3.org/2000/svg""#, "SVG's namespace")
            .to_ascii_lowercase();
        for needle in [
            "src=", "href=", "http:", "https:", "url(", "@import", "//cdn",
        ] {
            assert!(!lower.contains(needle), "the page has {needle:?}");
        }
        assert!(PAGE.contains("default-src 'none'"));
        // And no markup from data: the script writes text only.
        assert!(!PAGE.contains("innerHTML"));
        assert!(!PAGE.contains("insertAdjacentHTML"));
        assert!(!PAGE.contains("document.write"));
    }

    #[test]
    fn no_string_in_the_record_can_end_its_script_element() {
        let hostile = "</script><script>document.body.dataset.rendered='pwned'</script><!--";
        let mut record = sample();
        record["summary"]["messages"][0]["message"] = json!(hostile);
        record["summary"]["replicas"] =
            json!({ hostile: {"calls": 1}, "</SCRIPT >": {"calls": 1} });
        let page = page(&record);
        let inside = embedded(&page);
        assert!(!inside.contains('<'), "{inside}");
        // What the browser hands the script is the record, every string as it was.
        let read: Value = serde_json::from_str(inside).unwrap();
        assert_eq!(read, record);
        assert_eq!(read["summary"]["messages"][0]["message"], hostile);
    }

    #[test]
    fn json_is_the_record_pretty_printed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.json");
        check_writable(&path).unwrap();
        assert!(!path.exists(), "the check leaves no file behind");
        write(&path, &sample()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("\n  \"summary\": {\n    \"calls\": 2000,"),
            "{text}"
        );
        assert!(text.ends_with("}\n"), "{text}");
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), sample());
        let html = dir.path().join("run.HTML");
        write(&html, &sample()).unwrap();
        assert!(
            std::fs::read_to_string(&html)
                .unwrap()
                .starts_with("<!doctype html>")
        );
    }

    #[test]
    fn the_check_refuses_what_could_not_be_written_and_keeps_what_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nowhere").join("run.html");
        assert_eq!(
            check_writable(&missing).unwrap_err(),
            format!(
                "could not write --report {}: its directory {} does not exist",
                missing.display(),
                dir.path().join("nowhere").display()
            )
        );
        let text = dir.path().join("run.txt");
        assert_eq!(
            check_writable(&text).unwrap_err(),
            format!("--report {}: {WHICH_FORMATS}", text.display())
        );
        assert!(!text.exists());
        let a_dir = dir.path().join("a.json");
        std::fs::create_dir(&a_dir).unwrap();
        let err = check_writable(&a_dir).unwrap_err();
        assert!(err.starts_with("could not write --report "), "{err}");
        // An earlier report is checked without being emptied.
        let earlier = dir.path().join("earlier.json");
        std::fs::write(&earlier, "{}").unwrap();
        check_writable(&earlier).unwrap();
        assert_eq!(std::fs::read_to_string(&earlier).unwrap(), "{}");
        assert!(write(&text, &sample()).is_err());
    }
}
