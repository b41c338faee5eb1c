//! The end-to-end test kit: run the real `greeter` binary, start real servers on ephemeral
//! loopback ports, and never wait without a bound.

#![allow(dead_code)] // each test file uses its own part of the kit

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

pub mod certs;
pub mod chromium;
pub mod fake;
pub mod frames;
pub mod h2conn;
pub mod netns;
pub mod peer;
pub mod process;
pub mod proxy;
pub mod relay;
pub mod scrape;

pub const GREETER: &str = env!("CARGO_BIN_EXE_greeter");

/// The longest any single step of a test may take before the test fails instead of hanging.
pub const BOUND: Duration = Duration::from_secs(20);

/// The variables besides `GREETER_*` that change what `greeter` does or prints, and so must not
/// leak in from whoever runs the tests: `RUST_LOG` (the server's log level when --log-level is
/// not given: a CI with `RUST_LOG=warn` would silence the logs the tests read), `SSL_CERT_FILE`
/// and `SSL_CERT_DIR` (the system CAs `hello --tls` trusts, read by rustls-native-certs), and
/// `NO_COLOR`, `CLICOLOR`, `CLICOLOR_FORCE` (clap's colours: `CLICOLOR_FORCE=1` puts escape
/// codes into the usage errors the tests match even when stderr is a pipe).
pub const AMBIENT: &[&str] = &[
    "RUST_LOG",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NO_COLOR",
    "CLICOLOR",
    "CLICOLOR_FORCE",
];

/// Whether `name` is a variable a test's `greeter` must not inherit: `GREETER_*` or [`AMBIENT`].
pub fn not_inherited(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    name.starts_with("GREETER_") || AMBIENT.contains(&name.as_ref())
}

/// A `greeter` command with no `GREETER_*` or [`AMBIENT`] variable inherited from whoever runs
/// the tests; a test sets the ones it means.
pub fn greeter<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new(GREETER);
    command.args(args);
    for (name, _) in std::env::vars_os() {
        if not_inherited(&name) {
            command.env_remove(name);
        }
    }
    command
}

/// How long past its deadline a `greeter hello` may end, its process start and exit included.
/// Chosen from measurement: over seven runs of the whole suite under two CPU hogs (each
/// assertion records its own in target/tmp/deadline-overshoot.txt) the worst was 58 ms; this
/// leaves more than eight times that, and still catches a deadline overrun by half a second.
pub const DEADLINE_SLACK: Duration = Duration::from_millis(500);

/// Asserts that `out` ended no later than `DEADLINE_SLACK` after `deadline`, and records by
/// how much it passed the deadline (see [`DEADLINE_SLACK`]).
#[track_caller]
pub fn assert_ended_by(out: &Outcome, deadline: Duration) {
    let overshoot = out.elapsed.saturating_sub(deadline);
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("deadline-overshoot.txt");
    let test = thread::current().name().unwrap_or("?").to_owned();
    let line = format!(
        "{} {} {test}\n",
        overshoot.as_millis(),
        env!("CARGO_CRATE_NAME")
    );
    let _ = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| std::io::Write::write_all(&mut file, line.as_bytes()));
    assert!(
        out.elapsed < deadline + DEADLINE_SLACK,
        "overran the {deadline:?} deadline by {overshoot:?} (slack {DEADLINE_SLACK:?}): {out:?}"
    );
}

/// What a finished command did.
#[derive(Debug)]
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Runs `command` to completion, killing it and failing the test if it outlives [`BOUND`].
pub fn run(command: Command) -> Outcome {
    run_with_input(command, None)
}

/// Runs `command` with `input` on its stdin (none: an empty stdin), to completion, killing it
/// and failing the test if it outlives [`BOUND`].
pub fn run_with_input(mut command: Command, input: Option<&str>) -> Outcome {
    let started = Instant::now();
    let mut child = command
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn greeter");
    if let Some(input) = input {
        let mut stdin = child.stdin.take().expect("piped stdin");
        let input = input.to_owned();
        // A writer thread, so a child that stops reading cannot block the test.
        thread::spawn(move || {
            let _ = std::io::Write::write_all(&mut stdin, input.as_bytes());
        });
    }
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let status = match child.wait_timeout(BOUND).expect("wait for greeter") {
        Some(status) => status,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} did not finish within {BOUND:?}");
        }
    };
    let elapsed = started.elapsed();
    Outcome {
        code: status.code(),
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
        elapsed,
    }
}

