//! No panic on any input: every `.unwrap()`, `.expect(`, `unreachable!` and `panic!(` in `src/`
//! carries its proof, a `//` comment on its line or the line right above, or, for `expect`, a
//! message that says why it holds. Tests may panic: a file's test module (in this project the
//! last thing in it, from a line `#[cfg(test)]` to the end) and `tests.rs` files are skipped.

use std::fs;
use std::path::{Path, PathBuf};

/// What panics when it fails, as it is written.
const SITES: [&str; 4] = [".unwrap()", ".expect(", "unreachable!", "panic!("];

/// The numbers (from 1) of the lines of `source` with a site that carries no proof.
fn unproven(source: &str) -> Vec<usize> {
    let lines: Vec<&str> = source
        .lines()
        .take_while(|line| *line != "#[cfg(test)]")
        .collect();
    let mut found = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") || !SITES.iter().any(|site| code.contains(site)) {
            continue;
        }
        let above = index.checked_sub(1).and_then(|above| lines.get(above));
        let commented = code.contains(" //") || above.is_some_and(|above| is_comment(above));
        let next = lines.get(index + 1).copied().unwrap_or_default();
        if !commented && !only_expects_with_messages(code, next) {
            found.push(index + 1);
        }
    }
    found
}

/// A `//` comment line: doc comments (`///`, `//!`) are about an item, not a site.
fn is_comment(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("//") && !line.starts_with("///") && !line.starts_with("//!")
}

/// Whether every site of `code` is an `expect` given a string literal, on the same line or
/// (when the call is split) the `next` one.
fn only_expects_with_messages(code: &str, next: &str) -> bool {
    let other_sites = SITES.iter().filter(|site| **site != ".expect(");
    if other_sites.into_iter().any(|site| code.contains(site)) {
        return false;
    }
    code.split(".expect(").skip(1).all(|argument| {
        let argument = match argument.trim() {
            "" => next.trim_start(),
            argument => argument,
        };
        argument.starts_with('"') || argument.starts_with("r\"") || argument.starts_with("r#")
    })
}

/// Every `.rs` file under `dir` but `tests.rs` files.
fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs")
            && path.file_name().is_some_and(|name| name != "tests.rs")
        {
            files.push(path);
        }
    }
}

#[test]
fn every_site_that_can_panic_in_src_carries_its_proof() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    assert!(
        files.iter().any(|file| file.ends_with("src/server/mod.rs")),
        "src/ not read: {files:?}"
    );
    let mut unproven_sites = Vec::new();
    for file in &files {
        let source = fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = source.lines().collect();
        for number in unproven(&source) {
            let shown = file.strip_prefix(root).unwrap().display();
            unproven_sites.push(format!("{shown}:{number}: {}", lines[number - 1].trim()));
        }
    }
    assert!(
        unproven_sites.is_empty(),
        "these can panic and do not say why they cannot: handle the failure, or prove it cannot \
         happen in a `// ...` comment on the line or right above it (an expect's message may \
         say it instead):\n{}",
        unproven_sites.join("\n")
    );
}

#[test]
fn the_check_reports_exactly_the_sites_without_a_proof() {
    let snippet = r#"fn f(x: Option<u8>, y: Result<u8, ()>) -> u8 {
    let a = x.unwrap();
    // Cannot fail: y was checked above.
    let b = y.unwrap();
    let c = x.expect("the caller passes Some");
    let d = x.expect(
        "a message on the next line",
    );
    let e = x.expect(REASON);
    let g = x.unwrap(); // Cannot fail: as for b.
    /// x.unwrap() in a doc comment is no site, nor is it a proof
    if a > b { unreachable!("a message is not enough here") }
    x.expect("a message").checked_add(y.unwrap()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    fn t() { None::<u8>.unwrap(); panic!("tests may"); }
}
"#;
    assert_eq!(unproven(snippet), [2, 9, 12, 13]);
}
