//! The command line: every flag, its environment variable and its help, in one place.
//!
//! This file is the single source of truth for parsing, `--help`, the man pages and the shell
//! completions: `build.rs` compiles it too (`#[path = "src/cli.rs"]`), so it may use only clap,
//! std and humantime, never `crate::` items. Values that need the crate to check them (addresses)
//! are kept as strings here and validated in `main.rs`, which reports them as usage errors.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes (grpcurl's scheme):
  0     success (serve: clean shutdown after SIGINT or SIGTERM)
  1     a failure that is not a gRPC status (unreadable TLS or token file,
        address in use, I/O)
  2     usage error (bad flag, bad address, bad duration)
  64+N  the call ended with gRPC status N, for example:
          68  DEADLINE_EXCEEDED  no reply within --timeout
          76  UNIMPLEMENTED      the server lacks the method
          72  RESOURCE_EXHAUSTED a message over a size limit
          78  UNAVAILABLE        could not connect
          80  UNAUTHENTICATED    missing or wrong credentials
  130, 143  serve: a second SIGINT or SIGTERM ended the drain";

const TOP_EXAMPLES: &str = "\
Examples:
  Serve on port 50051 on every interface, IPv6 and IPv4:
    greeter serve --addr :50051

  Greet through it, waiting at most one second:
    greeter hello your_name --timeout 1s

  Script it: the reply as JSON, the failure as JSON on stderr and an exit code:
    greeter hello --addr localhost:50051 --output json your_name";

/// The gRPC helloworld Greeter: a server and a client, wire-compatible with the official
/// examples of every gRPC implementation.
#[derive(Debug, Parser)]
#[command(
    name = "greeter",
    version,
    about,
    long_about = "The gRPC helloworld Greeter: a server and a client, wire-compatible with the \
official examples of every gRPC implementation.\n\n\
`greeter serve` answers helloworld.Greeter/SayHello with \"Hello \" + name; `greeter hello` \
calls it, or any other implementation's greeter_server, prints the greeting and says in one \
line why it failed if it did. Every flag can also be set through a GREETER_* environment \
variable; a flag on the command line wins.",
    after_long_help = format!("{TOP_EXAMPLES}\n\n{EXIT_CODES}"),
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
// Each subcommand's flags are built only when it runs: `greeter hello` starts without building
// the flags of `serve` (a one-shot call pays for every microsecond of start-up).
#[command(defer = true)]
pub enum Command {
    /// Serve helloworld.Greeter until SIGINT or SIGTERM.
    #[command(
        long_about = "Serve helloworld.Greeter until SIGINT or SIGTERM.\n\n\
As soon as the server accepts connections it prints exactly one line to stdout, \
`listening on ADDR`, with the real bound address (useful with port 0), and flushes it. \
Everything else goes to stderr.\n\n\
The server runs one single-threaded runtime per worker (thread per core): one acceptor hands \
new connections to the workers in turn, and each connection stays on its worker. This avoids \
the cross-thread wake-ups that give a work-stealing runtime its long tail latency under many \
connections.",
        after_long_help = format!("{SERVE_EXAMPLES}\n\n{EXIT_CODES}")
    )]
    Serve(ServeArgs),

    /// Call SayHello once and print the greeting.
    #[command(
        long_about = "Call helloworld.Greeter/SayHello once and print the greeting.\n\n\
Stdout carries the greeting alone (`Hello NAME`), or with --output json one JSON object per \
reply; nothing else. On failure one line on stderr names the target and the cause (a JSON \
object with --output json), and the exit code tells the gRPC status.",
        after_long_help = format!("{HELLO_EXAMPLES}\n\n{EXIT_CODES}")
    )]
    Hello(HelloArgs),
}

const SERVE_EXAMPLES: &str = "\
Examples:
  Every interface, IPv6 and IPv4 (dual-stack), port 50051:
    greeter serve --addr :50051

  Loopback only, on a port the kernel picks (the first line names it):
    greeter serve --addr 127.0.0.1:0

  A Unix socket:
    greeter serve --addr unix:/run/greeter.sock";

const HELLO_EXAMPLES: &str = "\
Examples:
  greeter hello your_name --timeout 1s
  greeter hello --addr [::1]:50051 --name your_name
  GREETER_ADDR=greeter.example:50051 greeter hello --output json
  greeter hello --addr unix:/run/greeter.sock";