/// Asserts that `out` is clap's usage error (exit 2) for `--addr bad`.
pub fn assert_bad_addr(out: &Outcome, bad: &str) {
    assert_eq!(out.code, Some(2), "--addr {bad:?}: {out:?}");
    let expected = format!("error: invalid value '{bad}' for '--addr <ADDR>'");
    assert!(out.stderr.starts_with(&expected), "{}", out.stderr);
    assert_eq!(out.stdout, "");
}

/// `greeter hello ARGS` against nothing in particular: the args say where.
pub fn hello(args: &[&str]) -> Outcome {
    run(greeter(
        std::iter::once("hello").chain(args.iter().copied()),
    ))
}

fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// A running `greeter serve`, stopped and reaped on drop.
pub struct Server {
    child: Child,
    /// The address from the readiness line: `127.0.0.1:43117`, `[::]:43117`, `unix:/path`.
    pub addr: String,
    stderr: Arc<Mutex<String>>,
    /// Ends when the server's stderr does; joined once it has exited, so `stderr()` then holds
    /// everything it wrote.
    stderr_reader: Option<thread::JoinHandle<()>>,
    /// The readiness line as printed, without its newline.
    readiness: String,
    stdout_rest: Arc<Mutex<String>>,
    /// Ends when the server's stdout does; joined once it has exited, so
    /// `stdout_after_readiness()` then holds everything it printed.
    stdout_reader: Option<thread::JoinHandle<()>>,
}

impl Server {
    /// Starts `greeter serve --addr 127.0.0.1:0`.
    pub fn start() -> Server {
        Server::start_with(&["--addr", "127.0.0.1:0"], &[])
    }

    /// Starts `greeter serve --addr 127.0.0.1:0 ARGS`.
    pub fn start_on_loopback(args: &[&str]) -> Server {
        let mut all = vec!["--addr", "127.0.0.1:0"];
        all.extend_from_slice(args);
        Server::start_with(&all, &[])
    }

    /// Starts `greeter serve ARGS` with extra environment variables and waits, at most
    /// [`BOUND`], for its readiness line.
    pub fn start_with(args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut command = greeter(std::iter::once("serve").chain(args.iter().copied()));
        command.envs(env.iter().copied());
        Server::spawn(command)
            .unwrap_or_else(|outcome| panic!("greeter serve {args:?} did not start: {outcome:?}"))
    }

    /// Spawns `command` (a `greeter serve`) and waits for its readiness line. If it exits first,
    /// returns what it printed instead.
    pub fn spawn(mut command: Command) -> Result<Server, Outcome> {
        let started = Instant::now();
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn greeter serve");
        let (stderr, stderr_reader) = collect(child.stderr.take().expect("piped stderr"));
        let (first_line, stdout_rest, stdout_reader) =
            first_line(child.stdout.take().expect("piped stdout"));
        match first_line.recv_timeout(BOUND) {
            Ok(line) => {
                let addr = line
                    .strip_prefix("listening on ")
                    .unwrap_or_else(|| panic!("unexpected readiness line {line:?}"))
                    .to_owned();
                Ok(Server {
                    child,
                    addr,
                    stderr,
                    stderr_reader: Some(stderr_reader),
                    readiness: line,
                    stdout_rest,
                    stdout_reader: Some(stdout_reader),
                })
            }
            Err(_) => {
                let status = child.wait_timeout(BOUND).ok().flatten();
                let _ = child.kill();
                let _ = child.wait();
                Err(Outcome {
                    code: status.and_then(|s| s.code()),
                    stdout: stdout_rest.lock().unwrap().clone(),
                    stderr: stderr.lock().unwrap().clone(),
                    elapsed: started.elapsed(),
                })
            }
        }
    }

