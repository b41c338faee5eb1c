//! Generates, into `OUT_DIR`, everything derived from a source of truth:
//! - the gRPC code and the descriptor set (for reflection) from `proto/`, compiled by protox, so
//!   no `protoc` is needed on the machine;
//! - the shell completions and man pages from `src/cli/`, the very definition the binary
//!   parses with.
//!
//! The committed copies in `completions/` and `man/` are compared with these by
//! `tests/generated.rs`; `GREETER_BLESS=1 cargo test --test generated` refreshes them.

use std::env;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, ValueEnum as _};
use clap_complete::Shell;
use prost::Message as _;

#[allow(dead_code, unused_imports)]
#[path = "src/cli/mod.rs"]
mod cli;

/// The services `greeter serve` implements; reflection describes exactly these.
const PROTOS: [&str; 2] = [
    "proto/helloworld.proto",
    "proto/grpc/health/v1/health.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    println!("cargo:rerun-if-changed=src/cli");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);

    compile_protos(&out_dir)?;
    generate_completions(&out_dir.join("completions"))?;
    generate_man_pages(&out_dir.join("man"))?;
    Ok(())
}

fn compile_protos(out_dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let descriptors = protox::compile(PROTOS, ["proto"])?;
    fs::write(
        out_dir.join("descriptor_set.bin"),
        descriptors.encode_to_vec(),
    )?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    Ok(())
}

/// An empty directory: pages of a subcommand that no longer exists must not linger.
fn fresh_dir(dir: &Path) -> io::Result<()> {
    match fs::remove_dir_all(dir) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    fs::create_dir_all(dir)
}

// Both generators build the command first, which brings in the subcommands' deferred flags.
fn generate_completions(dir: &Path) -> io::Result<()> {
    fresh_dir(dir)?;
    for shell in Shell::value_variants() {
        clap_complete::generate_to(*shell, &mut cli::Cli::command(), "greeter", dir)?;
    }
    Ok(())
}

fn generate_man_pages(dir: &Path) -> io::Result<()> {
    fresh_dir(dir)?;
    clap_mangen::generate_to(cli::Cli::command(), dir)
}
