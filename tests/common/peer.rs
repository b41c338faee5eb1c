//! The independent peers, each set up once per test binary by its own script:
//!
//! - the official Python grpcio, by `tests/peer/setup.sh` (a cached virtualenv under
//!   `target/python-peer/`);
//! - the official Node `@grpc/grpc-js`, by `tests/peer/node-setup.sh` (a cached `npm ci` under
//!   `target/node-peer/`).
//!
//! Both peers' scripts take the same arguments and print the same, so one test can drive either.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use wait_timeout::ChildExt;

use super::{Outcome, Server, drain, run};

/// Runs the set-up script `tests/peer/NAME` to completion and returns the last line it
/// printed on stdout. Both pipes are drained while it runs, so however much the installer says
/// it cannot block on a full pipe; a failure shows what it said on stderr.
fn set_up(name: &str, what: &str) -> String {
    let setup = script(name);
    let mut child = Command::new(&setup)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", setup.display()));
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    // A first install downloads the packages; later runs take milliseconds.
    let bound = Duration::from_secs(600);
    let Some(status) = child.wait_timeout(bound).unwrap() else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("tests/peer/{name} took more than {bound:?}");
    };
    let stdout = stdout.join().expect("stdout reader");
    let stderr = stderr.join().expect("stderr reader");
    assert!(
        status.success(),
        "could not set up the {what} peer the interop tests need:\n{stderr}\nRun \
         tests/peer/{name} to see the whole output."
    );
    stdout
        .lines()
        .last()
        .unwrap_or_else(|| panic!("tests/peer/{name} printed nothing on stdout"))
        .to_owned()
}

/// `tests/peer/NAME`.
fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peer")
        .join(name)
}

/// The installed Python peer: its python and the stubs generated from `proto/`.
pub struct Peer {
    python: PathBuf,
    generated: PathBuf,
}

pub fn peer() -> &'static Peer {
    static PEER: OnceLock<Peer> = OnceLock::new();
    PEER.get_or_init(|| {
        let python = PathBuf::from(set_up("setup.sh", "Python grpcio"));
        let generated = python.parent().unwrap().join("../../gen");
        Peer { python, generated }
    })
}

/// `python tests/peer/SCRIPT ARGS`.
pub fn python(name: &str, args: &[&str]) -> Command {
    let peer = peer();
    let mut command = Command::new(&peer.python);
    command
        .arg(script(name))
        .args(args)
        .env("PYTHON_PEER_GEN", &peer.generated);
    command
}

pub fn python_server(args: &[&str]) -> Server {
    Server::spawn(Official::Python.server_command(args))
        .unwrap_or_else(|out| panic!("the Python greeter_server did not start: {out:?}"))
}

/// The installed Node peer: the `node_modules` that holds `@grpc/grpc-js` and
/// `@grpc/proto-loader`.
pub struct NodePeer {
    node_modules: PathBuf,
}

pub fn node_peer() -> &'static NodePeer {
    static PEER: OnceLock<NodePeer> = OnceLock::new();
    PEER.get_or_init(|| {
        let dir = PathBuf::from(set_up("node-setup.sh", "Node @grpc/grpc-js"));
        NodePeer {
            node_modules: dir.join("node_modules"),
        }
    })
}

/// `node tests/peer/SCRIPT ARGS`, finding the packages through `NODE_PATH`.
pub fn node(name: &str, args: &[&str]) -> Command {
    let peer = node_peer();
    let mut command = Command::new("node");
    command
        .arg(script(name))
        .args(args)
        .env("NODE_PATH", &peer.node_modules)
        // Whoever runs the tests may have set options for their own node programs.
        .env_remove("NODE_OPTIONS");
    command
}

pub fn node_server(args: &[&str]) -> Server {
    Server::spawn(Official::Node.server_command(args))
        .unwrap_or_else(|out| panic!("the Node greeter_server did not start: {out:?}"))
}

/// One of the official implementations, for a test that runs the same way against each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Official {
    Python,
    Node,
}

impl Official {
    pub const ALL: [Official; 2] = [Official::Python, Official::Node];

    /// Its helloworld client with `args` (`--target ADDR --name NAME ...`).
    pub fn client(self, args: &[&str]) -> Command {
        match self {
            Official::Python => python("greeter_client.py", args),
            Official::Node => node("greeter_client.js", args),
        }
    }

    /// Its helloworld client called against `target` with `args` (`--name NAME ...`), run to
    /// completion.
    pub fn call(self, target: &str, args: &[&str]) -> Outcome {
        let mut all = vec!["--target", target];
        all.extend_from_slice(args);
        run(self.client(&all))
    }

    /// Its helloworld server with `args`, once it has printed its readiness line.
    pub fn server(self, args: &[&str]) -> Server {
        match self {
            Official::Python => python_server(args),
            Official::Node => node_server(args),
        }
    }

    /// Its helloworld server's command with `args`, not started.
    pub fn server_command(self, args: &[&str]) -> Command {
        match self {
            Official::Python => python("greeter_server.py", args),
            Official::Node => node("greeter_server.js", args),
        }
    }
}