    /// The port from the readiness line.
    pub fn port(&self) -> u16 {
        self.addr
            .rsplit_once(':')
            .and_then(|(_, port)| port.parse().ok())
            .unwrap_or_else(|| panic!("no port in {}", self.addr))
    }

    /// `127.0.0.1:PORT`, whatever interface the server listens on.
    pub fn loopback(&self) -> String {
        format!("127.0.0.1:{}", self.port())
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// What the server printed on stdout after its readiness line, so far (all of it once
    /// [`Server::wait_exit`] has seen it exit).
    pub fn stdout_after_readiness(&self) -> String {
        self.stdout_rest.lock().unwrap().clone()
    }

    /// Everything the server printed on stdout so far, the readiness line included (all of it
    /// once [`Server::wait_exit`] has seen it exit).
    pub fn stdout(&self) -> String {
        format!("{}\n{}", self.readiness, self.stdout_after_readiness())
    }

    /// Everything the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The server's stderr once `settled` holds for it, waiting at most [`BOUND`]: what a
    /// server logs about a call can reach us a moment after the client has its reply.
    pub fn stderr_when(&self, settled: impl Fn(&str) -> bool) -> String {
        self.stderr_within(BOUND, settled)
    }

    /// Like [`Server::stderr_when`], waiting at most `bound`: for a test whose bound is part
    /// of what it checks.
    pub fn stderr_within(&self, bound: Duration, settled: impl Fn(&str) -> bool) -> String {
        settle(bound, || self.stderr(), |stderr| settled(stderr))
    }

    /// Sends `signal` (e.g. `libc::SIGTERM`) to the server.
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on the pid of a child we have not reaped yet.
        let sent = unsafe { libc::kill(self.pid(), signal) };
        assert_eq!(sent, 0, "kill({}, {signal})", self.pid());
    }

    /// Waits, at most `bound`, for the server to exit; `None` if it is still running.
    pub fn wait_exit(&mut self, bound: Duration) -> Option<std::process::ExitStatus> {
        let status = self
            .child
            .wait_timeout(bound)
            .expect("wait for greeter serve");
        if status.is_some() {
            // Both pipes close when it exits (it starts no process that could keep them open).
            for reader in [self.stderr_reader.take(), self.stdout_reader.take()]
                .into_iter()
                .flatten()
            {
                let _ = reader.join();
            }
        }
        status
    }

    /// `greeter hello --addr <this server> ARGS`.
    pub fn hello(&self, args: &[&str]) -> Outcome {
        let addr = self.loopback_or_unix();
        let mut all = vec!["--addr", addr.as_str()];
        all.extend_from_slice(args);
        hello(&all)
    }

    fn loopback_or_unix(&self) -> String {
        if self.addr.starts_with("unix:") {
            self.addr.clone()
        } else {
            self.loopback()
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Calls `produce` every 10 ms until what it returns is `settled`, or `bound` has passed;
/// returns the last value either way (the caller asserts on it, and its message shows it).
pub fn settle<T>(
    bound: Duration,
    mut produce: impl FnMut() -> T,
    settled: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + bound;
    loop {
        let value = produce();
        if settled(&value) || Instant::now() >= deadline {
            return value;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Collects what `pipe` says, line by line, as it comes; the handle ends at the pipe's end.
fn collect(pipe: impl Read + Send + 'static) -> (Arc<Mutex<String>>, thread::JoinHandle<()>) {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&text);
    let reader = thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let mut sink = sink.lock().unwrap();
            sink.push_str(&line);
            sink.push('\n');
        }
    });
    (text, reader)
}

/// Sends the first line of `stdout` through the channel and keeps the rest; the handle ends at
/// the pipe's end.
fn first_line(
    stdout: ChildStdout,
) -> (
    mpsc::Receiver<String>,
    Arc<Mutex<String>>,
    thread::JoinHandle<()>,
) {
    let (tx, rx) = mpsc::channel();
    let rest = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&rest);
    let reader = thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
        if let Some(line) = lines.next() {
            let _ = tx.send(line);
        }
        for line in lines {
            let mut sink = sink.lock().unwrap();
            sink.push_str(&line);
            sink.push('\n');
        }
    });
    (rx, rest, reader)
}

