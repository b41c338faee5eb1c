//! The documentation points only at what the repository has.
//!
//! - Every relative link in `README.md` and in `docs/*.md` leads to a file or directory of the
//!   repository, and nothing refers to `../shared`, which exists on no clone.
//! - The README's Layout block lists every file under `src/`, and every path it lists exists.
//!
//! Each failure names the Markdown file, the line and the target.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `README.md` and every `docs/*.md`, as paths relative to the repository.
fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![PathBuf::from("README.md")];
    let mut docs: Vec<PathBuf> = fs::read_dir(repo().join("docs"))
        .expect("docs/ exists")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .map(|path| path.strip_prefix(repo()).unwrap().to_path_buf())
        .collect();
    docs.sort();
    assert!(!docs.is_empty(), "no Markdown file in docs/");
    files.extend(docs);
    files
}

fn read(relative: &Path) -> String {
    fs::read_to_string(repo().join(relative))
        .unwrap_or_else(|err| panic!("read {}: {err}", relative.display()))
}

/// Fails with every problem found, one per line.
fn assert_no_problems(what: &str, problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{what}: {} problem(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

#[test]
fn every_relative_link_leads_to_a_file_of_the_repository() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in markdown_files() {
        let text = read(&file);
        let dir = file.parent().unwrap_or(Path::new(""));
        for link in links(&text) {
            let target = link.target.as_str();
            if target.starts_with("http://")
                || target.starts_with("https://")
                || target.starts_with("mailto:")
                || target.starts_with('#')
            {
                continue;
            }
            checked += 1;
            let path = target.split('#').next().unwrap_or_default();
            if target.contains("://") || path.starts_with('/') {
                problems.push(format!(
                    "{}:{}: link to {target:?} is not relative to the repository",
                    file.display(),
                    link.line
                ));
                continue;
            }
            let resolved = normalize(&dir.join(path));
            match resolved {
                Some(resolved) if repo().join(&resolved).exists() => {}
                Some(resolved) => problems.push(format!(
                    "{}:{}: link to {target:?}: {} does not exist in the repository",
                    file.display(),
                    link.line,
                    resolved.display()
                )),
                None => problems.push(format!(
                    "{}:{}: link to {target:?} leads outside the repository",
                    file.display(),
                    link.line
                )),
            }
        }
    }
    assert_no_problems("relative links", &problems);
    assert!(
        checked > 0,
        "no relative link found at all: is the parser broken?"
    );
}

#[test]
fn nothing_refers_to_the_shared_directory_outside_the_repository() {
    let mut problems = Vec::new();
    for file in markdown_files() {
        for (number, line) in read(&file).lines().enumerate() {
            if line.contains("../shared") {
                problems.push(format!(
                    "{}:{}: refers to ../shared, which no clone has: {}",
                    file.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert_no_problems("references to ../shared", &problems);
}

#[test]
fn the_readme_layout_lists_every_file_under_src() {
    let readme = Path::new("README.md");
    let text = read(readme);
    let entries = layout_block(&text)
        .unwrap_or_else(|| panic!("README.md: no ```-block after a \"Layout\" heading"));
    let mut problems = Vec::new();
    let mut listed: BTreeMap<String, usize> = BTreeMap::new();
    for (line, entry) in &entries {
        let mut words = entry.split_whitespace();
        let Some(path) = words.next() else { continue };
        if words.next().is_none() {
            problems.push(format!(
                "README.md:{line}: Layout entry {path:?} has no one-line job after it"
            ));
        }
        if !repo().join(path).exists() {
            problems.push(format!(
                "README.md:{line}: Layout lists {path}, which does not exist"
            ));
        }
        if path.starts_with("src/")
            && let Some(first) = listed.insert(path.to_owned(), *line)
        {
            problems.push(format!(
                "README.md:{line}: Layout lists {path} again (first on line {first})"
            ));
        }
    }
    for file in files_under(&repo().join("src")) {
        if !listed.contains_key(&file) {
            problems.push(format!(
                "README.md: Layout does not list {file}, which is in the repository"
            ));
        }
    }
    assert!(
        !listed.is_empty(),
        "README.md: the Layout block lists no src/ file"
    );
    assert_no_problems("the README's Layout block", &problems);
}

/// A Markdown link's target and the line it is on.
#[derive(Debug, PartialEq, Eq)]
struct Link {
    line: usize,
    target: String,
}

/// The targets of the inline links (`[text](target)`, `![alt](target)`) and reference
/// definitions (`[label]: target`) of `text`, outside code blocks and code spans.
fn links(text: &str) -> Vec<Link> {
    let prose = blank_code(text);
    let line_of = |at: usize| prose[..at].matches('\n').count() + 1;
    let mut links = Vec::new();
    let mut from = 0;
    while let Some(found) = prose[from..].find("](") {
        let start = from + found + 2;
        let rest = &prose[start..];
        let end = rest.find([')', '\n']).unwrap_or(rest.len());
        let inner = rest[..end].trim();
        // `(<target> "title")`: the target is the first word, angle brackets off.
        let target = inner.split_whitespace().next().unwrap_or_default();
        let target = target.trim_start_matches('<').trim_end_matches('>');
        links.push(Link {
            line: line_of(start),
            target: target.to_owned(),
        });
        from = start + end;
    }
    for (number, line) in prose.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix('[')
            && let Some((label, target)) = rest.split_once("]:")
            && !label.is_empty()
            && !label.contains(']')
            && let Some(target) = target.split_whitespace().next()
        {
            links.push(Link {
                line: number + 1,
                target: target
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned(),
            });
        }
    }
    links
}

/// `text` with fenced code blocks and code spans blanked out (newlines kept, so line numbers
/// stay right).
fn blank_code(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut fence: Option<(char, usize)> = None;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let marker = trimmed.chars().next().filter(|c| *c == '`' || *c == '~');
        let run = marker.map_or(0, |c| trimmed.chars().take_while(|x| *x == c).count());
        match (fence, marker) {
            (None, Some(c)) if run >= 3 => {
                fence = Some((c, run));
                out.push('\n');
            }
            (Some((c, open)), Some(m))
                if m == c && run >= open && trimmed[run..].trim().is_empty() =>
            {
                fence = None;
                out.push('\n');
            }
            (Some(_), _) => out.push_str(if line.ends_with('\n') { "\n" } else { "" }),
            (None, _) => out.push_str(line),
        }
    }
    blank_code_spans(&out)
}

/// Blanks every code span: a run of n backticks up to the next run of exactly n. A run with
/// no closing run is literal text.
fn blank_code_spans(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let open = run_of_backticks(bytes, i);
        let mut j = i + open;
        let mut close = None;
        while j < bytes.len() {
            if bytes[j] == b'`' {
                let run = run_of_backticks(bytes, j);
                if run == open {
                    close = Some(j);
                    break;
                }
                j += run;
            } else {
                j += 1;
            }
        }
        match close {
            Some(close) => {
                for byte in &mut out[i..close + open] {
                    if *byte != b'\n' {
                        *byte = b' ';
                    }
                }
                i = close + open;
            }
            None => i += open,
        }
    }
    // Whole spans, bounded by ASCII backticks, became ASCII spaces: still UTF-8.
    String::from_utf8(out).expect("blanking keeps UTF-8")
}

fn run_of_backticks(bytes: &[u8], at: usize) -> usize {
    bytes[at..].iter().take_while(|b| **b == b'`').count()
}

/// `path` with `.` and `..` resolved, or `None` if it climbs out of the repository.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in path.components() {
        match component {
            std::path::Component::Normal(part) => parts.push(part),
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                parts.pop()?;
            }
            _ => return None,
        }
    }
    Some(parts.iter().collect())
}