// Options of `greeter serve`. (A doc comment here would replace the subcommand's description:
// with deferred subcommands the struct's metadata is applied last.)
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where to listen.
    ///
    /// `:PORT` (every interface, IPv6 and IPv4), `HOST:PORT`, `IPV4:PORT`, `[IPV6]:PORT`,
    /// `unix:PATH` or `unix:///ABS/PATH`. Port 0 picks a free port.
    #[arg(
        short,
        long,
        env = "GREETER_ADDR",
        value_name = "ADDR",
        default_value = ":50051"
    )]
    pub addr: String,

    /// Worker threads [default: the CPUs this process may use].
    ///
    /// Each worker is a single-threaded runtime serving its share of connections. The default
    /// respects taskset and cgroup CPU quotas: in a container limited to one CPU, one worker
    /// and no idle threads.
    #[arg(long, env = "GREETER_WORKERS", value_name = "N")]
    pub workers: Option<NonZeroUsize>,

    /// How long calls in flight may take to finish after SIGINT or SIGTERM.
    ///
    /// New connections are refused and health turns NOT_SERVING as soon as the signal
    /// arrives; when the calls are done, or the grace period is over, the server exits 0. A
    /// second signal exits at once.
    #[arg(
        long,
        env = "GREETER_GRACE_PERIOD",
        value_name = "DURATION",
        default_value = "10s",
        value_parser = humantime::parse_duration
    )]
    pub grace_period: Duration,

    /// Do not serve server reflection.
    ///
    /// Reflection (grpc.reflection.v1 and v1alpha) lets grpcurl, evans and Postman list and
    /// call the services without the proto files.
    #[arg(long, env = "GREETER_NO_REFLECTION")]
    pub no_reflection: bool,

    /// How many replies SayHelloStreamReply sends, each "Hello " + name.
    #[arg(
        long,
        env = "GREETER_STREAM_COUNT",
        value_name = "N",
        default_value_t = 5
    )]
    pub stream_count: u32,

    /// The pause between two replies of SayHelloStreamReply (the first is sent at once).
    #[arg(
        long,
        env = "GREETER_STREAM_INTERVAL",
        value_name = "DURATION",
        default_value = "100ms",
        value_parser = humantime::parse_duration
    )]
    pub stream_interval: Duration,

    /// Permissions of the Unix socket file, in octal (e.g. 0660) [default: from the umask].
    ///
    /// Connecting needs write permission on the socket file: 0600 admits only this user, 0660
    /// also the file's group. Only with a `unix:` --addr.
    #[arg(help_heading = "Security", 
        long,
        env = "GREETER_UNIX_MODE",
        value_name = "MODE",
        value_parser = parse_mode
    )]
    pub unix_mode: Option<u32>,

    /// Serve TLS with this certificate chain (PEM); needs --tls-key.
    ///
    /// The server then speaks only TLS (HTTP/2 negotiated by ALPN, TLS 1.2 and 1.3); a
    /// plaintext client fails at once. The files are read once, at start.
    #[arg(
        help_heading = "Security",
        long,
        env = "GREETER_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(
        help_heading = "Security",
        long,
        env = "GREETER_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,

    /// Require client certificates signed by these CAs (PEM): mutual TLS.
    ///
    /// A client without a certificate, or with one these CAs did not sign, is refused during
    /// the handshake. A self-signed client certificate is let in when it is itself in this file
    /// (after its dates and signature are checked). Needs --tls-cert and --tls-key.
    #[arg(
        help_heading = "Security",
        long,
        env = "GREETER_TLS_CLIENT_CA",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_client_ca: Option<PathBuf>,

    /// Require `authorization: Bearer <token>` on Greeter calls, the token read from FILE.
    ///
    /// Without it, or with another token, a call fails with UNAUTHENTICATED. The token may
    /// also come from GREETER_AUTH_TOKEN (the token itself; this flag wins). Health and
    /// reflection stay open, so probes and tools work without it. The file's surrounding
    /// whitespace is ignored; the token is compared in constant time and never logged.
    #[arg(
        help_heading = "Security",
        long,
        env = "GREETER_AUTH_TOKEN_FILE",
        value_name = "FILE"
    )]
    pub auth_token_file: Option<PathBuf>,

    /// The largest request message accepted, e.g. `4MiB`, `512KiB` or bytes.
    ///
    /// A larger one fails with RESOURCE_EXHAUSTED as soon as its length prefix arrives,
    /// without being read.
    #[arg(help_heading = "Limits and connections", 
        long,
        env = "GREETER_MAX_RECV_MSG_SIZE",
        value_name = "SIZE",
        default_value = "4MiB",
        value_parser = parse_size
    )]
    pub max_recv_msg_size: usize,

    /// The largest response message sent; a larger one fails the call with RESOURCE_EXHAUSTED.
    #[arg(help_heading = "Limits and connections", 
        long,
        env = "GREETER_MAX_SEND_MSG_SIZE",
        value_name = "SIZE",
        default_value = "4MiB",
        value_parser = parse_size
    )]
    pub max_send_msg_size: usize,

    /// How many calls one connection may have in flight at once (HTTP/2
    /// SETTINGS_MAX_CONCURRENT_STREAMS).
    ///
    /// Clients queue calls beyond it; a client that ignores the setting gets the extra
    /// streams refused (REFUSED_STREAM, which gRPC clients report as UNAVAILABLE).
    #[arg(help_heading = "Limits and connections", 
        long,
        env = "GREETER_MAX_CONCURRENT_STREAMS",
        value_name = "N",
        default_value_t = 256,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub max_concurrent_streams: u32,

    /// Send an HTTP/2 PING on each connection this often, to find dead clients.
    ///
    /// `0s` turns the pings off. A client that does not answer within --keepalive-timeout is
    /// disconnected.
    #[arg(help_heading = "Limits and connections", 
        long,
        env = "GREETER_KEEPALIVE_INTERVAL",
        value_name = "DURATION",
        default_value = "2h",
        value_parser = humantime::parse_duration
    )]
    pub keepalive_interval: Duration,

    /// How long to wait for the answer to a keepalive PING before closing the connection.
    #[arg(help_heading = "Limits and connections", 
        long,
        env = "GREETER_KEEPALIVE_TIMEOUT",
        value_name = "DURATION",
        default_value = "20s",
        value_parser = parse_duration
    )]
    pub keepalive_timeout: Duration,

    /// Close a connection that has had no call in flight for this long [default: never].
    ///
    /// The client is told with an HTTP/2 GOAWAY and reconnects when it next calls.
    #[arg(help_heading = "Limits and connections", 
        long,
        env = "GREETER_MAX_CONNECTION_IDLE",
        value_name = "DURATION",
        value_parser = parse_duration
    )]
    pub max_connection_idle: Option<Duration>,

    /// Ask a client to reconnect once its connection is this old [default: never].
    ///
    /// After an HTTP/2 GOAWAY the client opens a new connection for new calls, which a load
    /// balancer may send to another replica: long-lived clients rebalance as replicas come
    /// and go. Calls in flight may finish within --max-connection-age-grace.
    #[arg(help_heading = "Limits and connections", 
        long,
        env = "GREETER_MAX_CONNECTION_AGE",
        value_name = "DURATION",
        value_parser = parse_duration
    )]
    pub max_connection_age: Option<Duration>,

    /// How long calls in flight may go on after --max-connection-age before the connection
    /// is closed [default: until they finish].
    #[arg(help_heading = "Limits and connections", 
        long,
        env = "GREETER_MAX_CONNECTION_AGE_GRACE",
        value_name = "DURATION",
        requires = "max_connection_age",
        value_parser = humantime::parse_duration
    )]
    pub max_connection_age_grace: Option<Duration>,

    /// Serve Prometheus metrics over HTTP at ADDR, path /metrics.
    ///
    /// `HOST:PORT`, `:PORT` or `[IPV6]:PORT`, as for --addr (not a Unix socket). Calls by
    /// method and status code, latency histograms, calls in flight and open connections, each
    /// per worker. Off by default.
    #[arg(
        help_heading = "Logs and metrics",
        long,
        env = "GREETER_METRICS_ADDR",
        value_name = "ADDR"
    )]
    pub metrics_addr: Option<String>,

    /// Log one line per call: method, peer, status, latency.
    ///
    /// Off by default: at 100k calls a second a line per call costs more than the call.
    #[arg(help_heading = "Logs and metrics", long, env = "GREETER_ACCESS_LOG")]
    pub access_log: bool,

    /// Log format on stderr.
    #[arg(help_heading = "Logs and metrics", 
        long,
        env = "GREETER_LOG_FORMAT",
        value_name = "FORMAT",
        value_enum,
        default_value_t = LogFormat::Text
    )]
    pub log_format: LogFormat,

    /// Which logs to write [default: RUST_LOG, else info].
    ///
    /// `error`, `warn`, `info`, `debug`, `trace`, or per module (`info,h2=debug`).
    #[arg(
        help_heading = "Logs and metrics",
        long,
        env = "GREETER_LOG_LEVEL",
        value_name = "LEVEL"
    )]
    pub log_level: Option<String>,
}

