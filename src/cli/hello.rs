//! Every flag of `greeter hello`, its environment variable and its help.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::load::{Rate, parse_per_second, parse_percent, parse_percentile, parse_rate};
use super::{parse_duration, parse_size};

pub(super) const HELLO_EXAMPLES: &str = "\
Examples:
  greeter hello your_name --timeout 1s
  greeter hello --addr [::1]:50051 --name your_name
  GREETER_ADDR=greeter.example:50051 greeter hello --output json
  greeter hello --addr unix:/run/greeter.sock";

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

    /// Make N SayHello calls (over one connection: see --connections), then a summary on stderr.
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

    /// Open N connections to each address for the --count or --duration calls, which take
    /// them in turn.
    ///
    /// Each address (each replica) gets N connections of its own; the summary's connection
    /// count then shows N per address. With --concurrency 128, 4 connections carry 32 calls
    /// each, as `h2load -c4 -m32` does; behind a Service that balances connections, N
    /// connections may reach N pods.
    #[arg(help_heading = "Repeated calls",
        long,
        env = "GREETER_CONNECTIONS",
        value_name = "N",
        default_value_t = NonZeroUsize::MIN
    )]
    pub connections: NonZeroUsize,

    /// With --count or --duration, print no replies: only the summary.
    #[arg(help_heading = "Repeated calls", short, long, env = "GREETER_QUIET")]
    pub quiet: bool,

    /// Make the --count or --duration calls at RATE a second, each at its scheduled time (an
    /// open-loop load, as wrk2 and oha --rate), or ramp linearly: `100..2000` over --duration.
    ///
    /// `1000` or `1000/s`. Latency is measured from each call's scheduled time, so a server
    /// that stalls shows in the percentiles instead of slowing the load down (coordinated
    /// omission); --concurrency still caps the calls in flight, and a call that could not
    /// start on time (all in flight) is counted as late in the summary. Without --rate, each
    /// of --concurrency workers makes its next call as soon as the last one ends.
    #[arg(
        help_heading = "Rate and thresholds",
        long,
        env = "GREETER_RATE",
        value_name = "RATE",
        value_parser = parse_rate
    )]
    pub rate: Option<Rate>,

    /// With --rate, measure latency from when each call really started, not from its
    /// scheduled time: the closed-loop view, which hides a stalled server's delay.
    #[arg(
        help_heading = "Rate and thresholds",
        long,
        env = "GREETER_NO_LATENCY_CORRECTION"
    )]
    pub no_latency_correction: bool,

    /// The latency percentiles of the summary, comma-separated [default: 50,90,99,99.9,99.99].
    #[arg(
        help_heading = "Rate and thresholds",
        long,
        env = "GREETER_PERCENTILES",
        value_name = "LIST",
        value_delimiter = ',',
        value_parser = parse_percentile
    )]
    pub percentiles: Vec<f64>,

    /// Fail the run (exit 3) if the p99 latency of the OK calls is over DURATION.
    ///
    /// The thresholds are for CI: the summary names each that failed and by how much, and
    /// the JSON summary lists them all under `thresholds`. Exit 3 never clashes with 1, 2 or
    /// 64 + a status.
    #[arg(
        help_heading = "Rate and thresholds",
        long,
        env = "GREETER_MAX_P99",
        value_name = "DURATION",
        value_parser = parse_duration
    )]
    pub max_p99: Option<Duration>,

    /// Fail the run (exit 3) if more than PERCENT of the calls failed, e.g. `0.1%`; up to
    /// that, failed calls are accepted (exit 0).
    ///
    /// Without it any failed call fails the run with 64 + its status, as always.
    #[arg(
        help_heading = "Rate and thresholds",
        long,
        env = "GREETER_MAX_ERROR_RATE",
        value_name = "PERCENT",
        value_parser = parse_percent
    )]
    pub max_error_rate: Option<f64>,

    /// Fail the run (exit 3) if it made fewer than RATE calls a second, e.g. `1000/s`.
    #[arg(
        help_heading = "Rate and thresholds",
        long,
        env = "GREETER_MIN_RATE",
        value_name = "RATE",
        value_parser = parse_per_second
    )]
    pub min_rate: Option<f64>,
    /// With --count or --duration, write the run's report to FILE: an HTML page or JSON.
    ///
    /// `FILE.html` is one self-contained page (no network: it opens from file:// anywhere)
    /// with the run's numbers and charts: the latency histogram, req/s and p50/p99 per second,
    /// the calls by status and, with several replicas, by replica. `FILE.json` is the same
    /// record as JSON: the --output json summary and the per-second series. Written when the
    /// run ends, also when Ctrl-C ends it; checked writable before the first call, so a path
    /// that cannot be written fails at once (exit 1) naming it.
    #[arg(
        help_heading = "Repeated calls",
        long,
        env = "GREETER_REPORT",
        value_name = "FILE"
    )]
    pub report: Option<PathBuf>,

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

/// A request or reply compression that both ends can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Compression {
    Gzip,
    Zstd,
}
