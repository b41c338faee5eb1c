//! What `serve` needs, made once from its flags: addresses parsed, the token read, the log
//! filter installed. A bad value comes back as a `UsageError` (exit 2).

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use color_eyre::eyre::Result;
use http::HeaderValue;

use super::auth::BearerAuth;
use super::connection::Lifecycle;
use super::echo::Echo;
use super::faults::{Faults, spec};
use super::services::MessageLimits;
use super::tls::TlsFiles;
use crate::address::ListenAddr;
use crate::cli::ServeArgs;
use crate::usage::UsageError;

/// `--replica`, or the host name: a header value either way.
fn replica(given: Option<&str>) -> Result<HeaderValue> {
    let name = match given {
        Some(name) => name.to_owned(),
        None => host_name(),
    };
    HeaderValue::from_str(&name).map_err(|_| {
        UsageError::bad_value(
            "serve",
            "--replica <NAME>",
            &name,
            "a replica name is printable ASCII, as an HTTP header value must be",
        )
        .into()
    })
}

/// This host's name (a pod's name on Kubernetes), or `unknown` if it has none to give.
fn host_name() -> String {
    let mut buffer = [0u8; 256];
    // SAFETY: gethostname writes at most `len` bytes into the buffer it is given.
    let written = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    let end = buffer
        .iter()
        .position(|&byte| byte == 0)
        .unwrap_or(buffer.len());
    match std::str::from_utf8(&buffer[..end]) {
        Ok(name) if written == 0 && !name.is_empty() => name.to_owned(),
        _ => "unknown".to_owned(),
    }
}

pub struct Config {
    pub addr: ListenAddr,
    pub workers: Option<NonZeroUsize>,
    pub grace_period: Duration,
    pub reflection: bool,
    pub stream_count: u32,
    pub stream_interval: Duration,
    /// Where to serve Prometheus metrics; none, no metrics are kept.
    pub metrics_addr: Option<ListenAddr>,
    /// Permissions of a Unix socket file, only ever set with a Unix socket.
    pub unix_mode: Option<u32>,
    pub tls: Option<TlsFiles>,
    pub auth: BearerAuth,
    pub limits: MessageLimits,
    pub lifecycle: Lifecycle,
    /// --max-connections (0: no limit).
    pub max_connections: usize,
    /// The `greeter-replica` header of every response, made once for the process's life, so
    /// each call refers to it rather than carrying a copy.
    pub replica: &'static HeaderValue,
    /// --fault-*, --allow-request-faults: none by default.
    pub faults: &'static Faults,
    /// --echo-metadata and --redact.
    pub echo: Option<&'static Echo>,
}

/// The most workers `serve` starts. One per CPU is the most that helps; a number beyond any
/// machine's (a typo) allocated per-worker metrics and channels until it panicked.
const MAX_WORKERS: usize = 1024;

impl Config {
    pub fn from_args(args: ServeArgs) -> Result<Config> {
        // Values clap keeps as text are checked first, as clap checks the others before this.
        let faults = faults(&args)?;
        let addr = parse_addr("--addr <ADDR>", &args.addr)?;
        if let Some(workers) = args.workers.filter(|workers| workers.get() > MAX_WORKERS) {
            return Err(UsageError::bad_value(
                "serve",
                "--workers <N>",
                &workers.to_string(),
                format!("at most {MAX_WORKERS}: one worker per CPU is the most that helps"),
            )
            .into());
        }
        let metrics_addr = args
            .metrics_addr
            .as_deref()
            .map(|text| parse_addr("--metrics-addr <ADDR>", text))
            .transpose()?;
        crate::logging::init(args.log_format, args.log_level.as_deref(), args.access_log).map_err(
            |err| UsageError::invalid("serve", format!("{err:#}: see --log-level in --help")),
        )?;
        let token = crate::secret::Sources {
            subcommand: "serve",
            file: args
                .auth_token_file
                .as_deref()
                .map(|path| ("--auth-token-file", path)),
            env: (
                "GREETER_AUTH_TOKEN",
                std::env::var("GREETER_AUTH_TOKEN").ok(),
            ),
        }
        .read()?;
        if args.unix_mode.is_some() && !matches!(addr, ListenAddr::Unix(_)) {
            return Err(UsageError::conflict(
                "serve",
                "--unix-mode applies to a Unix socket: use it with --addr unix:PATH",
            )
            .into());
        }
        let echo = args
            .echo_metadata
            .then(|| Echo::new(&args.redact))
            .transpose()
            .map_err(|err| {
                UsageError::bad_value("serve", "--redact <NAMES>", &args.redact.join(","), err)
            })?;
        Ok(Config {
            faults: Box::leak(Box::new(faults)),
            echo: echo.map(|echo| &*Box::leak(Box::new(echo))),
            limits: limits(&args),
            lifecycle: lifecycle(&args),
            unix_mode: args.unix_mode,
            tls: tls_files(args.tls_cert, args.tls_key, args.tls_client_ca),
            auth: BearerAuth::new(token.as_deref()),
            max_connections: args.max_connections,
            replica: Box::leak(Box::new(replica(args.replica.as_deref())?)),
            addr,
            workers: args.workers,
            grace_period: args.grace_period,
            reflection: !args.no_reflection,
            stream_count: args.stream_count,
            stream_interval: args.stream_interval,
            metrics_addr,
        })
    }
}

/// The faults the flags ask for: none unless one is given.
fn faults(args: &ServeArgs) -> Result<Faults, UsageError> {
    let delays = parsed("--fault-delay <DELAYS>", &args.fault_delay, spec::delays)?;
    let statuses = parsed(
        "--fault-status <STATUSES>",
        &args.fault_status,
        spec::statuses,
    )?;
    Ok(Faults::new(
        delays.unwrap_or_default(),
        statuses.unwrap_or_default(),
        args.allow_request_faults,
        args.fault_seed,
    ))
}

/// A flag's value parsed by `parse`, if it was given.
fn parsed<T>(
    flag: &str,
    text: &Option<String>,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Option<T>, UsageError> {
    text.as_deref()
        .map(|text| parse(text).map_err(|err| UsageError::bad_value("serve", flag, text, err)))
        .transpose()
}

/// Also what `in_process` serves with.
pub(super) fn limits(args: &ServeArgs) -> MessageLimits {
    MessageLimits {
        max_recv: args.max_recv_msg_size,
        max_send: args.max_send_msg_size,
    }
}

/// Also what `in_process` serves with.
pub(super) fn lifecycle(args: &ServeArgs) -> Lifecycle {
    Lifecycle {
        keepalive_interval: Some(args.keepalive_interval).filter(|interval| !interval.is_zero()),
        keepalive_timeout: args.keepalive_timeout,
        max_concurrent_streams: args.max_concurrent_streams,
        max_idle: args.max_connection_idle,
        max_age: args.max_connection_age,
        age_grace: args.max_connection_age_grace,
        request_timeout: Some(args.request_timeout).filter(|timeout| !timeout.is_zero()),
    }
}

/// clap requires --tls-cert and --tls-key together.
fn tls_files(
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    client_ca: Option<PathBuf>,
) -> Option<TlsFiles> {
    cert.zip(key).map(|(cert, key)| TlsFiles {
        cert,
        key,
        client_ca,
    })
}

fn parse_addr(flag: &str, text: &str) -> Result<ListenAddr, UsageError> {
    text.parse()
        .map_err(|err| UsageError::bad_value("serve", flag, text, err))
}