/// How `greeter serve` writes its logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, fields at the top level.
    Json,
}

// Options of `greeter hello`; no doc comment, as for `ServeArgs`.
#[derive(Debug, Args)]
pub struct HelloArgs {
    /// Who to greet [default: world].
    #[arg(value_name = "NAME")]
    pub name: Option<String>,

    /// Who to greet, as a flag (the same as NAME: give one of the two).
    #[arg(long = "name", env = "GREETER_NAME", value_name = "NAME")]
    pub name_flag: Option<String>,

    /// The server to call; several (repeated, or comma-separated) spread the calls.
    ///
    /// `HOST:PORT` (every address HOST resolves to is tried), `:PORT` (localhost),
    /// `[IPV6]:PORT`, `http://HOST:PORT`, `https://HOST:PORT` (TLS), `dns:///HOST:PORT`,
    /// `unix:PATH` or `unix:///ABS/PATH`. With several addresses, or a host name that resolves to several
    /// (a Kubernetes headless Service), --count and --duration spread their calls over every
    /// address that is up, and resolve names again every 5 s.
    #[arg(
        short,
        long,
        env = "GREETER_ADDR",
        value_name = "ADDR",
        default_value = "localhost:50051",
        value_delimiter = ','
    )]
    pub addr: Vec<String>,

    /// Deadline of the whole call, connecting included.
    ///
    /// A duration such as `500ms`, `1s` or `2m`. It is sent to the server as `grpc-timeout`,
    /// so the server stops working on the call when it expires.
    #[arg(
        short,
        long,
        env = "GREETER_TIMEOUT",
        value_name = "DURATION",
        default_value = "1s",
        value_parser = parse_duration
    )]
    pub timeout: Duration,

    /// How to print replies and failures.
    ///
    /// `text`: the greeting alone on stdout, a failure as one line on stderr. `json`: one
    /// object per reply on stdout (`{"message":"Hello NAME"}`) and a failure as one object on
    /// stderr (`{"code":"UNAVAILABLE","code_number":14,"message":"..."}`).
    #[arg(
        short,
        long,
        env = "GREETER_OUTPUT",
        value_name = "FORMAT",
        value_enum,
        default_value_t = OutputFormat::Text
    )]
    pub output: OutputFormat,

    /// Make N SayHello calls over one connection, then print a summary on stderr.
    ///
    /// The summary counts the calls, the successes and the errors by status, and gives req/s
    /// and latency min/p50/p90/p99/max (one JSON object with --output json). The exit code is
    /// 0 if every call succeeded, else 64 + the most frequent failing status. With --count or
    /// --duration, --timeout is each call's deadline.
    #[arg(help_heading = "Repeated calls", 
        short = 'n',
        long,
        env = "GREETER_COUNT",
        value_name = "N",
        conflicts_with_all = ["stream", "bidi", "duration"],
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub count: Option<u64>,

    /// Keep making SayHello calls for this long instead of --count, then print the summary.
    #[arg(help_heading = "Repeated calls", 
        long,
        env = "GREETER_DURATION",
        value_name = "DURATION",
        conflicts_with_all = ["stream", "bidi"],
        value_parser = parse_duration
    )]
    pub duration: Option<Duration>,

    /// How many of the --count or --duration calls are in flight at once.
    #[arg(help_heading = "Repeated calls", 
        short,
        long,
        env = "GREETER_CONCURRENCY",
        value_name = "C",
        default_value_t = NonZeroUsize::MIN
    )]
    pub concurrency: NonZeroUsize,

    /// With --count or --duration, print no replies: only the summary.
    #[arg(help_heading = "Repeated calls", short, long, env = "GREETER_QUIET")]
    pub quiet: bool,

    /// Call SayHelloStreamReply instead: print each reply as it arrives.
    #[arg(long, env = "GREETER_STREAM", conflicts_with = "bidi")]
    pub stream: bool,

    /// Send a request header: `name: value`, or `@FILE` to read one per line.
    ///
    /// Repeatable. `${VAR}` in a value is replaced with the environment variable VAR (unset is
    /// an error), so a secret can stay out of argv: `-H 'authorization: Bearer ${TOKEN}'`. In
    /// a file, blank lines and lines starting with # are skipped. GREETER_HEADER takes one
    /// header per line.
    #[arg(
        short = 'H',
        long = "header",
        env = "GREETER_HEADER",
        value_name = "HEADER",
        value_delimiter = '\n'
    )]
    pub headers: Vec<String>,

    /// Keep trying to connect until the deadline, instead of failing at once.
    ///
    /// For a CI step that starts the server and calls it right away. Attempts are spaced 50 ms
    /// apart at first, growing to 1 s. Without it a refused connection fails at once with 78.
    #[arg(help_heading = "Patience", long, env = "GREETER_WAIT_FOR_READY")]
    pub wait_for_ready: bool,

    /// Bound each attempt to connect (TCP and HTTP/2 handshake) [default: the deadline].
    ///
    /// An attempt that takes longer fails as UNAVAILABLE, and counts as one failed attempt for
    /// --wait-for-ready and --retries.
    #[arg(help_heading = "Patience", 
        long,
        env = "GREETER_CONNECT_TIMEOUT",
        value_name = "DURATION",
        value_parser = parse_duration
    )]
    pub connect_timeout: Option<Duration>,

    /// Retry a call that failed with UNAVAILABLE up to N times.
    ///
    /// Only UNAVAILABLE is retried (the server was unreachable or went away), only while the
    /// --timeout deadline leaves room for the pause, and never once a reply has been printed;
    /// --bidi is never retried, as stdin cannot be read twice. The last error is the one
    /// reported.
    #[arg(
        help_heading = "Patience",
        long,
        env = "GREETER_RETRIES",
        value_name = "N",
        default_value_t = 0
    )]
    pub retries: u32,

    /// The pause before the first retry; each next one doubles, up to 5s, with jitter.
    #[arg(help_heading = "Patience", 
        long,
        env = "GREETER_RETRY_BACKOFF",
        value_name = "DURATION",
        default_value = "100ms",
        value_parser = parse_duration
    )]
    pub retry_backoff: Duration,

    /// Say on stderr what happens: each retry and connection attempt with its reason, and the
    /// response's headers and trailers (`< name: value`).
    #[arg(short, long, env = "GREETER_VERBOSE")]
    pub verbose: bool,

    /// Speak TLS to the server, as an `https://` --addr does.
    ///
    /// The server's certificate is checked against --ca-cert, or the system's CAs, and its
    /// name against the host of --addr (or --server-name).
    #[arg(help_heading = "TLS and auth", long, env = "GREETER_TLS")]
    pub tls: bool,

    /// Trust the server certificates these CAs signed (PEM) [default: the system's CAs].
    ///
    /// A self-signed server certificate works when it is itself in this file, as `openssl req
    /// -x509` makes one (it is then checked for the server's name, its dates and its own
    /// signature). Implies --tls.
    #[arg(
        help_heading = "TLS and auth",
        long,
        env = "GREETER_CA_CERT",
        value_name = "FILE"
    )]
    pub ca_cert: Option<PathBuf>,

    /// Present this client certificate chain (PEM), for a server that requires mutual TLS.
    ///
    /// Needs --key; implies --tls.
    #[arg(
        help_heading = "TLS and auth",
        long,
        env = "GREETER_CERT",
        value_name = "FILE",
        requires = "key"
    )]
    pub cert: Option<PathBuf>,

    /// The private key of --cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(
        help_heading = "TLS and auth",
        long,
        env = "GREETER_KEY",
        value_name = "FILE",
        requires = "cert"
    )]
    pub key: Option<PathBuf>,

    /// The name the server's certificate must carry, and the TLS SNI [default: the host of
    /// --addr].
    ///
    /// For a server reached by IP address or through a tunnel. Implies --tls (over a Unix
    /// socket, give --tls too; the name is then "localhost" unless set here).
    #[arg(
        help_heading = "TLS and auth",
        long,
        env = "GREETER_SERVER_NAME",
        value_name = "NAME"
    )]
    pub server_name: Option<String>,

    /// Do not check the server's certificate at all (a warning says so on stderr).
    ///
    /// The connection is encrypted but anyone in the middle can read it: for a quick test
    /// against a self-signed server only. Implies --tls.
    #[arg(
        help_heading = "TLS and auth",
        long,
        env = "GREETER_INSECURE_SKIP_VERIFY",
        conflicts_with = "ca_cert"
    )]
    pub insecure_skip_verify: bool,

    /// Send `authorization: Bearer <token>`, the token read from FILE.
    ///
    /// The token may also come from GREETER_TOKEN (the token itself; this flag wins), never
    /// from the command line, so it stays out of `ps` and shell history. It is never printed,
    /// not even with -v.
    #[arg(
        help_heading = "TLS and auth",
        long,
        env = "GREETER_TOKEN_FILE",
        value_name = "FILE"
    )]
    pub token_file: Option<PathBuf>,

    /// Compress requests with this encoding (the server must accept it).
    ///
    /// Replies are then accepted compressed with gzip or zstd too.
    #[arg(
        help_heading = "Transport",
        long,
        env = "GREETER_COMPRESS",
        value_name = "ENCODING",
        value_enum
    )]
    pub compress: Option<Compression>,

    /// The largest reply message accepted, e.g. `4MiB`, `512KiB` or bytes; a larger one fails
    /// with RESOURCE_EXHAUSTED.
    #[arg(help_heading = "Transport", 
        long,
        env = "GREETER_MAX_RECV_MSG_SIZE",
        value_name = "SIZE",
        default_value = "4MiB",
        value_parser = parse_size
    )]
    pub max_recv_msg_size: usize,

    /// The largest request message sent; a larger one fails with RESOURCE_EXHAUSTED before it
    /// is sent.
    #[arg(help_heading = "Transport", 
        long,
        env = "GREETER_MAX_SEND_MSG_SIZE",
        value_name = "SIZE",
        default_value = "4MiB",
        value_parser = parse_size
    )]
    pub max_send_msg_size: usize,

    /// Send an HTTP/2 PING this often while calls are in flight [default: never].
    ///
    /// Keeps long streams alive through proxies that drop quiet connections, and finds a dead
    /// server sooner than TCP would. No pings on an idle connection, as in grpc-go: its
    /// servers punish those by default.
    #[arg(help_heading = "Transport", 
        long,
        env = "GREETER_KEEPALIVE_INTERVAL",
        value_name = "DURATION",
        value_parser = parse_duration
    )]
    pub keepalive_interval: Option<Duration>,

    /// How long to wait for the answer to a keepalive PING before the connection counts as
    /// broken (UNAVAILABLE).
    #[arg(help_heading = "Transport", 
        long,
        env = "GREETER_KEEPALIVE_TIMEOUT",
        value_name = "DURATION",
        default_value = "20s",
        value_parser = parse_duration
    )]
    pub keepalive_timeout: Duration,

    /// Call SayHelloBidiStream instead: each line of stdin is a name.
    ///
    /// Each reply is printed as it arrives, until stdin ends. The --timeout deadline covers
    /// the whole stream.
    #[arg(long, env = "GREETER_BIDI", conflicts_with = "name")]
    pub bidi: bool,
}

