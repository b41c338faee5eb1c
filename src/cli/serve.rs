//! Every flag of `greeter serve`, its environment variable and its help.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::{parse_duration, parse_duration_or_zero, parse_size};

pub(super) const SERVE_EXAMPLES: &str = "\
Examples:
  Every interface, IPv6 and IPv4 (dual-stack), port 50051:
    greeter serve --addr :50051

  Loopback only, on a port the kernel picks (the first line names it):
    greeter serve --addr 127.0.0.1:0

  A Unix socket:
    greeter serve --addr unix:/run/greeter.sock";

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
        value_parser = parse_duration_or_zero
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
        value_parser = parse_duration_or_zero
    )]
    pub stream_interval: Duration,

    /// The name this server answers as, sent in a `greeter-replica` response header on every
    /// response, successful or not [default: the host name].
    ///
    /// The replies themselves never change, so every official client still reads exactly
    /// `Hello NAME`; `greeter hello -v`, its JSON output and its --count summary show which
    /// replica answered. On Kubernetes, set it from the pod's name (the manifests in deploy/
    /// do). Printable ASCII.
    #[arg(long, env = "GREETER_REPLICA", value_name = "NAME")]
    pub replica: Option<String>,

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

    /// Hold at most N client connections at once; 0 for no limit.
    ///
    /// One more is accepted, told why with an HTTP/2 GOAWAY that lets no call in
    /// (ENHANCE_YOUR_CALM, the reason as its debug data; over TLS it is closed without a
    /// word), and closed: its client reports UNAVAILABLE. Refusals are counted in
    /// greeter_connections_refused_total and logged at most every 10 s; the open connections
    /// are served as before. The server also raises its soft open-files limit to the hard one
    /// at start; past that, a failing accept is logged at most every 10 s and retried after a
    /// pause, never spun on.
    #[arg(
        help_heading = "Limits and connections",
        long,
        env = "GREETER_MAX_CONNECTIONS",
        value_name = "N",
        default_value_t = 10_000
    )]
    pub max_connections: usize,

    /// How long a client may take to send what it started; 0 for as long as it likes.
    ///
    /// A header block left unfinished that long closes the connection; a call whose request
    /// is one message (every method but bidi streaming and reflection) whose message has not
    /// all arrived ends DEADLINE_EXCEEDED; a new connection that has not sent the HTTP/2
    /// preface is closed. Slow clients (slowloris) hold a connection or a call for this long
    /// at most; real clients send each of these at once.
    #[arg(help_heading = "Limits and connections",
        long,
        env = "GREETER_REQUEST_TIMEOUT",
        value_name = "DURATION",
        default_value = "20s",
        value_parser = parse_duration
    )]
    pub request_timeout: Duration,

    /// Send an HTTP/2 PING on each connection this often, to find dead clients.
    ///
    /// `0s` turns the pings off. A client that does not answer within --keepalive-timeout is
    /// disconnected.
    #[arg(help_heading = "Limits and connections", 
        long,
        env = "GREETER_KEEPALIVE_INTERVAL",
        value_name = "DURATION",
        default_value = "2h",
        value_parser = parse_duration_or_zero
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
        value_parser = parse_duration_or_zero
    )]
    pub max_connection_age_grace: Option<Duration>,

    /// Serve Prometheus metrics over HTTP at ADDR, path /metrics, and the health at /healthz.
    ///
    /// `HOST:PORT`, `:PORT` or `[IPV6]:PORT`, as for --addr (not a Unix socket). Calls by
    /// method and status code, latency histograms, calls in flight and open connections, each
    /// per worker. `GET /healthz` answers 200 SERVING or 503 NOT_SERVING, for load balancers
    /// that check over HTTP only. Off by default.
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

    /// Delay Greeter calls, for testing timeouts: one delay, or a distribution such as
    /// `10ms:5%,200ms:1%` (test only).
    ///
    /// Each call draws once: 5 % of calls wait 10 ms before the handler runs, 1 % wait 200 ms,
    /// the rest none. A delay never outlasts the call's deadline: the call then ends
    /// DEADLINE_EXCEEDED, as a slow server's would. Health and reflection are never delayed by
    /// this flag. Delayed calls carry `greeter-fault: delay=…`, are counted in
    /// greeter_injected_delays_total and marked `fault=` in the access log.
    #[arg(
        help_heading = "Faults and echo (test only)",
        long,
        env = "GREETER_FAULT_DELAY",
        value_name = "DELAYS"
    )]
    pub fault_delay: Option<String>,

    /// Fail Greeter calls, for testing retries and outlier detection: a status and the share
    /// of calls it fails, e.g. `UNAVAILABLE:2%` or `UNAVAILABLE:5%,INTERNAL:1%` (test only).
    ///
    /// Names or numbers (14); without a percentage, every call. Such a call is answered at
    /// once, without the handler, with grpc-message "injected by greeter serve (a test
    /// fault)" and `greeter-fault: status=…`; it is counted in greeter_calls_total and in
    /// greeter_injected_statuses_total (as is the DEADLINE_EXCEEDED of a delay that met the
    /// call's deadline), so real errors are the difference. Health and reflection stay honest.
    #[arg(
        help_heading = "Faults and echo (test only)",
        long,
        env = "GREETER_FAULT_STATUS",
        value_name = "STATUSES"
    )]
    pub fault_status: Option<String>,

    /// Seed the draws of --fault-delay and --fault-status, so a run repeats the same faults
    /// [default: random].
    ///
    /// One sequence serves every worker, drawn in the order calls arrive: with one worker and
    /// calls made one at a time, the n-th call gets the same faults on every run.
    #[arg(
        help_heading = "Faults and echo (test only)",
        long,
        env = "GREETER_FAULT_SEED",
        value_name = "N"
    )]
    pub fault_seed: Option<u64>,

    /// Let a call ask for its own fault in its metadata: `greeter-fault-delay: 200ms`
    /// (at most 60s) and `greeter-fault-status: UNAVAILABLE` (test only).
    ///
    /// Any method may ask, health included (a call that asks is the test), and what it asks
    /// wins over --fault-delay and --fault-status. A malformed value fails the call with
    /// INVALID_ARGUMENT. Without this flag such metadata is ignored (logged once if another
    /// fault flag is on; a single `greeter hello` call warns of it). Also lets
    /// POST /healthz/not-serving and /healthz/serving on --metrics-addr turn health.
    #[arg(
        help_heading = "Faults and echo (test only)",
        long,
        env = "GREETER_ALLOW_REQUEST_FAULTS"
    )]
    pub allow_request_faults: bool,

    /// Send back the metadata each call arrived with, as `greeter-echo-NAME` response headers,
    /// with `greeter-authority` (the :authority it was sent to) and `greeter-peer` (the address
    /// it came from).
    ///
    /// Shows what a proxy added (x-forwarded-for, traceparent, x-envoy-*) or stripped, on
    /// every response, failed ones included. `authorization`, `proxy-authorization`, `cookie`
    /// and the names of --redact come back as `(redacted)`: present, never in clear. At most
    /// 4 KiB is echoed (counted as clients count their header limits, 32 bytes a header
    /// besides its name and value); past that, `greeter-omitted` counts what was left out.
    #[arg(
        help_heading = "Faults and echo (test only)",
        long,
        env = "GREETER_ECHO_METADATA"
    )]
    pub echo_metadata: bool,

    /// More metadata names --echo-metadata must never send back in clear, comma-separated
    /// (e.g. `x-api-key,x-csrf-token`).
    #[arg(
        help_heading = "Faults and echo (test only)",
        long,
        env = "GREETER_REDACT",
        value_name = "NAMES",
        value_delimiter = ','
    )]
    pub redact: Vec<String>,
}

/// How `greeter serve` writes its logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, fields at the top level.
    Json,
}

/// File permissions in octal, as chmod takes them (`660`, `0660`).
pub(crate) fn parse_mode(text: &str) -> Result<u32, String> {
    match u32::from_str_radix(text, 8) {
        Ok(mode) if mode <= 0o777 => Ok(mode),
        _ => Err("expected octal permissions from 0 to 0777, e.g. 0660".into()),
    }
}
