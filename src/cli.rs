//! The command line: every flag, its environment variable and its help, in one place.
//!
//! This file is the single source of truth for parsing, `--help`, the man pages and the shell
//! completions: `build.rs` compiles it too (`#[path = "src/cli.rs"]`), so it may use only clap,
//! std and humantime, never `crate::` items. Values that need the crate to check them (addresses)
//! are kept as strings here and validated in `main.rs`, which reports them as usage errors.

use std::num::NonZeroUsize;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes (grpcurl's scheme):
  0     success (serve: clean shutdown after SIGINT or SIGTERM)
  1     a failure that is not a gRPC status (address in use, I/O)
  2     usage error (bad flag, bad address, bad duration)
  64+N  the call ended with gRPC status N, for example:
          68  DEADLINE_EXCEEDED  no reply within --timeout
          76  UNIMPLEMENTED      the server lacks the method
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

/// Options of `greeter serve`.
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

    /// Serve Prometheus metrics over HTTP at ADDR, path /metrics.
    ///
    /// `HOST:PORT`, `:PORT` or `[IPV6]:PORT`, as for --addr (not a Unix socket). Calls by
    /// method and status code, latency histograms, calls in flight and open connections, each
    /// per worker. Off by default.
    #[arg(long, env = "GREETER_METRICS_ADDR", value_name = "ADDR")]
    pub metrics_addr: Option<String>,

    /// Log one line per call: method, peer, status, latency.
    ///
    /// Off by default: at 100k calls a second a line per call costs more than the call.
    #[arg(long, env = "GREETER_ACCESS_LOG")]
    pub access_log: bool,

    /// Log format on stderr.
    #[arg(
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
    #[arg(long, env = "GREETER_LOG_LEVEL", value_name = "LEVEL")]
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

/// Options of `greeter hello`.
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
    /// `[IPV6]:PORT`, `http://HOST:PORT`, `dns:///HOST:PORT`, `unix:PATH` or
    /// `unix:///ABS/PATH`. With several addresses, or a host name that resolves to several
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
    #[arg(
        short = 'n',
        long,
        env = "GREETER_COUNT",
        value_name = "N",
        conflicts_with_all = ["stream", "bidi", "duration"],
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub count: Option<u64>,

    /// Keep making SayHello calls for this long instead of --count, then print the summary.
    #[arg(
        long,
        env = "GREETER_DURATION",
        value_name = "DURATION",
        conflicts_with_all = ["stream", "bidi"],
        value_parser = parse_duration
    )]
    pub duration: Option<Duration>,

    /// How many of the --count or --duration calls are in flight at once.
    #[arg(
        short,
        long,
        env = "GREETER_CONCURRENCY",
        value_name = "C",
        default_value_t = NonZeroUsize::MIN
    )]
    pub concurrency: NonZeroUsize,

    /// With --count or --duration, print no replies: only the summary.
    #[arg(short, long, env = "GREETER_QUIET")]
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
    #[arg(long, env = "GREETER_WAIT_FOR_READY")]
    pub wait_for_ready: bool,

    /// Bound each attempt to connect (TCP and HTTP/2 handshake) [default: the deadline].
    ///
    /// An attempt that takes longer fails as UNAVAILABLE, and counts as one failed attempt for
    /// --wait-for-ready and --retries.
    #[arg(
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
    #[arg(long, env = "GREETER_RETRIES", value_name = "N", default_value_t = 0)]
    pub retries: u32,

    /// The pause before the first retry; each next one doubles, up to 5s, with jitter.
    #[arg(
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
