//! The documentation points only at what the repository has.
//!
//! - Every relative link in `README.md` and in `docs/*.md` leads to a file or directory of the
//!   repository, and nothing refers to `../shared`, which exists on no clone.
//! - The README's Layout block lists every file under `src/`, and every path it lists exists.
//!
//! Each failure names the Markdown file, the line and the target.

mod markdown;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use markdown::links;

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
            // A page's links stay inside its own folder: one that climbs up (`../`) reads as
            // pointing outside the repository wherever the page is shown on its own.
            if path.starts_with("../") {
                problems.push(format!(
                    "{}:{}: link to {target:?} climbs out of the page's folder: name the file \
                     in text instead",
                    file.display(),
                    link.line
                ));
                continue;
            }
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
    fn blocks_know_their_info_indentation_and_the_comment_above() {
        let text = "text\n<!-- excerpt: a.rs -->\n\n```rust\nfn a() {}\n```\n\
                    1. step\n\n   ```console\n   $ greeter hello\n     indented\n   ```\n";
        let found = markdown::blocks(text);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].info, "rust");
        assert_eq!(found[0].line, 4);
        assert_eq!(found[0].lines, ["fn a() {}"]);
        assert_eq!(found[0].comment.as_deref(), Some("excerpt: a.rs"));
        assert_eq!(found[1].info, "console");
        assert_eq!(found[1].lines, ["$ greeter hello", "  indented"]);
        assert_eq!(found[1].comment, None);
    }

    #[test]
    fn code_spans_and_comments_outside_blocks() {
        let text = "a `src/x.rs` and ``b `c` d``\n<!-- symbol: f.rs g -->\n```\n`not`\n\
                    <!-- nor -->\n```\n";
        let spans: Vec<(usize, String)> = markdown::code_spans(text)
            .into_iter()
            .map(|s| (s.line, s.code))
            .collect();
        assert_eq!(
            spans,
            [(1, "src/x.rs".to_owned()), (1, "b `c` d".to_owned())]
        );
        assert_eq!(markdown::comments(text), [(2, "symbol: f.rs g".to_owned())]);
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
