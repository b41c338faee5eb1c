//! The official Python grpcio peer, set up once per test binary by `tests/peer/setup.sh` (a
//! cached virtualenv under `target/python-peer/`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use wait_timeout::ChildExt;

use super::Server;

/// The installed peer: its python and the stubs generated from `proto/`.
pub struct Peer {
    python: PathBuf,
    generated: PathBuf,
}

pub fn peer() -> &'static Peer {
    static PEER: OnceLock<Peer> = OnceLock::new();
    PEER.get_or_init(|| {
        let setup = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peer/setup.sh");
        let mut child = Command::new(&setup)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("could not run {}: {e}", setup.display()));
        // A first install downloads the wheels; later runs take milliseconds.
        let bound = Duration::from_secs(600);
        if child.wait_timeout(bound).unwrap().is_none() {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tests/peer/setup.sh took more than {bound:?}");
        }
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "could not set up the Python grpcio peer the interop tests need:\n{}\nRun \
             tests/peer/setup.sh to see the whole output.",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        let python = PathBuf::from(stdout.lines().last().expect("setup.sh prints the python"));
        let generated = python.parent().unwrap().join("../../gen");
        Peer { python, generated }
    })
}

/// `python tests/peer/SCRIPT ARGS`.
pub fn python(script: &str, args: &[&str]) -> Command {
    let peer = peer();
    let mut command = Command::new(&peer.python);
    command
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/peer")
                .join(script),
        )
        .args(args)
        .env("PYTHON_PEER_GEN", &peer.generated);
    command
}

pub fn python_server(args: &[&str]) -> Server {
    Server::spawn(python("greeter_server.py", args))
        .unwrap_or_else(|out| panic!("the Python greeter_server did not start: {out:?}"))
}
