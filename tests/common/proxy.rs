//! The real infrastructure greeter runs behind: Debian's nginx and HAProxy in front of it,
//! Prometheus scraping it (`tests/infra/setup.sh` installs all three). Each runs in the
//! foreground as one process, on a configuration the test writes, in a temporary directory of
//! its own that holds every file it makes: the proxies listen on a Unix socket there,
//! Prometheus on a loopback port it picks and reports. Each is killed, reaped and its directory
//! removed on drop, also when the test fails; `start` returns `None`, after [`skip`], where the
//! binary is not installed.

use std::fs::File;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use super::scrape::get;
use super::{BOUND, settle, skip};

/// A process of the kit's and the directory of its files: killed and reaped on drop, and only
/// then the directory removed (fields drop after `drop` has run).
struct Daemon {
    child: Child,
    dir: tempfile::TempDir,
    /// Where its stdout and stderr go.
    output: PathBuf,
}

impl Daemon {
    /// Runs `command` with stdout and stderr into `output.log` in `dir`.
    fn spawn(mut command: Command, dir: tempfile::TempDir) -> Daemon {
        let output = dir.path().join("output.log");
        let file = File::create(&output).expect("create the output log");
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("clone the output log"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {command:?}: {e}"));
        Daemon { child, dir, output }
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// What it wrote on stdout and stderr so far.
    fn output(&self) -> String {
        read(&self.output)
    }

    /// Calls `ready` every 10 ms until it gives a value, at most for [`BOUND`]; fails with
    /// `logs` if the process exits first or the bound passes.
    fn wait_for<T>(
        &mut self,
        what: &str,
        mut ready: impl FnMut(&Daemon) -> Option<T>,
        logs: impl Fn(&Daemon) -> String,
    ) -> T {
        let deadline = Instant::now() + BOUND;
        loop {
            if let Some(value) = ready(self) {
                return value;
            }
            if let Some(status) = self.child.try_wait().expect("poll the process") {
                panic!("{what}: it exited ({status}) first:\n{}", logs(self));
            }
            if Instant::now() >= deadline {
                panic!("{what}: not within {BOUND:?}:\n{}", logs(self));
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A file's text, or nothing if it is not there (yet).
fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Where `binary` (nginx, haproxy, prometheus, promtool) is installed: on PATH, or in
/// /usr/sbin and /sbin, which a user's PATH may lack (nginx and haproxy are there). `None`
/// after a skip saying so.
pub fn installed(binary: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(binary))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        skip(&format!(
            "{binary} is not installed (tests/infra/setup.sh installs it, as root)"
        ));
    }
    found
}

/// Whether `socket` accepts a connection now: what readiness is for a proxy.
fn accepting(socket: &Path) -> Option<()> {
    UnixStream::connect(socket).ok().map(drop)
}

/// nginx 1.22, as one process (`master_process off`: a kill stops all of it, no worker is
/// left behind), listening with HTTP/2 on a Unix socket in its directory.
pub struct Nginx {
    daemon: Daemon,
    socket: PathBuf,
}

impl Nginx {
    /// The `listen` directive for a `server` block of the body: the socket `start` makes, with
    /// HTTP/2 (a file `listen.conf` beside nginx.conf, since the path is not known before).
    pub const LISTEN: &str = "include listen.conf;";

    /// nginx with `http_block_body` (upstreams, and a `server` block that says
    /// [`Nginx::LISTEN`]) inside an `http` block that keeps every file nginx makes in its
    /// directory; once its socket accepts connections.
    pub fn start(http_block_body: &str) -> Option<Nginx> {
        let binary = installed("nginx")?;
        let dir = tempfile::tempdir().expect("temporary directory");
        let at = |file: &str| dir.path().join(file).display().to_string();
        let socket = dir.path().join("nginx.sock");
        std::fs::write(
            dir.path().join("listen.conf"),
            format!("listen unix:{} http2;\n", socket.display()),
        )
        .expect("write listen.conf");
        // The compiled-in paths are the system's (/run, /var/lib/nginx, /var/log/nginx): every
        // one is set here instead, so nothing outside the directory is touched.
        let config = format!(
            "# Written by tests/common/proxy.rs.\n\
             daemon off;\n\
             master_process off;\n\
             pid {pid};\n\
             error_log {error_log} info;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n\
             access_log {access_log};\n\
             client_body_temp_path {body};\n\
             proxy_temp_path {proxy};\n\
             fastcgi_temp_path {fastcgi};\n\
             uwsgi_temp_path {uwsgi};\n\
             scgi_temp_path {scgi};\n\
             {http_block_body}\n\
             }}\n",
            pid = at("nginx.pid"),
            error_log = at("error.log"),
            access_log = at("access.log"),
            body = at("client_body"),
            proxy = at("proxy"),
            fastcgi = at("fastcgi"),
            uwsgi = at("uwsgi"),
            scgi = at("scgi"),
        );
        std::fs::write(dir.path().join("nginx.conf"), &config).expect("write nginx.conf");
        let mut command = Command::new(binary);
        // -e: what nginx says before it has read error_log (a configuration error) goes to the
        // directory too, not to the compiled-in log.
        command
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .arg("-e")
            .arg(dir.path().join("error.log"));
        let mut nginx = Nginx {
            daemon: Daemon::spawn(command, dir),
            socket,
        };
        let socket = nginx.socket.clone();
        nginx.daemon.wait_for(
            "nginx accepting on its socket",
            |_| accepting(&socket),
            |daemon| describe(daemon, &config),
        );
        Some(nginx)
    }

    /// The socket as a greeter address: `unix:PATH`.
    pub fn socket(&self) -> String {
        format!("unix:{}", self.socket.display())
    }

    /// nginx's error log so far, for a failure's message.
    pub fn error_log(&self) -> String {
        read(&self.daemon.path("error.log"))
    }

    /// nginx's access log so far.
    pub fn access_log(&self) -> String {
        read(&self.daemon.path("access.log"))
    }

    /// An upstream's `server ADDR;` lines, one for each of `addrs` (`HOST:PORT`).
    pub fn servers(addrs: &[String]) -> String {
        addrs
            .iter()
            .map(|addr| format!("server {addr};\n"))
            .collect()
    }
}

/// HAProxy 2.6, in the foreground as one process (`-db`: neither daemon nor master-worker),
/// on its own global and defaults sections and the test's frontends and backends.
pub struct Haproxy {
    daemon: Daemon,
    socket: PathBuf,
}

impl Haproxy {
    /// The `bind` line for the frontend: the socket `start` makes (relative to the
    /// `unix-bind prefix` of the global section, the directory), with HTTP/2 and no TLS.
    pub const BIND: &str = "bind unix@haproxy.sock proto h2";

    /// The global and defaults sections `start` puts before the test's: HTTP mode, and client
    /// and server timeouts (1 min) well over [`BOUND`], so that only a test that sets its own
    /// sees one fire.
    fn global_and_defaults(dir: &Path) -> String {
        format!(
            "# Written by tests/common/proxy.rs.\n\
             global\n\
             \x20   unix-bind prefix {dir}/\n\
             defaults\n\
             \x20   mode http\n\
             \x20   timeout connect 5s\n\
             \x20   timeout client 1m\n\
             \x20   timeout server 1m\n",
            dir = dir.display()
        )
    }

    /// HAProxy with its global and defaults sections (HTTP mode, timeouts, the socket's
    /// directory) and then `config_after_global_and_defaults`: a frontend that says
    /// [`Haproxy::BIND`], and backends. Once its socket accepts connections.
    pub fn start(config_after_global_and_defaults: &str) -> Option<Haproxy> {
        let binary = installed("haproxy")?;
        let dir = tempfile::tempdir().expect("temporary directory");
        let config = format!(
            "{}{config_after_global_and_defaults}\n",
            Haproxy::global_and_defaults(dir.path())
        );
        std::fs::write(dir.path().join("haproxy.cfg"), &config).expect("write haproxy.cfg");
        let socket = dir.path().join("haproxy.sock");
        let mut command = Command::new(binary);
        command
            .arg("-db")
            .arg("-f")
            .arg(dir.path().join("haproxy.cfg"));
        let mut haproxy = Haproxy {
            daemon: Daemon::spawn(command, dir),
            socket,
        };
        let socket = haproxy.socket.clone();
        haproxy.daemon.wait_for(
            "HAProxy accepting on its socket",
            |_| accepting(&socket),
            |daemon| describe(daemon, &config),
        );
        Some(haproxy)
    }

    /// The socket as a greeter address: `unix:PATH`.
    pub fn socket(&self) -> String {
        format!("unix:{}", self.socket.display())
    }

    /// What HAProxy wrote on stdout and stderr so far (alerts, warnings, servers going down).
    pub fn output(&self) -> String {
        self.daemon.output()
    }

    /// A backend's `server sN ADDR proto h2` lines (plaintext HTTP/2), one for each of `addrs`
    /// (`HOST:PORT`), named s1, s2, ...
    pub fn servers(addrs: &[String]) -> String {
        addrs
            .iter()
            .enumerate()
            .map(|(index, addr)| format!("    server s{} {addr} proto h2\n", index + 1))
            .collect()
    }
}

/// Prometheus 2.42 scraping `/metrics` of each target, as job `greeter`, on a loopback port it
/// picked, with its storage in its directory.
pub struct Prometheus {
    daemon: Daemon,
    /// `127.0.0.1:PORT` of its web UI and HTTP API.
    addr: String,
}

impl Prometheus {
    /// Prometheus scraping each of `scrape_targets` (`HOST:PORT`) every `scrape_interval`; once
    /// its API answers. Its first scrape comes some seconds later: Prometheus hands targets to
    /// the scrapers at most every 5 s.
    pub fn start(scrape_targets: &[&str], scrape_interval: Duration) -> Option<Prometheus> {
        let binary = installed("prometheus")?;
        let interval = format!("{}ms", scrape_interval.as_millis());
        let targets: Vec<String> = scrape_targets.iter().map(|t| format!("{t:?}")).collect();
        // The timeout must not exceed the interval; its default (10 s) would for short ones.
        let config = format!(
            "# Written by tests/common/proxy.rs.\n\
             global:\n\
             \x20 scrape_interval: {interval}\n\
             \x20 scrape_timeout: {interval}\n\
             \x20 evaluation_interval: {interval}\n\
             scrape_configs:\n\
             \x20 - job_name: greeter\n\
             \x20   static_configs:\n\
             \x20     - targets: [{}]\n",
            targets.join(", ")
        );
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::write(dir.path().join("prometheus.yml"), &config).expect("write prometheus.yml");
        let mut command = Command::new(binary);
        command
            .arg(format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg("--web.listen-address=127.0.0.1:0");
        let mut daemon = Daemon::spawn(command, dir);
        // Port 0 is its pick; the log says which: msg="Listening on" address=127.0.0.1:PORT.
        let addr = daemon.wait_for(
            "Prometheus saying where it listens",
            |daemon| {
                let output = daemon.output();
                let rest = output.split("msg=\"Listening on\" address=").nth(1)?;
                Some(rest.split_whitespace().next()?.to_owned())
            },
            |daemon| describe(daemon, &config),
        );
        // It answers queries with 503 until its storage is open.
        daemon.wait_for(
            "Prometheus ready",
            |_| (get(&addr, "/-/ready").0 == "HTTP/1.1 200 OK").then_some(()),
            |daemon| describe(daemon, &config),
        );
        Some(Prometheus { daemon, addr })
    }

    /// `127.0.0.1:PORT` of its HTTP API.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// What Prometheus logged so far.
    pub fn log(&self) -> String {
        self.daemon.output()
    }

    /// The answer to an instant query of `promql` (`GET /api/v1/query`): `{"status":
    /// "success", "data": {"resultType": ..., "result": ...}}`. Fails on any other status.
    pub fn query(&self, promql: &str) -> Value {
        let path = format!(
            "/api/v1/query?query={}",
            utf8_percent_encode(promql, NON_ALPHANUMERIC)
        );
        let (status, body) = get(&self.addr, &path);
        let answer: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("query {promql:?}: {status}, not JSON ({e}): {body}"));
        assert_eq!(
            answer["status"], "success",
            "query {promql:?}: {status}: {answer}"
        );
        answer
    }

    /// Queries `promql` until `settled` holds for the answer, at most for `bound`; returns the
    /// last answer either way (the caller asserts on it). Scrapes and their timing are
    /// Prometheus's: a test waits for what it expects to be scraped.
    pub fn query_until(
        &self,
        promql: &str,
        settled: impl Fn(&Value) -> bool,
        bound: Duration,
    ) -> Value {
        settle(bound, || self.query(promql), |answer| settled(answer))
    }
}

/// The value of an answer holding one number: a scalar, or a vector of exactly one sample.
/// `None` for an empty vector (nothing scraped yet) or several samples.
pub fn value(answer: &Value) -> Option<f64> {
    let result = &answer["data"]["result"];
    let pair = match answer["data"]["resultType"].as_str()? {
        "scalar" => result,
        "vector" => match result.as_array()?.as_slice() {
            [sample] => &sample["value"],
            _ => return None,
        },
        _ => return None,
    };
    // [timestamp, "value"]: Prometheus sends the number as a string.
    pair[1].as_str()?.parse().ok()
}

/// A daemon's configuration and every log in its directory, for a failure's message.
fn describe(daemon: &Daemon, config: &str) -> String {
    let mut text = format!("--- configuration:\n{config}");
    let mut logs: Vec<PathBuf> = std::fs::read_dir(daemon.dir.path())
        .map(|entries| {
            entries
                .filter_map(|entry| Some(entry.ok()?.path()))
                .collect()
        })
        .unwrap_or_default();
    logs.retain(|path| path.extension().is_some_and(|ext| ext == "log"));
    logs.sort();
    for log in logs {
        let name = log.file_name().unwrap_or_default().to_string_lossy();
        text.push_str(&format!("--- {name}:\n{}", read(&log)));
    }
    text
}