/// A loopback address that refuses connections for as long as the returned socket lives:
/// bound, so no other test's server can take it, but not listening.
pub fn refusing_addr() -> (socket2::Socket, String) {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    let addr = socket
        .local_addr()
        .unwrap()
        .as_socket()
        .unwrap()
        .to_string();
    (socket, addr)
}

/// Whether this host can use IPv6 on loopback.
/// Marks the running test as skipped, with `reason`, where CI's log shows it: a line in
/// `target/tmp/skipped-tests.txt`, which `.ci/run` prints and counts after `cargo test` (a
/// passing test's own output is hidden). The test then returns, and counts as passed.
pub fn skip(reason: &str) {
    let test = thread::current()
        .name()
        .unwrap_or("a test outside libtest's threads")
        .to_owned();
    eprintln!("skipped: {reason}");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("skipped-tests.txt");
    let line = format!("{} {test}: {reason}\n", env!("CARGO_CRATE_NAME"));
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| std::io::Write::write_all(&mut file, line.as_bytes()));
    if let Err(err) = written {
        panic!("could not record the skip in {}: {err}", path.display());
    }
}

/// A way to run `greeter` as a user without privileges (as root: `setpriv` to nobody), each
/// call a new command inheriting nothing [`greeter`] drops; or why there is none here.
pub fn unprivileged_greeter() -> Result<impl Fn() -> Command, String> {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if root && !std::path::Path::new("/usr/bin/setpriv").exists() {
        return Err("setpriv (util-linux) is not installed to drop root".to_owned());
    }
    let unprivileged = move || {
        let mut command = if root {
            let mut command = Command::new("setpriv");
            command.args(["--reuid=65534", "--regid=65534", "--clear-groups", GREETER]);
            command
        } else {
            Command::new(GREETER)
        };
        for (name, _) in std::env::vars_os() {
            if not_inherited(&name) {
                command.env_remove(name);
            }
        }
        command
    };
    // The binary must be reachable by the unprivileged user (a checkout under a private home
    // directory is not).
    let mut version = unprivileged();
    version.arg("--version");
    if run(version).code != Some(0) {
        return Err(format!("the unprivileged user cannot run {GREETER}"));
    }
    Ok(unprivileged)
}

/// A hosts file of the test's own, for names that resolve as the test needs (several
/// addresses, an order, none): `greeter` runs with it as its /etc/hosts in a private mount
/// namespace (`unshare`, so root), with an nsswitch.conf that looks names up in that file
/// alone, never in DNS. The machine's files are untouched. Removed on drop.
pub struct HostsFile {
    dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

impl HostsFile {
    /// `name` resolving to each of `addresses`, in that order in the file.
    pub fn new(name: &str, addresses: &[&str]) -> HostsFile {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("hosts");
        std::fs::write(dir.path().join("nsswitch.conf"), "hosts: files\n")
            .expect("write the nsswitch.conf");
        let hosts = HostsFile { dir, path };
        hosts.point(name, addresses);
        hosts
    }

    /// Rewrites the file in place (the same inode, so a running `greeter` sees it): `name`
    /// now resolves to `addresses`.
    pub fn point(&self, name: &str, addresses: &[&str]) {
        let lines: String = addresses
            .iter()
            .map(|addr| format!("{addr} {name}\n"))
            .collect();
        std::fs::write(&self.path, lines).expect("rewrite the hosts file");
    }

    /// Whether this machine lets a test do it: root, and `unshare`.
    pub fn possible() -> bool {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        root && std::path::Path::new("/usr/bin/unshare").exists()
    }