/// The lines of the first fenced block after a heading whose text is "Layout", with their
/// line numbers.
fn layout_block(text: &str) -> Option<Vec<(usize, String)>> {
    let mut lines = text.lines().enumerate();
    lines.find(|(_, line)| {
        line.starts_with('#') && line.trim_start_matches('#').trim() == "Layout"
    })?;
    lines.find(|(_, line)| line.trim_start().starts_with("```"))?;
    let block = lines
        .take_while(|(_, line)| !line.trim_start().starts_with("```"))
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(number, line)| (number + 1, line.to_owned()))
        .collect();
    Some(block)
}

/// Every file under `dir`, recursively, as a path relative to the repository with `/`.
fn files_under(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries =
            fs::read_dir(&dir).unwrap_or_else(|err| panic!("read {}: {err}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(repo()).unwrap();
                let parts: Vec<String> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                files.push(parts.join("/"));
            }
        }
    }
    files.sort();
    files
}

mod parser {
    use super::*;

    #[test]
    fn finds_inline_and_reference_links_but_not_code() {
        let text = "see [a](docs/A.md#x) and ![i](img.png \"t\")\n\
                    `[not](code.md)` and ``[nor](this.md)``\n\
                    ```\n[fenced](no.md)\n```\n\
                    [ref]: <ref.md>\n\
                    [multi\nline](multi.md)\n";
        let found: Vec<(usize, String)> = links(text)
            .into_iter()
            .map(|l| (l.line, l.target))
            .collect();
        let expected = [
            (1, "docs/A.md#x"),
            (1, "img.png"),
            (8, "multi.md"),
            (6, "ref.md"),
        ]
        .map(|(line, target)| (line, target.to_owned()));
        assert_eq!(found, expected);
    }

    #[test]
    fn a_code_span_may_cross_lines_and_an_unclosed_backtick_is_text() {
        let text = "`a\nb [x](in.md)` then [y](out.md) and a lone ` [z](z.md)";
        let targets: Vec<String> = links(text).into_iter().map(|l| l.target).collect();
        assert_eq!(targets, ["out.md", "z.md"]);
    }

    #[test]
    fn normalize_stays_inside() {
        assert_eq!(
            normalize(Path::new("docs/../README.md")),
            Some(PathBuf::from("README.md"))
        );
        assert_eq!(normalize(Path::new("docs/../../shared/C.md")), None);
    }
}
