//! One connection served in process, as a worker serves an accepted one: what
//! `crate::fuzzing` drives, over a pipe, with no listener, TLS or metrics.

use std::sync::OnceLock;
use std::time::Duration;

use clap::Parser as _;
use color_eyre::eyre::{Result, bail};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

use super::auth::BearerAuth;
use super::config;
use super::faults::Faults;
use super::greeter::Greeter;
use super::services::Services;
use crate::cli::{Cli, Command, ServeArgs};

/// Serves `io` with `serve`'s default flags (or the `GREETER_*` variables set) but `token`
/// and `stream_interval`, until the client leaves or `shutdown`.
pub(crate) fn serve_one_connection<IO>(
    io: IO,
    token: Option<&str>,
    stream_interval: Duration,
    shutdown: watch::Receiver<bool>,
) -> Result<impl Future<Output = ()> + Send + 'static>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Some(args) = defaults() else {
        bail!("`greeter serve` does not parse with its default flags");
    };
    let services = Services {
        greeter: Greeter {
            stream_count: args.stream_count,
            stream_interval,
        },
        reflection: !args.no_reflection,
        auth: BearerAuth::new(token),
        limits: config::limits(args),
        lifecycle: config::lifecycle(args),
        tls: None,
        replica: &IN_PROCESS,
        faults: no_faults(),
        echo: None,
        // Nobody turns the health of a connection served in process.
        health_turned_off: watch::channel(false).1,
    };
    let worker = services.for_worker(None, &shutdown)?;
    Ok(worker.serve_connection(io, "in-process".to_owned(), shutdown))
}

/// The replica name of a connection served in process.
static IN_PROCESS: http::HeaderValue = http::HeaderValue::from_static("in-process");

/// The faults of `serve`'s defaults: none, made once.
fn no_faults() -> &'static Faults {
    static NONE: OnceLock<Faults> = OnceLock::new();
    NONE.get_or_init(|| Faults::new(Vec::new(), Vec::new(), false, None))
}

/// `greeter serve` as clap parses it with no flags, parsed once: clap's string comparisons on
/// every input would only mislead the fuzzer.
fn defaults() -> Option<&'static ServeArgs> {
    static DEFAULTS: OnceLock<Option<ServeArgs>> = OnceLock::new();
    let parsed = DEFAULTS.get_or_init(|| match Cli::try_parse_from(["greeter", "serve"]) {
        Ok(Cli {
            command: Command::Serve(args),
        }) => Some(args),
        _ => None,
    });
    parsed.as_ref()
}