    /// `greeter ARGS` seeing this file as /etc/hosts, inheriting nothing [`greeter`] drops.
    pub fn greeter(&self, args: &[&str]) -> Command {
        let mut command = Command::new("unshare");
        command
            .args(["--mount", "--", "sh", "-c"])
            .arg(concat!(
                r#"mount --bind "$0" /etc/hosts && mount --bind "$1" /etc/nsswitch.conf"#,
                r#" && shift && exec "$@""#
            ))
            .arg(&self.path)
            .arg(self.dir.path().join("nsswitch.conf"))
            .arg(GREETER)
            .args(args);
        for (name, _) in std::env::vars_os() {
            if not_inherited(&name) {
                command.env_remove(name);
            }
        }
        command
    }
}

/// A temporary directory for a test's own files (a token, a broken PEM); removed on drop.
pub struct TempFiles {
    dir: tempfile::TempDir,
}

impl TempFiles {
    pub fn new() -> TempFiles {
        TempFiles {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// The path of the file `name` in the directory, whether or not it exists.
    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }

    /// Writes the file `name` with `contents` and returns its path.
    pub fn write(&self, name: &str, contents: &str) -> std::path::PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).expect("write a test file");
        path
    }
}

impl Default for TempFiles {
    fn default() -> TempFiles {
        TempFiles::new()
    }
}

/// A `unix:` address for a socket named `file` in `dir`, a temporary directory of the test's.
pub fn socket_in(dir: &tempfile::TempDir, file: &str) -> String {
    format!("unix:{}", dir.path().join(file).display())
}

pub fn has_ipv6_loopback() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

/// A command running in the background whose stdout the test reads line by line; killed and
/// reaped on drop.
pub struct Background {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Arc<Mutex<String>>,
    /// Ends when the command's stderr does; joined by [`Background::finish_with_stderr`].
    stderr_reader: Option<thread::JoinHandle<()>>,
}

impl Background {
    pub fn spawn(mut command: Command) -> Background {
        command.stdin(Stdio::null());
        Background::start(command)
    }

    /// Like [`Background::spawn`], with a pipe to the command's stdin for the test to write
    /// to (closing it is the command's end of input).
    pub fn spawn_fed(mut command: Command) -> (Background, std::process::ChildStdin) {
        command.stdin(Stdio::piped());
        let mut background = Background::start(command);
        let stdin = background.child.stdin.take().expect("piped stdin");
        (background, stdin)
    }

    fn start(mut command: Command) -> Background {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let (stderr, stderr_reader) = collect(child.stderr.take().expect("piped stderr"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Background {
            child,
            lines,
            stderr,
            stderr_reader: Some(stderr_reader),
        }
    }

    /// Sends `signal` (e.g. `libc::SIGINT`, as Ctrl-C does) to the command.
    pub fn signal(&self, signal: i32) {
        let pid = i32::try_from(self.child.id()).expect("a pid fits in pid_t");
        // SAFETY: kill(2) on the pid of a child we have not reaped yet.
        let sent = unsafe { libc::kill(pid, signal) };
        assert_eq!(sent, 0, "kill({pid}, {signal})");
    }

    /// The next line of stdout, waiting at most [`BOUND`]; `None` once stdout is closed.
    pub fn next_line(&self) -> Option<String> {
        match self.lines.recv_timeout(BOUND) {
            Ok(line) => Some(line),
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!(
                    "no line within {BOUND:?}; stderr: {}",
                    self.stderr.lock().unwrap()
                )
            }
        }
    }

    /// Waits, at most [`BOUND`], for the exit; returns the exit code and the rest of stdout.
    pub fn finish(mut self) -> (Option<i32>, Vec<String>) {
        self.finish_mut()
    }

    /// Like [`Background::finish`], and all of stderr too, read to its end.
    pub fn finish_with_stderr(mut self) -> (Option<i32>, Vec<String>, String) {
        let (code, rest) = self.finish_mut();
        // The command has exited, and starts no process that could keep its stderr open.
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
        (code, rest, self.stderr())
    }

    fn finish_mut(&mut self) -> (Option<i32>, Vec<String>) {
        let mut rest = Vec::new();
        while let Some(line) = self.next_line() {
            rest.push(line);
        }
        let status = self
            .child
            .wait_timeout(BOUND)
            .expect("wait")
            .unwrap_or_else(|| panic!("still running after {BOUND:?}"));
        (status.code(), rest)
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The command's stderr once `settled` holds for it, waiting at most [`BOUND`].
    pub fn stderr_when(&self, settled: impl Fn(&str) -> bool) -> String {
        settle(BOUND, || self.stderr(), |stderr| settled(stderr))
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
