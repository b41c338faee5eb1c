//! The committed shell completions and man pages are exactly what build.rs generates from
//! `src/cli/`. When a flag changes, refresh them with:
//!
//!     GREETER_BLESS=1 cargo test --test generated

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

const REFRESH: &str = "GREETER_BLESS=1 cargo test --test generated";

#[test]
fn completions_are_fresh() {
    check("completions");
}

#[test]
fn man_pages_are_fresh() {
    check("man");
}

/// Compares `<repo>/<dir>` with `$OUT_DIR/<dir>` file by file, byte for byte, or rewrites the
/// committed copy when `GREETER_BLESS=1`.
fn check(dir: &str) {
    let generated_dir = Path::new(env!("OUT_DIR")).join(dir);
    let committed_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let generated = read_dir(&generated_dir);
    assert!(
        !generated.is_empty(),
        "build.rs generated nothing in {}",
        generated_dir.display()
    );

    if blessing() {
        let _ = fs::remove_dir_all(&committed_dir);
        fs::create_dir_all(&committed_dir).unwrap();
        for (name, bytes) in &generated {
            fs::write(committed_dir.join(name), bytes).unwrap();
        }
        return;
    }

    let committed = read_dir(&committed_dir);
    let stale: Vec<&String> = generated
        .keys()
        .chain(committed.keys())
        .filter(|name| generated.get(*name) != committed.get(*name))
        .collect();
    assert!(
        stale.is_empty(),
        "{dir}/ is stale ({} differ from what src/cli/ generates): run `{REFRESH}` and commit \
         the result",
        stale
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// Whether to rewrite the committed files: `GREETER_BLESS=1` only. Unset or empty checks them;
/// any other value (`0`, `false`, `yes`) fails, as a `0` that rewrote the files and passed
/// would hide exactly the staleness it was meant to check.
fn blessing() -> bool {
    blessing_from(std::env::var_os("GREETER_BLESS"))
}

fn blessing_from(value: Option<std::ffi::OsString>) -> bool {
    match value {
        None => false,
        Some(value) if value.is_empty() => false,
        Some(value) if value == "1" => true,
        Some(value) => panic!(
            "GREETER_BLESS={value:?} is neither unset nor 1: use GREETER_BLESS=1 to rewrite the \
             committed files (`{REFRESH}`), or unset it to check them"
        ),
    }
}

fn read_dir(dir: &PathBuf) -> BTreeMap<String, Vec<u8>> {
    let Ok(entries) = fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .map(|entry| {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            (name, fs::read(entry.path()).unwrap())
        })
        .collect()
}

#[test]
fn only_greeter_bless_1_blesses() {
    assert!(!blessing_from(None), "unset checks");
    assert!(!blessing_from(Some("".into())), "empty checks");
    assert!(blessing_from(Some("1".into())));
    for other in ["0", "false", "yes"] {
        let refused = std::panic::catch_unwind(|| blessing_from(Some(other.into())));
        assert!(
            refused.is_err(),
            "GREETER_BLESS={other} must fail, not bless or check"
        );
    }
}