/// How `greeter hello` prints what it got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// The greeting alone, one line per reply.
    Text,
    /// One JSON object per reply (protobuf JSON mapping).
    Json,
}

/// A humantime duration that is not zero: a zero deadline could never be met.
fn parse_duration(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text) {
        Ok(duration) if duration.is_zero() => Err("the duration must be more than zero".into()),
        Ok(duration) => Ok(duration),
        Err(err) => Err(format!("{err} (examples: 500ms, 1s, 2m)")),
    }
}

/// A request or reply compression that both ends can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Compression {
    Gzip,
    Zstd,
}

/// A size in bytes: a plain number, or with a binary suffix (`512KiB`, `4MiB`, `1GiB`).
fn parse_size(text: &str) -> Result<usize, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(split);
    let shift = match unit.trim() {
        "" | "B" => 0,
        "KiB" => 10,
        "MiB" => 20,
        "GiB" => 30,
        other => {
            return Err(format!(
                "unknown unit '{other}': write bytes, or KiB, MiB or GiB (e.g. 4MiB)"
            ));
        }
    };
    let number: usize = digits
        .parse()
        .map_err(|_| "expected a number of bytes, e.g. 4194304 or 4MiB".to_owned())?;
    let size = number
        .checked_mul(1 << shift)
        .filter(|&size| size <= u32::MAX as usize)
        .ok_or_else(|| "too large: at most 4GiB".to_owned())?;
    if size == 0 {
        return Err("the size must be more than zero".into());
    }
    Ok(size)
}

/// File permissions in octal, as chmod takes them (`660`, `0660`).
fn parse_mode(text: &str) -> Result<u32, String> {
    match u32::from_str_radix(text, 8) {
        Ok(mode) if mode <= 0o777 => Ok(mode),
        _ => Err("expected octal permissions from 0 to 0777, e.g. 0660".into()),
    }
}
